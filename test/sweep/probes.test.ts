import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble } from "../../src/asm/assemble.js";
import { fuzzPlan, fuzzSource, prng } from "../../src/sweep/fuzz.js";
import { controlMsrList, rdpmcList, readMsrList, readProbe, writeProbe } from "../../src/sweep/probes.js";

/** Assemble with NASM (independent of our assembler); fails loudly if nasm is missing. */
function nasm(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-sweep-"));
  writeFileSync(join(dir, "p.s"), source);
  execFileSync("nasm", ["-f", "bin", "-o", join(dir, "p.bin"), join(dir, "p.s")]);
  return new Uint8Array(readFileSync(join(dir, "p.bin")));
}

const hex = (xs: number[]) => xs.map((x) => x.toString(16));

describe("probe programs", () => {
  it("read every PMU MSR a guest can name: each counter family up to KVM's limit and one beyond", () => {
    const s = { nGP: 8, nFX: 4 };
    expect(hex(readMsrList(s))).toEqual([
      ...["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"],
      ...["4c1", "4c2", "4c3", "4c4", "4c5", "4c6", "4c7", "4c8", "4c9"],
      ...["186", "187", "188", "189", "18a", "18b", "18c", "18d", "18e"],
      ...["309", "30a", "30b", "30c", "30d"],
      ...["329", "345", "38d", "38e", "38f", "390", "391", "392", "3f1", "3f2", "600", "1a0", "1d9"],
    ]);
    expect(hex(rdpmcList(s))).toEqual([
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
      "ffff",
      "40000000",
      "40000001",
      "40000002",
      "40000003",
      "40000004",
      "4000ffff",
      "20000000",
      "20000001",
      "10000",
      "10001",
      "10002",
      "10003",
      "80000000",
      "c0000000",
      "60000000",
    ]);
  });

  it("write every bit of the first, last and first unexposed selector and of every control MSR", () => {
    expect(hex(controlMsrList({ nGP: 8, nFX: 4 }))).toEqual([
      "186",
      "18d",
      "18e",
      "38d",
      "38f",
      "390",
      "391",
      "3f1",
      "1d9",
    ]);
    expect(hex(controlMsrList({ nGP: 3, nFX: 3 }))).toEqual([
      "186",
      "188",
      "189",
      "38d",
      "38f",
      "390",
      "391",
      "3f1",
      "1d9",
    ]);
    expect(hex(controlMsrList({ nGP: 0, nFX: 0 }))).toEqual(["186", "38d", "38f", "390", "391", "3f1", "1d9"]);
  });

  it("assemble byte-identically with our assembler and NASM (probes and random probes)", () => {
    const sources = [
      readProbe({ nGP: 8, nFX: 4 }),
      writeProbe({ nGP: 8, nFX: 4 }),
      readProbe({ nGP: 3, nFX: 3 }),
      writeProbe({ nGP: 7, nFX: 4 }),
      fuzzSource(1, 0),
      fuzzSource(1, 63),
      fuzzSource(0xdeadbeef, 5),
    ];
    for (const src of sources) {
      const a = assemble(src);
      expect(a.ok).toBe(true);
      if (a.ok) expect(Buffer.from(a.value.bytes).equals(Buffer.from(nasm(src)))).toBe(true);
    }
  });

  it("random programs and plans depend only on the seed", () => {
    // mulberry32(1): the reference sequence of the published construction.
    const r = prng(1);
    expect([r(), r(), r()]).toEqual([2693262067, 11749833, 2265367787]);
    expect(fuzzSource(7, 3)).toBe(fuzzSource(7, 3));
    expect(fuzzSource(7, 3)).not.toBe(fuzzSource(8, 3));
    expect(fuzzPlan(1, 100, 5, 2)).toEqual(fuzzPlan(1, 100, 5, 2));
    expect(fuzzPlan(1, 100, 4, 2).map((j) => j.program)).toEqual([0, 1, 0, 1]);
    // Every random program has 48 operations, each ending in one privileged instruction.
    const ops = fuzzSource(1, 0)
      .split("\n")
      .filter((l) => /^\s+(rdpmc|rdmsr|wrmsr|cpuid)$/.test(l));
    expect(ops.length).toBe(48);
  });
});
