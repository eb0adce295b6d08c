/**
 * The smallest WebAssembly binary the loop tier needs (jit-wasm.ts): one function `f` of type
 * (i32) -> i32 with i32 and i64 locals, importing one memory `e.m`. Encoding per the WebAssembly core
 * specification 1.0, §5 "Binary Format": LEB128 integers (§5.2.2), sections by id (§5.5), and the
 * instruction opcodes named in `W` (§5.4).
 */

/** Value types (§5.3.1). */
const I32 = 0x7f,
  I64 = 0x7e;

/** Opcodes used by jit-wasm.ts (§5.4). */
export const W = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  /** Block type: no result. */
  void: 0x40,
  drop: 0x1a,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load8U: 0x2d,
  i32Load16U: 0x2f,
  i64Load8U: 0x31,
  i64Load16U: 0x33,
  i64Load32U: 0x35,
  i32Store: 0x36,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64LtS: 0x53,
  i64LtU: 0x54,
  i64LeS: 0x57,
  i64LeU: 0x58,
  i32Popcnt: 0x69,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
  i64ExtendI32S: 0xac,
  i64ExtendI32U: 0xad,
  i32Extend8S: 0xc0,
  i32Extend16S: 0xc1,
  i64Extend8S: 0xc2,
  i64Extend16S: 0xc3,
  i64Extend32S: 0xc4,
} as const;

/** Unsigned LEB128 of a non-negative integer below 2^32 (§5.2.2). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (the i32.const immediate). */
export function sleb32(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of the 64-bit integer hi:lo (unsigned 32-bit halves; the i64.const immediate). */
export function sleb64(lo: number, hi: number): number[] {
  const out: number[] = [];
  let l = lo >>> 0,
    h = hi | 0;
  for (;;) {
    const b = l & 0x7f;
    // Arithmetic shift of the 64-bit value right by 7.
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>= 7;
    const done = (h === 0 && l === 0 && (b & 0x40) === 0) || (h === -1 && l === 0xffffffff && (b & 0x40) !== 0);
    if (done) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * A module whose only function, exported as `f`, has type (i32) -> i32 (its parameter is local 0), then
 * `i32s` i32 locals and `i64s` i64 locals, and the expression `body` (without the final `end`). It
 * imports a memory of at least one page as `e.m`.
 */
export function moduleBytes(body: readonly number[], i32s: number, i64s: number): Uint8Array {
  const type = section(1, [1, 0x60, 1, I32, 1, I32]);
  const imports = section(2, [1, ...name("e"), ...name("m"), 0x02, 0x00, 1]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name("f"), 0x00, 0]);
  const fn = [2, ...uleb(i32s), I32, ...uleb(i64s), I64, ...body, W.end];
  const code = section(10, [1, ...uleb(fn.length), ...fn]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imports, ...funcs, ...exports, ...code]);
}

/** Opcodes of one operand size: 8 bytes in i64, 4 bytes in i32 (results zero-extended to 64 bits). */
export interface Ops {
  add: number;
  sub: number;
  mul: number;
  and: number;
  or: number;
  xor: number;
  shl: number;
  shrU: number;
  shrS: number;
  eqz: number;
  eq: number;
  ltS: number;
  ltU: number;
  leS: number;
  leU: number;
  zero: number[];
  one: number[];
  minusOne: number[];
}
type Suffix =
  | "Add"
  | "Sub"
  | "Mul"
  | "And"
  | "Or"
  | "Xor"
  | "Shl"
  | "ShrU"
  | "ShrS"
  | "Eqz"
  | "Eq"
  | "LtS"
  | "LtU"
  | "LeS"
  | "LeU";

/** The opcodes of `Ops` for type t, by their names in `W` (`i64` + `Add`: checked by the compiler). */
function opsOf(t: "i32" | "i64"): Ops {
  const op = (suffix: Suffix): number => W[`${t}${suffix}`];
  const c = t === "i64" ? W.i64Const : W.i32Const;
  return {
    add: op("Add"),
    sub: op("Sub"),
    mul: op("Mul"),
    and: op("And"),
    or: op("Or"),
    xor: op("Xor"),
    shl: op("Shl"),
    shrU: op("ShrU"),
    shrS: op("ShrS"),
    eqz: op("Eqz"),
    eq: op("Eq"),
    ltS: op("LtS"),
    ltU: op("LtU"),
    leS: op("LeS"),
    leU: op("LeU"),
    zero: [c, 0],
    one: [c, 1],
    minusOne: [c, 0x7f],
  };
}

export const OPS64 = opsOf("i64");
export const OPS32 = opsOf("i32");
