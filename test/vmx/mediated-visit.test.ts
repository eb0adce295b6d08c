// The mediated load visits only registers that changed since the previous load (MediatedSwitch, issue 16 W4):
// on random guests that change counters, selectors and controls between exits (natively and through exits),
// overflow counters into PMIs, and with host-initiated writes and filter changes between KVM_RUNs, every
// value the guest or the host can observe, every leak record, invariant violation and exit-log entry is the
// same as with the switch visiting every register at every load (fullSwitch).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatLeak } from "../../src/check/leaks.js";
import { HOST_PRESETS } from "../../src/host/presets.js";
import { applyHostStep, type HostStep } from "../../src/machine/host-steps.js";
import { LEAK_MODEL, nasmFile, setupGuest, type GuestModel } from "./guest.js";

/** mulberry32: a small seeded PRNG, so a failure names its seed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

const EVENTS = [0xc0, 0xc4, 0x3c];

/** One random guest operation (valid values for LEAK_MODEL's v2 guest: 8 GP × 48 bits, fixed 0-2). */
function op(r: (n: number) => number, k: number, metrics: boolean): string {
  const wr = (ecx: number, eax: number, edx: number) =>
    `mov ecx, 0x${ecx.toString(16)}\n mov eax, 0x${(eax >>> 0).toString(16)}\n mov edx, 0x${edx.toString(16)}\n wrmsr`;
  const flags = () => (r(2) << 16) | (r(2) << 17) | (r(2) << 20) | (r(3) !== 0 ? 1 << 22 : 0);
  const counterValue = (): [number, number] =>
    r(2) === 0 ? [0xffffff00 | r(256), 0xffff] : r(2) === 0 ? [0, 0] : [r(0x100000000), r(0x10000)];
  switch (r(12)) {
    case 0:
    case 1:
      return wr(0x186 + r(8), EVENTS[r(3)]! | flags(), 0);
    case 2: {
      const [lo, hi] = counterValue();
      return wr(0x4c1 + r(8), lo, hi);
    }
    case 3: {
      const [lo, hi] = counterValue();
      return wr(0x309 + r(3), lo, hi);
    }
    case 4:
      return wr(0x38d, r(0x1000) & 0xbbb, 0);
    case 5:
      return wr(0x38f, r(256), r(8));
    case 6:
      return wr(0x390, r(256), r(8));
    case 7: {
      const msrs = [0x38d, 0x38e, 0x38f, 0xc1 + r(8), 0x186 + r(8), 0x309 + r(3), ...(metrics ? [0x329] : [])];
      return `mov ecx, 0x${msrs[r(msrs.length)]!.toString(16)}\n rdmsr`;
    }
    case 8:
      return `mov ecx, 0x${(r(2) === 0 ? r(8) : 0x40000000 | r(3)).toString(16)}\n rdpmc`;
    case 9:
      return `mov eax, 0xa\n xor ecx, ecx\n cpuid`;
    default:
      return `mov ebx, ${1 + r(300)}\n.l${k}: dec ebx\n jnz .l${k}`;
  }
}

function program(seed: number, metrics: boolean): Uint8Array {
  const r = prng(seed);
  const body: string[] = [];
  for (let k = 0; k < 60; k++) body.push(op(r, k, metrics));
  return assembleGuest(body.join("\n"));
}

/** `body` after the PMI and exception set-up, with GLOBAL_CTRL enabling every counter. */
function assembleGuest(body: string): Uint8Array {
  const src = `        org 0x100000
        bits 64
%include "vpmu.inc"
        EXC_SETUP
        PMI_SETUP PMI_VECTOR, pmi_handler
        mov ecx, 0x38f
        mov eax, 0xff
        mov edx, 7
        wrmsr
${body}
        mov al, 0
        out 0xf4, al
        hlt
pmi_handler:
        inc qword [rel pmis]
        PMI_UNMASK PMI_VECTOR
        PMI_EOI
        iretq
align 8
pmis:   dq 0
`;
  const path = join(mkdtempSync(join(tmpdir(), "vpmu-visit-")), "g.s");
  writeFileSync(path, src);
  return nasmFile(path);
}

function hostStep(r: (n: number) => number): Exclude<HostStep, { kind: "run" }> {
  const msrs = [0x4c1 + r(8), 0x186 + r(8), 0x309 + r(3), 0x38d, 0x38e, 0x38f, 0x390];
  const index = msrs[r(msrs.length)]!;
  if (r(8) === 0)
    return {
      kind: "set-filter",
      filter: r(2) === 0 ? null : { action: r(2), events: [BigInt(EVENTS[r(3)]!)] },
      source: "test",
    };
  const value =
    index === 0x186 || (index > 0x186 && index < 0x18e)
      ? BigInt(EVENTS[r(3)]! | (r(2) << 16) | (r(2) << 17) | (r(2) << 20) | (r(2) << 22))
      : index === 0x38d
        ? BigInt(r(0x1000) & 0xbbb)
        : index >= 0x38e
          ? BigInt(r(256)) | (BigInt(r(8)) << 32n)
          : BigInt(r(0x10000)) * 2n ** 32n + BigInt(r(0x100000000));
  return { kind: "set-msr", index, value };
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x));

/** Everything a run leaves that the guest, the host or a report can see. */
function observe(g: ReturnType<typeof setupGuest>): string {
  const phys = g.layer.phys;
  const pmu = g.vcpu.pmu;
  return json({
    phys: phys.msrIndexes().map((m) => [m, phys.rdmsr(m), phys.owner(m)]),
    pending: phys.pmiPending,
    pmu: {
      gp: pmu.gp.map((p) => [p.counter, p.eventsel, p.eventselHw]),
      fixed: pmu.fixed.map((p) => p.counter),
      fcc: pmu.fixedCtrCtrl,
      ctrl: pmu.globalCtrl,
      status: pmu.globalStatus,
      metrics: pmu.perfMetrics,
      pmi: pmu.pmiRequested,
    },
    regs: Array.from(g.cpu.regs),
    rip: g.cpu.rip,
    insns: g.cpu.events.instructions,
    leaks: g.checker.leaks.map(formatLeak),
    violations: g.checker.violations,
    exits: g.vcpu.exits,
    loads: g.layer.sw.loads,
    pmis: g.vcpu.lapic.pmisDelivered,
    puts: g.layer.sw.puts,
    io: g.io.text,
  });
}

function compare(
  seed: number,
  model: GuestModel,
  fullVisits = 0,
  image = program(seed, model.perfCaps === 0xa000n),
): [loads: number, pmis: number] {
  const full = setupGuest(image, model);
  const fast = setupGuest(image, model);
  full.layer.recordSteps = false;
  fast.layer.recordSteps = false;
  full.layer.sw.fullSwitch = true;
  // Skipping from the first switch on (by default a switch's first FULL_VISITS loads and puts visit every
  // register, as `full` does, which would leave these short guests few switches that skip anything).
  fast.layer.sw.fullVisits = fullVisits;
  const r = prng(seed ^ 0x5eed);
  let runs = 0;
  for (; runs < 400; runs++) {
    const budget = 1 + r(r(4) === 0 ? 2000 : 60);
    const a = full.vcpu.run({ maxInstructions: budget });
    const b = fast.vcpu.run({ maxInstructions: budget });
    expect(json(b), `seed ${seed} run ${runs}`).toBe(json(a));
    expect(observe(fast), `seed ${seed} run ${runs}`).toBe(observe(full));
    if (a.reason !== "limit") break;
    if (r(3) === 0) {
      const s = hostStep(r);
      expect(applyHostStep(fast, s), `seed ${seed} run ${runs}`).toBe(applyHostStep(full, s));
    }
  }
  return [fast.layer.sw.loads, fast.vcpu.lapic.pmisDelivered];
}

/** A CPUID that exits (leaf 0xA). */
const CPUID = "mov eax, 0xa\n xor ecx, ecx\n cpuid";

/** `body` under FIX on a guest with PERF_METRICS (FIX passes the global registers through only then, R-INT-4;
 *  none is counted here): compared with visiting every register, then run once more skipping from the first
 *  switch on, without recording steps (the run the assertions read). */
function runSkipping(body: string): ReturnType<typeof setupGuest> {
  const model = { ...LEAK_MODEL, policy: "fix", perfCaps: 0xa000n } as const;
  compare(1, model, 0, assembleGuest(body));
  const g = setupGuest(assembleGuest(body), model);
  g.layer.recordSteps = false;
  g.layer.sw.fullVisits = 0;
  g.vcpu.run({ maxInstructions: 10_000 });
  return g;
}

describe("mediated load visits only changed registers", () => {
  for (const [name, model] of [
    ["v4, guest without PERF_METRICS", { ...LEAK_MODEL, policy: "v4" }],
    ["fix, guest without PERF_METRICS", { ...LEAK_MODEL, policy: "fix" }],
    ["fix, guest with PERF_METRICS", { ...LEAK_MODEL, policy: "fix", perfCaps: 0xa000n }],
    ["fix, host perf counting on every counter", { ...LEAK_MODEL, policy: "fix", activity: "counting" }],
    ["v4, host perf running TopdownL1", { ...LEAK_MODEL, policy: "v4", activity: "topdown", perfCaps: 0xa000n }],
  ] as const) {
    it(`${name}: random guests and host steps observe the same as visiting every register`, () => {
      let loads = 0;
      let pmis = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const [l, p] = compare(seed * 7919 + name.length, model);
        loads += l;
        pmis += p;
      }
      // The runs went through many switches, and counters overflowed into delivered PMIs.
      expect(loads).toBeGreaterThan(180);
      expect(pmis).toBeGreaterThan(0);
    });
  }

  it("with the default full visits at the start, then skipping: the same as visiting every register", () => {
    let loads = 0;
    for (let seed = 1; seed <= 3; seed++) loads += compare(seed * 104729, { ...LEAK_MODEL, policy: "fix" }, 32)[0];
    expect(loads).toBeGreaterThan(3 * 32);
  });

  it("a GLOBAL_STATUS the guest clears natively is saved as 0 by the next put and not loaded back", () => {
    // PMC0 overflows (no PMI) and sets status bit 0; an exit saves it and the next load puts it back; the guest
    // then clears it through the passed-through OVF_CTRL (R-INT-3) with FIXED_CTR_CTRL and PERF_METRICS 0,
    // so at the next put the hardware status is 0 while KVM's saved copy is not: put must store the 0 (else
    // the load after it would write the stale bit back and the RDMSR of 0x38E below would read 1).
    const body = `
        mov ecx, 0x4c1
        mov eax, 0xfffffff0
        mov edx, 0xffff
        wrmsr
        mov ecx, 0x186
        mov eax, 0x4300c0
        xor edx, edx
        wrmsr
        mov ebx, 64
.spin:  dec ebx
        jnz .spin
        mov ecx, 0x186
        xor eax, eax
        wrmsr
        ${CPUID}
        mov ecx, 0x390
        mov eax, 1
        xor edx, edx
        wrmsr
        ${CPUID}
        ${CPUID}
        mov ecx, 0x38e
        rdmsr
        mov r12, rax`;
    const g = runSkipping(body);
    // The OVF_CTRL write and the GLOBAL_STATUS read ran natively; the three CPUIDs exited.
    expect(g.vcpu.exits.filter((e) => "msr" in e && (e.msr === 0x390 || e.msr === 0x38e))).toEqual([]);
    expect(g.vcpu.exits.filter((e) => e.name === "CPUID").length).toBe(3);
    expect(g.cpu.getLo(12)).toBe(0);
    expect(g.vcpu.pmu.globalStatus).toBe(0n);
  });

  it("a PERF_METRICS the guest zeroes natively is saved as 0 by the next put and not loaded back", () => {
    // The guest writes PERF_METRICS (passed through under FIX for a guest with it), an exit saves and scrubs it
    // and the next load restores it; the guest then writes 0, so at the next put the hardware holds 0 while
    // KVM's saved copy does not (P-9: put must store the 0, else the load after it restores the old value).
    const body = `
        mov ecx, 0x329
        mov eax, 0x11223344
        mov edx, 0x55667788
        wrmsr
        ${CPUID}
        mov ecx, 0x329
        rdmsr
        mov r13, rax
        mov ecx, 0x329
        xor eax, eax
        xor edx, edx
        wrmsr
        ${CPUID}
        ${CPUID}
        mov ecx, 0x329
        rdmsr
        mov r12, rax`;
    const g = runSkipping(body);
    expect(g.vcpu.exits.filter((e) => "msr" in e && e.msr === 0x329)).toEqual([]);
    expect(g.cpu.getLo(13)).toBe(0x11223344); // restored by the first load
    expect(g.cpu.getLo(12)).toBe(0);
    expect(g.vcpu.pmu.perfMetrics).toBe(0n);
  });

  it("a host-initiated counter write between runs and a guest selector write between exits reach the hardware", () => {
    const image = program(3, false);
    const g = setupGuest(image, { ...LEAK_MODEL, policy: "fix" });
    g.layer.recordSteps = false;
    g.vcpu.run({ maxInstructions: 50 });
    expect(applyHostStep(g, { kind: "set-msr", index: 0x4c1, value: 0x123456789n })).toBe(null);
    g.layer.enterGuest();
    expect(g.layer.phys.rdmsr(0xc1)).toBe(0x123456789n);
    expect(g.layer.phys.owner(0xc1)).toEqual({ owner: "vcpu:0", source: "load step 5" });
    g.layer.vmExit(10, 0);
    g.vcpu.pmu.gp[1]!.counter = 0x42;
    g.layer.enterGuest();
    expect(g.layer.phys.rdmsr(0xc2)).toBe(0x42n);
  });
});

describe("the PERF_METRICS switch", () => {
  // KVM offers PERF_CAPABILITIES bit 15 only where the host has it, so a guest with PERF_METRICS only exists
  // there; the switch takes that as given (load writes and put reads 0x329 unconditionally) and refuses a
  // configuration that breaks it.
  const image = assembleGuest(CPUID);
  it("the host presets cover both sides of the rule: skx has no PERF_METRICS, the others do", () => {
    expect(HOST_PRESETS.map((h) => [h.id, h.perfMetrics])).toEqual([
      ["skx", false],
      ["icx", true],
      ["spr", true],
      ["gnr", true],
    ]);
  });
  for (const host of HOST_PRESETS) {
    it(`${host.id}: switched only for a guest with PERF_METRICS, and only where the host has the MSR`, () => {
      for (const perfCaps of [0x2000n, 0xa000n]) {
        const model = { ...LEAK_MODEL, host: host.id, policy: "fix", perfCaps, hostMsrs: [] };
        if (perfCaps === 0xa000n && !host.perfMetrics) {
          // KVM_SET_MSRS rejects the bit where the host lacks it.
          expect(() => setupGuest(image, model)).toThrow("PERF_CAPABILITIES rejected");
          continue;
        }
        const g = setupGuest(image, model);
        expect(g.layer.phys.hasPerfMetrics).toBe(host.perfMetrics);
        expect(g.layer.sw.config.perfMetrics).toBe(perfCaps === 0xa000n);
      }
    });
  }

  it("a switch of PERF_METRICS on a host without the MSR is refused", () => {
    const g = setupGuest(image, { ...LEAK_MODEL, host: "skx", policy: "fix", perfCaps: 0x2000n, hostMsrs: [] });
    expect(g.layer.phys.hasPerfMetrics).toBe(false);
    expect(() => {
      g.layer.sw.config = { owner: g.layer.owner, perfMetrics: true };
    }).toThrow("mediated switch: PERF_METRICS switched for a guest on a host without the MSR");
  });
});
