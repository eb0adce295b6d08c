import { describe, expect, it } from "vitest";
import { idtGate, runGuest } from "./harness.js";

// A ring-0 guest with a 64-bit IDT: vector 0xF0 handler records the interrupted RIP in r15, counts PMIs in
// r14, reads GLOBAL_STATUS into r13, sends EOI and returns.
const PRELUDE = `
  jmp start
  align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
      dq idt
handler:
  mov r15, [rsp]          ; interrupted RIP
  inc r14
  push rax
  push rcx
  push rdx
  mov ecx, 0x38e
  rdmsr
  mov r13d, eax
  mov ecx, 0x80b
  xor eax, eax
  xor edx, edx
  wrmsr                   ; EOI
  pop rdx
  pop rcx
  pop rax
  iretq
start:
${idtGate(0xf0, "handler")}
  lidt [idtr]
  mov ecx, 0x80f
  mov eax, 0x1ff          ; SVR: APIC software enable
  xor edx, edx
  wrmsr
  mov ecx, 0x834
  mov eax, 0xf0           ; LVTPC: fixed, vector 0xF0, unmasked
  wrmsr
`;

describe("overflow and PMI (LEGACY)", () => {
  it("delivers the PMI at the exact instruction boundary after the wrap", () => {
    const g = runGuest(`${PRELUDE}
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr                   ; GLOBAL_CTRL = 0
  mov ecx, 0xc1
  mov eax, -10
  wrmsr                   ; PMC0 = 2^48 - 10 (sign-extended, R-WR-2)
  mov ecx, 0x186
  mov eax, 0x5300c0       ; EN|INT|OS|USR instructions
  wrmsr
  sti
  mov ecx, 0x38f
  mov eax, 1
  xor edx, edx
  wrmsr                   ; 1 (counted: the enabling WRMSR)
  nop                     ; 2
  nop                     ; 3
  nop                     ; 4
  nop                     ; 5
  nop                     ; 6
  nop                     ; 7
  nop                     ; 8
  nop                     ; 9
target:
  nop                     ; 10: wraps here; PMI before the next instruction
after:
  nop
  nop
  cli
  lea rax, [rel after]
  sub r15, rax            ; 0 if the PMI interrupted exactly at 'after'
  mov eax, r15d
  out 0xf4, al
`);
    expect(g.exit).toMatchObject({ reason: "io", port: 0xf4 });
    expect(g.cpu.getLo(15)).toBe(0);
    expect(g.cpu.getLo(14)).toBe(1);
    expect(g.cpu.getLo(13)).toBe(1); // GLOBAL_STATUS bit 0 seen in the handler
    expect(g.vcpu.lapic.lvtpc & 0x10000).toBe(0x10000); // auto-masked on delivery (Intel)
  });

  it("holds the PMI while IF = 0 and delivers it at STI's shadow end", () => {
    const g = runGuest(`${PRELUDE}
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0xc1
  mov eax, -3
  wrmsr
  mov ecx, 0x186
  mov eax, 0x5300c0
  wrmsr
  mov ecx, 0x38f
  mov eax, 1
  xor edx, edx
  wrmsr                   ; 1
  nop                     ; 2
  nop                     ; 3 wraps (IF = 0: held)
  nop
  nop
  sti
  nop                     ; STI shadow: PMI arrives after this one
after:
  nop
  cli
  lea rax, [rel after]
  sub r15, rax
  mov eax, r15d
  out 0xf4, al
`);
    expect(g.cpu.getLo(15)).toBe(0);
    expect(g.cpu.getLo(14)).toBe(1);
  });

  it("a masked LVTPC drops the second PMI until the guest unmasks it; status bit stays set", () => {
    const g = runGuest(`${PRELUDE}
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0x309
  mov eax, -2
  mov edx, 0xffff
  wrmsr                   ; FC0 = 2^48 - 2
  mov ecx, 0x38d
  mov eax, 0xb            ; FC0 OS|USR|PMI
  xor edx, edx
  wrmsr
  sti
  mov ecx, 0x38f
  xor eax, eax
  mov edx, 1
  wrmsr                   ; 1
  nop                     ; 2: FC0 wraps → PMI 1 (LVTPC now masked)
  mov ecx, 0x309
  mov eax, -2
  mov edx, 0xffff
  wrmsr                   ; emulated, counted: FC0 = 2^48-2 then +1
  nop                     ; wraps → no PMI (masked)
  nop
  cli
  mov eax, r14d
  out 0xf4, al
`);
    expect(g.cpu.getLo(14)).toBe(1);
    expect(g.vcpu.lapic.pmisMasked).toBe(1);
    expect(g.vcpu.pmu.globalStatus).toBe(1n << 32n);
  });

  it.each([
    ["FC1 core cycles", 0x30a, 0xb0, 1n << 33n, 1000, 1000],
    ["FC2 reference cycles (SPR: TSC/core = 1/2)", 0x30b, 0xb00, 1n << 34n, 1000, 2000],
  ])(
    "%s: a cycle-event PMI lands on the boundary after the wrapping instruction",
    (_n, msr, ctrl, en, preset, nops) => {
      // Reference cycles tick on absolute TSC edges (floor(cycles × 1/2)): a window that opens at an odd
      // cycle total reaches its 1000th tick one core cycle early. Record the total at the enabling WRMSR.
      let c0 = -1;
      const g = runGuest(
        `${PRELUDE}
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, ${msr}
  mov eax, -${preset}
  mov edx, 0xffff
  wrmsr
  mov ecx, 0x38d
  mov eax, ${ctrl}
  xor edx, edx
  wrmsr
  sti
  mov ecx, 0x38f
  xor eax, eax
  mov edx, ${Number(en >> 32n)}
  wrmsr                   ; exits: no guest cycles
  times ${nops} nop        ; one cycle each: the last one wraps the counter
after:
  nop
  nop
  cli
  lea rax, [rel after]
  sub r15, rax
  mov eax, r15d
  out 0xf4, al
`,
        { host: "spr" },
        (v) => {
          // Spy on the vendor's non-root WRMSR (what the guest CPU calls) to see when the guest enables counting.
          const wr = v.ops.wrmsr.bind(v.ops);
          v.ops.wrmsr = (cpu, len) => {
            if (cpu.getLo(1) === 0x38f && cpu.getLo(2) !== 0) c0 = cpu.events.cycles;
            return wr(cpu, len);
          };
        },
      );
      const wrapAfter = msr === 0x30b ? nops - (c0 % 2) : nops; // nop number whose cycle completes the window
      expect(c0).toBeGreaterThan(0);
      expect(g.cpu.getLo(15) | 0).toBe(wrapAfter - nops); // RIP delta from 'after' (1-byte nops)
      expect(g.cpu.getLo(14)).toBe(1);
    },
  );

  it("a 32-bit guest counter wraps at 2^32 (the counter width, not 48)", () => {
    const g = runGuest(
      `${PRELUDE}
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0xc1
  mov eax, -3
  wrmsr                   ; 0xfffffffd at 32 bits
  mov ecx, 0x186
  mov eax, 0x5300c0
  wrmsr
  sti
  mov ecx, 0x38f
  mov eax, 1
  xor edx, edx
  wrmsr                   ; 1
  nop                     ; 2
  nop                     ; 3: wraps to 0
after:
  nop
  cli
  lea rax, [rel after]
  sub r15, rax
  mov eax, r15d
  out 0xf4, al
`,
      { host: "spr" },
      (v) => {
        const eax = (2 | (8 << 8) | (32 << 16) | (8 << 24)) >>> 0;
        expect(
          v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax, ebx: 0, ecx: 0, edx: 3 | (48 << 5) })).ok,
        ).toBe(true);
      },
    );
    expect(g.cpu.getLo(15)).toBe(0);
    expect(g.cpu.getLo(14)).toBe(1);
    expect(g.cpu.getLo(13)).toBe(1); // GLOBAL_STATUS bit 0, read in the handler
    expect(g.vcpu.pmu.gp[0]!.counter).toBeLessThan(64); // it restarted from 0, not from 2^32
  });
});
