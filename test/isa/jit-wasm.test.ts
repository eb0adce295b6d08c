// The loop tier (src/isa/jit-wasm.ts): register-only loops whose passes run as WebAssembly must end in
// exactly the state of the JS block compiler alone and of the interpreter — registers, flags, RIP, stop
// reason and every event count — whether the loop leaves by its branch or by the budget, for every
// condition code and flag-writer the tier compiles, and for forms it does not (which fall back).
import { expect, test } from "vitest";
import fc from "fast-check";
import { assemble } from "../../src/asm/assemble.js";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";

const ORG = 0x100000,
  MEM = 2 << 20,
  /** The data area memory forms address through RBP, which no form writes. */
  DATA = 0x180000;

type Mode = "wasm" | "js" | "interp";

function run(bytes: Uint8Array, budgets: number[], mode: Mode) {
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.jitEnabled = mode !== "interp";
  cpu.jitWasm = mode === "wasm";
  cpu.load(ORG, bytes);
  cpu.rip = ORG;
  cpu.set64(4, MEM, 0);
  let stop = StopReason.Budget;
  for (const b of budgets) {
    stop = cpu.run(b);
    if (stop !== StopReason.Budget) break;
  }
  return {
    state: {
      stop,
      rip: cpu.rip,
      rflags: cpu.rflags,
      regs: Array.from(cpu.regs),
      events: { ...cpu.events },
      data: Array.from(cpu.mem.subarray(DATA, DATA + 256)),
    },
    wasmBlocks: cpu.jitStats.wasm,
  };
}

const R64 = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14"];
const R32 = ["eax", "ebx", "ecx", "edx", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d"];
const CCS = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

const reg = fc.boolean().chain((wide) => fc.constantFrom(...(wide ? R64 : R32)));
const pair = fc
  .boolean()
  .chain((wide) => fc.tuple(fc.constantFrom(...(wide ? R64 : R32)), fc.constantFrom(...(wide ? R64 : R32))));
const imm = fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const alu = fc.constantFrom("add", "sub", "and", "or", "xor", "cmp", "test");

/** Forms the loop tier compiles, and a few it does not (the block then runs in JS alone). */
const form = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(alu, pair).map(([op, [a, b]]) => `${op} ${a}, ${b}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom("add", "sub", "and", "or", "xor", "cmp"), reg, imm)
      .map(([op, r, i]) => `${op} ${r}, ${i}`),
  },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("inc", "dec", "neg", "not"), reg).map(([op, r]) => `${op} ${r}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("shl", "shr", "sar"), reg, fc.integer({ min: 0, max: 70 }))
      .map(([op, r, n]) => `${op} ${r}, ${n}`),
  },
  { weight: 2, arbitrary: pair.map(([a, b]) => `mov ${a}, ${b}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...R64), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
      .map(([r, v]) => `mov ${r}, 0x${v.toString(16)}`),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...R32), imm).map(([r, i]) => `mov ${r}, ${i}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        reg,
        fc.constantFrom(...R64),
        fc.constantFrom(...R64),
        fc.constantFrom(1, 2, 4, 8),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      )
      .map(([d, b, i, s, disp]) => `lea ${d}, [${b} + ${i}*${s} + ${disp}]`),
  },
  { weight: 1, arbitrary: fc.tuple(reg, fc.constantFrom(...R64)).map(([d, b]) => `lea ${d}, [${b} + 8]`) },
  // 32-bit address size: the sum is truncated to 32 bits before it is written.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...R64), fc.constantFrom(...R32), fc.constantFrom(...R32), imm)
      .map(([d, b, i, disp]) => `lea ${d}, [${b} + ${i}*2 + ${disp}]`),
  },
  { weight: 1, arbitrary: fc.constant("nop") },
  // Zero and sign extension from registers and memory, and IMUL's product.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("movzx", "movsx"), reg, fc.integer({ min: 0, max: 12 }), fc.constantFrom(1, 2))
      .map(([op, d, r, ss]) => {
        const b = ["al", "bl", "cl", "dl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b"][r];
        const w = ["ax", "bx", "cx", "dx", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w"][r];
        return `${op} ${d}, ${ss === 1 ? b : w}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("movzx", "movsx"), reg, fc.constantFrom("byte", "word"), fc.integer({ min: 0, max: 60 }))
      .map(([op, d, sz, disp]) => `${op} ${d}, ${sz} [rbp + ${disp}]`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...R64), fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.integer({ min: 0, max: 60 }))
      .map(([d, r, mem, disp]) => `movsxd ${d}, ${mem ? `dword [rbp + ${disp}]` : R32[r]}`),
  },
  { weight: 1, arbitrary: fc.constant("movzx eax, ah") },
  {
    weight: 2,
    arbitrary: fc
      .tuple(pair, fc.option(imm), fc.boolean(), fc.integer({ min: 0, max: 60 }))
      .map(([[a, b], i, mem, disp]) => {
        const src = mem ? `${a.startsWith("r") && !a.endsWith("d") ? "qword" : "dword"} [rbp + ${disp}]` : b;
        return i === null ? `imul ${a}, ${src}` : `imul ${a}, ${src}, ${i}`;
      }),
  },
  // Memory operands at fixed addresses (RBP is never written): overlapping, unaligned, 4 and 8 bytes.
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom("add", "sub", "and", "or", "xor", "cmp", "test", "mov"),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 12 }),
      )
      .map(([op, wide, toMem, d, r]) => {
        const m = `${wide ? "qword" : "dword"} [rbp + ${d}]`;
        const g = (wide ? R64 : R32)[r];
        return op === "test" || toMem ? `${op} ${m}, ${g}` : `${op} ${g}, ${m}`;
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom("add", "sub", "and", "or", "xor", "cmp", "mov"),
        fc.boolean(),
        fc.integer({ min: 0, max: 60 }),
        imm,
      )
      .map(([op, wide, d, i]) => `${op} ${wide ? "qword" : "dword"} [rbp + ${d}], ${i}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("inc", "dec", "neg", "not", "shl", "sar"), fc.boolean(), fc.integer({ min: 0, max: 60 }))
      .map(
        ([op, wide, d]) => `${op} ${wide ? "qword" : "dword"} [rbp + ${d}]${op === "shl" || op === "sar" ? ", 3" : ""}`,
      ),
  },
  // Not compiled by the loop tier: flag readers, byte registers, other operations.
  { weight: 1, arbitrary: fc.constantFrom("adc rax, rbx", "cmovz rcx, rdx", "setc al", "add al, bl", "rol rax, 3") },
);

/** The loop's end: r15's start value and the flag writer and branch, as a function of the pass count n.
 *  The counted forms leave exactly at the edge of their condition (equal operands, the carry, the
 *  overflow, the sign change): where a wrongly compiled condition would take one pass too many. */
type Tail = (n: number) => { start: string; end: string };
const W64 = 2n ** 64n,
  S63 = 2n ** 63n,
  W32 = 2n ** 32n,
  S31 = 2n ** 31n;
const hex = (v: bigint) => `0x${v.toString(16)}`;
const COUNTED: Tail[] = [
  (n) => ({ start: "0", end: `inc r15\ncmp r15, ${n}\njb l` }),
  (n) => ({ start: "0", end: `inc r15\ncmp r15, ${n - 1}\njbe l` }),
  (n) => ({ start: "0", end: `inc r15\ncmp r15, ${n}\njl l` }),
  (n) => ({ start: "0", end: `inc r15\ncmp r15, ${n - 1}\njle l` }),
  (n) => ({ start: "0", end: `inc r15d\ncmp r15d, ${n}\njne l` }),
  (n) => ({ start: `${n}`, end: "dec r15\ncmp r15, 0\nja l" }),
  (n) => ({ start: `${n}`, end: "dec r15\ncmp r15, 1\njae l" }),
  (n) => ({ start: `${n}`, end: "dec r15d\ncmp r15d, 0\njg l" }),
  (n) => ({ start: `${n}`, end: "dec r15\ncmp r15, 1\njge l" }),
  (n) => ({ start: hex(W64 - BigInt(n)), end: "add r15, 1\njnc l" }),
  (n) => ({ start: hex(W32 - BigInt(n)), end: "add r15d, 1\njae l" }),
  (n) => ({ start: hex(S63 - BigInt(n)), end: "add r15, 1\njno l" }),
  (n) => ({ start: hex(S31 - BigInt(n)), end: "inc r15d\njno l" }),
  (n) => ({ start: hex(S63 + BigInt(n)), end: "sub r15, 1\njno l" }),
  (n) => ({ start: hex(S31 + BigInt(n)), end: "dec r15d\njno l" }),
  (n) => ({ start: `${n - 1}`, end: "dec r15\njns l" }),
  (n) => ({ start: `${n}`, end: "sub r15d, 1\njg l" }),
  (n) => ({ start: `${n}`, end: "sub r15, 1\nja l" }),
  (n) => ({ start: `${n}`, end: "dec r15\ntest r15, r15\njnz l" }),
  (n) => ({ start: `${n}`, end: "neg r15\nlea r15, [r15 + 1]\nneg r15\njnz l" }),
  (n) => ({ start: `${n}`, end: "sub r15, 1\njnbe l" }),
  (n) => ({ start: `${n}`, end: "dec r15\nxor r14, r14\nor r14, r15\njnz l" }),
  // ADD's carry with a first operand of 0 in the pass that leaves; PF of a logical result.
  (n) => ({ start: `${n}`, end: "add r15, -1\njc l" }),
  (n) => ({ start: `${0x80 - n}`, end: "add r15, 1\ntest r15, 0x80\njp l" }),
  (n) => ({ start: `${0x100 - n}`, end: "add r15d, 1\ntest r15d, 0x80\njnp l" }),
  // A counter in memory: the flag writer is a store.
  (n) => ({ start: `${n}\nmov [rbp + 64], r15`, end: "dec qword [rbp + 64]\njnz l" }),
  (n) => ({ start: `${n}\nmov [rbp + 72], r15d`, end: "sub dword [rbp + 72], 1\nja l" }),
  // A memory flag source after a store to it in the same pass: its operand at the pass start is stale.
  (n) => ({
    start: `${n}\nmov [rbp + 80], r15`,
    end: "mov r14, [rbp + 80]\nsub r14, 1\nmov [rbp + 80], r14\ncmp qword [rbp + 80], 0\njne l",
  }),
];
const tail: fc.Arbitrary<Tail> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...COUNTED) },
  // Any writer and condition: such loops often leave early or never (then the budget stops them).
  {
    weight: 1,
    arbitrary: fc.tuple(form, fc.constantFrom(...CCS)).map(
      ([w, cc]): Tail =>
        () => ({ start: "0", end: `${w}\nj${cc} l` }),
    ),
  },
);

/** Register values: edges of 32 and 64 bits often (equal operands, carries, overflows), any value too. */
const value = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    2n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x100000000n,
    2n ** 63n - 1n,
    2n ** 63n,
    2n ** 64n - 1n,
  ),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

test("register-only loops: the loop tier, the JS blocks and the interpreter agree exactly", () => {
  let wasmBlocks = 0;
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 13, maxLength: 13 }),
      fc.array(form, { minLength: 0, maxLength: 8 }),
      tail,
      fc.integer({ min: 1, max: 80 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 3 }),
      (vals, body, end, iters, budgets) => {
        const init = [
          ...R64.map((r, i) => `mov ${r}, 0x${vals[i].toString(16)}`),
          `mov rbp, ${DATA}`,
          ...vals.map((v, i) => `mov rax, 0x${v.toString(16)}\nmov [rbp + ${8 * i}], rax`),
          `mov rax, 0x${vals[0].toString(16)}`,
        ].join("\n");
        const t = end(iters);
        const src = `bits 64\norg 0x${ORG.toString(16)}\n${init}\nmov r15, ${t.start}\nl:\n${body.join("\n")}\n${t.end}\nhlt\n`;
        const a = assemble(src);
        if (!a.ok) return;
        // A loop whose branch never falls through stops at the last budget, mid-loop.
        const steps = [...budgets, 3000];
        const w = run(a.value.bytes, steps, "wasm");
        const j = run(a.value.bytes, steps, "js");
        const i = run(a.value.bytes, steps, "interp");
        wasmBlocks += w.wasmBlocks;
        expect(j.wasmBlocks).toBe(0);
        expect(w.state).toEqual(i.state);
        expect(j.state).toEqual(i.state);
      },
    ),
    { numRuns: 400, seed: 1604 },
  );
  // The property exercised the loop tier (it cannot pass vacuously).
  expect(wasmBlocks).toBeGreaterThan(100);
});

test("a long counted loop runs in the loop tier with exact counts (W2's body)", () => {
  const src = `bits 64\norg 0x${ORG.toString(16)}\nmov rcx, 100000\nmov r9, 12345\nmov rbx, 3\nl: add rax, rbx\nsub rdx, rax\nxor rsi, rdx\nand rdi, rsi\nshl rbx, 1\ninc r8\ncmp r8, r9\nor r10, r8\ndec rcx\njnz l\nhlt\n`;
  const a = assemble(src);
  if (!a.ok) throw new Error("assembly failed");
  const w = run(a.value.bytes, [1e9], "wasm");
  const i = run(a.value.bytes, [1e9], "interp");
  expect(w.wasmBlocks).toBe(1);
  expect(w.state).toEqual(i.state);
  expect(w.state.stop).toBe(StopReason.Halted);
  expect(w.state.events.instructions).toBe(100000 * 10 + 3);
});

// Each value-only form once more, in a loop whose source registers and memory change every pass and whose
// results accumulate (the final pass, which the JS block runs, would otherwise hide a wrong value).
test.each([
  "movsx rax, bl",
  "movsx rax, bx",
  "movsx eax, bl",
  "movsx eax, bx",
  "movzx rax, bl",
  "movzx eax, bx",
  "movsxd rax, ebx",
  "movsx rax, byte [rbp + 1]",
  "movsx rax, word [rbp + 3]",
  "movsx eax, word [rbp + 3]",
  "movzx eax, byte [rbp + 5]",
  "movzx rax, word [rbp + 7]",
  "movsxd rax, dword [rbp + 2]",
  "imul rax, rbx",
  "imul eax, ebx",
  "imul rax, rbx, -7",
  "imul eax, [rbp + 4], 1000",
  "imul rax, [rbp + 1]",
  "lea eax, [ebx + ebx*4 + 7]",
  "sar rax, 5",
  "shr eax, 3",
])("%s: the loop tier's value accumulates exactly", (form) => {
  const src = `bits 64\norg 0x${ORG.toString(16)}\nmov rbx, 0x123456789abcdef\nmov r11, 0x9e3779b97f4a7c15\nmov rax, r11\nmov rbp, ${DATA}\nmov r15, 300\nl:\nadd rbx, r11\nadd qword [rbp], r11\nadd qword [rbp + 8], rbx\n${form}\nadd r13, rax\nxor r12, r13\ndec r15\njnz l\nhlt\n`;
  const a = assemble(src);
  if (!a.ok) throw new Error(`assembly failed: ${form}`);
  const w = run(a.value.bytes, [1e6], "wasm");
  const i = run(a.value.bytes, [1e6], "interp");
  expect(w.wasmBlocks).toBe(1);
  expect(w.state).toEqual(i.state);
});
