/**
 * NASM source tokens (moo): one line at a time, every token with its file/line/col so diagnostics
 * survive %include and %macro expansion. Token classes follow the NASM manual ch. 3 (syntax).
 */
import moo from "moo";
import { ALIASES, ROWS_BY_MNEMONIC } from "../isa/opcodes.js";
import { REGISTERS } from "./registers.js";
import { UNSUPPORTED_MNEMONICS } from "./unsupported.js";

/** Where a token came from (1-based line and column). */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Token {
  type: string;
  value: string;
  /** 1-based column in its source line, and the source position it was written at. */
  loc: Loc;
  /** Length in characters (for the caret underline). */
  len: number;
}

/** The instruction prefixes NASM writes as words, and their bytes (SDM Vol. 2 §2.1.1 group 1). */
export const PREFIX_BYTES: Readonly<Record<string, number>> = {
  lock: 0xf0,
  rep: 0xf3,
  repe: 0xf3,
  repz: 0xf3,
  repne: 0xf2,
  repnz: 0xf2,
};

/** Keywords by lower-case spelling → token type (NASM keywords are case-insensitive). */
const KEYWORDS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const name of ROWS_BY_MNEMONIC.keys()) m.set(name, "mnemonic");
  for (const name of Object.keys(ALIASES)) m.set(name, "mnemonic");
  for (const name of UNSUPPORTED_MNEMONICS) m.set(name, "mnemonic");
  for (const name of REGISTERS.keys()) m.set(name, "reg");
  for (const name of Object.keys(PREFIX_BYTES)) m.set(name, "prefix");
  for (const s of ["byte", "word", "dword", "qword"]) m.set(s, "size");
  for (const s of ["db", "dw", "dd", "dq"]) m.set(s, "data");
  for (const s of ["resb", "resw", "resd", "resq"]) m.set(s, "res");
  for (const s of [
    "rel",
    "abs",
    "short",
    "far",
    "near",
    "strict",
    "times",
    "equ",
    "bits",
    "org",
    "align",
    "section",
    "segment",
    "global",
    "extern",
    "absolute",
  ])
    m.set(s, s);
  m.set("alignb", "align"); // the same grammar; statement.ts fills with zeros (NASM's alignb)
  m.set("default", "defaultKw");
  return m;
})();

const lexer = moo.compile({
  ws: /[ \t\r\f\v]+/,
  comment: /;.*/,
  // NASM: '…' and "…" take their contents literally; `…` has C escapes (NASM manual 3.4.2).
  string: /'[^']*'|"[^"]*"|`(?:[^`\\]|\\.)*`/,
  badString: /['"`].*/,
  number: /[0-9][0-9A-Za-z_]*/,
  localLabel: /%%[A-Za-z_.?$][A-Za-z0-9_.?$#@~]*/,
  param: /%[0-9]+/,
  ppDirective: /%[A-Za-z]+/,
  ident: {
    match: /\.\.@[A-Za-z0-9_.?$#@~]*|[A-Za-z_.?][A-Za-z0-9_.?$#@~]*/,
    type: (text: string) => KEYWORDS.get(text.toLowerCase()) ?? "ident",
  },
  // NASM's comparison and logical operators (NASM manual §3.5), longest first.
  op2: ["==", "!=", "<>", "<=", ">=", "&&", "||", "^^", "//", "%%"],
  base: "$$",
  here: "$",
  shl: "<<",
  shr: ">>",
  op: ["+", "-", "*", "/", "%", "&", "|", "^", "~", "(", ")", "[", "]", ",", ":", "{", "}", "<", ">", "=", "!"],
  error: moo.error,
});

/** Splits one source line into tokens (whitespace and comments dropped). Never throws: a character
 *  NASM does not know becomes an `error` token the parser reports. */
export function tokenizeLine(text: string, file: string, line: number): Token[] {
  lexer.reset(text);
  const out: Token[] = [];
  for (;;) {
    const t = lexer.next();
    if (!t) break;
    if (t.type === "ws" || t.type === "comment") continue;
    const type = t.type === "op" || t.type === "op2" ? t.value : (t.type as string);
    out.push({ type, value: t.value, loc: { file, line, col: t.col }, len: Math.max(1, t.text.length) });
    if (t.type === "error") break;
  }
  return out;
}

/** The nearley lexer interface over an already-tokenized line (the parser is fed a Token[]). */
export class TokenStream {
  private tokens: Token[] = [];
  private i = 0;
  reset(chunk: unknown): void {
    this.tokens = chunk as Token[];
    this.i = 0;
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  save(): object {
    return {};
  }
  formatError(token: Token): string {
    return `unexpected '${token.value}'`;
  }
  has(_type: string): boolean {
    return true;
  }
}
