// The guest ABI (docs/guest-abi.md): load address, initial state, console, exit port, halt, limits.
import { describe, expect, test } from "vitest";
import { EXIT_INSN_LIMIT, EXIT_TRIPLE_FAULT, EXIT_UD, Guest, runGuest } from "../../src/vmm/guest.js";
import { prog } from "../isa/nasm.js";

const ORG = 0x100000;

describe("guest ABI", () => {
  test("initial state: 64-bit, CPL 0, RFLAGS 0x2, GPRs 0, RSP = top of RAM, IDTR limit 0", () => {
    const g = Guest.create(prog("hlt"), ORG);
    if ("error" in g) throw new Error(g.error);
    const c = g.cpu;
    expect([c.rip, c.cpl, c.rflags, c.idtLimit, c.cr4 & 0x100]).toEqual([ORG, 0, 2, 0, 0]);
    expect(Array.from({ length: 16 }, (_, r) => [c.getLo(r), c.getHi(r)])).toEqual(
      Array.from({ length: 16 }, (_, r) => (r === 4 ? [16 * 1024 * 1024, 0] : [0, 0])),
    );
  });
  test("console on 0xE9 and exit status on 0xF4", () => {
    const r = runGuest(
      prog(`
      mov rsi, msg
    l: mov al, [rsi]
      test al, al
      jz done
      out 0xe9, al
      inc rsi
      jmp l
    done: mov eax, 0x1234   ; only the low byte is the status
      out 0xf4, eax
    msg: db "hi!", 10, 0`),
      ORG,
    );
    expect(r).toMatchObject({ console: "hi!\n", status: 0x34, stop: "exit" });
  });
  test("hlt with IF=0 ends the run: status 0", () => {
    expect(runGuest(prog("nop\nhlt"), ORG)).toMatchObject({
      status: 0,
      stop: "halted",
      report: "guest halted at rip=0x100002 after 1 instructions",
    });
  });
  test("instruction limit: distinct status and report", () => {
    const r = runGuest(prog("l: jmp l"), ORG, { maxInsns: 1000 });
    expect(r).toMatchObject({
      status: EXIT_INSN_LIMIT,
      stop: "insn-limit",
      report: "instruction limit of 1000 reached at rip=0x100000",
    });
    expect("events" in r && r.events.instructions).toBe(1000);
  });
  test("#UD with no IDT: triple fault report names the bytes; status 102", () => {
    const r = runGuest(prog("nop\ndb 0x0f, 0xff"), ORG);
    expect(r).toMatchObject({
      status: EXIT_UD,
      stop: "ud",
      report:
        "triple fault at rip=0x100001: #UD at rip=0x100001 (bytes 0f ff), then #GP(0x33) at rip=0x100001, then #DF(0x0) at rip=0x100001, then #GP(0x43) at rip=0x100001",
    });
  });
  test("#PF reports carry CR2, the faulting linear address (issue 15 item 14)", () => {
    const r = runGuest(prog("mov rbx, 0x7fffffff0\nmov rax, [rbx]"), ORG);
    expect(r).toMatchObject({
      status: EXIT_TRIPLE_FAULT,
      report:
        "triple fault at rip=0x10000a: #PF(0x0) at rip=0x10000a cr2=0x7fffffff0, then #DF(0x0) at rip=0x10000a, then #GP(0x43) at rip=0x10000a",
    });
  });
  test("other triple faults: status 100", () => {
    const r = runGuest(prog("xor ecx, ecx\ndiv ecx"), ORG);
    expect(r).toMatchObject({ status: EXIT_TRIPLE_FAULT, stop: "triple-fault" });
  });
  test("bare platform: CPUID table, TSC MSR and TSC_AUX, no PMU (RDPMC #GP)", () => {
    const img = prog(`
      xor eax, eax
      cpuid
      cmp ebx, 0x756e6547       ; "Genu"
      jne bad
      mov eax, 0x40000000       ; above the maximum basic leaf: leaf 0xA's data (all 0)
      cpuid
      or eax, ebx
      jnz bad
      mov eax, 0xa
      cpuid                     ; no architectural PMU
      test eax, eax
      jnz bad
      mov ecx, 0xc0000103
      mov eax, 0x55
      xor edx, edx
      wrmsr
      rdtscp                    ; ECX = TSC_AUX
      cmp ecx, 0x55
      jne bad
      mov ecx, 0x10
      rdmsr                     ; IA32_TSC = cycles so far
      mov r8, rax
      xor ecx, ecx
      rdpmc                     ; #GP: no IDT → triple fault
    bad: mov al, 1
      out 0xf4, al`);
    const r = runGuest(img, ORG);
    expect(r).toMatchObject({ stop: "triple-fault", status: EXIT_TRIPLE_FAULT });
    // Every check passed (no exit through `bad`); the #GP is the RDPMC's (bytes 0f 33 at 0x100044).
    expect("report" in r && r.report).toBe(
      "triple fault at rip=0x100044: #GP(0x0) at rip=0x100044, then #DF(0x0) at rip=0x100044, then #GP(0x43) at rip=0x100044",
    );
    const g = Guest.create(img, ORG);
    if ("error" in g) throw new Error(g.error);
    expect([g.cpu.mem[0x100044], g.cpu.mem[0x100045]]).toEqual([0x0f, 0x33]);
  });
  test("load errors are values", () => {
    expect(runGuest(new Uint8Array(10), 16 * 1024 * 1024 - 4)).toEqual({
      error: "image of 10 bytes at 0xfffffc does not fit in 16777216 bytes of guest memory",
    });
    expect(runGuest(new Uint8Array(1), 0, { memSize: 1000 })).toEqual({
      error: "guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got 1000)",
    });
  });
  test("--mem: RSP starts at the top of the configured RAM", () => {
    const r = runGuest(prog("mov rax, rsp\nshr rax, 16\nout 0xf4, al"), ORG, { memSize: 2 * 1024 * 1024 });
    expect(r).toMatchObject({ status: 0x20, stop: "exit" });
  });
});
