/**
 * Host perf activity: what the host leaves in (and keeps writing to) the physical PMU around a guest,
 * so that hardware holds host values whenever the host side runs. Facts: model.md §12 (perf_load_guest_context
 * / perf_put_guest_context are load step 2 and put step 5), §14.2 L-5 (host PERF_METRICS left non-zero),
 * §5.6 (metric fields). Presets are representative, not measured.
 */
import {
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_PERFCTR0,
  MSR_PERF_METRICS,
} from "../arch/msr-index.js";
import { ARCH_PERFMON_EVENTSEL_ENABLE } from "../arch/perf-event.js";
import type { PhysicalPmu, Provenance } from "./physical-pmu.js";
import { HOST_OWNER } from "./physical-pmu.js";

export interface HostRegister {
  readonly msr: number;
  readonly value: bigint;
  /** Host "run time" between a put and the next load advances this counter by `perInterval` (0 = static). */
  readonly perInterval: number;
}

export interface HostActivityPreset {
  readonly id: string;
  readonly description: string;
  readonly registers: readonly HostRegister[];
}

/** ARCH_PERFMON_EVENTSEL for "unhalted core cycles, OS+USR, EN" (0x3C/0x00, bits 16, 17, 22). */
const CYCLES_OS_USR_EN = 0x43003cn;

export const HOST_ACTIVITIES: readonly HostActivityPreset[] = [
  {
    id: "idle",
    description: "host perf has no events: hardware keeps its power-on values (and any --host-msr values)",
    registers: [],
  },
  {
    id: "topdown",
    description: "host perf runs a TopdownL1 group (FC3 + PERF_METRICS) and leaves both non-zero (model.md §14.2 L-5)",
    registers: [
      { msr: MSR_CORE_PERF_FIXED_CTR0 + 3, value: 0x12345600n, perInterval: 0 },
      // retiring 0x40, bad speculation 0x10, frontend 0x30, backend 0x7f: level-1 fields sum to 0xff (§5.6).
      { msr: MSR_PERF_METRICS, value: 0x7f301040n, perInterval: 0 },
      { msr: MSR_CORE_PERF_FIXED_CTR_CTRL, value: 0x3000n, perInterval: 0 },
      { msr: MSR_CORE_PERF_GLOBAL_CTRL, value: (1n << 35n) | (1n << 48n), perInterval: 0 },
    ],
  },
  {
    id: "counting",
    description: "host perf counts cycles on every GP counter and FC0–FC2, which keep counting while the host runs",
    registers: [
      ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((n) => [
        { msr: MSR_IA32_EVNTSEL0 + n, value: CYCLES_OS_USR_EN, perInterval: 0 },
        { msr: MSR_IA32_PERFCTR0 + n, value: BigInt(0x100000 * (n + 1)), perInterval: 1000 + n },
      ]),
      ...[0, 1, 2].map((i) => ({
        msr: MSR_CORE_PERF_FIXED_CTR0 + i,
        value: BigInt(0x10000 * (i + 1)),
        perInterval: 500 + i,
      })),
      { msr: MSR_CORE_PERF_FIXED_CTR_CTRL, value: 0x333n, perInterval: 0 },
      { msr: MSR_CORE_PERF_GLOBAL_CTRL, value: 0x7000000ffn, perInterval: 0 },
    ],
  },
];

export function findHostActivity(id: string): HostActivityPreset | undefined {
  return HOST_ACTIVITIES.find((a) => a.id === id);
}

/** A `--host-msr MSR=VALUE` setting. */
export interface HostMsrValue {
  readonly msr: number;
  readonly value: bigint;
}

/** Parse "0x329=0x8899aabb11223344" (hex or decimal on both sides). Errors are values. */
export function parseHostMsr(text: string): { ok: true; value: HostMsrValue } | { ok: false; error: string } {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*=\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(text);
  if (!m)
    return {
      ok: false,
      error: `--host-msr ${JSON.stringify(text)}: expected MSR=VALUE, e.g. 0x329=0x8899aabb11223344`,
    };
  const msr = BigInt(m[1]);
  const value = BigInt(m[2]);
  if (msr > 0xffffffffn) return { ok: false, error: `--host-msr ${text}: MSR index ${m[1]} does not fit in 32 bits` };
  if (value > 0xffffffffffffffffn)
    return { ok: false, error: `--host-msr ${text}: value ${m[2]} does not fit in 64 bits` };
  return { ok: true, value: { msr: Number(msr), value } };
}

/**
 * The host side's use of the physical PMU over a run: writes the activity's registers and the
 * `--host-msr` values before the first entry, remembers the host's counts when perf hands the PMU to
 * KVM (load step 2) and writes them back, advanced by the host's run time, when perf takes it back
 * (put step 5).
 */
export class HostPerf {
  readonly activity: HostActivityPreset;
  readonly hostMsrs: readonly HostMsrValue[];
  private intervals = 0;
  /** The provenance of scheduleOut (0) and restore (1) for the step name last used: built once, not per exit. */
  private readonly tags: [string, Provenance][] = [
    ["", { owner: HOST_OWNER, source: "" }],
    ["", { owner: HOST_OWNER, source: "" }],
  ];

  private tag(k: 0 | 1, step: string): Provenance {
    const t = this.tags[k]!;
    if (t[0] !== step) {
      t[0] = step;
      const source = k === 0 ? `${step} (perf_load_guest_context)` : `${step} (host activity ${this.activity.id})`;
      t[1] = { owner: HOST_OWNER, source };
    }
    return t[1];
  }

  /** Per register: its value as a Number (NaN when not exact there, so restore takes the bigint sum). */
  private readonly base: Float64Array;
  /** Per register: 1 for a selector the activity enables (scheduleOut clears its EN bit). */
  private readonly enabledSel: Uint8Array;

  /** The activity has no registers: scheduleOut and restore write nothing (and restore's interval count is
   *  never read), so the mediated switch need not call them. */
  readonly idle: boolean;

  private constructor(activity: HostActivityPreset, hostMsrs: readonly HostMsrValue[]) {
    this.activity = activity;
    this.idle = activity.registers.length === 0;
    this.hostMsrs = hostMsrs;
    const regs = activity.registers;
    this.base = Float64Array.from(regs, (r) => (r.value >= 0n && r.value <= 0xfffffffffffffn ? Number(r.value) : NaN));
    this.enabledSel = Uint8Array.from(regs, (r) =>
      r.msr >= MSR_IA32_EVNTSEL0 && r.msr < MSR_IA32_EVNTSEL0 + 8 && (r.value & ARCH_PERFMON_EVENTSEL_ENABLE) !== 0n
        ? 1
        : 0,
    );
  }

  /** Validate against the physical PMU: every register must exist on this CPU. */
  static create(
    phys: PhysicalPmu,
    activity: HostActivityPreset,
    hostMsrs: readonly HostMsrValue[],
  ): { ok: true; value: HostPerf } | { ok: false; error: string } {
    for (const h of hostMsrs) {
      if (phys.canonical(h.msr) < 0)
        return { ok: false, error: `--host-msr 0x${h.msr.toString(16)}: the ${phys.host.id} host has no such PMU MSR` };
    }
    return { ok: true, value: new HostPerf(activity, hostMsrs) };
  }

  /** Before the first VM entry: the activity's registers, then the --host-msr values (which win). */
  applyInitial(phys: PhysicalPmu): void {
    const act = phys.provs.id(HOST_OWNER, `host activity ${this.activity.id}`);
    for (const r of this.activity.registers) if (phys.canonical(r.msr) >= 0) hostWrite(phys, r.msr, r.value, act);
    const cli = phys.provs.id(HOST_OWNER, "--host-msr");
    for (const h of this.hostMsrs) hostWrite(phys, h.msr, h.value, cli);
  }

  /**
   * Load step 2 (perf_load_guest_context): perf schedules out the host events that exclude the guest —
   * x86_pmu_disable_event clears each host selector's EN bit and the host's FIXED_CTR_CTRL fields; the
   * counter values (and, per model.md §14.2 L-5, PERF_METRICS) stay in hardware.
   */
  scheduleOut(phys: PhysicalPmu, step: string): void {
    const regs = this.activity.registers;
    if (regs.length === 0) return;
    const p = phys.provs.of(this.tag(0, step));
    for (let i = 0; i < regs.length; i++) {
      const msr = regs[i]!.msr;
      if (phys.canonical(msr) < 0) continue;
      if (this.enabledSel[i] === 1) {
        // The selector as hardware holds it (< 2^35), with EN cleared.
        const v = phys.eventsel[msr - MSR_IA32_EVNTSEL0]!;
        phys.wrmsrHalves(msr, (v & ~EVENTSEL_EN) >>> 0, Math.floor(v / TWO32), p);
      } else if (msr === MSR_CORE_PERF_FIXED_CTR_CTRL && regs[i]!.value !== 0n) phys.wrmsrHalves(msr, 0, 0, p);
    }
  }

  /** Put step 5 (perf_put_guest_context): host events go back on the PMU, counters advanced by the
   *  host's run time since the activity started. */
  restore(phys: PhysicalPmu, step: string): void {
    this.intervals++;
    const regs = this.activity.registers;
    if (regs.length === 0) return;
    const p = phys.provs.of(this.tag(1, step));
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i]!;
      if (phys.canonical(r.msr) < 0) continue;
      // On Numbers while the value is exact there (every preset's is); the bigint sum otherwise.
      const n = this.base[i]! + r.perInterval * this.intervals;
      if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) hostWriteHalves(phys, r.msr, n >>> 0, Math.floor(n / TWO32), p);
      else hostWrite(phys, r.msr, r.value + BigInt(r.perInterval * this.intervals), p);
    }
  }
}

const TWO32 = 4294967296;
const EVENTSEL_EN = Number(ARCH_PERFMON_EVENTSEL_ENABLE);

/** Host kernel write: GLOBAL_CTRL goes through the VMX-independent path too. The host never faults on
 *  its own registers here (values are within width by construction); GLOBAL_STATUS is set via STATUS_SET.
 *  `p` is the value's ProvenanceTable id. */
function hostWrite(phys: PhysicalPmu, msr: number, value: bigint, p: number): void {
  if (msr === 0x38e) {
    phys.wrmsrAs(0x390, phys.globalStatus, p);
    if (value !== 0n) phys.wrmsrAs(0x391, value, p);
    return;
  }
  const fw = msr >= MSR_IA32_PERFCTR0 && msr < MSR_IA32_PERFCTR0 + 8 ? msr - MSR_IA32_PERFCTR0 + 0x4c1 : msr;
  if (!phys.wrmsrAs(fw, value, p)) phys.wrmsrAs(msr, value, p);
}

/** hostWrite of the value hi:lo (below 2^53), on Numbers. */
function hostWriteHalves(phys: PhysicalPmu, msr: number, lo: number, hi: number, p: number): void {
  if (msr === 0x38e) {
    phys.wrmsrHalves(0x390, phys.statusLo, phys.statusHi, p);
    if ((lo | hi) !== 0) phys.wrmsrHalves(0x391, lo, hi, p);
    return;
  }
  const fw = msr >= MSR_IA32_PERFCTR0 && msr < MSR_IA32_PERFCTR0 + 8 ? msr - MSR_IA32_PERFCTR0 + 0x4c1 : msr;
  if (!phys.wrmsrHalves(fw, lo, hi, p)) phys.wrmsrHalves(msr, lo, hi, p);
}
