/**
 * KVM_RUN for one vCPU (x86.c vcpu_run / vcpu_enter_guest): deliver pending requests (a PMI through the
 * LAPIC), enter through the vendor, let the guest CPU run until an exit needs userspace, fold counts between
 * entries, and put the guest context when returning. Facts: model.md §8 (counting between exits), §9 (PMI
 * delivery), §12 (entry/put); x86.c (vcpu_run, vcpu_enter_guest, kvm_vcpu_ioctl_run), pmu.c
 * (kvm_pmu_deliver_pmi).
 */
import { StopReason } from "../isa/cpu.js";
import type { GuestCpu, RunExit, Vcpu } from "./vcpu.js";

/** Most instructions one cpu.run call may retire: a budget stop only folds counts and re-enters (nothing the
 *  guest can see), and V8 optimises the CPU's run loop far better across calls than inside one long call. */
const RUN_SLICE = 1 << 20;

/** The run loop's own state for one vCPU (the parts of kvm_run / vcpu->arch it keeps between calls). */
export class KvmRun {
  /** What KVM_RUN returns to userspace when the current run ends with StopReason.Exit. */
  pendingExit: RunExit | null = null;
  /** The CPU's JIT setting while a PMI is held (null: not overridden). */
  private savedJit: boolean | null = null;

  constructor(private readonly vcpu: Vcpu) {}

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

  /**
   * Natively retired instructions that cannot take the TSC to the APIC timer's expiry: each retires at most
   * maxCyclesPerInsn core cycles, so the timer interrupt is taken at the exact boundary where the TSC reaches
   * the expiry (the budget shrinks to one instruction near it).
   */
  private timerBudget(): number {
    const vcpu = this.vcpu;
    const expiry = vcpu.lapic.timerExpiry();
    if (expiry === Infinity) return Infinity;
    const clk = vcpu.pmu.clock;
    const remaining = expiry - vcpu.rawTscNow();
    const coreCycles = ((remaining - 1) * clk.coreKhz) / clk.tscKhz;
    return Math.max(1, Math.floor(coreCycles / vcpu.pmu.maxCyclesPerInsn));
  }

  /** Deliver a pending PMI (kvm_pmu_deliver_pmi) before entry. */
  private processRequests(): void {
    const pmu = this.vcpu.pmu;
    if (pmu.pmiRequested) {
      pmu.pmiRequested = false;
      this.vcpu.vendorDeliverPmi();
      this.vcpu.lapic.deliverPmi();
    }
    // An APIC timer that reached its expiry is delivered at this boundary (kvm_inject_apic_timer_irqs).
    const lapic = this.vcpu.lapic;
    if (lapic.timer.expiryRaw !== Infinity) lapic.checkTimer(this.vcpu.rawTscNow());
  }

  /**
   * Run the guest for at most `budget` natively retired instructions, delivering PMIs at the exact
   * boundaries where counters wrap. Returns the CPU's StopReason: Exit only when userspace I/O ends the
   * run, Halted when HLT has nothing to wake it, TripleFault, UnwrittenFetch, or Budget. (The VMM's GuestConfig.run.)
   */
  runBudget(budget: number): StopReason {
    const vcpu = this.vcpu;
    const cpu = vcpu.cpu;
    if (cpu === null) return StopReason.TripleFault;
    const pmu = vcpu.pmu;
    const ops = vcpu.ops;
    vcpu.hasRun = true;
    // complete_fast_pio_out (x86.c): userspace re-entered after a KVM_EXIT_IO for OUT, so KVM now skips the
    // instruction (kvm_skip_emulated_instruction) and counts it (R-CNT-4). The CPU already moved RIP past it.
    if (this.pendingExit?.reason === "io") {
      pmu.sync(cpu.events, cpu.cpl);
      pmu.instructionRetired();
    }
    this.pendingExit = null;
    const limitAt = cpu.events.instructions + budget;
    pmu.sync(cpu.events, cpu.cpl);
    try {
      for (;;) {
        this.processRequests();
        const left = limitAt - cpu.events.instructions;
        if (left <= 0) return StopReason.Budget;
        // Every VM entry: the vendor loads the mediated PMU if a slow-path exit put it (model.md §12).
        ops.enterGuest();
        const stop = cpu.run(
          Math.min(
            pmu.instructionsUntilNextEvent(),
            left,
            this.heldInterruptBudget(cpu),
            ops.runBudget(),
            this.timerBudget(),
            RUN_SLICE,
          ),
        );
        pmu.sync(cpu.events, cpu.cpl);
        ops.handleStop();
        switch (stop) {
          case StopReason.Exit:
            if (this.pendingExit !== null) return StopReason.Exit;
            break;
          case StopReason.Halted:
            // HLT with nothing that can wake it: a PMI still pending is delivered first.
            if (pmu.pmiRequested) break;
            // An armed, unmasked APIC timer wakes the vCPU when it fires (interrupts enabled): time passes.
            if (cpu.interruptsEnabled && vcpu.lapic.timerCanWake() && !cpu.interruptPending) {
              vcpu.haltUntil(vcpu.lapic.timerExpiry());
              break;
            }
            return StopReason.Halted;
          case StopReason.TripleFault:
          case StopReason.UnwrittenFetch:
            return stop;
          default:
            break; // Budget, ModeChange: counts are folded; re-enter
        }
      }
    } finally {
      ops.vcpuPut();
    }
  }

  /**
   * KVM_RUN: enter the guest and run until an exit that needs userspace (I/O the VMM ends the run with,
   * HLT with nothing to wake it, shutdown) or `maxInstructions` natively retired instructions.
   */
  run(opts: { maxInstructions?: number } = {}): RunExit {
    if (this.vcpu.cpu === null) return { reason: "error", detail: "no guest CPU attached to the vCPU" };
    const stop = this.runBudget(opts.maxInstructions ?? Number.MAX_SAFE_INTEGER);
    switch (stop) {
      case StopReason.Exit:
        return this.pendingExit ?? { reason: "error", detail: "exit without a userspace request" };
      case StopReason.Halted:
        return { reason: "hlt" };
      case StopReason.TripleFault:
        return { reason: "shutdown", detail: "triple fault" };
      case StopReason.UnwrittenFetch:
        return { reason: "error", detail: "instruction fetch from unwritten memory (docs/guest-abi.md)" };
      default:
        return { reason: "limit" };
    }
  }
}
