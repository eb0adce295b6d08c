/**
 * The assembler: NASM-syntax source → flat x86-64 binary, byte-identical to `nasm -f bin` (NASM 2.16,
 * default -Ox multipass optimisation) for every source it accepts. Pure: includes come through the
 * resolver passed in; output and diagnostics are values.
 */
import type { Token } from "./lexer.js";
import { Preprocessor, type IncludeResolver } from "./preprocess.js";
import { type Diagnostic, Diags } from "./diagnostics.js";
import { evaluate, qualify, type EvalEnv, type SymbolValue } from "./expr.js";
import { parseLine } from "./parse-line.js";
import { ADDRESS, EarlySymbols, usesPosition } from "./early-symbols.js";
import { type PassOutput, runPass } from "./pass.js";
import type { PStmt } from "./statement.js";
import { err, ok, type Result } from "../result.js";

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

/** An assembled program: the flat image, where it loads, its symbols and listing. */
export interface Assembly {
  readonly bytes: Uint8Array;
  readonly origin: number;
  /** The code size (`bits`) in force at the image's first byte: 64 unless a `bits 16`/`bits 32`
   *  comes before the first instruction or data (a guest then starts in that mode: docs/guest-abi.md). */
  readonly entryBits: 16 | 32 | 64;
  readonly symbols: readonly AsmSymbol[];
  readonly lines: readonly ListingLine[];
  readonly warnings: readonly Diagnostic[];
  /** Layout passes it took to converge (NASM-style multipass optimisation). */
  readonly passes: number;
}

/** The program, or every error found (in source order, at most `maxErrors`). */
export type AssembleResult = Result<Assembly, readonly Diagnostic[]>;

const MAX_PASSES = 24;

/** Assembles NASM-syntax source into a flat binary (like `nasm -f bin`). Never throws on bad input. */
export function assemble(source: string, options: AssembleOptions = {}): AssembleResult {
  const file = options.file ?? "<input>";
  const cap = options.maxErrors ?? 100;
  const sources = new Map<string, string[]>();
  const diags = new Diags(sources, cap);
  // The preprocessor fills `sources` as it reads files, so every diagnostic can show its line.
  // %assign, %rep, %rotate and %if: a constant expression, parsed by the same grammar, evaluated now
  // with the equ constants of the lines before it (NASM evaluates them during its first pass).
  let early: EarlySymbols | null = null;
  const evalConst = (tokens: Token[], at: Token): bigint | null => {
    early?.catchUp();
    const line = parseLine(
      [{ ...at, type: "ident", value: "%const" }, { ...at, type: "equ", value: "equ" }, ...tokens],
      diags,
    );
    if (!line?.equ) return null;
    let bad = false;
    let address = usesPosition(line.equ);
    const env = constEnv(diags);
    const v = evaluate(line.equ, {
      ...env,
      lookup: (name) => {
        const s = early?.table.get(name);
        if (s === ADDRESS) address = true;
        return s;
      },
      missing: (name, tok) => ((bad = true), env.missing(name, tok)),
      error: (tok, m) => ((bad = true), env.error(tok, m)),
    });
    if (bad) return null;
    if (v.regs.length || v.reloc || address) {
      diags.add(at, `${at.value} needs a constant value (a label or $ is an address)`);
      return null;
    }
    return v.v;
  };
  const pp = new Preprocessor(
    options.include,
    (loc, len, message, severity) => diags.add({ loc, len }, message, severity),
    sources,
    evalConst,
  );
  early = new EarlySymbols(pp.out, (t) => parseLine(t, diags));
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
      // NASM: `NAME equ …` does not open a new local-label scope (struc's `NAME_size equ` relies on it).
      if ((!name.startsWith(".") || name.startsWith("..")) && !name.startsWith("..@") && !line.equ) scope = name;
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

  // The code size at the first byte: the last `bits` before anything that emits bytes.
  let entryBits: 16 | 32 | 64 = 64;
  for (const st of stmts) {
    const k = st.line.stmt?.k;
    if (k === "bits") {
      const v = evaluate(st.line.stmt!.e, constEnv(diags));
      if (!v.unknown && (v.v === 16n || v.v === 32n || v.v === 64n)) entryBits = Number(v.v) as 16 | 32 | 64;
    } else if (k === "insn" || k === "data" || k === "res" || k === "times" || k === "align") break;
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
  if (syntaxErrors >= cap) return err(sorted(diags.list, file).slice(0, cap));

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
  if (errors.length > 0 || !result) return err(sorted(errors, file).slice(0, cap));
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
  const bytes = result.image.materialise();
  return ok({
    bytes,
    origin: Number(origin),
    entryBits,
    symbols: syms,
    lines: listingLines(stmts, result.spans, bytes, Number(origin), diags),
    warnings: sorted(
      diags.list.filter((d) => d.severity === "warning"),
      file,
    ),
    passes,
  });
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

function listingLines(stmts: PStmt[], spans: number[], bytes: Uint8Array, origin: number, diags: Diags): ListingLine[] {
  const out: ListingLine[] = [];
  for (let i = 0; i < spans.length; i += 3) {
    const st = stmts[spans[i]];
    const start = spans[i + 1];
    out.push({
      file: st.pl.file,
      line: st.pl.line,
      address: origin + start,
      // A view, not a copy: a `times 60000000 db 0` line costs nothing more here.
      bytes: bytes.subarray(start, spans[i + 2]),
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
