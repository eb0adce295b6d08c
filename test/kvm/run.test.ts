import { describe, expect, it } from "vitest";
import { idtGate, makeGuest, ORG, runGuest } from "./harness.js";

describe("KVM_RUN exits to userspace", () => {
  it("HLT with IF = 0 returns hlt; KVM counted the HLT it emulated", () => {
    const g = runGuest("mov ecx, 0x38f\nxor eax, eax\nxor edx, edx\nwrmsr\nhlt");
    expect(g.exit).toEqual({ reason: "hlt" });
    expect(g.vcpu.exits.map((e) => [e.reason, e.name, e.rip - ORG, e.length, e.outcome])).toEqual([
      [32, "MSR_WRITE", 9, 2, "ok"],
      [12, "HLT", 11, 1, "halt"],
    ]);
  });
  it("the instruction limit stops after exactly that many retired instructions", () => {
    const g = makeGuest("l: inc eax\njmp l");
    expect(g.vcpu.run({ maxInstructions: 1001 })).toEqual({ reason: "limit" });
    expect(g.cpu.events.instructions).toBe(1001);
    expect(g.cpu.getLo(0)).toBe(501);
    expect(g.vcpu.run({ maxInstructions: 10 })).toEqual({ reason: "limit" });
    expect(g.cpu.events.instructions).toBe(1011);
  });
  it("a triple fault is a shutdown", () => {
    const g = runGuest("ud2");
    expect(g.exit).toEqual({ reason: "shutdown", detail: "triple fault" });
  });
  it("OUT to the exit port ends KVM_RUN with the port and value", () => {
    const g = runGuest("mov al, 42\nout 0xf4, al");
    expect(g.exit).toEqual({ reason: "io", port: 0xf4, value: 42 });
  });
});

describe("the LEGACY exit log, exactly", () => {
  it("every PMU access exits with its reason, RIP, length, index and value; #GP and PRED_CMD pass-through", () => {
    const g = runGuest(`
  jmp start               ; +0 (2 bytes)
  align 16
idt: times 14*16 db 0     ; +16
idtr: dw 14*16-1
      dq idt
gp:                       ; #GP handler: skip the 2-byte faulting instruction
  add rsp, 8
  add qword [rsp], 2
  iretq
start:
${idtGate(13, "gp")}
  lidt [rel idtr]
m0: mov ecx, 0xc1
  mov eax, 7
  xor edx, edx
w0: wrmsr                 ; exit 32
r0: rdmsr                 ; exit 31: 7 (GP0's selector is not enabled)
  xor ecx, ecx
p0: rdpmc                 ; exit 15
  mov ecx, 0x391
r1: rdmsr                 ; exit 31, #GP (GLOBAL_STATUS_SET is not valid)
  mov ecx, 0x49
  mov eax, 1
  xor edx, edx
  wrmsr                   ; IBPB: passed through, no exit
  mov eax, 0xa
c0: cpuid                 ; exit 10
o0: out 0xf4, al          ; exit 30
`);
    const log = g.vcpu.exits.map((e) => [
      e.reason,
      e.name,
      e.length,
      e.msr ?? e.ecx ?? e.port ?? null,
      e.value ?? null,
      e.outcome,
    ]);
    expect(log).toEqual([
      [32, "MSR_WRITE", 2, 0xc1, 7n, "ok"],
      [31, "MSR_READ", 2, 0xc1, 7n, "ok"],
      [15, "RDPMC", 2, 0, 7n, "ok"],
      [31, "MSR_READ", 2, 0x391, null, "#GP"],
      [10, "CPUID", 2, 0x49, null, "ok"], // ECX (sub-leaf) still holds 0x49
      [30, "IO_INSTRUCTION", 2, 0xf4, 2n, "userspace"], // AL = CPUID.0AH:EAX[7:0] = version 2
    ]);
    // Consecutive exits are where the program has them: wrmsr at w0, rdmsr right after it.
    const rips = g.vcpu.exits.map((e) => e.rip);
    expect(rips[1]! - rips[0]!).toBe(2);
    expect(rips[2]! - rips[1]!).toBe(4); // xor ecx, ecx in between
  });
});
