// The block compiler (src/isa/jit.ts) against the plain interpreter: random programs built from the
// assembler corpus run both ways must end in identical registers, flags, memory effects, RIP, stop reason
// and micro-architectural events.
import { expect, test } from "vitest";
import fc from "fast-check";
import { assemble } from "../../src/asm/assemble.js";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { PlatformAction, type PlatformCpu } from "../../src/isa/platform.js";
import { GuestIo } from "../../src/vmm/io.js";
import { generateCorpus } from "../asm/corpus.js";
import { idtGate } from "../kvm/harness.js";
import { KiB4, P, RW, Tables } from "./page-tables.js";

const ORG = 0x100000,
  MEM = 4 << 20;

/** Page tables (at 0x380000) that swap every pair of 4 KiB pages: linear page n is physical page n ^ 1. */
const SWAP_TABLES = 0x380000;
function pageSwapped(cpu: Cpu): void {
  const t = new Tables(cpu, SWAP_TABLES);
  for (let a = 0; a < MEM; a += 4096) t.map(BigInt(a), BigInt(a ^ 0x1000), KiB4, P | RW);
  cpu.cr3Lo = t.root;
  cpu.setPaging(true);
}

function state(cpu: Cpu, stop: StopReason) {
  return {
    tables: cpu.paging ? Array.from(cpu.mem.subarray(SWAP_TABLES, SWAP_TABLES + 0x5000)) : [],
    stop,
    rip: cpu.rip,
    rflags: cpu.rflags,
    regs: Array.from(cpu.regs),
    events: { ...cpu.events },
    tf: cpu.tripleFault,
    data: Array.from(cpu.mem.subarray(0x200000 - 0x800, 0x200000 + 0x1800)),
  };
}

function runBoth(bytes: Uint8Array, budgetSteps: number[], paged = false) {
  const out = [true, false].map((jit) => {
    const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
    cpu.jitEnabled = jit;
    if (paged) {
      pageSwapped(cpu);
      bytes.forEach((b, i) => {
        cpu.mem[(ORG + i) ^ 0x1000] = b;
      });
    } else cpu.load(ORG, bytes);
    cpu.rip = ORG;
    cpu.set64(4, MEM, 0);
    let stop = StopReason.Budget;
    for (const b of budgetSteps) {
      stop = cpu.run(b);
      if (stop !== StopReason.Budget) break;
    }
    return state(cpu, stop);
  });
  return out;
}

// Forms the compiler handles (and the interpreter fallbacks around them), without stack or branches.
const FORMS = generateCorpus()
  .filter(
    (f) =>
      /^(lock |rep |repne )?(add|or|adc|sbb|and|sub|xor|cmp|test|mov|movzx|movsx|movsxd|lea|inc|dec|not|neg|shl|shr|sar|rol|ror|set\w+|cmov\w+|imul|nop|bt|bts|btr|btc|bsf|bsr|tzcnt|lzcnt|popcnt|bswap|xadd|cmpxchg|cmpxchg8b|cmpxchg16b|clc|stc|cmc|cld|std|lahf|sahf|endbr64|hint_nop\d+|prefetch\w+|(movs|cmps|stos|lods|scas)[bwdq])( |$)/.test(
        f,
      ) && !/\brsp\b|\besp\b|\bsp\b|\bspl\b|rel /.test(f),
  )
  .filter((f) => {
    const r = assemble(`bits 64\n${f}\n`);
    return r.ok && r.value.bytes.length > 0;
  });

// The loop counter in memory, or in R15 (a register-only final writer: its flags stay pending into the
// next pass, where a memory operand of the body may leave the block before they are made exact).
const R15_FREE = FORMS.filter((f) => !/\br15[dwb]?\b/.test(f));
test.each([
  [false, 250, "memory"],
  [true, 150, "memory"],
  [false, 250, "r15"],
  [true, 150, "r15"],
])(
  "random straight-line bodies in a loop: JIT and interpreter agree exactly (paging %s, %i runs, counter in %s)",
  (paged, runs, counter) => {
    expect(FORMS.length).toBeGreaterThan(300);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...(counter === "r15" ? R15_FREE : FORMS)), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 0x7ff }), { minLength: 15, maxLength: 15 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }),
        (body, offs, iters, budgets) => {
          // Registers point into a data area so most memory operands are valid; some run off it (faults).
          const init = "rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15"
            .split(" ")
            .map((r, i) => `mov ${r}, 0x${(0x200000 + offs[i] * 2).toString(16)}`)
            .join("\n");
          const loop =
            counter === "r15"
              ? `mov r15, ${iters}\nl:\n${body.join("\n")}\ndec r15\njnz l`
              : `mov qword [0x1ff000], ${iters}\nl:\n${body.join("\n")}\ndec qword [0x1ff000]\njnz l`;
          const src = `bits 64\norg 0x${ORG.toString(16)}\n${init}\n${loop}\nhlt\n`;
          const r = assemble(src);
          if (!r.ok) return;
          const [a, b] = runBoth(r.value.bytes, [...budgets, 100_000], paged);
          expect(a).toEqual(b);
        },
      ),
      { numRuns: runs || 250, seed: 2024 },
    );
  },
);

test("register-counted loops (deferred flags path): JIT and interpreter agree exactly", () => {
  const forms = FORMS.filter((f) => !/r15/.test(f) && !/\[/.test(f)); // register-only bodies: no early exits
  expect(forms.length).toBeGreaterThan(100);
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...forms), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 14, maxLength: 14 }),
      fc.integer({ min: 1, max: 60 }),
      fc.constantFrom(
        "dec r15\njnz l",
        "sub r15, 1\njnz l",
        "dec r15d\njns l",
        "cmp r15, 0\nlea r15, [r15-1]\njnz l",
        "test r15, r15\nlea r15, [r15-1]\njne l",
        // CMP/TEST as the deferred writer: its flags are dead in the block, its result decides the branch.
        // (results unlike the previous instruction's, which a missing CMP/TEST would leave in r, rh).
        "dec r15\ncmp r15, -1\njne l",
        "dec r15\ntest r15, 1\njnz l",
        "dec r15\ncmp r15d, 0\njg l",
      ),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 3 }),
      (body, vals, iters, tail, budgets) => {
        const init = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14"]
          .map((r, i) => `mov ${r}, 0x${vals[i].toString(16)}`)
          .join("\n");
        const r = assemble(
          `bits 64\norg 0x${ORG.toString(16)}\n${init}\nmov r15, ${iters}\nl:\n${body.join("\n")}\n${tail}\nhlt\n`,
        );
        if (!r.ok) return;
        const [a, b] = runBoth(r.value.bytes, [...budgets, 100_000]);
        expect(a).toEqual(b);
      },
    ),
    { numRuns: 250, seed: 5150 },
  );
});

test.each([
  [false, 300],
  [true, 100],
])("stack, calls and multiply/divide inside loops: JIT and interpreter agree exactly (paging %s)", (paged, numRuns) => {
  const ops = [
    "push rax",
    "push rbx",
    "pop rcx",
    "pop rdx",
    "push 5",
    "push -7",
    "push rsp",
    "pop rsp",
    "call f",
    "call g",
    "imul rcx, rdx",
    "imul rsi, rdi, 13",
    "mul rbx",
    "imul ecx",
    "div rcx",
    "idiv ebx",
    "mul byte [rbx]",
    "div word [rsi+2]",
    "mov rax, [rsp]",
    "add qword [rsp+8], 1",
    "lea rsp, [rsp-16]",
    "lea rsp, [rsp+16]",
    "inc rdi",
    "xor edx, edx",
  ];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...ops), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 7, maxLength: 7 }),
      fc.integer({ min: 1, max: 30 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 3 }),
      (body, vals, iters, budgets) => {
        const init = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8"]
          .map(
            (r, i) =>
              `mov ${r}, 0x${(r === "rbx" || r === "rsi" ? 0x200000 + (vals[i] & 0x7ff) : vals[i]).toString(16)}`,
          )
          .join("\n");
        const src = `bits 64\norg 0x${ORG.toString(16)}\n${init}\nmov r15, ${iters}\nl:\n${body.join("\n")}\ndec r15\njnz l\nhlt\nf: add rax, 3\nret\ng: push rbx\npop rbx\nret 8\n`;
        const r = assemble(src);
        if (!r.ok) throw new Error(r.error.map((d) => d.message).join("; "));
        const [a, b] = runBoth(r.value.bytes, [...budgets, 100_000], paged);
        expect(a).toEqual(b);
      },
    ),
    { numRuns, seed: 4242 },
  );
});

test.each([false, true])(
  "the benchmark loops and a self-modifying loop agree exactly at every budget split (paging %s)",
  (paged) => {
    const progs = [
      "mov rcx, 1000\nl: dec rcx\njnz l\nhlt",
      "mov rcx, 300\nmov r9, 123\nl: add rax, rbx\nsub rdx, rax\nxor rsi, rdx\nand rdi, rsi\nshl rbx, 1\ninc r8\ncmp r8, r9\nor r10, r8\ndec rcx\njnz l\nhlt",
      "lea rbx, [rel arr]\nmov rcx, 500\nl: mov rax, [rbx]\nmov rdx, [rbx+8]\nadd rax, [rbx+16]\nmov [rbx+24], rax\nmov [rbx+32], rdx\ndec rcx\njnz l\nhlt\nalign 64\narr: times 8 dq 3",
      "mov ecx, 40\nl: mov eax, 1\nmov byte [rel l+1], cl\nadd ebx, eax\ndec ecx\njnz l\nhlt",
      // A compiled loop storing through a register it never writes (address and code-granule check hoisted)
      // into decoded code elsewhere, which must run rewritten afterwards.
      "lea rbx, [rel f+1]\nmov r9, 6\nouter: call f\nadd r8, rax\nmov ecx, 12\nl: mov byte [rbx], r9b\nadd edx, ecx\ndec ecx\njnz l\ndec r9\njnz outer\ncall f\nadd r8, rax\nhlt\nf: mov eax, 7\nret",
      "mov ecx, 50\nl: adc eax, ecx\nsbb edx, eax\nsetc bl\ncmovz esi, edx\nloop l\nhlt",
    ];
    for (const p of progs) {
      const r = assemble(`bits 64\norg 0x${ORG.toString(16)}\n${p}\n`);
      if (!r.ok) throw new Error(p);
      for (const split of [[1e6], [7, 13, 1e6], [1, 1, 1, 1, 50, 1e6], [999, 1e6]]) {
        const [a, b] = runBoth(r.value.bytes, split, paged);
        expect(a).toEqual(b);
        expect(a.stop).toBe(StopReason.Halted);
      }
    }
  },
);

test.each([false, true])(
  "addresses checked once at block entry (registers the loop never writes) leave exactly where an access runs off RAM (paging %s)",
  (paged) => {
    // The inner loop never writes RBX, so its block checks [rbx+disp] once at entry; the outer loop moves
    // RBX a step towards an end of RAM between entries until the access runs off it and faults (triple
    // fault: no IDT). The access is the loop's second instruction: a block whose entry check fails leaves
    // before its first and the interpreter runs on to the access, exactly where it faults.
    for (const [start, step] of [
      [MEM - 40, 4],
      [MEM - 41, 3],
      [44, -4],
    ])
      for (const [disp, reg] of [
        ["+0", "rax"],
        ["+8", "eax"],
        ["-8", "ax"],
        ["+3", "al"],
      ]) {
        const src = `bits 64\norg 0x${ORG.toString(16)}\nmov rbx, ${start}\nouter: mov rcx, 12\nl: add r8, rcx\nmov ${reg}, [rbx${disp}]\nmov [rbx${disp}], ${reg}\ndec rcx\njnz l\nadd rbx, ${step}\njmp outer\n`;
        const r = assemble(src);
        if (!r.ok) throw new Error(src);
        for (const split of [[1e6], [3, 40, 1e6]]) {
          const [a, b] = runBoth(r.value.bytes, split, paged);
          expect(a).toEqual(b);
          expect(a.stop).toBe(StopReason.TripleFault);
        }
      }
  },
);

test("stores next to code (same page, other granules) never invalidate; a store into the loop does, once per store", () => {
  const near = assemble(
    `bits 64\norg 0x${ORG.toString(16)}\nlea rbx, [rel arr]\nmov rcx, 10000\nl: mov rax, [rbx]\nmov [rbx+8], rax\nmov [rbx+16], rcx\ndec rcx\njnz l\nhlt\nalign 8\narr: dq 1, 2, 3\n`,
  );
  const self = assemble(
    `bits 64\norg 0x${ORG.toString(16)}\nmov ecx, 100\nl: mov eax, 1\nadd ebx, eax\ncmp ecx, 50\njne skip\nmov byte [rel l+1], 2\nskip: dec ecx\njnz l\nhlt\n`,
  );
  if (!near.ok || !self.ok) throw new Error("assembly");
  const run1 = (bytes: Uint8Array) => {
    const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
    cpu.load(ORG, bytes);
    cpu.rip = ORG;
    cpu.set64(4, MEM, 0);
    expect(cpu.run(1e7)).toBe(StopReason.Halted);
    return cpu;
  };
  const a = run1(near.value.bytes);
  // The loop runs in the loop tier (jit-wasm.ts), its stores in the copy of the bytes they span.
  expect(a.jitStats).toEqual({ compiled: 1, invalidated: 0, wasm: 1 });
  expect(a.events.instructions).toBe(2 + 5 * 10000);
  const b = run1(self.value.bytes);
  // The hot loop-head block is dropped once when the store at ecx = 50 rewrites its first instruction,
  // then recompiled; the rewritten immediate takes effect on the next pass: 51 × 1 + 49 × 2.
  expect(b.jitStats).toEqual({ compiled: 3, invalidated: 1, wasm: 0 });
  expect(b.getLo(3)).toBe(149);
  const [x, y] = runBoth(self.value.bytes, [1e6]);
  expect(x).toEqual(y);
});

test("random byte images agree exactly", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
      const [a, b] = runBoth(bytes, [5000]);
      expect(a).toEqual(b);
    }),
    { numRuns: 100, seed: 77 },
  );
});

// RDMSR inside compiled blocks: the block flushes its counts and RFLAGS, calls the platform, continues
// after Skip and leaves the rest (Retire, Exit, InjectGP) to the run loop. A platform that records what it
// saw at every call (RIP, RFLAGS, exact retired count) must see the same sequence both ways.
class RecordingPlatform extends BarePlatform {
  seen: number[] = [];
  calls = 0;
  override rdmsr(cpu: PlatformCpu, length: number): PlatformAction {
    const ecx = cpu.getLo(1);
    this.calls++;
    this.seen.push(
      cpu.rip,
      length,
      (cpu as Cpu).rflags,
      cpu.events.instructions,
      cpu.events.cycles,
      cpu.events.branches,
    );
    cpu.set64(0, cpu.events.instructions >>> 0, 0);
    cpu.set64(2, this.calls, 0);
    switch (ecx & 3) {
      case 0:
        return PlatformAction.Skip;
      case 1:
        return PlatformAction.Retire;
      case 2:
        return this.calls % 5 === 0 ? PlatformAction.Exit : PlatformAction.Skip;
      default:
        return this.calls % 7 === 0 ? PlatformAction.InjectGP : PlatformAction.Skip;
    }
  }
}

test("RDMSR in compiled loops (Skip, Retire, Exit, #GP): JIT and interpreter agree, and the platform sees the same", () => {
  const ops = [
    "add rax, rbx",
    "sub r10, 3",
    "xor r11, r10",
    "cmp r10, r11",
    "inc r12",
    "adc r13, r10",
    "mov rbx, r12",
    "shl r11, 1",
  ];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...ops), { minLength: 0, maxLength: 6 }),
      fc.array(fc.constantFrom(...ops), { minLength: 0, maxLength: 4 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 1, max: 60 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }),
      (before, after, msr, iters, budgets) => {
        // An IDT whose #GP handler skips the 2-byte RDMSR, so injected faults resume the loop.
        const src =
          `bits 64\norg 0x${ORG.toString(16)}\n${idtGate(13, "gp")}\nlidt [rel idtr]\n` +
          `mov r15, ${iters}\nl:\n${before.join("\n")}\nmov ecx, ${msr}\nrdmsr\nadd r8, rax\nadd r9, rdx\n${after.join("\n")}\ndec r15\njnz l\nhlt\n` +
          `gp: add qword [rsp + 8], 2\nadd rsp, 8\niretq\nalign 16\nidt: times 32 dq 0, 0\nidtr: dw 32*16-1\ndq idt\n`;
        const r = assemble(src);
        if (!r.ok) throw new Error(r.error.map((d) => d.message).join("; "));
        const out = [true, false].map((jit) => {
          const p = new RecordingPlatform(new GuestIo());
          const cpu = new Cpu({ memSize: MEM, platform: p });
          cpu.jitEnabled = jit;
          cpu.load(ORG, r.value.bytes);
          cpu.rip = ORG;
          cpu.set64(4, MEM, 0);
          const stops: StopReason[] = [];
          for (const b of [...budgets, 1e6]) {
            for (let k = 0; k < 200; k++) {
              const s = cpu.run(b);
              stops.push(s);
              if (s !== StopReason.Exit) break;
            }
            if (stops[stops.length - 1] === StopReason.Halted || stops[stops.length - 1] === StopReason.TripleFault)
              break;
          }
          return { ...state(cpu, stops[stops.length - 1]), stops, seen: p.seen, compiled: cpu.jitStats.compiled > 0 };
        });
        expect(out[0].stop).toBe(StopReason.Halted);
        expect({ ...out[0], compiled: false }).toEqual({ ...out[1], compiled: false });
      },
    ),
    { numRuns: 200, seed: 31337 },
  );
});

test("a fault on an instruction that leaves a block sees the flags of a writer whose flags were dead in the block", () => {
  // `add eax, 1` sets CF/ZF/AF/PF that `cmp` overwrites, so inside the block they are dead; the load between
  // them faults (#PF) on a later pass and the handler reads the RFLAGS image the delivery pushed.
  const src = `bits 64
org 0x${ORG.toString(16)}
  lea rax, [rel idt]
  mov [rel idtr+2], rax
  lidt [rel idtr]
  lea rax, [rel pf]
  mov [rel idt + 14*16], ax
  mov word [rel idt + 14*16 + 2], 8
  mov byte [rel idt + 14*16 + 5], 0x8e
  shr rax, 16
  mov [rel idt + 14*16 + 6], ax
  mov ecx, 40
  mov edx, 0x200000
l: mov eax, 0xffffffff
  add eax, 1
  mov esi, [rdx]
  cmp ecx, 7
  add edx, 0x10000
  dec ecx
  jnz l
  hlt
pf: mov rbx, [rsp+24]
  hlt
align 16
idtr: dw 256*16-1
  dq 0
align 16
idt: times 256*16 db 0
`;
  const r = assemble(src);
  if (!r.ok) throw new Error("assembly failed");
  const [a, b] = runBoth(r.value.bytes, [1e6]);
  expect(a).toEqual(b);
  expect(a.stop).toBe(StopReason.Halted);
  expect(a.regs[2 * 3]).toBe(0x57); // RFLAGS image: CF | PF | AF | ZF | bit 1
});

test.each([false, true])(
  "flags only an exit observes are computed there, and each pass computes those the next pass reads first (paging %s)",
  (paged) => {
    // jit.ts exit-only flags: an ALU instruction's flags that nothing in the block reads before they are
    // rewritten are set at the exit where they are constants; flags the next pass reads first (CF through DEC,
    // every status flag through LOOP, which writes none) must still be computed in every pass.
    const bodies = [
      "adc r8, 0\nadd rax, rbx\ndec rcx\njnz l",
      // XOR/AND clear the CF (and OF) the ADD before them set (and ADC/SETO read), and the next pass
      // reads them first.
      "adc r8, 0\nadd rax, rbx\nadc r9, 0\nxor rsi, rdi\ndec rcx\njnz l",
      "setc dl\nadd r9, rdx\nseto dl\nadd r10, rdx\nadd rax, rbx\nadc r11, 0\nseto dl\nadd r12, rdx\nand rsi, rbx\nloop l",
      "setc dl\nadd r9, rdx\nsub rax, rbx\ndec rcx\njnz l",
      "sbb r8, r9\nxor rsi, rax\nadd rax, rbx\ninc rdi\ndec rcx\njnz l",
      "setz dl\nadd r9, rdx\nsets dl\nadd r10, rdx\nseto dl\nadd r11, rdx\nsetp dl\nadd r12, rdx\nadc r8, 0\nadd rax, rbx\nloop l",
      "add rax, rbx\nxor rsi, rax\nadd edi, esi\ndec rcx\njnz l",
      "and rax, rbx\nor rsi, rax\ndec rcx\njnz l",
      "add rax, rbx\nadc r9, 0\nor rsi, rax\ndec rcx\njnz l",
    ];
    for (const body of bodies) {
      const src = `bits 64\norg 0x${ORG.toString(16)}\nmov rax, 0x9e3779b97f4a7c15\nmov rbx, 0xc2b2ae3d27d4eb4f\nmov rdi, 0xfffffffd\nmov rcx, 37\nstc\nl: ${body}\nhlt\n`;
      const r = assemble(src);
      if (!r.ok) throw new Error(body);
      for (const split of [[1e6], [5, 13, 29, 1e6]]) {
        const [a, b] = runBoth(r.value.bytes, split, paged);
        expect(a.stop).toBe(StopReason.Halted);
        expect(a).toEqual(b);
      }
    }
  },
);

test("carry and borrow edges of the compiled add/sub/adc/sbb/inc/dec/neg/cmp (4 and 8 bytes) agree exactly", () => {
  // Operands at the wrap points of each half, with CF in and out set both ways: the compiled forms find
  // carries by unsigned compares of truncated results (jit-gen.ts aluParts), the interpreter by wide sums.
  const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  const vals = edges.flatMap((lo) => edges.map((hi) => `0x${((BigInt(hi) << 32n) | BigInt(lo)).toString(16)}`));
  const ops = ["add", "sub", "adc", "sbb", "cmp"];
  let body = "";
  for (const op of ops)
    for (const [d, s] of [
      ["rax", "rbx"],
      ["eax", "ebx"],
    ])
      body += `${op} ${d}, ${s}\nsetc dl\nseto dh\nadd r8, rdx\nsets dl\nsetz dh\nxor r9, rdx\nsetp dl\nadd r10, rdx\nxor r11, rax\n`;
  // INC/DEC results are folded into r12-r14 at once (the low half's carry into the high half is found
  // from the result or the operand alone: jit-gen.ts aluParts).
  body += "inc rbx\nxor r12, rbx\ndec rax\nxor r13, rax\ninc rax\ndec rbx\nxor r14, rbx\ninc rbx\n";
  body += "inc rbx\ndec eax\nneg rbx\nneg eax\nstc\nadc rax, -1\nsbb ebx, -1\ncmc\n";
  const src = `bits 64\norg 0x${ORG.toString(16)}\nlea rsi, [rel vals]\nmov rcx, ${vals.length}\nouter: mov r15, ${vals.length}\nlea rdi, [rel vals]\ninner: mov rax, [rsi]\nmov rbx, [rdi]\n${body}dec r15\nlea rdi, [rdi+8]\njnz inner\nlea rsi, [rsi+8]\ndec rcx\njnz outer\nhlt\nalign 8\nvals: dq ${vals.join(", ")}\n`;
  const r = assemble(src);
  if (!r.ok) throw new Error(r.error.map((d) => d.message).join("; "));
  const [a, b] = runBoth(r.value.bytes, [1e7]);
  expect(a.stop).toBe(StopReason.Halted);
  expect(a).toEqual(b);
  // Compiled code ran the operations (setcc and the ALU forms compile; the blocks are at most 48 long).
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.load(ORG, r.value.bytes);
  cpu.rip = ORG;
  expect(cpu.run(1e7)).toBe(StopReason.Halted);
  expect(cpu.jitStats.compiled).toBeGreaterThanOrEqual(4);
});

test.each([false, true])(
  "a block leaving at entry (a hoisted address off RAM, a hoisted store into code) leaves RFLAGS and code exact (paging %s)",
  (paged) => {
    // The inner loop's first instruction is an access through RBX (never written in the loop): its check
    // runs once at block entry. Each outer pass sets distinctive flags, then enters; the last entry finds
    // the access off RAM and leaves before the first instruction, which the interpreter then runs and
    // faults on (triple fault: no IDT): RFLAGS must be the outer pass's, not the loop's deferred DEC's.
    // The second program's inner loop stores (through an address hoisted the same way) into decoded code,
    // so its block leaves at entry and the interpreter's store rewrites f, whose new immediate must count.
    const progs = [
      `mov rbx, ${MEM - 64}\nouter: mov rcx, 5\nmov eax, 0x7fffffff\nadd eax, 1\nl: mov rdx, [rbx+8]\nadd r8, rdx\ndec rcx\njnz l\nadd rbx, 8\njmp outer\n`,
      "lea rbx, [rel f]\nmov r9, 40\nouter: call f\nadd r11, rax\nmov ecx, 3\nl: mov [rbx+1], r9b\nadd r8, rcx\ndec rcx\njnz l\ndec r9\njnz outer\nhlt\nf: mov eax, 7\nret\n",
    ];
    for (const p of progs) {
      const r = assemble(`bits 64\norg 0x${ORG.toString(16)}\n${p}`);
      if (!r.ok) throw new Error(p);
      for (const split of [[1e6], [5, 17, 1e6]]) {
        const [a, b] = runBoth(r.value.bytes, split, paged);
        expect(a).toEqual(b);
      }
    }
  },
);

test.each([false, true])(
  "hoisted accesses skip the L1 lookups after the first pass only when no other line can evict theirs (paging %s)",
  (paged) => {
    // 32 KiB apart: the same L1 set (direct-mapped, 512 lines), so each access evicts the other's line in
    // every pass; a line-crossing access (+60) does the same to two sets; an access through a register
    // the loop writes (RSI) may land on any set; and the loop whose lines do not clash hits after pass 1
    // (its block looks them up once per call, at entry).
    const bodies = [
      "mov rax, [rbx]\nadd rdx, [rbx+32768]",
      "mov rax, [rbx+60]\nmov [rbx+32768+60], rdx",
      "mov rax, [rbx]\nadd rdx, [rsi]\nadd rsi, 4096",
      "mov rax, [rbx]\nadd rdx, [rbx+8]\nmov [rbx+64], rdx",
    ];
    for (const body of bodies) {
      const src = `bits 64\norg 0x${ORG.toString(16)}\nmov rbx, 0x200000\nmov rsi, 0x208000\nmov rcx, 300\nl: ${body}\ndec rcx\njnz l\nhlt\n`;
      const r = assemble(src);
      if (!r.ok) throw new Error(src);
      for (const split of [[1e6], [9, 100, 1e6]]) {
        const [a, b] = runBoth(r.value.bytes, split, paged);
        expect(a).toEqual(b);
        expect(a.stop).toBe(StopReason.Halted);
      }
    }
    // A block whose lookups would run at entry but that may leave mid-pass (#DE): each outer pass moves
    // RBX to lines not seen yet, and the last one's first pass divides by zero between its two accesses,
    // so the second is never made (triple fault: no IDT) — a lookup of it made at entry would count.
    const de = assemble(
      `bits 64\norg 0x${ORG.toString(16)}\nmov rbx, 0x200000\nmov r10, 12\nouter: mov rcx, 3\nmov r9, r10\nl: mov rax, [rbx]\nxor edx, edx\ndiv r9\nadd r8, [rbx+64]\ndec rcx\njnz l\nadd rbx, 128\ndec r10\njmp outer\n`,
    );
    if (!de.ok) throw new Error("assembly");
    const [a, b] = runBoth(de.value.bytes, [1e6], paged);
    expect(a).toEqual(b);
    expect(a.stop).toBe(StopReason.TripleFault);
  },
);

test.each([false, true])(
  "a block specialised to the alignment its hoisted accesses had when compiled hands over when they change (paging %s)",
  (paged) => {
    // The inner loop's addresses come from RBX, which only the outer loop moves (by 1, 2 or 4 bytes): the
    // block is compiled for the alignment RBX had then; a later entry finding it otherwise must run the
    // generic block (a Uint32Array access at a misaligned address would read the wrong bytes).
    for (const step of [1, 2, 4]) {
      const src = `bits 64\norg 0x${ORG.toString(16)}\nlea rbx, [rel arr]\nmov r9, 24\nouter: mov rcx, 8\nl: add rax, [rbx]\nadd edx, [rbx+8]\nmov [rbx+32], rax\nmov [rbx+44], edx\nxor rax, [rbx+3]\ndec rcx\njnz l\nadd rbx, ${step}\ndec r9\njnz outer\nhlt\nalign 64\narr: db ${Array.from({ length: 128 }, (_, i) => (i * 37 + 11) & 255).join(", ")}\n`;
      const r = assemble(src);
      if (!r.ok) throw new Error(src);
      for (const split of [[1e6], [50, 7, 1e6]]) {
        const [a, b] = runBoth(r.value.bytes, split, paged);
        expect(a).toEqual(b);
        expect(a.stop).toBe(StopReason.Halted);
      }
    }
  },
);
