/**
 * A vCPU of the small KVM: its architectural state (CPUID, MSRs KVM keeps, TSC offset, LAPIC, the vPMU),
 * the vCPU ioctls (KVM_SET_CPUID2, KVM_GET/SET_MSRS, KVM_RUN) and the exit log. The vendor part (VMX) is
 * fixed at construction (kvm_x86_ops.vcpu_create) and is what the guest CPU runs on (`platform`).
 * Facts: model.md §6.5, §7, §9, §11.5; x86.c (kvm_arch_vcpu_create, kvm_vcpu_ioctl_set_cpuid2, kvm_get_msr,
 * kvm_set_msr, kvm_do_msr_access). Emulation: src/kvm/x86.ts; MSRs: src/kvm/msr-common.ts; KVM_RUN: run.ts.
 */
import {
  CPUID_7_EDX_SPEC_CTRL,
  CPUID_1_ECX_PDCM,
  CPUID_1_ECX_X2APIC,
  CPUID_1_EDX_DS,
  CPUID_7_EBX_HLE,
  CPUID_7_EBX_RTM,
  CPUID_80000001_EDX_RDTSCP,
  CPUID_1_EDX_CLFLUSH,
} from "../arch/cpuid.js";
import type { StopReason } from "../isa/cpu.js";
import type { Platform, PlatformCpu } from "../isa/platform.js";
import {
  MSR_IA32_MISC_ENABLE_BTS_UNAVAIL,
  MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL,
  MSR_IA32_PERF_CAPABILITIES,
} from "../arch/msr-index.js";
import { refCycles } from "../host/event-counts.js";
import {
  KVM_MSR_RET_UNSUPPORTED,
  KvmPmu,
  MSR_HALVES_LIMIT,
  MSR_OK,
  type MsrData,
  type MsrHalves,
  type MsrHalvesRead,
} from "../pmu/pmu.js";
import { big } from "../host/halves.js";
import { EXIT_REASON } from "../arch/vmx-exit-reasons.js";
import { lookupCpuid, type CpuidEntry } from "./cpuid.js";
import type { Kvm, Vm } from "./kvm.js";
import { Lapic, type LapicHost } from "./lapic.js";
import { msrExitRecord, RecentExits } from "./exit-ring.js";
import { getMsrCommon, isAdvertisedMsr, setMsrCommon } from "./msr-common.js";
import { KvmRun } from "./run.js";
import type { X86Ops } from "./x86-ops.js";
import type { CpuidFeatures } from "../isa/state.js";
import type { MmioBus } from "../isa/platform.js";
import { CPUID_1_ECX_TSC_DEADLINE_TIMER } from "../arch/apicdef.js";
import type { LastBranchRecords } from "../isa/lbr.js";
import { applyDebugctl, lbrDeliverPmi } from "../pmu/lbr.js";

/** The guest CPU the vCPU drives: the Platform-side view plus the run/interrupt controls. */
export interface GuestCpu extends PlatformCpu {
  /** Run at most `budget` natively retired instructions; returns why it stopped (isa/cpu.ts StopReason). */
  run(budget: number): StopReason;
  /** Assert the external interrupt line with a fixed vector (held while IF = 0). */
  raiseInterrupt(vector: number): void;
  /** IBPB: forget the branch predictor's history (src/isa/uarch.ts). */
  resetBranchPredictor?(): void;
  /** Largest cycle cost of one instruction in the CPU's cost model (bounds cycle-event budgets). */
  readonly maxCyclesPerInstruction?: number;
  /** An interrupt was raised and not yet delivered (held while IF = 0 or in the STI shadow). */
  readonly interruptPending?: boolean;
  /** The CPU's compiled-block fast path (src/isa/jit.ts); off ⇒ the interpreter checks every boundary. */
  jitEnabled?: boolean;
  /** vmx_set_efer: EFER as VM entry loads it from the VMCS guest field (src/isa/control.ts loadEfer). */
  loadEfer(v: number): void;
  /** The CPUID-gated instructions (LAHF/SAHF, RTM): set from the vCPU's CPUID table. */
  readonly cpuidFeatures?: CpuidFeatures;
  /** Physical addresses outside RAM that the VM backs with a device (the xAPIC page): src/isa/memory.ts. */
  mmio?: MmioBus | null;
  /** The processor's LBR stack (src/isa/lbr.ts), where the guest's records live while it runs. */
  readonly lbr?: LastBranchRecords;
}

/** Userspace's port I/O (the VMM): KVM_EXIT_IO completed inline. `portOut` returns true to end KVM_RUN. */
export interface IoHandler {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): boolean;
}

/** One VM exit, as the exit log keeps it. */
export interface ExitRecord {
  readonly reason: number;
  readonly name: string;
  readonly rip: number;
  readonly length: number;
  readonly msr?: number;
  readonly write?: boolean;
  /** RDMSR result / WRMSR data / RDPMC result (EDX:EAX). */
  readonly value?: bigint;
  readonly ecx?: number;
  readonly port?: number;
  /** Guest-physical address of an MMIO access (APIC_ACCESS); `size` and `write` describe it. */
  readonly gpa?: number;
  readonly size?: number;
  readonly in?: boolean;
  readonly fn?: number;
  /** "ok" = emulated and skipped (RIP += length); "#GP" = injected; "userspace" = completed by the VMM;
   *  for an exception exit, "#UD"/"#GP" = reflected to the guest, "emulated" = KVM's emulator ran it. */
  readonly outcome: "ok" | "#GP" | "#UD" | "emulated" | "userspace" | "halt";
  readonly why?: string;
}

/** Why KVM_RUN returned to userspace. */
export type RunExit =
  | { readonly reason: "io"; readonly port: number; readonly value: number }
  | { readonly reason: "hlt" }
  | { readonly reason: "shutdown"; readonly detail: string }
  | { readonly reason: "limit" }
  | { readonly reason: "error"; readonly detail: string };

export interface MsrOptions {
  readonly hostInitiated?: boolean;
}
export type MsrGet = { readonly ok: true; readonly value: bigint } | { readonly ok: false };

/** guest_cpuid_model / x86_model: CPUID.1:EAX model with the extended model for families 6 and 15. */
function cpuidModel(eax: number): number {
  const family = (eax >>> 8) & 0xf;
  const model = (eax >>> 4) & 0xf;
  return family >= 6 ? model | (((eax >>> 16) & 0xf) << 4) : model;
}

export { RECENT_EXITS } from "./exit-ring.js";

export class Vcpu implements LapicHost {
  readonly kvm: Kvm;
  readonly pmu: KvmPmu;
  readonly lapic: Lapic;
  /** The vendor's part of this vCPU (kvm_x86_ops bound to it), fixed at construction. */
  readonly ops: X86Ops;
  cpuidTable: CpuidEntry[];
  perfCapabilities: bigint;
  /** kvm_vcpu_reset: BTS_UNAVAIL | PEBS_UNAVAIL (0x1800) and nothing else; only userspace changes it later. */
  miscEnable = MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
  debugctl = 0n;
  tscOffset = 0n;
  tscAux = 0n;
  hasRun = false;
  /** The whole exit log, kept only while `logExits` is on (tests, the demo; `vpmu run` streams it instead). */
  readonly exits: ExitRecord[] = [];
  /** Keep every exit in `exits` (off for `vpmu run`, the sweep and long benchmarks: it grows without bound). */
  logExits = true;
  /** VM exits by basic exit reason (index), always counted. */
  readonly exitCounts: number[] = new Array(80).fill(0); // basic exit reasons are below 80 (SDM Appendix C)
  /** Called with each exit as it happens (`vpmu run --exits/--json` write it out instead of keeping it). */
  exitSink: ((r: ExitRecord) => void) | null = null;
  private readonly recent = new RecentExits();
  cpu: GuestCpu | null = null;
  io: IoHandler | null = null;
  /** The value of the MSR read in progress (readMsr's out-parameter), allocated once. */
  readonly msrOut: MsrData = { data: 0n };
  /** readMsrHalves' out-parameter, allocated once. */
  readonly msrHalves: MsrHalves = { lo: 0, hi: 0 };
  /** The vendor PMU's per-MSR Number readers (kvm_pmu_ops, fixed at construction). */
  private readonly halvesReaders: readonly (MsrHalvesRead | undefined)[];
  private readonly kvmRun: KvmRun;

  constructor(
    readonly vm: Vm,
    readonly id: number,
  ) {
    const kvm = vm.kvm;
    this.kvm = kvm;
    this.halvesReaders = kvm.vendor.pmuOps.getMsrHalves;
    const host = kvm.host;
    this.pmu = new KvmPmu(
      { tscKhz: host.tscKhz, coreKhz: host.coreKhz, slotsPerCycle: host.slotsPerCycle },
      kvm.vendor.pmuOps,
    );
    this.cpuidTable = kvm.getSupportedCpuid();
    this.lapic = new Lapic(id, this);
    // kvm_arch_vcpu_create: PERF_CAPABILITIES starts as the supported value (quirk STUFF_FEATURE_MSRS).
    this.perfCapabilities = kvm.supportedPerfCapabilities();
    this.kvmRun = new KvmRun(this);
    this.ops = kvm.vendor.vcpuCreate(this);
    this.refreshPmu();
  }

  /** What the guest CPU runs on: the vendor's non-root operation (native, or a VM exit to its handlers). */
  get platform(): Platform {
    return this.ops;
  }

  // ---------------------------------------------------------------- configuration (ioctls)

  /** KVM_SET_CPUID2: refused after the first run unless identical; refreshes the PMU (kvm_vcpu_after_set_cpuid). */
  setCpuid(entries: readonly CpuidEntry[]): { ok: true } | { ok: false; error: string } {
    if (this.hasRun && JSON.stringify(entries) !== JSON.stringify(this.cpuidTable))
      return { ok: false, error: "EINVAL: CPUID cannot change after the vCPU has run" };
    this.cpuidTable = entries.map((e) => ({ ...e }));
    this.applyCpuidFeatures();
    this.refreshPmu();
    return { ok: true };
  }

  /** Convenience: replace one leaf (function, index) of the current table. */
  withCpuidLeaf(entry: CpuidEntry): CpuidEntry[] {
    return [...this.cpuidTable.filter((e) => !(e.function === entry.function && e.index === entry.index)), entry];
  }

  /** kvm_find_cpuid_entry for the guest's table (zeros for a leaf it lacks). */
  leaf(fn: number, index = 0): { eax: number; ebx: number; ecx: number; edx: number } {
    return lookupCpuid(this.cpuidTable, fn, index);
  }

  guestHasPdcm(): boolean {
    return (this.leaf(1).ecx & CPUID_1_ECX_PDCM) !== 0;
  }
  /** guest_has_pred_cmd_msr: CPUID.7.0:EDX[26] (SPEC_CTRL: IBRS+IBPB). */
  guestHasPredCmd(): boolean {
    return (this.leaf(7).edx & CPUID_7_EDX_SPEC_CTRL) !== 0;
  }

  /** cpuid_model_is_consistent: the guest CPUID model is the host's. */
  cpuidModelConsistent(): boolean {
    return cpuidModel(this.leaf(1).eax) === this.kvm.host.model;
  }

  /** vcpu_get_perf_capabilities: 0 without PDCM. */
  effectivePerfCapabilities(): bigint {
    return this.guestHasPdcm() ? this.perfCapabilities : 0n;
  }

  /** kvm_pmu_refresh with this vCPU's CPUID and caps, then the vendor recalculates its intercepts
   *  (vmx_vcpu_after_set_cpuid). MISC_ENABLE is not touched: refresh has left it to userspace since "KVM: x86:
   *  Give host userspace full control of MSR_IA32_MISC_ENABLES". */
  refreshPmu(): void {
    const kvm = this.kvm;
    const p = kvm.params;
    const l7 = this.leaf(7);
    const guestTsx = (l7.ebx & (CPUID_7_EBX_HLE | CPUID_7_EBX_RTM)) !== 0;
    // intel_pmu_refresh: boot_cpu_has(HLE) || boot_cpu_has(RTM) — false on a host kernel that turned TSX off.
    const hostTsx = kvm.hostHas("hle") || kvm.hostHas("rtm");
    const caps = this.effectivePerfCapabilities();
    // kvm->arch.enable_pmu: KVM_CAP_PMU_CAPABILITY may have disabled this VM's vPMU (mediated included).
    const vmPmu = this.vm.enablePmu;
    this.pmu.refresh({
      enablePmu: p.enablePmu && vmPmu,
      codeState: p.codeState,
      mediatedModule: p.enableMediatedPmu && vmPmu,
      cpuid0a: this.leaf(0xa),
      perfCapabilities: caps,
      ds: (this.leaf(1).edx & CPUID_1_EDX_DS) !== 0,
      tsx: guestTsx && hostTsx,
      cap: kvm.pmuCap(),
      lbr: kvm.host.lbr,
      cpuidModelConsistent: this.cpuidModelConsistent(),
    });
    this.setDebugctl(this.debugctl);
    this.pmu.filter = this.vm.pmuEventFilter;
    this.pmu.recalc();
    this.ops.recalcIntercepts();
  }

  /** GUEST_IA32_DEBUGCTL := value; the processor records branches while its LBR bit is in effect. */
  setDebugctl(value: bigint): void {
    this.debugctl = value;
    applyDebugctl(this.pmu, this.pmu.lbrStack, value);
  }

  /** kvm_pmu_deliver_pmi's vendor step before the LVTPC delivery (intel_pmu_deliver_pmi: LBR freeze). */
  vendorDeliverPmi(): void {
    this.setDebugctl(lbrDeliverPmi(this.pmu, this.debugctl));
  }

  /** The VM's filter changed (R-FLT-6): fold, then re-derive before the next entry. */
  filterChanged(): void {
    this.syncPmu();
    this.pmu.filter = this.vm.pmuEventFilter;
    this.pmu.recalc();
  }

  /** Attach the guest CPU and userspace I/O (the VMM). */
  attach(cpu: GuestCpu, io: IoHandler): void {
    this.cpu = cpu;
    this.io = io;
    this.lapic.line = cpu;
    if (cpu.mmio !== undefined) cpu.mmio = this.ops.mmio;
    this.pmu.events = cpu.events;
    this.pmu.cpl = cpu.cpl;
    if (cpu.lbr !== undefined) {
      cpu.lbr.configure(this.pmu.lbrRecords.nr);
      this.pmu.lbrStack = cpu.lbr;
    }
    this.setDebugctl(this.debugctl);
    if (cpu.maxCyclesPerInstruction !== undefined) this.pmu.maxCyclesPerInsn = cpu.maxCyclesPerInstruction;
    this.applyCpuidFeatures();
    this.pmu.recalc();
  }

  /** The guest CPU executes what its CPUID advertises: LAHF/SAHF (0x80000001 ECX bit 0), RDTSCP
   *  (0x80000001 EDX bit 27; KVM clears "enable RDTSCP" without it), CLFLUSH (leaf 1 EDX bit 19), RTM and
   *  HLE (leaf 7 EBX bits 11 and 4) — SDM LAHF, RDTSCP, CLFLUSH, XBEGIN, XTEST "#UD if CPUID…". */
  private applyCpuidFeatures(): void {
    const f = this.cpu?.cpuidFeatures;
    if (f === undefined) return;
    const l7 = lookupCpuid(this.cpuidTable, 7, 0);
    f.rtm = (l7.ebx & CPUID_7_EBX_RTM) !== 0;
    f.hle = (l7.ebx & CPUID_7_EBX_HLE) !== 0;
    const ext = lookupCpuid(this.cpuidTable, 0x80000001, 0);
    f.lahfSahf = (ext.ecx & 1) !== 0;
    f.rdtscp = (ext.edx & CPUID_80000001_EDX_RDTSCP) !== 0;
    f.clflush = (lookupCpuid(this.cpuidTable, 1, 0).edx & CPUID_1_EDX_CLFLUSH) !== 0;
  }

  /** Fold the perf-backed counters up to the guest CPU's current totals (at every exit and ioctl). */
  syncPmu(): void {
    const c = this.cpu;
    if (c !== null) this.pmu.sync(c.events, c.cpl);
  }

  // ---------------------------------------------------------------- MSRs (kvm_get_msr / kvm_set_msr)

  /** KVM_GET_MSRS (hostInitiated, default) or a guest RDMSR that exited. */
  getMsr(index: number, opts: MsrOptions = {}): MsrGet {
    this.syncPmu();
    const out = this.msrOut;
    return this.readMsr(index >>> 0, opts.hostInitiated ?? true, out) ? { ok: true, value: out.data } : { ok: false };
  }

  /** kvm_get_msr_with_filter → kvm_do_msr_access: whether the read succeeded; the value goes to out.data. */
  readMsr(index: number, host: boolean, out: MsrData): boolean {
    out.data = 0n;
    const ret = getMsrCommon(this, index, host, out);
    if (ret === MSR_OK) return true;
    // kvm_do_msr_access: an unsupported MSR reads 0 for the host if KVM advertises it.
    if (ret === KVM_MSR_RET_UNSUPPORTED && host && this.isAdvertisedMsr(index)) {
      out.data = 0n;
      return true;
    }
    return false;
  }

  /**
   * readMsr for a guest RDMSR (hostInitiated false) as Numbers, where the PMU has a reader for the index
   * (PmuOps.getMsrHalves, pre-resolved per MSR): true with EDX:EAX in `out`; false = take readMsr, which
   * decides (the read may still succeed). The readers cover PMU MSRs only — none of those getMsrCommon
   * handles itself, but for the P6 counters and selectors, whose valid case is the PMU's read — and answer
   * exactly as readMsr would (test/kvm/msr-halves.test.ts compares every index below MSR_HALVES_LIMIT).
   */
  readMsrHalves(index: number, out: MsrHalves): boolean {
    if (index >= MSR_HALVES_LIMIT) return false;
    const r = this.halvesReaders[index];
    return r?.(this.pmu, out) === true;
  }

  /** KVM_SET_MSRS (hostInitiated, default) or a guest WRMSR that exited. Returns whether it succeeded. */
  setMsr(index: number, value: bigint, opts: MsrOptions = {}): boolean {
    const host = opts.hostInitiated ?? true;
    index = index >>> 0;
    value = BigInt.asUintN(64, value);
    this.syncPmu();
    // do_set_msr: after the first run a feature MSR may only be written with its current value (R-CFG-6).
    if (host && this.hasRun && index === MSR_IA32_PERF_CAPABILITIES) {
      const cur = this.getMsr(index, { hostInitiated: true });
      if (!cur.ok || cur.value !== value) return false;
    }
    const ret = setMsrCommon(this, index, value, host);
    if (ret === MSR_OK) return true;
    return ret === KVM_MSR_RET_UNSUPPORTED && host && value === 0n && this.isAdvertisedMsr(index);
  }

  /** kvm_is_advertised_msr: KVM's save/emulated list after probing (model.md §7.6). */
  isAdvertisedMsr(index: number): boolean {
    return isAdvertisedMsr(this.kvm, index);
  }

  // ---------------------------------------------------------------- TSC

  /** Host TSC in the model: the guest has run (cycles + halted cycles) at the core clock. */
  rawTsc(): bigint {
    const c = this.cpu;
    if (c === null) return 0n;
    const ev = c.events;
    return BigInt(refCycles(ev.cycles + ev.haltedCycles, this.pmu.clock));
  }

  /** Host TSC as a number (exact below 2^53): the LAPIC timer's clock. */
  rawTscNow(): number {
    const c = this.cpu;
    if (c === null) return 0;
    return refCycles(c.events.cycles + c.events.haltedCycles, this.pmu.clock);
  }

  get tscKhz(): number {
    return this.pmu.clock.tscKhz;
  }

  guestHasX2apic(): boolean {
    return (this.leaf(1).ecx & CPUID_1_ECX_X2APIC) !== 0;
  }
  guestHasTscDeadline(): boolean {
    return (this.leaf(1).ecx & CPUID_1_ECX_TSC_DEADLINE_TIMER) !== 0;
  }

  /** HLT with the APIC timer armed: the vCPU blocks until the timer fires — the halted cycles that pass until
   *  the TSC reaches `raw` (the expiry) are added, so the TSC reads as the time spent halted. */
  haltUntil(raw: number): void {
    const c = this.cpu;
    if (c === null) return;
    const ev = c.events;
    const clk = this.pmu.clock;
    let h = Math.max(0, Math.ceil(((raw - this.rawTscNow()) * clk.coreKhz) / clk.tscKhz));
    while (refCycles(ev.cycles + ev.haltedCycles + h, clk) < raw) h++;
    ev.haltedCycles += h;
  }

  readTsc(): bigint {
    return BigInt.asUintN(64, this.rawTsc() + this.tscOffset);
  }

  /** kvm_pmu_rdpmc_vmware: host TSC, boot-time ns, ns + kvmclock offset (0) — host-side clocks of the model. */
  vmwarePmc(ecx: number): bigint {
    const tsc = this.rawTsc();
    if (ecx === 0x10000) return tsc;
    return (tsc * 1_000_000n) / BigInt(this.pmu.clock.tscKhz);
  }

  // ---------------------------------------------------------------- exits and KVM_RUN

  /** An exit happened (trace_kvm_exit and friends): count it, remember it among the recent ones, hand it to
   *  the sink, and append it to the log if the log is on. */
  logExit(r: ExitRecord): void {
    const c = this.exitCounts;
    while (r.reason >= c.length) c.push(0);
    c[r.reason]++;
    this.recent.push(r);
    if (this.exitSink !== null) this.exitSink(r);
    if (this.logExits) this.exits.push(r);
  }

  /** logExit for an MSR access exit (kvm_emulate_rdmsr/wrmsr; a failed read has no value): the record is
   *  built only if the sink or the log takes it, else its fields wait in the recent-exits ring. */
  logMsrExit(
    reason: number,
    name: string,
    rip: number,
    length: number,
    msr: number,
    write: boolean,
    value: bigint,
    ok: boolean,
  ): void {
    if (this.exitSink !== null || this.logExits) {
      this.logExit(msrExitRecord(reason, name, rip, length, msr, write, value, ok));
      return;
    }
    this.exitCounts[reason]++; // MSR_READ/MSR_WRITE are below the table's initial 80 entries
    this.recent.pushMsr(reason, name, rip, length, msr, write, value, ok);
  }

  /** logMsrExit for a successful guest RDMSR (MSR_READ, named `name`) whose value readMsrHalves gave as
   *  EDX:EAX = hi:lo. */
  logMsrReadHalves(name: string, rip: number, length: number, msr: number, lo: number, hi: number): void {
    if (this.exitSink !== null || this.logExits) {
      this.logMsrReadRecord(name, rip, length, msr, lo, hi);
      return;
    }
    this.exitCounts[EXIT_REASON.MSR_READ]++; // below the table's initial 80 entries
    this.recent.pushMsrReadHalves(rip, length, msr, lo, hi);
  }

  /** logMsrReadHalves' record, for the exit log or a sink (kept out of the exit fast path). */
  private logMsrReadRecord(name: string, rip: number, length: number, msr: number, lo: number, hi: number): void {
    this.logExit(msrExitRecord(EXIT_REASON.MSR_READ, name, rip, length, msr, false, big(lo, hi), true));
  }

  /** All exits counted so far. */
  get exitTotal(): number {
    let n = 0;
    for (const c of this.exitCounts) n += c;
    return n;
  }

  /** The last (up to RECENT_EXITS) exits, oldest first: what an error report shows. */
  recentExits(): ExitRecord[] {
    return this.recent.list();
  }

  /** An exit handler needs userspace: KVM_RUN returns `exit` once the CPU stops (KVM_EXIT_IO). */
  requestUserspaceExit(exit: RunExit): void {
    this.kvmRun.pendingExit = exit;
  }

  /** The VMM's GuestConfig.run: at most `budget` natively retired instructions (src/kvm/run.ts). */
  runBudget(budget: number): StopReason {
    return this.kvmRun.runBudget(budget);
  }

  /** KVM_RUN (src/kvm/run.ts). */
  run(opts: { maxInstructions?: number } = {}): RunExit {
    return this.kvmRun.run(opts);
  }
}
