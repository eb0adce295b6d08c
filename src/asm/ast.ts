/** The parsed form of one NASM source line (grammar/asm.ne builds these). */
import type { Token } from "./lexer.js";

export type Expr =
  | { k: "num"; tok: Token }
  | { k: "str"; tok: Token }
  | { k: "sym"; tok: Token }
  | { k: "reg"; tok: Token }
  | { k: "here"; tok: Token }
  | { k: "base"; tok: Token }
  | { k: "un"; op: "-" | "~" | "!"; a: Expr; tok: Token }
  | { k: "bin"; op: string; a: Expr; b: Expr; tok: Token };

export type Operand =
  | { k: "expr"; e: Expr; tok: Token; size?: Token; strict?: boolean; jump?: "short" | "near" }
  | {
      k: "mem";
      e: Expr;
      tok: Token;
      end: Token;
      size?: Token;
      mode?: "rel" | "abs";
      dispSize?: Token;
      /** Segment override (`[fs:rax]`): the register token. */
      seg?: Token;
      strict?: boolean;
      /** `far [mem]`: a far pointer in memory (m16:16/32/64). */
      far?: boolean;
    }
  /** `sel:offset`: a far pointer in the instruction (jmp 0x08:start). */
  | { k: "ptr"; sel: Expr; off: Expr; tok: Token; size?: Token };

/* The AST holds only references to the line's own tokens (never copies): the parser's cache relies on
   it to re-bind a cached parse to another line with the same token types. */

export type Stmt =
  | { k: "insn"; mn: Token; ops: Operand[]; prefixes?: Token[] }
  | { k: "prefix"; tok: Token }
  | { k: "data"; tok: Token; items: Expr[] }
  | { k: "res"; tok: Token; count: Expr }
  | { k: "times"; tok: Token; count: Expr; body: Stmt }
  | { k: "bits"; tok: Token; e: Expr }
  | { k: "org"; tok: Token; e: Expr }
  | { k: "absolute"; tok: Token; e: Expr }
  | { k: "align"; tok: Token; e: Expr; fill?: Stmt }
  | { k: "default"; tok: Token; rel: boolean }
  | { k: "section"; tok: Token }
  | { k: "global"; tok: Token };

export interface Line {
  label?: Token;
  equ?: Expr;
  stmt?: Stmt;
}
