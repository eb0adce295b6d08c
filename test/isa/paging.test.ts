// Paging (src/isa/paging.ts, tlb.ts, control.ts): translations for each page size, accessed/dirty flags,
// every page-fault cause → error code and CR2, CR0.WP, XD with EFER.NXE, global pages across a CR3
// load, INVLPG, code near 2^64, self-modifying code through an alias, and the #GP checks of MOV to
// CR0/CR3/CR4 and WRMSR to EFER. Exact values throughout (SDM Vol. 3 §2.5, §4.5-4.10).
import { describe, expect, test } from "vitest";
import { type Cpu, StopReason } from "../../src/isa/cpu.js";
import { IDT_LIB, MEM, ORG, gate, makeCpu, reg } from "./harness.js";
import { A, D, G, GiB1, KiB4, MiB2, P, PS, RW, Tables, US, XD } from "./page-tables.js";

/** Run until something other than a ring change stops the CPU. */
function go(cpu: Cpu, n = 10000): StopReason {
  for (;;) {
    const s = cpu.run(n);
    if (s !== StopReason.ModeChange) return s;
  }
}

const CR3 = 0x800000;
const PF_HANDLER = `
pf: pop r8                ; error code
    mov r9, cr2
    hlt`;

/** Enable NXE / WP / PGE as asked, load CR3 = CR3 (the tables' root), then run `body` at CPL 0 (or at
 *  CPL 3 through an IRETQ, with RSP = user stack). #PF lands in r8 (error code) and r9 (CR2). */
function pagedProgram(body: string, o: { nxe?: boolean; wp?: boolean; pge?: boolean; user?: boolean } = {}): string {
  return `
  ${gate(14, "pf")}
  lidt [rel idtr]
  mov r8, -1
  mov r9, -1
  ${o.nxe ? "mov ecx, 0xc0000080\n  rdmsr\n  or eax, 0x800\n  wrmsr" : ""}
  ${o.wp ? "mov rax, cr0\n  or eax, 0x10000\n  mov cr0, rax" : ""}
  ${o.pge ? "mov rax, cr4\n  or eax, 0x80\n  mov cr4, rax" : ""}
  mov rax, ${CR3}
  mov cr3, rax
  ${
    o.user
      ? `push 0x1b
  push 0x600000
  push 2
  push 0x1b
  lea rax, [rel user]
  push rax
  iretq
user:`
      : ""
  }
  ${body}
  jmp $
  ${PF_HANDLER}
  ${IDT_LIB}`;
}

function paged(body: string, setup: (t: Tables) => void, o: Parameters<typeof pagedProgram>[1] = {}) {
  const { cpu } = makeCpu(pagedProgram(body, o));
  const t = new Tables(cpu, CR3).identity(MEM);
  setup(t);
  return { cpu, t };
}

describe("translation", () => {
  test.each([
    ["4 KiB", KiB4, 0xffff800000001234n, 0x00a00000n],
    ["2 MiB", MiB2, 0xffff800000234567n, 0x00c00000n],
    ["1 GiB", GiB1, 0x0000004000345678n, 0n],
  ])("%s page: the load reads the mapped frame; A set at every level, D only after a write", (_n, size, va, frame) => {
    const off = Number(va & (size === KiB4 ? 0xfffn : size === MiB2 ? 0x1fffffn : 0x3fffffffn));
    const { cpu, t } = paged(
      `mov rbx, ${va}
  mov rax, [rbx]
  hlt
  mov [rbx], rax
  hlt`,
      (tb) => tb.map(va, frame, size, P | RW),
    );
    new DataView(cpu.mem.buffer).setBigUint64(Number(frame) + off, 0x1122334455667788n, true);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect(reg(cpu, 0)).toBe(0x1122334455667788n);
    const levels = [4, 3, 2, 1].filter((l) => l >= size);
    const entries = levels.map((l) => t.get(t.entry(va, l)));
    expect(entries.map((e) => (e & A) !== 0n)).toEqual(levels.map(() => true));
    expect(entries[entries.length - 1] & D).toBe(0n);
    expect(entries[entries.length - 1] & ~(A | D)).toBe(frame | P | RW | (size > KiB4 ? PS : 0n));
    cpu.halted = false;
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect(t.get(t.entry(va, size)) & D).toBe(D);
    expect(cpu.tlb.walks).toBeGreaterThan(0);
  });

  test("code on the last 4 KiB page below 2^64: written through one mapping, called through another", () => {
    const { cpu } = paged(
      `mov rdi, 0xffff800000300000   ; a writable alias of the frame
  mov dword [rdi], 0x1234ba41    ; mov r10d, 0x1234
  mov word [rdi+4], 0x0000
  mov byte [rdi+6], 0xc3         ; ret
  mov rax, 0xfffffffffffff000
  call rax
  lea r11, [rel $]
  hlt`,
      (t) => {
        t.map(0xfffffffffffff000n, 0xa00000n, KiB4, P);
        t.map(0xffff800000300000n, 0xa00000n, KiB4, P | RW);
      },
    );
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect(reg(cpu, 10)).toBe(0x1234n);
    expect(reg(cpu, 9)).toBe(0xffffffffffffffffn); // no fault
  });
});

describe("page faults: error code and CR2", () => {
  const VA = 0x0000123456789000n;
  // [case, PTE flags (or a custom setup), access, options, error code]
  const cases: [string, (t: Tables) => void, string, Parameters<typeof pagedProgram>[1], number][] = [
    ["read, not present", (t) => t.map(VA, 0xa00000n, KiB4, 0n), "mov rax, [rbx]", {}, 0x0],
    ["write, not present", (t) => t.map(VA, 0xa00000n, KiB4, 0n), "mov [rbx], rax", {}, 0x2],
    ["not-present PDE", (t) => t.set(t.entry(VA, 2), 0n), "mov rax, [rbx]", {}, 0x0],
    ["write to read-only, WP = 1", (t) => t.map(VA, 0xa00000n, KiB4, P), "mov [rbx], rax", { wp: true }, 0x3],
    [
      "user read of a supervisor page",
      (t) => t.map(VA, 0xa00000n, KiB4, P | RW),
      "mov rax, [rbx]",
      { user: true },
      0x5,
    ],
    ["user write, not present", (t) => t.map(VA, 0xa00000n, KiB4, 0n), "mov [rbx], rax", { user: true }, 0x6],
    [
      "user write to a read-only page",
      (t) => t.map(VA, 0xa00000n, KiB4, P | US),
      "mov [rbx], rax",
      { user: true },
      0x7,
    ],
    [
      "user write, R/W = 0 in the PDE only",
      (t) => {
        t.map(VA, 0xa00000n, KiB4, P | RW | US);
        t.set(t.entry(VA, 2), t.get(t.entry(VA, 2)) & ~RW);
      },
      "mov [rbx], rax",
      { user: true },
      0x7,
    ],
    [
      "reserved bit 40 (MAXPHYADDR 36)",
      (t) => t.map(VA, 0xa00000n | (1n << 40n), KiB4, P | RW),
      "mov rax, [rbx]",
      {},
      0x9,
    ],
    ["XD with EFER.NXE = 0 is reserved", (t) => t.map(VA, 0xa00000n, KiB4, P | RW | XD), "mov rax, [rbx]", {}, 0x9],
    [
      "reserved bit in a 2 MiB PDE (bit 13)",
      (t) => t.map(VA, 0xa00000n | 0x2000n, MiB2, P | RW),
      "mov [rbx], rax",
      {},
      0xb,
    ],
    [
      "PS in a PML4E is reserved",
      (t) => {
        t.map(VA, 0xa00000n, KiB4, P | RW);
        t.set(t.entry(VA, 4), t.get(t.entry(VA, 4)) | PS);
      },
      "mov rax, [rbx]",
      {},
      0x9,
    ],
    ["fetch from an XD page (NXE = 1)", (t) => t.map(VA, 0xa00000n, KiB4, P | RW | XD), "jmp rbx", { nxe: true }, 0x11],
    ["fetch, not present (NXE = 1: I/D set)", (t) => t.map(VA, 0xa00000n, KiB4, 0n), "jmp rbx", { nxe: true }, 0x10],
    ["fetch, not present (NXE = 0: I/D clear)", (t) => t.map(VA, 0xa00000n, KiB4, 0n), "jmp rbx", {}, 0x0],
    [
      "user fetch of a supervisor page",
      (t) => t.map(VA, 0xa00000n, KiB4, P | RW),
      "jmp rbx",
      { user: true, nxe: true },
      0x15,
    ],
    ["a frame outside RAM reads as not present", (t) => t.map(VA, 0x7000000n, KiB4, P | RW), "mov rax, [rbx]", {}, 0x0],
  ];
  test.each(cases)("%s", (_n, setup, access, o, code) => {
    const { cpu } = paged(`mov rbx, ${VA + 0x10n}\n  ${access}`, setup, o);
    expect(go(cpu)).toBe(StopReason.Halted);
    expect(reg(cpu, 8)).toBe(BigInt(code));
    expect(reg(cpu, 9)).toBe(VA + 0x10n);
    expect(cpu.cr2Lo + cpu.cr2Hi * 2 ** 32).toBe(Number(VA + 0x10n));
  });

  test("CR0.WP = 0: a supervisor write to a read-only page succeeds and sets D", () => {
    const { cpu, t } = paged(`mov rbx, ${VA}\n  mov qword [rbx], 77\n  hlt`, (tb) => tb.map(VA, 0xa00000n, KiB4, P));
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect(reg(cpu, 8)).toBe(0xffffffffffffffffn);
    expect(new DataView(cpu.mem.buffer).getBigUint64(0xa00000, true)).toBe(77n);
    expect(t.get(t.entry(VA, 1))).toBe(0xa00000n | P | A | D);
  });

  test("an access split across two pages faults on the second page's address; nothing is written", () => {
    const { cpu } = paged(
      `mov rbx, ${VA + 0xffcn}\n  mov qword [rbx], -1`,
      (t) => {
        t.map(VA, 0xa00000n, KiB4, P | RW);
        t.map(VA + 0x1000n, 0xb00000n, KiB4, P);
      },
      { wp: true },
    );
    expect(go(cpu)).toBe(StopReason.Halted);
    expect([reg(cpu, 8), reg(cpu, 9)]).toEqual([0x3n, VA + 0x1000n]);
    expect(new DataView(cpu.mem.buffer).getUint32(0xa00ffc, true)).toBe(0);
  });

  test("an access split across two non-contiguous frames reads and writes both", () => {
    const { cpu } = paged(`mov rbx, ${VA + 0xffcn}\n  mov rax, 0x1122334455667788\n  xchg [rbx], rax\n  hlt`, (t) => {
      t.map(VA, 0xa00000n, KiB4, P | RW);
      t.map(VA + 0x1000n, 0xc00000n, KiB4, P | RW);
    });
    const dv = new DataView(cpu.mem.buffer);
    dv.setUint32(0xa00ffc, 0xaabbccdd, true);
    dv.setUint32(0xc00000, 0x01020304, true);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect(reg(cpu, 0)).toBe(0x01020304aabbccddn);
    expect([dv.getUint32(0xa00ffc, true), dv.getUint32(0xc00000, true)]).toEqual([0x55667788, 0x11223344]);
  });
});

describe("the TLB", () => {
  const VA = 0x7f0000000000n;
  /** Tables mapping VA with a page of `size`, `flags`; then a program reading VA, repointing the entry at
   *  frame 0xc00000 in memory, reading again, running `reload`, and reading a third time. */
  function tlbRun(size: number, flags: bigint, reload: string, pge: boolean) {
    const scratchCpu = makeCpu("hlt").cpu;
    const scratch = new Tables(scratchCpu, CR3).identity(MEM);
    const e = scratch.map(VA, 0xa00000n, size, flags);
    const { cpu } = makeCpu(
      pagedProgram(
        `mov rbx, ${VA}
  mov rax, [rbx]               ; fills the TLB
  mov rdx, ${e}
  mov rcx, ${BigInt(0xc00000) | P | RW | (size > KiB4 ? PS : 0n)}
  mov [rdx], rcx               ; the entry now maps another frame (no INVLPG yet)
  mov r10, [rbx]               ; still the old frame
  ${reload}
  mov r11, [rbx]
  hlt`,
        { pge },
      ),
    );
    cpu.mem.set(scratchCpu.mem.subarray(CR3, CR3 + 0x10000), CR3);
    const dv = new DataView(cpu.mem.buffer);
    dv.setBigUint64(0xa00000, 111n, true);
    dv.setBigUint64(0xc00000, 222n, true);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    return [reg(cpu, 0), reg(cpu, 10), reg(cpu, 11)];
  }
  test("a stale entry is used until INVLPG", () => {
    expect(tlbRun(KiB4, P | RW, "invlpg [rbx]", false)).toEqual([111n, 111n, 222n]);
  });
  test("INVLPG of another address in the same 2 MiB page drops the large page's entries", () => {
    expect(tlbRun(MiB2, P | RW, `mov rcx, ${VA + 0x1ff000n}\n  invlpg [rcx]`, false)).toEqual([111n, 111n, 222n]);
  });
  test("INVLPG of the next 4 KiB page keeps a 4 KiB entry", () => {
    expect(tlbRun(KiB4, P | RW, `mov rcx, ${VA + 0x1000n}\n  invlpg [rcx]`, false)).toEqual([111n, 111n, 111n]);
  });
  test("a CR3 load drops a non-global entry", () => {
    expect(tlbRun(KiB4, P | RW, "mov rcx, cr3\n  mov cr3, rcx", true)).toEqual([111n, 111n, 222n]);
  });
  test("a global entry (CR4.PGE = 1) survives a CR3 load, and INVLPG drops it", () => {
    expect(tlbRun(KiB4, P | RW | G, "mov rcx, cr3\n  mov cr3, rcx", true)).toEqual([111n, 111n, 111n]);
    expect(tlbRun(KiB4, P | RW | G, "mov rcx, cr3\n  mov cr3, rcx\n  invlpg [rbx]", true)).toEqual([111n, 111n, 222n]);
  });
  test("G without CR4.PGE is not global", () => {
    expect(tlbRun(KiB4, P | RW | G, "mov rcx, cr3\n  mov cr3, rcx", false)).toEqual([111n, 111n, 222n]);
  });
  test("clearing CR4.PGE flushes global entries too", () => {
    expect(tlbRun(KiB4, P | RW | G, "mov rcx, cr4\n  and ecx, ~0x80\n  mov cr4, rcx", true)).toEqual([
      111n,
      111n,
      222n,
    ]);
  });
});

describe("self-modifying code through an alias", () => {
  const src = `jmp start
  times 0x3000 - ($ - $$) db 0
code:
  xor edx, edx
loop_:
patch: add edx, strict dword 1
  cmp ecx, 100
  jne .same
  mov dword [rdi], 5      ; from now on, add 5
.same:
  dec ecx
  jnz loop_
  hlt
start:
  mov rdi, 0xffff800000300000 + (patch - code) + 2   ; the imm32 of 'patch', through the writable alias
  mov ecx, 200
  mov rax, 0x400000000000
  jmp rax`;
  test.each([true, false])("jit %s: the store through the alias is seen by the code it overwrote", (jit) => {
    const { cpu, t } = paged(src, () => {});
    cpu.jitEnabled = jit;
    const code = ORG + 0x3000;
    expect(cpu.mem[code]).toBe(0x31); // xor edx, edx
    t.map(0x400000000000n, BigInt(code), KiB4, P);
    t.map(0xffff800000300000n, BigInt(code), KiB4, P | RW);
    expect(cpu.run(100000)).toBe(StopReason.Halted);
    expect(reg(cpu, 2)).toBe(101n + 5n * 99n); // ecx 200..100 add 1, 99..1 add 5
  });
});

describe("CR0, CR3, CR4 and EFER", () => {
  const gp = (body: string) => {
    const { cpu } = makeCpu(`${gate(13, "gp")}
  lidt [rel idtr]
  mov r8, -1
  ${body}
  hlt
gp: pop r8
  hlt
  ${IDT_LIB}`);
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    return { cpu, gp: reg(cpu, 8) === 0n };
  };
  test.each([
    ["clearing CR0.PG in 64-bit mode", "mov rax, cr0\n  and eax, 0x7fffffff\n  mov cr0, rax", true],
    ["clearing CR0.PE", "mov rax, cr0\n  and eax, ~1\n  mov cr0, rax", true],
    ["CR0 bit 32", "mov rax, cr0\n  mov rdx, 1 << 32\n  or rax, rdx\n  mov cr0, rax", true],
    ["CR0.NW without CD", "mov rax, cr0\n  or eax, 1 << 29\n  mov cr0, rax", true],
    ["CR0.WP and CD|NW", "mov rax, cr0\n  or eax, 0x60010000\n  mov cr0, rax", false],
    ["clearing CR4.PAE with EFER.LME and CR0.PG", "mov rax, cr4\n  and eax, ~0x20\n  mov cr4, rax", true],
    ["CR4.PCIDE (not modelled)", "mov rax, cr4\n  or eax, 1 << 17\n  mov cr4, rax", true],
    ["CR4.SMEP (not modelled)", "mov rax, cr4\n  or eax, 1 << 20\n  mov cr4, rax", true],
    ["CR4.LA57 (reserved)", "mov rax, cr4\n  or eax, 1 << 12\n  mov cr4, rax", true],
    ["CR4.PGE and PSE", "mov rax, cr4\n  or eax, 0x90\n  mov cr4, rax", false],
    ["CR3 bit 36 (MAXPHYADDR)", "mov rax, 1 << 36\n  mov cr3, rax", true],
    ["EFER.LME cleared while CR0.PG = 1", "mov ecx, 0xc0000080\n  xor edx, edx\n  mov eax, 0x400\n  wrmsr", true],
    ["EFER bit 1 (reserved)", "mov ecx, 0xc0000080\n  xor edx, edx\n  mov eax, 0x502\n  wrmsr", true],
    ["EFER bit 32 (reserved)", "mov ecx, 0xc0000080\n  mov edx, 1\n  mov eax, 0x500\n  wrmsr", true],
    [
      "EFER.NXE and SCE; LMA written 0 is ignored",
      "mov ecx, 0xc0000080\n  xor edx, edx\n  mov eax, 0x901\n  wrmsr",
      false,
    ],
  ])("%s: #GP(0) %s", (_n, body, fault) => {
    const { cpu, gp: faulted } = gp(body);
    expect(faulted).toBe(fault);
    if (_n.startsWith("EFER.NXE")) expect(cpu.efer).toBe(0xd01);
    if (_n.startsWith("CR0.WP")) expect(cpu.cr0 >>> 0).toBe(0xe0010031);
  });
  test("the start state: CR0 0x80000031, CR4 PAE, EFER LME|LMA (rdmsr), no translation until CR3 is loaded", () => {
    const { cpu } = makeCpu(`mov ecx, 0xc0000080\n  rdmsr\n  mov rbx, cr0\n  mov rsi, cr4\n  mov rdi, cr3\n  hlt`);
    expect(cpu.run(100)).toBe(StopReason.Halted);
    expect([reg(cpu, 0), reg(cpu, 2), reg(cpu, 3), reg(cpu, 6), reg(cpu, 7)]).toEqual([
      0x500n,
      0n,
      0x80000031n,
      0x20n,
      0n,
    ]);
    expect(cpu.paging).toBe(false);
  });
  test("entering IA-32e mode from CR0.PG = 0: PAE, CR3, EFER.LME, then PG sets EFER.LMA and paging", () => {
    const { cpu } = makeCpu(`${gate(13, "gp")}
  lidt [rel idtr]
  xor r9, r9
  mov rax, cr0
  or eax, 0x80000000
  mov cr0, rax               ; EFER.LME = 0: 32-bit paging is not modelled → #GP
  mov ecx, 0xc0000080
  xor edx, edx
  mov eax, 0x100
  wrmsr                      ; LME
  mov rax, cr0
  or eax, 0x80000000
  mov cr0, rax               ; CR4.PAE = 0 → #GP
  mov rax, cr4
  or eax, 0x20
  mov cr4, rax
  mov rax, ${CR3}
  mov cr3, rax               ; CR0.PG = 0: stored, not used
  mov rbx, 0x7f0000000000
  mov rax, cr0
  or eax, 0x80000000
  mov cr0, rax
  mov ecx, 0xc0000080
  rdmsr
  mov rsi, [rbx]             ; through the tables
  hlt
gp: pop r8
  inc r9
  add qword [rsp], 3         ; skip the 3-byte mov cr0, rax
  iretq
  ${IDT_LIB}`);
    const t = new Tables(cpu, CR3).identity(MEM);
    t.map(0x7f0000000000n, 0xa00000n, KiB4, P | RW);
    new DataView(cpu.mem.buffer).setBigUint64(0xa00000, 0xabcdn, true);
    // The state a 32-bit entry leaves behind: CR0.PE (and ET) only, CR4 = 0, EFER = 0.
    cpu.cr0 = 0x11;
    cpu.cr4 = 0;
    cpu.efer = 0;
    expect(cpu.run(1000)).toBe(StopReason.Halted);
    expect([reg(cpu, 9), reg(cpu, 0), reg(cpu, 6)]).toEqual([2n, 0x500n, 0xabcdn]);
    expect([cpu.paging, cpu.cr0 >>> 0, cpu.cr4]).toEqual([true, 0x80000011, 0x20]);
  });
});
