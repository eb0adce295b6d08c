// The cross-check corpus: instruction forms generated over mnemonics × operand kinds × registers ×
// sizes × immediates/displacements at their edges. Every form is position-independent (branch
// targets are `$`-relative) so it can be assembled alone by vpmu and inside one batch by nasm.

import { generateExtCorpus } from "./corpus-ext.js";

const R8 = ["al", "cl", "dl", "bl", "ah", "bh", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r12b", "r15b"];
const R16 = ["ax", "cx", "dx", "sp", "bp", "si", "r8w", "r12w", "r15w"];
const R32 = ["eax", "ecx", "edx", "esp", "ebp", "esi", "r8d", "r12d", "r13d", "r15d"];
const R64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r11", "r12", "r13", "r15"];
const REGS: Record<number, string[]> = { 8: R8, 16: R16, 32: R32, 64: R64 };
const SIZES = [8, 16, 32, 64];
const KW: Record<number, string> = { 8: "byte", 16: "word", 32: "dword", 64: "qword" };

/** Effective addresses covering every ModRM/SIB/displacement case (SDM Tables 2-2, 2-3). */
export const MEMS = [
  "[rax]",
  "[rbx]",
  "[rbp]",
  "[rsp]",
  "[r12]",
  "[r13]",
  "[r15]",
  "[rsi+1]",
  "[rax-128]",
  "[rax+127]",
  "[rax+128]",
  "[rax-129]",
  "[rbp+0]",
  "[r13-8]",
  "[rsp+8]",
  "[r12+0x100]",
  "[rbx+rcx]",
  "[rbx+rcx*2]",
  "[rbx+rcx*4+0x10]",
  "[rsp+rbp*8-8]",
  "[r12+r13*8+0x7fffffff]",
  "[rax*2]",
  "[rcx*4+8]",
  "[r8*8]",
  "[rax*3]",
  "[rdx*5+1]",
  "[r9*9]",
  "[rbp+rax]",
  "[rax+rbp]",
  "[rax+rsp]",
  "[r13+r14*2]",
  "[0x1000]",
  "[0x7fffffff]",
  "[-8]",
  "[rel $+0x100]",
  "[rel $-0x80]",
  "[eax]",
  "[ebx+ecx*2+4]",
  "[esp]",
  "[ebp-4]",
  "[r8d+r9d]",
  "[rax+rax]",
  "[rcx+rcx*4]",
  "[dword rax+1]",
  "[byte rax+1]",
  "[rbx+2*rcx]",
  "[rsp*2]",
  "[rax+rbx+rcx]",
  "[ax]",
  "[rax+eax]",
  "[rax*16]",
];
const MEMS_SHORT = [
  "[rax]",
  "[rbp]",
  "[rsp+8]",
  "[r13+rax*4-0x80]",
  "[rbx+0x1234]",
  "[0x2000]",
  "[rel $+0x40]",
  "[eax+1]",
];

const IMMS = [
  "0",
  "1",
  "-1",
  "2",
  "127",
  "128",
  "-128",
  "-129",
  "255",
  "256",
  "0x7fff",
  "0x8000",
  "-32768",
  "-32769",
  "0xffff",
  "0x10000",
  "0x7fffffff",
  "0x80000000",
  "-0x80000000",
  "-0x80000001",
  "0xffffffff",
  "0x100000000",
  "0x7fffffffffffffff",
  "0xffffffffffffffff",
  "'A'",
  "1_000",
  "0b101",
  "1Fh",
  "0o17",
  "(3+4)*2",
  "1<<7",
  "~0",
  "0x80 >> 1",
  "10 % 3",
  "7/2",
  "0xF0 & 0x3C | 1 ^ 3",
];
const IMMS_SHORT = ["0", "1", "-1", "127", "128", "-128", "0x7fffffff", "0x80000000", "0xffffffff", "-0x80000000"];

function pairs<T>(a: T[], b: T[], step = 3): [T, T][] {
  const out: [T, T][] = [];
  for (let i = 0; i < a.length; i++) out.push([a[i], b[(i * step + 1) % b.length]]);
  return out;
}

export function generateCorpus(): string[] {
  const f: string[] = [];
  const alu = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
  for (const m of [...alu, "mov", "test"]) {
    for (const s of SIZES) {
      for (const [a, b] of pairs(REGS[s], REGS[s])) f.push(`${m} ${a}, ${b}`);
      for (const mem of MEMS_SHORT) {
        f.push(`${m} ${REGS[s][s % 5]}, ${mem}`);
        f.push(`${m} ${mem}, ${REGS[s][(s + 3) % REGS[s].length]}`);
      }
      for (const imm of IMMS) f.push(`${m} ${REGS[s][0]}, ${imm}`);
      for (const imm of IMMS_SHORT) {
        f.push(`${m} ${REGS[s][REGS[s].length - 1]}, ${imm}`);
        f.push(`${m} ${KW[s]} [rbx+8], ${imm}`);
      }
    }
    f.push(
      `${m} [rax], 5`,
      `${m} eax, bl`,
      `${m} rax, ecx`,
      `${m} al, 300`,
      `${m} [rax], [rbx]`,
      `${m} dword [rax], ax`,
    );
    f.push(`${m} eax, strict dword 5`, `${m} ax, word 5`, `${m} qword [rax], dword 7`);
  }
  for (const mem of MEMS) f.push(`mov eax, ${mem}`, `lea rax, ${mem}`);
  // Every base register with REX.B/REX.X/REX.R combinations and each displacement width.
  const ALL64 = [
    "rax",
    "rcx",
    "rdx",
    "rbx",
    "rsp",
    "rbp",
    "rsi",
    "rdi",
    "r8",
    "r9",
    "r10",
    "r11",
    "r12",
    "r13",
    "r14",
    "r15",
  ];
  const ALL32 = [
    "eax",
    "ecx",
    "edx",
    "ebx",
    "esp",
    "ebp",
    "esi",
    "edi",
    "r8d",
    "r9d",
    "r10d",
    "r11d",
    "r12d",
    "r13d",
    "r14d",
    "r15d",
  ];
  for (let b = 0; b < 16; b++) {
    const i = ALL64[(b * 5 + 3) % 16];
    f.push(
      `mov r10d, [${ALL64[b]}]`,
      `mov ecx, [${ALL64[b]}+${i}*4+0x44]`,
      `mov r9, [${ALL64[b]}-0x1000]`,
      `mov [${ALL64[b]}+${ALL64[(b + 7) % 16]}*8], r14b`,
    );
    f.push(`mov edx, [${ALL32[b]}+0x7f]`, `lea r11, [${ALL32[b]}+${ALL32[(b + 5) % 16]}*2+1]`);
  }
  // mov r64, imm: NASM picks B8 r32 / C7 sign-extended / B8 imm64.
  for (const imm of IMMS) for (const r of ["rax", "r9", "rsp"]) f.push(`mov ${r}, ${imm}`);
  // `strict qword` keeps imm64 for a small value; a bare `qword` is only a hint (what vpmu disasm prints).
  for (const imm of ["5", "-1", "0x80000000"]) f.push(`mov rax, strict qword ${imm}`, `mov r8, qword ${imm}`);
  f.push("mov rcx, strict dword 5", "mov rcx, strict dword -1");
  for (const cr of ["cr0", "cr2", "cr3", "cr4", "cr8"])
    f.push(`mov rax, ${cr}`, `mov ${cr}, rbx`, `mov r10, ${cr}`, `mov ${cr}, r12`);
  f.push(
    "add rax, dword 5",
    "mov rax, dword 5",
    "shl eax, byte 3",
    "mov qword [rax], qword 7",
    "add eax, byte 5",
    "add eax, byte 300",
  );
  f.push(
    "mov al, byte 5",
    "mov eax, word 5",
    "add byte [rax], byte 1",
    "mov word [rax], byte 1",
    "in al, byte 5",
    "test eax, byte 5",
  );
  f.push(
    "lea eax, dword [rax]",
    "lea rax, byte [rbx]",
    "lidt qword [rax]",
    "lidt [rel $]",
    "mov cr9, rax",
    "mov cr15, rax",
  );
  f.push(
    "mov cr1, rax",
    "mov eax, cr0",
    "mov cr0, eax",
    "mov ah, spl",
    "mov ah, r8b",
    "add bh, sil",
    "mov ah, bh",
    "mov al, ah",
  );
  for (const m of ["not", "neg", "mul", "imul", "div", "idiv", "inc", "dec"]) {
    for (const s of SIZES) {
      for (const r of REGS[s]) f.push(`${m} ${r}`);
      f.push(`${m} ${KW[s]} [rax+rbx*2]`);
    }
    f.push(`${m} [rax]`, `${m} 5`);
  }
  for (const s of [16, 32, 64]) {
    for (const [a, b] of pairs(REGS[s], REGS[s], 5)) f.push(`imul ${a}, ${b}`);
    for (const imm of IMMS_SHORT) f.push(`imul ${REGS[s][1]}, ${REGS[s][4]}, ${imm}`, `imul ${REGS[s][2]}, ${imm}`);
    for (const mem of MEMS_SHORT) f.push(`imul ${REGS[s][3]}, ${mem}`, `imul ${REGS[s][3]}, ${KW[s]} ${mem}, 100`);
  }
  f.push("imul al, bl", "imul eax, ebx, ecx");
  for (const m of ["shl", "sal", "shr", "sar", "rol", "ror"]) {
    for (const s of SIZES) {
      const r = REGS[s][s === 8 ? 6 : 2];
      f.push(
        `${m} ${r}, 1`,
        `${m} ${r}, cl`,
        `${m} ${r}, 0`,
        `${m} ${r}, 5`,
        `${m} ${r}, 255`,
        `${m} ${KW[s]} [rbp-8], 1`,
        `${m} ${KW[s]} [r12], cl`,
        `${m} ${KW[s]} [rax], 3`,
      );
    }
    f.push(`${m} eax, 256`, `${m} eax, dl`, `${m} [rax], 1`);
  }
  for (const [m, srcs] of [
    ["movzx", [8, 16]],
    ["movsx", [8, 16]],
  ] as const) {
    for (const d of [16, 32, 64]) {
      for (const s of srcs) {
        if (s >= d) continue;
        f.push(
          `${m} ${REGS[d][1]}, ${REGS[s][5]}`,
          `${m} ${REGS[d][7]}, ${KW[s]} [rsi+4]`,
          `${m} ${REGS[d][0]}, ${REGS[s][s === 8 ? 11 : 8]}`,
        );
      }
    }
    f.push(`${m} eax, [rax]`, `${m} eax, eax`, `${m} ax, ax`);
  }
  f.push(
    "movsxd rax, ecx",
    "movsxd r9, r15d",
    "movsxd rbx, dword [rax+8]",
    "movsxd rax, [rax]",
    "movsxd eax, ecx",
    "movsxd rax, cx",
  );
  for (const s of [16, 32, 64]) {
    for (const mem of MEMS_SHORT) f.push(`lea ${REGS[s][2]}, ${mem}`);
  }
  f.push("lea rax, rbx", "lea al, [rax]", "lea rax, 5");
  for (const [a, b] of [
    ["eax", "ebx"],
    ["ebx", "eax"],
    ["eax", "eax"],
    ["rax", "rax"],
    ["ax", "ax"],
    ["rax", "r8"],
    ["r8", "rax"],
    ["r8d", "eax"],
    ["ecx", "edx"],
    ["al", "bl"],
    ["cl", "spl"],
    ["rbx", "rcx"],
    ["ax", "si"],
    ["ah", "al"],
  ])
    f.push(`xchg ${a}, ${b}`);
  f.push("xchg eax, [rbx]", "xchg [rbx], ecx", "xchg byte [rax], dl", "xchg rax, qword [r12+8]", "xchg eax, 5");
  for (const r of [...R16, ...R32, ...R64]) f.push(`push ${r}`, `pop ${r}`);
  for (const imm of IMMS) f.push(`push ${imm}`);
  f.push("push word 5", "push dword 5", "push qword 5", "push word 1000", "push strict dword 5", "push word -1");
  for (const mem of MEMS_SHORT)
    f.push(`push qword ${mem}`, `pop qword ${mem}`, `push word ${mem}`, `pop word ${mem}`, `push ${mem}`, `pop ${mem}`);
  f.push("push dword [rax]", "pop dword [rax]", "push al", "pop 5", "pushfq", "popfq");
  const targets = [
    "$",
    "$+2",
    "$-126",
    "$-127",
    "$-128",
    "$-129",
    "$+127",
    "$+128",
    "$+129",
    "$+130",
    "$+131",
    "$+0x1000",
    "$-0x1000",
    "$+0x7fff0000",
  ];
  const jcc = [
    "jo",
    "jno",
    "jb",
    "jc",
    "jnae",
    "jnb",
    "jnc",
    "jae",
    "jz",
    "je",
    "jnz",
    "jne",
    "jbe",
    "jna",
    "ja",
    "jnbe",
    "js",
    "jns",
    "jp",
    "jpe",
    "jnp",
    "jpo",
    "jl",
    "jnge",
    "jnl",
    "jge",
    "jle",
    "jng",
    "jg",
    "jnle",
  ];
  for (const j of jcc)
    for (const t of [targets[0], targets[4], targets[5], targets[7], targets[8], targets[11]]) f.push(`${j} ${t}`);
  for (const j of ["jz", "jnz", "jmp"])
    f.push(`${j} short $+10`, `${j} near $+10`, `${j} short $+200`, `${j} short $-129`);
  for (const t of targets) f.push(`jmp ${t}`, `call ${t}`, `loop ${t}`, `jrcxz ${t}`);
  f.push("loope $-10", "loopz $-10", "loopne $+20", "loopnz $+20", "loop short $+4", "loop near $+4");
  for (const r of ["rax", "r11", "rsp", "eax", "ax"]) f.push(`jmp ${r}`, `call ${r}`);
  for (const mem of MEMS_SHORT)
    f.push(`jmp ${mem}`, `call ${mem}`, `jmp qword ${mem}`, `call qword ${mem}`, `jmp dword ${mem}`);
  f.push("ret", "ret 8", "ret 0xffff", "ret 0x10000", "ret -1");
  const cc = [
    "o",
    "no",
    "b",
    "c",
    "nae",
    "nb",
    "nc",
    "ae",
    "z",
    "e",
    "nz",
    "ne",
    "be",
    "na",
    "a",
    "nbe",
    "s",
    "ns",
    "p",
    "pe",
    "np",
    "po",
    "l",
    "nge",
    "nl",
    "ge",
    "le",
    "ng",
    "g",
    "nle",
  ];
  for (const c of cc) {
    f.push(`set${c} al`, `set${c} r9b`, `set${c} sil`, `set${c} byte [rax+1]`, `set${c} [rbx]`, `set${c} eax`);
    f.push(
      `cmov${c} eax, ebx`,
      `cmov${c} r8, [rsi+8]`,
      `cmov${c} ax, word [rax]`,
      `cmov${c} al, bl`,
      `cmov${c} rax, 5`,
    );
  }
  for (const m of [
    "nop",
    "pause",
    "hlt",
    "cli",
    "sti",
    "cpuid",
    "rdmsr",
    "wrmsr",
    "rdpmc",
    "rdtsc",
    "rdtscp",
    "lfence",
    "mfence",
    "int3",
    "ud2",
    "iretq",
    "vmcall",
    "swapgs",
    "cbw",
    "cwde",
    "cdqe",
    "cwd",
    "cdq",
    "cqo",
    "pushfq",
    "popfq",
  ]) {
    f.push(m, `${m} eax`);
  }
  // Segment registers and descriptor tables; far transfers through memory (m16:64 by default).
  for (const sr of ["es", "cs", "ss", "ds", "fs", "gs"]) f.push(`mov rax, ${sr}`, `mov ax, ${sr}`, `mov [rbx], ${sr}`);
  for (const sr of ["es", "ss", "ds", "fs", "gs"]) f.push(`mov ${sr}, ax`, `mov ${sr}, [rsp+8]`, `mov ${sr}, r9w`);
  for (const m of ["lgdt", "sgdt", "sidt", "lldt", "ltr", "sldt", "str"]) f.push(`${m} [rax+8]`);
  f.push("ltr ax", "str eax", "sldt rax", "str r10", "jmp far [rax]", "call far qword [rbx]", "jmp far dword [rcx]");
  f.push("call far word [rdx]", "retf", "retf 16", "retfq", "retfq 8", "jmp 0x08:0x1000");
  // PUSH/POP FS/GS (ES/CS/SS/DS do not exist in 64-bit code: nasm and vpmu refuse them) and IRET sizes.
  f.push("push fs", "pop fs", "push gs", "pop gs", "push es", "pop ds", "push cs", "iret", "iretd", "iretw", "iretq");
  // FS/GS segment overrides (64 / 65 before 66, 67 and REX, as NASM orders them).
  for (const mem of ["[fs:rax]", "[gs:0x10]", "[fs:rbx+rcx*8-8]", "[gs:r12d]", "[fs:rel $+0x40]", "[dword gs:rax+1]"])
    f.push(`mov rax, ${mem}`, `mov ${mem}, cx`, `add dword ${mem}, 1`, `lea rax, ${mem}`);
  for (const mem of MEMS_SHORT) f.push(`clflush ${mem}`, `lidt ${mem}`, `clflush byte ${mem}`, `invlpg ${mem}`);
  // RIP-relative with an immediate after the displacement, and `rel` on a plain number (stays absolute).
  f.push("mov dword [rel $+0x40], 5", "add qword [rel $-8], 1000", "cmp byte [rel $], 1", "shl word [rel $+2], 3");
  f.push("imul eax, [rel $+100], 1000", "test dword [rel $], 0x12345", "mov eax, [rel 0x100]");
  f.push("invlpg rax", "invlpg byte [rax]", "invlpg [rel $]");
  f.push("clflush rax", "lidt rax", "nop eax", "nop dword [rax]", "nop word [rax+8]", "nop rax");
  for (const p of ["0", "0x80", "0xE9", "0xF4", "255", "256", "-1"])
    f.push(`in al, ${p}`, `in ax, ${p}`, `in eax, ${p}`, `out ${p}, al`, `out ${p}, ax`, `out ${p}, eax`);
  f.push(
    "in al, dx",
    "in ax, dx",
    "in eax, dx",
    "out dx, al",
    "out dx, ax",
    "out dx, eax",
    "in rax, dx",
    "out dx, rax",
    "in bl, dx",
    "out cx, al",
  );
  f.push(...generateExtCorpus());
  f.push("frobnicate eax", "mov", "add eax", "add eax, ebx, ecx", "mov eax, [rax+", "mov eax, 0xZZ", "mov eax, 'abc");
  return f;
}
