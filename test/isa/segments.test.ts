// Segment registers and descriptor tables (issue 12 item 1): LGDT/SGDT, MOV Sreg with the SDM's checks
// and selector error codes, far JMP/CALL/RET, LTR (busy bit) and STR.
import { describe, expect, it } from "vitest";
import { Cpu, StopReason, Vec } from "../../src/isa/cpu.js";
import { Seg } from "../../src/isa/state.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { MEM, ORG, reg } from "./harness.js";
import { nasm } from "./nasm.js";

/** A flat GDT: 0x08 code32, 0x10 data, 0x18 code64, 0x20 data DPL 3, 0x28 data not present, 0x30 code32
 *  DPL 3, 0x38 a 64-bit TSS (16 bytes) at 0x180000. */
const GDT = `
align 8
gdt:    dq 0
        dq 0x00cf9a000000ffff
        dq 0x00cf92000000ffff
        dq 0x00af9a000000ffff
        dq 0x00cff2000000ffff
        dq 0x00cf12000000ffff
        dq 0x00cffa000000ffff
        dw 0x67, 0x0000, 0x8918, 0  ; base 0x180000, limit 0x67, type 9 (available), P
        dd 0, 0
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
`;

function run32(body: string): Cpu {
  const io = new GuestIo();
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(io) });
  cpu.load(ORG, nasm(`bits 32\norg 0x${ORG.toString(16)}\n        lgdt [gdtr]\n${body}\n        hlt\n${GDT}`));
  cpu.rip = ORG;
  cpu.set64(4, 0x200000, 0);
  cpu.enterFlat32();
  cpu.run(200);
  return cpu;
}

/** The first fault of a run that had no IDT (it escalates to a triple fault). */
const firstFault = (cpu: Cpu) => {
  const f = cpu.tripleFault?.chain[0];
  return f ? { vector: f.vector, errorCode: f.errorCode } : null;
};

describe("MOV to segment registers", () => {
  it("loads the hidden part from the GDT and sets the accessed bit", () => {
    const cpu = run32(`
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov ax, 0x20            ; DPL-3 data into DS at CPL 0 (RPL 0 <= DPL, CPL <= DPL)
        mov fs, ax
        mov ax, 0x08            ; readable code into GS
        mov gs, ax
        xor eax, eax
        mov es, ax              ; a null selector: ES unusable
        mov bx, fs
        mov esi, [gdt + 0x14]   ; descriptor 0x10 bytes 4-7: accessed bit set`);
    expect(cpu.shutdown).toBe(false);
    expect(Array.from(cpu.segSel)).toEqual([0, 0x08, 0x10, 0x10, 0x20, 0x08]);
    expect(cpu.segAttr[Seg.FS]).toBe(0xc0f3);
    expect(cpu.segAttr[Seg.ES]).toBe(0x10000);
    expect(cpu.segLimit[Seg.DS]).toBe(0xffffffff);
    expect(reg(cpu, 3) & 0xffffn).toBe(0x20n);
    expect(Number(reg(cpu, 6)) & 0x100).toBe(0x100);
  });

  it.each([
    ["mov ax, 0x20\n mov ss, ax", Vec.GP, 0x20, "SS: DPL 3 != CPL 0"],
    ["mov ax, 0x08\n mov ss, ax", Vec.GP, 0x08, "SS: not a writable data segment"],
    ["mov ax, 0x11\n mov ss, ax", Vec.GP, 0x10, "SS: RPL 1 != CPL 0"],
    ["xor eax, eax\n mov ss, ax", Vec.GP, 0, "SS: null outside 64-bit mode"],
    ["mov ax, 0x28\n mov ds, ax", Vec.NP, 0x28, "DS: not present"],
    ["mov ax, 0x48\n mov ds, ax", Vec.GP, 0x48, "beyond the GDT limit"],
    ["mov ax, 0x0c\n mov ds, ax", Vec.GP, 0x0c, "TI = 1 with no LDT"],
    ["mov ax, 0x38\n mov ds, ax", Vec.GP, 0x38, "a system descriptor (TSS)"],
    ["mov ax, 0x28\n mov ss, ax", Vec.SS, 0x28, "SS: a writable data segment, not present"],
  ])("%s -> fault", (code, vec, err) => {
    const cpu = run32(code);
    expect(firstFault(cpu)).toEqual({ vector: vec, errorCode: err });
  });
});

describe("far transfers, LTR, STR, SGDT", () => {
  it("jmp 0x08:label reloads CS; call far / retf push and pop CS:EIP", () => {
    const cpu = run32(`
        jmp 0x08:next
next:   mov ebx, 1
        call 0x08:sub
        mov edi, esp
        jmp done
sub:    mov ecx, [esp+4]        ; the pushed CS
        retf
done:   sgdt [0x300000]
        mov ax, 0x38
        ltr ax
        str dx
        mov esi, [gdt + 0x3c]   ; TSS descriptor bytes 4-7: type now 0xB (busy)`);
    expect(cpu.shutdown).toBe(false);
    expect(reg(cpu, 3)).toBe(1n);
    expect(reg(cpu, 1)).toBe(8n);
    expect(reg(cpu, 7)).toBe(0x200000n);
    expect(reg(cpu, 2) & 0xffffn).toBe(0x38n);
    expect((Number(reg(cpu, 6)) >> 8) & 0xf).toBe(0xb);
    expect(cpu.trSel).toBe(0x38);
    expect(cpu.trLimit).toBe(0x67);
    expect(cpu.mem[0x300000] | (cpu.mem[0x300001] << 8)).toBe(0x47); // 7 descriptors and the 16-byte TSS descriptor, minus 1
  });

  it.each([
    ["jmp 0x00:0", Vec.GP, 0],
    ["jmp 0x10:0", Vec.GP, 0x10],
    ["jmp 0x30:0", Vec.GP, 0x30],
    ["mov ax, 0x38\n ltr ax\n ltr ax", Vec.GP, 0x38],
    ["mov ax, 0x10\n ltr ax", Vec.GP, 0x10],
  ])("%s -> fault", (code, vec, err) => {
    const cpu = run32(code);
    expect(firstFault(cpu)).toEqual({ vector: vec, errorCode: err });
  });

  it("a far jump to a 16-bit code descriptor switches the decoder to 16-bit code", () => {
    const cpu = run32(`
        jmp 0x18:c16            ; L is ignored outside IA-32e mode: D = 0 -> 16-bit code
bits 16
c16:    mov eax, 0x12345678     ; 66 B8 in 16-bit code
        hlt
bits 32`);
    expect(cpu.codeBits).toBe(16);
    expect(reg(cpu, 0)).toBe(0x12345678n);
    expect(cpu.run(1)).toBe(StopReason.Halted);
  });
});
