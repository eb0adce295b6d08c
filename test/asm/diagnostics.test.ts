// Every diagnostic category: exact file:line:col, message, and the rendered caret.
import { describe, expect, it } from "vitest";
import { assemble } from "../../src/asm/assemble.js";
import { ECHO_WIDTH, formatDiagnostic, type Diagnostic } from "../../src/asm/diagnostics.js";
import type { IncludeResolver } from "../../src/asm/preprocess.js";

function errors(src: string, include?: IncludeResolver): Diagnostic[] {
  const r = assemble(src, { file: "prog.s", include });
  if (r.ok) throw new Error("expected the assembly to fail");
  return [...r.error];
}
const where = (d: Diagnostic): string => `${d.file}:${d.line}:${d.col}: ${d.message}`;

describe("diagnostics", () => {
  const cases: [string, string, string][] = [
    ["unknown mnemonic", "bits 64\n  frob eax, 1\n", "prog.s:2:3: unknown mnemonic 'frob'"],
    [
      "unsupported instruction",
      "bits 64\nxlatb\n",
      "prog.s:2:1: 'xlatb' is not supported by vpmu (nor by its CPU model); see docs/assembler.md",
    ],
    [
      "unsupported instruction after a prefix",
      "bits 64\nrep xlatb\n",
      "prog.s:2:5: 'xlatb' is not supported by vpmu (nor by its CPU model); see docs/assembler.md",
    ],
    [
      "operand size mismatch",
      "bits 64\nmov eax, bl\n",
      "prog.s:2:10: operand size mismatch: 'eax' is 32-bit, 'bl' is 8-bit",
    ],
    [
      "operand size mismatch (fixed size)",
      "bits 64\nmovzx eax, ecx\n",
      "prog.s:2:12: operand size mismatch: 'ecx' is 32-bit, expected 8-bit",
    ],
    [
      "size not specified",
      "bits 64\ninc [rax]\n",
      "prog.s:2:5: operation size not specified (add byte/word/dword/qword)",
    ],
    ["operand form not encodable", "bits 64\npush eax\n", "prog.s:2:6: invalid combination of opcode and operands"],
    ["wrong operand count", "bits 64\nadd eax\n", "prog.s:2:1: 'add' takes 2 operands, not 1"],
    ["undefined label", "bits 64\njmp nowhere\n", "prog.s:2:5: undefined symbol 'nowhere'"],
    ["duplicate label", "bits 64\na: nop\na: nop\n", "prog.s:3:1: label 'a' is already defined at prog.s:2"],
    [
      "immediate out of range",
      "bits 64\nmov al, 0x1ff\n",
      "prog.s:2:9: immediate out of range: 511 does not fit 8 bits",
    ],
    [
      "jump out of range",
      "bits 64\nl: times 200 nop\nloop l\n",
      "prog.s:3:6: jump out of range: target is -202 bytes away, a short jump reaches -128..127",
    ],
    [
      "short jump out of range",
      "bits 64\njmp short x\ntimes 128 nop\nx:\n",
      "prog.s:2:5: jump out of range: target is 128 bytes away, a short jump reaches -128..127",
    ],
    ["bad number", "bits 64\nmov eax, 12xy\n", "prog.s:2:10: bad number '12xy'"],
    ["bad binary number", "bits 64\ndb 0b102\n", "prog.s:2:4: bad number '0b102'"],
    ["unterminated string", "bits 64\ndb 'abc\n", "prog.s:2:4: unterminated string"],
    ["unexpected character", "bits 64\nmov eax, @\n", "prog.s:2:10: unexpected character '@'"],
    ["syntax error", "bits 64\nmov eax, ]\n", "prog.s:2:10: syntax error: unexpected ']'"],
    ["invalid address", "bits 64\nmov eax, [rax+rbx+rcx]\n", "prog.s:2:10: invalid effective address"],
    ["rsp index", "bits 64\nlea rax, [rsp*4]\n", "prog.s:2:10: 'rsp' cannot be an index register"],
    [
      "high byte with REX",
      "bits 64\nmov ah, sil\n",
      "prog.s:2:5: ah/bh/ch/dh cannot be used in an instruction that needs a REX prefix",
    ],
    [
      "macro arity",
      "%macro two 2\nmov %1, %2\n%endmacro\nbits 64\ntwo eax\n",
      "prog.s:5:1: macro 'two' expects 2 parameters, got 1",
    ],
    ["recursive macro", "%macro r 0\nr\n%endmacro\nr\n", "prog.s:2:1: recursive macro call: 'r' (r -> r)"],
    ["local label outside a macro", "bits 64\njmp %%x\n", "prog.s:2:5: '%%x' is only valid inside a %macro body"],
    ["missing %endmacro", "%macro m 0\nnop\n", "prog.s:1:8: %macro 'm' has no %endmacro"],
    ["%rep without %endrep", "bits 64\n%rep 2\nnop\n", "prog.s:2:1: %rep has no %endrep"],
    ["%endrep without %rep", "bits 64\n%endrep\n", "prog.s:2:1: %endrep without %rep"],
    [
      "%rep with a forward count",
      "bits 64\n%rep N\nnop\n%endrep\nN equ 2\n",
      "prog.s:2:6: 'N' must be defined before it is used here",
    ],
    ["%assign without value", "%assign X\n", "prog.s:1:1: %assign needs a name and a value"],
    ["bits 16, 32 or 64", "bits 48\n", "prog.s:1:1: 'bits' takes 16, 32 or 64"],
    [
      "no REX in 32-bit code",
      "bits 32\nmov r8d, 1\n",
      "prog.s:2:1: REX registers and 64-bit operands exist only in 64-bit code",
    ],
    [
      "no 64-bit register in a 32-bit address",
      "bits 32\nmov eax, [rax]\n",
      "prog.s:2:10: 'rax' is a 64-bit register: not in 32-bit code",
    ],
    ["negative times", "bits 64\ntimes -1 nop\n", "prog.s:2:1: count is negative (-1)"],
  ];
  for (const [name, src, want] of cases) {
    it(name, () => {
      expect(errors(src).map(where)).toEqual([want]);
    });
  }

  it("include not found and include cycles point at the %include line of the right file", () => {
    const files: Record<string, string> = {
      "a.inc": 'nop\n%include "b.inc"\n',
      "b.inc": '%include "a.inc"\n',
    };
    const include: IncludeResolver = (name) => (files[name] !== undefined ? { file: name, text: files[name] } : null);
    expect(errors('bits 64\n%include "nope.inc"\n', include).map(where)).toEqual([
      "prog.s:2:10: include file 'nope.inc' not found",
    ]);
    expect(errors('bits 64\n%include "a.inc"\n', include).map(where)).toEqual([
      "b.inc:1:10: include cycle: 'a.inc' includes itself (prog.s -> a.inc -> b.inc -> a.inc)",
    ]);
  });

  it("an error inside a macro body points at the body line; parameters at the call site", () => {
    const src = "%macro load 1\n  mov eax, %1\n  frob 1\n%endmacro\nbits 64\nload bl\n";
    expect(errors(src).map(where)).toEqual([
      "prog.s:3:3: unknown mnemonic 'frob'",
      "prog.s:6:6: operand size mismatch: 'eax' is 32-bit, 'bl' is 8-bit",
    ]);
  });

  it("reports every error in the file, in source order, and keeps going after syntax errors", () => {
    const src = "bits 64\nfrob 1\nmov eax, bl\njmp nowhere\nmov eax, ]\npush eax\n";
    expect(errors(src).map((d) => d.line)).toEqual([2, 3, 4, 5, 6]);
  });

  it("survives hostile input: huge lines, deep nesting, a throwing include resolver, macro bombs", () => {
    expect(errors("bits 64\nmov eax, " + "1+".repeat(1500) + "1\n").map(where)).toEqual([
      "prog.s:2:2007: line has more than 2000 tokens (the tokens-per-line limit)",
    ]);
    const deep = assemble("bits 64\nmov eax, " + "(".repeat(900) + "7" + ")".repeat(900) + "\n");
    expect(deep.ok && Array.from(deep.value.bytes)).toEqual([0xb8, 7, 0, 0, 0]);
    const throwing: IncludeResolver = () => {
      throw new Error("EACCES");
    };
    expect(errors('%include "x.inc"\n', throwing).map(where)).toEqual([
      "prog.s:1:10: include file 'x.inc' could not be read: EACCES",
    ]);
    let bomb = "%macro m0 0\nnop\nnop\n%endmacro\n";
    for (let i = 1; i <= 18; i++) bomb += `%macro m${i} 0\nm${i - 1}\nm${i - 1}\n%endmacro\n`;
    expect(errors("%rep 100000\n%rep 100000\n%rep 100000\n%endrep\n%endrep\n%endrep\n").map(where)).toEqual([
      "prog.s:3:1: more than 4000000 lines to preprocess (the preprocessing work limit; nested %rep or macros repeat too often)",
    ]);
    expect(errors(bomb + "m18\n").map(where)).toEqual([
      "prog.s:2:1: program has more than 100000 lines after macro expansion (the line limit)",
    ]);
  });

  it("caps the number of errors", () => {
    const r = assemble("bits 64\n" + "frob 1\n".repeat(500), { maxErrors: 10 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBe(10);
  });

  it("formatDiagnostic renders file:line:col, the line and a caret under the token", () => {
    const [d] = errors("bits 64\n    mov eax, bl\n");
    expect(formatDiagnostic(d)).toBe(
      "prog.s:2:14: error: operand size mismatch: 'eax' is 32-bit, 'bl' is 8-bit\n        mov eax, bl\n                 ^~",
    );
    const [m] = errors("bits 64\nmov [rax+8], 5\n");
    expect(formatDiagnostic(m, ["bits 64", "mov [rax+8], 5"])).toBe(
      "prog.s:2:5: error: operation size not specified (add byte/word/dword/qword)\n    mov [rax+8], 5\n        ^~~~~~~",
    );
  });

  it("formatDiagnostic escapes control bytes in the echoed line and message", () => {
    const [d] = errors("nop\n\x1b[2Jfoo\x07 eax\n");
    expect(formatDiagnostic(d)).toBe(
      "prog.s:2:1: error: unexpected character '\\x1b'\n    \\x1b[2Jfoo\\x07 eax\n    ^~~~",
    );
  });

  it("formatDiagnostic echoes a window of ECHO_WIDTH characters around the token of a long line", () => {
    const d: Diagnostic = {
      file: "prog.s",
      line: 1,
      col: 50_001,
      len: 4,
      severity: "error",
      message: "bad",
      sourceLine: `${"a".repeat(50_000)}frob\x01${"b".repeat(50_000)}`,
    };
    const window = `${"a".repeat(40)}frob\\x01${"b".repeat(75)}`;
    expect(formatDiagnostic(d)).toBe(`prog.s:1:50001: error: bad\n    …${window}…\n    ${" ".repeat(41)}^~~~`);
    expect(ECHO_WIDTH).toBe(120);
  });

  it("warns about a lone word without a colon (a misspelt mnemonic becomes a label, as in NASM)", () => {
    const r = assemble("bits 64\n  rte\nok:\n", { file: "prog.s" });
    expect(r.ok && r.value.warnings.map(where)).toEqual([
      "prog.s:2:3: label 'rte' alone on a line without a colon might be in error",
    ]);
  });

  it("warns (and truncates like nasm) for data that does not fit", () => {
    const r = assemble("bits 64\ndb 300\n", { file: "prog.s" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Array.from(r.value.bytes)).toEqual([0x2c]);
    expect(r.value.warnings.map(where)).toEqual(["prog.s:2:4: value does not fit 8 bits (truncated)"]);
  });
});
