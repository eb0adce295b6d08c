// Test harness for the CPU: NASM-assembled guests on a Cpu with the bare platform (or a given one).
import { assemble } from "../../src/asm/assemble.js";
import { Cpu } from "../../src/isa/cpu.js";
import type { Platform } from "../../src/isa/platform.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { prog } from "./nasm.js";

export const ORG = 0x100000;
export const MEM = 16 << 20;

/** Guest-side helpers: `set_gate` (rdi = vector, rax = handler, rsi = type/DPL byte << 8 | selector),
 *  an IDT of 256 gates and its IDTR. Include with IDT_LIB at the end of a program. */
export const IDT_LIB = `
set_gate:
  push rbx
  lea rbx, [rel idt]
  shl rdi, 4
  add rdi, rbx
  mov [rdi], ax
  mov [rdi+2], si
  shr rsi, 16
  mov [rdi+4], si
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
  mov dword [rdi+12], 0
  pop rbx
  ret
align 16
idtr: dw 256*16-1
  dq idt
align 16
idt: times 256*16 db 0
`;

/** Install handler label %2 for vector %1 as a 64-bit interrupt gate (type 0xE, DPL 0, selector 0x08). */
export const gate = (vec: number, handler: string, attr = 0x8e, sel = 0x08) =>
  `  mov edi, ${vec}\n  lea rax, [rel ${handler}]\n  mov esi, 0x${(((attr << 24) | sel) >>> 0).toString(16)}\n  call set_gate\n`;

export function makeCpu(body: string, platform?: (io: GuestIo) => Platform): { cpu: Cpu; io: GuestIo } {
  const io = new GuestIo();
  const cpu = new Cpu({ memSize: MEM, platform: platform ? platform(io) : new BarePlatform(io) });
  cpu.load(ORG, prog(body));
  cpu.rip = ORG;
  cpu.set64(4, MEM, 0);
  cpu.rsp0Lo = MEM - 0x10000;
  return { cpu, io };
}

export const reg = (cpu: Cpu, r: number): bigint => (BigInt(cpu.getHi(r)) << 32n) | BigInt(cpu.getLo(r));

/** `body` assembled by vpmu's own assembler as 64-bit code at `org` (tests that need no NASM). */
export function ownImage(org: number, body: string): Uint8Array {
  const r = assemble(`bits 64\norg 0x${org.toString(16)}\n${body}\n`);
  if (!r.ok) throw new Error(r.error.map((d) => d.message).join("; "));
  return r.value.bytes;
}
