// Exact semantics of the instructions compilers emit (issue 12 item 3) on NASM-assembled guests: string
// instructions (REP counts, direction, interruption between iterations), LOCK, LEAVE/ENTER, moffs, the bit
// string form of BT, the hint NOPs. Results of the ALU-like ones are cross-checked against this machine's
// CPU in native.test.ts.
import { describe, expect, test } from "vitest";
import { StopReason } from "../../src/isa/cpu.js";
import { DF } from "../../src/isa/flags.js";
import { REP_CHUNK_CYCLES } from "../../src/isa/sem/string.js";
import { IDT_LIB, MEM, gate, makeCpu, reg } from "./harness.js";

const ev = (cpu: { events: { instructions: number; branches: number; cycles: number } }) => [
  cpu.events.instructions,
  cpu.events.branches,
  cpu.events.cycles,
];

describe("string instructions", () => {
  test("rep stosd: one retired instruction, RCX iterations, cycles = count (+ cache penalties)", () => {
    const { cpu } = makeCpu(`
      cld
      mov edi, 0x200000
      mov ecx, 64
      mov eax, 0x11223344
      rep stosd
      hlt`);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    // cld, mov, mov, mov, rep stosd = 5 instructions; rep stosd: 1 + 63 iterations; 4 cold lines: the first
    // two miss the LLC (+100 each), and their ascending pair makes the streamer fetch the third, whose
    // reference fetches the fourth (+10 each, uarch.ts).
    expect(ev(cpu)).toEqual([5, 0, 4 + 64 + 200 + 20]);
    expect(Number(reg(cpu, 7))).toBe(0x200000 + 256);
    expect(reg(cpu, 1)).toBe(0n);
    expect(cpu.dv.getUint32(0x200000 + 252, true)).toBe(0x11223344);
    expect(cpu.dv.getUint32(0x200000 + 256, true)).toBe(0);
  });

  test("rep with RCX = 0 does nothing and still retires; a plain movsb moves one element", () => {
    const { cpu } = makeCpu(`
      mov esi, 0x200000
      mov edi, 0x200100
      mov byte [rsi], 7
      xor ecx, ecx
      rep movsb
      movsb
      hlt`);
    cpu.run(100);
    expect(cpu.events.instructions).toBe(6);
    expect(cpu.mem[0x200100]).toBe(7);
    expect([Number(reg(cpu, 6)), Number(reg(cpu, 7))]).toEqual([0x200001, 0x200101]);
  });

  test("std: movsq copies backwards, lodsb steps down; cld restores", () => {
    const { cpu } = makeCpu(`
      mov rax, 0x0102030405060708
      mov [0x200000], rax
      mov rax, 0x1112131415161718
      mov [0x200008], rax
      std
      mov esi, 0x200008
      mov edi, 0x200108
      mov ecx, 2
      rep movsq
      mov esi, 0x200001
      lodsb
      cld
      hlt`);
    cpu.run(100);
    expect(cpu.dv.getBigUint64(0x200100, true)).toBe(0x0102030405060708n);
    expect(cpu.dv.getBigUint64(0x200108, true)).toBe(0x1112131415161718n);
    expect(Number(reg(cpu, 7))).toBe(0x200108 - 16);
    expect(Number(reg(cpu, 6))).toBe(0x200000);
    expect(Number(reg(cpu, 0) & 0xffn)).toBe(0x07);
    expect(cpu.rflags & DF).toBe(0);
  });

  test("repe cmpsb stops at the first difference; repne scasb at the first match (ZF, RCX, RDI)", () => {
    const { cpu } = makeCpu(`
      mov rax, 'abcdefgh'
      mov [0x200000], rax
      mov rax, 'abcdXfgh'
      mov [0x200100], rax
      mov esi, 0x200000
      mov edi, 0x200100
      mov ecx, 8
      repe cmpsb
      mov r8, rcx
      mov r9, rsi
      setz r10b
      mov edi, 0x200000
      mov ecx, 8
      mov al, 'f'
      repne scasb
      setz r11b
      hlt`);
    cpu.run(200);
    expect([reg(cpu, 8), reg(cpu, 9), reg(cpu, 10)]).toEqual([3n, 0x200005n, 0n]);
    expect([reg(cpu, 1), reg(cpu, 7), reg(cpu, 11)]).toEqual([2n, 0x200006n, 1n]);
  });

  test("0x67: ESI/EDI/ECX, 32-bit updates zero-extend", () => {
    const { cpu } = makeCpu(`
      mov rsi, 0xffffffff00200000
      mov rdi, 0xffffffff00200100
      mov rcx, 0xffffffff00000002
      db 0xf3, 0x67, 0xa4     ; rep movsb with a 32-bit address size
      hlt`);
    cpu.run(100);
    expect([reg(cpu, 6), reg(cpu, 7), reg(cpu, 1)]).toEqual([0x200002n, 0x200102n, 0n]);
  });

  test("a long REP stops between iterations (RIP on it), takes an interrupt there, and resumes to one retirement", () => {
    const N = 100_000;
    const { cpu } = makeCpu(`
      ${gate(0x40, "irq")}
      lidt [rel idtr]
      mov edi, 0x200000
      mov ecx, ${N}
      xor eax, eax
      dec eax
      sti
    R: rep stosb
      hlt
    irq:
      mov r8, [rsp]         ; the interrupted RIP
      mov r9, rcx           ; the remaining count
      inc r10
      iretq
    ${IDT_LIB}`);
    let stop = cpu.run(10_000);
    // The REP ran one chunk of cycles and returned to the caller, RIP still on it.
    while (cpu.events.instructions < 11) stop = cpu.run(1);
    expect(stop).toBe(StopReason.Budget);
    const at = cpu.rip;
    const left = reg(cpu, 1);
    expect(left > 0n && left < BigInt(N)).toBe(true);
    const before = cpu.events.instructions;
    cpu.raiseInterrupt(0x40);
    expect(cpu.run(4)).toBe(StopReason.Budget); // mov, mov, inc, iretq: delivered between iterations
    expect(Number(reg(cpu, 8))).toBe(at);
    expect(reg(cpu, 9)).toBe(left);
    expect(cpu.events.instructions).toBe(before + 4);
    while (cpu.run(1_000_000) === StopReason.Budget);
    expect(cpu.rip).toBe(at + 3); // after the hlt
    expect(cpu.events.instructions).toBe(before + 4 + 1); // the REP retired once
    expect(cpu.mem[0x200000 + N - 1]).toBe(0xff);
    expect(cpu.mem[0x200000 + N]).toBe(0);
    expect(REP_CHUNK_CYCLES).toBeGreaterThan(0);
  });

  test("a fault in the middle keeps the completed iterations (RSI/RDI/RCX) and RIP on the instruction", () => {
    const { cpu } = makeCpu(`
      ${gate(14, "pf")}
      lidt [rel idtr]
      mov esi, ${MEM - 4}
      mov edi, 0x200000
      mov ecx, 8
    R: rep movsb
      hlt
    pf:
      mov r8, [rsp+8]
      mov r9, rcx
      hlt
    ${IDT_LIB}`);
    cpu.run(1000);
    expect(reg(cpu, 9)).toBe(4n);
    expect(Number(reg(cpu, 6))).toBe(MEM);
    expect(cpu.mem[0x200003]).toBe(cpu.mem[MEM - 1]);
  });
});

describe("LOCK", () => {
  test("locked read-modify-writes compute like the plain ones; LOCK elsewhere is #UD", () => {
    const { cpu } = makeCpu(`
      ${gate(6, "ud")}
      lidt [rel idtr]
      mov qword [0x200000], 5
      lock add qword [0x200000], 3
      lock inc dword [0x200000]
      mov eax, 100
      lock xadd [0x200000], eax
      mov eax, 109
      mov ecx, 7
      lock cmpxchg [0x200000], ecx
      lock bts qword [0x200000], 40
      lock add eax, ecx       ; register destination: #UD
      hlt
    ud:
      mov r8, [rsp]
      hlt
    ${IDT_LIB}`);
    cpu.run(1000);
    expect(cpu.dv.getBigUint64(0x200000, true)).toBe((1n << 40n) | 7n);
    expect(reg(cpu, 0)).toBe(109n);
    expect(cpu.lastFault?.vector).toBe(6);
  });
});

describe("CPUID-gated and cache instructions", () => {
  test("without RTM (the bare machine): XBEGIN, XEND, XABORT and XTEST are #UD", () => {
    for (const insn of ["xbegin fb", "xend", "xabort 1", "xtest"]) {
      const { cpu } = makeCpu(`
        ${gate(6, "ud")}
        lidt [rel idtr]
      X: ${insn}
      fb:
        hlt
      ud:
        mov r8, [rsp]
        hlt
      ${IDT_LIB}`);
      cpu.run(1000);
      expect(cpu.lastFault?.vector, insn).toBe(6);
    }
  });

  test("with RTM: XBEGIN aborts at once (EAX = 0, RIP = fallback); XEND is #GP(0); XABORT a NOP; XTEST sets ZF", () => {
    const { cpu } = makeCpu(`
      ${gate(13, "gp")}
      lidt [rel idtr]
      mov rax, -1
      xbegin fallback
      mov r9, 1             ; never runs
    fallback:
      mov r10, rax
      xabort 7
      mov eax, 0x8d5        ; OF SF AF PF CF set, ZF clear
      push rax
      popfq
      xtest
      pushfq
      pop r11
      xend
      hlt
    gp:
      mov r8, [rsp+8]
      hlt
    ${IDT_LIB}`);
    cpu.cpuidFeatures.rtm = true;
    cpu.run(1000);
    expect([reg(cpu, 9), reg(cpu, 10)]).toEqual([0n, 0n]);
    expect(Number(reg(cpu, 11)) & 0x8d5).toBe(0x40 & 0x8d5);
    expect(Number(reg(cpu, 11)) & 0x40).toBe(0x40);
    expect(cpu.lastFault?.vector).toBe(13);
  });

  test("LAHF/SAHF are #UD when CPUID does not advertise LAHF-SAHF in 64-bit mode", () => {
    const { cpu } = makeCpu(`
      ${gate(6, "ud")}
      lidt [rel idtr]
      stc
      lahf
      mov r8, rax
      hlt
    ud:
      hlt
    ${IDT_LIB}`);
    cpu.cpuidFeatures.lahfSahf = false;
    cpu.run(1000);
    expect(cpu.lastFault?.vector).toBe(6);
  });

  test("RDTSCP and CLFLUSH are #UD when CPUID does not advertise them; RDTSCP sets ECX = TSC_AUX", () => {
    const src = (insn: string) => `
      ${gate(6, "ud")}
      lidt [rel idtr]
      mov ecx, 0xc0000103
      mov eax, 0x77
      xor edx, edx
      wrmsr
      xor ecx, ecx
      ${insn}
      mov r8, rcx
      hlt
    ud:
      mov r9, 1
      hlt
    ${IDT_LIB}`;
    for (const insn of ["rdtscp", "clflush [0x200000]"]) {
      const on = makeCpu(src(insn)).cpu;
      on.run(1000);
      expect([on.lastFault, reg(on, 8), reg(on, 9)]).toEqual([null, insn === "rdtscp" ? 0x77n : 0n, 0n]);
      const off = makeCpu(src(insn)).cpu;
      if (insn === "rdtscp") off.cpuidFeatures.rdtscp = false;
      else off.cpuidFeatures.clflush = false;
      off.run(1000);
      expect([off.lastFault?.vector, reg(off, 8), reg(off, 9)]).toEqual([6, 0n, 1n]);
    }
  });

  test("WBINVD/INVD and CLFLUSHOPT empty the caches: the next load misses the LLC", () => {
    const { cpu } = makeCpu(`
      mov rax, [0x200000]
      wbinvd
      mov rax, [0x200000]
      invd
      mov rax, [0x200000]
      clflushopt [0x200000]
      mov rax, [0x200000]
      hlt`);
    cpu.run(100);
    expect([cpu.events.llcReferences, cpu.events.llcMisses]).toEqual([4, 4]);
  });
});

describe("other forms", () => {
  test("enter/leave build and drop a frame; enter with a nesting level copies frame pointers", () => {
    const { cpu } = makeCpu(`
      mov rbp, 0x1234
      mov r12, rsp
      enter 32, 0
      mov r8, rbp
      mov r9, rsp
      leave
      mov r10, rsp
      mov r11, rbp
      mov qword [0x1234-8], 0x5678
      enter 16, 2
      mov r13, [rsp+16]     ; FrameTemp
      mov r14, [rsp+24]     ; the frame pointer copied from [rbp-8]
      hlt`);
    cpu.run(100);
    const sp = reg(cpu, 12);
    expect([reg(cpu, 8), reg(cpu, 9)]).toEqual([sp - 8n, sp - 8n - 32n]);
    expect([reg(cpu, 10), reg(cpu, 11)]).toEqual([sp, 0x1234n]);
    // enter 16, 2: push rbp; push [rbp-8] (level-1 = 1 pointer); push FrameTemp; rsp -= 16.
    expect(reg(cpu, 5)).toBe(sp - 8n);
    expect([reg(cpu, 13), reg(cpu, 14)]).toEqual([sp - 8n, 0x5678n]);
    expect(reg(cpu, 4)).toBe(sp - 24n - 16n);
  });

  test("moffs moves use a 64-bit absolute address", () => {
    const { cpu } = makeCpu(`
      mov rax, 0x1122334455667788
      mov [qword 0x200010], rax
      xor eax, eax
      mov al, [qword 0x200011]
      mov r8, rax
      mov eax, [qword 0x200010]
      hlt`);
    cpu.run(100);
    expect([reg(cpu, 8), reg(cpu, 0)]).toEqual([0x77n, 0x55667788n]);
  });

  test("a moffs address outside RAM faults like any other access (#PF, CR2 = the address)", () => {
    const { cpu } = makeCpu(`
      ${gate(14, "pf")}
      lidt [rel idtr]
      mov al, [qword 0x7fff00000000]
    pf:
      hlt
    ${IDT_LIB}`);
    cpu.run(100);
    expect(cpu.lastFault?.vector).toBe(14);
    expect(cpu.cr2Hi).toBe(0x7fff);
  });

  test("bt with a register offset addresses a bit string beyond (and before) the operand", () => {
    const { cpu } = makeCpu(`
      mov qword [0x200000], 0
      mov qword [0x200008], 0
      mov ecx, 70
      bts dword [0x200000], ecx    ; bit 70: byte 8, bit 6
      mov rcx, -1
      bts qword [0x200008], rcx     ; bit -1 of the qword at +8: bit 63 of the qword at +0
      mov ecx, 70
      bt dword [0x200000], ecx
      setc r8b
      hlt`);
    cpu.run(100);
    expect(cpu.dv.getBigUint64(0x200008, true)).toBe(0x40n);
    expect(cpu.dv.getBigUint64(0x200000, true)).toBe(1n << 63n);
    expect(reg(cpu, 8)).toBe(1n);
  });

  test("endbr64, hint NOPs and prefetches change nothing but RIP and count as instructions", () => {
    const { cpu } = makeCpu(`
      endbr64
      endbr32
      hint_nop7 rax
      prefetchnta [0x7fff00000000]   ; never faults
      prefetcht0 [rax]
      hlt`);
    cpu.run(100);
    expect(cpu.events.instructions).toBe(5);
    expect(cpu.lastFault).toBe(null);
  });
});
