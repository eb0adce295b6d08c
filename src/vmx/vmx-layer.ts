/**
 * The VMX part of one vCPU (struct vcpu_vmx) and its kvm_x86_ops: the intercept plan (policy → MSR bitmap,
 * RDPMC exiting, GLOBAL_CTRL controls), the VMCS, non-root operation (each privileged instruction runs
 * natively on the physical PMU or VM-exits into the exit-handler table), and the mediated context switch
 * around every VM entry and slow-path exit. Facts: model.md §11 (bitmap, controls, recalculation §11.8), §12
 * (load/put, fastpath), R-PMI-4, §12.3 (invariants checked as it runs); vmx.c (vmx_handle_exit,
 * vmx_vcpu_after_set_cpuid, vmx_recalc_intercepts).
 */
import { MSR_CORE_PERF_GLOBAL_CTRL, MSR_IA32_PRED_CMD, PRED_CMD_IBPB } from "../arch/msr-index.js";
import { EXIT_REASON } from "../arch/vmx-exit-reasons.js";
import type { HostPerf } from "../host/activity.js";
import type { PhysicalPmu } from "../host/physical-pmu.js";
import type { HostPreset } from "../host/presets.js";
import { ExceptionAction, type ExceptionCpu, PlatformAction, type PlatformCpu } from "../isa/platform.js";
import { Vec } from "../isa/state.js";
import { kvmHandleUd } from "../kvm/emulate-forced.js";
import { kvmHandleVmwareGp } from "../kvm/vmware.js";
import type { Vcpu } from "../kvm/vcpu.js";
import type { X86Ops } from "../kvm/x86-ops.js";
import { setEdxEax } from "../kvm/x86.js";
import { MediatedSwitch, type SwitchStep } from "../pmu/mediated.js";
import type { KvmPmu } from "../pmu/pmu.js";
import {
  CPU_BASED_RDPMC_EXITING,
  VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL,
} from "../arch/vmx-controls.js";
import { ApicAccessPage } from "./apic-access.js";
import { type ExitHandler, kvmVmxExitHandlers } from "./exit-handlers.js";
import type { VmxObserver } from "./observer.js";
import { MSR_TYPE_W, MsrBitmap } from "./msr-bitmap.js";
import { Vmcs } from "./vmcs.js";
import type { InterceptPlan, InterceptPolicy, ModuleParams } from "./policies/policy.js";

/** A context-switch event in the run, placed after `afterExit` exits of the vCPU's exit log. */
export interface SwitchRecord {
  readonly afterExit: number;
  readonly kind: "load" | "put" | "entry" | "exit" | "pmi";
  readonly steps: readonly SwitchStep[];
}

/** The exit information the VMCS holds for the handler (the I/O exit qualification), written at each exit. */
export interface VmExitInfo {
  reason: number;
  ioIn: boolean;
  ioPort: number;
  ioSize: 1 | 2 | 4;
  ioValue: number;
}

/** The MSR access rows of kvm_vmx_exit_handlers, looked up once (dispatchExit). */
const HANDLE_MSR_READ = kvmVmxExitHandlers[EXIT_REASON.MSR_READ]!;
const HANDLE_MSR_WRITE = kvmVmxExitHandlers[EXIT_REASON.MSR_WRITE]!;

export class VmxLayer implements X86Ops {
  readonly vmcs = new Vmcs();
  /** The VMCS's MSR bitmap: the plan's PMU decisions plus the PRED_CMD write bit (vmx_vcpu_after_set_cpuid). */
  readonly msrBitmap = new MsrBitmap();
  /** The current exit's information fields, written before its handler runs (allocated once). */
  readonly exit: VmExitInfo = { reason: 0, ioIn: false, ioPort: 0, ioSize: 1, ioValue: 0 };
  plan!: InterceptPlan;
  readonly sw: MediatedSwitch;
  readonly switchLog: SwitchRecord[] = [];
  /** Record load/put steps in `switchLog` (for --exits / traces). */
  recordSteps = false;
  /** Where recorded steps go instead of `switchLog` (`vpmu run --exits` streams them). */
  switchSink: ((r: SwitchRecord) => void) | null = null;
  /** The APIC-access page: xAPIC MMIO as APIC_ACCESS exits (apic-access.ts). */
  readonly mmio = new ApicAccessPage(this);
  /** The WRMSR exiting now is one handle_fastpath_wrmsr would complete (the PMU permitting). */
  private fastpathWrmsr = false;
  /** Exits handled in the fastpath (no put/load). */
  fastpathExits = 0;
  /** How many exits so far (the vCPU's log length when logging; kept here so the layer needs no log). */
  exitCount = 0;
  /** Between a VM entry and the next exit (enterGuest / vmExit, vcpuPut). */
  private inGuest = false;
  private mediated = false;
  /** The last exit handler asked KVM to inject an exception (delivered without another exit). */
  private kvmInjected = false;
  private globalCtrlWriteIntercepted = true;
  /** Observers of entry/exit/load/put and native accesses (the checker), attached by the composition root. */
  private readonly observers: VmxObserver[] = [];
  /** Those of them with switchHooks: the only ones called at load, entry and before put. */
  private readonly switchObservers: VmxObserver[] = [];

  constructor(
    readonly vcpu: Vcpu,
    readonly policy: InterceptPolicy,
    readonly params: ModuleParams,
    readonly host: HostPreset,
    readonly phys: PhysicalPmu,
    readonly hostPerf: HostPerf,
  ) {
    this.ownerTag = `vcpu:${vcpu.id}`;
    this.sw = new MediatedSwitch(phys, hostPerf, {
      owner: this.ownerTag,
      perfMetrics: false,
    });
    hostPerf.applyInitial(phys);
    this.recalcIntercepts();
    // The entry's and the exit's GLOBAL_CTRL load tags, interned now rather than at the first entry and exit (a
    // first-time branch there would make V8 drop the exit path's optimised code at every new machine).
    this.entryTag = this.vmcs.bind(phys, this.ownerTag);
    this.vmcs.bindExit(phys);
  }

  /** The owner tag of values this vCPU puts into hardware. */
  get owner(): string {
    return this.ownerTag;
  }
  private readonly ownerTag: string;
  /** The provenance id of the VM entry's GLOBAL_CTRL load (Vmcs.bind), interned once. */
  private readonly entryTag: number;

  /**
   * vmx_recalc_intercepts (§11.8: after vCPU creation, KVM_SET_CPUID2, a PERF_CAPABILITIES change):
   * recompute the plan and write it into the VMCS controls and the bitmap; refresh step 6 copies
   * GLOBAL_CTRL into the VMCS guest field. PRED_CMD writes pass through once the guest has IBPB
   * (vmx_vcpu_after_set_cpuid; R-INT-1): not a PMU MSR, so not in the PMU plan.
   */
  recalcIntercepts(): void {
    const pmu = this.vcpu.pmu;
    this.plan = this.policy.plan({ params: this.params, host: this.host, guest: pmu });
    this.msrBitmap.bytes.set(this.plan.bitmap.bytes);
    this.msrBitmap.setIntercept(MSR_IA32_PRED_CMD, MSR_TYPE_W, !this.vcpu.guestHasPredCmd());
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
      perfMetrics: !this.plan.perfMetricsSwitch.intercept,
    };
    // §8.3: with the mediated PMU the hardware counts; KVM's copies only change at put and by emulation.
    pmu.perfBacked = !this.mediated;
    pmu.recalc();
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.interceptsChanged(this);
  }

  /** Attach an observer (src/check's checker); it learns the current intercepts at once. */
  attach(o: VmxObserver): void {
    this.observers.push(o);
    if (o.switchHooks) this.switchObservers.push(o);
    o.interceptsChanged(this);
  }

  /** The plan's rule that lets the guest write `msr` natively (for leak records). */
  readonly writeRule = (msr: number): string =>
    this.plan.msrs.find((m) => m.index === msr)?.write.rule ?? "MSR bitmap bit clear";

  get isMediated(): boolean {
    return this.mediated;
  }

  // ------------------------------------------------------------------ per-instruction decisions

  /** SDM: with "use MSR bitmaps" off every RDMSR/WRMSR exits; else the bitmap bit (out of range ⇒ exit). */
  msrExits(index: number, write: boolean): boolean {
    return !this.vmcs.useMsrBitmaps || this.msrBitmap.exits(index, write);
  }

  rdpmcExiting(): boolean {
    return this.vmcs.rdpmcExiting;
  }

  // ------------------------------------------------------------------ non-root operation (kvm_x86_ops' Platform)

  /** A VM exit: the hardware's exit (and the mediated put, unless fastpath), then vmx_handle_exit's dispatch
   *  through kvm_vmx_exit_handlers. */
  private handleExit(reason: number, cpu: PlatformCpu, length: number, msr: number): PlatformAction {
    return this.dispatchExit(reason, kvmVmxExitHandlers[reason]!, cpu, length, msr);
  }

  /** handleExit with the row's handler already looked up: each exiting instruction's method below passes
   *  its own (resolved from the table once, at construction), so the call site is monomorphic and V8 can
   *  inline the handler (the exit fast path, W4 of issue 16). */
  private dispatchExit(
    reason: number,
    handler: ExitHandler,
    cpu: PlatformCpu,
    length: number,
    msr: number,
  ): PlatformAction {
    this.vmExit(reason, msr);
    this.exit.reason = reason;
    const a = handler(this, cpu, length);
    // An exception KVM injects (kvm_queue_exception) is delivered at VM entry: no exit on the exception bitmap.
    this.kvmInjected = a === PlatformAction.InjectGP || a === PlatformAction.InjectUD;
    return a;
  }

  /**
   * An exception the guest raised: a VM exit if the exception bitmap has it (vmx_update_exception_bitmap:
   * #UD always, #GP with enable_vmware_backdoor), handled by handle_exception_nmi (handle_ud; the VMware
   * #GP emulation), which emulates the instruction or reflects the exception.
   */
  exception(cpu: ExceptionCpu, vector: number, errorCode: number): ExceptionAction {
    if (this.kvmInjected) {
      this.kvmInjected = false;
      return ExceptionAction.Deliver;
    }
    const ud = vector === Vec.UD;
    if (!ud && !(vector === Vec.GP && this.vcpu.kvm.params.enableVmwareBackdoor)) return ExceptionAction.Deliver;
    this.vcpu.syncPmu();
    this.vmExit(EXIT_REASON.EXCEPTION_NMI, 0);
    this.exit.reason = EXIT_REASON.EXCEPTION_NMI;
    return ud ? kvmHandleUd(this.vcpu, cpu) : kvmHandleVmwareGp(this.vcpu, cpu, errorCode);
  }

  cpuid(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    return this.handleExit(EXIT_REASON.CPUID, cpu, length, 0); // CPUID always exits (SDM)
  }

  rdmsr(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    const index = cpu.getLo(1) >>> 0;
    if (this.msrExits(index, false))
      return this.dispatchExit(EXIT_REASON.MSR_READ, HANDLE_MSR_READ, cpu, length, index);
    const v = this.nativeRdmsr(index, cpu.rip);
    if (v === null) return PlatformAction.InjectGP;
    setEdxEax(cpu, v);
    return PlatformAction.Retire;
  }

  wrmsr(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    const index = cpu.getLo(1) >>> 0;
    if (this.msrExits(index, true)) {
      this.prepareWrmsrExit(index, cpu.getLo(0), cpu.getLo(2));
      return this.dispatchExit(EXIT_REASON.MSR_WRITE, HANDLE_MSR_WRITE, cpu, length, index);
    }
    const value = (BigInt(cpu.getLo(2) >>> 0) << 32n) | BigInt(cpu.getLo(0) >>> 0);
    // The write may have changed when the next hardware PMI can come (runBudget): stop after it.
    return this.nativeWrmsr(index, value, cpu.rip) ? PlatformAction.RetireAndStop : PlatformAction.InjectGP;
  }

  rdpmc(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    if (this.vmcs.rdpmcExiting) return this.handleExit(EXIT_REASON.RDPMC, cpu, length, 0);
    const v = this.nativeRdpmc(cpu.getLo(1) >>> 0, cpu.rip);
    if (v === null) return PlatformAction.InjectGP;
    setEdxEax(cpu, v);
    return PlatformAction.Retire;
  }

  rdtsc(cpu: PlatformCpu, _length: number, withAux: boolean): PlatformAction {
    // RDTSC exiting is off in KVM (model.md §11.2): the instruction runs natively with the TSC offset applied.
    const vcpu = this.vcpu;
    vcpu.syncPmu();
    const t = vcpu.readTsc();
    cpu.set64(0, Number(t & 0xffffffffn), 0);
    cpu.set64(2, Number(t >> 32n), 0);
    if (withAux) cpu.set64(1, Number(vcpu.tscAux), 0);
    return PlatformAction.Retire;
  }

  portIn(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, length: number): PlatformAction {
    this.vcpu.syncPmu();
    const e = this.exit;
    e.ioIn = true;
    e.ioPort = port;
    e.ioSize = size;
    e.ioValue = 0;
    return this.handleExit(EXIT_REASON.IO_INSTRUCTION, cpu, length, 0); // unconditional I/O exiting
  }

  portOut(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, value: number, length: number): PlatformAction {
    this.vcpu.syncPmu();
    const e = this.exit;
    e.ioIn = false;
    e.ioPort = port;
    e.ioSize = size;
    e.ioValue = value;
    return this.handleExit(EXIT_REASON.IO_INSTRUCTION, cpu, length, 0);
  }

  hlt(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    return this.handleExit(EXIT_REASON.HLT, cpu, length, 0); // HLT exiting is required by KVM
  }

  vmcall(cpu: PlatformCpu, length: number): PlatformAction {
    this.vcpu.syncPmu();
    return this.handleExit(EXIT_REASON.VMCALL, cpu, length, 0);
  }

  movToCr(_cpu: PlatformCpu, _cr: number, _lo: number, _hi: number, _length: number): PlatformAction {
    // With EPT, CR3 loads do not exit and CR0/CR4 writes to guest-owned bits do not either; the model
    // treats every MOV to CR as not exiting (documented simplification, docs/vpmu.md).
    return PlatformAction.Retire;
  }

  // ------------------------------------------------------------------ pass-through (no exit)

  private syncPhys(): void {
    const c = this.vcpu.cpu;
    if (c !== null) this.phys.sync(c.events, c.cpl);
  }

  /** Native RDMSR of a pass-through MSR: the physical register, checked for host-owned data. */
  nativeRdmsr(index: number, rip: number): bigint | null {
    this.syncPhys();
    const v = this.phys.rdmsr(index);
    if (v === null) return null;
    const c = this.phys.canonical(index);
    const obs = this.observers;
    if (obs.length > 0) {
      const rule = this.plan.msrs.find((m) => m.index === index)?.read.rule ?? "MSR bitmap bit clear";
      const access = `RDMSR 0x${index.toString(16)}`;
      for (let i = 0; i < obs.length; i++) obs[i]!.nativeRead(this, c, v, access, rip, rule);
    }
    return v;
  }

  /** Native WRMSR of a pass-through MSR: hardware semantics, the value becomes the vCPU's. */
  nativeWrmsr(index: number, value: bigint, rip: number): boolean {
    if (index === MSR_IA32_PRED_CMD) {
      // The hardware performs the barrier (SDM IA32_PRED_CMD: bit 0 = IBPB, any other bit #GP): the guest's
      // branch predictor history is gone.
      if ((value & ~PRED_CMD_IBPB) !== 0n) return false;
      if (value !== 0n) this.vcpu.cpu?.resetBranchPredictor?.();
      return true;
    }
    this.syncPhys();
    if (!this.phys.wrmsrAs(index, value, this.phys.provs.guestWrite(this.owner, rip))) return false;
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) obs[i]!.nativeWrite(this, index, value, rip);
    return true;
  }

  /** Native RDPMC (R-HW-2): any physical counter, PERF_METRICS whenever the CPU has it. */
  nativeRdpmc(ecx: number, rip: number): bigint | null {
    this.syncPhys();
    const reg = this.phys.rdpmcRegister(ecx);
    if (reg < 0) return null;
    const v = this.phys.rdmsr(reg) as bigint;
    const obs = this.observers;
    if (obs.length > 0) {
      const access = `RDPMC ecx=0x${ecx.toString(16)}`;
      for (let i = 0; i < obs.length; i++) obs[i]!.nativeRead(this, reg, v, access, rip, this.plan.rdpmcExiting.rule);
    }
    return v;
  }

  // ------------------------------------------------------------------ entry / exit

  private lvtpcMasked(): boolean {
    return ((this.vcpu.lapic.lvtpc >>> 16) & 1) === 1;
  }

  private logSwitch(kind: SwitchRecord["kind"], steps: readonly SwitchStep[]): void {
    if (!this.recordSteps) return;
    const r: SwitchRecord = { afterExit: this.exitCount, kind, steps: steps.slice() };
    if (this.switchSink !== null) this.switchSink(r);
    else this.switchLog.push(r);
  }

  /** Before a VM entry: load if the guest context is not on the hardware (§12.1), then the entry's
   *  GLOBAL_CTRL load (step 9); counting starts from the guest's current totals. */
  enterGuest(): void {
    if (!this.mediated) return;
    // The vCPU's run loop also stops without a VM exit (an instruction budget, a CPL change): the guest
    // never left the CPU, so there is no entry either — loading the VMCS field here would replace a
    // GLOBAL_CTRL the guest wrote natively since the last exit with that exit's saved value.
    if (this.inGuest) return;
    this.inGuest = true;
    const pmu = this.vcpu.pmu;
    if (!this.sw.loaded) this.loadGuest(pmu);
    // KVM writes the VMCS field on every accepted GLOBAL_CTRL write (R-WR-8); with 0x38F passed through the
    // field holds what the last exit saved.
    if (this.globalCtrlWriteIntercepted) {
      this.vmcs.guestPerfGlobalCtrlLo = pmu.globalCtrlLo;
      this.vmcs.guestPerfGlobalCtrlHi = pmu.globalCtrlHi;
    }
    this.vmcs.vmEntryAs(this.phys, this.entryTag);
    const c = this.vcpu.cpu;
    if (c !== null) this.phys.rebase(c.events, c.cpl);
    if (this.switchObservers.length !== 0) this.observeEntry();
  }

  /** Load (§12.1) with its record and the invariant checks after it. */
  private loadGuest(pmu: KvmPmu): void {
    const sw = this.sw;
    sw.record = this.recordSteps;
    sw.load(pmu, this.lvtpcMasked());
    if (this.recordSteps) this.logSwitch("load", sw.steps);
    for (let i = 0; i < this.switchObservers.length; i++) this.switchObservers[i]!.afterLoad(this);
  }

  private observeEntry(): void {
    for (let i = 0; i < this.switchObservers.length; i++) this.switchObservers[i]!.afterEntry(this);
  }

  /** After the CPU stopped without an exit (budget, CPL change): fold native counts; a counter overflow
   *  with PMI arrives as an external interrupt exit (R-PMI-4), handled through the exit table. */
  handleStop(): void {
    if (!this.mediated || !this.sw.loaded) return;
    this.syncPhys();
    if (!this.phys.pmiPending) return;
    this.phys.pmiPending = false;
    // R-PMI-4: the physical LVTPC carries the guest's mask bit; a masked LVT drops the interrupt.
    if (this.sw.lvtpcMasked) return;
    this.vmExit(EXIT_REASON.EXTERNAL_INTERRUPT, 0);
    // kvm_handle_guest_mediated_pmi: request a PMI for the vCPU, delivered through its LVTPC before re-entry.
    this.vcpu.pmu.pmiRequested = true;
    this.logSwitch("pmi", []);
    const cpu = this.vcpu.cpu;
    this.exit.reason = EXIT_REASON.EXTERNAL_INTERRUPT;
    if (cpu !== null) kvmVmxExitHandlers[EXIT_REASON.EXTERNAL_INTERRUPT]!(this, cpu, 0);
  }

  /** Budget for the vCPU's run loop: stop before a mediated counter with PMI can wrap. */
  runBudget(): number {
    return this.mediated && this.sw.loaded
      ? this.phys.instructionsUntilNextEvent(this.vcpu.pmu.maxCyclesPerInsn)
      : Infinity;
  }

  /** The exit information handle_fastpath_wrmsr reads (ECX, EDX:EAX) for the WRMSR exit that follows. */
  prepareWrmsrExit(index: number, lo: number, hi: number): void {
    this.fastpathWrmsr = this.vcpu.lapic.handlesWrmsrInFastpath(index, lo, hi);
  }

  /** vmx_refresh_guest_perf_global_control: the VMCS field the exit saved becomes the vPMU's GLOBAL_CTRL
   *  when it differs (compared as 32-bit halves: no BigInt per exit). */
  private refreshGuestGlobalCtrl(pmu: KvmPmu): void {
    const vmcs = this.vmcs;
    if (pmu.globalCtrlLo === vmcs.guestPerfGlobalCtrlLo && pmu.globalCtrlHi === vmcs.guestPerfGlobalCtrlHi) return;
    pmu.globalCtrl = vmcs.guestPerfGlobalCtrl;
    pmu.recalc();
  }

  /** kvm_pmu_is_fastpath_emulation_allowed (pmu.h): no globally enabled counter counts instructions. */
  private fastpathAllowed(): boolean {
    const pmu = this.vcpu.pmu;
    const ctrl = this.vmcs.guestPerfGlobalCtrl;
    for (const p of pmu.gp) if (p.countsInstructions && ((ctrl >> BigInt(p.idx)) & 1n) === 1n) return false;
    for (const p of pmu.fixed) if (p.countsInstructions && ((ctrl >> BigInt(p.idx)) & 1n) === 1n) return false;
    return true;
  }

  /**
   * A VM exit with basic reason `reason`: step 0 (VMCS saves GLOBAL_CTRL, loads the host's 0), then — unless
   * KVM handles it in the fastpath — put (§12.2) and perf's restore of host events. A WRMSR goes the fastpath
   * only when __handle_fastpath_wrmsr would take it: kvm_pmu_is_fastpath_emulation_allowed first (no globally
   * enabled counter counts instructions, so the skip's kvm_pmu_instruction_retired has nothing to add while the
   * mediated PMU is loaded), then an x2APIC ICR write kvm_x2apic_icr_write_fast completes or a TSC_DEADLINE
   * write. Any other WRMSR takes the slow path: put, kvm_emulate_wrmsr, and the skip counts it (R-CNT-4).
   */
  vmExit(reason: number, _msr: number): void {
    const fastpathWrmsr = this.fastpathWrmsr;
    this.fastpathWrmsr = false;
    this.exitCount++;
    this.inGuest = false;
    if (!this.mediated || !this.sw.loaded) return;
    const pmu = this.vcpu.pmu;
    // The native counts up to this exit. The next counting interval begins at the next VM entry, which
    // rebases (enterGuest): after a put nothing syncs before it (handleStop and vcpuPut sync only while the
    // guest context is loaded or the guest runs, native accesses only while it runs), so the rebase a sync
    // would do here is overwritten unread — done only for the fastpath, which keeps the context loaded.
    const c = this.vcpu.cpu;
    if (c !== null) this.phys.count(c.events);
    if (this.phys.pmiPending) this.exitPmi(pmu);
    this.vmcs.vmExit(this.phys);
    // vmx_refresh_guest_perf_global_control: 0x38F is the guest's, copy the saved field back.
    if (!this.globalCtrlWriteIntercepted) this.refreshGuestGlobalCtrl(pmu);
    if (fastpathWrmsr && reason === EXIT_REASON.MSR_WRITE && this.fastpathAllowed()) {
      if (c !== null) this.phys.rebase(c.events, c.cpl);
      this.fastpathExits++;
      return;
    }
    if (this.switchObservers.length !== 0) this.observeBeforePut();
    this.putGuest(pmu);
  }

  /** A counter wrapped on the instruction that exits: its PMI is pending in the host; KVM requests it for the
   *  vCPU and delivers it at the next entry (kvm_handle_guest_mediated_pmi, R-PMI-4) — unless the physical
   *  LVTPC, which carries the guest's mask bit, dropped it. */
  private exitPmi(pmu: KvmPmu): void {
    this.phys.pmiPending = false;
    if (!this.sw.lvtpcMasked) pmu.pmiRequested = true;
  }

  private observeBeforePut(): void {
    for (let i = 0; i < this.switchObservers.length; i++) this.switchObservers[i]!.beforePut(this);
  }

  /** Put (§12.2), the checks after it, perf's restore of host events, and its record. */
  private putGuest(pmu: KvmPmu): void {
    const sw = this.sw;
    sw.record = this.recordSteps;
    sw.put(pmu);
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.afterPut(this);
    sw.hostRestore();
    if (this.recordSteps) this.logSwitch("put", sw.steps);
  }

  /** KVM_RUN returns to userspace (vcpu_put): the guest context must be off the hardware (after a fastpath
   *  exit it still is on; vcpu_enter_guest puts before returning). */
  vcpuPut(): void {
    const inGuest = this.inGuest;
    this.inGuest = false;
    if (!this.mediated || !this.sw.loaded) return;
    const pmu = this.vcpu.pmu;
    if (inGuest) {
      // KVM_RUN ends without an exit the vCPU logged (a triple fault's shutdown exit, the signal that stops
      // an instruction-limited run): that exit still saves GLOBAL_CTRL and loads the host's 0 (step 0)
      // before put, as every VM exit does.
      this.syncPhys();
      this.vmcs.vmExit(this.phys);
      if (!this.globalCtrlWriteIntercepted) this.refreshGuestGlobalCtrl(pmu);
    }
    this.putGuest(pmu);
  }
}
