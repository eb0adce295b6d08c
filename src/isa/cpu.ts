/**
 * The guest CPU: 64-bit mode x86 state, the decoded-instruction cache, the executor and exception /
 * interrupt delivery through a 64-bit IDT. Facts: SDM Vol. 2 (instruction semantics), Vol. 3 §6
 * (interrupt and exception handling, Table 6-5 double-fault conditions), §6.14 (64-bit IDT and frames).
 * Privileged instructions go to the injected Platform (platform.ts) after the faults that outrank a VM exit.
 */
import { AF, CF, DF, IF, OF, PF, RFLAGS_FIXED, SF, STATUS, TF, ZF, condition } from "./flags.js";
import { aluBin, aluDiv, aluIncDec, aluMul, aluShift, type AluOut } from "./alu.js";
import { AH, DecodeFail, Insn, K, decodeInto } from "./decode.js";
import { Op } from "./ops.js";
import { BranchPredictor, CYCLES, CacheModel, EVENT_DELIVERY_CYCLES, MAX_CYCLES_PER_INSTRUCTION } from "./uarch.js";
import { compileBlock, type Block } from "./jit.js";

/** Executions of an instruction (interpreted) before a block is compiled from it. */
const HOT = 8;
import { PlatformAction, type GuestEvents, type Platform, type PlatformCpu } from "./platform.js";

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

/** CR4 bits this model implements; any other set bit is reserved → #GP(0) (SDM MOV CR). */
const CR4_PAE = 0x20,
  CR4_PCE = 0x100,
  CR4_TSD = 0x4;
const CR4_KNOWN =
  0x1 |
  0x2 |
  CR4_TSD |
  0x8 |
  0x10 |
  CR4_PAE |
  0x40 |
  0x80 |
  CR4_PCE |
  0x200 |
  0x400 |
  0x800 |
  0x10000 |
  0x20000 |
  0x40000 |
  0x100000 |
  0x200000 |
  0x400000 |
  0x800000 |
  0x1000000;
const CR0_PE = 0x1,
  CR0_PG = 0x80000000;
/** RFLAGS bits writable by POPFQ/IRETQ: status, TF, IF, DF, IOPL(12-13), NT(14), AC(18), ID(21). */
const FLAGS_WRITABLE = STATUS | TF | IF | DF | 0x3000 | 0x4000 | 0x40000 | 0x200000;
const IOPL_SHIFT = 12;

const FAULT = { fault: true } as const;
const TWO32 = 4294967296;

function exceptionClass(v: number): number {
  return v === Vec.PF ? 2 : v === Vec.DE || (v >= Vec.TS && v <= Vec.GP) ? 1 : 0;
}

function canonical(hi: number): boolean {
  return hi <= 0x7fff || hi >= 0xffff8000;
}

export class Cpu implements PlatformCpu {
  readonly memSize: number;
  readonly mem: Uint8Array;
  /** @internal (the block compiler reads these directly) */
  readonly dv: DataView;
  /** GPRs as unsigned 32-bit halves: reg n = regs[2n] (low) + regs[2n+1] (high). */
  readonly regs = new Uint32Array(32);
  rip = 0;
  /** RFLAGS (bits 31:0; the upper half is reserved 0). */
  rflags = RFLAGS_FIXED;
  cpl = 0;
  cs = 0x08;
  ss = 0x10;
  cr0 = 0x80000031; // PE | ET | NE | PG (long mode; identity mapping is the documented simplification)
  cr2Lo = 0;
  cr2Hi = 0;
  cr3Lo = 0;
  cr3Hi = 0;
  cr4 = CR4_PAE;
  cr8 = 0;
  idtBaseLo = 0;
  idtBaseHi = 0;
  idtLimit = 0;
  /** Stack pointer loaded on an interrupt that raises the CPL (stands in for TSS.RSP0; see docs/cpu.md). */
  rsp0Lo = 0;
  rsp0Hi = 0;
  readonly events: GuestEvents = {
    instructions: 0,
    branches: 0,
    branchMispredicts: 0,
    cycles: 0,
    memStallCycles: 0,
    mispredictCycles: 0,
    llcReferences: 0,
    llcMisses: 0,
    haltedCycles: 0,
  };
  /** Bound on cycles per retired instruction (uarch.ts MAX_CYCLES_PER_INSTRUCTION), read by the PMU. */
  readonly maxCyclesPerInstruction = MAX_CYCLES_PER_INSTRUCTION;
  readonly cache: CacheModel;
  readonly predictor: BranchPredictor;
  platform: Platform;
  halted = false;
  shutdown = false;
  tripleFault: TripleFaultInfo | null = null;
  /** The last exception delivered or attempted (for reports). */
  lastFault: FaultRecord | null = null;
  /** Pending external interrupt vectors (256-bit bitmap) and the STI/interrupt shadow. */
  private readonly irr = new Uint32Array(8);
  private irqCount = 0;
  private inhibit = false;
  /** Set by an instruction: stop the run loop after it. */
  private stopReq = -1;
  /** @internal A compiled block's platform call returned this action (not Skip) for `jitIns`; the run
   *  loop completes it. -1: none. */
  jitAct = -1;
  /** @internal */
  jitIns: Insn | null = null;
  /** Single-step mode (traces): run() also returns after delivering an exception or interrupt, so every
   *  step is exactly one instruction or one event delivery. */
  stopAfterEvent = false;
  /** Number of exception/interrupt deliveries so far (traces use it to notice one). */
  deliveries = 0;
  /** A trap to deliver after the current instruction retires (INT3), or -1. */
  private trap = -1;
  // Fault being raised.
  private fVec = 0;
  private fErr = -1;
  // ALU scratch.
  private readonly o: AluOut = { lo: 0, hi: 0, fl: 0, lo2: 0, hi2: 0 };
  private aLo = 0;
  private aHi = 0;
  /** Decoded-instruction cache: per 4 KiB page, per byte offset. */
  private readonly icache: (Insn | null)[][];
  /** @internal One byte per 8-byte granule of RAM: 1 if a decoded instruction has bytes in it (stores
   *  there invalidate exactly the instructions they overlap). */
  readonly codeGranules: Uint8Array;
  /** Compiled blocks by start address (per page), and whether block compilation is enabled. */
  private readonly bcache: (Block | null)[][];
  jitEnabled = true;
  /** Block-compiler statistics (tests and diagnostics): blocks compiled, blocks dropped by stores. */
  readonly jitStats = { compiled: 0, invalidated: 0 };

  constructor(opts: CpuOptions) {
    this.memSize = opts.memSize;
    this.mem = new Uint8Array(opts.memSize);
    this.dv = new DataView(this.mem.buffer);
    this.platform = opts.platform;
    this.cache = new CacheModel(opts.memSize, this.events);
    this.predictor = new BranchPredictor(opts.memSize, this.events);
    const pages = Math.ceil(opts.memSize / 4096);
    this.icache = new Array(pages).fill(null);
    this.codeGranules = new Uint8Array(Math.ceil(opts.memSize / 8));
    this.bcache = new Array(pages).fill(null);
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

  /** IBPB (PRED_CMD): forget all branch history. */
  resetBranchPredictor(): void {
    this.predictor.reset();
  }

  /** Assert an external interrupt (e.g. a PMI) with this vector; delivered at the next instruction
   *  boundary where RFLAGS.IF = 1, no STI shadow, and vector[7:4] > CR8 (SDM §10.8.3.1 TPR). */
  raiseInterrupt(vector: number): void {
    const v = vector & 0xff;
    if (!(this.irr[v >>> 5] & (1 << (v & 31)))) {
      this.irr[v >>> 5] |= 1 << (v & 31);
      this.irqCount++;
    }
  }
  /** Is an interrupt pending (not yet delivered)? */
  get interruptPending(): boolean {
    return this.irqCount > 0;
  }

  /** Copy bytes into guest memory (the VMM's loader); invalidates cached decodes it overwrites. */
  load(addr: number, bytes: Uint8Array): void {
    this.mem.set(bytes, addr);
    this.invalidate(addr, bytes.length);
  }

  // ---- memory -----------------------------------------------------------------------------------
  private fault(vec: number, err: number): never {
    this.fVec = vec;
    this.fErr = err;
    throw FAULT;
  }

  /** A linear address outside RAM: non-canonical → #GP(0) (#SS(0) for stack references), else #PF
   *  (identity mapping covers RAM only; SDM §4.7 error code: P=0, W/R, U/S). */
  private bad(lo: number, hi: number, write: boolean, stack: boolean): never {
    if (!canonical(hi)) this.fault(stack ? Vec.SS : Vec.GP, 0);
    this.cr2Lo = lo;
    this.cr2Hi = hi;
    this.fault(Vec.PF, (write ? 2 : 0) | (this.cpl === 3 ? 4 : 0));
  }

  private check(lo: number, hi: number, size: number, write: boolean, stack: boolean): number {
    if (hi === 0 && lo + size <= this.memSize) return lo;
    return this.bad(lo, hi, write, stack);
  }

  /** Effective address of the memory operand, checked for `size` bytes. */
  private ea(ins: Insn, size: number, write: boolean): number {
    const r = this.regs;
    let lo = ins.dispLo,
      hi = ins.dispHi;
    const b = ins.base,
      x = ins.index;
    if (b >= 0) {
      lo += r[2 * b];
      hi += r[2 * b + 1];
    }
    if (x >= 0) {
      lo += r[2 * x] * ins.scale;
      hi += r[2 * x + 1] * ins.scale;
    }
    if (lo > 0xffffffff) {
      const c = Math.floor(lo / TWO32);
      lo -= c * TWO32;
      hi += c;
    }
    hi = hi >>> 0;
    if (ins.addr32) hi = 0;
    if (hi === 0 && lo + size <= this.memSize) return lo;
    return this.bad(lo, hi, write, b === 4 || b === 5);
  }

  private rd(a: number, size: number): void {
    const dv = this.dv;
    switch (size) {
      case 1:
        this.aLo = this.mem[a];
        this.aHi = 0;
        break;
      case 2:
        this.aLo = dv.getUint16(a, true);
        this.aHi = 0;
        break;
      case 4:
        this.aLo = dv.getUint32(a, true);
        this.aHi = 0;
        break;
      default:
        this.aLo = dv.getUint32(a, true);
        this.aHi = dv.getUint32(a + 4, true);
    }
  }

  private wr(a: number, size: number, lo: number, hi: number): void {
    const dv = this.dv;
    switch (size) {
      case 1:
        this.mem[a] = lo;
        break;
      case 2:
        dv.setUint16(a, lo, true);
        break;
      case 4:
        dv.setUint32(a, lo, true);
        break;
      default:
        dv.setUint32(a, lo, true);
        dv.setUint32(a + 4, hi, true);
    }
    const cg = this.codeGranules;
    if ((cg[a >>> 3] | cg[(a + size - 1) >>> 3]) !== 0) this.invalidate(a, size);
  }

  /** @internal A store hit granules holding decoded instructions: drop exactly the instructions whose
   *  bytes it overlaps, and every compiled block that contains one of them. */
  invalidate(a: number, size: number): void {
    const start = Math.max(0, a - 14),
      end = Math.min(this.memSize, a + size);
    for (let p = start; p < end; p++) {
      const page = this.icache[p >>> 12];
      if (!page) {
        p = p | 4095;
        continue;
      }
      const ins = page[p & 4095];
      if (ins && p + Math.max(ins.len, 1) > a) {
        ins.valid = false;
        page[p & 4095] = null;
        if (ins.blocks) {
          for (const b of ins.blocks) {
            if (b.valid) this.jitStats.invalidated++;
            b.valid = false;
            const bp = this.bcache[b.start >>> 12];
            if (bp && bp[b.start & 4095] === b) bp[b.start & 4095] = null;
          }
          ins.blocks = null;
        }
      }
    }
  }

  // ---- registers --------------------------------------------------------------------------------
  /** Read register r at size into aLo/aHi (r ≥ 16 for size 1 = AH..BH). */
  private gr(r: number, size: number): void {
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

  /** Write register r at size: 32-bit writes zero the upper half, 8/16-bit writes merge (SDM Vol. 1 §3.4.1.1). */
  /** @internal */
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

  /** Load operand (kind k, register r) of `ins` at `size` into aLo/aHi; returns the address for memory. */
  private ld(ins: Insn, k: K, r: number, size: number, write: boolean): number {
    if (k === K.Reg) {
      this.gr(r, size);
      return -1;
    }
    if (k === K.Imm) {
      this.aLo = ins.immLo;
      this.aHi = ins.immHi;
      return -1;
    }
    const a = this.ea(ins, size, write);
    this.rd(a, size);
    this.cache.access(a, size);
    return a;
  }

  /** Store to operand 0: register r0 or memory at `a` (already checked). */
  private st0(ins: Insn, a: number, size: number, lo: number, hi: number): void {
    if (a < 0) this.sr(ins.r0, size, lo, hi);
    else this.wr(a, size, lo, hi);
  }

  // ---- stack --------------------------------------------------------------------------------------
  private push(size: number, lo: number, hi: number): void {
    const g = this.regs;
    let sLo = g[8] - size,
      sHi = g[9];
    if (sLo < 0) {
      sLo += TWO32;
      sHi = (sHi - 1) >>> 0;
    }
    const a = this.check(sLo, sHi, size, true, true);
    this.wr(a, size, lo, hi);
    this.cache.access(a, size);
    g[8] = sLo;
    g[9] = sHi;
  }

  /** Read the stack top at RSP + off into aLo/aHi (no RSP change). */
  private peek(size: number, off: number): void {
    const g = this.regs;
    let lo = g[8] + off,
      hi = g[9];
    if (lo > 0xffffffff) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.check(lo, hi, size, false, true);
    this.rd(a, size);
    this.cache.access(a, size);
  }

  private addRsp(n: number): void {
    const g = this.regs;
    const lo = g[8] + n;
    if (lo > 0xffffffff) g[9] = (g[9] + 1) >>> 0;
    g[8] = lo;
  }

  // ---- the run loop -----------------------------------------------------------------------------

  /**
   * Run until `budget` instructions have retired natively, or an earlier stop (see StopReason).
   * Interrupts raised before the call are delivered at the first boundary where they are allowed.
   */
  run(budget: number): StopReason {
    if (this.shutdown) return StopReason.TripleFault;
    let left = budget;
    const ev = this.events;
    // Only entry points (branch targets, where a run or a block left off) count towards compiling a
    // block, so a hot loop becomes one block rather than one per instruction.
    let entry = true;
    for (;;) {
      // Instruction boundary: pending external interrupt?
      // The STI shadow (this.inhibit) blocks delivery until the instruction after STI has run.
      if (this.irqCount > 0 && !this.inhibit) {
        if ((this.rflags & IF) !== 0) {
          const v = this.highestDeliverable();
          if (v >= 0) {
            this.irr[v >>> 5] &= ~(1 << (v & 31));
            this.irqCount--;
            this.halted = false;
            const cpl = this.cpl;
            this.deliverEvent(v, -1, this.rip, 1);
            if (this.shutdown) return StopReason.TripleFault;
            if (this.cpl !== cpl) return StopReason.ModeChange;
            if (this.stopAfterEvent) return StopReason.Budget;
          }
        }
      }
      if (this.halted) return StopReason.Halted;
      if (left <= 0) return StopReason.Budget;
      // In the STI shadow exactly one instruction runs before a pending interrupt: interpret it.
      if (this.jitEnabled && !this.stopAfterEvent && !this.inhibit) {
        const rip = this.rip;
        if (rip >= 0 && rip < this.memSize) {
          const bp = this.bcache[rip >>> 12];
          if (bp !== null) {
            const b = bp[rip & 4095];
            if (b !== null && b.n <= left) {
              const d = b.fn(left);
              if (d !== 0) {
                // d < 0: the block completed a platform call but retired nothing.
                if (d > 0) left -= d;
                entry = true;
                if (this.jitAct < 0) continue;
              }
            }
          }
        }
      }
      // A block's platform call returned an action other than Skip: complete it here as exec would.
      const pending = this.jitAct;
      const ins = pending >= 0 ? this.jitIns : this.fetch();
      this.jitAct = -1;
      this.jitIns = null;
      const cpl = this.cpl;
      this.inhibit = false;
      if (ins === null) {
        // fetch fault
        this.deliverFault();
        if (this.shutdown) return StopReason.TripleFault;
        if (this.cpl !== cpl) return StopReason.ModeChange;
        if (this.stopAfterEvent) return StopReason.Budget;
        continue;
      }
      let retired: boolean;
      try {
        retired = pending >= 0 ? this.act(pending, ins) : this.exec(ins);
      } catch (e) {
        if (e !== FAULT) throw e;
        this.deliverFault();
        if (this.shutdown) return StopReason.TripleFault;
        if (this.cpl !== cpl) return StopReason.ModeChange;
        if (this.stopAfterEvent) return StopReason.Budget;
        continue;
      }
      if (retired) {
        left--;
        ev.instructions++;
        ev.cycles += CYCLES[ins.op];
      }
      if (pending < 0 && entry && ++ins.hits === HOT && ins.valid && this.jitEnabled) this.compileAt(ins);
      entry = this.rip !== ins.addr + ins.len;
      if (this.trap >= 0) {
        const t = this.trap;
        this.trap = -1;
        this.deliverEvent(t, -1, this.rip, 2);
        if (this.shutdown) return StopReason.TripleFault;
      }
      if (this.stopReq >= 0) {
        const s = this.stopReq;
        this.stopReq = -1;
        if (s === StopReason.Halted) {
          this.halted = true;
          if (this.canWake()) continue;
        }
        return s;
      }
      if (this.cpl !== cpl) return StopReason.ModeChange;
    }
  }

  /** Could a pending interrupt wake a halted CPU now? */
  private canWake(): boolean {
    return this.irqCount > 0 && (this.rflags & IF) !== 0 && this.highestDeliverable() >= 0;
  }

  private highestDeliverable(): number {
    for (let w = 7; w >= 0; w--) {
      const bits = this.irr[w];
      if (bits === 0) continue;
      const v = w * 32 + 31 - Math.clz32(bits);
      return v >>> 4 > this.cr8 ? v : -1; // SDM §10.8.3.1: priority class must exceed TPR
    }
    return -1;
  }

  private compileAt(ins: Insn): void {
    const b = compileBlock(this, ins, (a) => this.peekInsn(a));
    if (b === null) return;
    this.jitStats.compiled++;
    const pi = b.start >>> 12;
    let bp = this.bcache[pi];
    if (bp === null) bp = this.bcache[pi] = new Array(4096).fill(null);
    bp[b.start & 4095] = b;
  }

  /** The decoded instruction at `addr` if it lies wholly in RAM (no fault is raised), for the compiler. */
  private peekInsn(addr: number): Insn | null {
    if (addr < 0 || addr >= this.memSize) return null;
    const page = this.icache[addr >>> 12];
    const cached = page ? page[addr & 4095] : null;
    if (cached) return cached;
    const saveLo = this.cr2Lo,
      saveHi = this.cr2Hi,
      v = this.fVec,
      e = this.fErr,
      rip = this.rip;
    this.rip = addr;
    const ins = this.fetch();
    this.rip = rip;
    this.cr2Lo = saveLo;
    this.cr2Hi = saveHi;
    this.fVec = v;
    this.fErr = e;
    return ins;
  }

  /** The decoded instruction at RIP (null after raising a fetch fault). */
  private fetch(): Insn | null {
    const rip = this.rip;
    if (rip >= this.memSize || rip < 0) {
      // A relative branch below 0 wraps to the top of the address space (canonical, outside RAM → #PF).
      const hi = Math.floor(rip / TWO32) >>> 0;
      if (!canonical(hi)) {
        this.fVec = Vec.GP;
        this.fErr = 0;
        return null;
      }
      this.cr2Lo = rip >>> 0;
      this.cr2Hi = hi;
      this.fVec = Vec.PF;
      this.fErr = this.cpl === 3 ? 4 : 0;
      return null;
    }
    const pi = rip >>> 12;
    let page = this.icache[pi];
    if (page === null) {
      page = this.icache[pi] = new Array(4096).fill(null);
    }
    let ins = page[rip & 4095];
    if (ins !== null) return ins;
    ins = decodeInto(new Insn(), this.mem, rip, rip, this.memSize - rip);
    if (ins.fail === DecodeFail.Truncated) {
      this.cr2Lo = this.memSize;
      this.cr2Hi = 0;
      this.fVec = Vec.PF;
      this.fErr = this.cpl === 3 ? 4 : 0;
      return null;
    }
    page[rip & 4095] = ins;
    const last = Math.min(this.memSize - 1, rip + Math.max(ins.len, 1) - 1);
    for (let gr = rip >>> 3; gr <= last >>> 3; gr++) this.codeGranules[gr] = 1;
    return ins;
  }

  /** Decode (uncached) the instruction at `addr`, for traces and reports. */
  decodeAt(addr: number): Insn {
    return decodeInto(new Insn(), this.mem, addr, addr, Math.max(0, this.memSize - addr));
  }

  /** Execute one instruction via the same path as run(), with no budget accounting tricks. */
  step(): StopReason {
    return this.run(1);
  }

  // ---- platform calls -----------------------------------------------------------------------------

  /** Apply a platform's answer. Returns true if the instruction retired natively. */
  private act(a: PlatformAction, ins: Insn): boolean {
    switch (a) {
      case PlatformAction.Retire:
        this.rip += ins.len;
        return true;
      case PlatformAction.Skip:
        this.rip += ins.len;
        return false;
      case PlatformAction.InjectGP:
        return this.fault(Vec.GP, 0);
      case PlatformAction.InjectUD:
        return this.fault(Vec.UD, -1);
      case PlatformAction.Exit:
        this.rip += ins.len;
        this.stopReq = StopReason.Exit;
        return false;
      case PlatformAction.Halt:
        this.rip += ins.len;
        this.stopReq = StopReason.Halted;
        return false;
      case PlatformAction.RetireAndStop:
        this.rip += ins.len;
        this.stopReq = StopReason.Budget;
        return true;
      default:
        return this.fault(Vec.UD, -1);
    }
  }

  private get iopl(): number {
    return (this.rflags >>> IOPL_SHIFT) & 3;
  }

  // ---- the executor -------------------------------------------------------------------------------

  /** Execute `ins` at RIP. Returns true if it retired natively (the caller counts it). Faults throw. */
  private exec(ins: Insn): boolean {
    const o = this.o;
    const g = this.regs;
    const s = ins.size;
    const next = this.rip + ins.len;
    switch (ins.op) {
      case Op.Alu: {
        const a = this.ld(ins, ins.k0, ins.r0, s, ins.sub !== 7);
        const dLo = this.aLo,
          dHi = this.aHi;
        this.ld(ins, ins.k1, ins.r1, s, false);
        o.fl = this.rflags;
        aluBin(o, ins.sub, s, dLo, dHi, this.aLo, this.aHi);
        this.rflags = o.fl;
        if (ins.sub !== 7) this.st0(ins, a, s, o.lo, o.hi);
        break;
      }
      case Op.Test: {
        this.ld(ins, ins.k0, ins.r0, s, false);
        const dLo = this.aLo,
          dHi = this.aHi;
        this.ld(ins, ins.k1, ins.r1, s, false);
        o.fl = this.rflags;
        aluBin(o, 4, s, dLo, dHi, this.aLo, this.aHi);
        this.rflags = o.fl;
        break;
      }
      case Op.Mov: {
        if (ins.k0 === K.Mem) {
          const a = this.ea(ins, s, true);
          this.ld(ins, ins.k1, ins.r1, s, false);
          this.wr(a, s, this.aLo, this.aHi);
          this.cache.access(a, s);
        } else {
          this.ld(ins, ins.k1, ins.r1, s, false);
          this.sr(ins.r0, s, this.aLo, this.aHi);
        }
        break;
      }
      case Op.Movzx:
        this.ld(ins, ins.k1, ins.r1, ins.srcSize, false);
        this.sr(ins.r0, s, this.aLo, 0);
        break;
      case Op.Movsx: {
        const ss = ins.srcSize;
        this.ld(ins, ins.k1, ins.r1, ss, false);
        const v = ss === 1 ? (this.aLo << 24) >> 24 : ss === 2 ? (this.aLo << 16) >> 16 : this.aLo | 0;
        this.sr(ins.r0, s, v >>> 0, v < 0 ? 0xffffffff : 0);
        break;
      }
      case Op.Lea: {
        let lo = ins.dispLo,
          hi = ins.dispHi;
        if (ins.base >= 0) {
          lo += g[2 * ins.base];
          hi += g[2 * ins.base + 1];
        }
        if (ins.index >= 0) {
          lo += g[2 * ins.index] * ins.scale;
          hi += g[2 * ins.index + 1] * ins.scale;
        }
        if (lo > 0xffffffff) {
          const c = Math.floor(lo / TWO32);
          lo -= c * TWO32;
          hi += c;
        }
        this.sr(ins.r0, s, lo >>> 0, ins.addr32 ? 0 : hi >>> 0);
        break;
      }
      case Op.IncDec: {
        const a = this.ld(ins, ins.k0, ins.r0, s, true);
        o.fl = this.rflags;
        aluIncDec(o, ins.sub === 1, s, this.aLo, this.aHi);
        this.rflags = o.fl;
        this.st0(ins, a, s, o.lo, o.hi);
        break;
      }
      case Op.Not: {
        const a = this.ld(ins, ins.k0, ins.r0, s, true);
        this.st0(ins, a, s, ~this.aLo >>> 0, ~this.aHi >>> 0);
        break;
      }
      case Op.Neg: {
        const a = this.ld(ins, ins.k0, ins.r0, s, true);
        o.fl = this.rflags;
        aluBin(o, 5, s, 0, 0, this.aLo, this.aHi);
        this.rflags = o.fl;
        this.st0(ins, a, s, o.lo, o.hi);
        break;
      }
      case Op.Shift: {
        const a = this.ld(ins, ins.k0, ins.r0, s, true);
        const dLo = this.aLo,
          dHi = this.aHi;
        const count = ins.k1 === K.Imm ? ins.immLo : g[2] & 0xff;
        o.fl = this.rflags;
        aluShift(o, ins.sub, s, dLo, dHi, count);
        this.rflags = o.fl;
        this.st0(ins, a, s, o.lo, o.hi);
        break;
      }
      case Op.Mul1:
      case Op.Imul1: {
        this.ld(ins, ins.k0, ins.r0, s, false);
        const bLo = this.aLo,
          bHi = this.aHi;
        this.gr(0, s);
        o.fl = this.rflags;
        aluMul(o, ins.op === Op.Imul1, s, this.aLo, this.aHi, bLo, bHi);
        this.rflags = o.fl;
        if (s === 1) this.sr(0, 2, (o.lo2 << 8) | o.lo, 0);
        else {
          this.sr(0, s, o.lo, o.hi);
          this.sr(2, s, o.lo2, o.hi2);
        }
        break;
      }
      case Op.Imul2: {
        this.ld(ins, ins.k1, ins.r1, s, false);
        const bLo = this.aLo,
          bHi = this.aHi;
        if (ins.k2 === K.Imm) {
          this.aLo = ins.immLo;
          this.aHi = ins.immHi;
        } else this.gr(ins.r0, s);
        o.fl = this.rflags;
        aluMul(o, true, s, this.aLo, this.aHi, bLo, bHi);
        this.rflags = o.fl;
        this.sr(ins.r0, s, o.lo, o.hi);
        break;
      }
      case Op.Div:
      case Op.Idiv: {
        this.ld(ins, ins.k0, ins.r0, s, false);
        const bLo = this.aLo,
          bHi = this.aHi;
        let ok: boolean;
        if (s === 1) ok = aluDiv(o, ins.op === Op.Idiv, 1, g[0] & 0xffff, 0, 0, 0, bLo, 0);
        else {
          this.gr(0, s);
          const nLo = this.aLo,
            nHi = this.aHi;
          this.gr(2, s);
          ok = aluDiv(o, ins.op === Op.Idiv, s, nLo, nHi, this.aLo, this.aHi, bLo, bHi);
        }
        if (!ok) this.fault(Vec.DE, -1); // SDM DIV/IDIV: #DE on zero divisor or quotient overflow
        if (s === 1) this.sr(0, 2, (o.lo2 << 8) | o.lo, 0);
        else {
          this.sr(0, s, o.lo, o.hi);
          this.sr(2, s, o.lo2, o.hi2);
        }
        break;
      }
      case Op.Cbw: {
        const lo = g[0];
        if (s === 2) this.sr(0, 2, ((lo << 24) >> 24) & 0xffff, 0);
        else if (s === 4) this.sr(0, 4, ((lo << 16) >> 16) >>> 0, 0);
        else this.sr(0, 8, lo, lo & 0x80000000 ? 0xffffffff : 0);
        break;
      }
      case Op.Cwd: {
        let neg: boolean;
        if (s === 2) neg = (g[0] & 0x8000) !== 0;
        else if (s === 4) neg = (g[0] & 0x80000000) !== 0;
        else neg = (g[1] & 0x80000000) !== 0;
        this.sr(2, s, neg ? 0xffffffff : 0, neg ? 0xffffffff : 0);
        break;
      }
      case Op.Xchg: {
        const a = this.ld(ins, ins.k0, ins.r0, s, true);
        const lo = this.aLo,
          hi = this.aHi;
        this.gr(ins.r1, s);
        this.st0(ins, a, s, this.aLo, this.aHi);
        this.sr(ins.r1, s, lo, hi);
        break;
      }
      case Op.Push:
        this.ld(ins, ins.k0, ins.r0, s, false);
        this.push(s, this.aLo, this.aHi);
        break;
      case Op.Pop: {
        this.peek(s, 0);
        const lo = this.aLo,
          hi = this.aHi;
        if (ins.k0 === K.Reg) {
          this.addRsp(s);
          this.sr(ins.r0, s, lo, hi);
        } else {
          // SDM POP: an RSP-based destination address is computed after RSP is incremented.
          const oLo = g[8],
            oHi = g[9];
          this.addRsp(s);
          let a: number;
          try {
            a = this.ea(ins, s, true);
          } catch (e) {
            g[8] = oLo;
            g[9] = oHi;
            throw e;
          }
          this.wr(a, s, lo, hi);
          this.cache.access(a, s);
        }
        break;
      }
      case Op.Pushf:
        this.push(8, this.rflags & ~0x30000, 0); // RF and VM read as 0 in the image (SDM PUSHF)
        break;
      case Op.Popf: {
        this.peek(8, 0);
        this.addRsp(8);
        this.setFlagsFromPop(this.aLo);
        break;
      }
      case Op.Call: {
        const t = ins.target;
        this.push(8, next >>> 0, Math.floor(next / TWO32));
        this.rip = t;
        this.events.branches++;
        this.predictor.call(next);
        return true;
      }
      case Op.CallInd: {
        this.ld(ins, ins.k0, ins.r0, 8, false);
        const tLo = this.aLo,
          tHi = this.aHi;
        if (!canonical(tHi)) this.fault(Vec.GP, 0);
        this.push(8, next >>> 0, Math.floor(next / TWO32));
        const t = tHi * TWO32 + tLo;
        this.events.branches++;
        this.predictor.indirectBranch(this.rip, t);
        this.predictor.call(next);
        this.rip = t;
        return true;
      }
      case Op.Ret: {
        this.peek(8, 0);
        if (!canonical(this.aHi)) this.fault(Vec.GP, 0);
        const t = this.aHi * TWO32 + this.aLo;
        this.addRsp(8 + (ins.k0 === K.Imm ? ins.immLo : 0));
        this.events.branches++;
        this.predictor.ret(t);
        this.rip = t;
        return true;
      }
      case Op.Jmp:
        this.rip = ins.target;
        this.events.branches++;
        return true;
      case Op.JmpInd: {
        this.ld(ins, ins.k0, ins.r0, 8, false);
        if (!canonical(this.aHi)) this.fault(Vec.GP, 0);
        const t = this.aHi * TWO32 + this.aLo;
        this.events.branches++;
        this.predictor.indirectBranch(this.rip, t);
        this.rip = t;
        return true;
      }
      case Op.Jcc: {
        const taken = condition(ins.cc, this.rflags);
        this.events.branches++;
        this.predictor.conditional(this.rip, taken, ins.target);
        this.rip = taken ? ins.target : next;
        return true;
      }
      case Op.Loop:
      case Op.Jrcxz: {
        let zero: boolean;
        if (ins.op === Op.Loop) {
          if (ins.addr32) {
            g[0 + 2] = (g[2] - 1) >>> 0;
            g[3] = 0;
            zero = g[2] === 0;
          } else {
            if (g[2] === 0) g[3] = (g[3] - 1) >>> 0;
            g[2] = (g[2] - 1) >>> 0;
            zero = (g[2] | g[3]) === 0;
          }
        } else zero = ins.addr32 ? g[2] === 0 : (g[2] | g[3]) === 0;
        let taken: boolean;
        if (ins.op === Op.Jrcxz) taken = zero;
        else if (ins.sub === 0) taken = !zero;
        else if (ins.sub === 1) taken = !zero && (this.rflags & ZF) !== 0;
        else taken = !zero && (this.rflags & ZF) === 0;
        this.events.branches++;
        this.predictor.conditional(this.rip, taken, ins.target);
        this.rip = taken ? ins.target : next;
        return true;
      }
      case Op.Setcc: {
        const v = condition(ins.cc, this.rflags) ? 1 : 0;
        if (ins.k0 === K.Reg) this.sr(ins.r0, 1, v, 0);
        else {
          const a = this.ea(ins, 1, true);
          this.wr(a, 1, v, 0);
          this.cache.access(a, 1);
        }
        break;
      }
      case Op.Cmovcc: {
        this.ld(ins, ins.k1, ins.r1, s, false); // the source is read even when the condition is false
        if (condition(ins.cc, this.rflags)) this.sr(ins.r0, s, this.aLo, this.aHi);
        else if (s === 4) g[2 * ins.r0 + 1] = 0; // a 32-bit CMOV zero-extends even when false (SDM CMOVcc)
        break;
      }
      case Op.Nop:
      case Op.Pause:
      case Op.Lfence:
      case Op.Mfence:
        break;
      case Op.Clflush: {
        const a = this.ea(ins, 1, false);
        this.cache.flush(a);
        break;
      }
      case Op.Hlt:
        if (this.cpl > 0) this.fault(Vec.GP, 0);
        return this.act(this.platform.hlt(this, ins.len), ins);
      case Op.Cli:
      case Op.Sti: {
        if (this.cpl > this.iopl) this.fault(Vec.GP, 0); // SDM CLI/STI (protected mode, no VME/PVI)
        if (ins.op === Op.Cli) this.rflags &= ~IF;
        else {
          if (!(this.rflags & IF)) this.inhibit = true;
          this.rflags |= IF;
        }
        break;
      }
      case Op.Cpuid:
        return this.act(this.platform.cpuid(this, ins.len), ins);
      case Op.Rdmsr:
      case Op.Wrmsr:
        if (this.cpl > 0) this.fault(Vec.GP, 0);
        return this.act(
          ins.op === Op.Rdmsr ? this.platform.rdmsr(this, ins.len) : this.platform.wrmsr(this, ins.len),
          ins,
        );
      case Op.Rdpmc:
        // SDM RDPMC / spec R-HW-1: #GP if CPL > 0 and CR4.PCE = 0 (CR0.PE = 1 here), before any VM exit.
        if (this.cpl > 0 && !(this.cr4 & CR4_PCE)) this.fault(Vec.GP, 0);
        return this.act(this.platform.rdpmc(this, ins.len), ins);
      case Op.Rdtsc:
      case Op.Rdtscp:
        if (this.cpl > 0 && this.cr4 & CR4_TSD) this.fault(Vec.GP, 0);
        return this.act(this.platform.rdtsc(this, ins.len, ins.op === Op.Rdtscp), ins);
      case Op.In:
      case Op.Out: {
        // SDM IN/OUT: CPL > IOPL → #GP(0) (no TSS I/O bitmap in this model).
        if (this.cpl > this.iopl) this.fault(Vec.GP, 0);
        const port =
          ins.op === Op.In
            ? ins.k1 === K.Imm
              ? ins.immLo
              : g[4] & 0xffff
            : ins.k0 === K.Imm
              ? ins.immLo
              : g[4] & 0xffff;
        const sz = s as 1 | 2 | 4;
        if (ins.op === Op.In) return this.act(this.platform.portIn(this, port, sz, ins.len), ins);
        const v = sz === 1 ? g[0] & 0xff : sz === 2 ? g[0] & 0xffff : g[0];
        return this.act(this.platform.portOut(this, port, sz, v, ins.len), ins);
      }
      case Op.Vmcall:
        return this.act(this.platform.vmcall(this, ins.len), ins);
      case Op.Int3:
        // A trap: INT3 retires, then #BP is delivered with RIP of the next instruction (SDM INT3).
        this.rip = next;
        this.events.branches++;
        this.trap = Vec.BP;
        return true;
      case Op.Ud2:
        return this.fault(Vec.UD, -1);
      case Op.Lidt: {
        if (this.cpl > 0) this.fault(Vec.GP, 0);
        const a = this.ea(ins, 10, false);
        this.cache.access(a, 10);
        this.idtLimit = this.dv.getUint16(a, true);
        this.idtBaseLo = this.dv.getUint32(a + 2, true);
        this.idtBaseHi = this.dv.getUint32(a + 6, true);
        break;
      }
      case Op.Iretq:
        this.iretq();
        this.events.branches++;
        return true;
      case Op.MovFromCr: {
        if (this.cpl > 0) this.fault(Vec.GP, 0);
        const cr = ins.r1;
        let lo: number,
          hi = 0;
        switch (cr) {
          case 0:
            lo = this.cr0;
            break;
          case 2:
            lo = this.cr2Lo;
            hi = this.cr2Hi;
            break;
          case 3:
            lo = this.cr3Lo;
            hi = this.cr3Hi;
            break;
          case 4:
            lo = this.cr4;
            break;
          case 8:
            lo = this.cr8;
            break;
          default:
            return this.fault(Vec.UD, -1);
        }
        this.sr(ins.r0, 8, lo >>> 0, hi);
        break;
      }
      case Op.MovToCr:
        return this.movToCr(ins);
      default: {
        // Bytes this CPU does not implement, or an over-long instruction (SDM §2.3.11: #GP(0)).
        if (ins.fail === DecodeFail.TooLong) return this.fault(Vec.GP, 0);
        return this.fault(Vec.UD, -1);
      }
    }
    this.rip = next;
    return true;
  }

  private movToCr(ins: Insn): boolean {
    if (this.cpl > 0) this.fault(Vec.GP, 0);
    const cr = ins.r0;
    if (cr !== 0 && cr !== 2 && cr !== 3 && cr !== 4 && cr !== 8) this.fault(Vec.UD, -1);
    const lo = this.regs[2 * ins.r1],
      hi = this.regs[2 * ins.r1 + 1];
    const a = this.platform.movToCr(this, cr, lo, hi, ins.len);
    if (a !== PlatformAction.Retire) return this.act(a, ins);
    // SDM MOV CR: reserved bits → #GP(0). Leaving long mode (clearing PG/PE, or CR4.PAE) is not
    // modelled and is refused with #GP(0) as well (documented in docs/cpu.md).
    switch (cr) {
      case 0:
        if (hi !== 0 || (lo & (CR0_PG | CR0_PE)) !== (CR0_PG | CR0_PE)) this.fault(Vec.GP, 0);
        this.cr0 = lo >>> 0;
        break;
      case 2:
        this.cr2Lo = lo;
        this.cr2Hi = hi;
        break;
      case 3:
        this.cr3Lo = lo;
        this.cr3Hi = hi;
        break;
      case 4:
        if (hi !== 0 || (lo & ~CR4_KNOWN) !== 0 || !(lo & CR4_PAE)) this.fault(Vec.GP, 0);
        this.cr4 = lo >>> 0;
        break;
      case 8:
        if (hi !== 0 || lo > 15) this.fault(Vec.GP, 0);
        this.cr8 = lo;
        break;
    }
    this.rip += ins.len;
    return true;
  }

  /** POPFQ / IRETQ flag update at the current CPL (SDM POPF: IOPL only at CPL 0, IF only if CPL ≤ IOPL). */
  private setFlagsFromPop(v: number): void {
    let mask = FLAGS_WRITABLE;
    if (this.cpl > 0) mask &= ~0x3000;
    if (this.cpl > this.iopl) mask &= ~IF;
    this.rflags = ((this.rflags & ~mask) | (v & mask) | RFLAGS_FIXED) >>> 0;
  }

  private iretq(): void {
    // SDM IRET (64-bit mode): pop RIP, CS, RFLAGS, RSP, SS. No GDT is modelled: the new CPL is CS.RPL,
    // and a return to an inner ring is refused with #GP(CS).
    this.peek(8, 0);
    const ripLo = this.aLo,
      ripHi = this.aHi;
    this.peek(8, 8);
    const cs = this.aLo & 0xffff;
    this.peek(8, 16);
    const fl = this.aLo;
    this.peek(8, 24);
    const rspLo = this.aLo,
      rspHi = this.aHi;
    this.peek(8, 32);
    const ss = this.aLo & 0xffff;
    const newCpl = cs & 3;
    if (newCpl < this.cpl) this.fault(Vec.GP, cs & 0xfffc);
    if (!canonical(ripHi)) this.fault(Vec.GP, 0);
    this.setFlagsFromPop(fl);
    this.cpl = newCpl;
    this.cs = cs;
    this.ss = ss;
    this.regs[8] = rspLo;
    this.regs[9] = rspHi;
    this.rip = ripHi * TWO32 + ripLo;
  }

  // ---- exceptions and interrupts ----------------------------------------------------------------

  /** Deliver the fault raised by the last instruction/fetch (fVec/fErr), with #DF / triple-fault escalation. */
  private deliverFault(): void {
    const vec = this.fVec,
      err = this.fErr;
    this.deliverEvent(vec, err, this.rip, 0);
  }

  /**
   * Deliver vector `vec` through the IDT (SDM Vol. 3 §6.12, §6.14). `retRip` is pushed. `kind`: an
   * exception (0), an external interrupt (1) or INT3 (2, software: the gate DPL is checked against CPL,
   * and EXT = 0 in nested error codes). Faults during delivery escalate per SDM Table 6-5.
   */
  private deliverEvent(vec: number, err: number, retRip: number, kind: number): void {
    const chain: FaultRecord[] = [];
    let v = vec,
      e = err,
      k = kind;
    this.deliveries++;
    for (;;) {
      const rec: FaultRecord = { vector: v, errorCode: e >= 0 ? e : null, rip: this.rip };
      chain.push(rec);
      this.lastFault = rec;
      try {
        this.enterGate(v, e, retRip, k !== 2, k === 2);
        this.events.cycles += EVENT_DELIVERY_CYCLES;
        return;
      } catch (x) {
        if (x !== FAULT) throw x;
      }
      const nv = this.fVec,
        ne = this.fErr;
      if (v === Vec.DF && k === 0) {
        // SDM Table 6-5: a fault while delivering #DF → shutdown (triple fault).
        chain.push({ vector: nv, errorCode: ne >= 0 ? ne : null, rip: this.rip });
        this.shutdown = true;
        this.halted = true;
        this.tripleFault = { rip: this.rip, chain };
        return;
      }
      // Classes: benign 0, contributory 1 (#DE, #TS, #NP, #SS, #GP), page fault 2.
      const c1 = k !== 0 ? 0 : exceptionClass(v),
        c2 = exceptionClass(nv);
      if ((c1 === 1 && c2 === 1) || (c1 === 2 && c2 !== 0)) {
        v = Vec.DF;
        e = 0;
      } else {
        v = nv;
        e = ne;
      }
      k = 0;
      retRip = this.rip;
    }
  }

  /** Read the gate and push the frame; any fault throws (caller escalates). */
  private enterGate(v: number, err: number, retRip: number, ext: boolean, soft: boolean): void {
    const extBit = ext ? 1 : 0;
    // SDM §6.14.1: 16-byte gates; beyond the limit → #GP(vector*8 + 2 + EXT).
    if (v * 16 + 15 > this.idtLimit) this.fault(Vec.GP, v * 8 + 2 + extBit);
    let lo = this.idtBaseLo + v * 16,
      hi = this.idtBaseHi;
    if (lo > 0xffffffff) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.check(lo, hi, 16, false, false);
    const dv = this.dv;
    const offLo = dv.getUint16(a, true) | (dv.getUint16(a + 6, true) << 16);
    const offHi = dv.getUint32(a + 8, true);
    const sel = dv.getUint16(a + 2, true);
    const attr = this.mem[a + 5];
    const type = attr & 0xf,
      dpl = (attr >> 5) & 3,
      present = attr >> 7;
    if (type !== 0xe && type !== 0xf) this.fault(Vec.GP, v * 8 + 2 + extBit);
    if (soft && dpl < this.cpl) this.fault(Vec.GP, v * 8 + 2);
    if (!present) this.fault(Vec.NP, v * 8 + 2 + extBit);
    if (!canonical(offHi)) this.fault(Vec.GP, 0);
    // No GDT is modelled: the handler's CPL is the gate selector's RPL (docs/cpu.md).
    const newCpl = sel & 3;
    if (newCpl > this.cpl) this.fault(Vec.GP, (sel & 0xfffc) + extBit);
    const g = this.regs;
    const oldRspLo = g[8],
      oldRspHi = g[9],
      oldSs = this.ss,
      oldCs = this.cs,
      oldCpl = this.cpl;
    // §6.14.2: stack switch on a privilege change (RSP0), then align RSP to 16 and push 5 (or 6) qwords.
    let sLo = newCpl < oldCpl ? this.rsp0Lo : oldRspLo,
      sHi = newCpl < oldCpl ? this.rsp0Hi : oldRspHi;
    sLo = (sLo & ~0xf) >>> 0;
    const n = err >= 0 ? 6 : 5;
    let bLo = sLo - n * 8,
      bHi = sHi;
    if (bLo < 0) {
      bLo += TWO32;
      bHi = (bHi - 1) >>> 0;
    }
    const base = this.check(bLo, bHi, n * 8, true, true);
    const words =
      n === 6 ? [err, retRip, oldCs, this.rflags, oldRspLo, oldSs] : [retRip, oldCs, this.rflags, oldRspLo, oldSs];
    const his =
      n === 6 ? [0, Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0] : [Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0];
    for (let i = 0; i < n; i++) this.wr(base + i * 8, 8, words[i] >>> 0, his[i] >>> 0);
    this.cache.access(base, n * 8);
    g[8] = bLo;
    g[9] = bHi;
    // Gates clear TF, NT, RF; an interrupt gate (type E) also clears IF (§6.12.1.3).
    this.rflags &= ~(TF | 0x4000 | 0x10000 | (type === 0xe ? IF : 0));
    this.cs = sel;
    if (newCpl !== oldCpl) this.ss = newCpl; // null SS with RPL = new CPL (§6.14.4)
    this.cpl = newCpl;
    this.halted = false;
    this.rip = offHi * TWO32 + offLo;
  }
}

export { AF, CF, OF, PF, SF, ZF };
