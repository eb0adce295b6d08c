/**
 * NASM's conditional assembly (NASM manual §4.4): `%if`/`%elif` on an expression, `%ifdef`/`%elifdef`
 * on single-line macros, `%ifidn`/`%ifidni` on token text, each with its `n` (negated) form, and
 * `%else`/`%endif`; a stack of open blocks per file, macro expansion or %rep iteration.
 */
import type { Token } from "./lexer.js";
import { isName } from "./preprocess-define.js";

/** taking: this branch is assembled; waiting: no branch taken yet; done: one was; skipped: the whole
 *  block lies in a skipped branch (nothing in it is evaluated). */
type CondState = "taking" | "waiting" | "done" | "skipped";

interface Cond {
  state: CondState;
  sawElse: boolean;
  tok: Token;
}

export type CondKind = "expr" | "def" | "idn" | "idni";

/** `%if`, `%elifndef`, `%ifnidni`…: which test, negated or not, opening or continuing a block. */
export function condDirective(dir: string): { elif: boolean; negate: boolean; kind: CondKind | null } | null {
  const m = /^%(if|elif)(n?)(.*)$/.exec(dir);
  if (!m) return null;
  const kinds: Record<string, CondKind> = { "": "expr", def: "def", idn: "idn", idni: "idni" };
  // `%ifndef` is n + def; `%ifnidn` n + idn; but `%ifn` alone is the negated `%if`.
  return { elif: m[1] === "elif", negate: m[2] === "n", kind: kinds[m[3]] ?? null };
}

/** What the block stack needs from the preprocessor. */
export interface CondHost {
  /** The test's value (false after reporting an error). */
  test(kind: CondKind, head: Token, args: Token[]): boolean;
  report(tok: Token, message: string, severity?: "error" | "warning"): void;
}

export class CondStack {
  private readonly stack: Cond[] = [];

  /** Whether lines are assembled here. */
  active(): boolean {
    return this.stack.length === 0 || this.stack[this.stack.length - 1].state === "taking";
  }

  /** Handles a conditional directive (true) or says it is none (false). */
  handle(tokens: Token[], host: CondHost): boolean {
    const head = tokens[0];
    const dir = head.value.toLowerCase();
    const top = this.stack[this.stack.length - 1];
    if (dir === "%else" || dir === "%endif") {
      if (!top) {
        host.report(head, `${dir} without %if`);
        return true;
      }
      if (tokens.length > 1) host.report(tokens[1], `trailing garbage after '${dir}' ignored`, "warning");
      if (dir === "%endif") {
        this.stack.pop();
        return true;
      }
      if (top.sawElse) {
        host.report(head, "%else after %else: its lines are ignored", "warning");
        if (top.state !== "skipped") top.state = "done";
        return true;
      }
      top.sawElse = true;
      if (top.state === "taking") top.state = "done";
      else if (top.state === "waiting") top.state = "taking";
      return true;
    }
    const c = condDirective(dir);
    if (!c) return false;
    const evaluate = (): boolean => {
      if (c.kind === null) {
        host.report(head, `'${head.value}' is not supported by vpmu (see docs/assembler.md)`);
        return false;
      }
      return host.test(c.kind, head, tokens.slice(1)) !== c.negate;
    };
    if (!c.elif) {
      const state: CondState = !this.active() ? "skipped" : evaluate() ? "taking" : "waiting";
      this.stack.push({ state, sawElse: false, tok: head });
      return true;
    }
    if (!top) {
      host.report(head, `${dir} without %if`);
      return true;
    }
    if (top.sawElse) {
      host.report(head, `${dir} after %else: its lines are ignored`, "warning");
      if (top.state !== "skipped") top.state = "done";
    } else if (top.state === "taking") top.state = "done";
    else if (top.state === "waiting" && evaluate()) top.state = "taking";
    return true;
  }

  /** Reports every block left open at the end of a file, macro body or %rep body. */
  close(host: CondHost): void {
    for (const c of this.stack) host.report(c.tok, `${c.tok.value} has no %endif`);
    this.stack.length = 0;
  }
}

/** `%ifidn a, b`: the two token lists (already expanded) have the same text; idni ignores case. */
export function identical(tokens: Token[], caseless: boolean): boolean | null {
  const comma = tokens.findIndex((t) => t.type === ",");
  if (comma < 0) return null;
  const text = (ts: Token[]): string => {
    const s = ts.map((t) => t.value).join(" ");
    return caseless ? s.toLowerCase() : s;
  };
  return text(tokens.slice(0, comma)) === text(tokens.slice(comma + 1));
}

/** `%ifdef A B`: the names to test (null when one is not a name). */
export function definedNames(tokens: Token[]): string[] | null {
  if (tokens.length === 0) return null;
  const names: string[] = [];
  for (const t of tokens) {
    if (t.type === ",") continue;
    if (!isName(t)) return null;
    names.push(t.value);
  }
  return names;
}
