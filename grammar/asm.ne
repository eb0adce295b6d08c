# NASM statement grammar, one source line at a time (NASM manual ch. 3: "label: instruction operands").
# Tokens come from src/asm/lexer.ts (moo); types: ident mnemonic reg size data res number string here
# base localLabel and keyword types (rel abs short near strict times equ bits org align default …).
@preprocessor typescript
@{%
import { TokenStream } from "../lexer.js";
import type { Token } from "../lexer.js";
import type { Expr, Operand, Stmt, Line } from "../ast.js";
const lexer = new TokenStream();
const binOp = (d: any[]): Expr => ({ k: "bin", op: (d[1] as Token).value, a: d[0], b: d[2], tok: d[1] as Token });
%}
@lexer lexer

line -> null                          {% (): Line => ({}) %}
      | label                         {% (d): Line => ({ label: d[0] }) %}
      | label stmt                    {% (d): Line => ({ label: d[0], stmt: d[1] }) %}
      | stmt                          {% (d): Line => ({ stmt: d[0] }) %}
      | %ident %equ expr              {% (d): Line => ({ label: d[0], equ: d[2] }) %}
      | %ident ":" %equ expr          {% (d): Line => ({ label: d[0], equ: d[3] }) %}

label -> %ident ":"                   {% (d) => d[0] %}
       | %ident                       {% (d) => d[0] %}

stmt -> insn                         {% (d) => d[0] %}
      | %prefix                       {% (d): Stmt => ({ k: "prefix", tok: d[0] }) %}
      | %data dataItems               {% (d): Stmt => ({ k: "data", tok: d[0], items: d[1] }) %}
      | %res expr                     {% (d): Stmt => ({ k: "res", tok: d[0], count: d[1] }) %}
      | %times expr stmt              {% (d): Stmt => ({ k: "times", tok: d[0], count: d[1], body: d[2] }) %}
      | directive                     {% (d) => d[0] %}
      | "[" directive "]"             {% (d) => d[1] %}

# LOCK / REP / REPE / REPNE before an instruction (NASM manual §3.1: "instruction prefixes").
insn -> %mnemonic                     {% (d): Stmt => ({ k: "insn", mn: d[0], ops: [] }) %}
      | %mnemonic operands            {% (d): Stmt => ({ k: "insn", mn: d[0], ops: d[1] }) %}
      | %prefix insn                  {% (d): Stmt => ({ ...d[1], prefixes: [d[0], ...(d[1].prefixes ?? [])] }) %}

directive -> %bits expr               {% (d): Stmt => ({ k: "bits", tok: d[0], e: d[1] }) %}
           | %org expr                {% (d): Stmt => ({ k: "org", tok: d[0], e: d[1] }) %}
           | %absolute expr           {% (d): Stmt => ({ k: "absolute", tok: d[0], e: d[1] }) %}
           | %align expr              {% (d): Stmt => ({ k: "align", tok: d[0], e: d[1] }) %}
           | %align expr "," stmt     {% (d): Stmt => ({ k: "align", tok: d[0], e: d[1], fill: d[3] }) %}
           | %defaultKw %rel            {% (d): Stmt => ({ k: "default", tok: d[0], rel: true }) %}
           | %defaultKw %abs            {% (d): Stmt => ({ k: "default", tok: d[0], rel: false }) %}
           | %section %ident          {% (d): Stmt => ({ k: "section", tok: d[0] }) %}
           | %segment %ident          {% (d): Stmt => ({ k: "section", tok: d[0] }) %}
           | %global idents           {% (d): Stmt => ({ k: "global", tok: d[0] }) %}

idents -> %ident | idents "," %ident

operands -> operand                   {% (d): Operand[] => [d[0]] %}
          | operands "," operand      {% (d): Operand[] => [...d[0], d[2]] %}

operand -> immop                                {% (d) => d[0] %}
         | %size immop                          {% (d): Operand => ({ ...d[1], size: d[0] }) %}
         | %strict %size immop                  {% (d): Operand => ({ ...d[2], size: d[1], strict: true }) %}
         | %short expr                          {% (d): Operand => ({ k: "expr", e: d[1], tok: d[0], jump: "short" }) %}
         | %near expr                           {% (d): Operand => ({ k: "expr", e: d[1], tok: d[0], jump: "near" }) %}
         | mem                                  {% (d) => d[0] %}
         | %far mem                             {% (d): Operand => ({ ...d[1], far: true }) %}
         | %far %size mem                       {% (d): Operand => ({ ...d[2], far: true, size: d[1], tok: d[1] }) %}
         | expr ":" expr                        {% (d): Operand => ({ k: "ptr", sel: d[0], off: d[2], tok: firstTok(d[0]) }) %}
         | %size expr ":" expr                  {% (d): Operand => ({ k: "ptr", sel: d[1], off: d[3], tok: d[0], size: d[0] }) %}
         | %size mem                            {% (d): Operand => ({ ...d[1], size: d[0], tok: d[0] }) %}

immop -> expr                                   {% (d): Operand => ({ k: "expr", e: d[0], tok: firstTok(d[0]) }) %}

mem -> "[" expr "]"                             {% (d): Operand => ({ k: "mem", e: d[1], tok: d[0], end: d[2] }) %}
     | "[" %rel expr "]"                        {% (d): Operand => ({ k: "mem", e: d[2], tok: d[0], end: d[3], mode: "rel" }) %}
     | "[" %abs expr "]"                        {% (d): Operand => ({ k: "mem", e: d[2], tok: d[0], end: d[3], mode: "abs" }) %}
     | "[" %size expr "]"                       {% (d): Operand => ({ k: "mem", e: d[2], tok: d[0], end: d[3], dispSize: d[1] }) %}
     | "[" %reg ":" expr "]"                    {% (d): Operand => ({ k: "mem", e: d[3], tok: d[0], end: d[4], seg: d[1] }) %}
     | "[" %rel %reg ":" expr "]"               {% (d): Operand => ({ k: "mem", e: d[4], tok: d[0], end: d[5], mode: "rel", seg: d[2] }) %}
     | "[" %reg ":" %rel expr "]"               {% (d): Operand => ({ k: "mem", e: d[4], tok: d[0], end: d[5], mode: "rel", seg: d[1] }) %}
     | "[" %size %reg ":" expr "]"              {% (d): Operand => ({ k: "mem", e: d[4], tok: d[0], end: d[5], dispSize: d[1], seg: d[2] }) %}
     | "[" %reg ":" %size expr "]"              {% (d): Operand => ({ k: "mem", e: d[4], tok: d[0], end: d[5], dispSize: d[3], seg: d[1] }) %}
     | "[" %abs %size expr "]"                  {% (d): Operand => ({ k: "mem", e: d[3], tok: d[0], end: d[4], mode: "abs", dispSize: d[2] }) %}
     | "[" %size %abs expr "]"                  {% (d): Operand => ({ k: "mem", e: d[3], tok: d[0], end: d[4], mode: "abs", dispSize: d[1] }) %}

dataItems -> expr                     {% (d): Expr[] => [d[0]] %}
           | dataItems "," expr       {% (d): Expr[] => [...d[0], d[2]] %}

# NASM §3.5, lowest precedence first: || ^^ && (comparisons) | ^ & (shifts) (+ -) (* / // % %%) unary.
expr -> lor                           {% (d) => d[0] %}
lor  -> lor "||" lxor                 {% binOp %}
      | lxor                          {% (d) => d[0] %}
lxor -> lxor "^^" land                {% binOp %}
      | land                          {% (d) => d[0] %}
land -> land "&&" cmp                 {% binOp %}
      | cmp                           {% (d) => d[0] %}
cmp  -> cmp cmpOp or                  {% (d): Expr => ({ k: "bin", op: (d[1] as Token).value, a: d[0], b: d[2], tok: d[1] as Token }) %}
      | or                            {% (d) => d[0] %}
cmpOp -> "=" {% id %} | "==" {% id %} | "!=" {% id %} | "<>" {% id %} | "<" {% id %} | "<=" {% id %}
       | ">" {% id %} | ">=" {% id %}
or   -> or "|" xor                    {% binOp %}
      | xor                           {% (d) => d[0] %}
xor  -> xor "^" and                   {% binOp %}
      | and                           {% (d) => d[0] %}
and  -> and "&" shift                 {% binOp %}
      | shift                         {% (d) => d[0] %}
shift -> shift %shl sum               {% binOp %}
       | shift %shr sum               {% binOp %}
       | sum                          {% (d) => d[0] %}
sum  -> sum "+" prod                  {% binOp %}
      | sum "-" prod                  {% binOp %}
      | prod                          {% (d) => d[0] %}
prod -> prod "*" unary                {% binOp %}
      | prod "/" unary                {% binOp %}
      | prod "%" unary                {% binOp %}
      | prod "//" unary               {% binOp %}
      | prod "%%" unary               {% binOp %}
      | unary                         {% (d) => d[0] %}
unary -> "-" unary                    {% (d): Expr => ({ k: "un", op: "-", a: d[1], tok: d[0] }) %}
       | "+" unary                    {% (d) => d[1] %}
       | "~" unary                    {% (d): Expr => ({ k: "un", op: "~", a: d[1], tok: d[0] }) %}
       | "!" unary                    {% (d): Expr => ({ k: "un", op: "!", a: d[1], tok: d[0] }) %}
       | atom                         {% (d) => d[0] %}
atom -> %number                       {% (d): Expr => ({ k: "num", tok: d[0] }) %}
      | %string                       {% (d): Expr => ({ k: "str", tok: d[0] }) %}
      | %ident                        {% (d): Expr => ({ k: "sym", tok: d[0] }) %}
      | %reg                          {% (d): Expr => ({ k: "reg", tok: d[0] }) %}
      | %here                         {% (d): Expr => ({ k: "here", tok: d[0] }) %}
      | %base                         {% (d): Expr => ({ k: "base", tok: d[0] }) %}
      | "(" expr ")"                  {% (d) => d[1] %}

@{%
function firstTok(e: Expr): Token {
  let x: Expr = e;
  while (x.k === "bin") x = x.a;
  return x.tok;
}
%}
