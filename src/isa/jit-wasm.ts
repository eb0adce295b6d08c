/**
 * The loop tier: the passes of a register-only block that branches back to its own start, compiled to
 * WebAssembly with every guest register it touches in an i64 local. A pass of W2 (eight 64-bit ALU
 * operations and dec/jnz) is then a dozen host instructions, where the JS block (jit.ts) works on 32-bit
 * halves in `R[]`.
 *
 * Division of labour with the JS block, which stays exact by construction:
 * - the wasm function runs whole passes and commits one only when its final branch is taken; a pass
 *   whose branch is not taken is undone (its registers restored from copies made at the pass start), so
 *   it returns with the registers as they were before that pass;
 * - the JS block then runs its ordinary loop from there: the pass that leaves (flags, predictor, counts
 *   and RIP exactly as ever), or, when the budget ran out, the last pass it may run.
 * Memory operands whose RAM offset the JS block finds once at entry (hoisted: their registers are never
 * written in the block, and no pass looks up the cache, jit.ts warmLines) are accessed in a copy of the
 * bytes they span, made before the call and copied back after it; a store saves the bytes it overwrites,
 * so an undone pass restores them too (in reverse order: overlapping stores come back exactly).
 * The wasm code therefore computes values only: no flags, except the final branch's condition. A block
 * qualifies (`wasmLoop`) when none of its other instructions reads a flag, and the flags its condition
 * tests were all last written by one instruction of the pass (so a pass needs nothing of the previous
 * pass's flags); the JS block's exit flags come from its own last pass, as they always did.
 * test/isa/jit-wasm.test.ts runs random such loops against the interpreter and requires identical state.
 */
import { AluOp, ShiftOp } from "./alu.js";
import { CF, OF, PF, SF, ZF } from "./flags.js";
import { type Insn, K } from "./insn.js";
import { Op } from "./ops.js";
import { flagsRead, flagsWritten } from "./semantics.js";
import { predictTaken } from "./jit-emit.js";
import { moduleBytes, OPS32, OPS64, type Ops, sleb32, sleb64, uleb, W } from "./wasm-module.js";

/** The part of the WebAssembly JS API used here (the project's TypeScript libraries declare none). */
declare namespace WebAssembly {
  class Memory {
    constructor(d: { initial: number; maximum: number });
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(m: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

/** A compiled loop: `run(max)` runs at most `max` (≥ 1) committed passes on the registers in `regs`
 *  (halves, as `Cpu.regs`) and returns how many it committed. */
export interface WasmLoop {
  readonly run: (max: number) => number;
  /** The register file the function works on (shared by every loop of this thread). */
  readonly regs: Uint32Array;
  /** Register halves the block reads or writes (copied in before a call), and those it writes (copied
   *  back after one). */
  readonly used: readonly number[];
  readonly written: readonly number[];
  /** The memory operands (instruction index, bytes) in the order of their slots in `offsets`. */
  readonly accesses: readonly { k: number; size: number }[];
  /** The shared memory's bytes: the span the accesses cover is copied to SPAN_AT. */
  readonly bytes: Uint8Array;
  /** Each access's offset in that span (slot j at index j). */
  readonly offsets: Int32Array;
}

/** Layout of the shared memory: registers at 0 (8 bytes each), access offsets at OFFSETS_AT (4 bytes
 *  each, at most MAX_ACCESSES), then the copied span at SPAN_AT, at most SPAN_MAX bytes. */
const OFFSETS_AT = 128,
  MAX_ACCESSES = 32;
export const SPAN_AT = 256,
  SPAN_MAX = 1024;

/** The flags each condition code tests (SDM Table B-1), by cc >> 1 (as jit.ts CC_FLAGS). */
const CC_FLAGS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

/** How a flag-writing instruction's flags follow from its operands a, b and result r. */
const Kind = { Add: 0, Sub: 1, Logic: 2 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** Local indices: 0 the parameter (max passes), then i32 locals, then i64 locals. */
const L_MAX = 0,
  L_K = 1,
  L_COND = 2,
  L_A32 = 3,
  L_B32 = 4,
  L_R32 = 5,
  FIXED_I32 = 5;

/** A memory operand of the block: its slot, and the local saving the bytes a store overwrites. */
interface Access {
  k: number;
  size: number;
  store: boolean;
}

const get = (i: number): number[] => [W.localGet, ...uleb(i)];
const set = (i: number): number[] => [W.localSet, ...uleb(i)];
const tee = (i: number): number[] => [W.localTee, ...uleb(i)];

/** A register operand of 4 or 8 bytes (0..15: no AH..BH), or an immediate. */
const plainReg = (k: K, r: number): boolean => k === K.Reg && r >= 0 && r < 16;

/** The emitter of one block's function. */
class Emitter {
  readonly code: number[] = [];
  /** i64 local of each guest register used, and of its copy made at the pass start (written ones). */
  private readonly local = new Map<number, number>();
  private readonly copy = new Map<number, number>();
  /** By instruction index: the i32 local holding its access's offset in the span, and the local (i32 for
   *  4 bytes, i64 for 8) saving what its store overwrites. */
  readonly off = new Map<number, number>();
  readonly old = new Map<number, number>();
  readonly i32Locals: number;
  private nextLocal: number;
  readonly a64: number;
  readonly b64: number;
  readonly r64: number;

  constructor(
    readonly used: readonly number[],
    readonly written: readonly number[],
    readonly accesses: readonly Access[],
  ) {
    let i32 = FIXED_I32 + 1;
    for (const a of accesses) this.off.set(a.k, i32++);
    for (const a of accesses) if (a.store && a.size === 4) this.old.set(a.k, i32++);
    this.i32Locals = i32 - 1;
    this.nextLocal = i32;
    for (const r of used) this.local.set(r, this.nextLocal++);
    for (const r of written) this.copy.set(r, this.nextLocal++);
    for (const a of accesses) if (a.store && a.size === 8) this.old.set(a.k, this.nextLocal++);
    this.a64 = this.nextLocal++;
    this.b64 = this.nextLocal++;
    this.r64 = this.nextLocal++;
  }

  get i64Locals(): number {
    return this.nextLocal - (this.i32Locals + 1);
  }

  /** Load `size` bytes of instruction k's memory operand. */
  load(k: number, size: number): number[] {
    return [...get(this.off.get(k) as number), size === 8 ? W.i64Load : W.i32Load, 0, ...uleb(SPAN_AT)];
  }

  /** Load `bytes` (1, 2 or 4) of instruction k's memory operand, zero-extended to the type of `size`. */
  loadZx(k: number, bytes: number, size: number): number[] {
    const op =
      size === 8
        ? bytes === 1
          ? W.i64Load8U
          : bytes === 2
            ? W.i64Load16U
            : W.i64Load32U
        : bytes === 1
          ? W.i32Load8U
          : bytes === 2
            ? W.i32Load16U
            : W.i32Load;
    return [...get(this.off.get(k) as number), op, 0, ...uleb(SPAN_AT)];
  }

  /** Store the value on the stack (after `storeAddr`) to instruction k's memory operand. */
  storeAddr(k: number): number[] {
    return get(this.off.get(k) as number);
  }
  store(size: number): number[] {
    return [size === 8 ? W.i64Store : W.i32Store, 0, ...uleb(SPAN_AT)];
  }

  reg(r: number): number {
    return this.local.get(r) as number;
  }

  copyOf(r: number): number {
    return this.copy.get(r) as number;
  }

  /** Push operand (kind k, register r) of `size` bytes; a memory operand is instruction `at`'s. */
  operand(ins: Insn, k: K, r: number, size: number, at = -1): number[] {
    if (k === K.Mem) return this.load(at, size);
    if (k === K.Imm)
      return size === 8 ? [W.i64Const, ...sleb64(ins.immLo, ins.immHi)] : [W.i32Const, ...sleb32(ins.immLo)];
    return size === 8 ? get(this.reg(r)) : [...get(this.reg(r)), W.i32WrapI64];
  }

  /** Store the value on the stack (of `size` bytes) in register r: 4-byte results zero-extend (SDM Vol. 1
   *  §3.4.1.1). */
  writeReg(r: number, size: number): number[] {
    return size === 8 ? set(this.reg(r)) : [W.i64ExtendI32U, ...set(this.reg(r))];
  }
}

/** The operation an instruction performs, or null where the loop tier does not compile it: `kind` (null:
 *  it writes no flags the tier computes), operands a and b (pushed in order), the result's opcodes, and
 *  whether the result is written to the destination (a register, or the memory operand). */
interface Form {
  kind: Kind | null;
  /** INC/DEC: CF is not written. */
  noCf: boolean;
  a: number[];
  b: number[];
  op: number[];
  write: boolean;
}

/** A register of 4 or 8 bytes, or the memory operand (hoisted, checked by the caller). */
const regOrMem = (k: K, r: number): boolean => plainReg(k, r) || k === K.Mem;

function form(e: Emitter, ins: Insn, at: number): Form | null {
  const s = ins.size;
  if (s !== 4 && s !== 8) return null;
  const o = s === 8 ? OPS64 : OPS32;
  if (!regOrMem(ins.k0, ins.r0)) return null;
  const dst = () => e.operand(ins, ins.k0, ins.r0, s, at);
  const src = (): number[] | null =>
    ins.k1 === K.Imm || regOrMem(ins.k1, ins.r1) ? e.operand(ins, ins.k1, ins.r1, s, at) : null;
  switch (ins.op) {
    case Op.Alu: {
      const b = src();
      if (b === null) return null;
      const sub = ins.sub;
      if (sub === AluOp.Adc || sub === AluOp.Sbb) return null;
      const op =
        sub === AluOp.Add
          ? o.add
          : sub === AluOp.Sub || sub === AluOp.Cmp
            ? o.sub
            : sub === AluOp.And
              ? o.and
              : sub === AluOp.Or
                ? o.or
                : o.xor;
      const kind = sub === AluOp.Add ? Kind.Add : sub === AluOp.Sub || sub === AluOp.Cmp ? Kind.Sub : Kind.Logic;
      return { kind, noCf: false, a: dst(), b, op: [op], write: sub !== AluOp.Cmp };
    }
    case Op.Test: {
      const b = src();
      if (b === null) return null;
      return { kind: Kind.Logic, noCf: false, a: dst(), b, op: [o.and], write: false };
    }
    case Op.IncDec:
      if (ins.sub !== 0 && ins.sub !== 1) return null;
      return {
        kind: ins.sub === 0 ? Kind.Add : Kind.Sub,
        noCf: true,
        a: dst(),
        b: o.one,
        op: [ins.sub === 0 ? o.add : o.sub],
        write: true,
      };
    case Op.Neg:
      return { kind: Kind.Sub, noCf: false, a: o.zero, b: dst(), op: [o.sub], write: true };
    case Op.Not:
      return { kind: null, noCf: false, a: dst(), b: o.minusOne, op: [o.xor], write: true };
    case Op.Mov: {
      const b = src();
      if (b === null || (ins.k0 === K.Mem && ins.k1 === K.Mem)) return null;
      return { kind: null, noCf: false, a: [], b, op: [], write: true };
    }
    case Op.Shift: {
      if (ins.k1 !== K.Imm) return null;
      const n = ins.immLo & (s === 8 ? 63 : 31);
      const op =
        ins.sub === ShiftOp.Shl ? o.shl : ins.sub === ShiftOp.Shr ? o.shrU : ins.sub === ShiftOp.Sar ? o.shrS : -1;
      if (op < 0) return null;
      // A count masked to 0 changes nothing (SDM SAL/SAR/SHL/SHR: "if the count is 0, the flags are not
      // affected"; the operand is not written either).
      if (n === 0) return { kind: null, noCf: false, a: [], b: [], op: [], write: false };
      return {
        kind: null,
        noCf: false,
        a: dst(),
        b: s === 8 ? [W.i64Const, ...sleb64(n, 0)] : [W.i32Const, ...sleb32(n)],
        op: [op],
        write: true,
      };
    }
    case Op.Movzx:
    case Op.Movsx: {
      // MOVZX/MOVSX/MOVSXD: the source's low srcSize bytes, zero- or sign-extended to the operand size.
      const ss = ins.srcSize;
      if (ss !== 1 && ss !== 2 && ss !== 4) return null;
      let v: number[];
      if (ins.k1 === K.Mem) v = e.loadZx(at, ss, s);
      else if (plainReg(ins.k1, ins.r1)) {
        v = e.operand(ins, K.Reg, ins.r1, s);
        if (ins.op === Op.Movzx && ss < 4)
          v = [
            ...v,
            ...(s === 8
              ? [W.i64Const, ...sleb64(ss === 1 ? 0xff : 0xffff, 0)]
              : [W.i32Const, ...sleb32(ss === 1 ? 0xff : 0xffff)]),
            o.and,
          ];
      } else return null;
      if (ins.op === Op.Movsx) {
        const ext =
          s === 8
            ? ss === 1
              ? W.i64Extend8S
              : ss === 2
                ? W.i64Extend16S
                : W.i64Extend32S
            : ss === 1
              ? W.i32Extend8S
              : ss === 2
                ? W.i32Extend16S
                : -1;
        if (ext >= 0) v = [...v, ext];
      }
      return { kind: null, noCf: false, a: [], b: v, op: [], write: true };
    }
    case Op.Imul2: {
      // IMUL r, r/m (, imm): the low `size` bytes of the product (its CF/OF are not computed: never the
      // flag source).
      if (ins.k0 !== K.Reg) return null;
      const m = ins.k1 === K.Imm || regOrMem(ins.k1, ins.r1) ? e.operand(ins, ins.k1, ins.r1, s, at) : null;
      if (m === null) return null;
      if (ins.k2 === K.Imm) {
        const imm = s === 8 ? [W.i64Const, ...sleb64(ins.immLo, ins.immHi)] : [W.i32Const, ...sleb32(ins.immLo)];
        return { kind: null, noCf: false, a: m, b: imm, op: [o.mul], write: true };
      }
      return { kind: null, noCf: false, a: dst(), b: m, op: [o.mul], write: true };
    }
    default:
      return null;
  }
}

/** LEA r, [base + index*scale + disp] (no memory access): the 64-bit sum, truncated to the address size,
 *  then to the operand size (SDM LEA, Table 3-54). */
function lea(e: Emitter, ins: Insn): number[] | null {
  if (ins.op !== Op.Lea || (ins.size !== 4 && ins.size !== 8) || !plainReg(ins.k0, ins.r0) || ins.seg >= 0) return null;
  if ((ins.base >= 16 || ins.index >= 16) && !ins.ripRel) return null;
  const out: number[] = [W.i64Const, ...sleb64(ins.dispLo, ins.dispHi)];
  if (ins.base >= 0 && !ins.ripRel) out.push(...get(e.reg(ins.base)), W.i64Add);
  if (ins.index >= 0) {
    out.push(...get(e.reg(ins.index)));
    if (ins.scale !== 1) out.push(W.i64Const, ...sleb64(ins.scale, 0), W.i64Mul);
    out.push(W.i64Add);
  }
  if (ins.addr32 || ins.size === 4) out.push(W.i32WrapI64, W.i64ExtendI32U);
  return [...out, ...set(e.reg(ins.r0))];
}

/** Registers an instruction reads and writes as operands (for the locals and the copies); a memory
 *  operand's address registers are not among them (its offset comes from the JS block). */
function regsOf(ins: Insn): { reads: number[]; writes: number[] } {
  if (ins.op === Op.Lea) {
    const reads = [ins.base, ins.index].filter((r) => r >= 0 && !(ins.ripRel && r === ins.base));
    return { reads, writes: [ins.r0] };
  }
  if (ins.op === Op.Nop) return { reads: [], writes: [] };
  const reads: number[] = [];
  if (ins.k0 === K.Reg) reads.push(ins.r0);
  if (ins.k1 === K.Reg) reads.push(ins.r1);
  const noWrite = ins.op === Op.Test || (ins.op === Op.Alu && ins.sub === AluOp.Cmp);
  return { reads, writes: ins.k0 === K.Reg && !noWrite ? [ins.r0] : [] };
}

/** The condition code `cc` as an i32 (1 = taken) from the operands and result in locals a, b, r. */
function condition(kind: Kind, cc: number, o: Ops, size: number, a: number, b: number, r: number): number[] {
  const base = cc >> 1;
  const zf = () => [...get(r), o.eqz];
  const sf = () => [...get(r), ...o.zero, o.ltS];
  const cf = () =>
    kind === Kind.Add
      ? [...get(r), ...get(a), o.ltU]
      : kind === Kind.Sub
        ? [...get(a), ...get(b), o.ltU]
        : [W.i32Const, 0];
  const of = () =>
    kind === Kind.Logic
      ? [W.i32Const, 0]
      : kind === Kind.Add
        ? [...get(a), ...get(r), o.xor, ...get(b), ...get(r), o.xor, o.and, ...o.zero, o.ltS]
        : [...get(a), ...get(b), o.xor, ...get(a), ...get(r), o.xor, o.and, ...o.zero, o.ltS];
  const pf = () => [
    ...get(r),
    ...(size === 8 ? [W.i32WrapI64] : []),
    W.i32Const,
    ...sleb32(255),
    W.i32And,
    W.i32Popcnt,
    W.i32Const,
    1,
    W.i32And,
    W.i32Eqz,
  ];
  let c: number[];
  // A subtraction's conditions straight from its operands (SDM Table B-1: B = CF, BE = CF|ZF, L = SF≠OF,
  // LE = ZF|(SF≠OF), after a − b).
  if (kind === Kind.Sub && base === 1) c = [...get(a), ...get(b), o.ltU];
  else if (kind === Kind.Sub && base === 3) c = [...get(a), ...get(b), o.leU];
  else if (kind === Kind.Sub && base === 6) c = [...get(a), ...get(b), o.ltS];
  else if (kind === Kind.Sub && base === 7) c = [...get(a), ...get(b), o.leS];
  else if (base === 0) c = of();
  else if (base === 1) c = cf();
  else if (base === 2) c = zf();
  else if (base === 3) c = [...cf(), ...zf(), W.i32Or];
  else if (base === 4) c = sf();
  else if (base === 5) c = pf();
  else if (base === 6) c = [...sf(), ...of(), W.i32Ne];
  else c = [...zf(), ...sf(), ...of(), W.i32Ne, W.i32Or];
  return (cc & 1) !== 0 ? [...c, W.i32Eqz] : c;
}

/** One memory for the register files and spans of every loop of this thread (calls never nest: each
 *  copies its state in and out), and the compiled loops by their code, at most CACHE_MAX of them. */
let shared: { memory: WebAssembly.Memory; regs: Uint32Array; bytes: Uint8Array; offsets: Int32Array } | null = null;
const compiled = new Map<string, (max: number) => number>();
const CACHE_MAX = 256;

/** The bytes instruction `ins` accesses through its memory operand (0: none). */
const memBytes = (ins: Insn): number =>
  (ins.k0 === K.Mem || ins.k1 === K.Mem) && ins.op !== Op.Lea && ins.op !== Op.Nop
    ? ins.op === Op.Movzx || ins.op === Op.Movsx
      ? ins.srcSize
      : ins.size
    : 0;

/**
 * The loop tier's function for the block `insns` (its last instruction a Jcc back to the block start; the
 * caller has checked that no instruction may leave the block mid-pass and that no pass looks up the
 * cache), or null where it does not qualify. `hoisted`: the instructions whose memory operand's RAM offset
 * the JS block finds at entry; any other memory operand disqualifies the block.
 */
export function wasmLoop(insns: readonly Insn[], hoisted: ReadonlySet<number>): WasmLoop | null {
  const n = insns.length;
  const jcc = insns[n - 1];
  if (
    jcc.op !== Op.Jcc ||
    jcc.target !== insns[0].addr ||
    typeof (globalThis as { WebAssembly?: unknown }).WebAssembly !== "object"
  )
    return null;
  const need = CC_FLAGS[jcc.cc >> 1];
  // The condition's flags all come from one instruction of the pass, and nothing else reads a flag.
  let source = -1;
  for (let i = n - 2; i >= 0 && source < 0; i--) {
    const w = flagsWritten(insns[i]) & need;
    if (w === 0) continue;
    if (w !== need) return null;
    source = i;
  }
  if (source < 0) return null;
  const usedSet = new Set<number>(),
    writtenSet = new Set<number>();
  const accesses: Access[] = [];
  for (let i = 0; i < n - 1; i++) {
    const ins = insns[i];
    if (flagsRead(ins) !== 0 || ins.seg >= 0 || (ins.k2 !== K.None && !(ins.op === Op.Imul2 && ins.k2 === K.Imm)))
      return null;
    const size = memBytes(ins);
    if (size !== 0) {
      if (!hoisted.has(i)) return null;
      accesses.push({ k: i, size, store: ins.k0 === K.Mem });
    }
    const rw = regsOf(ins);
    for (const r of rw.reads) usedSet.add(r);
    for (const r of rw.writes) {
      usedSet.add(r);
      writtenSet.add(r);
    }
  }
  if (accesses.length > MAX_ACCESSES) return null;
  for (const r of usedSet) if (r < 0 || r >= 16) return null;
  const used = [...usedSet].sort((x, y) => x - y),
    written = [...writtenSet].sort((x, y) => x - y);
  const e = new Emitter(used, written, accesses);
  const c = e.code;
  for (const r of used) c.push(W.i32Const, 0, W.i64Load, 3, ...uleb(8 * r), ...set(e.reg(r)));
  accesses.forEach((a, j) => {
    c.push(W.i32Const, 0, W.i32Load, 2, ...uleb(OFFSETS_AT + 4 * j), ...set(e.off.get(a.k) as number));
  });
  const srcIns = insns[source];
  if (srcIns.op === Op.Nop || srcIns.op === Op.Lea) return null;
  const sf = form(e, srcIns, source);
  if (sf === null || sf.kind === null || (sf.noCf && (need & CF) !== 0)) return null;
  const ss = srcIns.size;
  const so = ss === 8 ? OPS64 : OPS32;
  const [la, lb, lr] = ss === 8 ? [e.a64, e.b64, e.r64] : [L_A32, L_B32, L_R32];
  const srcResult = [...sf.a, ...tee(la), ...sf.b, ...tee(lb), ...sf.op, ...tee(lr)];
  const srcCond = [...condition(sf.kind, jcc.cc, so, ss, la, lb, lr)];
  // Early condition: where no instruction before the flag source writes a register it reads (nor stores,
  // when it reads memory), its operands at the pass start are those it will see, so the branch's outcome
  // is known before the pass begins: a pass that would fall through is not begun, and nothing is undone.
  const readsOfSrc = regsOf(srcIns).reads;
  const early = insns
    .slice(0, source)
    .every((i) => !regsOf(i).writes.some((r) => readsOfSrc.includes(r)) && !(memBytes(srcIns) !== 0 && i.k0 === K.Mem));
  // block $out; loop $pass: if k >= max: br $out
  c.push(W.block, W.void, W.loop, W.void);
  const passAt = c.length;
  c.push(...get(L_K), ...get(L_MAX), W.i32GeS, W.brIf, 1);
  if (early) c.push(...srcResult, W.drop, ...srcCond, W.i32Eqz, W.brIf, 1);
  else for (const r of written) c.push(...get(e.reg(r)), ...set(e.copyOf(r)));
  const stores: Access[] = [];
  for (let i = 0; i < n - 1; i++) {
    const ins = insns[i];
    if (ins.op === Op.Nop) continue;
    if (ins.op === Op.Lea) {
      const js = lea(e, ins);
      if (js === null) return null;
      c.push(...js);
      continue;
    }
    const f = form(e, ins, i);
    if (f === null) return null;
    const s = ins.size;
    const toMem = ins.k0 === K.Mem;
    if (toMem && f.write && !early) {
      // Save what the store overwrites (restored if the pass is undone).
      c.push(...e.load(i, s), ...set(e.old.get(i) as number));
      stores.push({ k: i, size: s, store: true });
    }
    const pre = toMem && f.write ? e.storeAddr(i) : [];
    const post = toMem ? e.store(s) : e.writeReg(ins.r0, s);
    if (i === source) {
      // Early: its result was found at the pass start (its operands have not changed since).
      if (early) {
        if (f.write) c.push(...pre, ...get(lr), ...post);
        continue;
      }
      if (f.write) c.push(...pre, ...f.a, ...tee(la), ...f.b, ...tee(lb), ...f.op, ...tee(lr), ...post);
      else c.push(...srcResult, W.drop);
      c.push(...srcCond, ...set(L_COND));
      continue;
    }
    // CMP/TEST, and a shift by a count masked to 0, change nothing.
    if (!f.write) continue;
    c.push(...pre, ...f.a, ...f.b, ...f.op, ...post);
  }
  if (!early) {
    // Not taken: undo the pass (stores in reverse order, then registers) and stop. Taken: commit it.
    c.push(...get(L_COND), W.i32Eqz, W.if, W.void);
    for (let j = stores.length - 1; j >= 0; j--) {
      const st = stores[j];
      c.push(...e.storeAddr(st.k), ...get(e.old.get(st.k) as number), ...e.store(st.size));
    }
    for (const r of written) c.push(...get(e.copyOf(r)), ...set(e.reg(r)));
    c.push(W.br, 2, W.end);
  }
  c.push(...get(L_K), W.i32Const, 1, W.i32Add, ...set(L_K));
  // Early: the pass is written twice in the loop, so half as many loop back-edges (each with V8's
  // interrupt check) run; every pass still checks the bound and its condition first.
  if (early) c.push(...c.slice(passAt));
  c.push(W.br, 0, W.end, W.end);
  for (const r of written) c.push(W.i32Const, 0, ...get(e.reg(r)), W.i64Store, 3, ...uleb(8 * r));
  c.push(...get(L_K));
  const bytes = moduleBytes(c, e.i32Locals, e.i64Locals);
  if (shared === null) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    shared = {
      memory,
      regs: new Uint32Array(memory.buffer, 0, 32),
      bytes: new Uint8Array(memory.buffer),
      offsets: new Int32Array(memory.buffer, OFFSETS_AT, MAX_ACCESSES),
    };
  }
  const key = String.fromCharCode(...bytes);
  let run = compiled.get(key);
  if (run === undefined) {
    let inst: WebAssembly.Instance;
    try {
      inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: shared.memory } });
    } catch {
      // The engine refused the module (out of memory for code, say): the block runs in JS alone, exactly
      // as it would have (test/isa/jit-wasm counts the blocks that use the tier, so a module this code
      // encodes wrongly fails the tests rather than passing unnoticed).
      return null;
    }
    run = inst.exports.f as (max: number) => number;
    if (compiled.size >= CACHE_MAX) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, run);
  }
  return {
    run,
    regs: shared.regs,
    used: used.flatMap((r) => [2 * r, 2 * r + 1]),
    written: written.flatMap((r) => [2 * r, 2 * r + 1]),
    accesses: accesses.map((a) => ({ k: a.k, size: a.size })),
    bytes: shared.bytes,
    offsets: shared.offsets,
  };
}

/**
 * The loop tier's part of a block's JS (jit-wasm.ts), run before its loop: the registers (and the bytes
 * the memory operands span, at most SPAN_MAX of them, at their RAM offsets `P<k>` found at entry) are
 * copied to the loop's memory, all passes but the last that the budget allows run there, and what the
 * committed passes changed is copied back; the JS loop then runs from there.
 */
export function loopTierJs(w: WasmLoop): string {
  const regsIn = w.used.map((h) => `WR[${h}] = R[${h}];`).join(" ");
  const regsOut = w.written.map((h) => `R[${h}] = WR[${h}];`).join(" ");
  if (w.accesses.length === 0)
    return `  if (maxIters > 1) {
    ${regsIn}
    const wk = WL(maxIters - 1);
    if (wk > 0) { ${regsOut} iters = wk; ${predictTaken(true)} }
  }
`;
  const [first, ...rest] = w.accesses;
  const span = rest.map(
    (a) => `if (P${a.k} < lo) lo = P${a.k}; if (P${a.k} + ${a.size} > hi) hi = P${a.k} + ${a.size};`,
  );
  return `  if (maxIters > 1) {
    let lo = P${first.k}, hi = P${first.k} + ${first.size}; ${span.join(" ")}
    if (hi - lo <= ${SPAN_MAX}) {
      ${w.accesses.map((a, j) => `WO[${j}] = P${a.k} - lo;`).join(" ")}
      for (let i = lo, j = ${SPAN_AT}; i < hi; i++, j++) WB[j] = mem[i];
      ${regsIn}
      const wk = WL(maxIters - 1);
      if (wk > 0) { for (let i = lo, j = ${SPAN_AT}; i < hi; i++, j++) mem[i] = WB[j]; ${regsOut} iters = wk; ${predictTaken(true)} }
    }
  }
`;
}
