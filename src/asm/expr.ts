/**
 * NASM expression evaluation (NASM manual §3.5) over 64-bit values, with the two facts the encoder
 * needs besides the value: whether it is relocatable (a label address, which NASM never shrinks to
 * imm8/disp8 nor to `mov r32, imm32`) and whether it is still unknown (a forward reference in an
 * early pass). Registers are allowed as linear terms, for effective addresses.
 */
import type { Expr } from "./ast.js";
import type { Token } from "./lexer.js";
import { REGISTERS, type RegInfo } from "./registers.js";
import { parseNumber, stringBytes, stringValue } from "./numbers.js";

export interface Value {
  /** The value as an unsigned 64-bit integer. */
  v: bigint;
  /** Net count of label terms (label - label = 0: an absolute difference). */
  reloc: number;
  /** Depends on a symbol not (yet) defined. */
  unknown: boolean;
  /** Register terms (effective addresses only), in order of appearance. */
  regs: { reg: RegInfo; coef: bigint; tok: Token }[];
}

export interface SymbolValue {
  value: bigint;
  reloc: boolean;
}

export interface EvalEnv {
  here: bigint;
  base: bigint;
  /** Local-label scope: the last non-local label before the statement. */
  scope: string;
  lookup(name: string): SymbolValue | undefined;
  error(tok: Token, message: string): void;
  /** Called with every symbol name that is not (yet) defined. */
  missing(name: string, tok: Token): void;
  /** In an absolute section (struc): `$` and `$$` are plain numbers, not addresses (NASM). */
  absolute?: boolean;
  /** Set when the expression used a symbol, `$` or `$$` (its value may change between passes). */
  usedSymbols?: boolean;
}

const mask = (v: bigint): bigint => BigInt.asUintN(64, v);
/** Shared empty register list (most values have none; never mutated). */
const NO_REGS: Value["regs"] = [];
/** Parsed constants, per AST node (a line's tree is reused by every pass). */
const constants = new WeakMap<object, bigint>();

/** `.x` refers to `<scope>.x`; `..@` names (macro locals) are global (NASM §3.9). */
export function qualify(name: string, scope: string): string {
  return name.startsWith(".") && !name.startsWith("..") ? scope + name : name;
}

export function evaluate(e: Expr, env: EvalEnv): Value {
  switch (e.k) {
    case "num": {
      let v = constants.get(e);
      if (v === undefined) {
        const p = parseNumber(e.tok.value);
        if (p === null) env.error(e.tok, `bad number '${e.tok.value}'`);
        v = p ?? 0n;
        constants.set(e, v);
      }
      return { v, reloc: 0, unknown: false, regs: NO_REGS };
    }
    case "str": {
      let v = constants.get(e);
      if (v === undefined) constants.set(e, (v = stringValue(stringBytes(e.tok.value))));
      return { v, reloc: 0, unknown: false, regs: NO_REGS };
    }
    case "here":
      env.usedSymbols = true;
      return { v: env.here, reloc: env.absolute ? 0 : 1, unknown: false, regs: NO_REGS };
    case "base":
      env.usedSymbols = true;
      return { v: env.base, reloc: env.absolute ? 0 : 1, unknown: false, regs: NO_REGS };
    case "reg": {
      const reg = REGISTERS.get(e.tok.value.toLowerCase())!;
      return { v: 0n, reloc: 0, unknown: false, regs: [{ reg, coef: 1n, tok: e.tok }] };
    }
    case "sym": {
      env.usedSymbols = true;
      const name = qualify(e.tok.value, env.scope);
      const s = env.lookup(name);
      if (!s) {
        env.missing(name, e.tok);
        return { v: 0n, reloc: 0, unknown: true, regs: NO_REGS };
      }
      return { v: s.value, reloc: s.reloc ? 1 : 0, unknown: false, regs: NO_REGS };
    }
    case "un": {
      const a = evaluate(e.a, env);
      if (e.op === "-") {
        return {
          v: mask(-a.v),
          reloc: -a.reloc,
          unknown: a.unknown,
          regs: a.regs.length ? a.regs.map((r) => ({ ...r, coef: -r.coef })) : NO_REGS,
        };
      }
      if (a.regs.length || a.reloc) env.error(e.tok, `'${e.op}' needs a plain number`);
      const v = e.op === "!" ? (a.v === 0n ? 1n : 0n) : mask(~a.v);
      return { v, reloc: 0, unknown: a.unknown, regs: NO_REGS };
    }
    case "bin":
      return binary(e.op, evaluate(e.a, env), evaluate(e.b, env), e.tok, env);
  }
}

function flag(b: boolean, unknown: boolean): Value {
  return { v: b ? 1n : 0n, reloc: 0, unknown, regs: NO_REGS };
}

function binary(op: string, a: Value, b: Value, tok: Token, env: EvalEnv): Value {
  const unknown = a.unknown || b.unknown;
  if (op === "+" || op === "-") {
    const s = op === "+" ? 1n : -1n;
    const regs =
      a.regs.length === 0 && b.regs.length === 0
        ? NO_REGS
        : [...a.regs, ...b.regs.map((r) => ({ ...r, coef: s * r.coef }))];
    return { v: mask(op === "+" ? a.v + b.v : a.v - b.v), reloc: a.reloc + Number(s) * b.reloc, unknown, regs };
  }
  if (op === "*") {
    if (a.regs.length && b.regs.length) {
      env.error(tok, "cannot multiply two registers");
      return { v: 0n, reloc: 0, unknown, regs: NO_REGS };
    }
    if (a.reloc || b.reloc) env.error(tok, "a label address can only be added or subtracted");
    if (a.regs.length || b.regs.length) {
      const [r, k] = a.regs.length ? [a, b.v] : [b, a.v];
      if (r.v !== 0n) env.error(tok, "invalid effective address");
      return { v: 0n, reloc: 0, unknown, regs: r.regs.map((x) => ({ ...x, coef: x.coef * BigInt.asIntN(64, k) })) };
    }
    return { v: mask(a.v * b.v), reloc: 0, unknown, regs: NO_REGS };
  }
  if (a.regs.length || b.regs.length) {
    env.error(tok, `registers cannot be used with '${op}'`);
    return { v: 0n, reloc: 0, unknown, regs: NO_REGS };
  }
  if ((a.reloc || b.reloc) && !unknown) env.error(tok, `'${op}' needs plain numbers, not label addresses`);
  let v: bigint;
  const sa = BigInt.asIntN(64, a.v);
  const sb = BigInt.asIntN(64, b.v);
  switch (op) {
    // NASM: comparisons are signed and give 1 or 0; && || ^^ are logical.
    case "=":
    case "==":
      return flag(sa === sb, unknown);
    case "!=":
    case "<>":
      return flag(sa !== sb, unknown);
    case "<":
      return flag(sa < sb, unknown);
    case "<=":
      return flag(sa <= sb, unknown);
    case ">":
      return flag(sa > sb, unknown);
    case ">=":
      return flag(sa >= sb, unknown);
    case "&&":
      return flag(a.v !== 0n && b.v !== 0n, unknown);
    case "||":
      return flag(a.v !== 0n || b.v !== 0n, unknown);
    case "^^":
      return flag((a.v !== 0n) !== (b.v !== 0n), unknown);
    case "//":
    case "%%":
      // Signed division and remainder, truncating toward zero (NASM §3.5.6).
      if (sb === 0n) {
        if (!unknown) env.error(tok, "division by zero");
        v = 0n;
      } else v = op === "//" ? sa / sb : sa % sb;
      break;
    case "/":
    case "%":
      if (b.v === 0n) {
        if (!unknown) env.error(tok, "division by zero");
        v = 0n;
      } else v = op === "/" ? a.v / b.v : a.v % b.v; // NASM: '/' and '%' are unsigned
      break;
    case "<<":
      v = b.v >= 64n ? 0n : a.v << b.v;
      break;
    case ">>":
      v = b.v >= 64n ? 0n : a.v >> b.v; // NASM: '>>' is an unsigned shift
      break;
    case "&":
      v = a.v & b.v;
      break;
    case "|":
      v = a.v | b.v;
      break;
    default:
      v = a.v ^ b.v;
  }
  return { v: mask(v), reloc: 0, unknown, regs: NO_REGS };
}
