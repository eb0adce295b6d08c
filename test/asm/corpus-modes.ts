// The cross-check corpus for 16- and 32-bit code (`bits 16` / `bits 32`): instruction forms generated
// over mnemonics × registers × sizes × 16/32-bit effective addresses × immediates at their edges. Branch
// targets are `$`-relative so each form assembles alone (vpmu) and inside one batch (nasm).

const R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const REGS: Record<number, string[]> = { 8: R8, 16: R16, 32: R32 };
const KW: Record<number, string> = { 8: "byte", 16: "word", 32: "dword" };

/** 32-bit addressing (SDM Vol. 2 Table 2-2/2-3 outside 64-bit mode: [disp32] is mod 00 rm 101). */
const MEMS32 = [
  "[eax]",
  "[ebx]",
  "[ebp]",
  "[esp]",
  "[esi+1]",
  "[eax-128]",
  "[eax+127]",
  "[eax+128]",
  "[ebp+0]",
  "[esp+8]",
  "[ebx+ecx]",
  "[ebx+ecx*2]",
  "[ebx+ecx*4+0x10]",
  "[esp+ebp*8-8]",
  "[eax*2]",
  "[ecx*4+8]",
  "[eax*3]",
  "[ebp+eax]",
  "[0x1000]",
  "[0xfee00000]",
  "[dword eax+1]",
  "[byte eax+1]",
  "[fs:eax]",
  "[gs:ebx+4]",
  "[es:ebp]",
  "[ss:esp+4]",
];
/** 16-bit addressing (SDM Vol. 2 Table 2-1). */
const MEMS16 = [
  "[bx]",
  "[bp]",
  "[si]",
  "[di]",
  "[bx+si]",
  "[bx+di]",
  "[bp+si]",
  "[bp+di]",
  "[bx+1]",
  "[bp-1]",
  "[si+0x7f]",
  "[di+0x80]",
  "[bx+si+0x1234]",
  "[bp+di-0x100]",
  "[0x1234]",
  "[word bx+1]",
  "[byte bp+di+2]",
  "[fs:bx]",
  "[ds:bp+si]",
];
const IMMS = ["0", "1", "-1", "127", "128", "-128", "-129", "0x7fff", "0x8000", "0xffff", "0x7fffffff", "0xffffffff"];

/** Forms for `bits`; the memory operands of the other address size get a 0x67 prefix. */
export function generateModeCorpus(bits: 16 | 32): string[] {
  const f: string[] = [];
  const mems = bits === 32 ? [...MEMS32, ...MEMS16.slice(0, 8)] : [...MEMS16, ...MEMS32.slice(0, 8)];
  const alu = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "mov", "test"];
  for (const m of alu) {
    for (const s of [8, 16, 32]) {
      const r = REGS[s];
      for (let i = 0; i < r.length; i++) f.push(`${m} ${r[i]}, ${r[(i * 3 + 1) % r.length]}`);
      for (let i = 0; i < mems.length; i++) {
        f.push(`${m} ${r[(i + s) % r.length]}, ${mems[i]}`);
        f.push(`${m} ${mems[i]}, ${r[(i + 1) % r.length]}`);
      }
      for (const imm of IMMS) {
        f.push(`${m} ${r[0]}, ${imm}`);
        f.push(`${m} ${r[3]}, ${imm}`);
        f.push(`${m} ${KW[s]} ${mems[1]}, ${imm}`);
      }
    }
  }
  for (const m of ["inc", "dec", "not", "neg", "mul", "imul", "div", "idiv"]) {
    for (const s of [8, 16, 32]) {
      for (const r of REGS[s]) f.push(`${m} ${r}`);
      for (const mem of mems.slice(0, 6)) f.push(`${m} ${KW[s]} ${mem}`);
    }
  }
  for (const m of ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"]) {
    for (const s of [8, 16, 32]) {
      const r = REGS[s][2];
      f.push(`${m} ${r}, 1`, `${m} ${r}, cl`, `${m} ${r}, 5`, `${m} ${KW[s]} ${mems[4]}, 3`);
    }
  }
  for (const m of ["shld", "shrd"])
    for (const s of [16, 32]) {
      const r = REGS[s];
      f.push(`${m} ${r[0]}, ${r[3]}, 4`, `${m} ${r[6]}, ${r[1]}, cl`, `${m} ${KW[s]} ${mems[5]}, ${r[2]}, cl`);
      f.push(`${m} ${mems[2]}, ${r[7]}, 30`);
    }
  for (const s of [16, 32]) {
    const r = REGS[s];
    for (let i = 0; i < r.length; i++) {
      f.push(`push ${r[i]}`, `pop ${r[i]}`, `lea ${r[i]}, ${mems[i]}`, `xchg ${r[i]}, ${r[(i + 2) % 8]}`);
      f.push(`imul ${r[i]}, ${r[(i + 1) % 8]}`, `imul ${r[i]}, ${mems[i + 4]}, 3`, `imul ${r[i]}, ${r[i]}, 1000`);
      f.push(`movzx ${r[i]}, byte ${mems[i]}`, `movsx ${r[i]}, ${R8[i]}`, `cmovz ${r[i]}, ${mems[i + 2]}`);
      f.push(`call ${r[i]}`, `jmp ${r[i]}`, `call ${KW[s]} ${mems[i]}`, `jmp ${KW[s]} ${mems[i]}`);
      f.push(`push ${KW[s]} ${mems[i]}`, `pop ${KW[s]} ${mems[i + 1]}`);
    }
    f.push(`movzx eax, word ${mems[3]}`, `movsx ecx, word ${mems[5]}`, `movzx ax, byte ${mems[2]}`);
  }
  for (const imm of IMMS) f.push(`push ${imm}`, `push word ${imm}`, `push dword ${imm}`);
  for (const d of ["$", "$+2", "$-0x80", "$+0x81", "$+0x1000", "$-0x1000"]) {
    f.push(`jmp ${d}`, `call ${d}`, `jz ${d}`, `jnc short ${d}`, `jg near ${d}`, `loop ${d}`);
  }
  for (const m of ["ret", "ret 8", "nop", "hlt", "cli", "sti", "cpuid", "rdmsr", "wrmsr", "rdtsc", "rdpmc", "int3"])
    f.push(m);
  f.push("int 0x80", "int 3", "int 0", "int 0xff", "int 0x40", "int -1", "int 256");
  f.push("ud2", "pause", "cbw", "cwde", "cwd", "cdq", "pushfd", "popfd", "lfence", "mfence");
  f.push("in al, 0x60", "in eax, dx", "in ax, dx", "out 0xe9, al", "out dx, eax", "out dx, ax");
  f.push("mov eax, cr0", "mov cr3, ecx", "mov cr4, eax", "mov edx, cr2");
  f.push(`lidt ${mems[0]}`, `clflush ${mems[2]}`, "setz al", `setnc byte ${mems[3]}`);
  // 64-bit registers, REX registers and 64-bit-only forms do not exist here: nasm and vpmu refuse them.
  f.push("mov rax, rbx", "add r8d, 1", "push rax", "mov sil, 1", "movsxd eax, ecx", "cdqe", "pushfq", "iretq");
  f.push("swapgs", "jmp rax", "mov eax, [rip]");
  // Segment registers and descriptor tables.
  for (const sr of ["es", "cs", "ss", "ds", "fs", "gs"])
    f.push(`mov ax, ${sr}`, `mov edx, ${sr}`, `mov [${bits === 32 ? "ebx" : "bx"}], ${sr}`);
  for (const sr of ["es", "ss", "ds", "fs", "gs"]) f.push(`mov ${sr}, ax`, `mov ${sr}, ${mems[2]}`);
  for (const m of ["lgdt", "sgdt", "sidt", "lldt", "ltr", "sldt", "str"]) f.push(`${m} ${mems[5]}`);
  f.push("lldt ax", "ltr cx", "sldt eax", "str ax", "str edx");
  f.push("jmp 0x08:0x1000", "call 0x10:0x2345", "jmp word 0x08:0x10", "jmp dword 0x08:0x10");
  f.push(`jmp far ${mems[0]}`, `call far ${mems[3]}`, `jmp far word ${mems[1]}`, `call far dword ${mems[4]}`);
  f.push("retf", "retf 8", "retfq");
  for (const sr of ["es", "cs", "ss", "ds", "fs", "gs"]) f.push(`push ${sr}`, `pop ${sr}`); // pop cs: refused
  f.push("iret", "iretd", "iretw");
  // MOV with an absolute address and AL/AX/EAX: the moffs forms A0–A3 (an address of the mode's size, or
  // the other size with 0x67), with segment overrides; other registers and byte-sized addresses are ModRM.
  const addrs = ["0x0", "0x1234", "0xffff", "0x12345", "0xfffffffe", "0x80000000", "-1"];
  for (const a of addrs)
    for (const kw of ["", "word ", "dword ", "byte "])
      for (const sg of ["", "es:", "cs:", "ss:", "ds:", "fs:", "gs:"]) {
        const mem = sg === "gs:" ? `[${kw}${sg}${a}]` : `[${sg}${kw}${a}]`;
        for (const r of ["al", "ax", "eax", "bl", "cx", "esi"]) f.push(`mov ${r}, ${mem}`, `mov ${mem}, ${r}`);
      }
  f.push("mov eax, [qword 0x1234]", "mov [qword 0x10], al", "mov ax, [fs:qword 0x20]");
  return f;
}
