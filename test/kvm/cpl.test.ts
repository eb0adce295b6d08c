import { describe, expect, it } from "vitest";
import { idtGate, runGuest } from "./harness.js";

// Ring 3 round trip: iretq to CPL 3, user code runs a known loop, a HLT at CPL 3 faults (#GP, not
// retired) back to ring 0. GP0 counts instructions at USR only, GP1 at OS only, GP2 both, FC0 USR only.
const PROGRAM = `
  jmp start
  align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
      dq idt
back:                      ; #GP handler (hlt at CPL 3): CPL 0 again
  add rsp, 48              ; drop the frame and error code
  jmp kernel
start:
${idtGate(13, "back")}
  lidt [idtr]
  mov ecx, 0x38f           ; GLOBAL_CTRL resets to the GP enable bits: clear it first
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0x186
  mov eax, 0x4100c0        ; EN | USR | instructions
  xor edx, edx
  wrmsr
  mov ecx, 0x187
  mov eax, 0x4200c0        ; EN | OS
  wrmsr
  mov ecx, 0x188
  mov eax, 0x4300c0        ; EN | OS | USR
  wrmsr
  mov ecx, 0x38d
  mov eax, 0x2             ; FC0 USR
  wrmsr
  mov ecx, 0x38f
  mov eax, 7
  mov edx, 1
  wrmsr                    ; OS: 1 (GP1, GP2)
  mov rbx, rsp             ; OS: 2
  push 0x23                ; OS: 3  SS
  push rbx                 ; OS: 4  RSP
  push 0x2                 ; OS: 5  RFLAGS
  push 0x1b                ; OS: 6  CS (RPL 3)
  lea rax, [rel user]      ; OS: 7
  push rax                 ; OS: 8
  iretq                    ; OS: 9 (retires at CPL 0)
user:
  mov ecx, 10              ; USR: 1
ul: dec ecx
  jnz ul                   ; USR: 21
  hlt                      ; #GP at CPL 3: not retired
kernel:
  mov ecx, 0x38f           ; OS: 10 (the add rsp/jmp in the handler: 12)
  xor eax, eax
  xor edx, edx             ; OS: 14 with the add/jmp and xor eax
  wrmsr
  mov ecx, 0xc1
  rdmsr
  mov r8d, eax
  mov ecx, 0xc2
  rdmsr
  mov r9d, eax
  mov ecx, 0xc3
  rdmsr
  mov r10d, eax
  mov ecx, 0x309
  rdmsr
  mov r11d, eax
  out 0xf4, al
`;

describe("USR/OS filtering across CPL changes (R-CNT-1/2)", () => {
  it("counts user and kernel instructions on the right counters", () => {
    const g = runGuest(PROGRAM);
    expect(g.exit).toMatchObject({ reason: "io", port: 0xf4 });
    expect(g.cpu.getLo(8)).toBe(21); // USR: mov + 20 loop (the faulting HLT does not retire)
    expect(g.cpu.getLo(11)).toBe(21); // FC0 USR
    // OS: wrmsr, mov, 5 push, lea, iretq (9), handler add+jmp (2), mov, xor, xor (3) = 14
    expect(g.cpu.getLo(9)).toBe(14);
    expect(g.cpu.getLo(10)).toBe(35);
  });
});

describe("RDPMC at CPL 3 (model.md §9.4, §9.3 step 4)", () => {
  const prog = (pce: boolean) => `
  jmp start
  align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
      dq idt
gp:                        ; #GP handler: record and finish in ring 0
  mov r12, 13
  add rsp, 48
  jmp done
start:
${idtGate(13, "gp")}
  lidt [idtr]
  mov ecx, 0x4c1
  mov eax, 0x1234
  xor edx, edx
  wrmsr
  ${pce ? "mov rax, cr4\n  or eax, 0x100\n  mov cr4, rax" : ""}
  mov rbx, rsp
  push 0x23
  push rbx
  push 0x2
  push 0x1b
  lea rax, [rel user]
  push rax
  iretq
user:
  xor ecx, ecx
  rdpmc
  mov r13d, eax
  hlt                      ; #GP at CPL 3 brings us back
done:
  out 0xf4, al
`;
  it("CR4.PCE = 0: the CPU raises #GP itself, no RDPMC exit", () => {
    const g = runGuest(prog(false));
    expect(g.cpu.getLo(12)).toBe(13);
    expect(g.cpu.getLo(13)).toBe(0);
    expect(g.vcpu.exits.filter((e) => e.reason === 15)).toEqual([]);
  });
  it("CR4.PCE = 1: RDPMC exits and KVM returns the counter", () => {
    const g = runGuest(prog(true));
    expect(g.cpu.getLo(13)).toBe(0x1234);
    expect(g.vcpu.exits.filter((e) => e.reason === 15).map((e) => [e.ecx, e.value, e.outcome])).toEqual([
      [0, 0x1234n, "ok"],
    ]);
  });
});
