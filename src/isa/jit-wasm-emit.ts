/**
 * The loop tier's code for each operation (jit-wasm.ts builds the function around it): the locals that hold
 * guest registers and memory-operand offsets (`Emitter`), each operation's WebAssembly form, and the
 * final branch's condition from its flag source's operands (SDM Table B-1).
 */
import { AluOp, ShiftOp } from "./alu.js";
import { type Insn, K } from "./insn.js";
import { Op } from "./ops.js";
import { OPS32, OPS64, type Ops, sleb32, sleb64, uleb, W } from "./wasm-module.js";

/** Where the copied span of memory operands starts in the loop tier's memory (jit-wasm.ts layout). */
export const SPAN_AT = 256;

/** How a flag-writing instruction's flags follow from its operands a, b and result r. */
export const Kind = { Add: 0, Sub: 1, Logic: 2 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Local indices: 0 the parameter (max passes), then i32 locals, then i64 locals. */
export const L_MAX = 0,
  L_K = 1,
  L_COND = 2,
  L_A32 = 3,
  L_B32 = 4,
  L_R32 = 5,
  FIXED_I32 = 5;

/** A memory operand of the block: its slot, and the local saving the bytes a store overwrites. */
export interface Access {
  k: number;
  size: number;
  store: boolean;
}

export const get = (i: number): number[] => [W.localGet, ...uleb(i)];
export const set = (i: number): number[] => [W.localSet, ...uleb(i)];
export const tee = (i: number): number[] => [W.localTee, ...uleb(i)];

/** A register operand of 4 or 8 bytes (0..15: no AH..BH), or an immediate. */
export const plainReg = (k: K, r: number): boolean => k === K.Reg && r >= 0 && r < 16;

/** The emitter of one block's function. */
export class Emitter {
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
export interface Form {
  kind: Kind | null;
  /** INC/DEC: CF is not written. */
  noCf: boolean;
  a: number[];
  b: number[];
  op: number[];
  write: boolean;
}

/** A register of 4 or 8 bytes, or the memory operand (hoisted, checked by the caller). */
export const regOrMem = (k: K, r: number): boolean => plainReg(k, r) || k === K.Mem;

export function form(e: Emitter, ins: Insn, at: number): Form | null {
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
export function lea(e: Emitter, ins: Insn): number[] | null {
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
export function regsOf(ins: Insn): { reads: number[]; writes: number[] } {
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
export function condition(kind: Kind, cc: number, o: Ops, size: number, a: number, b: number, r: number): number[] {
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
