/**
 * NASM's single-line macros (NASM manual §4.1): `%define NAME body`, `%define NAME(a, b) body` (several
 * definitions of one name with different parameter counts may coexist), `%xdefine`, `%undef`, and
 * their expansion on a token line.
 */
import type { Token } from "./lexer.js";
import { MAX_DEFINE_DEPTH, MAX_LINE_TOKENS } from "./limits.js";

interface Define {
  /** Parameter names, or null for a macro without parentheses. */
  params: string[] | null;
  body: Token[];
}

type Report = (tok: Token, message: string, severity?: "error" | "warning") => void;

export class Defines {
  private readonly map = new Map<string, Define[]>();

  /** Defines NAME (replacing a definition with the same parameter count). */
  set(name: string, params: string[] | null, body: Token[]): void {
    const list = (this.map.get(name) ?? []).filter((d) => (d.params?.length ?? -1) !== (params?.length ?? -1));
    list.push({ params, body });
    this.map.set(name, list);
  }

  /** `%undef NAME` removes every definition of the name. */
  delete(name: string): void {
    this.map.delete(name);
  }

  /** `%ifdef NAME`: any definition, with or without parameters. */
  has(name: string): boolean {
    return this.map.has(name);
  }

  /** The line with every defined name replaced (and rescanned, as NASM does), at most MAX_DEFINE_DEPTH
   *  rounds and MAX_LINE_TOKENS tokens; an empty line after an error. */
  expand(tokens: Token[], report: Report): Token[] {
    if (this.map.size === 0) return tokens;
    let line = tokens;
    for (let depth = 0; ; depth++) {
      const out = this.round(line);
      if (out === null) {
        report(
          tokens[0],
          `line has more than ${MAX_LINE_TOKENS} tokens after %define expansion (the tokens-per-line limit)`,
        );
        return [];
      }
      if (out === line) return line;
      if (depth >= MAX_DEFINE_DEPTH) {
        report(
          tokens[0],
          `%define expansion deeper than ${MAX_DEFINE_DEPTH} rounds (recursive definition?) (the %define depth limit)`,
        );
        return out;
      }
      line = out;
    }
  }

  /** One pass over the line: the same array when nothing was defined, null past the token limit. */
  private round(tokens: Token[]): Token[] | null {
    let changed = false;
    const out: Token[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      const defs = isName(t) ? this.map.get(t.value) : undefined;
      if (!defs) {
        out.push(t);
        continue;
      }
      let body: Token[] | null = null;
      const withArgs = tokens[i + 1]?.type === "(" ? callArgs(tokens, i + 1) : null;
      if (withArgs) {
        const d = defs.find((x) => x.params !== null && x.params.length === withArgs.args.length);
        if (d) {
          body = substitute(d, withArgs.args);
          i = withArgs.end;
        }
      }
      if (body === null) {
        const plain = defs.find((x) => x.params === null);
        // A macro with parameters used without a matching argument list stays a plain name (NASM).
        if (!plain) {
          out.push(t);
          continue;
        }
        body = plain.body;
      }
      changed = true;
      // Replacement tokens point at the use site, so a diagnostic underlines the name the user wrote.
      for (const b of body) out.push({ ...b, loc: t.loc, len: t.len });
      if (out.length > MAX_LINE_TOKENS) return null;
    }
    return changed ? out : tokens;
  }
}

export function isName(t: Token): boolean {
  return /^[A-Za-z_.?]/.test(t.value) && t.type !== "string" && t.type !== "ppDirective";
}

/** `%define NAME(a, b) body`: the parameter list when `(` follows the name without a space. */
export function defineParams(tokens: Token[], name: Token): { params: string[]; end: number } | null | "bad" {
  const open = tokens[2];
  if (open?.type !== "(" || open.loc.col !== name.loc.col + name.len) return null;
  const params: string[] = [];
  let i = 3;
  if (tokens[i]?.type === ")") return { params, end: i + 1 };
  for (;;) {
    const p = tokens[i];
    if (!p || !isName(p)) return "bad";
    params.push(p.value);
    const sep = tokens[i + 1];
    if (sep?.type === ")") return { params, end: i + 2 };
    if (sep?.type !== ",") return "bad";
    i += 2;
  }
}

/** The arguments of `name(…)` starting at the `(` at `open`: split at top-level commas; parentheses
 *  nest and stay, braces group and are removed (NASM §4.1.2). Null without a closing `)`. */
function callArgs(tokens: Token[], open: number): { args: Token[][]; end: number } | null {
  const args: Token[][] = [[]];
  let paren = 0;
  let brace = 0;
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type === "{" && brace++ === 0) continue;
    if (t.type === "}" && brace > 0 && --brace === 0) continue;
    if (brace === 0) {
      if (t.type === ")" && paren === 0) return { args: args.length === 1 && args[0].length === 0 ? [] : args, end: i };
      if (t.type === "(") paren++;
      if (t.type === ")") paren--;
      if (t.type === "," && paren === 0) {
        args.push([]);
        continue;
      }
    }
    args[args.length - 1].push(t);
  }
  return null;
}

function substitute(d: Define, args: Token[][]): Token[] {
  const params = d.params!;
  const out: Token[] = [];
  for (const b of d.body) {
    const k = isName(b) ? params.indexOf(b.value) : -1;
    if (k >= 0) for (const a of args[k]) out.push(a);
    else out.push(b);
  }
  return out;
}
