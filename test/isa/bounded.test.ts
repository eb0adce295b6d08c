// Bounded resources in the CPU (issue 15 item 9): a fetch from unwritten memory stops the run with its own
// stop reason and report, and the decoded-instruction cache (with the blocks compiled from it) stays
// within MAX_DECODED instructions whatever code the guest runs, with the same results as without the bound.
import { describe, expect, test } from "vitest";
import { MAX_DECODED, type Cpu } from "../../src/isa/cpu.js";
import { EXIT_UNWRITTEN, Guest, runGuest, type RunResult } from "../../src/vmm/guest.js";
import { prog } from "./nasm.js";

const ORG = 0x100000;
const UNWRITTEN = (at: string, n: number) =>
  `executed unwritten memory at ${at} after ${n} instructions: nothing was loaded to or written in its 4 KiB page (did the program run off its end, or jump to an address never set?)`;

function run(image: Uint8Array, jit: boolean, memSize = 16 << 20): { r: RunResult; cpu: Cpu } {
  const g = Guest.create(image, ORG, { jit, memSize, maxInsns: 1e8 });
  if ("error" in g) throw new Error(g.error);
  for (;;) {
    const r = g.runChunk(1 << 20);
    if (r) return { r, cpu: g.cpu };
  }
}

const cachedInsns = (cpu: Cpu): number =>
  cpu.icache.reduce((n, page) => n + (page === null ? 0 : page.filter((i) => i !== null).length), 0);

describe("a fetch from unwritten memory", () => {
  for (const jit of [true, false]) {
    test(`a program that falls off its end runs the rest of its page, then stops (jit ${jit})`, () => {
      const { r } = run(prog("mov eax, 1"), jit);
      // mov (5 bytes), 2045 `00 00` in the image's page, one more crossing into the next page at 0x100fff.
      expect([r.stop, r.status, r.report, r.events.instructions]).toEqual([
        "unwritten",
        EXIT_UNWRITTEN,
        UNWRITTEN("0x101001", 2047),
        2047,
      ]);
    });
  }

  test("an empty image stops before its first instruction", () => {
    const r = runGuest(new Uint8Array(0), ORG);
    expect(r).toMatchObject({ stop: "unwritten", status: 105, report: UNWRITTEN("0x100000", 0) });
  });

  test("a jump to an address never set stops there; code the guest wrote runs", () => {
    expect(runGuest(prog("mov rax, 0x345678\njmp rax"), ORG)).toMatchObject({
      stop: "unwritten",
      report: UNWRITTEN("0x345678", 2),
    });
    // The guest writes `mov al, 9; out 0xf4, al` at 0x300000 (a page nothing was loaded into) and runs it.
    const r = runGuest(prog("mov rbx, 0x300000\nmov dword [rbx], 0xe609b0\nmov byte [rbx+3], 0xf4\njmp rbx"), ORG);
    expect(r).toMatchObject({ stop: "exit", status: 9 });
  });

  test("a page that held code and was zeroed again counts as unwritten", () => {
    const r = runGuest(
      prog("mov rbx, 0x300000\nmov dword [rbx], 0xc3\ncall rbx\nmov dword [rbx], 0\ncall rbx\nhlt"),
      ORG,
    );
    expect(r).toMatchObject({ stop: "unwritten", report: UNWRITTEN("0x300000", 6) });
  });

  test("a push loop that overwrites its own code runs into the next page and stops", () => {
    const { r } = run(prog("mov rsp, 0x100040\nl: push rax\njmp l"), true);
    expect([r.stop, r.report]).toEqual(["unwritten", UNWRITTEN("0x101000", 2061)]);
  });
});

describe("the decoded-instruction cache is bounded", () => {
  // Writes 2^17 + 2^16 one-byte `nop`s from 0x200000, then `out 0xf4, al` (status 7), and runs them twice:
  // three times MAX_DECODED distinct instructions.
  const N = 3 * MAX_DECODED;
  // With paging on too: an identity map of the first GiB in one 1 GiB page (PML4 at 0x1000, PDPT at 0x2000).
  const PAGING = `mov qword [0x1000], 0x2003
mov qword [0x2000], 0x83
mov rax, 0x1000
mov cr3, rax
`;
  const sledOf = (pre: string) =>
    prog(`${pre}mov rdi, 0x200000
mov rcx, ${N / 8}
mov rax, 0x9090909090909090
fill: mov [rdi], rax
add rdi, 8
dec rcx
jnz fill
mov word [rdi], 0xc3
mov rbx, 0x200000
call rbx
mov word [rdi], 0xf4e6
mov eax, 7
jmp rbx`);

  for (const [jit, paging] of [
    [true, false],
    [false, false],
    [true, true],
  ] as const) {
    test(`${N} distinct instructions run twice: at most MAX_DECODED cached, same result (jit ${jit}, paging ${paging})`, () => {
      const { r, cpu } = run(sledOf(paging ? PAGING : ""), jit);
      expect(cpu.paging).toBe(paging);
      expect([r.stop, r.status, r.events.instructions]).toEqual([
        "exit",
        7,
        (paging ? 4 : 0) + 10 + (N / 8) * 4 + 2 * N,
      ]);
      const cached = cachedInsns(cpu);
      expect(cached).toBeLessThanOrEqual(MAX_DECODED);
      expect(cached).toBeGreaterThan(MAX_DECODED / 2);
      // Compiled blocks live only in pages whose decoded instructions are cached.
      cpu.bcache.forEach((bp, pi) => {
        if (bp?.some((b) => b !== null)) expect(cpu.icache[pi]).not.toBeNull();
      });
    });
  }
});
