/**
 * The VMX layer of one vCPU: the intercept plan (policy → MSR bitmap, RDPMC exiting, GLOBAL_CTRL
 * controls), the VMCS, the physical PMU the guest reaches when nothing exits, and the mediated
 * context switch around every VM entry and slow-path exit. Facts: spec §11 (bitmap, controls,
 * recalculation §11.8), §12 (load/put, fastpath), R-PMI-4, §12.3 (invariants checked as it runs).
 */
import { MSR_CORE_PERF_GLOBAL_CTRL } from "../arch/msr-index.js";
import type { GuestEvents } from "../isa/platform.js";
import type { HostPerf } from "../host/activity.js";
import type { PhysicalPmu } from "../host/physical-pmu.js";
import type { HostPreset } from "../host/presets.js";
import { MediatedSwitch, type SwitchStep } from "../pmu/mediated.js";
import type { KvmPmu } from "../pmu/pmu.js";
import {
  checkAfterLoad,
  checkAfterPut,
  checkGuestReachable,
  checkNotCounting,
  reachableRegisters,
  type Violation,
} from "../check/isolation.js";
import {
  checkLeftAfterPut,
  checkNativeGlobalCtrlWrite,
  checkNativeRead,
  writableRegisters,
  type LeakRecord,
} from "../check/leaks.js";
import {
  CPU_BASED_RDPMC_EXITING,
  VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL,
} from "../arch/vmx-controls.js";
import { EXIT_REASON } from "../arch/vmx-exit-reasons.js";
import { Vmcs } from "./vmcs.js";
import type { InterceptPlan, InterceptPolicy, ModuleParams } from "./policies/policy.js";
import type { Vcpu, VcpuIntercepts } from "../kvm/vcpu.js";
import { PhysicalPmu as PhysicalPmuImpl } from "../host/physical-pmu.js";
import { HostPerf as HostPerfImpl, type HostActivityPreset, type HostMsrValue } from "../host/activity.js";

/** What the layer needs from the vCPU it serves (src/kvm/vcpu.ts satisfies it). */
export interface VmxGuest {
  readonly id: number;
  readonly pmu: KvmPmu;
  readonly cpu: { readonly events: GuestEvents; readonly cpl: number; readonly rip?: number } | null;
  readonly lapic: { readonly lvtpc: number };
}

/** A context-switch event in the run, placed after `afterExit` exits of the vCPU's exit log. */
export interface SwitchRecord {
  readonly afterExit: number;
  readonly kind: "load" | "put" | "entry" | "exit" | "pmi";
  readonly steps: readonly SwitchStep[];
}

/** Exits KVM handles in vmx_exit_handlers_fastpath (re-entering without put/load, spec §12):
 *  WRMSR of the x2APIC ICR and of TSC_DEADLINE (handle_fastpath_wrmsr). */
const FASTPATH_WRMSR = new Set([0x830, 0x6e0]);

export class VmxLayer {
  readonly vmcs = new Vmcs();
  plan!: InterceptPlan;
  readonly sw: MediatedSwitch;
  readonly leaks: LeakRecord[] = [];
  readonly violations: Violation[] = [];
  readonly switchLog: SwitchRecord[] = [];
  /** Record load/put steps in `switchLog` (for --exits / traces). */
  recordSteps = false;
  /** Assert I-1..I-4 at every load, entry and put (tests; costs time per exit). */
  checkInvariants = false;
  /** Exits handled in the fastpath (no put/load). */
  fastpathExits = 0;
  /** How many exits so far (the vCPU's log length when logging; kept here so the layer needs no log). */
  exitCount = 0;
  /** Between a VM entry and the next exit (beforeEntry / vmExit, leaveRun). */
  private inGuest = false;
  private mediated = false;
  private globalCtrlWriteIntercepted = true;
  private reachable: number[] = [];
  /** Registers the guest can write natively (checked for values left behind after every put). */
  private writable: number[] = [];
  /** Registers already recorded as left behind: one record per register, not one per exit or value. */
  private readonly leftSeen = new Set<number>();

  constructor(
    readonly guest: VmxGuest,
    readonly policy: InterceptPolicy,
    readonly params: ModuleParams,
    readonly host: HostPreset,
    readonly phys: PhysicalPmu,
    readonly hostPerf: HostPerf,
  ) {
    this.ownerTag = `vcpu:${guest.id}`;
    this.sw = new MediatedSwitch(phys, hostPerf, {
      owner: this.ownerTag,
      codeState: policy.codeState,
      perfMetrics: false,
    });
    hostPerf.applyInitial(phys);
    this.recalc();
  }

  /** The owner tag of values this vCPU puts into hardware. */
  get owner(): string {
    return this.ownerTag;
  }
  private readonly ownerTag: string;

  /**
   * vmx_recalc_intercepts (§11.8: after vCPU creation, KVM_SET_CPUID2, a PERF_CAPABILITIES change):
   * recompute the plan and write it into the VMCS controls and the bitmap; refresh step 6 copies
   * GLOBAL_CTRL into the VMCS guest field.
   */
  recalc(): void {
    const pmu = this.guest.pmu;
    this.plan = this.policy.plan({ params: this.params, host: this.host, guest: pmu });
    this.mediated = !this.plan.vcpuMediated.intercept;
    this.vmcs.setPrimary(CPU_BASED_RDPMC_EXITING, this.plan.rdpmcExiting.intercept);
    this.vmcs.vmEntryControls = this.mediated ? VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL : 0;
    this.vmcs.vmExitControls = this.mediated
      ? VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL | VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL
      : 0;
    this.vmcs.guestPerfGlobalCtrl = pmu.globalCtrl;
    this.globalCtrlWriteIntercepted = this.plan.bitmap.exits(MSR_CORE_PERF_GLOBAL_CTRL, true);
    this.sw.config = {
      owner: this.owner,
      codeState: this.plan.codeState,
      perfMetrics: !this.plan.perfMetricsSwitch.intercept,
    };
    // §8.3: with the mediated PMU the hardware counts; KVM's copies only change at put and by emulation.
    pmu.perfBacked = !this.mediated;
    pmu.recalc();
    this.reachable = this.mediated
      ? reachableRegisters(this.phys, (m) => !this.plan.bitmap.exits(m, false), !this.vmcs.rdpmcExiting)
      : [];
    this.writable = this.mediated ? writableRegisters(this.phys, (m) => !this.plan.bitmap.exits(m, true)) : [];
  }

  private readonly writeRule = (msr: number): string =>
    this.plan.msrs.find((m) => m.index === msr)?.write.rule ?? "MSR bitmap bit clear";

  /** After put, before the host's events come back: guest values KVM did not scrub (checkLeftAfterPut). */
  private checkLeftBehind(): void {
    if (this.writable.length === 0) return;
    const found = checkLeftAfterPut(this.phys, this.owner, this.writable, this.guest.cpu?.rip ?? 0, this.writeRule);
    for (const l of found) {
      if (this.leftSeen.has(l.msr)) continue;
      this.leftSeen.add(l.msr);
      this.leaks.push(l);
    }
  }

  get isMediated(): boolean {
    return this.mediated;
  }

  // ------------------------------------------------------------------ per-instruction decisions

  /** SDM: with "use MSR bitmaps" off every RDMSR/WRMSR exits; else the bitmap bit (out of range ⇒ exit). */
  msrExits(index: number, write: boolean): boolean {
    return !this.vmcs.useMsrBitmaps || this.plan.bitmap.exits(index, write);
  }

  rdpmcExiting(): boolean {
    return this.vmcs.rdpmcExiting;
  }

  // ------------------------------------------------------------------ pass-through (no exit)

  private syncPhys(): void {
    const c = this.guest.cpu;
    if (c !== null) this.phys.sync(c.events, c.cpl);
  }

  /** Native RDMSR of a pass-through MSR: the physical register, checked for host-owned data. */
  nativeRdmsr(index: number, rip: number): bigint | null {
    this.syncPhys();
    const v = this.phys.rdmsr(index);
    if (v === null) return null;
    const c = this.phys.canonical(index);
    const rule = this.plan.msrs.find((m) => m.index === index)?.read.rule ?? "MSR bitmap bit clear";
    const leak = checkNativeRead(this.phys, this.owner, c, v, `RDMSR 0x${index.toString(16)}`, rip, rule);
    if (leak) this.leaks.push(leak);
    return v;
  }

  /** Native WRMSR of a pass-through MSR: hardware semantics, the value becomes the vCPU's. */
  nativeWrmsr(index: number, value: bigint, rip: number): boolean {
    this.syncPhys();
    if (!this.phys.wrmsr(index, value, { owner: this.owner, source: `guest WRMSR at rip 0x${rip.toString(16)}` }))
      return false;
    // Guest→host: hardware accepted bits KVM's model of this guest reserves (spec §14.2, the bit-48 path).
    if (index === MSR_CORE_PERF_GLOBAL_CTRL) {
      const leak = checkNativeGlobalCtrlWrite(
        this.phys,
        this.guest.pmu.globalCtrlRsvd,
        index,
        value,
        rip,
        this.owner,
        this.writeRule(index),
      );
      if (leak) this.leaks.push(leak);
    }
    return true;
  }

  /** Native RDPMC (R-HW-2): any physical counter, PERF_METRICS whenever the CPU has it. */
  nativeRdpmc(ecx: number, rip: number): bigint | null {
    this.syncPhys();
    const reg = this.phys.rdpmcRegister(ecx);
    if (reg < 0) return null;
    const v = this.phys.rdmsr(reg) as bigint;
    const leak = checkNativeRead(
      this.phys,
      this.owner,
      reg,
      v,
      `RDPMC ecx=0x${ecx.toString(16)}`,
      rip,
      this.plan.rdpmcExiting.rule,
    );
    if (leak) this.leaks.push(leak);
    return v;
  }

  // ------------------------------------------------------------------ entry / exit

  private lvtpcMasked(): boolean {
    return ((this.guest.lapic.lvtpc >>> 16) & 1) === 1;
  }

  private logSwitch(kind: SwitchRecord["kind"], steps: readonly SwitchStep[]): void {
    if (this.recordSteps) this.switchLog.push({ afterExit: this.exitCount, kind, steps: steps.slice() });
  }

  private violated(v: Violation[]): void {
    for (const x of v) this.violations.push(x);
  }

  /** Before a VM entry: load if the guest context is not on the hardware (§12.1), then the entry's
   *  GLOBAL_CTRL load (step 9); counting starts from the guest's current totals. */
  beforeEntry(): void {
    if (!this.mediated) return;
    // The vCPU's run loop also stops without a VM exit (an instruction budget, a CPL change): the guest
    // never left the CPU, so there is no entry either — loading the VMCS field here would replace a
    // GLOBAL_CTRL the guest wrote natively since the last exit with that exit's saved value.
    if (this.inGuest) return;
    this.inGuest = true;
    const pmu = this.guest.pmu;
    if (!this.sw.loaded) {
      this.sw.record = this.recordSteps;
      this.sw.load(pmu, this.lvtpcMasked());
      this.logSwitch("load", this.sw.steps);
      if (this.checkInvariants) {
        this.violated(checkAfterLoad(this.phys, pmu, this.sw.config.perfMetrics));
        this.violated(checkNotCounting(this.phys));
      }
    }
    // KVM writes the VMCS field on every accepted GLOBAL_CTRL write (R-WR-8); with 0x38F passed through the
    // field holds what the last exit saved.
    if (this.globalCtrlWriteIntercepted) this.vmcs.guestPerfGlobalCtrl = pmu.globalCtrl;
    this.vmcs.vmEntry(this.phys, this.owner);
    const c = this.guest.cpu;
    if (c !== null) this.phys.rebase(c.events, c.cpl);
    if (this.checkInvariants) this.violated(checkGuestReachable(this.phys, this.owner, this.reachable));
  }

  /** After the CPU stopped without an exit (budget, CPL change): fold native counts; a counter overflow
   *  with PMI arrives as an external interrupt exit (R-PMI-4). Returns true if such an exit happened. */
  afterRun(): boolean {
    if (!this.mediated || !this.sw.loaded) return false;
    this.syncPhys();
    if (!this.phys.pmiPending) return false;
    this.phys.pmiPending = false;
    // R-PMI-4: the physical LVTPC carries the guest's mask bit; a masked LVT drops the interrupt.
    if (this.sw.lvtpcMasked) return false;
    this.vmExit(EXIT_REASON.EXTERNAL_INTERRUPT, 0);
    // kvm_handle_guest_mediated_pmi: request a PMI for the vCPU, delivered through its LVTPC before re-entry.
    this.guest.pmu.pmiRequested = true;
    this.logSwitch("pmi", []);
    return true;
  }

  /** Budget for the vCPU's run loop: stop before a mediated counter with PMI can wrap. */
  budget(maxCyclesPerInsn: number): number {
    return this.mediated && this.sw.loaded ? this.phys.instructionsUntilNextEvent(maxCyclesPerInsn) : Infinity;
  }

  /** kvm_pmu_is_fastpath_emulation_allowed (pmu.h): no globally enabled counter counts instructions. */
  private fastpathAllowed(): boolean {
    const pmu = this.guest.pmu;
    const ctrl = this.vmcs.guestPerfGlobalCtrl;
    for (const p of pmu.gp) if (p.countsInstructions && ((ctrl >> BigInt(p.idx)) & 1n) === 1n) return false;
    for (const p of pmu.fixed) if (p.countsInstructions && ((ctrl >> BigInt(p.idx)) & 1n) === 1n) return false;
    return true;
  }

  /**
   * A VM exit with basic reason `reason` (`msr` for WRMSR): step 0 (VMCS saves GLOBAL_CTRL, loads the
   * host's 0), then — unless KVM handles it in the fastpath — put (§12.2) and perf's restore of host events.
   */
  vmExit(reason: number, msr: number): void {
    this.exitCount++;
    this.inGuest = false;
    if (!this.mediated || !this.sw.loaded) return;
    const pmu = this.guest.pmu;
    this.syncPhys();
    if (this.phys.pmiPending) {
      // A counter wrapped on the instruction that exits: its PMI is pending in the host; KVM requests it
      // for the vCPU and delivers it at the next entry (kvm_handle_guest_mediated_pmi, R-PMI-4) — unless
      // the physical LVTPC, which carries the guest's mask bit, dropped it.
      this.phys.pmiPending = false;
      if (!this.sw.lvtpcMasked) pmu.pmiRequested = true;
    }
    this.vmcs.vmExit(this.phys);
    if (!this.globalCtrlWriteIntercepted && pmu.globalCtrl !== this.vmcs.guestPerfGlobalCtrl) {
      // vmx_refresh_guest_perf_global_control: 0x38F is the guest's, copy the saved field back.
      pmu.globalCtrl = this.vmcs.guestPerfGlobalCtrl;
      pmu.recalc();
    }
    if (reason === EXIT_REASON.MSR_WRITE && FASTPATH_WRMSR.has(msr) && this.fastpathAllowed()) {
      this.fastpathExits++;
      return;
    }
    if (this.checkInvariants) this.violated(checkNotCounting(this.phys));
    this.sw.record = this.recordSteps;
    this.sw.put(pmu);
    if (this.checkInvariants) this.violated(checkAfterPut(this.phys, pmu, this.sw.config.perfMetrics));
    this.checkLeftBehind();
    this.sw.hostRestore();
    this.logSwitch("put", this.sw.steps);
  }

  /** KVM_RUN returns to userspace: the guest context must be off the hardware (after a fastpath exit it
   *  still is on; vcpu_enter_guest puts before returning). */
  leaveRun(): void {
    const inGuest = this.inGuest;
    this.inGuest = false;
    if (!this.mediated || !this.sw.loaded) return;
    const pmu = this.guest.pmu;
    if (inGuest) {
      // KVM_RUN ends without an exit the vCPU logged (a triple fault's shutdown exit, the signal that stops
      // an instruction-limited run): that exit still saves GLOBAL_CTRL and loads the host's 0 (step 0)
      // before put, as every VM exit does.
      this.syncPhys();
      this.vmcs.vmExit(this.phys);
      if (!this.globalCtrlWriteIntercepted && pmu.globalCtrl !== this.vmcs.guestPerfGlobalCtrl) {
        pmu.globalCtrl = this.vmcs.guestPerfGlobalCtrl;
        pmu.recalc();
      }
    }
    this.sw.record = this.recordSteps;
    this.sw.put(pmu);
    if (this.checkInvariants) this.violated(checkAfterPut(this.phys, pmu, this.sw.config.perfMetrics));
    this.checkLeftBehind();
    this.sw.hostRestore();
    this.logSwitch("put", this.sw.steps);
  }
}

/** IA32_PRED_CMD: KVM passes writes through once the guest has IBPB (vmx.c vmx_vcpu_after_set_cpuid); the
 *  hardware performs the barrier (bit 0), other bits #GP. Not a PMU MSR, so not in the PMU plan. */
const MSR_IA32_PRED_CMD = 0x49;

/** The Vcpu's intercept hooks backed by a VMX layer (MSR bitmap, RDPMC exiting, pass-through, load/put). */
export function vmxIntercepts(layer: VmxLayer): VcpuIntercepts {
  return {
    msrExits: (index, write) =>
      !(write && index === MSR_IA32_PRED_CMD && (layer.guest as unknown as Vcpu).guestHasPredCmd()) &&
      layer.msrExits(index, write),
    rdpmcExiting: () => layer.rdpmcExiting(),
    native: {
      rdmsr: (vcpu, index) => layer.nativeRdmsr(index, vcpu.cpu?.rip ?? 0),
      wrmsr: (vcpu, index, value) => {
        if (index === MSR_IA32_PRED_CMD) {
          if ((value & ~1n) !== 0n) return false;
          if (value !== 0n) vcpu.cpu?.resetBranchPredictor?.();
          return true;
        }
        return layer.nativeWrmsr(index, value, vcpu.cpu?.rip ?? 0);
      },
      rdpmc: (vcpu, ecx) => layer.nativeRdpmc(ecx, vcpu.cpu?.rip ?? 0),
    },
    beforeEntry: () => layer.beforeEntry(),
    afterExit: () => layer.leaveRun(),
    vmExit: (_vcpu, reason, msr) => layer.vmExit(reason, msr),
    afterRun: () => layer.afterRun(),
    recalc: () => layer.recalc(),
    budget: (vcpu) => layer.budget(vcpu.pmu.maxCyclesPerInsn),
  };
}

export interface VmxOptions {
  readonly policy: InterceptPolicy;
  readonly activity: HostActivityPreset;
  readonly hostMsrs?: readonly HostMsrValue[];
}

/**
 * Give a vCPU the VMX layer: physical PMU for the VM's host preset, host perf activity, the policy's plan.
 * The KVM instance must run the policy's code state (the vPMU emulation follows it). Errors are values.
 */
export function attachVmx(vcpu: Vcpu, opts: VmxOptions): { ok: true; layer: VmxLayer } | { ok: false; error: string } {
  const kvm = vcpu.vm.kvm;
  const p = kvm.params;
  if (opts.policy.codeState !== p.codeState)
    return {
      ok: false,
      error: `policy ${opts.policy.id} follows code state ${opts.policy.codeState}, but the KVM instance runs ${p.codeState}`,
    };
  const phys = new PhysicalPmuImpl(kvm.host);
  const hp = HostPerfImpl.create(phys, opts.activity, opts.hostMsrs ?? []);
  if (!hp.ok) return hp;
  const layer = new VmxLayer(
    vcpu,
    opts.policy,
    { enablePmu: p.enablePmu, enableMediatedPmu: p.enableMediatedPmu, enableVmwareBackdoor: p.enableVmwareBackdoor },
    kvm.host,
    phys,
    hp.value,
  );
  vcpu.intercepts = vmxIntercepts(layer);
  return { ok: true, layer };
}
