// A CPU built from the arrays a released CPU handed back (src/isa/array-pool.ts, the sweep's runs) is
// indistinguishable from a new one: after another program dirtied RAM, the TLB (paging on), the cache
// model and the branch predictor, a second program runs to exactly the state — every field — of the same
// program on a CPU built from new arrays.
import { expect, test } from "vitest";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { MAX_POOLED_BYTES, pooledBytes, release, zeroed } from "../../src/isa/array-pool.js";
import { deepDiff } from "../deep-state.js";
import { ownImage } from "./harness.js";
import { Tables, KiB4, P, RW } from "./page-tables.js";

const ORG = 0x1000;
const MEM = 0x40000;

const image = (body: string): Uint8Array => ownImage(ORG, body);

// Fills a quarter of RAM, loops and calls (predictor, return stack), touches every line of a buffer.
const DIRTY = image(`
  lea rdi, [rel buf]
  mov rcx, 0x2000
  mov rax, 0x0123456789abcdef
  rep stosq
  mov r8, 200
l: call f
  test r8, 3
  jz s
  inc r9
s: dec r8
  jnz l
  hlt
f: add r10, r8
  ret
align 4096
buf:`);

// Reads RAM the first program wrote (zero on a new CPU), branches on it, and stores.
const PROBE = image(`
  mov esi, 0x9000
  xor ebx, ebx
  mov rcx, 512
l: add rbx, [rsi]
  jz z
  inc r11
z: add rsi, 64
  dec rcx
  jnz l
  mov [rel result], rbx
  hlt
result: dq 0`);

function cpuWith(bytes: Uint8Array, paged: boolean, jit: boolean): Cpu {
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.jitEnabled = jit;
  if (paged) {
    const t = new Tables(cpu, 0x30000);
    for (let a = 0; a < 0x30000; a += 4096) t.map(BigInt(a), BigInt(a), KiB4, P | RW);
    cpu.cr3Lo = t.root;
    cpu.setPaging(true);
  }
  cpu.load(ORG, bytes);
  cpu.rip = ORG;
  cpu.set64(4, 0x30000, 0);
  return cpu;
}

/** Run until a stop other than the budget (a long REP string instruction returns between iterations). */
function runToStop(cpu: Cpu): StopReason {
  let s = StopReason.Budget;
  for (let i = 0; i < 100_000 && s === StopReason.Budget; i++) s = cpu.run(1_000_000);
  return s;
}

test.each([false, true])("a CPU on released arrays runs exactly as a new one (blocks compiled: %s)", (jit) => {
  const first = cpuWith(DIRTY, true, jit);
  expect(runToStop(first)).toBe(StopReason.Halted);
  expect(first.tlb.tagLo.some((t) => t >= 0)).toBe(true);
  // Built before the release: new arrays.
  const fresh = cpuWith(PROBE, false, jit);
  first.release();
  const reused = cpuWith(PROBE, false, jit);
  expect(reused.mem.buffer).toBe(first.mem.buffer);
  expect(reused.cache.l1.buffer).toBe(first.cache.l1.buffer);
  expect(fresh.mem.buffer).not.toBe(first.mem.buffer);
  expect(runToStop(reused)).toBe(StopReason.Halted);
  expect(runToStop(fresh)).toBe(StopReason.Halted);
  expect(deepDiff(reused, fresh)).toBeNull();
});

test("the pool holds at most MAX_POOLED_BYTES: past it, released arrays are left to the collector", () => {
  const len = (MAX_POOLED_BYTES >> 1) + 1; // two of these do not fit; a length no CPU here uses
  const before = pooledBytes();
  const arrays = [new Uint8Array(len), new Uint8Array(len), new Uint8Array(len)];
  release(...arrays);
  expect(pooledBytes()).toBeLessThanOrEqual(MAX_POOLED_BYTES);
  expect(pooledBytes() - before).toBe(before + len <= MAX_POOLED_BYTES ? len : 0);
  // What was kept comes back zeroed, and is no longer counted.
  if (pooledBytes() > before) {
    arrays[0]![5] = 7;
    const a = zeroed(Uint8Array, len);
    expect(arrays.includes(a)).toBe(true);
    expect(a.indexOf(7)).toBe(-1);
    expect(pooledBytes()).toBe(before);
  }
  expect(zeroed(Uint8Array, len) === arrays[1]).toBe(false);
});
