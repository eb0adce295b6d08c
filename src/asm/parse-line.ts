/**
 * One preprocessed line of tokens → its syntax tree (the nearley grammar in grammar/asm.ne), with the
 * diagnostics NASM gives for a line it cannot parse. Lines of the same token types share one parse.
 */
import nearley from "nearley";
import type { Line } from "./ast.js";
import type { Diags } from "./diagnostics.js";
import grammar from "./generated/asm.js";
import type { Token } from "./lexer.js";
import { parseNumber } from "./numbers.js";
import { UNSUPPORTED_MNEMONICS } from "./unsupported.js";
// Tokens on one line: bounds parser and evaluator recursion whatever the input.
import { MAX_LINE_TOKENS } from "./limits.js";

declare module "nearley" {
  interface Parser {
    /** The grammar's lexer (TokenStream in lexer.ts) reads the line's token array, not text. */
    feed(chunk: readonly Token[]): this;
  }
}

const compiledGrammar = nearley.Grammar.fromCompiled(grammar);

/** Parses one token line; null with a diagnostic on a syntax error. */
export function parseLine(tokens: Token[], diags: Diags): Line | null {
  if (tokens.length > MAX_LINE_TOKENS) {
    diags.add(tokens[MAX_LINE_TOKENS], `line has more than ${MAX_LINE_TOKENS} tokens (the tokens-per-line limit)`);
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
    parser.feed(tokens);
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
