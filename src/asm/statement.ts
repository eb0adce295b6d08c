/**
 * The bytes of one statement in one pass: instructions through the encoder, data, reservations,
 * `times`, `align` and the directives that emit nothing (NASM manual ch. 3 and ch. 6).
 */
import type { Expr, Line, Stmt } from "./ast.js";
import type { Diags } from "./diagnostics.js";
import { encodeInstruction } from "./encoder.js";
import { evaluate, type EvalEnv } from "./expr.js";
import { ALIASES, OPCODES } from "../isa/opcodes.js";
import { PREFIX_BYTES, type Token } from "./lexer.js";
import { DecodeFail, decode } from "../isa/decode.js";
import { stringBytes } from "./numbers.js";
import { resolveOperand, type ROp } from "./operand.js";
import type { PLine } from "./preprocess.js";
import type { CodeBits } from "../isa/modes.js";

/** The directives' state at a statement: `default rel` and the code size of `bits 16/32/64`. */
export interface AsmMode {
  rel: boolean;
  bits: CodeBits;
}
import type { Image } from "./image.js";
import { MAX_OUTPUT, MAX_TIMES_ENCODED } from "./limits.js";

/** From this pass on an instruction may only grow, so oscillating layouts still converge. */
export const GROW_ONLY_PASS = 6;
const DATA_UNITS: Readonly<Record<string, number>> = { db: 1, dw: 2, dd: 4, dq: 8, resb: 1, resw: 2, resd: 4, resq: 8 };

export interface PStmt {
  pl: PLine;
  line: Line;
  /** Local-label scope at this line. */
  scope: string;
  /** Qualified label name, if the line defines one. */
  labelName?: string;
  /** Length chosen in the previous pass (grow-only after GROW_ONLY_PASS). */
  lastLen: number;
  /** A second definition of a label (reported once; the first definition stands). */
  duplicate?: boolean;
  /** The encoding of an instruction whose operands use no symbol, `$` or `$$`: the same every pass. */
  fixed?: number[];
}

/** What a statement needs besides itself: the pass it is in and where errors go. */
export interface EmitContext {
  env: EvalEnv;
  st: PStmt;
  pass: number;
  diags: Diags;
  /** `default rel` and `bits N` as they stand at this statement. */
  mode: AsmMode;
  /** In an `absolute` section (inside `struc`): only reservations may appear (NASM). */
  absolute: boolean;
  /** Repetitions encoded one by one so far on this line (bounded by MAX_TIMES_ENCODED). */
  encoded: number;
}

/** Mnemonics with a relative (rel8/rel32) form. */
const BRANCHES: ReadonlySet<string> = new Set(
  OPCODES.filter((r) => r.operands.some((k) => k === "rel8" || k === "rel32")).map((r) => r.mnemonic),
);

/** Appends the bytes of one statement at address `addr` to `img`; false after reporting an error.
 *  `$` (env.here) is the start of the source line even inside `times` (NASM: `times 4 dd $-x` repeats
 *  one value). `addr - env.base` is the statement's offset from `$$`. */
export function emitStatement(s: Stmt, c: EmitContext, addr: bigint, img: Image): boolean {
  const { env, diags } = c;
  if (c.absolute && (s.k === "insn" || s.k === "data" || s.k === "prefix")) {
    diags.add(s.k === "insn" ? s.mn : s.tok, "attempt to assemble code in an absolute section (struc)");
    return false;
  }
  switch (s.k) {
    case "insn": {
      const b = insnBytes(s, c, addr);
      if (b) img.push(b);
      return b !== null;
    }
    case "prefix":
      // A prefix alone on a line is its byte (NASM), which applies to the next instruction.
      if (s.tok.value.toLowerCase() === "lock") diags.add(s.tok, "instruction is not lockable", "warning");
      img.push([PREFIX_BYTES[s.tok.value.toLowerCase()]]);
      return true;
    case "data": {
      const unit = DATA_UNITS[s.tok.value.toLowerCase()];
      const out: number[] = [];
      for (const item of s.items) {
        if (item.k === "str") {
          const b = stringBytes(item.tok.value);
          for (const x of b) out.push(x);
          const pad = (unit - (b.length % unit)) % unit;
          for (let i = 0; i < pad; i++) out.push(0);
          continue;
        }
        const v = evaluate(item, env);
        if (v.regs.length) {
          diags.add(item.tok, "registers are not allowed in data");
          return false;
        }
        if (!v.unknown && unit < 8 && !fitsUnit(v.v, unit))
          diags.add(exprTok(item), `value does not fit ${unit * 8} bits (truncated)`, "warning");
        let x = v.v;
        for (let i = 0; i < unit; i++) {
          out.push(Number(x & 0xffn));
          x >>= 8n;
        }
      }
      img.push(out);
      return true;
    }
    case "res": {
      const unit = DATA_UNITS[s.tok.value.toLowerCase()];
      const n = countOf(s.count, env, diags, s.tok);
      if (n === null) return false;
      if (n * unit > MAX_OUTPUT - img.size) return tooLarge(s.tok, diags, img);
      img.fill(0, n * unit);
      return true;
    }
    case "times":
      // NASM: of nested prefixes the last `times` counts (`times 3 times 2 db 1` is two bytes).
      if (s.body.k === "times") return emitStatement(s.body, c, addr, img);
      return emitTimes(s.body, countOf(s.count, env, diags, s.tok), s.tok, c, addr, img);
    case "align": {
      // NASM's align/alignb macros: times (((n) - (($-$$) % (n))) % (n)) FILL, FILL being `nop` for
      // align and `resb 1` for alignb (NASM standard macros); the count is of statements, not bytes.
      const v = evaluate(s.e, env);
      if (v.unknown || v.reloc || v.regs.length || v.v === 0n || v.v > 1n << 32n) {
        diags.add(s.tok, `${s.tok.value.toLowerCase()} needs a positive constant`);
        return false;
      }
      const n = v.v;
      const pad = Number((n - (BigInt.asUintN(64, addr - env.base) % n)) % n);
      if (s.fill) return emitTimes(s.fill, pad, s.tok, c, addr, img);
      if (s.tok.value.toLowerCase() === "alignb" || c.absolute) img.fill(0, pad);
      else img.fill(0x90, pad);
      return true;
    }
    case "bits": {
      const v = evaluate(s.e, env);
      if (v.unknown || v.reloc || (v.v !== 16n && v.v !== 32n && v.v !== 64n))
        diags.add(s.tok, "'bits' takes 16, 32 or 64");
      else c.mode.bits = Number(v.v) as CodeBits;
      return true;
    }
    case "default":
      c.mode.rel = s.rel;
      return true;
    case "org":
    case "section":
    case "global":
    case "absolute":
      return true;
  }
}

function insnBytes(s: Extract<Stmt, { k: "insn" }>, c: EmitContext, addr: bigint): number[] | null {
  const { env, st, diags } = c;
  if (st.fixed && st.line.stmt === s) return st.fixed;
  const mn = canonicalMnemonic(s.mn.value);
  env.usedSymbols = false;
  const ops: ROp[] = [];
  for (const o of s.ops) {
    const r = resolveOperand(o, env, c.mode.rel, c.mode.bits, diags);
    if (!r) return null;
    ops.push(r);
  }
  const pfx = s.prefixes ? prefixBytes(s.prefixes) : [];
  // RIP-relative and branch displacements count from the end of the whole instruction, prefixes included.
  const res = encodeInstruction(mn, ops, s.mn, {
    here: addr + BigInt(pfx.length),
    minLen: c.pass >= GROW_ONLY_PASS ? Math.max(0, st.lastLen - pfx.length) : 0,
    bits: c.mode.bits,
  });
  if (!res.ok) {
    // Forward references may make an early pass fail (e.g. a jump assumed short); only the final
    // pass reports.
    diags.add(res.error.tok ?? s.mn, res.error.message);
    // Keep the size it had, so a failing jump does not make the layout oscillate.
    return st.lastLen > 0 ? new Array<number>(st.lastLen).fill(0) : null;
  }
  const warned = s.prefixes ? lockWarning(s.prefixes, res.value, diags) : false;
  const bytes = pfx.length ? [...pfx, ...res.value] : res.value;
  st.lastLen = bytes.length;
  // A branch's bytes depend on its own address even with a constant target (jmp 0x1000). A line with a
  // warning is encoded every pass, so the final pass reports it.
  if (!env.usedSymbols && !warned && st.line.stmt === s && !BRANCHES.has(mn)) st.fixed = bytes;
  return bytes;
}

/** `times n body`: the body is encoded twice (at its first two addresses); when both give the same
 *  bytes it does not depend on its address and the rest is one repeated span, so `times 60000000 db 0`
 *  costs its bytes only. Otherwise (a jump, a RIP-relative operand, `align`) each repetition is encoded. */
function emitTimes(body: Stmt, n: number | null, tok: Token, c: EmitContext, addr: bigint, img: Image): boolean {
  if (n === null) return false;
  if (body.k !== "insn" && body.k !== "data" && body.k !== "res") {
    // NASM: align, bits, org … are directives or macros, not something `times` can repeat.
    c.diags.add(body.tok, `'${body.tok.value}' cannot be repeated by times or used as align's fill`);
    return false;
  }
  const start = img.size;
  let i = 0;
  let len = 0;
  for (; i < n && i < 2; i++) {
    if (!emitStatement(body, c, addr + BigInt(img.size - start), img)) return false;
    if (img.overflow) return tooLarge(tok, c.diags, img);
    if (i === 0) len = img.size - start;
  }
  if (i === n) return true;
  if (img.size - start === 2 * len && img.same(start, start + len, len)) {
    if (len * (n - 2) > MAX_OUTPUT - img.size) return tooLarge(tok, c.diags, img);
    img.repeatTail(start + len, n - 2);
    return true;
  }
  c.encoded += n - i;
  if (c.encoded > MAX_TIMES_ENCODED) {
    c.diags.add(
      tok,
      `times: a statement that encodes differently at each address (a jump, a RIP-relative operand, align) is repeated at most ${MAX_TIMES_ENCODED} times on one line (the times repetition limit)`,
    );
    return false;
  }
  for (; i < n; i++) {
    if (!emitStatement(body, c, addr + BigInt(img.size - start), img)) return false;
    if (img.overflow) return tooLarge(tok, c.diags, img);
  }
  return true;
}

function tooLarge(tok: Token, diags: Diags, img: Image): false {
  img.overflow = true;
  diags.add(tok, `output image larger than ${MAX_OUTPUT} bytes (4 GiB, the output size limit)`);
  return false;
}

/** The bytes of LOCK/REP/REPE/REPNE words as NASM emits them: one REP-group byte (the last written) and
 *  then one LOCK, whatever their order in the source (checked against nasm 2.16: lock rep = F3 F0). */
function prefixBytes(prefixes: Token[]): number[] {
  let rep = 0,
    lock = 0;
  for (const t of prefixes) {
    const b = PREFIX_BYTES[t.value.toLowerCase()];
    if (b === 0xf0) lock = b;
    else rep = b;
  }
  return [rep, lock].filter((b) => b !== 0);
}

/** LOCK on a form the CPU does not allow it on (the decoder, which raises #UD for it, is the judge) is
 *  NASM's warning "instruction is not lockable". Returns whether it warned. */
function lockWarning(prefixes: Token[], bytes: number[], diags: Diags): boolean {
  const lock = prefixes.find((t) => t.value.toLowerCase() === "lock");
  if (!lock) return false;
  const ins = decode(Uint8Array.from([0xf0, ...bytes]));
  if (ins.fail === DecodeFail.None && ins.len === bytes.length + 1) return false;
  diags.add(lock, "instruction is not lockable", "warning");
  return true;
}

function fitsUnit(v: bigint, unit: number): boolean {
  const s = BigInt.asIntN(64, v);
  const bits = BigInt(unit * 8);
  return s >= -(1n << (bits - 1n)) && s < 1n << bits;
}

function countOf(e: Expr, env: EvalEnv, diags: Diags, tok: Token): number | null {
  const v = evaluate(e, env);
  if (v.unknown) return 0;
  const n = BigInt.asIntN(64, v.v);
  if (v.reloc || v.regs.length) {
    diags.add(tok, "count must be a plain number");
    return null;
  }
  if (n < 0n) {
    diags.add(tok, `count is negative (${n})`);
    return null;
  }
  if (n > BigInt(MAX_OUTPUT)) {
    diags.add(tok, `count ${n} is larger than the output size limit (${MAX_OUTPUT} bytes, 4 GiB)`);
    return null;
  }
  return Number(n);
}

function exprTok(e: Expr): Token {
  let x = e;
  while (x.k === "bin") x = x.a;
  return x.tok;
}

function canonicalMnemonic(m: string): string {
  const l = m.toLowerCase();
  return ALIASES[l] ?? l;
}
