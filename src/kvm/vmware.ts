/**
 * The VMware backdoor (module parameter enable_vmware_backdoor) as KVM implements it: #GP is intercepted
 * (vmx.c vmx_update_exception_bitmap), and handle_exception_nmi sends a #GP with error code 0 to the emulator
 * with EMULTYPE_VMWARE_GP, which takes only the backdoor opcodes (x86.c is_vmware_backdoor_opcode: IN, OUT,
 * INS, OUTS, RDPMC) and re-injects #GP(0) for anything else. In the emulator:
 * - RDPMC: check_rdpmc lets the pseudo-PMCs 0x10000–0x10002 through at any CPL with CR4.PCE = 0, then
 *   kvm_pmu_rdpmc returns kvm_pmu_rdpmc_vmware's host TSC / real time / apparent time (Vcpu.vmwarePmc: the
 *   model's clocks, deterministic); any other counter keeps the CPL/PCE rule and #GPs.
 * - IN/OUT: emulator_io_port_access_allowed lets ports 0x5658 (VMPORT) and 0x5659 (VMRPC) through although
 *   CPL > IOPL; the access goes to userspace (the VMM's port handler). Other ports: the TSS I/O bitmap
 *   decides, and the model has none, so #GP.
 * An emulated instruction is counted by kvm_pmu_instruction_retired (x86_emulate_instruction). INS/OUTS are
 * not modelled (#GP with the reason in the exit log). docs/vpmu.md "VMware backdoor".
 */
import { EXIT_REASON } from "../arch/vmx-exit-reasons.js";
import { DecodeFail, K } from "../isa/decode.js";
import { ExceptionAction, type ExceptionCpu } from "../isa/platform.js";
import { decodeGuestInsn } from "./emulate-forced.js";
import { setEdxEax } from "./x86.js";
import type { Vcpu } from "./vcpu.js";

/** VMWARE_PORT_VMPORT and VMWARE_PORT_VMRPC (emulate.c). */
export const VMWARE_PORT_VMPORT = 0x5658;
export const VMWARE_PORT_VMRPC = 0x5659;

/** check_rdpmc's exemption: `enable_vmware_backdoor && is_vmware_backdoor_pmc(rcx)` (kvm_pmu_rdpmc itself
 *  serves the pseudo-PMCs whatever the parameter, once an RDPMC reaches it at CPL 0). */
export function isVmwareBackdoorPmc(vcpu: Vcpu, ecx: number): boolean {
  return vcpu.kvm.params.enableVmwareBackdoor && ecx >= 0x10000 && ecx <= 0x10002;
}

/** handle_exception_nmi for an intercepted #GP (enable_vmware_backdoor): emulate a backdoor access or reflect. */
export function kvmHandleVmwareGp(vcpu: Vcpu, cpu: ExceptionCpu, errorCode: number): ExceptionAction {
  const rip = cpu.rip;
  const base = { reason: EXIT_REASON.EXCEPTION_NMI, name: "EXCEPTION_NMI", rip, length: 0 } as const;
  const reflect = (why: string): ExceptionAction => {
    vcpu.logExit({ ...base, outcome: "#GP", why: `#GP reflected (${why})` });
    vcpu.ops.enterGuest();
    return ExceptionAction.Deliver;
  };
  if (errorCode > 0) return reflect("error code set: not a backdoor access");
  const ins = decodeGuestInsn(cpu, rip);
  if (ins.fail !== DecodeFail.None) return reflect("the instruction does not decode");
  const m = ins.mnemonic;
  if (m === "rdpmc") {
    const ecx = cpu.getLo(1) >>> 0;
    // check_rdpmc: the pseudo-PMCs pass; any other counter keeps the CPL > 0 with CR4.PCE = 0 #GP.
    if (!isVmwareBackdoorPmc(vcpu, ecx) && (cpu.cr4 & 0x100) === 0 && cpu.cpl > 0)
      return reflect("check_rdpmc: CPL > 0 with CR4.PCE = 0");
    const r = vcpu.pmu.rdpmc(ecx, cpu.cpl, (cpu.cr0 & 1) !== 0, (cpu.cr4 & 0x100) !== 0, (i) => vcpu.vmwarePmc(i));
    if (!r.ok) return reflect(`kvm_pmu_rdpmc: ${r.reason}`);
    setEdxEax(cpu, r.value);
    vcpu.logExit({
      ...base,
      ecx,
      value: r.value,
      outcome: "emulated",
      why: `VMware backdoor RDPMC ecx=0x${ecx.toString(16)} result=0x${r.value.toString(16)}`,
    });
  } else if (m === "in" || m === "out") {
    const isIn = m === "in";
    const immPort = isIn ? ins.k1 === K.Imm : ins.k0 === K.Imm;
    const port = immPort ? ins.immLo & 0xff : cpu.getLo(2) & 0xffff;
    if (port !== VMWARE_PORT_VMPORT && port !== VMWARE_PORT_VMRPC)
      return reflect(`port 0x${port.toString(16)}: the TSS I/O bitmap (none in the model) denies it`);
    const size = ins.size as 1 | 2 | 4;
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    let value: number;
    if (isIn) {
      value = (vcpu.io?.portIn(port, size) ?? mask) & mask;
      const lo = cpu.getLo(0);
      cpu.set64(0, size === 4 ? value >>> 0 : ((lo & ~mask) | value) >>> 0, size === 4 ? 0 : cpu.getHi(0));
    } else {
      value = cpu.getLo(0) & mask;
      vcpu.io?.portOut(port, size, value);
    }
    vcpu.logExit({
      ...base,
      port,
      size,
      in: isIn,
      value: BigInt(value >>> 0),
      outcome: "emulated",
      why: "VMware backdoor port",
    });
  } else return reflect(`'${m}' is not a VMware backdoor instruction (is_vmware_backdoor_opcode)`);
  cpu.skip(ins.len);
  vcpu.pmu.instructionRetired();
  vcpu.ops.enterGuest();
  return ExceptionAction.Handled;
}
