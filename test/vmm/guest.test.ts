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
      Array.from({ length: 16 }, (_, r) => (r === 4 ? [16 * 1024 * 1024, 0] : [0, 0])));
  });
  test("console on 0xE9 and exit status on 0xF4", () => {
    const r = runGuest(prog(`
      mov rsi, msg
    l: mov al, [rsi]
      test al, al
      jz done
      out 0xe9, al
      inc rsi
      jmp l
    done: mov eax, 0x1234   ; only the low byte is the status
      out 0xf4, eax
    msg: db "hi!", 10, 0`), ORG);
    expect(r).toMatchObject({ console: "hi!\n", status: 0x34, stop: "exit" });
  });
  test("hlt with IF=0 ends the run: status 0", () => {
    expect(runGuest(prog("nop\nhlt"), ORG)).toMatchObject({ status: 0, stop: "halted", report: "guest halted at rip=0x100002 after 1 instructions" });
  });
  test("instruction limit: distinct status and report", () => {
    const r = runGuest(prog("l: jmp l"), ORG, { maxInsns: 1000 });
    expect(r).toMatchObject({ status: EXIT_INSN_LIMIT, stop: "insn-limit", report: "instruction limit of 1000 reached at rip=0x100000" });
    expect("events" in r && r.events.instructions).toBe(1000);
  });
  test("#UD with no IDT: triple fault report names the bytes; status 102", () => {
    const r = runGuest(prog("nop\ndb 0x0f, 0xff"), ORG);
    expect(r).toMatchObject({
      status: EXIT_UD, stop: "ud",
      report: "triple fault at rip=0x100001: #UD at rip=0x100001 (bytes 0f ff), then #GP(0x33) at rip=0x100001, then #DF(0x0) at rip=0x100001, then #GP(0x43) at rip=0x100001",
    });
  });
  test("other triple faults: status 100", () => {
    const r = runGuest(prog("xor ecx, ecx\ndiv ecx"), ORG);
    expect(r).toMatchObject({ status: EXIT_TRIPLE_FAULT, stop: "triple-fault" });
  });
  test("load errors are values", () => {
    expect(runGuest(new Uint8Array(10), 16 * 1024 * 1024 - 4)).toEqual({ error: "image of 10 bytes at 0xfffffc does not fit in 16777216 bytes of guest memory" });
    expect(runGuest(new Uint8Array(1), 0, { memSize: 1000 })).toEqual({ error: "guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got 1000)" });
  });
  test("--mem: RSP starts at the top of the configured RAM", () => {
    const r = runGuest(prog("mov rax, rsp\nshr rax, 16\nout 0xf4, al"), ORG, { memSize: 2 * 1024 * 1024 });
    expect(r).toMatchObject({ status: 0x20, stop: "exit" });
  });
});
