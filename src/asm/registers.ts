/**
 * Register names NASM accepts in 64-bit code, with their ModRM numbers (SDM Vol. 2 §2.1.5 Tables
 * 2-2/2-3, REX §2.2.1): 0..15 in encoding order, size, and the REX constraints of byte registers.
 */

export interface RegInfo {
  readonly name: string;
  /** 0..15 (bit 3 goes to REX.R/X/B). For control registers: the CR number. */
  readonly num: number;
  /** 8, 16, 32, 64 for general registers. */
  readonly size: 8 | 16 | 32 | 64;
  readonly cls: "gpr" | "cr" | "sreg";
  /** spl/bpl/sil/dil: need a REX prefix (any) to mean these rather than ah..bh. */
  readonly needsRex: boolean;
  /** ah/ch/dh/bh: cannot be encoded in an instruction that has a REX prefix. */
  readonly highByte: boolean;
}

const GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"];
const GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const GPR16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const GPR8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"];
const HIGH8 = ["ah", "ch", "dh", "bh"];

export const REGISTERS: ReadonlyMap<string, RegInfo> = (() => {
  const m = new Map<string, RegInfo>();
  const add = (name: string, num: number, size: 8 | 16 | 32 | 64, extra: Partial<RegInfo> = {}): void => {
    m.set(name, { name, num, size, cls: "gpr", needsRex: false, highByte: false, ...extra });
  };
  for (let i = 0; i < 8; i++) {
    add(GPR64[i], i, 64);
    add(GPR32[i], i, 32);
    add(GPR16[i], i, 16);
    add(GPR8[i], i, 8, { needsRex: i >= 4 });
  }
  for (let i = 0; i < 4; i++) add(HIGH8[i], i + 4, 8, { highByte: true });
  for (let i = 8; i < 16; i++) {
    add(`r${i}`, i, 64);
    add(`r${i}d`, i, 32);
    add(`r${i}w`, i, 16);
    add(`r${i}b`, i, 8);
    add(`r${i}l`, i, 8);
  }
  // Control registers: only CR0, CR2, CR3, CR4, CR8 exist in 64-bit mode (SDM Vol. 3 §2.5), but NASM
  // encodes cr0..cr15 (the others #UD when executed), so the assembler accepts them all.
  for (let n = 0; n < 16; n++) {
    m.set(`cr${n}`, { name: `cr${n}`, num: n, size: 64, cls: "cr", needsRex: false, highByte: false });
  }
  // Segment registers in their Sreg encoding order (SDM Vol. 2 §3.1.1.3): ES CS SS DS FS GS.
  const SREGS = ["es", "cs", "ss", "ds", "fs", "gs"];
  for (let n = 0; n < 6; n++)
    m.set(SREGS[n], { name: SREGS[n], num: n, size: 16, cls: "sreg", needsRex: false, highByte: false });
  return m;
})();
