// Issue 14 item 5: topdown retiring counts retired µops (src/isa/uops.ts), at least one per natively
// retired instruction and never more than TOPDOWN.SLOTS; an instruction KVM emulates advances only the
// counters of instructions (and branches) retired — kvm_pmu_instruction_retired → kvm_pmu_trigger_event
// walks pmc_counting_instructions, which kvm_pmu_recalc_pmc_emulation fills from pmc_is_event_match on
// INSTRUCTIONS_RETIRED; fixed counter 3's eventsel is TOPDOWN_SLOTS (intel_get_fixed_pmc_eventsel), so it
// never matches, and neither does a GP counter of 0xC2/0x02 (pmu.c, pmu_intel.c).
import { describe, expect, it } from "vitest";
import { HOST_PRESETS } from "../../src/host/presets.js";
import { SEMANTICS } from "../../src/isa/semantics.js";
import { MIN_SLOTS_PER_CYCLE, UOPS } from "../../src/isa/uops.js";
import { runGuest, type TestKvmOptions } from "../kvm/harness.js";

const STATES: readonly [string, TestKvmOptions][] = [
  ["legacy", { codeState: "legacy" }],
  ["base", { codeState: "base", enableMediatedPmu: true }],
  ["v4", { codeState: "v4", enableMediatedPmu: true }],
  ["fix", { codeState: "fix", enableMediatedPmu: true }],
];

describe("the µop table (isa/uops.ts)", () => {
  it("every row that retires takes 1..base cycles × the narrowest issue width; #UD rows none", () => {
    expect(MIN_SLOTS_PER_CYCLE).toBe(Math.min(...HOST_PRESETS.map((h) => h.slotsPerCycle)));
    for (const r of SEMANTICS) {
      const u = UOPS[r.op];
      if (r.cycles === 0) expect(u, r.exec.name).toBe(0);
      else {
        expect(u, r.exec.name).toBeGreaterThanOrEqual(1);
        expect(u, r.exec.name).toBeLessThanOrEqual(r.cycles * MIN_SLOTS_PER_CYCLE);
      }
    }
  });
});

/** FC0 (instructions) at CPL 0, GP0 = topdown retiring (0xC2/0x02, EN|OS), slots on FC3 where the vCPU has it
 *  (V4/FIX) or else on GP1 (0xA4/0x01); `cpuids` CPUIDs (always exit, KVM emulates them) before a native loop;
 *  then counting stops and R8..R10 get FC0, the slots counter and PMC0. */
function program(cpuids: number, fc3: boolean): string {
  return [
    "  mov ecx, 0x38d",
    `  mov eax, ${fc3 ? "0x1001" : "0x1"}`, // FIXED_CTR_CTRL: FC0 OS (and FC3 OS)
    "  xor edx, edx",
    "  wrmsr",
    "  mov ecx, 0x186",
    "  mov eax, 0x4202c2", // EN | OS | umask 0x02 | event 0xC2
    "  wrmsr",
    "  mov ecx, 0x187",
    "  mov eax, 0x4201a4", // EN | OS | umask 0x01 | event 0xA4
    "  wrmsr",
    "  mov ecx, 0x38f",
    `  mov eax, ${fc3 ? 1 : 3}`,
    `  mov edx, ${fc3 ? 9 : 1}`, // GLOBAL_CTRL: PMC0 (PMC1), FC0 (bit 32) (FC3, bit 35)
    "  wrmsr",
    ...Array.from({ length: cpuids }, () => "  cpuid"),
    "  mov ecx, 10", // 1 µop
    "l:",
    "  call f", // 2
    "  xchg rax, rbx", // 3
    "  dec ecx", // 1
    "  jnz l", // 1
    "  mov ecx, 0x38f",
    "  xor eax, eax",
    "  xor edx, edx",
    "  wrmsr",
    "  mov ecx, 0x309",
    "  rdmsr",
    "  mov r8d, eax",
    `  mov ecx, ${fc3 ? "0x30c" : "0xc2"}`,
    "  rdmsr",
    "  mov r9d, eax",
    "  mov ecx, 0xc1",
    "  rdmsr",
    "  mov r10d, eax",
    "  hlt",
    "f:",
    "  ret", // 2
  ].join("\n");
}

function counts(cpuids: number, opts: TestKvmOptions): { insns: number; slots: number; retiring: number } {
  const fc3 = opts.codeState === "v4" || opts.codeState === "fix";
  const g = runGuest(program(cpuids, fc3), { ...opts, host: "spr" });
  expect(g.exit).toEqual({ reason: "hlt" });
  return { insns: g.cpu.getLo(8), slots: g.cpu.getLo(9), retiring: g.cpu.getLo(10) };
}

describe("topdown retiring and slots on a guest (SPR, 6 slots per cycle)", () => {
  it("legacy: exact counts — the loop's 50 instructions retire 90 µops", () => {
    const c = counts(0, { codeState: "legacy" });
    // FC0: the enabling WRMSR (KVM counts it, R-CNT-4) + mov ecx + 10 × (call, ret, xchg, dec, jnz) + mov, xor,
    // xor before the disabling WRMSR (which exits and is not counted) = 1 + 1 + 50 + 3.
    expect(c.insns).toBe(55);
    // Retiring: native µops only. GP0 counts from its own WRMSR (GLOBAL_CTRL resets to the GP counters'
    // bits, kvm_pmu_refresh): 5 movs around the two emulated WRMSRs that follow (no µop), then
    // 1 + 10 × (2 + 2 + 3 + 1 + 1) + 3 = 94 as above: 99.
    expect(c.retiring).toBe(99);
    expect(c.slots % 6).toBe(0);
    expect(c.slots).toBeGreaterThanOrEqual(c.retiring);
  });
  for (const [name, opts] of STATES) {
    it(`${name}: retiring ≥ natively retired instructions, slots ≥ retiring; emulated CPUIDs move FC0 only`, () => {
      const a = counts(0, opts);
      const b = counts(3, opts);
      expect(b.insns - a.insns).toBe(3); // kvm_pmu_instruction_retired, once per emulated CPUID
      expect(b.retiring).toBe(a.retiring); // no µop for an instruction that exits
      expect(b.slots).toBe(a.slots); // FC3 is hardware-only: no slot either
      for (const c of [a, b]) {
        expect(c.retiring).toBeGreaterThanOrEqual(94);
        expect(c.slots).toBeGreaterThanOrEqual(c.retiring);
      }
    });
  }
});
