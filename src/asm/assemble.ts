/**
 * The assembler: NASM-syntax source → flat x86-64 binary, byte-identical to `nasm -f bin` (NASM 2.16,
 * default -Ox multipass optimisation) for every source it accepts. Pure: includes come through the
 * resolver passed in; output and diagnostics are values.
 */
import nearley from "nearley";
import grammar from "./generated/asm.js";
import type { Token } from "./lexer.js";
import type { Expr, Line, Operand, Stmt } from "./ast.js";
import { Preprocessor, type IncludeResolver, type PLine } from "./preprocess.js";
import type { Diagnostic } from "./diagnostics.js";
import { evaluate, qualify, type EvalEnv, type SymbolValue, type Value } from "./expr.js";
import { encodeInstruction, type ROp } from "./encoder.js";
import { ALIASES, OPCODES } from "../isa/opcodes.js";
import { UNSUPPORTED_MNEMONICS } from "./unsupported.js";
import { parseNumber, stringBytes } from "./numbers.js";
import type { RegInfo } from "./registers.js";

export interface AssembleOptions {
  /** Name of the source file, used in diagnostics and as the base for relative includes. */
  file?: string;
  /** Resolves `%include` (no I/O happens in the assembler itself). */
  include?: IncludeResolver;
  /** Maximum number of errors reported before giving up (default 100). */
  maxErrors?: number;
}

export interface AsmSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly kind: "label" | "equ";
  readonly file: string;
  readonly line: number;
}

/** One source line that produced output (or defined a label): its address and bytes. */
export interface ListingLine {
  readonly file: string;
  readonly line: number;
  readonly address: number;
  readonly bytes: Uint8Array;
  /** The source text of that line. */
  readonly source: string;
}

export interface AssembleOk {
  readonly ok: true;
  readonly bytes: Uint8Array;
  readonly origin: number;
  readonly symbols: readonly AsmSymbol[];
  readonly lines: readonly ListingLine[];
  readonly warnings: readonly Diagnostic[];
  /** Layout passes it took to converge (NASM-style multipass optimisation). */
  readonly passes: number;
}

export interface AssembleFailed {
  readonly ok: false;
  readonly diagnostics: readonly Diagnostic[];
}

export type AssembleResult = AssembleOk | AssembleFailed;

const MAX_PASSES = 24;
/** From this pass on an instruction may only grow, so oscillating layouts still converge. */
const GROW_ONLY_PASS = 6;
/** Larger than any guest RAM the VMM offers (16 MiB by default). */
const MAX_OUTPUT = 64 * 1024 * 1024;
/** Tokens on one line: bounds parser and evaluator recursion whatever the input. */
const MAX_LINE_TOKENS = 2000;
const DATA_UNITS: Readonly<Record<string, number>> = { db: 1, dw: 2, dd: 4, dq: 8, resb: 1, resw: 2, resd: 4, resq: 8 };
const SIZE_BITS: Readonly<Record<string, number>> = { byte: 8, word: 16, dword: 32, qword: 64 };

interface PStmt {
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

class Diags {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly sources: Map<string, string[]>,
    private readonly cap: number,
  ) {}
  add(
    tok: { loc: { file: string; line: number; col: number }; len?: number },
    message: string,
    severity: "error" | "warning" = "error",
  ): void {
    const { file, line, col } = tok.loc;
    const key = `${file}:${line}:${col}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.errors() >= this.cap && severity === "error") return;
    const sourceLine = this.sources.get(file)?.[line - 1] ?? "";
    this.list.push({ file, line, col, len: tok.len ?? 1, severity, message, sourceLine });
  }
  sourceLine(file: string, line: number): string {
    return this.sources.get(file)?.[line - 1] ?? "";
  }
  errors(): number {
    let n = 0;
    for (const d of this.list) if (d.severity === "error") n++;
    return n;
  }
}

const compiledGrammar = nearley.Grammar.fromCompiled(grammar);

/** Mnemonics with a relative (rel8/rel32) form. */
const BRANCHES: ReadonlySet<string> = new Set(
  OPCODES.filter((r) => r.operands.some((k) => k === "rel8" || k === "rel32")).map((r) => r.mnemonic),
);

/** Parses one token line; null with a diagnostic on a syntax error. */
function parseLine(tokens: Token[], diags: Diags): Line | null {
  if (tokens.length > MAX_LINE_TOKENS) {
    diags.add(tokens[MAX_LINE_TOKENS], `line too long (more than ${MAX_LINE_TOKENS} tokens)`);
    return null;
  }
  for (const t of tokens) {
    if (t.type === "badString") {
      diags.add(t, "unterminated string");
      return null;
    }
    if (t.type === "error") {
      diags.add({ loc: t.loc, len: 1 }, `unexpected character '${t.value[0]}'`);
      return null;
    }
    if (t.type === "number" && parseNumber(t.value) === null) {
      diags.add(t, `bad number '${t.value}'`);
      return null;
    }
    if (t.type === "localLabel" || t.type === "param") {
      diags.add(t, `'${t.value}' is only valid inside a %macro body`);
      return null;
    }
  }
  // Lines with the same token types parse to the same tree (the grammar branches on types only, and
  // punctuation's type is its text): reuse it, re-bound to this line's tokens.
  const key = tokens.map((t) => t.type).join(" ");
  const hit = parseCache.get(key);
  if (hit) return rebind(hit.line, hit.index, tokens) as Line;
  const parser = new nearley.Parser(compiledGrammar);
  let failedAt: Token | null = null;
  try {
    parser.feed(tokens as unknown as string);
  } catch (e) {
    failedAt = (e as { token?: Token }).token ?? null;
  }
  const results = failedAt ? [] : parser.results;
  if (results.length === 0) {
    const first = tokens[0];
    if (first && first.type === "mnemonic" && UNSUPPORTED_MNEMONICS.has(first.value.toLowerCase())) {
      diags.add(
        first,
        `'${first.value.toLowerCase()}' is not supported by vpmu (nor by its CPU model); see docs/assembler.md`,
      );
    } else if (
      first &&
      first.type === "ident" &&
      !(tokens[1] && (tokens[1].type === ":" || tokens[1].type === "equ"))
    ) {
      diags.add(first, `unknown mnemonic '${first.value}'`);
    } else if (failedAt) {
      diags.add(failedAt, `syntax error: unexpected '${failedAt.value}'`);
    } else {
      const last = tokens[tokens.length - 1];
      diags.add({ loc: { ...last.loc, col: last.loc.col + last.len }, len: 1 }, "syntax error: line ends too early");
    }
    return null;
  }
  if (parseCache.size < 20000)
    parseCache.set(key, { line: results[0] as Line, index: new Map(tokens.map((t, i) => [t, i])) });
  return results[0] as Line;
}

const parseCache = new Map<string, { line: Line; index: Map<Token, number> }>();

/** A copy of `node` with every token of the cached line replaced by the token at the same index in `to`. */
function rebind(node: unknown, index: Map<Token, number>, to: Token[]): unknown {
  if (node === null || typeof node !== "object") return node;
  const i = index.get(node as Token);
  if (i !== undefined) return to[i];
  if (Array.isArray(node)) {
    const a = new Array<unknown>(node.length);
    for (let k = 0; k < node.length; k++) a[k] = rebind(node[k], index, to);
    return a;
  }
  const out: Record<string, unknown> = {};
  const src = node as Record<string, unknown>;
  for (const k in src) out[k] = rebind(src[k], index, to);
  return out;
}

/** Assembles NASM-syntax source into a flat binary (like `nasm -f bin`). Never throws on bad input. */
export function assemble(source: string, options: AssembleOptions = {}): AssembleResult {
  const file = options.file ?? "<input>";
  const cap = options.maxErrors ?? 100;
  const sources = new Map<string, string[]>();
  const diags = new Diags(sources, cap);
  // The preprocessor fills `sources` as it reads files, so every diagnostic can show its line.
  // %assign and %rep counts: a constant expression, parsed by the same grammar, evaluated now.
  const evalConst = (tokens: Token[], at: Token): bigint | null => {
    const line = parseLine(
      [{ ...at, type: "ident", value: "%const" }, { ...at, type: "equ", value: "equ" }, ...tokens],
      diags,
    );
    if (!line?.equ) return null;
    let bad = false;
    const env = constEnv(diags);
    const v = evaluate(line.equ, {
      ...env,
      missing: (name, tok) => ((bad = true), env.missing(name, tok)),
      error: (tok, m) => ((bad = true), env.error(tok, m)),
    });
    if (v.regs.length || v.reloc) {
      diags.add(at, `${at.value} needs a constant value`);
      return null;
    }
    return bad ? null : v.v;
  };
  const pp = new Preprocessor(
    options.include,
    (loc, len, message) => diags.add({ loc, len }, message),
    sources,
    evalConst,
  );
  const out = pp.run(source, file);

  // Parse once; resolve local-label scopes in source order.
  const stmts: PStmt[] = [];
  let scope = "";
  for (const pl of out.lines) {
    if (pl.tokens.length === 0) continue;
    if (diags.errors() >= cap) break;
    const line = parseLine(pl.tokens, diags);
    if (!line) continue;
    if (!line.label && !line.stmt && !line.equ) continue;
    const st: PStmt = { pl, line, scope, lastLen: 0 };
    if (line.label) {
      // NASM's orphan-labels warning: a lone word is a label, which hides a misspelt mnemonic.
      if (!line.stmt && !line.equ && pl.tokens.length === 1) {
        diags.add(
          line.label,
          `label '${line.label.value}' alone on a line without a colon might be in error`,
          "warning",
        );
      }
      const name = line.label.value;
      if (!name.startsWith(".") || name.startsWith("..")) {
        if (!name.startsWith("..@")) scope = name;
      }
      st.scope = scope;
      st.labelName = qualify(name, scope);
    }
    stmts.push(st);
  }

  // Origin: the first `org` (NASM bin: one origin for the section).
  let origin = 0n;
  for (const st of stmts) {
    if (st.line.stmt?.k === "org") {
      const v = evaluate(st.line.stmt.e, constEnv(diags));
      if (v.unknown || v.reloc) diags.add(st.line.stmt.tok, "org needs a constant value");
      else origin = v.v;
      break;
    }
  }

  // Duplicate labels.
  const firstDef = new Map<string, Token>();
  for (const st of stmts) {
    if (!st.labelName || !st.line.label) continue;
    const prev = firstDef.get(st.labelName);
    if (prev) {
      diags.add(st.line.label, `label '${st.labelName}' is already defined at ${prev.loc.file}:${prev.loc.line}`);
      st.duplicate = true;
    } else firstDef.set(st.labelName, st.line.label);
  }

  // Keep going after syntax errors: the passes report the remaining (semantic) errors of the good lines.
  const syntaxErrors = diags.errors();
  if (syntaxErrors >= cap) return { ok: false, diagnostics: sorted(diags.list, file).slice(0, cap) };

  let symbols = new Map<string, SymbolValue>();
  let result: PassOutput | null = null;
  let passes = 0;
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    passes = pass;
    const passDiags = new Diags(sources, cap);
    const r = runPass(stmts, symbols, origin, pass, passDiags);
    const stable = pass > 1 && sameSymbols(symbols, r.symbols) && !r.anyUnknownLabel;
    symbols = r.symbols;
    result = r;
    if (stable) {
      for (const d of passDiags.list) diags.list.push(d);
      break;
    }
    if (pass === MAX_PASSES) {
      for (const d of passDiags.list) diags.list.push(d);
      diags.add(
        stmts[0]?.pl.tokens[0] ?? { loc: { file, line: 1, col: 1 } },
        "layout did not converge (jumps keep changing size)",
      );
    }
  }
  const errors = diags.list.filter((d) => d.severity === "error");
  if (errors.length > 0 || !result) return { ok: false, diagnostics: sorted(errors, file).slice(0, cap) };
  const syms: AsmSymbol[] = [];
  for (const st of stmts) {
    if (!st.labelName || !st.line.label) continue;
    const s = symbols.get(st.labelName);
    if (!s) continue;
    syms.push({
      name: st.labelName,
      value: s.value,
      kind: st.line.equ ? "equ" : "label",
      file: st.line.label.loc.file,
      line: st.line.label.loc.line,
    });
  }
  return {
    ok: true,
    bytes: result.bytes,
    origin: Number(origin),
    symbols: syms,
    lines: listingLines(stmts, result, Number(origin), diags),
    warnings: sorted(
      diags.list.filter((d) => d.severity === "warning"),
      file,
    ),
    passes,
  };
}

/** Source order: the main file first, other files in the order they first appear; then line, column. */
function sorted(list: Diagnostic[], main: string): Diagnostic[] {
  const fileRank = new Map<string, number>([[main, 0]]);
  for (const d of list) if (!fileRank.has(d.file)) fileRank.set(d.file, fileRank.size);
  return [...list].sort((a, b) => fileRank.get(a.file)! - fileRank.get(b.file)! || a.line - b.line || a.col - b.col);
}

function sameSymbols(a: Map<string, SymbolValue>, b: Map<string, SymbolValue>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.value !== v.value || w.reloc !== v.reloc) return false;
  }
  return true;
}

function constEnv(diags: Diags): EvalEnv {
  return {
    here: 0n,
    base: 0n,
    scope: "",
    lookup: () => undefined,
    error: (tok, m) => diags.add(tok, m),
    missing: (name, tok) => diags.add(tok, `'${name}' must be defined before it is used here`),
  };
}

interface PassOutput {
  bytes: Uint8Array;
  spans: number[];
  symbols: Map<string, SymbolValue>;
  anyUnknownLabel: boolean;
}

function runPass(
  stmts: PStmt[],
  prev: Map<string, SymbolValue>,
  origin: bigint,
  pass: number,
  diags: Diags,
): PassOutput {
  const symbols = new Map<string, SymbolValue>();
  let buf = new Uint8Array(4096);
  let size = 0;
  // Listing spans (statement index, start, end) as plain numbers; ListingLines are built once, after
  // the last pass.
  const spans: number[] = [];
  let defaultRel = false;
  let overflow = false;
  let anyUnknownLabel = false;
  const emit = (bytes: ArrayLike<number>): void => {
    if (size + bytes.length > MAX_OUTPUT) {
      overflow = true;
      return;
    }
    while (size + bytes.length > buf.length) {
      const n = new Uint8Array(buf.length * 2);
      n.set(buf.subarray(0, size));
      buf = n;
    }
    for (let i = 0; i < bytes.length; i++) buf[size + i] = bytes[i];
    size += bytes.length;
  };
  // In the first pass a label not yet seen is unknown; later passes use the previous pass's value.
  const lookupIn = (name: string): SymbolValue | undefined => symbols.get(name) ?? prev.get(name);

  let reportedMissing = false;
  const env: EvalEnv = {
    here: origin,
    base: origin,
    scope: "",
    lookup: lookupIn,
    error: (tok, m) => diags.add(tok, m),
    missing: (name, tok) => {
      if (pass > 1 && !reportedMissing) diags.add(tok, `undefined symbol '${name}'`);
      reportedMissing = true;
    },
  };
  const getRel = (): boolean => defaultRel;
  const setRel = (r: boolean): void => {
    defaultRel = r;
  };
  for (let si = 0; si < stmts.length; si++) {
    const st = stmts[si];
    if (overflow) break;
    const here = origin + BigInt(size);
    env.here = here;
    env.scope = st.scope;
    reportedMissing = false;
    const { line } = st;
    if (line.equ && st.labelName && !st.duplicate) {
      const v = evaluate(line.equ, env);
      if (v.regs.length) diags.add(line.label!, "equ value cannot contain registers");
      if (!v.unknown) symbols.set(st.labelName, { value: v.v, reloc: v.reloc !== 0 });
      continue;
    }
    if (st.labelName && !st.duplicate) {
      const old = prev.get(st.labelName);
      if (old && old.value !== here) anyUnknownLabel = true;
      symbols.set(st.labelName, { value: here, reloc: true });
    }
    if (!line.stmt) {
      if (st.labelName) spans.push(si, size, size);
      continue;
    }
    const start = size;
    const bytes = statementBytes(line.stmt, env, here, st, pass, diags, getRel, setRel, size);
    if (bytes) emit(bytes);
    spans.push(si, start, size);
  }
  if (overflow) diags.add(stmts[0].pl.tokens[0], `output larger than ${MAX_OUTPUT} bytes`);
  return { bytes: buf.slice(0, size), spans, symbols, anyUnknownLabel };
}

function listingLines(stmts: PStmt[], r: PassOutput, origin: number, diags: Diags): ListingLine[] {
  const out: ListingLine[] = [];
  for (let i = 0; i < r.spans.length; i += 3) {
    const st = stmts[r.spans[i]];
    const start = r.spans[i + 1];
    out.push({
      file: st.pl.file,
      line: st.pl.line,
      address: origin + start,
      bytes: r.bytes.slice(start, r.spans[i + 2]),
      source: sourceOf(diags, st),
    });
  }
  return out;
}

/** The listing text: the source line, or for a line expanded from a macro its tokens after expansion. */
function sourceOf(diags: Diags, st: PStmt): string {
  const first = st.pl.tokens[0];
  if (first && (first.loc.file !== st.pl.file || first.loc.line !== st.pl.line)) return "  " + joinTokens(st.pl.tokens);
  return diags.sourceLine(st.pl.file, st.pl.line);
}

function joinTokens(tokens: Token[]): string {
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const tight = i === 0 || t.type === "," || t.type === ":" || t.type === "]" || tokens[i - 1].type === "[";
    out += (tight ? "" : " ") + t.value;
  }
  return out;
}

/** The bytes of one statement at address `addr` (null after reporting an error). `$` (env.here) is the
 *  start of the source line even inside `times` (NASM: `times 4 dd $-x` repeats one value). */
function statementBytes(
  s: Stmt,
  env: EvalEnv,
  addr: bigint,
  st: PStmt,
  pass: number,
  diags: Diags,
  getRel: () => boolean,
  setRel: (r: boolean) => void,
  offset: number,
): number[] | null {
  switch (s.k) {
    case "insn": {
      if (st.fixed && st.line.stmt === s) return st.fixed;
      const mn = canonicalMnemonic(s.mn.value);
      env.usedSymbols = false;
      const ops: ROp[] = [];
      for (const o of s.ops) {
        const r = resolveOperand(o, env, getRel(), diags);
        if (!r) return null;
        ops.push(r);
      }
      const res = encodeInstruction(mn, ops, s.mn, { here: addr, minLen: pass >= GROW_ONLY_PASS ? st.lastLen : 0 });
      if (!res.ok) {
        // Forward references may make an early pass fail (e.g. a jump assumed short); only the final
        // pass reports.
        diags.add(res.tok ?? s.mn, res.message);
        // Keep the size it had, so a failing jump does not make the layout oscillate.
        return st.lastLen > 0 ? new Array<number>(st.lastLen).fill(0) : null;
      }
      st.lastLen = res.bytes.length;
      // A branch's bytes depend on its own address even with a constant target (jmp 0x1000).
      if (!env.usedSymbols && st.line.stmt === s && !BRANCHES.has(mn)) st.fixed = res.bytes;
      return res.bytes;
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
        const b = statementBytes(
          s.body,
          env,
          addr + BigInt(out.length),
          st,
          pass,
          diags,
          getRel,
          setRel,
          offset + out.length,
        );
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
        const b = statementBytes(
          s.fill,
          env,
          addr + BigInt(out.length),
          st,
          pass,
          diags,
          getRel,
          setRel,
          offset + out.length,
        );
        if (!b || b.length === 0) return null;
        out.push(...b);
        if (out.length >= pad) break;
      }
      return out;
    }
    case "bits": {
      const v = evaluate(s.e, env);
      if (v.v !== 64n) diags.add(s.tok, "only 'bits 64' is supported");
      return [];
    }
    case "default":
      setRel(s.rel);
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

/** Evaluates an operand into a register, an immediate or an effective address. */
function resolveOperand(o: Operand, env: EvalEnv, defaultRel: boolean, diags: Diags): ROp | null {
  const size = o.size ? SIZE_BITS[o.size.value.toLowerCase()] : 0;
  const v = evaluate(o.e, env);
  if (o.k === "expr") {
    if (v.regs.length) {
      const r = v.regs[0];
      if (v.regs.length === 1 && r.coef === 1n && v.v === 0n && v.reloc === 0 && !o.jump) {
        if (size && size !== r.reg.size) {
          diags.add(o.size!, `operand size mismatch: '${r.reg.name}' is ${r.reg.size}-bit, not ${size}-bit`);
          return null;
        }
        return { t: "reg", reg: r.reg, tok: r.tok };
      }
      diags.add(o.tok, "a register can only appear alone or inside [ ]");
      return null;
    }
    return {
      t: "imm",
      v: v.v,
      reloc: v.reloc !== 0,
      unknown: v.unknown,
      size,
      strict: !!o.strict,
      jump: o.jump,
      tok: o.tok,
    };
  }
  return resolveMem(o, v, size, env, defaultRel, diags);
}

function resolveMem(
  o: Operand & { k: "mem" },
  v: Value,
  size: number,
  _env: EvalEnv,
  defaultRel: boolean,
  diags: Diags,
): ROp | null {
  // The caret covers the whole operand, from its size keyword or '[' to ']'.
  const a = o.tok;
  const tok =
    a.loc.line === o.end.loc.line && a.loc.file === o.end.loc.file && o.end.loc.col >= a.loc.col
      ? { ...a, len: o.end.loc.col + o.end.len - a.loc.col }
      : a;
  // Combine repeated registers (rax+rax → rax*2) and drop zero coefficients.
  const terms: { reg: RegInfo; coef: bigint; tok: Token }[] = [];
  for (const r of v.regs) {
    const t = terms.find((x) => x.reg.name === r.reg.name);
    if (t) t.coef += r.coef;
    else terms.push({ ...r });
  }
  const live = terms.filter((t) => t.coef !== 0n);
  const bad = (m = "invalid effective address"): null => {
    diags.add(tok, m);
    return null;
  };
  for (const t of live) {
    if (t.reg.cls !== "gpr" || t.reg.size < 32)
      return bad(`'${t.reg.name}' cannot be used in an address (64-bit mode uses 64- or 32-bit registers)`);
  }
  if (live.length > 2) return bad();
  const asz = live.length ? live[0].reg.size : 64;
  if (live.some((t) => t.reg.size !== asz)) return bad("cannot mix 32-bit and 64-bit registers in an address");
  let base: RegInfo | null = null;
  let index: RegInfo | null = null;
  let scale = 1;
  const okScale = (c: bigint): boolean => c === 1n || c === 2n || c === 4n || c === 8n;
  if (live.length === 1) {
    const t = live[0];
    // NASM: [r*2] [r*3] [r*5] [r*9] become [r + r*(n-1)] (shorter than a disp32 with no base).
    if (t.coef === 1n) base = t.reg;
    else if (t.coef === 2n || t.coef === 3n || t.coef === 5n || t.coef === 9n) {
      base = t.reg;
      index = t.reg;
      scale = Number(t.coef - 1n);
    } else if (okScale(t.coef)) {
      index = t.reg;
      scale = Number(t.coef);
    } else return bad(`scale ${t.coef} is not 1, 2, 4 or 8`);
  } else if (live.length === 2) {
    const [a, b] = live;
    if (a.coef === 1n && okScale(b.coef)) {
      base = a.reg;
      index = b.reg;
      scale = Number(b.coef);
    } else if (b.coef === 1n && okScale(a.coef)) {
      base = b.reg;
      index = a.reg;
      scale = Number(a.coef);
    } else return bad();
  }
  if (index && index.num === 4) {
    // RSP cannot be an index (SDM Table 2-3): swap with the base when the scale is 1.
    if (scale === 1 && base && base.num !== 4) [base, index] = [index, base];
    else return bad(`'${index.name}' cannot be an index register`);
  }
  // RIP-relative only for a label address (NASM: "absolute address can not be RIP-relative" — a plain
  // number stays a SIB absolute disp32 even under `rel` / `default rel`). A label not known yet (a forward
  // reference in the first pass) has no segment in NASM either, so that pass sizes the operand as the SIB
  // absolute form, one byte longer: a jump sized against that layout can end up near where a short one
  // would also fit, and NASM keeps it (checked against nasm 2.16: `jmp f` / `lea rax, [rel f]` /
  // `times 120 nop` / `f:` gives E9).
  const ripRel = live.length === 0 && v.reloc !== 0 && (o.mode === "rel" || (defaultRel && o.mode !== "abs"));
  const dispSize = o.dispSize ? SIZE_BITS[o.dispSize.value.toLowerCase()] : 0;
  return {
    t: "mem",
    size,
    base,
    index,
    scale,
    disp: v.v,
    dispReloc: v.reloc !== 0,
    dispUnknown: v.unknown,
    ripRel,
    dispSize,
    addr32: asz === 32,
    tok,
  };
}
