/**
 * NASM's structure macros (standard macro package, NASM manual §5.9.1–5.9.2), expanded as NASM's own
 * definitions do: `struc NAME[, OFFSET]` … `endstruc` lay fields out in an absolute section and define
 * NAME_size; `istruc NAME` … `at FIELD, data` … `iend` pad an instance with zero bytes to each field.
 */
import type { Token } from "./lexer.js";
import { isName } from "./preprocess-define.js";
import { splitArgs } from "./preprocess-macro.js";

/** An open struc or istruc: the structure's name and, for istruc, its start label. */
export interface StrucContext {
  kind: "struc" | "istruc";
  name: string;
  start: string;
  tok: Token;
}

export const STRUC_WORDS: ReadonlySet<string> = new Set(["struc", "endstruc", "istruc", "at", "iend"]);

type Report = (tok: Token, message: string) => void;

/** The lines one structure keyword expands to (null: reported, nothing to emit). */
export function expandStruc(
  word: Token,
  args: Token[],
  stack: StrucContext[],
  nextId: () => number,
  report: Report,
): Token[][] | null {
  const kw = word.value.toLowerCase();
  const mk = (type: string, value: string): Token => ({ type, value, loc: word.loc, len: word.len });
  const name = (value: string): Token => mk("ident", value);
  const num = (value: string): Token => mk("number", value);
  const p = (v: string): Token => mk(v, v);
  const top = stack[stack.length - 1];
  /** `times OFFSET-($-start) db 0`: zero bytes up to OFFSET from the instance's start. */
  const padTo = (offset: Token[], c: StrucContext): Token[] => [
    mk("times", "times"),
    ...offset,
    p("-"),
    p("("),
    mk("here", "$"),
    p("-"),
    name(c.start),
    p(")"),
    mk("data", "db"),
    num("0"),
  ];
  const parts = splitArgs(args).args;
  switch (kw) {
    case "struc": {
      // %imacro struc 1-2 0: [absolute %2] / %1: (the fields follow as labels local to %1)
      if (parts.length < 1 || parts.length > 2 || parts[0].length !== 1 || !isName(parts[0][0])) {
        report(word, "struc needs a structure name (and optionally an offset)");
        return null;
      }
      const n = parts[0][0].value;
      stack.push({ kind: "struc", name: n, start: "", tok: word });
      const offset = parts[1]?.length ? parts[1] : [num("0")];
      return [
        [mk("absolute", "absolute"), ...offset],
        [name(n), p(":")],
      ];
    }
    case "endstruc": {
      // %{$strucname}_size equ ($-%$strucname), then back to the section.
      if (top?.kind !== "struc") {
        report(word, "endstruc without struc");
        return null;
      }
      stack.pop();
      return [
        [name(`${top.name}_size`), mk("equ", "equ"), p("("), mk("here", "$"), p("-"), name(top.name), p(")")],
        [mk("section", "section"), name(".text")],
      ];
    }
    case "istruc": {
      if (parts.length !== 1 || parts[0].length !== 1 || !isName(parts[0][0])) {
        report(word, "istruc needs a structure name");
        return null;
      }
      const start = `..@${nextId()}.strucstart`;
      stack.push({ kind: "istruc", name: parts[0][0].value, start, tok: word });
      return [[name(start), p(":")]];
    }
    case "at": {
      // %imacro at 1-2+: times (%1-%$strucname)-($-%$strucstart) db 0 / %2
      if (top?.kind !== "istruc" || parts.length < 1 || parts[0].length === 0) {
        report(word, top?.kind === "istruc" ? "at needs a field name" : "at outside istruc … iend");
        return null;
      }
      const comma = args.findIndex((t) => t.type === ",");
      const field = comma < 0 ? args : args.slice(0, comma);
      const lines = [padTo([p("("), ...field, p("-"), name(top.name), p(")")], top)];
      if (comma >= 0 && comma + 1 < args.length) lines.push(args.slice(comma + 1));
      return lines;
    }
    default: {
      // iend: times %{$strucname}_size-($-%$strucstart) db 0
      if (top?.kind !== "istruc") {
        report(word, "iend without istruc");
        return null;
      }
      stack.pop();
      return [padTo([name(`${top.name}_size`)], top)];
    }
  }
}
