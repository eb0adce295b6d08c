/**
 * One layout pass over the parsed statements (NASM's multipass optimisation): addresses from the
 * previous pass's symbols, every statement's bytes, the symbols this pass defines, listing spans.
 */
import type { Diags } from "./diagnostics.js";
import { evaluate, type EvalEnv, type SymbolValue } from "./expr.js";
import { Image } from "./image.js";
import { type AsmMode, type EmitContext, emitStatement, type PStmt } from "./statement.js";

export interface PassOutput {
  /** The image of this pass (materialised once, after the last pass). */
  image: Image;
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
  const image = new Image();
  // Inside `absolute` (what `struc` expands to) statements only move a counter: a scratch image that
  // holds reservations as zero spans, at `absStart`.
  let abs: Image | null = null;
  let absStart = 0n;
  // Listing spans (statement index, start, end) as plain numbers; ListingLines are built once, after
  // the last pass.
  const spans: number[] = [];
  // `default rel` and `bits N` as they stand at each statement (both start over in every pass).
  const mode: AsmMode = { rel: false, bits: 64 };
  let anyUnknownLabel = false;
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
  const ctx: EmitContext = {
    env,
    st: stmts[0],
    pass,
    diags,
    mode,
    absolute: false,
    encoded: 0,
  };
  for (let si = 0; si < stmts.length; si++) {
    const st = stmts[si];
    if (image.overflow) break;
    const here = abs ? absStart + BigInt(abs.size) : origin + BigInt(image.size);
    env.here = here;
    env.base = abs ? absStart : origin;
    env.absolute = abs !== null;
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
      // A label in an absolute section (a struc field) is a plain number, as in NASM.
      symbols.set(st.labelName, { value: here, reloc: abs === null });
    }
    const s = line.stmt;
    if (s?.k === "absolute") {
      const v = evaluate(s.e, env);
      if (v.unknown || v.regs.length) diags.add(s.tok, "absolute needs a value known at this point");
      abs = new Image();
      absStart = v.v;
      continue;
    }
    if (s?.k === "section") abs = null;
    if (!s) {
      if (st.labelName) spans.push(si, image.size, image.size);
      continue;
    }
    const start = image.size;
    ctx.st = st;
    ctx.absolute = abs !== null;
    ctx.encoded = 0;
    emitStatement(s, ctx, here, abs ?? image);
    spans.push(si, start, image.size);
  }
  return { image, spans, symbols, anyUnknownLabel };
}
