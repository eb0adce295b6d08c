/**
 * The symbols a preprocessor expression may use (%if, %assign, %rep, %rotate): NASM preprocesses during
 * its first pass, so an `equ` constant defined on an earlier line is known, a later one is not, and a
 * label (or an `equ` that depends on an address) is known but not constant. This table follows the
 * preprocessed lines as they are produced.
 */
import type { Expr, Line } from "./ast.js";
import { evaluate, qualify, type SymbolValue } from "./expr.js";
import type { Token } from "./lexer.js";
import type { PLine } from "./preprocess.js";

/** Marks a name whose value is an address: known, but never a constant. */
export const ADDRESS: SymbolValue = { value: 0n, reloc: true };

export class EarlySymbols {
  readonly table = new Map<string, SymbolValue>();
  private seen = 0;
  private scope = "";

  constructor(
    private readonly lines: PLine[],
    private readonly parse: (tokens: Token[]) => Line | null,
  ) {}

  /** Reads the lines produced since the last call. */
  catchUp(): void {
    for (; this.seen < this.lines.length; this.seen++) {
      const t = this.lines[this.seen].tokens;
      if (t[0]?.type !== "ident") continue;
      const name = t[0].value;
      const isEqu = t[1]?.type === "equ" || (t[1]?.type === ":" && t[2]?.type === "equ");
      const local = name.startsWith(".") && !name.startsWith("..");
      const qualified = qualify(name, this.scope);
      if (!isEqu) {
        if (t[1]?.type !== ":") continue;
        this.table.set(qualified, ADDRESS);
        if (!local && !name.startsWith("..@")) this.scope = name;
        continue;
      }
      const line = this.parse(t);
      if (!line?.equ) continue;
      let bad = false;
      const v = evaluate(line.equ, {
        here: 0n,
        base: 0n,
        scope: this.scope,
        lookup: (n) => this.table.get(n),
        error: () => {
          bad = true;
        },
        missing: () => {
          bad = true;
        },
      });
      if (bad || v.regs.length) continue;
      this.table.set(qualified, v.reloc !== 0 || usesPosition(line.equ) ? ADDRESS : { value: v.v, reloc: false });
    }
  }
}

/** Whether an expression reads `$`, `$$` or a label address (its value is only known after layout). */
export function usesPosition(e: Expr): boolean {
  switch (e.k) {
    case "here":
    case "base":
      return true;
    case "un":
      return usesPosition(e.a);
    case "bin":
      return usesPosition(e.a) || usesPosition(e.b);
    default:
      return false;
  }
}
