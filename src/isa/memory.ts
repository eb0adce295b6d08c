/**
 * Guest memory as the CPU sees it: RAM, linear addresses translated through the page tables when paging
 * is on (paging.ts, tlb.ts) and used as physical addresses when it is off, effective addresses, loads
 * and stores with their faults, the stack, and the decoded-instruction / compiled-block caches a store
 * must invalidate (both keyed by physical address). Facts: SDM Vol. 1 §3.7.5 (effective address), Vol. 3
 * §4.7 (#PF error code), §6.15 (#GP/#SS for non-canonical addresses).
 */
import { K, type Insn } from "./insn.js";
import type { Block } from "./jit.js";
import { Access, MMIO_ACCESS, pfAccessBits, walk } from "./paging.js";
import type { MmioBus } from "./platform.js";
import { defaultSeg, segmentedAccess } from "./segments.js";
import { CpuState, type CpuOptions, FAULT, Seg, StopReason, TWO32, Vec, canonical } from "./state.js";
import { TLB_MASK, Tlb } from "./tlb.js";
import { BranchPredictor, CacheModel } from "./uarch.js";
import { LastBranchRecords } from "./lbr.js";
import { release, zeroed } from "./array-pool.js";

/** Bytes past the end of RAM where an access split across two non-contiguous physical pages is
 *  assembled (and written back from): its granules are marked as code so a store there reaches
 *  invalidate(), which copies it back. */
const BOUNCE = 64;

export class CpuMemory extends CpuState {
  readonly mem: Uint8Array;
  /** @internal (the block compiler reads these directly) */
  readonly dv: DataView;
  readonly cache: CacheModel;
  readonly predictor: BranchPredictor;
  /** The last branch record stack (lbr.ts); records only while `lbr.on`. */
  readonly lbr = new LastBranchRecords();
  /** @internal Fault being raised (vector, error code or -1). */
  fVec = 0;
  /** @internal */
  fErr = -1;
  /** @internal Decoded-instruction cache: per 4 KiB page, per byte offset. */
  readonly icache: ((Insn | null)[] | null)[];
  /** @internal One byte per 8-byte granule of RAM: 1 if a decoded instruction has bytes in it (stores
   *  there invalidate exactly the instructions they overlap). */
  readonly codeGranules: Uint8Array;
  /** @internal Compiled blocks by start address (per page). */
  readonly bcache: ((Block | null)[] | null)[];
  /** Whether block compilation is enabled. */
  jitEnabled = true;
  /** Whether compiled register-only loops run their passes as WebAssembly (jit-wasm.ts): the same
   *  results either way; tests turn it off to compare. */
  jitWasm = true;
  /** Linear addresses are translated through the guest's page tables. False in the flat start state
   *  (docs/guest-abi.md: CR0.PG reads 1 but linear = physical until the guest loads CR3) and with
   *  CR0.PG = 0. */
  paging = false;
  readonly tlb = new Tlb();
  /** @internal The RAM offset of the instruction fetch() returned last (paging on). */
  fetchPhys = 0;
  /** @internal The pieces of the split access assembled at the bounce offset (memSize). */
  private splitA = 0;
  private splitB = 0;
  private splitN = 0;
  private splitSize = 0;
  /** Devices behind physical addresses outside RAM (the VM's xAPIC page), or null: such accesses fault. */
  mmio: MmioBus | null = null;
  /** @internal The physical address of the device access walk() found; then that of the store pending at
   *  the bounce offset (-1: none), and its size. */
  mmioPa = -1;
  private mmioSize = 0;
  /** @internal Set by an instruction: stop the run loop after it (a StopReason), or -1. */
  stopReq = -1;
  /** Block-compiler statistics (tests and diagnostics): blocks compiled, blocks dropped by stores, blocks
   *  whose passes run in the loop tier (jit-wasm.ts). */
  readonly jitStats = { compiled: 0, invalidated: 0, wasm: 0 };

  constructor(opts: CpuOptions) {
    super(opts);
    // The bounce bytes exist only while RAM + BOUNCE fits in one typed array (at most 4 GiB).
    const bounce = opts.memSize + BOUNCE <= 2 ** 32 ? BOUNCE : 0;
    this.mem = zeroed(Uint8Array, opts.memSize + bounce);
    this.dv = new DataView(this.mem.buffer);
    this.cache = new CacheModel(opts.memSize + bounce, this.events);
    this.predictor = new BranchPredictor(opts.memSize, this.events);
    const pages = Math.ceil(opts.memSize / 4096);
    this.icache = new Array(pages).fill(null);
    this.codeGranules = zeroed(Uint8Array, Math.ceil((opts.memSize + bounce) / 8));
    this.codeGranules.fill(1, Math.ceil(opts.memSize / 8));
    this.bcache = new Array(pages).fill(null);
  }

  /**
   * The VMM is done with this CPU (the sweep, after each run): RAM and the large tables go to the next CPU
   * built in this thread (array-pool.ts), which gets them cleared, exactly as new ones. Nothing may use
   * this CPU, or anything compiled for it, afterwards.
   */
  release(): void {
    release(this.mem, this.codeGranules);
    this.tlb.release();
    this.cache.release();
    this.predictor.release();
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

  /** The slow path of an access of `size` bytes at linear hi:lo: translated through the page tables
   *  when paging is on, else an address outside RAM: non-canonical → #GP(0) (#SS(0) for stack
   *  references), else #PF (linear = physical covers RAM only; SDM §4.7 error code: P=0, W/R, U/S). */
  private slow(lo: number, hi: number, size: number, write: boolean, stack: boolean, user: boolean): number {
    if (!canonical(hi)) this.fault(stack ? Vec.SS : Vec.GP, 0);
    const access = write ? Access.Write : Access.Read;
    if (this.paging) return this.xlate(lo, hi, size, access, user);
    if (hi === 0 && this.mmio !== null && this.mmio.claims(lo)) return this.mmioAccess(lo, size, write);
    this.cr2Lo = lo;
    this.cr2Hi = hi;
    return this.fault(Vec.PF, pfAccessBits(this, access, user));
  }

  /** @internal The RAM offset of `size` bytes at linear hi:lo (canonical), or -1 after raising the
   *  page fault (paging on). An access that crosses into a page that is not physically contiguous is
   *  assembled at the bounce offset (docs/cpu.md). */
  xlate(lo: number, hi: number, size: number, access: Access, user: boolean): number {
    const pa = this.translate(lo, hi, access, user);
    if (pa < 0) {
      if (pa === MMIO_ACCESS) return this.mmioAccess(this.mmioPa, size, access === Access.Write);
      throw FAULT;
    }
    const off = lo & 4095;
    if (off + size <= 4096) return pa;
    let lo2 = (lo | 4095) + 1,
      hi2 = hi;
    if (lo2 > 0xffffffff) {
      lo2 = 0;
      hi2 = (hi + 1) >>> 0;
      if (!canonical(hi2)) this.fault(Vec.GP, 0);
    }
    const pb = this.translate(lo2, hi2, access, user);
    if (pb < 0) throw FAULT;
    const n = 4096 - off;
    if (pb === pa + n) return pa;
    this.mmioPa = -1;
    if (this.mem.length === this.memSize) this.fault(Vec.GP, 0); // 4 GiB of RAM: no bounce bytes (docs/cpu.md)
    const m = this.mem,
      b = this.memSize;
    m.copyWithin(b, pa, pa + n);
    m.copyWithin(b + n, pb, pb + size - n);
    this.splitA = pa;
    this.splitB = pb;
    this.splitN = n;
    this.splitSize = size;
    return b;
  }

  /** An access to a device page (MmioBus): it is served through the bounce bytes past RAM — a load reads the
   *  device's value there; a store lands there and reaches invalidate(), which hands it to the device. */
  private mmioAccess(pa: number, size: number, write: boolean): number {
    const b = this.memSize;
    if (this.mem.length === b) this.fault(Vec.GP, 0); // no bounce bytes (4 GiB of RAM): nothing can be a device
    const v = this.mmio!.read(pa, size, write);
    this.dv.setUint32(b, v >>> 0, true);
    this.dv.setUint32(b + 4, 0, true);
    this.mmioPa = write ? pa : -1;
    this.mmioSize = size;
    return b;
  }

  /** @internal Linear hi:lo → RAM offset for `access`: the TLB, else a page walk; -1 after raising #PF. */
  translate(lo: number, hi: number, access: Access, user: boolean): number {
    const t = this.tlb,
      p = lo >>> 12,
      i = p & TLB_MASK;
    if (t.tagLo[i] === p && t.tagHi[i] === (hi | 0) && (t.allow[i] & ((1 << access) << (user ? 3 : 0))) !== 0)
      return t.phys[i] + (lo & 4095);
    return walk(this, lo, hi, access, user);
  }

  /** @internal The RAM offset of `size` bytes at hi:lo, or a fault (a CPL-3 access is a user access). */
  check(lo: number, hi: number, size: number, write: boolean, stack: boolean): number {
    if (hi === 0 && lo + size <= this.memSize && !this.paging) return lo;
    return this.slow(lo, hi, size, write, stack, this.cpl === 3);
  }

  /** @internal As check(), for an implicit supervisor access (IDT, a delivery frame on the handler's
   *  stack; SDM §4.6: user-mode or supervisor-mode by the CPL of the access, not of the program). */
  checkAs(lo: number, hi: number, size: number, write: boolean, stack: boolean, user: boolean): number {
    if (hi === 0 && lo + size <= this.memSize && !this.paging) return lo;
    return this.slow(lo, hi, size, write, stack, user);
  }

  /** Turn translation through the page tables on or off (MOV to CR0/CR3, control.ts). Compiled blocks
   *  are built for one of the two and are all dropped; the TLB is flushed. */
  setPaging(on: boolean): void {
    this.tlb.flushAll();
    if (on === this.paging) return;
    this.paging = on;
    for (const page of this.bcache) {
      if (page === null) continue;
      for (let i = 0; i < 4096; i++) {
        const b = page[i];
        if (b !== null) {
          b.valid = false;
          page[i] = null;
        }
      }
    }
  }

  /** @internal Linear address of the memory operand into aLo/aHi (SDM Vol. 1 §3.7.5). */
  linear(ins: Insn): void {
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
    // Truncated to the address size (SDM Vol. 1 §3.3.7; 16-bit addresses wrap at 64 KiB).
    this.aLo = ins.asize === 2 ? lo & 0xffff : lo;
    this.aHi = ins.asize !== 8 ? 0 : hi >>> 0;
  }

  /** @internal Effective address of the memory operand, checked for `size` bytes: its RAM offset. */
  ea(ins: Insn, size: number, write: boolean): number {
    this.linear(ins);
    const lo = this.aLo,
      hi = this.aHi;
    // Segmentation: every access outside 64-bit mode, FS/GS overrides in it (segments.ts).
    if (ins.mode !== 64 || ins.seg >= 0)
      return segmentedAccess(this, ins.seg >= 0 ? ins.seg : defaultSeg(ins), lo, hi, size, write);
    if (hi === 0 && lo + size <= this.memSize && !this.paging) return lo;
    return this.slow(lo, hi, size, write, ins.base === 4 || ins.base === 5, this.cpl === 3);
  }

  /** @internal INVLPG: the TLB entries of the page holding the operand's linear address (nothing is
   *  translated; a non-canonical address drops nothing). */
  invlpg(ins: Insn): void {
    this.linear(ins);
    if (canonical(this.aHi)) this.tlb.invlpg(this.aLo, this.aHi);
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
    if (a >= this.memSize && this.mmioPa >= 0) {
      // A store to a device (mmioAccess): hand it over, then end the run after this instruction.
      const pa = this.mmioPa;
      this.mmioPa = -1;
      const b = this.memSize;
      this.mmio!.write(pa, this.mmioSize, this.dv.getUint32(b, true), this.dv.getUint32(b + 4, true));
      if (this.stopReq < 0) this.stopReq = StopReason.Budget;
      return;
    }
    if (a >= this.memSize) {
      // A store to the bounce bytes (xlate): write the two pieces back, as stores of their own.
      // A frame written a quadword at a time stores here several times: each writes back the whole.
      const m = this.mem,
        b = this.memSize,
        n = this.splitN,
        total = this.splitSize;
      m.copyWithin(this.splitA, b, b + n);
      m.copyWithin(this.splitB, b + n, b + total);
      this.invalidate(this.splitA, n);
      this.invalidate(this.splitB, total - n);
      return;
    }
    const start = Math.max(0, a - 14),
      end = Math.min(this.memSize, a + size);
    for (let p = start; p < end; p++) {
      const page = this.icache[p >>> 12];
      if (!page) {
        p = p | 4095;
        continue;
      }
      const ins = page[p & 4095];
      if (ins && p + Math.max(ins.len, 1) > a) this.dropInsn(page, p & 4095);
    }
  }

  /** @internal Forget the decoded instruction at `off` of an icache page and every block containing it
   *  (its bytes changed, or another linear address now runs them). */
  dropInsn(page: (Insn | null)[], off: number): void {
    const ins = page[off];
    if (ins === null) return;
    ins.valid = false;
    page[off] = null;
    if (ins.blocks) {
      for (const b of ins.blocks) {
        if (b.valid) this.jitStats.invalidated++;
        b.valid = false;
        const bp = this.bcache[b.phys >>> 12];
        if (bp && bp[b.phys & 4095] === b) bp[b.phys & 4095] = null;
      }
      ins.blocks = null;
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
    if (this.stackBytes !== 8) {
      // ESP or SP by SS.B, through SS (SDM Vol. 2 PUSH: StackAddrSize).
      const mask = this.stackBytes === 4 ? 0xffffffff : 0xffff;
      const sp = (g[8] - size) & mask;
      const a = segmentedAccess(this, Seg.SS, sp >>> 0, 0, size, true);
      this.wr(a, size, lo, hi);
      this.cache.access(a, size);
      g[8] = mask === 0xffff ? (g[8] & 0xffff0000) | sp : sp >>> 0;
      return;
    }
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
    if (this.stackBytes !== 8) {
      const sp = (g[8] + off) & (this.stackBytes === 4 ? 0xffffffff : 0xffff);
      const a = segmentedAccess(this, Seg.SS, sp >>> 0, 0, size, false);
      this.rd(a, size);
      this.cache.access(a, size);
      return;
    }
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
    if (this.stackBytes === 4) {
      g[8] = (g[8] + n) >>> 0;
      return;
    }
    if (this.stackBytes === 2) {
      g[8] = (g[8] & 0xffff0000) | ((g[8] + n) & 0xffff);
      return;
    }
    const lo = g[8] + n;
    if (lo > 0xffffffff) g[9] = (g[9] + 1) >>> 0;
    g[8] = lo;
  }
}
