/**
 * The bytes of one statement in one pass: instructions through the encoder, data, reservations,
 * `times`, `align` and the directives that emit nothing (NASM manual ch. 3 and ch. 6).
 */
import type { Expr, Line, Stmt } from "./ast.js";
import type { Diags } from "./diagnostics.js";
import { encodeInstruction } from "./encoder.js";
import { evaluate, type EvalEnv } from "./expr.js";
import { ALIASES, OPCODES } from "../isa/opcodes.js";
import type { Token } from "./lexer.js";
import { stringBytes } from "./numbers.js";
import { resolveOperand, type ROp } from "./operand.js";
import type { PLine } from "./preprocess.js";
import type { CodeBits } from "../isa/modes.js";

/** The directives' state at a statement: `default rel` and the code size of `bits 16/32/64`. */
export interface AsmMode {
  rel: boolean;
  bits: CodeBits;
}

/** From this pass on an instruction may only grow, so oscillating layouts still converge. */
export const GROW_ONLY_PASS = 6;
/** Larger than any guest RAM the VMM offers (16 MiB by default). */
export const MAX_OUTPUT = 64 * 1024 * 1024;
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

/** Mnemonics with a relative (rel8/rel32) form. */
const BRANCHES: ReadonlySet<string> = new Set(
  OPCODES.filter((r) => r.operands.some((k) => k === "rel8" || k === "rel32")).map((r) => r.mnemonic),
);

/** The bytes of one statement at address `addr` (null after reporting an error). `$` (env.here) is the
 *  start of the source line even inside `times` (NASM: `times 4 dd $-x` repeats one value). */
export function statementBytes(
  s: Stmt,
  env: EvalEnv,
  addr: bigint,
  st: PStmt,
  pass: number,
  diags: Diags,
  mode: AsmMode,
  offset: number,
): number[] | null {
  switch (s.k) {
    case "insn": {
      if (st.fixed && st.line.stmt === s) return st.fixed;
      const mn = canonicalMnemonic(s.mn.value);
      env.usedSymbols = false;
      const ops: ROp[] = [];
      for (const o of s.ops) {
        const r = resolveOperand(o, env, mode.rel, mode.bits, diags);
        if (!r) return null;
        ops.push(r);
      }
      const res = encodeInstruction(mn, ops, s.mn, {
        here: addr,
        minLen: pass >= GROW_ONLY_PASS ? st.lastLen : 0,
        bits: mode.bits,
      });
      if (!res.ok) {
        // Forward references may make an early pass fail (e.g. a jump assumed short); only the final
        // pass reports.
        diags.add(res.error.tok ?? s.mn, res.error.message);
        // Keep the size it had, so a failing jump does not make the layout oscillate.
        return st.lastLen > 0 ? new Array<number>(st.lastLen).fill(0) : null;
      }
      st.lastLen = res.value.length;
      // A branch's bytes depend on its own address even with a constant target (jmp 0x1000).
      if (!env.usedSymbols && st.line.stmt === s && !BRANCHES.has(mn)) st.fixed = res.value;
      return res.value;
    }
    case "data": {
      const unit = DATA_UNITS[s.tok.value.toLowerCase()];
      const out: number[] = [];
      for (const item of s.items) {
        if (item.k === "str") {
          const b = stringBytes(item.tok.value);
          out.push(...b);
          const pad = (unit - (b.length % unit)) % unit;
          for (let i = 0; i < pad; i++) out.push(0);
          continue;
        }
        const v = evaluate(item, env);
        if (v.regs.length) {
          diags.add(item.tok, "registers are not allowed in data");
          return null;
        }
        if (!v.unknown && unit < 8 && !fitsUnit(v.v, unit))
          diags.add(exprTok(item), `value does not fit ${unit * 8} bits (truncated)`, "warning");
        let x = v.v;
        for (let i = 0; i < unit; i++) {
          out.push(Number(x & 0xffn));
          x >>= 8n;
        }
      }
      return out;
    }
    case "res": {
      const unit = DATA_UNITS[s.tok.value.toLowerCase()];
      const n = countOf(s.count, env, diags, s.tok);
      if (n === null) return null;
      return new Array<number>(n * unit).fill(0);
    }
    case "times": {
      const n = countOf(s.count, env, diags, s.tok);
      if (n === null) return null;
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const b = statementBytes(s.body, env, addr + BigInt(out.length), st, pass, diags, mode, offset + out.length);
        if (!b) return null;
        for (const x of b) out.push(x);
        if (out.length > MAX_OUTPUT) {
          diags.add(s.tok, `output larger than ${MAX_OUTPUT} bytes`);
          return null;
        }
      }
      return out;
    }
    case "align": {
      const v = evaluate(s.e, env);
      if (v.unknown || v.reloc || v.v === 0n || v.v > 1n << 30n) {
        diags.add(s.tok, "align needs a positive constant");
        return null;
      }
      // NASM's align macro: times (((n) - (($-$$) % (n))) % (n)) nop (NASM standard macros).
      const n = Number(v.v);
      const pad = (n - (offset % n)) % n;
      if (!s.fill) return new Array<number>(pad).fill(0x90);
      const out: number[] = [];
      while (out.length < pad) {
        const b = statementBytes(s.fill, env, addr + BigInt(out.length), st, pass, diags, mode, offset + out.length);
        if (!b || b.length === 0) return null;
        out.push(...b);
        if (out.length >= pad) break;
      }
      return out;
    }
    case "bits": {
      const v = evaluate(s.e, env);
      if (v.unknown || v.reloc || (v.v !== 16n && v.v !== 32n && v.v !== 64n))
        diags.add(s.tok, "'bits' takes 16, 32 or 64");
      else mode.bits = Number(v.v) as CodeBits;
      return [];
    }
    case "default":
      mode.rel = s.rel;
      return [];
    case "org":
    case "section":
    case "global":
      return [];
  }
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
    diags.add(tok, `count ${n} is too large`);
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
