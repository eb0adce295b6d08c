// The executor, exceptions/interrupts and the micro-architectural counts, on NASM-assembled guests.
import { describe, expect, test } from "vitest";
import { StopReason } from "../../src/isa/cpu.js";
import { PlatformAction, type Platform, type PlatformCpu } from "../../src/isa/platform.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { IDT_LIB, MEM, ORG, gate, makeCpu, reg } from "./harness.js";

const ev = (cpu: { events: object }) => ({ ...cpu.events });

describe("micro-architectural counts (docs/cpu.md worked examples)", () => {
  test("mov ecx,100; l: dec ecx; jnz l: 201 instructions, 100 branches, 1 mispredict, 216 cycles", () => {
    const { cpu } = makeCpu("mov ecx, 100\nl: dec ecx\njnz l\nhlt");
    expect(cpu.run(1e6)).toBe(StopReason.Halted);
    expect(ev(cpu)).toEqual({
      instructions: 201,
      branches: 100,
      branchMispredicts: 1,
      uops: 201,
      cycles: 201 + 15,
      memStallCycles: 0,
      mispredictCycles: 15,
      llcReferences: 0,
      llcMisses: 0,
      haltedCycles: 0,
    });
  });
  test("forward branch: unseen predicted not taken, then last outcome", () => {
    // jz forward taken 3 times: mispredict on the first (static not-taken), then correct.
    const { cpu } = makeCpu("mov ecx, 3\nl: xor eax, eax\njz f\nnop\nf: dec ecx\njnz l\nhlt");
    cpu.run(1e6);
    expect([cpu.events.instructions, cpu.events.branches, cpu.events.branchMispredicts]).toEqual([1 + 3 * 4, 6, 2]);
  });
  test("loads: cold LLC miss, L1 hit, L1 conflict eviction → LLC hit, clflush → LLC miss", () => {
    const { cpu } = makeCpu(`
      mov rax, [0x200000]     ; L1 miss, LLC miss: +100
      mov rbx, [0x200008]     ; same line: hit
      mov rcx, [0x208000]     ; 32 KiB away: same L1 set, evicts; LLC miss: +100
      mov rdx, [0x200000]     ; L1 miss, LLC hit: +10
      clflush [0x200000]
      mov rdx, [0x200000]     ; flushed: L1 miss, LLC miss: +100
      hlt`);
    cpu.run(100);
    expect(ev(cpu)).toEqual({
      instructions: 6,
      branches: 0,
      branchMispredicts: 0,
      uops: 5 + 4, // five loads, CLFLUSH 4 (isa/uops.ts)
      cycles: 4 + 5 + 1 + 310,
      memStallCycles: 300,
      mispredictCycles: 0,
      llcReferences: 4,
      llcMisses: 3,
      haltedCycles: 0,
    });
  });
  test("call/ret use the RSB; a ret with an empty RSB mispredicts; resetBranchPredictor forgets", () => {
    const { cpu } = makeCpu(`
      call f          ; pushes the stack too: one store (cold line → LLC miss)
      lea rax, [rel g]
      push rax
      ret             ; RSB empty → mispredict
    g: hlt
    f: ret`);
    cpu.run(100);
    expect([cpu.events.instructions, cpu.events.branches, cpu.events.branchMispredicts]).toEqual([5, 3, 1]);
  });
});

describe("instruction semantics through the decoder", () => {
  test("32-bit writes zero the upper half; 8/16-bit writes merge; AH..BH", () => {
    const { cpu } = makeCpu(`
      mov rax, -1
      mov eax, 5
      mov rbx, -1
      mov bx, 0x1234
      mov rcx, -1
      mov cl, 0x56
      mov ch, 0x78
      mov rdx, -1
      mov dh, 0
      mov rsi, -1
      cmp rsi, rsi
      cmovne esi, edi   ; condition false: still zero-extends (SDM CMOVcc)
      hlt`);
    cpu.run(100);
    expect([reg(cpu, 0), reg(cpu, 3), reg(cpu, 1), reg(cpu, 2), reg(cpu, 6)]).toEqual([
      5n,
      0xffffffffffff1234n,
      0xffffffffffff7856n,
      0xffffffffffff00ffn,
      0xffffffffn,
    ]);
  });
  test("addressing forms, push/pop, lea, movzx/movsx/movsxd, xchg, imul forms, shifts by cl", () => {
    const { cpu } = makeCpu(`
      mov rbx, data
      mov rsi, 2
      mov eax, [rbx+rsi*4+4]      ; data[3] = 0x44
      movzx ecx, byte [rbx+rsi*8] ; byte at +16 = 0x55
      movsx rdx, byte [rbx+17]    ; 0x80 → -128
      movsxd rdi, dword [rel neg] ; -2
      lea r8, [rbx+rsi*2-3]
      push qword [rbx]
      pop r9
      mov r10, 7
      imul r10, r10, -3
      imul r11, r10, 0x100
      mov r12, 3
      xchg r12, rsi
      mov cl, 65
      mov r13, 1
      shl r13, cl                 ; count masked to 1
      hlt
    align 8
    data: dd 0x11, 0x22, 0x33, 0x44
          db 0x55, 0x80
    neg:  dd -2`);
    cpu.run(100);
    const data = BigInt(ORG) + BigInt(cpu.getLo(3) - ORG);
    expect([
      reg(cpu, 0),
      reg(cpu, 2),
      reg(cpu, 7),
      reg(cpu, 8) - data,
      reg(cpu, 9),
      reg(cpu, 10),
      reg(cpu, 11),
      reg(cpu, 12),
      reg(cpu, 6),
      reg(cpu, 13),
    ]).toEqual([
      0x44n,
      0xffffffffffffff80n,
      0xfffffffffffffffen,
      1n,
      0x22_00000011n,
      BigInt.asUintN(64, -21n),
      BigInt.asUintN(64, -21n * 256n),
      2n,
      3n,
      2n,
    ]);
    expect(reg(cpu, 1) & 0xffffffffn).toBe(65n); // rcx was overwritten by mov cl; upper from movzx zeroed
  });
  test("mul/div 64-bit and #DE through the IDT (fault: RIP of the div)", () => {
    const { cpu } = makeCpu(`
      ${gate(0, "de")}
      lidt [rel idtr]
      mov rax, 0x123456789abcdef0
      mov rcx, 0xfedcba9876543210
      mul rcx
      mov r8, rax
      mov r9, rdx
      mov rax, r8
      mov rdx, r9
      div rcx              ; back to the original
      mov r10, rax
      xor ecx, ecx
    bad: div rcx
      hlt
    de: mov r11, [rsp]     ; pushed RIP
      mov r12, [rsp+8]     ; CS
      mov r13, [rsp+16]    ; RFLAGS
      mov r14, [rsp+24]    ; RSP
      lea r15, [rel bad]
      hlt
    ${IDT_LIB}`);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    const p = 0x123456789abcdef0n * 0xfedcba9876543210n;
    expect([reg(cpu, 8), reg(cpu, 9), reg(cpu, 10)]).toEqual([p & (2n ** 64n - 1n), p >> 64n, 0x123456789abcdef0n]);
    expect([reg(cpu, 11), reg(cpu, 12), reg(cpu, 14)]).toEqual([reg(cpu, 15), 0x08n, BigInt(MEM)]);
    expect(cpu.lastFault).toEqual({ vector: 0, errorCode: null, rip: Number(reg(cpu, 15)) });
  });
});

describe("exceptions and interrupts", () => {
  test("no IDT: #UD escalates to #GP, #DF, then a triple fault", () => {
    const { cpu } = makeCpu("nop\nud2");
    expect(cpu.run(100)).toBe(StopReason.TripleFault);
    expect(cpu.tripleFault).toEqual({
      rip: ORG + 1,
      chain: [
        { vector: 6, errorCode: null, rip: ORG + 1 },
        { vector: 13, errorCode: 6 * 8 + 2 + 1, rip: ORG + 1 },
        { vector: 8, errorCode: 0, rip: ORG + 1 },
        { vector: 13, errorCode: 8 * 8 + 2 + 1, rip: ORG + 1 },
      ],
    });
    expect(cpu.events.instructions).toBe(1);
    expect(cpu.run(100)).toBe(StopReason.TripleFault);
  });
  test("#GP from rdmsr of an unknown MSR pushes error code 0; iretq resumes after a fixup", () => {
    const { cpu } = makeCpu(`
      ${gate(13, "gp")}
      lidt [rel idtr]
      mov ecx, 0x12345
      rdmsr
      mov r9, 1
      hlt
    gp: pop r8                 ; error code
      add qword [rsp], 2       ; skip the 2-byte rdmsr
      iretq
    ${IDT_LIB}`);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect([reg(cpu, 8), reg(cpu, 9), reg(cpu, 4)]).toEqual([0n, 1n, BigInt(MEM)]);
  });
  test("external interrupt at an exact instruction boundary; STI shadow; HLT wakes", () => {
    const { cpu } = makeCpu(`
      ${gate(0x40, "irq")}
      lidt [rel idtr]
      sti
      nop
      nop
      hlt
      mov r10, 1
      hlt
    irq: inc r9
      mov r8, [rsp]
      iretq
    ${IDT_LIB}`);
    // Run up to and including sti (setup is 6 instructions + set_gate's 15, lidt, sti).
    let n = 0;
    while (cpu.getLo(9) === 0 && n < 100) {
      const insAt = cpu.rip;
      const isSti = cpu.mem[insAt] === 0xfb;
      cpu.run(1);
      n++;
      if (isSti) break;
    }
    const afterSti = cpu.rip;
    cpu.raiseInterrupt(0x40);
    cpu.run(1); // the nop in the STI shadow runs first
    expect(cpu.getLo(9)).toBe(0);
    cpu.run(1); // boundary: the interrupt is delivered before the second nop, which then... (handler's inc)
    expect(cpu.getLo(9)).toBe(1);
    expect(Number(reg(cpu, 8))).toBe(0); // r8 not yet written: only the inc ran
    cpu.run(2); // mov r8, [rsp]; iretq
    expect(Number(reg(cpu, 8))).toBe(afterSti + 1);
    expect(cpu.run(100)).toBe(StopReason.Halted); // second nop, hlt with IF=1 and nothing pending
    const haltedAt = cpu.rip;
    cpu.raiseInterrupt(0x40);
    expect(cpu.run(3)).toBe(StopReason.Budget); // woken: inc, mov, iretq
    expect(Number(reg(cpu, 8))).toBe(haltedAt);
    expect(cpu.run(100)).toBe(StopReason.Halted);
    expect(cpu.getLo(10)).toBe(1);
  });
  test("STI shadow into a compiled loop: the interrupt lands after exactly one instruction", () => {
    const { cpu } = makeCpu(`
      ${gate(0x40, "irq")}
      lidt [rel idtr]
      mov ecx, 50
      jmp L
    S: sti
    L: inc rax            ; a hot, compiled loop (entered at L while IF = 0)
      dec ecx
      jnz L
      hlt
    irq: mov r8, [rsp]
      hlt
    ${IDT_LIB}`);
    expect(cpu.run(10_000)).toBe(StopReason.Halted);
    expect(cpu.jitStats.compiled).toBeGreaterThan(0);
    let S = ORG;
    while (!(cpu.mem[S] === 0xfb && cpu.mem[S + 1] === 0x48 && cpu.mem[S + 2] === 0xff && cpu.mem[S + 3] === 0xc0)) S++;
    cpu.halted = false;
    cpu.rip = S;
    cpu.set64(1, 50, 0);
    cpu.raiseInterrupt(0x40);
    expect(cpu.run(10_000)).toBe(StopReason.Halted);
    // sti, then exactly one instruction (inc rax at L) in the shadow, then the interrupt.
    expect(Number(reg(cpu, 8))).toBe(S + 4);
    expect(reg(cpu, 0)).toBe(51n);
  });
  test("iretq to CPL 3 is a ModeChange; rdmsr at CPL 3 → #GP without asking the platform; stack switch to RSP0", () => {
    let asked = 0;
    const { cpu } = makeCpu(
      `
      ${gate(13, "gp")}
      lidt [rel idtr]
      mov rax, rsp
      push 0x23          ; SS
      push rax           ; RSP
      push 0x202         ; RFLAGS
      push 0x1b          ; CS, RPL 3
      lea rax, [rel user]
      push rax
      iretq
    user: rdmsr
      hlt
    gp: mov r8, [rsp+8]  ; RIP
      mov r9, [rsp+16]   ; CS
      mov r10, rsp
      hlt
    ${IDT_LIB}`,
      (io) => {
        const p = new BarePlatform(io);
        const orig = p.rdmsr.bind(p);
        p.rdmsr = (c: PlatformCpu, length: number) => {
          asked++;
          return orig(c, length);
        };
        return p;
      },
    );
    let r: StopReason;
    do r = cpu.run(1e4);
    while (r === StopReason.Budget);
    expect(r).toBe(StopReason.ModeChange);
    expect(cpu.cpl).toBe(3);
    expect(cpu.run(1e4)).toBe(StopReason.ModeChange); // #GP delivered to ring 0
    expect(cpu.cpl).toBe(0);
    expect(cpu.run(1e4)).toBe(StopReason.Halted);
    expect(asked).toBe(0);
    expect([reg(cpu, 9), reg(cpu, 10)]).toEqual([0x1bn, BigInt(MEM - 0x10000 - 6 * 8)]);
  });
});

describe("platform contract", () => {
  test("events are exact when the platform is called; Skip is not counted; Exit stops", () => {
    const seen: number[] = [];
    const p: Platform = new BarePlatform({ portIn: () => 0, portOut: () => false });
    p.cpuid = (c: PlatformCpu) => {
      seen.push(c.events.instructions);
      return seen.length === 1 ? PlatformAction.Skip : PlatformAction.Exit;
    };
    const { cpu } = makeCpu("nop\nnop\ncpuid\nnop\ncpuid\nnop", () => p);
    expect(cpu.run(100)).toBe(StopReason.Exit);
    expect(seen).toEqual([2, 3]);
    expect(cpu.events.instructions).toBe(3);
    expect(cpu.rip).toBe(ORG + 1 + 1 + 2 + 1 + 2);
  });
  test("run(budget) retires exactly budget instructions", () => {
    const { cpu } = makeCpu("l: inc rax\njmp l");
    for (const n of [1, 7, 1000, 12345]) {
      const before = cpu.events.instructions;
      expect(cpu.run(n)).toBe(StopReason.Budget);
      expect(cpu.events.instructions - before).toBe(n);
    }
    expect(reg(cpu, 0)).toBe(BigInt((1 + 7 + 1000 + 12345 + 1) >> 1));
  });
  test("a store into code invalidates exactly the overwritten instruction", () => {
    const { cpu } = makeCpu(`
      mov ecx, 2
    l: mov eax, 1          ; patched to mov eax, 2 on the first pass
      mov byte [rel l+1], 2
      add ebx, eax
      dec ecx
      jnz l
      hlt`);
    cpu.run(100);
    expect(cpu.getLo(3)).toBe(1 + 2);
  });
});
