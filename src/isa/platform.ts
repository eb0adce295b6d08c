/**
 * The seam between the guest CPU (src/isa) and whatever runs it (src/kvm, src/vmx): the CPU executes
 * ordinary instructions itself and asks the platform about every privileged or PMU-relevant one.
 * The CPU knows nothing of PMUs or VMX; the platform decides "native", "exit and emulate", "#GP".
 *
 * Contract (both sides rely on it; change it only with both sides):
 * - Before any Platform method is called, `cpu.events` holds exact totals for every instruction
 *   retired before the current one (the CPU ends a translated block at a privileged instruction).
 * - Register access goes through the PlatformCpu accessors (32-bit halves, no BigInt).
 * - The CPU itself raises the faults the SDM gives priority over a VM exit (SDM Vol. 3 "Relative
 *   priority of faults and VM exits"; model.md §9.4): RDMSR/WRMSR/IN/OUT/HLT/MOV CR at CPL > 0 → #GP(0);
 *   RDPMC at CPL > 0 with CR4.PCE = 0 (CR0.PE = 1) → #GP(0); RDTSC at CPL > 0 with CR4.TSD = 1 → #GP(0).
 *   Only after those checks pass is the platform asked.
 */

/** What the platform tells the CPU to do with the instruction it was asked about. */
export enum PlatformAction {
  /** Ran natively on the silicon (no VM exit): the CPU completes it (RIP += length) and counts it as a
   *  retired instruction in `cpu.events` like any other instruction. */
  Retire = 0,
  /** Handled by the host after a VM exit and completed by KVM's skip path: RIP += length, but the CPU
   *  does NOT count it (hardware does not retire an exiting instruction; KVM counts it itself,
   *  model.md R-CNT-4). */
  Skip = 1,
  /** Inject #GP(0): RIP unchanged, registers unchanged, delivered through the guest IDT. */
  InjectGP = 2,
  /** Inject #UD: RIP unchanged. */
  InjectUD = 3,
  /** Complete like Skip, then stop the run loop (`cpu.run` returns StopReason.Exit) so the caller
   *  can act (e.g. the guest asked to end the run through port 0xF4). */
  Exit = 4,
  /** Complete like Skip and put the CPU in the HLT state until an interrupt is delivered. If IF = 0
   *  and nothing is pending, `cpu.run` returns StopReason.Halted. */
  Halt = 5,
  /** Ran natively like Retire, then stop the run loop (`cpu.run` returns StopReason.Budget) so the caller
   *  re-derives what bounds the next run: a pass-through WRMSR may have enabled a counter whose wrap
   *  raises a PMI. */
  RetireAndStop = 6,
}

/** The CPU as the platform sees it during a call. Registers are numbered as in ModRM (0 = RAX … 15 = R15). */
export interface PlatformCpu {
  /** Low/high 32 bits of a 64-bit register, as unsigned numbers. */
  getLo(reg: number): number;
  getHi(reg: number): number;
  /** Write a full 64-bit register from two unsigned 32-bit halves. */
  set64(reg: number, lo: number, hi: number): void;
  /** Address of the instruction being executed, and its length in bytes (with prefixes). */
  readonly rip: number;
  readonly cpl: number;
  readonly cr0: number;
  readonly cr4: number;
  /** IA32_EFER bits 31:0 (the upper half is reserved). */
  readonly efer: number;
  /** WRMSR to IA32_EFER executed natively: the processor's checks and effects (isa/control.ts
   *  writeEfer); false = the processor raises #GP(0). */
  writeEfer(lo: number, hi: number): boolean;
  /** RFLAGS.IF */
  readonly interruptsEnabled: boolean;
  /** Cumulative event totals (see GuestEvents); exact at the time of the call. */
  readonly events: GuestEvents;
}

/**
 * Cumulative micro-architectural event totals since the CPU was created, all exact integers held in
 * doubles (exact below 2^53). The PMU derives every architectural event from these
 * (src/isa/uarch.ts documents the model that produces them).
 */
export interface GuestEvents {
  /** Instructions retired natively (Platform Retire included, Skip excluded). */
  instructions: number;
  /** Branch instructions retired (jcc, jmp, call, ret, loop*, jrcxz, iretq, int3 …) natively. */
  branches: number;
  /** Retired branches whose direction/target the predictor got wrong. */
  branchMispredicts: number;
  /** Retired µops (fused domain; uops.ts): the topdown retiring slots. At least one per retired instruction. */
  uops: number;
  /** Unhalted core cycles (per-instruction cost table + stall penalties below). */
  cycles: number;
  /** Cycles of the total spent stalled on memory (LLC misses) — used for topdown backend bound. */
  memStallCycles: number;
  /** Cycles of the total lost to mispredicts — used for topdown bad speculation. */
  mispredictCycles: number;
  /** Demand accesses that reached the last-level cache, and those that missed it. */
  llcReferences: number;
  llcMisses: number;
  /** Cycles spent in HLT (not counted as unhalted cycles). */
  haltedCycles: number;
}

/** Event totals of a CPU that has run nothing (a new CPU's, a counter snapshot's start). */
export function noEvents(): GuestEvents {
  return {
    instructions: 0,
    branches: 0,
    branchMispredicts: 0,
    uops: 0,
    cycles: 0,
    memStallCycles: 0,
    mispredictCycles: 0,
    llcReferences: 0,
    llcMisses: 0,
    haltedCycles: 0,
  };
}

/** What the platform did with an exception the CPU raised (Platform.exception). */
export const ExceptionAction = {
  /** Not intercepted, or intercepted and reflected back (KVM re-injects it): deliver it through the IDT. */
  Deliver: 0,
  /** Handled by the host: the instruction was emulated (registers, memory and RIP are as it left them). */
  Handled: 1,
} as const;
export type ExceptionAction = (typeof ExceptionAction)[keyof typeof ExceptionAction];

/**
 * The CPU as the platform sees it when an exception is intercepted: KVM reads the guest's bytes at RIP and
 * may emulate an instruction itself (the forced emulation prefix, the VMware backdoor's #GP).
 */
export interface ExceptionCpu extends PlatformCpu {
  /** The guest byte at linear address `addr`, or -1 outside RAM. */
  readByte(addr: number): number;
  /**
   * KVM's instruction emulator, as far as the model has one: RIP := `rip`, then run the instruction there
   * with the CPU's own semantics, NOT counted as natively retired (no instruction, branch or cycle in
   * `events`; the host counts it, model.md R-CNT-4). A fault it raises is delivered (and may itself be
   * intercepted). Returns 1 if it completed as a branch, 0 if it completed, -1 if it faulted.
   */
  emulateAt(rip: number): number;
  /** RIP += length: the host completed the instruction itself (kvm_skip_emulated_instruction's RIP update). */
  skip(length: number): void;
}

/**
 * Physical addresses outside RAM that a device backs (the local APIC's xAPIC page). The CPU asks only on the
 * slow path of an access (an address past RAM, or a page walk that ends there), so RAM accesses never see it.
 * A write is reported after the instruction's store; the CPU then ends its run (StopReason.Budget) so the
 * caller re-derives what bounds the next one (a timer the write armed).
 */
export interface MmioBus {
  /** Whether physical address `pa` (outside RAM) belongs to a device. */
  claims(pa: number): boolean;
  /** A load of `size` bytes at `pa`: bits 31:0 of the value. `forWrite`: the bytes an instruction that stores
   *  there reads first (a read-modify-write; for a plain store unused) — the device sees only the write. */
  read(pa: number, size: number, forWrite: boolean): number;
  /** A store of `size` bytes (hi: bits 63:32 of an 8-byte store) at `pa`. */
  write(pa: number, size: number, lo: number, hi: number): void;
}

export interface Platform {
  /** EAX/ECX in, EAX..EDX out. */
  cpuid(cpu: PlatformCpu, length: number): PlatformAction;
  /** ECX = MSR index in; EDX:EAX out. */
  rdmsr(cpu: PlatformCpu, length: number): PlatformAction;
  /** ECX = MSR index, EDX:EAX = value. */
  wrmsr(cpu: PlatformCpu, length: number): PlatformAction;
  /** ECX = counter selector in; EDX:EAX out (platform writes them, clearing the upper halves). */
  rdpmc(cpu: PlatformCpu, length: number): PlatformAction;
  /** RDTSC (withAux = false) or RDTSCP (withAux = true, ECX := TSC_AUX). */
  rdtsc(cpu: PlatformCpu, length: number, withAux: boolean): PlatformAction;
  /** IN: the platform writes AL/AX/EAX (size 1/2/4) itself; OUT: value is the source register's low bits. */
  portIn(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, length: number): PlatformAction;
  portOut(cpu: PlatformCpu, port: number, size: 1 | 2 | 4, value: number, length: number): PlatformAction;
  hlt(cpu: PlatformCpu, length: number): PlatformAction;
  vmcall(cpu: PlatformCpu, length: number): PlatformAction;
  /** MOV to CRn (n = 0, 2, 3, 4, 8): return Retire to let the CPU apply it, or another action. */
  movToCr(cpu: PlatformCpu, cr: number, lo: number, hi: number, length: number): PlatformAction;
  /** The instruction at RIP raised exception `vector` (error code, -1 for none): a VM exit if the exception
   *  bitmap intercepts it (SDM Vol. 3 "Exception Bitmap"). Asked before the CPU delivers it. */
  exception(cpu: ExceptionCpu, vector: number, errorCode: number): ExceptionAction;
}
