/**
 * The "bare" platform: the guest runs on the modelled silicon with no KVM and no PMU (for runs that do
 * not need the vPMU). Every privileged instruction runs natively (retires); what it returns is the
 * documented minimal machine below (docs/guest-abi.md "Bare platform").
 */
import { MSR_EFER, MSR_IA32_TSC, MSR_TSC_AUX } from "../arch/msr-index.js";
import { ExceptionAction, PlatformAction, type Platform, type PlatformCpu } from "../isa/platform.js";
import type { IoHandler } from "./io.js";

/** CPUID leaves of the bare machine: [eax, ebx, ecx, edx]. Leaf 0xA is all zero: no architectural PMU. */
export const BARE_CPUID: Readonly<Record<number, readonly [number, number, number, number]>> = {
  0x0: [0xa, 0x756e6547, 0x6c65746e, 0x49656e69], // max leaf 0xA, "GenuineIntel"
  0x1: [0x000806f8, 8 << 8, 0, (1 << 4) | (1 << 5) | (1 << 19)], // family 6 model 0x8F; EBX: 64-byte lines; EDX: TSC, MSR, CLFSH
  0xa: [0, 0, 0, 0],
  0x80000000: [0x80000001, 0, 0, 0],
  0x80000001: [0, 0, 1, (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29)], // ECX: LAHF-SAHF; EDX: NX, Page1GB, RDTSCP, LM
};

const MAX_BASIC_LEAF = 0xa;
const MAX_EXTENDED_LEAF = 0x80000001;
const ZERO_LEAF = [0, 0, 0, 0] as const;

export class BarePlatform implements Platform {
  tscAux = 0;
  /** TSC = cycles + halted cycles + offset (a write to IA32_TSC sets the offset). */
  private tscOffset = 0;
  constructor(private readonly io: IoHandler) {}

  private tsc(cpu: PlatformCpu): number {
    return cpu.events.cycles + cpu.events.haltedCycles + this.tscOffset;
  }

  cpuid(cpu: PlatformCpu): PlatformAction {
    const leaf = cpu.getLo(0) >>> 0;
    // SDM CPUID: a leaf above the maximum basic or extended leaf returns the highest basic leaf's data;
    // an unlisted leaf inside the ranges reads 0.
    const inRange = leaf <= MAX_BASIC_LEAF || (leaf >= 0x80000000 && leaf <= MAX_EXTENDED_LEAF);
    const row = BARE_CPUID[leaf] ?? (inRange ? ZERO_LEAF : BARE_CPUID[MAX_BASIC_LEAF]);
    cpu.set64(0, row[0] >>> 0, 0);
    cpu.set64(3, row[1] >>> 0, 0);
    cpu.set64(1, row[2] >>> 0, 0);
    cpu.set64(2, row[3] >>> 0, 0);
    return PlatformAction.Retire;
  }
  rdmsr(cpu: PlatformCpu, _length: number): PlatformAction {
    const idx = cpu.getLo(1);
    if (idx === MSR_IA32_TSC) {
      const t = this.tsc(cpu);
      cpu.set64(0, t >>> 0, 0);
      cpu.set64(2, Math.floor(t / 4294967296) >>> 0, 0);
      return PlatformAction.Retire;
    }
    if (idx === MSR_TSC_AUX) {
      cpu.set64(0, this.tscAux, 0);
      cpu.set64(2, 0, 0);
      return PlatformAction.Retire;
    }
    if (idx === MSR_EFER) {
      cpu.set64(0, cpu.efer, 0);
      cpu.set64(2, 0, 0);
      return PlatformAction.Retire;
    }
    return PlatformAction.InjectGP;
  }
  wrmsr(cpu: PlatformCpu): PlatformAction {
    const idx = cpu.getLo(1),
      lo = cpu.getLo(0),
      hi = cpu.getLo(2);
    if (idx === MSR_TSC_AUX) {
      if (hi !== 0) return PlatformAction.InjectGP;
      this.tscAux = lo;
      return PlatformAction.Retire;
    }
    if (idx === MSR_IA32_TSC) {
      this.tscOffset = hi * 4294967296 + lo - (cpu.events.cycles + cpu.events.haltedCycles);
      return PlatformAction.Retire;
    }
    if (idx === MSR_EFER) return cpu.writeEfer(lo, hi) ? PlatformAction.Retire : PlatformAction.InjectGP;
    return PlatformAction.InjectGP;
  }
  rdpmc(): PlatformAction {
    return PlatformAction.InjectGP;
  } // no PMU: every counter index is invalid
  rdtsc(cpu: PlatformCpu, _len: number, withAux: boolean): PlatformAction {
    const t = this.tsc(cpu);
    cpu.set64(0, t >>> 0, 0);
    cpu.set64(2, Math.floor(t / 4294967296) >>> 0, 0);
    if (withAux) cpu.set64(1, this.tscAux, 0);
    return PlatformAction.Retire;
  }
  portIn(cpu: PlatformCpu, port: number, size: 1 | 2 | 4): PlatformAction {
    const v = this.io.portIn(port, size);
    const lo = cpu.getLo(0);
    if (size === 1) cpu.set64(0, ((lo & 0xffffff00) | (v & 0xff)) >>> 0, cpu.getHi(0));
    else if (size === 2) cpu.set64(0, ((lo & 0xffff0000) | (v & 0xffff)) >>> 0, cpu.getHi(0));
    else cpu.set64(0, v >>> 0, 0);
    return PlatformAction.Retire;
  }
  portOut(_cpu: PlatformCpu, port: number, size: 1 | 2 | 4, value: number): PlatformAction {
    return this.io.portOut(port, size, value) ? PlatformAction.Exit : PlatformAction.Retire;
  }
  hlt(): PlatformAction {
    return PlatformAction.Halt;
  }
  vmcall(): PlatformAction {
    return PlatformAction.InjectUD;
  } // SDM VMCALL: #UD outside VMX operation
  movToCr(): PlatformAction {
    return PlatformAction.Retire;
  }
  exception(): ExceptionAction {
    return ExceptionAction.Deliver; // no hypervisor: every exception goes to the guest's IDT
  }
}
