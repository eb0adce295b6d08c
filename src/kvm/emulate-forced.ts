/**
 * #UD as KVM handles it (x86.c handle_ud), with the forced emulation prefix (module parameter
 * force_emulation_prefix): KVM intercepts every #UD (vmx.c vmx_update_exception_bitmap always sets UD_VECTOR);
 * if the parameter is on and the guest's bytes at RIP are `0F 0B 6B 76 6D` (ud2; "kvm", __KVM_EMULATE_PREFIX),
 * RIP moves past them and the instruction after is emulated with EMULTYPE_TRAP_UD_FORCED; otherwise, or when
 * the emulator cannot take the instruction, #UD is re-injected. An emulated instruction is counted as
 * x86_emulate_instruction counts it: kvm_pmu_instruction_retired, and kvm_pmu_branch_retired for a branch
 * (ctxt->is_branch), never as a natively retired instruction. docs/vpmu.md "Forced emulation".
 *
 * The model's emulator is the CPU's own semantics (ExceptionCpu.emulateAt), which KVM's emulator matches
 * architecturally for the general-purpose instructions both have. Instructions that reach KVM through the
 * platform (CPUID, RDMSR/WRMSR, RDPMC, RDTSC, IN/OUT, HLT, VMCALL, MOV CR) or need privilege are not modelled
 * under the prefix: the exit says so and #UD is injected, rather than guessing KVM's emulator paths for them.
 */
import { EXIT_REASON } from "../arch/vmx-exit-reasons.js";
import { decode, DecodeFail, type Insn } from "../isa/decode.js";
import { Op } from "../isa/ops.js";
import { ExceptionAction, type ExceptionCpu } from "../isa/platform.js";
import { SEMANTICS } from "../isa/semantics.js";
import type { Vcpu } from "./vcpu.js";

/** __KVM_EMULATE_PREFIX (arch/x86/include/asm/emulate_prefix.h): ud2; .ascii "kvm". */
export const KVM_EMULATE_PREFIX: readonly number[] = [0x0f, 0x0b, 0x6b, 0x76, 0x6d];

/** Operations the model does not emulate under the prefix although they need no platform call: they fault or
 *  change control state in ways KVM's emulator handles through paths the model does not have. */
const NOT_EMULATED: ReadonlySet<number> = new Set([Op.Ud2, Op.Int3, Op.Iretq, Op.Lidt, Op.Cli, Op.Sti]);

/** The instruction at linear `addr` decoded from the guest's bytes, as KVM's emulator fetches it. */
export function decodeGuestInsn(cpu: ExceptionCpu, addr: number): Insn {
  const bytes = new Uint8Array(15);
  let n = 0;
  while (n < 15) {
    const b = cpu.readByte(addr + n);
    if (b < 0) break;
    bytes[n++] = b;
  }
  return decode(bytes.subarray(0, n), 0, addr);
}

/** Why the instruction at `addr` cannot be emulated by the model (null: it can), from the guest's bytes. */
export function forcedEmulationRefusal(cpu: ExceptionCpu, addr: number): string | null {
  const ins = decodeGuestInsn(cpu, addr);
  if (ins.fail !== DecodeFail.None || ins.op === Op.Invalid) return "the bytes after the prefix do not decode";
  const row = SEMANTICS[ins.op];
  if (row.platform || row.priv !== undefined || NOT_EMULATED.has(ins.op))
    return `forced emulation of '${ins.mnemonic}' is not modelled by vpmu`;
  return null;
}

function hasPrefix(cpu: ExceptionCpu, rip: number): boolean {
  for (let i = 0; i < KVM_EMULATE_PREFIX.length; i++) if (cpu.readByte(rip + i) !== KVM_EMULATE_PREFIX[i]) return false;
  return true;
}

/** handle_ud after the #UD VM exit (EXCEPTION_NMI): forced emulation or re-injection. */
export function kvmHandleUd(vcpu: Vcpu, cpu: ExceptionCpu): ExceptionAction {
  const rip = cpu.rip;
  const base = { reason: EXIT_REASON.EXCEPTION_NMI, name: "EXCEPTION_NMI", rip, length: 0 } as const;
  if (!vcpu.kvm.params.forceEmulationPrefix || !hasPrefix(cpu, rip)) {
    vcpu.logExit({ ...base, outcome: "#UD", why: "#UD reflected (handle_ud: no forced emulation prefix)" });
    vcpu.ops.enterGuest();
    return ExceptionAction.Deliver;
  }
  const at = rip + KVM_EMULATE_PREFIX.length;
  const refused = forcedEmulationRefusal(cpu, at);
  if (refused !== null) {
    cpu.skip(KVM_EMULATE_PREFIX.length); // RIP was moved past the prefix first: the #UD is at the instruction
    vcpu.logExit({ ...base, outcome: "#UD", why: `forced emulation prefix: ${refused}; #UD injected` });
    vcpu.ops.enterGuest();
    return ExceptionAction.Deliver;
  }
  // kvm_rip_write(rip + sizeof(sig)), then x86_emulate_instruction(EMULTYPE_TRAP_UD_FORCED).
  const r = cpu.emulateAt(at);
  vcpu.logExit({
    ...base,
    outcome: "emulated",
    why: r < 0 ? "forced emulation prefix; the instruction faulted: delivered, not counted" : "forced emulation prefix",
  });
  if (r >= 0) {
    vcpu.pmu.instructionRetired();
    if (r === 1) vcpu.pmu.branchRetired();
  }
  vcpu.ops.enterGuest();
  return ExceptionAction.Handled;
}
