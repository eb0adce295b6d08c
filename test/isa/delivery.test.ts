// Event delivery and returns across modes (issue 12 item 1): the 64-bit TSS (IST stacks, RSP0 on a
// privilege change), 32-bit interrupt gates with the 32-bit TSS stack switch, IRETD/IRETQ to outer
// rings and to compatibility mode, leaving IA-32e mode, PUSH/POP Sreg. SDM Vol. 3 §6.12, §6.14, §9.8.5.
import { describe, expect, it } from "vitest";
import { Cpu, StopReason, Vec } from "../../src/isa/cpu.js";
import { Seg } from "../../src/isa/state.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { IDT_LIB, MEM, ORG, makeCpu, reg } from "./harness.js";
import { nasm } from "./nasm.js";

/** 0x08 code64, 0x10 data, 0x18 code32, 0x20 data DPL 3, 0x28 TSS at 0x180000 (16 bytes: a 64-bit TSS in
 *  IA-32e mode; outside it the second half is the next, unused, entry), 0x38 code64 DPL 3, 0x40 code32 DPL 3. */
const GDT = `
align 8
gdt:    dq 0
        dq 0x00af9a000000ffff
        dq 0x00cf92000000ffff
        dq 0x00cf9a000000ffff
        dq 0x00cff2000000ffff
        dw 0x67, 0x0000, 0x8918, 0
        dd 0, 0
        dq 0x00affa000000ffff
        dq 0x00cffa000000ffff
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dq gdt
`;

/** Run until HLT or shutdown, across CPL changes (run() stops at each). */
function settle(cpu: Cpu): StopReason {
  let r = StopReason.ModeChange;
  for (let i = 0; i < 20 && r === StopReason.ModeChange; i++) r = cpu.run(500);
  return r;
}

function run64(body: string): Cpu {
  const { cpu } = makeCpu(`${body}\n${GDT}\n${IDT_LIB}`);
  settle(cpu);
  return cpu;
}

function run32(body: string): Cpu {
  const io = new GuestIo();
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(io) });
  cpu.load(ORG, nasm(`bits 32\norg 0x${ORG.toString(16)}\n        lgdt [gdtr]\n${body}\n${GDT}`));
  cpu.rip = ORG;
  cpu.set64(4, 0x200000, 0);
  cpu.enterFlat32();
  settle(cpu);
  return cpu;
}

/** esi for set_gate: type/DPL byte, IST, selector. */
const gateBits = (attr: number, ist: number, sel = 0x08) =>
  `0x${(((attr << 24) | (ist << 16) | sel) >>> 0).toString(16)}`;

/** IRETQ to `user:` in ring 3 (CS 0x3b, SS 0x23, RSP 0x250000). */
const TO_RING3 = `  push 0x23
  push 0x250000
  pushfq
  push 0x3b
  lea rax, [rel user]
  push rax
  iretq`;

/** Point IDT vector `v` at `handler` with gate attributes `attr` and IST `ist`. */
const setGate = (v: number, handler: string, attr: number, ist = 0) => `  mov edi, ${v}
  lea rax, [rel ${handler}]
  mov esi, ${gateBits(attr, ist)}
  call set_gate`;

describe("64-bit TSS on delivery", () => {
  it("a gate with IST = 1 switches to TSS.IST1 (aligned down to 16) even without a privilege change", () => {
    const cpu = run64(`
  lgdt [rel gdtr]
  mov qword [0x180024], 0x30000c   ; IST1, not 16-byte aligned
  mov ax, 0x28
  ltr ax
  mov edi, 3
  lea rax, [rel h_bp]
  mov esi, ${gateBits(0x8e, 1)}
  call set_gate
  lidt [rel idtr]
  mov rsp, 0x200008
  int3
after:
  hlt
h_bp:
  mov rbx, rsp
  mov rcx, [rsp]
  mov rdx, [rsp + 8]
  mov r8, [rsp + 24]
  mov r9, [rsp + 32]
  iretq`);
    expect(cpu.halted).toBe(true);
    expect(reg(cpu, 3)).toBe(0x300000n - 40n);
    expect(reg(cpu, 2)).toBe(0x08n);
    expect(reg(cpu, 8)).toBe(0x200008n);
    expect(reg(cpu, 9)).toBe(0x10n); // SS of the start state
    expect(reg(cpu, 4)).toBe(0x200008n);
  });

  it("a privilege change from ring 3 takes TSS.RSP0 and loads a null SS with RPL 0", () => {
    const cpu = run64(`
  lgdt [rel gdtr]
  mov qword [0x180004], 0x280008   ; RSP0
  mov ax, 0x28
  ltr ax
  mov edi, 3
  lea rax, [rel h_bp]
  mov esi, ${gateBits(0xee, 0)}
  call set_gate
  lidt [rel idtr]
${TO_RING3}
user:
  mov r10, rsp
  int3
h_bp:
  mov rbx, rsp
  mov rcx, [rsp + 8]
  mov rdx, [rsp + 32]
  mov r8, [rsp + 24]
  mov r9, [rsp]
  mov r11w, ss
  hlt`);
    expect(cpu.halted).toBe(true);
    expect(cpu.cpl).toBe(0);
    expect(reg(cpu, 10)).toBe(0x250000n);
    expect(reg(cpu, 3)).toBe(0x280000n - 40n);
    expect(reg(cpu, 1)).toBe(0x3bn);
    expect(reg(cpu, 2)).toBe(0x23n);
    expect(reg(cpu, 8)).toBe(0x250000n);
    expect(reg(cpu, 11) & 0xffffn).toBe(0n);
  });

  it("an IST gate with no TR loaded is #TS(0): the TSS limit is 0", () => {
    const cpu = run64(`
  lgdt [rel gdtr]
  mov edi, 3
  lea rax, [rel h_bp]
  mov esi, ${gateBits(0x8e, 2)}
  call set_gate
  lidt [rel idtr]
  int3
h_bp:
  hlt`);
    expect(cpu.tripleFault?.chain.map((f) => [f.vector, f.errorCode])).toEqual([
      [Vec.BP, null],
      [Vec.TS, 0],
      [Vec.DF, 0],
      [Vec.GP, 8 * 8 + 2 + 1], // no #DF gate: the IDT entry's type is 0 (IDT bit, EXT)
    ]);
  });
});

describe("INT n (CD ib): a software interrupt", () => {
  it("delivers vector n through its gate with RIP of the next instruction, on the gate's IST stack", () => {
    const cpu = run64(`
  lgdt [rel gdtr]
  mov qword [0x180024], 0x300000   ; IST1
  mov ax, 0x28
  ltr ax
${setGate(0x40, "h_40", 0x8e, 1)}
  lidt [rel idtr]
  mov rsp, 0x200000
  int 0x40
after:
  hlt
h_40:
  mov rbx, rsp
  mov rcx, [rsp]
  lea rdx, [rel after]
  iretq`);
    expect(cpu.halted).toBe(true);
    expect(reg(cpu, 3)).toBe(0x300000n - 40n);
    expect(reg(cpu, 1)).toBe(reg(cpu, 2));
    expect(reg(cpu, 4)).toBe(0x200000n);
  });

  it("from ring 3 through a DPL 0 gate is #GP(n * 8 + 2), EXT = 0; through a DPL 3 gate it is taken", () => {
    const user = (vector: number) => `
  lgdt [rel gdtr]
  mov qword [0x180004], 0x280000   ; RSP0
  mov ax, 0x28
  ltr ax
${setGate(0x40, "h_40", 0x8e)}
${setGate(0x41, "h_41", 0xee)}
${setGate(13, "h_gp", 0x8e)}
  lidt [rel idtr]
${TO_RING3}
user:
  int ${vector}
h_40:
  mov ebx, 0x40
  hlt
h_41:
  mov ebx, 0x41
  mov rcx, [rsp + 8]
  hlt
h_gp:
  mov ebx, 13
  mov rcx, [rsp]
  hlt`;
    const gp = run64(user(0x40));
    expect([reg(gp, 3), reg(gp, 1)]).toEqual([13n, 0x40n * 8n + 2n]);
    const taken = run64(user(0x41));
    expect([reg(taken, 3), reg(taken, 1), BigInt(taken.cpl)]).toEqual([0x41n, 0x3bn, 0n]);
  });
});

describe("IRETQ to compatibility mode, leaving IA-32e mode", () => {
  const toCompat = `
  lgdt [rel gdtr]
  push 0x10
  push 0x240000
  pushfq
  push 0x18
  lea rax, [rel compat]
  push rax
  iretq
bits 32
compat:
  mov eax, 5
  inc eax                 ; 40: INC in compatibility mode, a REX prefix in 64-bit mode
  dec eax
  dec eax
  mov ebx, esp`;
  it("runs 32-bit code with EFER.LMA still set (40-4F are INC/DEC)", () => {
    const cpu = run64(`${toCompat}\n  hlt\nbits 64`);
    expect(cpu.halted).toBe(true);
    expect(cpu.codeBits).toBe(32);
    expect(reg(cpu, 0)).toBe(4n);
    expect(reg(cpu, 3)).toBe(0x240000n);
    expect(cpu.segSel[Seg.CS]).toBe(0x18);
    expect(cpu.efer & 0x400).toBe(0x400);
  });

  it("clearing CR0.PG in compatibility mode leaves IA-32e mode (LMA = 0, then LME can be cleared)", () => {
    const cpu = run64(`${toCompat}
  mov eax, cr0
  and eax, 0x7fffffff
  mov cr0, eax
  mov ecx, 0xc0000080
  rdmsr
  mov esi, eax
  and eax, ~0x100
  wrmsr
  rdmsr
  hlt
bits 64`);
    expect(cpu.halted).toBe(true);
    expect(cpu.codeBits).toBe(32);
    expect(Number(reg(cpu, 6)) & 0x500).toBe(0x100); // LME still set, LMA clear after MOV CR0
    expect(cpu.efer & 0x500).toBe(0);
  });

  it("clearing CR0.PG in 64-bit mode is #GP(0)", () => {
    const cpu = run64(`
  mov rax, cr0
  btr rax, 31
  mov cr0, rax
  hlt`);
    expect(cpu.tripleFault?.chain[0]).toMatchObject({ vector: Vec.GP, errorCode: 0 });
  });
});

/** A 32-bit IDT: #BP (DPL 3) and #GP, interrupt gates to CS 0x18, handlers below 64 KiB from ORG. */
const IDT32 = `
align 8
idt:    times 3 dq 0
        dw h_bp - $$, 0x18, 0xee00, ${ORG >>> 16}
        times 9 dq 0
        dw h_gp - $$, 0x18, 0x8e00, ${ORG >>> 16}
idt_end:
idtr:   dw idt_end - idt - 1
        dd idt
`;

describe("32-bit interrupt gates", () => {
  it("int3 and #GP push EFLAGS, CS, EIP (and the error code) on the current stack; IRETD returns", () => {
    const cpu = run32(`
        jmp 0x18:start
start:  lidt [idtr]
        mov esp, 0x200000
        mov dword [0x300000], after
        int3
after:  mov ax, 0x48
        mov ds, ax              ; beyond the GDT limit: #GP(0x48)
        hlt
h_bp:     mov esi, [esp]
        mov edi, [esp + 4]
        mov ebp, esp
        iretd
h_gp:   mov ebx, [esp]
        mov ecx, [esp + 4]
        mov edx, [esp + 8]
        add dword [esp + 4], 2  ; skip the 2-byte MOV DS
        add esp, 4
        iretd
${IDT32}`);
    expect(cpu.halted).toBe(true);
    expect(cpu.codeBits).toBe(32);
    expect(reg(cpu, 6)).toBe(BigInt(new DataView(cpu.mem.buffer).getUint32(0x300000, true)));
    expect(reg(cpu, 7)).toBe(0x18n);
    expect(reg(cpu, 5)).toBe(0x200000n - 12n);
    expect(reg(cpu, 3)).toBe(0x48n);
    expect(reg(cpu, 2)).toBe(0x18n);
    expect(reg(cpu, 4)).toBe(0x200000n);
  });

  it("from ring 3, int3 switches to SS0:ESP0 of the 32-bit TSS and pushes the old SS:ESP", () => {
    const cpu = run32(`
        mov dword [0x180004], 0x280000   ; ESP0
        mov dword [0x180008], 0x10       ; SS0
        mov ax, 0x28
        ltr ax
        lidt [idtr]
        push 0x23
        push 0x250000
        pushfd
        push 0x43
        push user
        iretd
user:   mov edx, esp
        int3
h_bp:     mov esi, [esp + 4]
        mov edi, [esp + 12]
        mov ebx, [esp + 16]
        mov ebp, esp
        mov cx, ss
        hlt
h_gp:   hlt
${IDT32}`);
    expect(cpu.halted).toBe(true);
    expect(cpu.cpl).toBe(0);
    expect(reg(cpu, 2)).toBe(0x250000n);
    expect(reg(cpu, 6)).toBe(0x43n);
    expect(reg(cpu, 7)).toBe(0x250000n);
    expect(reg(cpu, 3)).toBe(0x23n);
    expect(reg(cpu, 5)).toBe(0x280000n - 20n);
    expect(reg(cpu, 1) & 0xffffn).toBe(0x10n);
  });
});

describe("PUSH/POP Sreg", () => {
  it("64-bit: push fs / pop gs move the selector through an 8-byte slot", () => {
    const cpu = run64(`
  lgdt [rel gdtr]
  mov ax, 0x10
  mov fs, ax
  mov rsp, 0x200000
  mov qword [0x1ffff8], -1
  push fs
  mov rbx, [rsp]
  pop gs
  hlt`);
    expect(reg(cpu, 3)).toBe(0x10n);
    expect(cpu.segSel[Seg.GS]).toBe(0x10);
    expect(reg(cpu, 4)).toBe(0x200000n);
  });

  it("32-bit: pop ds of a selector beyond the GDT is #GP(sel) and leaves ESP alone", () => {
    const cpu = run32(`
        push ds
        pop es
        mov ebx, esp
        push 0x48
        pop ds`);
    expect(reg(cpu, 3)).toBe(0x200000n);
    expect(cpu.segSel[Seg.ES]).toBe(0x10);
    expect(cpu.tripleFault?.chain[0]).toMatchObject({ vector: Vec.GP, errorCode: 0x48 });
    expect(reg(cpu, 4)).toBe(0x200000n - 4n);
  });
});
