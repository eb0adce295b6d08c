/**
 * Guest memory as the CPU sees it: identity-mapped RAM, effective addresses, loads and stores with the
 * faults an access outside RAM raises, the stack, and the decoded-instruction / compiled-block caches a
 * store must invalidate. Facts: SDM Vol. 1 §3.7.5 (effective address), Vol. 3 §4.7 (#PF error code),
 * §6.15 (#GP/#SS for non-canonical addresses).
 */
import { K, type Insn } from "./insn.js";
import type { Block } from "./jit.js";
import { CpuState, type CpuOptions, FAULT, TWO32, Vec, canonical } from "./state.js";
import { BranchPredictor, CacheModel } from "./uarch.js";

export class CpuMemory extends CpuState {
  readonly mem: Uint8Array;
  /** @internal (the block compiler reads these directly) */
  readonly dv: DataView;
  readonly cache: CacheModel;
  readonly predictor: BranchPredictor;
  /** @internal Fault being raised (vector, error code or -1). */
  fVec = 0;
  /** @internal */
  fErr = -1;
  /** @internal Decoded-instruction cache: per 4 KiB page, per byte offset. */
  readonly icache: (Insn | null)[][];
  /** @internal One byte per 8-byte granule of RAM: 1 if a decoded instruction has bytes in it (stores
   *  there invalidate exactly the instructions they overlap). */
  readonly codeGranules: Uint8Array;
  /** @internal Compiled blocks by start address (per page). */
  readonly bcache: (Block | null)[][];
  /** Whether block compilation is enabled. */
  jitEnabled = true;
  /** Block-compiler statistics (tests and diagnostics): blocks compiled, blocks dropped by stores. */
  readonly jitStats = { compiled: 0, invalidated: 0 };

  constructor(opts: CpuOptions) {
    super(opts);
    this.mem = new Uint8Array(opts.memSize);
    this.dv = new DataView(this.mem.buffer);
    this.cache = new CacheModel(opts.memSize, this.events);
    this.predictor = new BranchPredictor(opts.memSize, this.events);
    const pages = Math.ceil(opts.memSize / 4096);
    this.icache = new Array(pages).fill(null);
    this.codeGranules = new Uint8Array(Math.ceil(opts.memSize / 8));
    this.bcache = new Array(pages).fill(null);
  }

  /** IBPB (PRED_CMD): forget all branch history. */
  resetBranchPredictor(): void {
    this.predictor.reset();
  }

  /** Copy bytes into guest memory (the VMM's loader); invalidates cached decodes it overwrites. */
  load(addr: number, bytes: Uint8Array): void {
    this.mem.set(bytes, addr);
    this.invalidate(addr, bytes.length);
  }

  /** @internal Raise exception `vec` with error code `err` (-1: none): unwinds the instruction. */
  fault(vec: number, err: number): never {
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

  /** @internal The RAM offset of `size` bytes at hi:lo, or a fault. */
  check(lo: number, hi: number, size: number, write: boolean, stack: boolean): number {
    if (hi === 0 && lo + size <= this.memSize) return lo;
    return this.bad(lo, hi, write, stack);
  }

  /** @internal Effective address of the memory operand, checked for `size` bytes. */
  ea(ins: Insn, size: number, write: boolean): number {
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

  /** @internal Read `size` bytes at RAM offset a into aLo/aHi. */
  rd(a: number, size: number): void {
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

  /** @internal Write `size` bytes at RAM offset a (invalidating decoded code it overwrites). */
  wr(a: number, size: number, lo: number, hi: number): void {
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

  /** @internal Load operand (kind k, register r) of `ins` at `size` into aLo/aHi; returns the address
   *  for memory, -1 otherwise. */
  ld(ins: Insn, k: K, r: number, size: number, write: boolean): number {
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

  /** @internal Store to operand 0: register r0 or memory at `a` (already checked). */
  st0(ins: Insn, a: number, size: number, lo: number, hi: number): void {
    if (a < 0) this.sr(ins.r0, size, lo, hi);
    else this.wr(a, size, lo, hi);
  }

  // ---- stack --------------------------------------------------------------------------------------
  /** @internal */
  push(size: number, lo: number, hi: number): void {
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

  /** @internal Read the stack top at RSP + off into aLo/aHi (no RSP change). */
  peek(size: number, off: number): void {
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

  /** @internal */
  addRsp(n: number): void {
    const g = this.regs;
    const lo = g[8] + n;
    if (lo > 0xffffffff) g[9] = (g[9] + 1) >>> 0;
    g[8] = lo;
  }
}
