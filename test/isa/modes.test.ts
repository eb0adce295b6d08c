// CPU modes (issue 12 item 1): 32-bit protected-mode code (operand/address size from CS.D, 66/67,
// 40–4F as inc/dec, 16-bit ModRM addressing, ESP through SS.B, 4-byte near branches), the Multiboot
// start state, FS/GS bases (MSRs 0xC0000100–102, SWAPGS, 64/65 overrides in 64-bit mode).
import { describe, expect, it } from "vitest";
import { Cpu, StopReason, Vec } from "../../src/isa/cpu.js";
import { FLAT64_CODE, FLAT_DATA, Seg } from "../../src/isa/state.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { MEM, ORG, makeCpu, reg } from "./harness.js";
import { nasm } from "./nasm.js";

function cpu32(body: string): { cpu: Cpu; io: GuestIo } {
  const io = new GuestIo();
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(io) });
  cpu.load(ORG, nasm(`bits 32\norg 0x${ORG.toString(16)}\n${body}\n`));
  cpu.rip = ORG;
  cpu.set64(4, 0x200000, 0xdead);
  cpu.enterFlat32();
  return { cpu, io };
}

describe("the start states", () => {
  it("64-bit flat: CS 0x08 (L = 1), data 0x10, base 0, limit 4 GiB - 1; EFER.LMA", () => {
    const { cpu } = makeCpu("hlt");
    expect(Array.from(cpu.segSel)).toEqual([0x10, 0x08, 0x10, 0x10, 0x10, 0x10]);
    expect(Array.from(cpu.segAttr)).toEqual([FLAT_DATA, FLAT64_CODE, FLAT_DATA, FLAT_DATA, FLAT_DATA, FLAT_DATA]);
    expect(Array.from(cpu.segLimit)).toEqual(new Array(6).fill(0xffffffff));
    expect(cpu.codeBits).toBe(64);
    expect(cpu.stackBytes).toBe(8);
    expect(cpu.efer).toBe(0x500);
  });

  it("Multiboot: 32-bit protected mode, paging off, EAX = 0x2BADB002, IF = 0, EFER = 0", () => {
    const { cpu } = cpu32("hlt");
    expect(cpu.codeBits).toBe(32);
    expect(cpu.stackBytes).toBe(4);
    expect(cpu.cr0).toBe(0x11);
    expect(cpu.efer).toBe(0);
    expect(cpu.segAttr[Seg.CS]).toBe(0xc09b);
    expect(reg(cpu, 0)).toBe(0x2badb002n);
    expect(cpu.interruptsEnabled).toBe(false);
  });
});

describe("32-bit code", () => {
  it("inc/dec are 40-4F, push/pop/call/ret move ESP by 4, 66 and 67 toggle the sizes", () => {
    const { cpu } = cpu32(`
        mov eax, 5
        inc eax                 ; 40
        dec ecx                 ; 49: ecx 0 -> 0xffffffff
        push eax
        push word 0x1234        ; 66 6A/68: 2 bytes
        pop dx
        pop ebx
        call f
        mov esi, 0x3000
        mov word [esi], 0xbeef
        mov bx, 0x1000
        mov si, 0x2000
        mov ax, [bx+si]         ; 67 66 8B 00: 16-bit addressing
        lea di, [bx+si+0x10]
        hlt
f:      mov edi, [esp]          ; the 4-byte return address
        ret`);
    expect(cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(cpu, 0) & 0xffffn).toBe(0xbeefn);
    expect(reg(cpu, 1)).toBe(0xffffffffn);
    expect(reg(cpu, 3)).toBe(0x1000n); // ebx = 6 from the pop, then bx = 0x1000
    expect(reg(cpu, 2) & 0xffffn).toBe(0x1234n);
    expect(reg(cpu, 4)).toBe(0xdead00200000n); // ESP back at 0x200000, RSP[63:32] untouched
    expect(Number(reg(cpu, 7)) & 0xffff).toBe(0x3010);
    expect(Number(reg(cpu, 7) >> 16n)).toBe(0x10); // EDI[31:16] from the 4-byte return address 0x10xxxx
  });

  it("a near jump with a 16-bit operand size clears EIP[31:16]; jcxz-style 67 loop counts CX", () => {
    const { cpu } = cpu32(`
        mov ecx, 0x10002
    l:  a16 loop l              ; 67 E2: CX 2 -> 1 -> 0
        hlt`);
    expect(cpu.run(10)).toBe(StopReason.Halted);
    expect(reg(cpu, 1)).toBe(0x10000n);
  });

  it("decoded code is dropped when the code size changes (the same bytes mean something else)", () => {
    const { cpu } = makeCpu("db 0x48, 0x40, 0xc0\nhlt"); // 64-bit: rex.w + 40 C0 ... decode first
    const first = cpu.decodeAt(ORG);
    cpu.enterFlat32();
    const again = cpu.decodeAt(ORG);
    expect(first.len).not.toBe(again.len);
    expect(again.mnemonic).toBe("dec");
  });
});

describe("FS and GS bases", () => {
  it("WRMSR/RDMSR 0xC0000100-102 natively; 64/65 add the base; SWAPGS exchanges GS.base and KERNEL_GS_BASE", () => {
    const { cpu } = makeCpu(`
        mov ecx, 0xc0000101
        mov eax, 0x200000
        xor edx, edx
        wrmsr
        mov qword [0x200010], 77
        mov rbx, [gs:0x10]
        mov ecx, 0xc0000102
        mov eax, 0x300000
        wrmsr
        swapgs
        mov ecx, 0xc0000101
        rdmsr
        mov esi, eax
        mov ecx, 0xc0000100
        mov eax, 0x200008
        wrmsr
        mov rdi, [fs:8]
        hlt`);
    expect(cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(cpu, 3)).toBe(77n);
    expect(reg(cpu, 6)).toBe(0x300000n);
    expect(reg(cpu, 7)).toBe(77n);
    expect(cpu.segBaseOf(Seg.GS)).toBe(0x300000);
    expect(cpu.kernelGsBaseLo).toBe(0x200000);
  });

  it("a non-canonical base is #GP(0); SWAPGS is #UD outside 64-bit mode", () => {
    const { cpu } = makeCpu(`
        mov ecx, 0xc0000100
        xor eax, eax
        mov edx, 0x00008000
        wrmsr
        hlt`);
    // No IDT: the fault escalates to a triple fault whose chain starts with it.
    expect(cpu.run(10)).toBe(StopReason.TripleFault);
    expect(cpu.tripleFault?.chain[0]).toEqual({ vector: Vec.GP, errorCode: 0, rip: ORG + 12 });
    const c32 = cpu32("db 0x0f, 0x01, 0xf8 ; swapgs\nhlt").cpu;
    expect(c32.run(10)).toBe(StopReason.TripleFault);
    expect(c32.tripleFault?.chain[0]).toEqual({ vector: Vec.UD, errorCode: null, rip: ORG });
  });
});
