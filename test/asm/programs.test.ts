// Whole programs (labels, local labels, equ, %define, %macro with %%locals, %include, data, times,
// align, forward references and jump shrinking) assembled by vpmu and by nasm: the images must be equal.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../../src/asm/assemble.js";
import { formatDiagnostic } from "../../src/asm/diagnostics.js";

const LIB = `; a library include
%define CONSOLE 0xE9
EXIT_PORT equ 0xF4
%macro putc 1
    mov al, %1
    out CONSOLE, al
%endmacro
%macro exit 1
    mov al, %1
    out EXIT_PORT, al
%%halt:
    hlt
    jmp %%halt
%endmacro
%macro delay 2
    mov %1, %2
%%spin:
    dec %1
    jnz %%spin
%endmacro
`;

const PROGRAMS: Record<string, string> = {
  macros: `bits 64
org 0x100000
%include "lib.inc"
start:
    putc 'O'
    putc {'K'}
    delay ecx, 1000
    delay r9, 0x10
.done:
    exit 0
`,
  data: `bits 64
org 0x100000
    jmp main
msg:    db "hello, world", 10, 0
msglen  equ $ - msg
words:  dw 1, -1, 'ab', 0x1234
dwords: dd 'abcde', 0xdeadbeef, msg
quads:  dq msg, msglen, -2, 0x7fffffffffffffff
table:  times 4 dd $ - table
        align 16
aligned: db 1
        align 8, db 0xCC
pad:    times 3 db 0
        resb 5
        resw 1
main:
    lea rsi, [rel msg]
    mov ecx, msglen
    mov rax, quads
    mov eax, [rel words + 2]
    ret
`,
  locals: `bits 64
org 0x1000
first:
.loop:  dec ecx
        jnz .loop
        jmp second.loop
second:
.loop:  inc ecx
        cmp ecx, 10
        jb .loop
        jmp first.loop
..@lit: nop
.after: jmp .loop
`,
  expressions: `bits 64
org 0
A equ 0x1F
B equ 1Fh + 0b101 + 0o17 + 17q + 101b + 1_000 + 'A'
C equ (A << 4) | (B >> 2) & ~3 ^ 0x55
D equ -A * 3 / 2 % 7
E equ $$ + 16
    mov eax, A
    mov ebx, B
    mov ecx, C
    mov edx, D
    mov rsi, E
    dd B - A, C, D
    dq $ - $$
`,
  jumps: `bits 64
org 0x100000
top:
    jz near_fwd
    jmp far_fwd
    loop top
    jrcxz top
    call far_fwd
near_fwd:
    times 100 nop
    jnz top
    times 30 nop
    jmp top
far_fwd:
    times 200 nop
    jc top
    jmp short near_fwd2
near_fwd2:
    jmp near near_fwd2
`,
  chain: `bits 64
l0: jmp l4
l1: jmp l5
l2: jmp l6
l3: jmp l7
l4: times 120 nop
l5: jmp l0
l6: jmp l1
l7: jmp l2
    times 5 nop
`,
  times: `bits 64
    times 3 jmp $
    times 2 jmp short $+4
    times 2 dd $
    times 0 db 1
    times 2 push rax
`,
  syntax: `BITS 64
ORG 0x200000
%define REG rbx
%define VALUE (FWD + 2)
START:
    MOV EAX, VALUE
    Mov REG, QWORD [REL table]
    mov rcx, [abs table]
%undef REG
%define REG rdx
    mov REG, 0x1234
    lea rsi, [table + 8*2]
noColon mov eax, 1
    db \`tab\\there\\n\\x41\\101\\0\`, 'it', "'s"
    dq 'abcdefghij'
    dw 0FFFFh, 0x_ff, 1_0_0, 0q17, 0t99, 0y101, 0hAB, 12o, 77q, 1010y, 99d, 99t
default rel
    mov eax, [table]
    mov eax, [abs table]
    lea rdi, [START]
default abs
    mov eax, [table]
FWD equ 40
table: dq START, noColon, table - START, -1
    align 4
    db 1
`,
  repAssign: `bits 64
%assign N 3
%assign M N*2+1
%define K 4
%rep N
    nop
  %rep 2
    inc eax
  %endrep
%endrep
%macro unroll 2
  %rep %1
    add %2, M
  %endrep
%endmacro
    unroll K, ecx
%assign i 0
%rep 4
    db i
  %assign i i+1
%endrep
    mov eax, M
`,
  constantTargets: `bits 64
org 0x1000
jmp 0x1000
jz 0x1000
loop 0x1000
jmp short 0x1000
call 0x1000
K equ 0x1000
jmp K
jmp $$
jnz 0x1003
`,
  forwardConstants: `bits 64
mov rax, FWD
add eax, FWD
add eax, BIG
push FWD
mov eax, [rbx+FWD]
imul eax, ecx, FWD
shl eax, ONE
jmp short_t
short_t:
FWD equ 5
BIG equ 1000
ONE equ 1
`,
  idt: `bits 64
org 0x100000
    lidt [idtr]
    sti
    int3
    iretq
    mov rax, cr0
    mov cr4, rax
    mov rax, cr8
    rdtscp
    vmcall
    pause
    lfence
    mfence
    clflush [rel idtr]
    ret
align 8
idtr: dw 0xfff
      dq idt
idt:  times 32 dq 0
`,
};

function nasm(src: string, dir: string, name: string): Uint8Array {
  const f = join(dir, name + ".asm");
  writeFileSync(f, src);
  const out = join(dir, name + ".bin");
  const r = spawnSync("nasm", ["-f", "bin", f, "-o", out], { encoding: "utf8", cwd: dir });
  if (r.error) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
  if (r.status !== 0) throw new Error(`nasm rejected ${name}: ${r.stderr}`);
  return new Uint8Array(readFileSync(out));
}

const include = (name: string): { file: string; text: string } | null =>
  name === "lib.inc" ? { file: "lib.inc", text: LIB } : null;

describe("whole programs equal nasm -f bin", () => {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-prog-"));
  writeFileSync(join(dir, "lib.inc"), LIB);
  for (const [name, src] of Object.entries(PROGRAMS)) {
    it(name, () => {
      const r = assemble(src, { file: name + ".s", include });
      if (!r.ok) throw new Error(r.error.map((d) => formatDiagnostic(d)).join("\n"));
      expect(Buffer.from(r.value.bytes).toString("hex")).toBe(Buffer.from(nasm(src, dir, name)).toString("hex"));
    });
  }
  it("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});

describe("assemble result", () => {
  it("gives origin, symbols and per-line addresses and bytes", () => {
    const r = assemble(PROGRAMS.macros, { file: "m.s", include });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.origin).toBe(0x100000);
    const start = r.value.symbols.find((s) => s.name === "start")!;
    expect(start).toEqual({ name: "start", value: 0x100000n, kind: "label", file: "m.s", line: 4 });
    expect(r.value.symbols.find((s) => s.name === "start.done")!.value).toBe(
      0x100000n + 4n + 4n + (5n + 2n + 2n) + (6n + 3n + 2n),
    );
    expect(r.value.symbols.find((s) => s.name === "EXIT_PORT")).toMatchObject({
      kind: "equ",
      value: 0xf4n,
      file: "lib.inc",
      line: 3,
    });
    // putc 'O' expands to two lines, both attributed to the call site (m.s line 5).
    const l5 = r.value.lines.filter((l) => l.file === "m.s" && l.line === 5);
    expect(l5.map((l) => [l.address, Array.from(l.bytes)])).toEqual([
      [0x100000, [0xb0, 0x4f]],
      [0x100002, [0xe6, 0xe9]],
    ]);
  });

  it("a jump to a constant address is re-encoded when the layout moves", () => {
    const r = assemble("bits 64\norg 0x1000\njmp fwd\njmp 0x1000\ntimes 200 nop\nfwd:\n");
    // NASM keeps rel32 for a constant target (only label targets are shortened).
    expect(r.ok && Array.from(r.value.bytes.subarray(0, 10))).toEqual([
      0xe9, 0xcd, 0, 0, 0, 0xe9, 0xf6, 0xff, 0xff, 0xff,
    ]);
  });

  it("converges in two passes when forward references do not change sizes", () => {
    const r = assemble("bits 64\nlea rsi, [d]\ncall f\nmov eax, [d]\nf: ret\nd: db 0\n");
    expect(r.ok && r.value.passes).toBe(2);
    expect(r.ok && Array.from(r.value.bytes)).toEqual([
      0x48, 0x8d, 0x34, 0x25, 0x15, 0, 0, 0, 0xe8, 0x07, 0, 0, 0, 0x8b, 0x04, 0x25, 0x15, 0, 0, 0, 0xc3, 0,
    ]);
  });

  it("sizes a forward [rel label] as the SIB absolute form in the first pass, like NASM", () => {
    // One byte longer in pass 1 pushes the jump's target out of short range against that layout; NASM
    // keeps the near jump although a short one would fit (bytes from nasm 2.16 -f bin).
    const src = (n: number) => `bits 64\njmp f\nlea rax, [rel f]\ntimes ${n} nop\nf:\n`;
    const a = assemble(src(119));
    expect(a.ok && Array.from(a.value.bytes.subarray(0, 9))).toEqual([0xeb, 0x7e, 0x48, 0x8d, 0x05, 0x77, 0, 0, 0]);
    const b = assemble(src(120));
    expect(b.ok && Array.from(b.value.bytes.subarray(0, 12))).toEqual([
      0xe9, 0x7f, 0, 0, 0, 0x48, 0x8d, 0x05, 0x78, 0, 0, 0,
    ]);
    expect(b.ok && b.value.passes).toBe(3);
  });

  it("shrinks a forward jump to short when it fits and keeps near when it does not (NASM -Ox)", () => {
    const r = assemble("bits 64\njmp a\ntimes 127 nop\na: jmp b\ntimes 128 nop\nb:\n");
    expect(r.ok && Array.from(r.value.bytes.subarray(0, 2))).toEqual([0xeb, 0x7f]);
    expect(r.ok && Array.from(r.value.bytes.subarray(129, 134))).toEqual([0xe9, 0x80, 0, 0, 0]);
  });
});
