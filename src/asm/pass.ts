/**
 * One layout pass over the parsed statements (NASM's multipass optimisation): addresses from the
 * previous pass's symbols, every statement's bytes, the symbols this pass defines, listing spans.
 */
import type { Diags } from "./diagnostics.js";
import { evaluate, type EvalEnv, type SymbolValue } from "./expr.js";
import { type AsmMode, MAX_OUTPUT, type PStmt, statementBytes } from "./statement.js";

export interface PassOutput {
  bytes: Uint8Array;
  spans: number[];
  symbols: Map<string, SymbolValue>;
  anyUnknownLabel: boolean;
}

export function runPass(
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
  // `default rel` and `bits N` as they stand at each statement (both start over in every pass).
  const mode: AsmMode = { rel: false, bits: 64 };
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
    const bytes = statementBytes(line.stmt, env, here, st, pass, diags, mode, size);
    if (bytes) emit(bytes);
    spans.push(si, start, size);
  }
  if (overflow) diags.add(stmts[0].pl.tokens[0], `output larger than ${MAX_OUTPUT} bytes`);
  return { bytes: buf.slice(0, size), spans, symbols, anyUnknownLabel };
}
