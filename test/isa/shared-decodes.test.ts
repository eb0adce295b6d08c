// Decoded instructions shared between the CPUs that run one image (src/isa/shared-decodes.ts, the sweep's
// runs of a probe): a CPU with the cache ends in exactly the state of one without it — also when an earlier
// run or this one rewrote its code, and when another image filled the cache at the same addresses.
import { expect, test } from "vitest";
import { decodeInto } from "../../src/isa/decode.js";
import { copyDecoded, Insn, PER_CPU_INSN_FIELDS } from "../../src/isa/insn.js";
import type { CodeBits } from "../../src/isa/modes.js";
import { SharedDecodes } from "../../src/isa/shared-decodes.js";
import { Guest } from "../../src/vmm/guest.js";
import { deepDiff } from "../deep-state.js";
import { ownImage } from "./harness.js";

const ORG = 0x1000;
const MEM = 0x10000;

const image = (body: string): Uint8Array => ownImage(ORG, body);

function run(bytes: Uint8Array, jit: boolean, decodes?: SharedDecodes) {
  const g = Guest.create(bytes, ORG, { memSize: MEM, maxInsns: 100_000, jit, ...(decodes ? { decodes } : {}) });
  if ("error" in g) throw new Error(g.error);
  let r = g.runChunk(100_000);
  while (r === null) r = g.runChunk(100_000);
  // The one field that differs by construction: which cache the CPU was handed.
  g.cpu.sharedDecodes = null;
  return { guest: g, result: r };
}

// Rewrites an instruction it has run (a loop patching its own immediate), and stores next to code.
const SELF_MODIFYING = `
  mov ecx, 40
l: mov eax, 1
  mov byte [rel l+1], cl
  add ebx, eax
  lea rdi, [rel data]
  mov [rdi], ebx
  dec ecx
  jnz l
  call f
  mov byte [rel f+1], 9
  call f
  xor eax, eax
  out 0xf4, al
  hlt
f: mov edx, 7
  add esi, edx
  ret
align 16
data: dq 0`;

// The same addresses with other instructions.
const OTHER = `
  mov ecx, 25
l: add eax, ecx
  imul ebx, eax, 3
  dec ecx
  jnz l
  xor eax, eax
  out 0xf4, al
  hlt`;

test("copyDecoded copies every field of Insn but the running CPU's", () => {
  const src = new Insn();
  const fresh = new Insn();
  const keys = Object.keys(src) as (keyof Insn)[];
  // A value in every field that no default has.
  for (const k of keys) {
    const v = src[k];
    (src as unknown as Record<string, unknown>)[k] =
      typeof v === "number" ? 77 : typeof v === "boolean" ? !v : typeof v === "string" ? "x" : { marker: k };
  }
  const dst = copyDecoded(new Insn(), src);
  for (const k of keys) {
    if ((PER_CPU_INSN_FIELDS as readonly string[]).includes(k)) expect(dst[k], k).toEqual(fresh[k]);
    else expect(dst[k], k).toBe(src[k]);
  }
});

test("a shared decode is decodeInto's, whatever the cache held for that address", () => {
  // Deterministic pseudo-random windows of bytes, decoded at the same addresses in turn (the cache keeps
  // the first bytes seen at each), with every readable count near the end and each code size.
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  const shared = new SharedDecodes();
  const common = [0x48, 0x0f, 0x66, 0x67, 0xf3, 0xc7, 0x81, 0x8b, 0x89, 0xe8, 0x90];
  const byte = () => (rnd() % 3 === 0 ? common[rnd() % common.length]! : rnd() & 255);
  // A few windows of bytes; each decode takes one, often with a byte changed (code a guest rewrote).
  const windows = Array.from({ length: 4 }, () => Uint8Array.from({ length: 64 }, byte));
  for (let i = 0; i < 20_000; i++) {
    const mem = windows[rnd() % windows.length]!.slice();
    const addr = rnd() % 8;
    if (rnd() % 2 === 0) mem[addr + (rnd() % 16)] = byte();
    const avail = rnd() % 3 === 0 ? 1 + (rnd() % 16) : 40;
    const bits = ([16, 32, 64] as CodeBits[])[rnd() % 3]!;
    const want = decodeInto(new Insn(), mem, addr, addr, avail, bits);
    expect(deepDiff(shared.decode(mem, addr, avail, bits), want)).toBeNull();
  }
  expect(shared.stats.copied).toBeGreaterThan(200);
  expect(shared.stats.decoded).toBeGreaterThan(500);
});

test.each([false, true])("runs sharing decodes end exactly as runs without (blocks compiled: %s)", (jit) => {
  const smc = image(SELF_MODIFYING);
  const other = image(OTHER);
  for (const order of [
    [smc, smc, smc],
    [other, smc, other, smc],
    [smc, other, other],
  ]) {
    const shared = new SharedDecodes();
    for (const bytes of order) {
      const a = run(bytes, jit, shared);
      const b = run(bytes, jit);
      expect(a.result.stop).toBe("exit");
      expect(deepDiff(a.result, b.result)).toBeNull();
      expect(deepDiff(a.guest, b.guest)).toBeNull();
    }
    expect(shared.stats.copied).toBeGreaterThan(0);
  }
  // The patched instructions were decoded afresh, not copied from the first run's cache.
  const shared = new SharedDecodes();
  run(smc, jit, shared);
  const before = shared.stats.decoded;
  run(smc, jit, shared);
  expect(shared.stats.decoded - before).toBeGreaterThan(0);
});
