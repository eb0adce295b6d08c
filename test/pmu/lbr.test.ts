// Issue 14 item 7: LBR virtualization in the legacy vPMU. PERF_CAPABILITIES[5:0] carries the host's LBR format
// (vmx.c vmx_get_perf_capabilities, x86_perf_get_lbr); the LBR MSRs exist as pmu_intel.c
// intel_pmu_is_valid_lbr_msr says; DEBUGCTL.LBR records the guest's taken branches into the hardware stack
// (intel_pmu_handle_lbr_msrs_access reads it); FREEZE_LBRS_ON_PMI is emulated for v2/v3 guests
// (intel_pmu_deliver_pmi); the mediated vPMU and hosts with architectural LBRs get no LBRs.
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import type { Vcpu } from "../../src/kvm/vcpu.js";
import { ORG, createKvm, idtGate, runGuest, type TestKvmOptions } from "../kvm/harness.js";

const SKX = { host: "skx", codeState: "legacy" } as const;
const hostOpt = { hostInitiated: true };
const guestOpt = { hostInitiated: false };

function vcpuOf(opts: TestKvmOptions): Vcpu {
  const k = createKvm(opts);
  if (!(k instanceof Kvm)) throw new Error(k.error);
  return k.createVm().createVcpu();
}
const read = (v: Vcpu, msr: number): bigint | null => {
  const r = v.getMsr(msr, hostOpt);
  return r.ok ? r.value : null;
};

describe("PERF_CAPABILITIES LBR format and the LBR MSRs, per host and code state", () => {
  it.each([
    ["skx legacy", SKX, 0x2005n, true],
    ["icx legacy", { host: "icx", codeState: "legacy" }, 0x24c5n, true],
    // Architectural LBRs: KVM supports no arch LBR and offers no legacy format (vmx_get_perf_capabilities).
    ["spr legacy", { host: "spr", codeState: "legacy" }, 0x225c0n, false],
    // The mediated series offers no LBRs (!enable_mediated_pmu in vmx_get_perf_capabilities).
    ["skx base", { host: "skx", codeState: "base", enableMediatedPmu: true }, 0x2000n, false],
    ["icx base", { host: "icx", codeState: "base", enableMediatedPmu: true }, 0x2000n, false],
    ["icx v4", { host: "icx", codeState: "v4", enableMediatedPmu: true }, 0xa000n, false],
    ["icx fix", { host: "icx", codeState: "fix", enableMediatedPmu: true }, 0xa000n, false],
  ] as const)("%s", (_n, opts, caps, lbr) => {
    const v = vcpuOf(opts);
    expect(read(v, 0x345)).toBe(caps);
    const valid = [0x1c8, 0x1c9, 0x680, 0x69f, 0x6c0, 0x6df, 0xdc0, 0xddf];
    for (const m of valid) expect([m, v.pmu.isValidMsr(m)]).toEqual([m, lbr]);
    for (const m of [0x6a0, 0x6e0, 0xde0, 0x14ce, 0x1500]) expect(v.pmu.isValidMsr(m)).toBe(false);
    // A guest read of LBR_TOS: 0 with LBRs, #GP without.
    expect(v.getMsr(0x1c9, guestOpt)).toEqual(lbr ? { ok: true, value: 0n } : { ok: false });
  });

  it("the host's format only, and only with the host's CPUID model (cpuid_model_is_consistent)", () => {
    const v = vcpuOf(SKX);
    expect(v.setMsr(0x345, 0x2004n, hostOpt)).toBe(false);
    expect(v.setMsr(0x345, 0x2000n, hostOpt)).toBe(true);
    expect(v.pmu.isValidMsr(0x1c8)).toBe(false);
    // Guest model 0x5E (family 6) ≠ host 0x55: the format is refused, and a refresh drops the LBRs.
    const l1 = v.leaf(1);
    const other = (l1.eax & ~0xf00f0) | (0xe << 4) | (0x5 << 16);
    expect(v.setMsr(0x345, 0x2005n, hostOpt)).toBe(true);
    expect(v.pmu.isValidMsr(0x1c8)).toBe(true);
    expect(v.setCpuid(v.withCpuidLeaf({ function: 1, index: 0, ...l1, eax: other })).ok).toBe(true);
    expect(v.pmu.isValidMsr(0x1c8)).toBe(false);
    expect(v.setMsr(0x345, 0x2000n, hostOpt)).toBe(true);
    expect(v.setMsr(0x345, 0x2005n, hostOpt)).toBe(false);
  });

  it("DEBUGCTL (vmx_is_valid_debugctl): LBR and FREEZE_LBRS_ON_PMI with guest LBRs; without, LBR and BTF drop and FREEZE is #GP", () => {
    const v = vcpuOf(SKX);
    expect(v.setMsr(0x1d9, 0x803n, guestOpt)).toBe(true);
    expect(read(v, 0x1d9)).toBe(0x801n); // BTF dropped
    expect(v.setMsr(0x1d9, 0x1000n, guestOpt)).toBe(false); // FREEZE_PERFMON_ON_PMI: never
    const noLbr = vcpuOf({ host: "icx", codeState: "base", enableMediatedPmu: true });
    expect(noLbr.setMsr(0x1d9, 0x3n, guestOpt)).toBe(true);
    expect(read(noLbr, 0x1d9)).toBe(0n);
    expect(noLbr.setMsr(0x1d9, 0x800n, guestOpt)).toBe(false);
    // The host may set them whenever KVM offers LBRs (host_initiated), even with the vCPU's caps cleared.
    const cleared = vcpuOf(SKX);
    expect(cleared.setMsr(0x345, 0x2000n, hostOpt)).toBe(true);
    expect(cleared.setMsr(0x1d9, 0x801n, guestOpt)).toBe(false);
    expect(cleared.setMsr(0x1d9, 0x801n, hostOpt)).toBe(true);
    expect(read(cleared, 0x1d9)).toBe(0x801n);
  });

  it("LBR_SELECT implements bits 9:0, TOS the stack's depth, FROM/TO canonical addresses; INFO keeps MISPRED", () => {
    const v = vcpuOf(SKX);
    expect(v.setMsr(0x1c8, 0x3ffn, guestOpt)).toBe(true);
    expect(v.setMsr(0x1c8, 0x400n, guestOpt)).toBe(false);
    expect(v.setMsr(0x1c9, 31n, guestOpt)).toBe(true);
    expect(v.setMsr(0x1c9, 32n, guestOpt)).toBe(false);
    expect(v.setMsr(0x690, 0xffff800000001234n, guestOpt)).toBe(true);
    expect(read(v, 0x690)).toBe(0xffff800000001234n);
    expect(v.setMsr(0x6c0, 0x0000800000000000n, guestOpt)).toBe(false);
    expect(v.setMsr(0xdc0, 0x8000000000001234n, guestOpt)).toBe(true);
    expect(read(v, 0xdc0)).toBe(0x8000000000000000n);
    expect([read(v, 0x1c8), read(v, 0x1c9)]).toEqual([0x3ffn, 31n]);
  });
});

// The guest's layout: `expect` (label addresses NASM resolves, ORG + 8) and `lbrs` (the dump, ORG + 8 + 8 * 16).
const HEAD = `
  jmp start
  align 8
expect: dq b_jmp, t_jmp, b_jz, t_jz, b_call, fn, b_ret, t_ret, b_ind, t_ind, t_ind, dump, 0, 0, 0, 0
lbrs: times 32*3 dq 0
start:`;
const EXPECT_AT = ORG + 8;
const LBRS_AT = ORG + 8 + 8 * 16;

// Clears DEBUGCTL, reads TOS into r8 and every entry (FROM, TO, INFO) into \`lbrs\`, then ends with OUT 0xF4.
const DUMP = `
dump:
  mov ecx, 0x1d9
  xor eax, eax
  xor edx, edx
  wrmsr                    ; DEBUGCTL = 0: recording stops
  mov ecx, 0x1c9
  rdmsr
  mov r8d, eax             ; TOS
  lea rdi, [rel lbrs]
  xor ebx, ebx
.next:
  mov ecx, 0x680
  add ecx, ebx
  rdmsr
  mov [rdi], eax
  mov [rdi+4], edx
  mov ecx, 0x6c0
  add ecx, ebx
  rdmsr
  mov [rdi+8], eax
  mov [rdi+12], edx
  mov ecx, 0xdc0
  add ecx, ebx
  rdmsr
  mov [rdi+16], eax
  mov [rdi+20], edx
  add rdi, 24
  inc ebx
  cmp ebx, 32
  jne .next
  mov al, 0
  out 0xf4, al
`;

/** Branches between the guest's labels: [from-label, to-label] pairs, in recording order. */
const BRANCHES = `${HEAD}
  mov ecx, 0x1c8
  mov eax, SELECT
  xor edx, edx
  wrmsr                    ; LBR_SELECT
  mov ecx, 0x1d9
  mov eax, 1
  wrmsr                    ; DEBUGCTL.LBR = 1
b_jmp:
  jmp t_jmp                ; near relative jump
  ud2
t_jmp:
  xor eax, eax
  jnz t_never              ; not taken: never recorded
b_jz:
  jz t_jz                  ; taken conditional (first seen, forward: mispredicted)
t_never:
  ud2
t_jz:
b_call:
  call fn                  ; near relative call
t_ret:
  lea rax, [rel t_ind]
b_ind:
  jmp rax                  ; near indirect jump (never seen: mispredicted)
  ud2
t_ind:
  jmp dump                 ; near relative jump
fn:
b_ret:
  ret                      ; near return (the RSB predicts it)
${DUMP}`;

interface Entry {
  from: bigint;
  to: bigint;
  info: bigint;
}
function dump(g: ReturnType<typeof runGuest>): { expect: bigint[]; lbrs: Entry[] } {
  const dv = new DataView(g.cpu.mem.buffer);
  const expect: bigint[] = [];
  for (let i = 0; i < 12; i++) expect.push(dv.getBigUint64(EXPECT_AT + 8 * i, true));
  const lbrs: Entry[] = [];
  for (let i = 0; i < 32; i++)
    lbrs.push({
      from: dv.getBigUint64(LBRS_AT + i * 24, true),
      to: dv.getBigUint64(LBRS_AT + i * 24 + 8, true),
      info: dv.getBigUint64(LBRS_AT + i * 24 + 16, true),
    });
  return { expect, lbrs };
}
const MISPRED = 1n << 63n;

describe("the guest's taken branches in the LBR stack (legacy, SKX: 32 entries)", () => {
  it("records FROM/TO of each taken branch in order, TOS at the newest, MISPRED from the predictor", () => {
    const g = runGuest(BRANCHES.replace("SELECT", "0"), SKX);
    expect(g.io.status).toBe(0);
    const { expect: e, lbrs } = dump(g);
    const [bJmp, tJmp, bJz, tJz, bCall, fn, bRet, tRet, bInd, tInd, , dmp] = e;
    expect(Number(g.cpu.getLo(8))).toBe(6);
    expect(lbrs.slice(0, 8)).toEqual([
      { from: 0n, to: 0n, info: 0n },
      { from: bJmp, to: tJmp, info: 0n },
      { from: bJz, to: tJz, info: MISPRED },
      { from: bCall, to: fn, info: 0n },
      { from: bRet, to: tRet, info: 0n },
      { from: bInd, to: tInd, info: MISPRED },
      { from: tInd, to: dmp, info: 0n },
      { from: 0n, to: 0n, info: 0n },
    ]);
    // The dump's own loop ran with DEBUGCTL.LBR clear: nothing past entry 6.
    expect(lbrs.slice(7).every((x) => x.from === 0n && x.to === 0n)).toBe(true);
  });

  it("LBR_SELECT suppresses by type (JCC | NEAR_REL_JMP) and call-stack mode pops a call on its return", () => {
    const g = runGuest(BRANCHES.replace("SELECT", String(0x4 | 0x80)), SKX);
    const { expect: e, lbrs } = dump(g);
    const [, , , , bCall, fn, bRet, tRet, bInd, tInd] = e;
    expect(Number(g.cpu.getLo(8))).toBe(3);
    expect(lbrs.slice(1, 4)).toEqual([
      { from: bCall, to: fn, info: 0n },
      { from: bRet, to: tRet, info: 0n },
      { from: bInd, to: tInd, info: MISPRED },
    ]);
    // EN_CALLSTACK with only calls and returns kept: the return pops its call, the stack ends empty (TOS 0);
    // the popped entry stays as it was.
    const cs = runGuest(BRANCHES.replace("SELECT", String(0x200 | 0x4 | 0x40 | 0x80 | 0x100)), SKX);
    const d = dump(cs);
    expect(Number(cs.cpu.getLo(8))).toBe(0);
    expect(d.lbrs[1]).toEqual({ from: d.expect[4], to: d.expect[5], info: 0n });
  });

  it("CPL filter: LBR_SELECT.CPL_EQ_0 suppresses everything this ring-0 guest does", () => {
    const g = runGuest(BRANCHES.replace("SELECT", "1"), SKX);
    expect(Number(g.cpu.getLo(8))).toBe(0);
    expect(dump(g).lbrs.every((x) => x.from === 0n)).toBe(true);
  });

  it("no recording without guest LBRs: DEBUGCTL.LBR is dropped and the LBR MSRs #GP", () => {
    const g = runGuest(BRANCHES.replace("SELECT", "0"), SKX, (v) => v.setMsr(0x345, 0x2000n, hostOpt));
    // The first LBR_SELECT write is a #GP (no IDT: the guest triple-faults before recording anything).
    expect(g.exit.reason).toBe("shutdown");
    expect(g.cpu.lbr.on).toBe(false);
    expect(g.vcpu.debugctl).toBe(0n);
  });

  it("a hot loop with LBR on runs interpreted and records every iteration; off, blocks run, nothing recorded", () => {
    const loop = (lbr: number): string => `${HEAD}
  mov ecx, 0x1d9
  mov eax, ${lbr}
  xor edx, edx
  wrmsr
  mov esi, 1000
b_jmp:
b_jz:
b_call:
fn:
b_ret:
t_ret:
b_ind:
t_jmp:
t_jz:
t_ind:
.l:
  dec esi
  jnz .l                   ; 999 taken, 1 not taken
  jmp dump
${DUMP}`;
    const on = runGuest(loop(1), SKX);
    const off = runGuest(loop(0), SKX);
    expect(on.cpu.events.instructions).toBe(off.cpu.events.instructions);
    expect(on.cpu.events.branches).toBe(off.cpu.events.branches);
    expect(off.cpu.jitStats.compiled).toBeGreaterThan(0);
    // 999 taken jnz + jmp dump = 1000 records: TOS = 1000 mod 32 = 8, the newest is the jump to dump.
    expect(Number(on.cpu.getLo(8))).toBe(1000 % 32);
    const d = dump(on);
    expect(d.lbrs[8]!.to).toBe(d.expect[11]);
    expect(d.lbrs[7]!.to).toBe(d.lbrs[7]!.from - 2n); // jnz .l back over dec esi (FF CE)
    expect(Number(off.cpu.getLo(8))).toBe(0);
  });
});

// A PMI handler that records DEBUGCTL (r13) and TOS (r12) as it finds them; the main code records both again
// after ten more jumps (r9, r8).
const PMI_GUEST = `
  jmp start
  align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
      dq idt
handler:
  mov ecx, 0x1d9
  rdmsr
  mov r13d, eax
  mov ecx, 0x1c9
  rdmsr
  mov r12d, eax
  mov ecx, 0x80b
  xor eax, eax
  xor edx, edx
  wrmsr                   ; EOI
  iretq
start:
${idtGate(0xf0, "handler")}
  lidt [idtr]
  mov ecx, 0x80f
  mov eax, 0x1ff
  xor edx, edx
  wrmsr                   ; SVR: APIC software enable
  mov ecx, 0x834
  mov eax, 0xf0
  wrmsr                   ; LVTPC: fixed, vector 0xF0
  mov ecx, 0x1d9
  mov eax, 0x801
  wrmsr                   ; DEBUGCTL = LBR | FREEZE_LBRS_ON_PMI
  mov ecx, 0x38f
  xor eax, eax
  wrmsr
  mov ecx, 0xc1
  mov eax, -4
  wrmsr                   ; PMC0 = -4
  mov ecx, 0x186
  mov eax, 0x5200c0       ; EN|INT|OS, instructions
  wrmsr
  sti
  mov ecx, 0x38f
  mov eax, 1
  wrmsr                   ; 1 (the enabling WRMSR)
  jmp .1                  ; 2
.1: jmp .2                ; 3
.2: jmp .3                ; 4: PMC0 wraps; the PMI is taken after it
.3: jmp .4
.4: jmp .5
.5: jmp .6
.6: jmp .7
.7: jmp .8
.8: jmp .9
.9: jmp .10
.10:
  mov ecx, 0x1c9
  rdmsr
  mov r8d, eax
  mov ecx, 0x1d9
  rdmsr
  mov r9d, eax
  mov al, 0
  out 0xf4, al
`;

describe("FREEZE_LBRS_ON_PMI (intel_pmu_deliver_pmi)", () => {
  const setVersion = (version: number) => (v: Vcpu) => {
    const a = v.leaf(0xa);
    v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, ...a, eax: (a.eax & ~0xff) | version }));
  };
  it.each([
    // v2/v3: KVM clears DEBUGCTL.LBR as it delivers the PMI: the handler finds 0x800, recording has stopped
    // after the 3 jumps before the PMI, and the guest must set LBR again to resume.
    [2, 0x800, 3, 3, 0x800],
    [3, 0x800, 3, 3, 0x800],
    // v4+ (a version userspace may put in CPUID): KVM emulates nothing; recording goes on (the handler's
    // IRETQ and the 7 jumps after it). (A v1 guest has no GLOBAL_CTRL to start this program with.)
    [4, 0x801, 3, 11, 0x801],
  ])("PMU version %i", (version, inHandler, tosAtPmi, tosAfter, after) => {
    const g = runGuest(PMI_GUEST, SKX, setVersion(version));
    expect(g.io.status).toBe(0);
    expect([g.cpu.getLo(13), g.cpu.getLo(12), g.cpu.getLo(8), g.cpu.getLo(9)]).toEqual([
      inHandler,
      tosAtPmi,
      tosAfter,
      after,
    ]);
  });
});
