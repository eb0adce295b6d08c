/**
 * A vCPU of the small KVM: CPUID, host-initiated MSR access (KVM_GET/SET_MSRS), the exits a guest causes
 * and their emulation, PMI delivery, and run() (KVM_RUN). It implements the guest CPU's Platform.
 * Facts: spec §6.5, §7, §8.1 (R-CNT-4), §9, §11.5; x86.c/msrs.c (kvm_get_msr_common, kvm_set_msr_common,
 * kvm_do_msr_access, kvm_skip_emulated_instruction), vmx.c (vmx_set_msr, kvm_vmx_exit_handlers).
 */
import {
  PERF_CAP_LBR_FMT,
  PERF_CAP_PEBS_FORMAT,
  PERF_CAP_PEBS_MASK,
  MSR_CORE_PERF_FIXED_CTR0,
  MSR_CORE_PERF_FIXED_CTR_CTRL,
  MSR_CORE_PERF_GLOBAL_CTRL,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL,
  MSR_CORE_PERF_GLOBAL_STATUS,
  MSR_IA32_APICBASE,
  MSR_IA32_DEBUGCTLMSR,
  MSR_IA32_DS_AREA,
  MSR_IA32_EVNTSEL0,
  MSR_IA32_MISC_ENABLE,
  MSR_IA32_PEBS_ENABLE,
  MSR_IA32_PERF_CAPABILITIES,
  MSR_IA32_PERFCTR0,
  MSR_IA32_PRED_CMD,
  MSR_IA32_TSC,
  MSR_TSC_AUX,
  MSR_PEBS_DATA_CFG,
  MSR_PERF_METRICS,
  MSR_IA32_MISC_ENABLE_BTS_UNAVAIL,
  MSR_IA32_MISC_ENABLE_EMON,
  MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL,
  PRED_CMD_IBPB,
} from "../arch/msr-index.js";
import { refCycles } from "../host/event-counts.js";
import { StopReason } from "../isa/cpu.js";
import { PlatformAction, type Platform, type PlatformCpu } from "../isa/platform.js";
import {
  intelIsValidMsr,
  intelPmuGetMsr,
  intelPmuRefresh,
  intelPmuSetMsr,
  kvmPmuRdpmc,
  KVM_MSR_RET_UNSUPPORTED,
  MSR_FAIL,
  MSR_OK,
  type MsrData,
  type MsrRet,
} from "../pmu/intel.js";
import { KVM_MAX_NR_GP_COUNTERS } from "../pmu/msrs.js";
import { KvmPmu } from "../pmu/pmu.js";
import { EXIT_REASON, exitReasonName } from "../arch/vmx-exit-reasons.js";
import {
  CPUID_7_EDX_SPEC_CTRL,
  CPUID_1_ECX_DTES64,
  CPUID_1_ECX_PDCM,
  CPUID_1_EDX_DS,
  CPUID_7_EBX_HLE,
  CPUID_7_EBX_RTM,
  lookupCpuid,
  type CpuidEntry,
} from "./cpuid.js";
import type { Kvm, Vm } from "./kvm.js";
import { Lapic } from "./lapic.js";

/** EDX:EAX := v with the upper halves cleared; no BigInt arithmetic (allocation) for values below 2^53. */
function setEdxEax(cpu: PlatformCpu, v: bigint): void {
  if (v <= 0x1fffffffffffffn) {
    const n = Number(v);
    cpu.set64(0, n >>> 0, 0);
    cpu.set64(2, Math.floor(n / 0x100000000), 0);
  } else {
    cpu.set64(0, Number(v & 0xffffffffn), 0);
    cpu.set64(2, Number(v >> 32n), 0);
  }
}

/** Most instructions one cpu.run call may retire: a budget stop only folds counts and re-enters (nothing the
 *  guest can see), and V8 optimises the CPU's run loop far better across calls than inside one long call. */
const RUN_SLICE = 1 << 20;
/** KVM_ENOSYS, returned in RAX for an unknown hypercall (uapi kvm_para.h). */
const KVM_ENOSYS = 1000;

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
}

/** Userspace's port I/O (the VMM): KVM_EXIT_IO completed inline. `portOut` returns true to end KVM_RUN. */
export interface IoHandler {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): boolean;
}

/**
 * The one place that decides whether an access exits (LEGACY: every PMU MSR and RDPMC do). The VMX layer
 * replaces it with the MSR bitmap / RDPMC-exiting control and supplies `native` for the pass-through path.
 */
export interface VcpuIntercepts {
  msrExits(index: number, write: boolean): boolean;
  rdpmcExiting(): boolean;
  /** Hardware behaviour for accesses that do not exit (mediated pass-through). Required when anything passes. */
  readonly native?: NativeAccess;
  /** Around the inner run loop (mediated load/put, spec §12). */
  beforeEntry?(vcpu: Vcpu): void;
  afterExit?(vcpu: Vcpu): void;
  /** VMX layer hooks (src/vmx/vmx-layer.ts): a VM exit with this basic reason (MSR index for RDMSR/WRMSR)
   *  is about to be handled (mediated put, spec §12.2); the CPU stopped without an exit (returns true if
   *  the layer took one, e.g. a mediated PMI, R-PMI-4); intercepts recomputed after a PMU refresh
   *  (spec §11.8); instructions the guest may run before the layer needs control. */
  vmExit?(vcpu: Vcpu, reason: number, msr: number): void;
  afterRun?(vcpu: Vcpu): boolean;
  recalc?(vcpu: Vcpu): void;
  budget?(vcpu: Vcpu): number;
}

/** What the silicon does with a non-exiting access. `null` = #GP from the hardware. */
export interface NativeAccess {
  rdmsr(vcpu: Vcpu, index: number): bigint | null;
  wrmsr(vcpu: Vcpu, index: number, value: bigint): boolean;
  rdpmc(vcpu: Vcpu, ecx: number): bigint | null;
}

/** LEGACY intercepts (spec §11.6 first column, R-INT-1): every MSR exits except PRED_CMD writes, which KVM
 *  passes through once the guest has IBPB (vmx.c vmx_vcpu_after_set_cpuid); RDPMC always exits. */
export function legacyIntercepts(vcpu: Vcpu): VcpuIntercepts {
  return {
    msrExits: (index, write) => !(write && index === MSR_IA32_PRED_CMD && vcpu.guestHasPredCmd()),
    rdpmcExiting: () => true,
  };
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
  readonly size?: number;
  readonly in?: boolean;
  readonly fn?: number;
  /** "ok" = emulated and skipped (RIP += length); "#GP" = injected; "userspace" = completed by the VMM. */
  readonly outcome: "ok" | "#GP" | "userspace" | "halt";
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

export class Vcpu implements Platform {
  readonly pmu: KvmPmu;
  readonly lapic: Lapic;
  cpuidTable: CpuidEntry[];
  perfCapabilities: bigint;
  miscEnable = MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
  debugctl = 0n;
  tscOffset = 0n;
  tscAux = 0n;
  hasRun = false;
  readonly exits: ExitRecord[] = [];
  /** Keep the exit log (off for long benchmarks). */
  logExits = true;
  intercepts: VcpuIntercepts;
  cpu: GuestCpu | null = null;
  io: IoHandler | null = null;
  private pendingExit: RunExit | null = null;
  /** The value of the MSR read in progress (readMsr's out-parameter), allocated once. */
  private readonly msrOut: MsrData = { data: 0n };
  private readonly kvm: Kvm;

  constructor(
    readonly vm: Vm,
    readonly id: number,
  ) {
    this.kvm = vm.kvm;
    const host = this.kvm.host;
    this.pmu = new KvmPmu({ tscKhz: host.tscKhz, coreKhz: host.coreKhz, slotsPerCycle: host.slotsPerCycle });
    this.lapic = new Lapic(id);
    this.cpuidTable = this.kvm.getSupportedCpuid();
    // kvm_arch_vcpu_create: PERF_CAPABILITIES starts as the supported value (quirk STUFF_FEATURE_MSRS).
    this.perfCapabilities = this.kvm.supportedPerfCapabilities();
    this.intercepts = legacyIntercepts(this);
    this.refreshPmu();
  }

  // ---------------------------------------------------------------- configuration (ioctls)

  /** KVM_SET_CPUID2: refused after the first run unless identical; refreshes the PMU (kvm_vcpu_after_set_cpuid). */
  setCpuid(entries: readonly CpuidEntry[]): { ok: true } | { ok: false; error: string } {
    if (this.hasRun && JSON.stringify(entries) !== JSON.stringify(this.cpuidTable))
      return { ok: false, error: "EINVAL: CPUID cannot change after the vCPU has run" };
    this.cpuidTable = entries.map((e) => ({ ...e }));
    this.refreshPmu();
    return { ok: true };
  }

  /** Convenience: replace one leaf (function, index) of the current table. */
  withCpuidLeaf(entry: CpuidEntry): CpuidEntry[] {
    return [...this.cpuidTable.filter((e) => !(e.function === entry.function && e.index === entry.index)), entry];
  }

  private leaf(fn: number, index = 0): { eax: number; ebx: number; ecx: number; edx: number } {
    return lookupCpuid(this.cpuidTable, fn, index);
  }

  guestHasPdcm(): boolean {
    return (this.leaf(1).ecx & CPUID_1_ECX_PDCM) !== 0;
  }
  guestHasPredCmd(): boolean {
    return (this.leaf(7).edx & CPUID_7_EDX_SPEC_CTRL) !== 0;
  }

  /** vcpu_get_perf_capabilities: 0 without PDCM. */
  effectivePerfCapabilities(): bigint {
    return this.guestHasPdcm() ? this.perfCapabilities : 0n;
  }

  /** kvm_pmu_refresh with this vCPU's CPUID and caps; also the MISC_ENABLE bits intel_pmu_refresh sets. */
  refreshPmu(): void {
    const p = this.kvm.params;
    const l7 = this.leaf(7);
    const guestTsx = (l7.ebx & (CPUID_7_EBX_HLE | CPUID_7_EBX_RTM)) !== 0;
    const hostTsx = this.kvm.host.hle || this.kvm.host.rtm;
    const caps = this.effectivePerfCapabilities();
    intelPmuRefresh(this.pmu, {
      enablePmu: p.enablePmu,
      codeState: p.codeState,
      mediatedModule: p.enableMediatedPmu,
      cpuid0a: this.leaf(0xa),
      perfCapabilities: caps,
      ds: (this.leaf(1).edx & CPUID_1_EDX_DS) !== 0,
      tsx: guestTsx && hostTsx,
      cap: this.kvm.pmuCap(),
    });
    if (this.pmu.version !== 0) {
      this.miscEnable |= MSR_IA32_MISC_ENABLE_EMON;
      if ((caps & PERF_CAP_PEBS_FORMAT) !== 0n) this.miscEnable &= ~MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
      else this.miscEnable |= MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
    }
    this.pmu.filter = this.vm.pmuEventFilter;
    this.pmu.recalc();
    this.intercepts?.recalc?.(this);
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
    this.pmu.events = cpu.events;
    this.pmu.cpl = cpu.cpl;
    if (cpu.maxCyclesPerInstruction !== undefined) this.pmu.maxCyclesPerInsn = cpu.maxCyclesPerInstruction;
    this.pmu.recalc();
  }

  private syncPmu(): void {
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
  private readMsr(index: number, host: boolean, out: MsrData): boolean {
    out.data = 0n;
    const ret = this.getMsrCommon(index, host, out);
    if (ret === MSR_OK) return true;
    // kvm_do_msr_access: an unsupported MSR reads 0 for the host if KVM advertises it.
    if (ret === KVM_MSR_RET_UNSUPPORTED && host && this.isAdvertisedMsr(index)) {
      out.data = 0n;
      return true;
    }
    return false;
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
    const ret = this.setMsrCommon(index, value, host);
    if (ret === MSR_OK) return true;
    return ret === KVM_MSR_RET_UNSUPPORTED && host && value === 0n && this.isAdvertisedMsr(index);
  }

  private isPmuValid(index: number): boolean {
    return intelIsValidMsr(this.pmu, index);
  }

  /** kvm_get_msr_common + vmx_get_msr for the MSRs the model has; the value goes to out.data. */
  private getMsrCommon(index: number, host: boolean, out: MsrData): MsrRet {
    switch (index) {
      case MSR_IA32_PERF_CAPABILITIES:
        if (!this.guestHasPdcm()) return KVM_MSR_RET_UNSUPPORTED; // R-CFG-1/7, R-RD-7
        out.data = this.perfCapabilities;
        return MSR_OK;
      case MSR_IA32_MISC_ENABLE:
        out.data = this.miscEnable;
        return MSR_OK;
      case MSR_IA32_DEBUGCTLMSR:
        out.data = this.debugctl;
        return MSR_OK;
      case MSR_IA32_TSC:
        out.data = this.readTsc();
        return MSR_OK;
      case MSR_TSC_AUX:
        out.data = this.tscAux;
        return MSR_OK;
      case MSR_IA32_PRED_CMD:
        return KVM_MSR_RET_UNSUPPORTED; // write-only
      case MSR_IA32_PERFCTR0:
      case MSR_IA32_PERFCTR0 + 1:
      case MSR_IA32_EVNTSEL0:
      case MSR_IA32_EVNTSEL0 + 1:
        // R-VAL-8 P6 exemption: reads of a non-existent counter/selector return 0.
        if (this.isPmuValid(index)) return intelPmuGetMsr(this.pmu, index, host, out);
        out.data = 0n;
        return MSR_OK;
    }
    if (index === MSR_IA32_APICBASE || (index >= 0x800 && index <= 0x8ff)) {
      const r = this.lapic.readMsr(index);
      if (!r.ok) return MSR_FAIL;
      out.data = r.value;
      return MSR_OK;
    }
    if (this.isPmuValid(index)) return intelPmuGetMsr(this.pmu, index, host, out);
    return KVM_MSR_RET_UNSUPPORTED; // R-VAL-9, ignore_msrs off
  }

  private setMsrCommon(index: number, data: bigint, host: boolean): MsrRet {
    switch (index) {
      case MSR_IA32_PERF_CAPABILITIES:
        return this.setPerfCapabilities(data, host);
      case MSR_IA32_MISC_ENABLE: {
        const old = this.miscEnable;
        if (!host) {
          // R-WR-14: BTS/PEBS-unavailable are read-only; EMON keeps its value silently.
          if (((old ^ data) & (MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)) !== 0n)
            return MSR_FAIL;
          data = (data & ~MSR_IA32_MISC_ENABLE_EMON) | (old & MSR_IA32_MISC_ENABLE_EMON);
        }
        this.miscEnable = data;
        return MSR_OK;
      }
      case MSR_IA32_DEBUGCTLMSR:
        // R-WR-13 (vmx_get_supported_debugctl without guest LBR): BTF (1) and LBR (0) dropped, others #GP.
        if ((data & ~0x3n) !== 0n) return MSR_FAIL;
        this.debugctl = 0n;
        return MSR_OK;
      case MSR_IA32_TSC:
        this.tscOffset = BigInt.asUintN(64, data - this.rawTsc());
        return MSR_OK;
      case MSR_TSC_AUX:
        if (data >> 32n !== 0n) return MSR_FAIL;
        this.tscAux = data;
        return MSR_OK;
      case MSR_IA32_PRED_CMD:
        if (!host && !this.guestHasPredCmd()) return MSR_FAIL;
        if ((data & ~PRED_CMD_IBPB) !== 0n) return MSR_FAIL;
        if (data !== 0n) this.cpu?.resetBranchPredictor?.();
        return MSR_OK;
      case MSR_IA32_PERFCTR0:
      case MSR_IA32_PERFCTR0 + 1:
      case MSR_IA32_EVNTSEL0:
      case MSR_IA32_EVNTSEL0 + 1:
        // R-VAL-8 P6 exemption: writes to a non-existent counter/selector are discarded.
        return this.isPmuValid(index) ? intelPmuSetMsr(this.pmu, index, data, host) : MSR_OK;
    }
    if (index === MSR_IA32_APICBASE || (index >= 0x800 && index <= 0x8ff)) {
      const c = this.cpu;
      const line = { raiseInterrupt: (v: number) => c?.raiseInterrupt(v) };
      return this.lapic.writeMsr(index, data, line, host) ? MSR_OK : MSR_FAIL;
    }
    if (this.isPmuValid(index)) return intelPmuSetMsr(this.pmu, index, data, host);
    return KVM_MSR_RET_UNSUPPORTED;
  }

  /** kvm_set_msr_common + vmx_set_msr for PERF_CAPABILITIES (§6.5 R-CFG-1..6). */
  private setPerfCapabilities(data: bigint, host: boolean): MsrRet {
    if (!host) return MSR_FAIL; // R-WR-12
    if (!this.guestHasPdcm()) return data === 0n ? MSR_OK : MSR_FAIL; // R-CFG-1
    const supported = this.kvm.supportedPerfCapabilities();
    if ((data & PERF_CAP_LBR_FMT) !== 0n && (data & PERF_CAP_LBR_FMT) !== (supported & PERF_CAP_LBR_FMT))
      return MSR_FAIL;
    if ((data & PERF_CAP_PEBS_FORMAT) !== 0n) {
      // R-CFG-3: the whole PEBS group, and guest DS + DTES64.
      if ((data & PERF_CAP_PEBS_MASK) !== (supported & PERF_CAP_PEBS_MASK)) return MSR_FAIL;
      const l1 = this.leaf(1);
      if ((l1.edx & CPUID_1_EDX_DS) === 0 || (l1.ecx & CPUID_1_ECX_DTES64) === 0) return MSR_FAIL;
    }
    if ((data & ~supported) !== 0n) return MSR_FAIL; // R-CFG-2
    if (data === this.perfCapabilities) return MSR_OK; // R-CFG-5
    this.perfCapabilities = data;
    this.refreshPmu();
    return MSR_OK;
  }

  /** kvm_is_advertised_msr: KVM's save/emulated list after probing (spec §7.6). */
  isAdvertisedMsr(index: number): boolean {
    return msrsToSave(this.kvm).includes(index);
  }

  // ---------------------------------------------------------------- TSC

  /** Host TSC in the model: the guest has run (cycles + halted cycles) at the core clock. */
  rawTsc(): bigint {
    const c = this.cpu;
    if (c === null) return 0n;
    const ev = c.events;
    return BigInt(refCycles(ev.cycles + ev.haltedCycles, this.pmu.clock));
  }

  readTsc(): bigint {
    return BigInt.asUintN(64, this.rawTsc() + this.tscOffset);
  }

  // ---------------------------------------------------------------- exits (Platform)

  private log(r: ExitRecord): void {
    if (this.logExits) this.exits.push(r);
  }

  /** KVM's skip path after a successful emulation: RIP += length (by the CPU) and R-CNT-4. */
  /** KVM injects #GP(0) and re-enters: the CPU delivers the fault without returning to the run loop, so the
   *  VM entry (mediated load, spec §12.1) happens here, after the emulation. */
  private injectGp(): PlatformAction {
    this.intercepts.beforeEntry?.(this);
    return PlatformAction.InjectGP;
  }

  /**
   * KVM's skip path, then re-entry. Back to the run loop (Exit) only when what it computes can have changed:
   * a PMI was requested, or some counter bounds the run budget (an emulated count may move its overflow);
   * otherwise the VM entry (mediated load) happens here and the CPU continues (Skip) — the exit fast path
   * the exits benchmark measures.
   */
  private complete(): PlatformAction {
    this.pmu.instructionRetired();
    // The VM entry (mediated load) first: the budget check must see the hardware the guest will run on.
    this.intercepts.beforeEntry?.(this);
    if (
      this.pmu.pmiRequested ||
      this.pmu.instructionsUntilNextEvent() !== Infinity ||
      (this.intercepts.budget?.(this) ?? Infinity) !== Infinity
    )
      return PlatformAction.Exit;
    return PlatformAction.Skip;
  }

  cpuid(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    const fn = cpu.getLo(0);
    const idx = cpu.getLo(1);
    this.intercepts.vmExit?.(this, EXIT_REASON.CPUID, 0);
    const r = this.leaf(fn, idx);
    cpu.set64(0, r.eax >>> 0, 0);
    cpu.set64(3, r.ebx >>> 0, 0);
    cpu.set64(1, r.ecx >>> 0, 0);
    cpu.set64(2, r.edx >>> 0, 0);
    this.log({
      reason: EXIT_REASON.CPUID,
      name: exitReasonName(EXIT_REASON.CPUID),
      rip: cpu.rip,
      length,
      fn,
      ecx: idx,
      outcome: "ok",
    });
    return this.complete();
  }

  rdmsr(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    const index = cpu.getLo(1) >>> 0;
    if (!this.intercepts.msrExits(index, false)) {
      const v = this.intercepts.native?.rdmsr(this, index) ?? null;
      if (v === null) return PlatformAction.InjectGP;
      setEdxEax(cpu, v);
      return PlatformAction.Retire;
    }
    this.intercepts.vmExit?.(this, EXIT_REASON.MSR_READ, index);
    const out = this.msrOut;
    if (!this.readMsr(index, false, out)) {
      if (this.logExits)
        this.log({
          reason: EXIT_REASON.MSR_READ,
          name: exitReasonName(EXIT_REASON.MSR_READ),
          rip: cpu.rip,
          length,
          msr: index,
          write: false,
          outcome: "#GP",
        });
      return this.injectGp();
    }
    setEdxEax(cpu, out.data);
    if (this.logExits)
      this.log({
        reason: EXIT_REASON.MSR_READ,
        name: exitReasonName(EXIT_REASON.MSR_READ),
        rip: cpu.rip,
        length,
        msr: index,
        write: false,
        value: out.data,
        outcome: "ok",
      });
    return this.complete();
  }

  wrmsr(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    const index = cpu.getLo(1) >>> 0;
    const value = (BigInt(cpu.getLo(2) >>> 0) << 32n) | BigInt(cpu.getLo(0) >>> 0);
    if (!this.intercepts.msrExits(index, true)) {
      if (index === MSR_IA32_PRED_CMD && this.intercepts.native === undefined) {
        // Pass-through PRED_CMD: the hardware performs the IBPB.
        if ((value & ~PRED_CMD_IBPB) !== 0n) return PlatformAction.InjectGP;
        if (value !== 0n) this.cpu?.resetBranchPredictor?.();
        return PlatformAction.Retire;
      }
      const ok = this.intercepts.native?.wrmsr(this, index, value) ?? false;
      // The write may have changed when the next hardware PMI can come (runBudget's budget): stop after it.
      return ok ? PlatformAction.RetireAndStop : PlatformAction.InjectGP;
    }
    this.intercepts.vmExit?.(this, EXIT_REASON.MSR_WRITE, index);
    const ok = this.setMsr(index, value, { hostInitiated: false });
    this.log({
      reason: EXIT_REASON.MSR_WRITE,
      name: exitReasonName(EXIT_REASON.MSR_WRITE),
      rip: cpu.rip,
      length,
      msr: index,
      write: true,
      value,
      outcome: ok ? "ok" : "#GP",
    });
    if (!ok) return this.injectGp();
    // A write may have unmasked a pending PMI (LVTPC) or ended an in-service one (EOI).
    return this.complete();
  }

  rdpmc(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    const ecx = cpu.getLo(1) >>> 0;
    if (!this.intercepts.rdpmcExiting()) {
      const v = this.intercepts.native?.rdpmc(this, ecx) ?? null;
      if (v === null) return PlatformAction.InjectGP;
      setEdxEax(cpu, v);
      return PlatformAction.Retire;
    }
    this.intercepts.vmExit?.(this, EXIT_REASON.RDPMC, 0);
    const r = kvmPmuRdpmc(this.pmu, ecx, cpu.cpl, (cpu.cr0 & 1) !== 0, (cpu.cr4 & 0x100) !== 0, (i) =>
      this.vmwarePmc(i),
    );
    const base = { reason: EXIT_REASON.RDPMC, name: exitReasonName(EXIT_REASON.RDPMC), rip: cpu.rip, length, ecx };
    if (!r.ok) {
      this.log({ ...base, outcome: "#GP", why: r.reason });
      return this.injectGp();
    }
    setEdxEax(cpu, r.value);
    this.log({ ...base, value: r.value, outcome: "ok" });
    return this.complete();
  }

  /** kvm_pmu_rdpmc_vmware: host TSC, boot-time ns, ns + kvmclock offset (0) — host-side clocks of the model. */
  private vmwarePmc(ecx: number): bigint {
    const tsc = this.rawTsc();
    if (ecx === 0x10000) return tsc;
    return (tsc * 1_000_000n) / BigInt(this.pmu.clock.tscKhz);
  }

  rdtsc(cpu: PlatformCpu, _length: number, withAux: boolean): PlatformAction {
    // RDTSC exiting is off in KVM (spec §11.2): the instruction runs natively with the TSC offset applied.
    this.syncPmu();
    const t = this.readTsc();
    cpu.set64(0, Number(t & 0xffffffffn), 0);
    cpu.set64(2, Number(t >> 32n), 0);
    if (withAux) cpu.set64(1, Number(this.tscAux), 0);
    return PlatformAction.Retire;
  }

  portIn(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, length: number): PlatformAction {
    this.syncPmu();
    this.intercepts.vmExit?.(this, EXIT_REASON.IO_INSTRUCTION, 0);
    const v = this.io?.portIn(port, size) ?? (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff);
    const lo = cpu.getLo(0);
    const merged =
      size === 4
        ? v >>> 0
        : size === 2
          ? ((lo & 0xffff0000) | (v & 0xffff)) >>> 0
          : ((lo & 0xffffff00) | (v & 0xff)) >>> 0;
    cpu.set64(0, merged, size === 4 ? 0 : cpu.getHi(0));
    this.log({
      reason: EXIT_REASON.IO_INSTRUCTION,
      name: exitReasonName(EXIT_REASON.IO_INSTRUCTION),
      rip: cpu.rip,
      length,
      port,
      size,
      in: true,
      value: BigInt(v >>> 0),
      outcome: "userspace",
    });
    return this.complete(); // complete_fast_pio_in → kvm_skip_emulated_instruction
  }

  portOut(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, value: number, length: number): PlatformAction {
    this.syncPmu();
    this.intercepts.vmExit?.(this, EXIT_REASON.IO_INSTRUCTION, 0);
    this.log({
      reason: EXIT_REASON.IO_INSTRUCTION,
      name: exitReasonName(EXIT_REASON.IO_INSTRUCTION),
      rip: cpu.rip,
      length,
      port,
      size,
      in: false,
      value: BigInt(value >>> 0),
      outcome: "userspace",
    });
    const stop = this.io?.portOut(port, size, value) ?? false;
    if (stop) {
      // KVM_RUN returns with KVM_EXIT_IO; userspace never re-enters, so complete_fast_pio_out never runs.
      this.pendingExit = { reason: "io", port, value };
      return PlatformAction.Exit;
    }
    return this.complete(); // complete_fast_pio_out → kvm_skip_emulated_instruction
  }

  hlt(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    this.intercepts.vmExit?.(this, EXIT_REASON.HLT, 0);
    this.log({ reason: EXIT_REASON.HLT, name: exitReasonName(EXIT_REASON.HLT), rip: cpu.rip, length, outcome: "halt" });
    this.pmu.instructionRetired(); // kvm_emulate_halt skips (and counts) before halting
    return PlatformAction.Halt;
  }

  vmcall(cpu: PlatformCpu, length: number): PlatformAction {
    this.syncPmu();
    this.intercepts.vmExit?.(this, EXIT_REASON.VMCALL, 0);
    // kvm_emulate_hypercall: no hypercall is implemented for this guest ⇒ RAX = -KVM_ENOSYS.
    cpu.set64(0, -KVM_ENOSYS >>> 0, 0xffffffff);
    this.log({
      reason: EXIT_REASON.VMCALL,
      name: exitReasonName(EXIT_REASON.VMCALL),
      rip: cpu.rip,
      length,
      outcome: "ok",
    });
    return this.complete();
  }

  movToCr(_cpu: PlatformCpu, _cr: number, _lo: number, _hi: number, _length: number): PlatformAction {
    // With EPT, CR3 loads do not exit and CR0/CR4 writes to guest-owned bits do not either; the model
    // treats every MOV to CR as not exiting (documented simplification, docs/vpmu.md).
    return PlatformAction.Retire;
  }

  // ---------------------------------------------------------------- KVM_RUN

  /** The CPU's JIT setting while a PMI is held (null: not overridden). */
  private savedJit: boolean | null = null;

  /**
   * While a delivered PMI waits for IF = 1, it must be taken at the exact boundary where the guest enables
   * interrupts (after STI's shadow). The CPU's compiled blocks check for interrupts only between blocks, so
   * the interpreter runs until the PMI is taken (or, for a CPU without that switch, one instruction at a
   * time). Returns the instruction cap for the next cpu.run.
   */
  private heldInterruptBudget(cpu: GuestCpu): number {
    const held = cpu.interruptPending === true;
    if (cpu.jitEnabled === undefined) return held ? 1 : Infinity;
    if (held && this.savedJit === null) {
      this.savedJit = cpu.jitEnabled;
      cpu.jitEnabled = false;
    } else if (!held && this.savedJit !== null) {
      cpu.jitEnabled = this.savedJit;
      this.savedJit = null;
    }
    return Infinity;
  }

  /** Deliver a pending PMI (kvm_pmu_deliver_pmi) before entry. */
  private processRequests(cpu: GuestCpu): void {
    if (this.pmu.pmiRequested) {
      this.pmu.pmiRequested = false;
      this.lapic.deliverPmi(cpu);
    }
  }

  /**
   * Run the guest for at most `budget` natively retired instructions, delivering PMIs at the exact
   * boundaries where counters wrap. Returns the CPU's StopReason: Exit only when userspace I/O ends the
   * run, Halted when HLT has nothing to wake it, TripleFault, or Budget. (The VMM's GuestConfig.run.)
   */
  runBudget(budget: number): StopReason {
    const cpu = this.cpu;
    if (cpu === null) return StopReason.TripleFault;
    this.hasRun = true;
    this.pendingExit = null;
    const limitAt = cpu.events.instructions + budget;
    this.pmu.sync(cpu.events, cpu.cpl);
    try {
      for (;;) {
        this.processRequests(cpu);
        const left = limitAt - cpu.events.instructions;
        if (left <= 0) return StopReason.Budget;
        // Every VM entry: the VMX layer loads the mediated PMU if a slow-path exit put it (spec §12).
        this.intercepts.beforeEntry?.(this);
        const stop = cpu.run(
          Math.min(
            this.pmu.instructionsUntilNextEvent(),
            left,
            this.heldInterruptBudget(cpu),
            this.intercepts.budget?.(this) ?? Infinity,
            RUN_SLICE,
          ),
        );
        this.pmu.sync(cpu.events, cpu.cpl);
        if (this.intercepts.afterRun?.(this))
          this.log({
            reason: EXIT_REASON.EXTERNAL_INTERRUPT,
            name: exitReasonName(EXIT_REASON.EXTERNAL_INTERRUPT),
            rip: cpu.rip,
            length: 0,
            outcome: "ok",
            why: "mediated PMI (R-PMI-4)",
          });
        switch (stop) {
          case StopReason.Exit:
            if (this.pendingExit !== null) return StopReason.Exit;
            break;
          case StopReason.Halted:
            // HLT with nothing that can wake it: a PMI still pending is delivered first.
            if (this.pmu.pmiRequested) break;
            return StopReason.Halted;
          case StopReason.TripleFault:
            return StopReason.TripleFault;
          default:
            break; // Budget, ModeChange: counts are folded; re-enter
        }
      }
    } finally {
      this.intercepts.afterExit?.(this);
    }
  }

  /**
   * KVM_RUN: enter the guest and run until an exit that needs userspace (I/O the VMM ends the run with,
   * HLT with nothing to wake it, shutdown) or `maxInstructions` natively retired instructions.
   */
  run(opts: { maxInstructions?: number } = {}): RunExit {
    if (this.cpu === null) return { reason: "error", detail: "no guest CPU attached to the vCPU" };
    const stop = this.runBudget(opts.maxInstructions ?? Number.MAX_SAFE_INTEGER);
    switch (stop) {
      case StopReason.Exit:
        return this.pendingExit ?? { reason: "error", detail: "exit without a userspace request" };
      case StopReason.Halted:
        return { reason: "hlt" };
      case StopReason.TripleFault:
        return { reason: "shutdown", detail: "triple fault" };
      default:
        return { reason: "limit" };
    }
  }
}

/**
 * msrs_to_save_pmu after kvm_probe_msr_to_save (spec §7.6), plus the emulated PERF_CAPABILITIES: what
 * KVM_GET_MSR_INDEX_LIST reports and what a host may read as 0 / write 0 when the vCPU lacks it.
 */
export function msrsToSave(kvm: Kvm): number[] {
  const cap = kvm.pmuCap();
  const out: number[] = [MSR_IA32_PERF_CAPABILITIES, MSR_IA32_TSC, MSR_IA32_MISC_ENABLE, MSR_IA32_APICBASE];
  if (cap.version === 0) return out;
  for (let i = 0; i < Math.min(cap.nGP, KVM_MAX_NR_GP_COUNTERS); i++)
    out.push(MSR_IA32_PERFCTR0 + i, MSR_IA32_EVNTSEL0 + i);
  if (cap.version > 1) {
    for (let i = 0; i < cap.nFX; i++) out.push(MSR_CORE_PERF_FIXED_CTR0 + i);
    out.push(
      MSR_CORE_PERF_FIXED_CTR_CTRL,
      MSR_CORE_PERF_GLOBAL_STATUS,
      MSR_CORE_PERF_GLOBAL_CTRL,
      MSR_CORE_PERF_GLOBAL_OVF_CTRL,
    );
  }
  if (kvm.pebsSupported()) out.push(MSR_IA32_PEBS_ENABLE, MSR_IA32_DS_AREA, MSR_PEBS_DATA_CFG);
  if ((kvm.supportedPerfCapabilities() & (1n << 15n)) !== 0n) out.push(MSR_PERF_METRICS); // P-10
  return out;
}
