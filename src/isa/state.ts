/**
 * The guest CPU's architectural state: general registers as 32-bit halves, RIP, RFLAGS, CPL, the
 * segment registers with their hidden parts, the descriptor-table registers, control registers, and the
 * event totals. Facts: SDM Vol. 1 §3.4 (registers, partial-register writes §3.4.1.1), Vol. 3 §2.5
 * (control registers), §3.4.3 (segment registers and their hidden part), §2.4 (GDTR, LDTR, IDTR, TR).
 */
import { EFER_LMA, EFER_LME } from "../arch/msr-index.js";
import { AH } from "./insn.js";
import type { AluOut } from "./alu.js";
import { IF, RFLAGS_FIXED } from "./flags.js";
import type { CodeBits } from "./modes.js";
import { type GuestEvents, noEvents, type Platform } from "./platform.js";
import { MAX_CYCLES_PER_INSTRUCTION } from "./uarch.js";

/** Why cpu.run() returned. */
export enum StopReason {
  /** The budget of natively retired instructions is used up. */
  Budget = 0,
  /** The platform asked to stop (PlatformAction.Exit). */
  Exit = 1,
  /** HLT and nothing can wake the CPU (IF = 0, or no interrupt pending). */
  Halted = 2,
  /** Shutdown after a triple fault (cpu.tripleFault says where). */
  TripleFault = 3,
  /** CPL changed (iretq, or interrupt/exception delivery to another ring). */
  ModeChange = 4,
  /** An instruction fetch from unwritten memory (cpu.unwrittenFetch; docs/guest-abi.md). */
  UnwrittenFetch = 5,
}

/** Exception vectors (SDM Vol. 3 Table 6-1). */
export enum Vec {
  DE = 0,
  DB = 1,
  BP = 3,
  UD = 6,
  DF = 8,
  TS = 10,
  NP = 11,
  SS = 12,
  GP = 13,
  PF = 14,
}

/** One step of a fault chain, for reports. */
export interface FaultRecord {
  vector: number;
  errorCode: number | null;
  rip: number;
  /** #PF only: CR2 (the faulting linear address) as it was at delivery, 0x-prefixed hex (SDM Vol. 3 §4.7). */
  cr2?: string;
}

/** Where a triple fault happened and the chain of faults that led to it (oldest first). */
export interface TripleFaultInfo {
  rip: number;
  chain: FaultRecord[];
}

export interface CpuOptions {
  /** Guest RAM size in bytes (identity-mapped from address 0). */
  memSize: number;
  platform: Platform;
}

/** The value thrown to unwind a faulting instruction (the fault itself is in cpu.fVec / cpu.fErr). */
export const FAULT = { fault: true } as const;
export const TWO32 = 4294967296;
const IOPL_SHIFT = 12;

/** The linear address hi:lo as the number RIP and branch targets hold: sign-extended, so every canonical
 *  address is exact (|value| < 2^47) and one in the upper half (e.g. 0xFFFFFFFFFFFFF000 = -4096) is
 *  negative. */
export function linearNumber(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + lo;
}

/** Segment registers by their Sreg number (SDM Vol. 2 §3.1.1.3). */
export const Seg = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 } as const;

/**
 * Hidden-part attributes in the VMX access-rights layout (SDM Vol. 3 §25.4.1 Table 25-2), the same
 * bits as descriptor bytes 5–6: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15; bit 16 =
 * unusable (a null selector was loaded).
 */
export const SegAttr = {
  ACCESSED: 0x1,
  /** Data: writable; code: readable. */
  RW: 0x2,
  /** Data: expand-down; code: conforming. */
  DC: 0x4,
  CODE: 0x8,
  S: 0x10,
  P: 0x80,
  L: 0x2000,
  DB: 0x4000,
  G: 0x8000,
  UNUSABLE: 0x10000,
} as const;

/** The flat 64-bit start state's attributes: CS = code, present, DPL 0, L = 1; data = writable, present. */
export const FLAT64_CODE = 0xa09b;
export const FLAT_DATA = 0xc093;
/** Flat 32-bit code (D = 1, G = 1) as Multiboot/QEMU leave it (model.md real-guests §1). */
export const FLAT32_CODE = 0xc09b;

/** Bits 63:47 all equal (SDM Vol. 1 §3.3.7.1), given bits 63:32. */
export function canonical(hi: number): boolean {
  return hi <= 0x7fff || hi >= 0xffff8000;
}

/** What the CPUID the guest sees advertises, for the instructions the SDM gates on it (the VMM or KVM
 *  sets these from its CPUID table; the defaults are the bare machine's, src/vmm/bare.ts). */
export interface CpuidFeatures {
  /** CPUID.80000001H:ECX.LAHF-SAHF[bit 0]: LAHF/SAHF in 64-bit mode (else #UD). */
  lahfSahf: boolean;
  /** CPUID.(EAX=7,ECX=0):EBX.RTM[bit 11]: XBEGIN/XEND/XABORT (else #UD). */
  rtm: boolean;
  /** CPUID.(EAX=7,ECX=0):EBX.HLE[bit 4]: with RTM, XTEST (else #UD). */
  hle: boolean;
  /** CPUID.80000001H:EDX.RDTSCP[bit 27]: RDTSCP (else #UD). */
  rdtscp: boolean;
  /** CPUID.01H:EDX.CLFSH[bit 19]: CLFLUSH (else #UD). */
  clflush: boolean;
}

export class CpuState {
  readonly memSize: number;
  /** GPRs as unsigned 32-bit halves: reg n = regs[2n] (low) + regs[2n+1] (high). */
  readonly regs = new Uint32Array(32);
  /** RIP as a sign-extended number (linearNumber): exact for every canonical address. */
  rip = 0;
  /** RFLAGS (bits 31:0; the upper half is reserved 0). */
  rflags = RFLAGS_FIXED;
  cpl = 0;
  /** Segment registers ES CS SS DS FS GS (Seg): the visible selector and the hidden part loaded from
   *  the descriptor (base, limit in bytes, SegAttr attributes). The 64-bit start state has flat
   *  segments (CS = 0x08, the others 0x10, base 0, limit 4 GiB − 1). */
  readonly segSel = new Uint16Array([0x10, 0x08, 0x10, 0x10, 0x10, 0x10]);
  readonly segBase = new Uint32Array(6);
  /** Base bits 63:32 (FS and GS only, in 64-bit mode: the FS/GS base MSRs). */
  readonly segBaseHi = new Uint32Array(6);
  readonly segLimit = new Uint32Array(6).fill(0xffffffff);
  readonly segAttr = new Uint32Array([FLAT_DATA, FLAT64_CODE, FLAT_DATA, FLAT_DATA, FLAT_DATA, FLAT_DATA]);
  /** IA32_KERNEL_GS_BASE (0xC0000102), exchanged with GS.base by SWAPGS. */
  kernelGsBaseLo = 0;
  kernelGsBaseHi = 0;
  /** GDTR (SDM Vol. 3 §2.4.1). */
  gdtBaseLo = 0;
  gdtBaseHi = 0;
  gdtLimit = 0;
  /** LDTR and TR: selector and hidden part (§2.4.2, §2.4.4); attributes in the SegAttr layout. */
  ldtSel = 0;
  ldtBaseLo = 0;
  ldtBaseHi = 0;
  ldtLimit = 0;
  ldtAttr: number = SegAttr.UNUSABLE;
  trSel = 0;
  trBaseLo = 0;
  trBaseHi = 0;
  trLimit = 0;
  /** A busy 64-bit TSS (type 0xB) with no descriptor behind it until the guest's LTR: RSP0 comes from
   *  rsp0Lo/Hi then (see docs/cpu.md). */
  trAttr = 0x8b;
  /** The code size in force: 64 in 64-bit mode (EFER.LMA and CS.L), else 32 or 16 by CS.D (updateMode). */
  codeBits: CodeBits = 64;
  /** Stack-pointer width in bytes: 8 in 64-bit mode, else 4 or 2 by SS.B. */
  stackBytes = 8;
  cr0 = 0x80000031; // PE | ET | NE | PG: 64-bit mode (the flat start state: linear = physical until CR3 is loaded)
  cr2Lo = 0;
  cr2Hi = 0;
  cr3Lo = 0;
  cr3Hi = 0;
  cr4 = 0x20; // CR4.PAE
  cr8 = 0;
  /** IA32_EFER bits 31:0 (63:32 are reserved): LME | LMA in the 64-bit start state (control.ts). */
  efer = EFER_LME | EFER_LMA;
  idtBaseLo = 0;
  idtBaseHi = 0;
  idtLimit = 0;
  /** Stack pointer loaded on an interrupt that raises the CPL (stands in for TSS.RSP0; see docs/cpu.md). */
  rsp0Lo = 0;
  rsp0Hi = 0;
  readonly events: GuestEvents = noEvents();
  /** Bound on cycles per retired instruction (uarch.ts MAX_CYCLES_PER_INSTRUCTION), read by the PMU. */
  readonly maxCyclesPerInstruction = MAX_CYCLES_PER_INSTRUCTION;
  platform: Platform;
  /** CPUID-gated instructions (see CpuidFeatures). */
  readonly cpuidFeatures: CpuidFeatures = { lahfSahf: true, rtm: false, hle: false, rdtscp: true, clflush: true };
  halted = false;
  shutdown = false;
  tripleFault: TripleFaultInfo | null = null;
  /** The last exception delivered or attempted (for reports). */
  lastFault: FaultRecord | null = null;
  /** Single-step mode (traces): run() also returns after delivering an exception or interrupt, so every
   *  step is exactly one instruction or one event delivery. */
  stopAfterEvent = false;
  /** Number of exception/interrupt deliveries so far (traces use it to notice one). */
  deliveries = 0;
  /** @internal Operand scratch: gr()/ld()/rd()/peek() leave a value here (no allocation per access).
   *  Both start as −0, a number V8 cannot store as a small integer, so the fields are doubles from
   *  construction: they hold unsigned 32-bit values, and the first one at or above 2^31 (or an immediate,
   *  which Insn keeps as a double) would otherwise change every CpuState's hidden class in the middle of a
   *  run, and code optimised for the old class would be thrown away at the next machine (issue 16, W4: the
   *  exits benchmark's guest ends with `mov al, 0`). Every reader writes them first. */
  aLo = -0;
  /** @internal */
  aHi = -0;
  /** @internal ALU scratch for the semantic functions of alu.ts. */
  readonly o: AluOut = { lo: 0, hi: 0, fl: 0, lo2: 0, hi2: 0 };

  constructor(opts: CpuOptions) {
    this.memSize = opts.memSize;
    this.platform = opts.platform;
  }

  get cs(): number {
    return this.segSel[Seg.CS];
  }
  set cs(v: number) {
    this.segSel[Seg.CS] = v;
  }
  get ss(): number {
    return this.segSel[Seg.SS];
  }
  set ss(v: number) {
    this.segSel[Seg.SS] = v;
  }

  // ---- PlatformCpu ------------------------------------------------------------------------------
  getLo(reg: number): number {
    return this.regs[2 * reg];
  }
  getHi(reg: number): number {
    return this.regs[2 * reg + 1];
  }
  set64(reg: number, lo: number, hi: number): void {
    this.regs[2 * reg] = lo;
    this.regs[2 * reg + 1] = hi;
  }
  get interruptsEnabled(): boolean {
    return (this.rflags & IF) !== 0;
  }
  /** @internal RFLAGS.IOPL */
  get iopl(): number {
    return (this.rflags >>> IOPL_SHIFT) & 3;
  }

  // ---- registers --------------------------------------------------------------------------------
  /** @internal Read register r at size into aLo/aHi (r ≥ 16 for size 1 = AH..BH). */
  gr(r: number, size: number): void {
    const g = this.regs;
    switch (size) {
      case 1:
        this.aLo = r >= AH ? (g[2 * (r - AH)] >>> 8) & 0xff : g[2 * r] & 0xff;
        this.aHi = 0;
        break;
      case 2:
        this.aLo = g[2 * r] & 0xffff;
        this.aHi = 0;
        break;
      case 4:
        this.aLo = g[2 * r];
        this.aHi = 0;
        break;
      default:
        this.aLo = g[2 * r];
        this.aHi = g[2 * r + 1];
    }
  }

  /** @internal Write register r at size: 32-bit writes zero the upper half, 8/16-bit writes merge
   *  (SDM Vol. 1 §3.4.1.1). */
  sr(r: number, size: number, lo: number, hi: number): void {
    const g = this.regs;
    switch (size) {
      case 1:
        if (r >= AH) {
          const i = 2 * (r - AH);
          g[i] = (g[i] & 0xffff00ff) | ((lo & 0xff) << 8);
        } else g[2 * r] = (g[2 * r] & 0xffffff00) | (lo & 0xff);
        break;
      case 2:
        g[2 * r] = (g[2 * r] & 0xffff0000) | (lo & 0xffff);
        break;
      case 4:
        g[2 * r] = lo;
        g[2 * r + 1] = 0;
        break;
      default:
        g[2 * r] = lo;
        g[2 * r + 1] = hi;
    }
  }
}
