/**
 * KVM's vendor-neutral emulation of the instructions that VM-exit (x86.c): kvm_emulate_rdmsr/wrmsr,
 * kvm_emulate_rdpmc, kvm_emulate_cpuid, kvm_emulate_halt, kvm_emulate_hypercall, kvm_fast_pio, and the skip
 * path (kvm_skip_emulated_instruction, with R-CNT-4's count). The vendor's exit handlers call these.
 * Facts: model.md §7, §8.1 (R-CNT-4), §9, §11.4; x86.c, pmu.c (kvm_pmu_instruction_retired).
 */
import { PlatformAction, type PlatformCpu } from "../isa/platform.js";
import { EXIT_REASON, exitReasonName } from "../arch/vmx-exit-reasons.js";
import type { Vcpu } from "./vcpu.js";

/** KVM_ENOSYS, returned in RAX for an unknown hypercall (uapi kvm_para.h). */
const KVM_ENOSYS = 1000;

const NAME_CPUID = exitReasonName(EXIT_REASON.CPUID);
const NAME_MSR_READ = exitReasonName(EXIT_REASON.MSR_READ);
const NAME_MSR_WRITE = exitReasonName(EXIT_REASON.MSR_WRITE);
const NAME_RDPMC = exitReasonName(EXIT_REASON.RDPMC);
const NAME_IO = exitReasonName(EXIT_REASON.IO_INSTRUCTION);
const NAME_HLT = exitReasonName(EXIT_REASON.HLT);
const NAME_VMCALL = exitReasonName(EXIT_REASON.VMCALL);

/** EDX:EAX := v with the upper halves cleared (kvm_rax_write/kvm_rdx_write); no BigInt arithmetic
 *  (allocation) for values below 2^53. */
export function setEdxEax(cpu: PlatformCpu, v: bigint): void {
  if (v <= 0x1fffffffffffffn) {
    const n = Number(v);
    cpu.set64(0, n >>> 0, 0);
    cpu.set64(2, Math.floor(n / 0x100000000), 0);
  } else {
    cpu.set64(0, Number(v & 0xffffffffn), 0);
    cpu.set64(2, Number(v >> 32n), 0);
  }
}

/** KVM injects #GP(0) and re-enters: the CPU delivers the fault without returning to the run loop, so the
 *  VM entry (mediated load, model.md §12.1) happens here, after the emulation. */
function injectGp(vcpu: Vcpu): PlatformAction {
  vcpu.ops.enterGuest();
  return PlatformAction.InjectGP;
}

/**
 * kvm_skip_emulated_instruction (RIP += length, by the CPU) with R-CNT-4's count, then re-entry. Back to the
 * run loop (Exit) only when what it computes can have changed: a PMI was requested, or some counter or the
 * APIC timer bounds the run budget (an emulated count may move its overflow, a write may arm the timer); otherwise the VM entry (mediated load) happens
 * here and the CPU continues (Skip) — the exit fast path the exits benchmark measures.
 */
function skipEmulatedInstruction(vcpu: Vcpu): PlatformAction {
  const pmu = vcpu.pmu;
  pmu.instructionRetired();
  // The VM entry (mediated load) first: the budget check must see the hardware the guest will run on.
  const ops = vcpu.ops;
  ops.enterGuest();
  if (
    pmu.pmiRequested ||
    pmu.instructionsUntilNextEvent() !== Infinity ||
    ops.runBudget() !== Infinity ||
    vcpu.lapic.timerExpiry() !== Infinity // an armed APIC timer bounds the run (src/kvm/run.ts timerBudget)
  )
    return PlatformAction.Exit;
  return PlatformAction.Skip;
}

/** kvm_emulate_cpuid: the guest's CPUID table, ECX = sub-leaf. */
export function kvmEmulateCpuid(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  const fn = cpu.getLo(0);
  const idx = cpu.getLo(1);
  const r = vcpu.leaf(fn, idx);
  cpu.set64(0, r.eax >>> 0, 0);
  cpu.set64(3, r.ebx >>> 0, 0);
  cpu.set64(1, r.ecx >>> 0, 0);
  cpu.set64(2, r.edx >>> 0, 0);
  vcpu.logExit({ reason: EXIT_REASON.CPUID, name: NAME_CPUID, rip: cpu.rip, length, fn, ecx: idx, outcome: "ok" });
  return skipEmulatedInstruction(vcpu);
}

/** kvm_emulate_rdmsr: kvm_get_msr_with_filter for ECX; #GP if it fails. */
export function kvmEmulateRdmsr(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  const index = cpu.getLo(1) >>> 0;
  // No record is built here: logMsrExit keeps the fields unless a sink or the exit log wants the object
  // (this runs once per intercepted RDMSR: the exits benchmark, W4 of issue 16).
  const rip = cpu.rip;
  const h = vcpu.msrHalves;
  if (vcpu.readMsrHalves(index, h)) {
    // The PMU's Number reader answered (a PMU MSR the guest has): EDX:EAX without BigInt.
    cpu.set64(0, h.lo, 0);
    cpu.set64(2, h.hi, 0);
    vcpu.logMsrReadHalves(NAME_MSR_READ, rip, length, index, h.lo, h.hi);
    return skipEmulatedInstruction(vcpu);
  }
  return rdmsrValue(vcpu, cpu, length, index, rip);
}

/** kvmEmulateRdmsr for an MSR the PMU's Number readers do not answer: kvm_get_msr_with_filter's 64-bit value. */
function rdmsrValue(vcpu: Vcpu, cpu: PlatformCpu, length: number, index: number, rip: number): PlatformAction {
  const out = vcpu.msrOut;
  if (!vcpu.readMsr(index, false, out)) {
    vcpu.logMsrExit(EXIT_REASON.MSR_READ, NAME_MSR_READ, rip, length, index, false, 0n, false);
    return injectGp(vcpu);
  }
  const value = out.data;
  setEdxEax(cpu, value);
  vcpu.logMsrExit(EXIT_REASON.MSR_READ, NAME_MSR_READ, rip, length, index, false, value, true);
  return skipEmulatedInstruction(vcpu);
}

/** kvm_emulate_wrmsr: kvm_set_msr_with_filter for ECX := EDX:EAX; #GP if it fails. */
export function kvmEmulateWrmsr(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  const index = cpu.getLo(1) >>> 0;
  const value = (BigInt(cpu.getLo(2) >>> 0) << 32n) | BigInt(cpu.getLo(0) >>> 0);
  const ok = vcpu.setMsr(index, value, { hostInitiated: false });
  vcpu.logMsrExit(EXIT_REASON.MSR_WRITE, NAME_MSR_WRITE, cpu.rip, length, index, true, value, ok);
  if (!ok) return injectGp(vcpu);
  // A write may have unmasked a pending PMI (LVTPC) or ended an in-service one (EOI).
  return skipEmulatedInstruction(vcpu);
}

/** kvm_emulate_rdpmc: kvm_pmu_rdpmc for ECX (CR0.PE and CR4.PCE decide the CPL check); #GP if it faults. */
export function kvmEmulateRdpmc(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  const ecx = cpu.getLo(1) >>> 0;
  const r = vcpu.pmu.rdpmc(ecx, cpu.cpl, (cpu.cr0 & 1) !== 0, (cpu.cr4 & 0x100) !== 0, (i) => vcpu.vmwarePmc(i));
  const rip = cpu.rip;
  if (!r.ok) {
    vcpu.logExit({ reason: EXIT_REASON.RDPMC, name: NAME_RDPMC, rip, length, ecx, outcome: "#GP", why: r.reason });
    return injectGp(vcpu);
  }
  setEdxEax(cpu, r.value);
  vcpu.logExit({ reason: EXIT_REASON.RDPMC, name: NAME_RDPMC, rip, length, ecx, value: r.value, outcome: "ok" });
  return skipEmulatedInstruction(vcpu);
}

/** kvm_fast_pio for IN: userspace (the VMM) supplies the value; complete_fast_pio_in merges it into RAX. */
export function kvmFastPioIn(
  vcpu: Vcpu,
  cpu: PlatformCpu,
  port: number,
  size: 1 | 2 | 4,
  length: number,
): PlatformAction {
  const v = vcpu.io?.portIn(port, size) ?? (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff);
  const lo = cpu.getLo(0);
  const merged =
    size === 4
      ? v >>> 0
      : size === 2
        ? ((lo & 0xffff0000) | (v & 0xffff)) >>> 0
        : ((lo & 0xffffff00) | (v & 0xff)) >>> 0;
  cpu.set64(0, merged, size === 4 ? 0 : cpu.getHi(0));
  vcpu.logExit({
    reason: EXIT_REASON.IO_INSTRUCTION,
    name: NAME_IO,
    rip: cpu.rip,
    length,
    port,
    size,
    in: true,
    value: BigInt(v >>> 0),
    outcome: "userspace",
  });
  return skipEmulatedInstruction(vcpu); // complete_fast_pio_in → kvm_skip_emulated_instruction
}

/** kvm_fast_pio for OUT: userspace handles the write, and may end KVM_RUN with KVM_EXIT_IO. */
export function kvmFastPioOut(
  vcpu: Vcpu,
  cpu: PlatformCpu,
  port: number,
  size: 1 | 2 | 4,
  value: number,
  length: number,
): PlatformAction {
  vcpu.logExit({
    reason: EXIT_REASON.IO_INSTRUCTION,
    name: NAME_IO,
    rip: cpu.rip,
    length,
    port,
    size,
    in: false,
    value: BigInt(value >>> 0),
    outcome: "userspace",
  });
  if (vcpu.io?.portOut(port, size, value) ?? false) {
    // KVM_RUN returns with KVM_EXIT_IO; userspace never re-enters, so complete_fast_pio_out never runs.
    vcpu.requestUserspaceExit({ reason: "io", port, value });
    return PlatformAction.Exit;
  }
  return skipEmulatedInstruction(vcpu); // complete_fast_pio_out → kvm_skip_emulated_instruction
}

/** kvm_emulate_halt: skip (and count) the HLT, then halt the vCPU until an interrupt wakes it. */
export function kvmEmulateHalt(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  vcpu.logExit({ reason: EXIT_REASON.HLT, name: NAME_HLT, rip: cpu.rip, length, outcome: "halt" });
  vcpu.pmu.instructionRetired(); // kvm_emulate_halt skips (and counts) before halting
  return PlatformAction.Halt;
}

/** kvm_emulate_hypercall: no hypercall is implemented for this guest ⇒ RAX = -KVM_ENOSYS. */
export function kvmEmulateHypercall(vcpu: Vcpu, cpu: PlatformCpu, length: number): PlatformAction {
  cpu.set64(0, -KVM_ENOSYS >>> 0, 0xffffffff);
  vcpu.logExit({ reason: EXIT_REASON.VMCALL, name: NAME_VMCALL, rip: cpu.rip, length, outcome: "ok" });
  return skipEmulatedInstruction(vcpu);
}
