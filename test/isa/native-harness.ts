// The harness of the differential test against THIS machine's CPU: the bit, atomic and flag instructions of issue 12 item 3
// run natively (a static x86-64 Linux program built with nasm -f elf64 + ld, its results written to
// stdout) and on the model, on the same random inputs; results and the flags the SDM defines must agree.
// Flags the SDM leaves undefined are not compared (this host may be AMD; the model follows Intel, see
// src/isa/flags.ts). Skips, saying why, only where the host cannot run the native program.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect } from "vitest";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { AF, CF, OF, PF, SF, ZF } from "../../src/isa/flags.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { nasm } from "./nasm.js";

export const has = (cmd: string): boolean => spawnSync(cmd, ["--version"], { encoding: "utf8" }).status === 0;
export const why =
  platform() !== "linux" || arch() !== "x64"
    ? `the host is ${platform()}/${arch()}, not x86-64 Linux`
    : !has("nasm")
      ? "nasm is missing (scripts/ensure-tools.sh installs it)"
      : !has("ld")
        ? "ld is missing (scripts/ensure-tools.sh installs binutils)"
        : null;

export const STATUS6 = CF | PF | AF | ZF | SF | OF;
/** Per case: the instruction, with rax/rcx/rdx/rbx as inputs, and the flags the SDM defines for it. */
export interface Case {
  insn: string;
  flags: number;
  /** Bits of rax/rcx/rdx compared (the operand size where the SDM leaves the rest to the CPU). */
  mask?: [bigint, bigint, bigint];
}
export const ALL: bigint = (1n << 64n) - 1n;
export const M32 = 0xffffffffn,
  M16 = 0xffffn;

/** The program: for each case load rax, rcx, rdx, rbx and RFLAGS, run it, store rax, rcx, rdx, rflags
 *  and the qword at `buf`. `buf` holds 2 qwords: the memory operand of the bit-string/atomic forms. */
function body(cases: Case[], inputs: bigint[][]): string {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const [a, b, d, x, m0, fl] = inputs[i];
    out.push(
      `mov rax, 0x${a.toString(16)}`,
      `mov rcx, 0x${b.toString(16)}`,
      `mov rdx, 0x${d.toString(16)}`,
      `mov rbx, 0x${x.toString(16)}`,
      `mov rsi, 0x${m0.toString(16)}`,
      "lea rdi, [rel buf]",
      "mov [rdi], rsi",
      "mov [rdi+8], rsi",
      `push 0x${(fl | 2n).toString(16)}`,
      "popfq",
      c.insn,
      "pushfq",
      "pop rsi",
      `lea rdi, [rel out + ${i * 48}]`,
      "mov [rdi], rax",
      "mov [rdi+8], rcx",
      "mov [rdi+16], rdx",
      "mov [rdi+24], rsi",
      "mov rsi, [rel buf]",
      "mov [rdi+32], rsi",
      "mov rsi, [rel buf-8]",
      "mov [rdi+40], rsi",
    );
  });
  return out.join("\n");
}

function runNative(src: string, size: number, dir: string): Uint8Array {
  const s = join(dir, "n.s"),
    o = join(dir, "n.o"),
    e = join(dir, "n");
  writeFileSync(
    s,
    `bits 64\nsection .text\nglobal _start\n_start:\n${src}\nmov eax, 1\nmov edi, 1\nlea rsi, [rel out]\nmov edx, ${size}\nsyscall\nmov eax, 60\nxor edi, edi\nsyscall\nsection .data\nalign 16\npad: times 16 db 0\nbuf: times 16 db 0\nout: times ${size} db 0\n`,
  );
  for (const [cmd, args] of [
    ["nasm", ["-f", "elf64", "-o", o, s]],
    ["ld", ["-o", e, o]],
  ] as const) {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  const r = spawnSync(e, [], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`native runner failed (${r.status}): ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

function runModel(src: string, size: number): Uint8Array {
  const org = 0x100000;
  const bytes = nasm(
    `bits 64\norg 0x${org.toString(16)}\n${src}\nhlt\nalign 16\npad: times 16 db 0\nbuf: times 16 db 0\nout: times ${size} db 0\n`,
  );
  const cpu = new Cpu({ memSize: 4 << 20, platform: new BarePlatform(new GuestIo()) });
  cpu.load(org, bytes);
  cpu.rip = org;
  cpu.set64(4, 4 << 20, 0);
  expect(cpu.run(1e7)).toBe(StopReason.Halted);
  const at = org + bytes.length - size;
  return cpu.mem.slice(at, at + size);
}

export const q = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

/** Compare case by case; returns the differences as readable lines. */
function compare(cases: Case[], inputs: bigint[][], native: Uint8Array, model: Uint8Array): string[] {
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const o = i * 48;
    const m = c.mask ?? [ALL, ALL, ALL];
    const names = ["rax", "rcx", "rdx"];
    const diffs: string[] = [];
    for (let r = 0; r < 3; r++) {
      const n = q(native, o + 8 * r) & m[r],
        v = q(model, o + 8 * r) & m[r];
      if (n !== v) diffs.push(`${names[r]} native ${n.toString(16)} model ${v.toString(16)}`);
    }
    const nf = Number(q(native, o + 24)) & c.flags,
      mf = Number(q(model, o + 24)) & c.flags;
    if (nf !== mf) diffs.push(`flags native ${nf.toString(16)} model ${mf.toString(16)}`);
    for (const at of [32, 40])
      if (q(native, o + at) !== q(model, o + at))
        diffs.push(
          `[buf${at === 40 ? "-8" : ""}] native ${q(native, o + at).toString(16)} model ${q(model, o + at).toString(16)}`,
        );
    if (diffs.length)
      bad.push(`${c.insn} rax=${inputs[i][0].toString(16)} rcx=${inputs[i][1].toString(16)}: ${diffs.join("; ")}`);
  });
  return bad;
}

/** Random 64-bit values biased to the edges (0, 1, all ones, sign bits, small counts). */
const value = fc.oneof(
  fc.bigInt({ min: 0n, max: ALL }),
  fc.constantFrom(0n, 1n, ALL, 0x80000000n, 0x8000000000000000n, 0xffffffffn, 0x7fffffffn, 0x8000n, 0xffffn),
  fc.bigInt({ min: 0n, max: 63n }),
  fc.bigInt({ min: -300n, max: 300n }).map((v) => BigInt.asUintN(64, v)),
);

export function differential(cases: Case[], seed: number): string[] {
  const inputs = fc.sample(fc.tuple(value, value, value, value, value, fc.bigInt({ min: 0n, max: 4095n })), {
    numRuns: cases.length,
    seed,
  });
  const rows = inputs.map((t) => [...t].map((v, k) => (k === 5 ? v & BigInt(STATUS6) : v)));
  const src = body(cases, rows);
  const size = cases.length * 48;
  const dir = mkdtempSync(join(tmpdir(), "vpmu-native-"));
  try {
    return compare(cases, rows, runNative(src, size, dir), runModel(src, size));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Does this CPU run F3 0F BD as LZCNT (ABM) rather than BSR? lzcnt of 1 is 31 (32-bit), bsr gives 0. */
export function hostHasLzcnt(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-native-"));
  try {
    const out = runNative("mov ecx, 1\nlzcnt eax, ecx\nmov [rel out], rax", 8, dir);
    return q(out, 0) === 31n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const repeat = (forms: Case[], n: number): Case[] =>
  Array.from({ length: n }, (_, i) => forms[i % forms.length]);
export const sized = (s: number): [bigint, bigint, bigint] => {
  const m = s === 8 ? 0xffn : s === 16 ? M16 : s === 32 ? M32 : ALL;
  return [m, m, m];
};
