// The assembler's limits (docs/assembler.md "Limits") on heavy inputs, through the built CLI in a child
// process with a 256 MB V8 heap: each either succeeds within that cap or stops with exit status 1 and
// one error naming its limit (issue 15 item 12). Reserved and repeated bytes cost about their size.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, statSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "../cli/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-limits-"));

function asm(name: string, src: string): { status: number | null; stderr: string; bin: string } {
  const f = join(dir, name + ".s");
  const bin = join(dir, name + ".bin");
  writeFileSync(f, src);
  const r = spawnSync(process.execPath, ["--max-old-space-size=256", MAIN, "asm", f, "-o", bin], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stderr: r.stderr.replaceAll(dir + "/", ""), bin };
}

/** The first line of the error output (file:line:col: error: …). */
const firstLine = (s: string): string => s.split("\n")[0];

describe("assembler limits under a 256 MB heap", () => {
  it("resq 6513249 (52 MB of reserved space) succeeds", () => {
    const r = asm("resq", "bits 64\nresq 6513249\ndb 1\n");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(statSync(r.bin).size).toBe(6513249 * 8 + 1);
    const b = readFileSync(r.bin);
    expect(b[0] | b[52105991]).toBe(0);
    expect(b[52105992]).toBe(1);
  });

  it("times 60000000 db 0 and a repeated pattern succeed", () => {
    const r = asm("times", "bits 64\ntimes 60000000 db 0\ntimes 5000000 dw 0x1234\ntimes 3 nop\n");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const b = readFileSync(r.bin);
    expect(b.length).toBe(60_000_000 + 10_000_000 + 3);
    expect(Array.from(b.subarray(59_999_999, 60_000_004))).toEqual([0, 0x34, 0x12, 0x34, 0x12]);
    expect(Array.from(b.subarray(b.length - 5))).toEqual([0x34, 0x12, 0x90, 0x90, 0x90]);
  });

  const refused: [string, string, string][] = [
    [
      "output size",
      "bits 64\nresb 3000000000\nresb 3000000000\n",
      "output.s:3:1: error: output image larger than 4294967296 bytes (4 GiB, the output size limit)",
    ],
    [
      "count above the output size",
      "bits 64\ntimes 5000000000 db 0\n",
      "count.s:2:1: error: count 5000000000 is larger than the output size limit (4294967296 bytes, 4 GiB)",
    ],
    [
      "%rep count",
      "bits 64\n%rep 2000000\nnop\n%endrep\n",
      "rep.s:2:1: error: %rep count 2000000 is larger than 1000000 (the %rep count limit)",
    ],
    [
      "lines after preprocessing",
      "bits 64\n%rep 1000000\nnop\n%endrep\n",
      "lines.s:3:1: error: program has more than 100000 lines (the line limit)",
    ],
    [
      "preprocessing work",
      "%rep 1000000\n%rep 1000000\n%endrep\n%endrep\n",
      "work.s:2:1: error: more than 4000000 lines to preprocess (the preprocessing work limit; nested %rep or macros repeat too often)",
    ],
    [
      "macro expansion depth",
      Array.from({ length: 70 }, (_, i) => `%macro m${i} 0\nm${i + 1}\n%endmacro\n`).join("") +
        "%macro m70 0\nnop\n%endmacro\nm0\n",
      "depth.s:191:1: error: macro calls nested more than 64 deep (the macro expansion depth limit)",
    ],
    [
      "tokens per line after %define",
      "%define a b b b b b b b b\n%define b c c c c c c c c\n%define c d d d d d d d d\n%define d e e e e e e e e\nbits 64\ndb a\n",
      "tokens.s:6:1: error: line has more than 2000 tokens after %define expansion (the tokens-per-line limit)",
    ],
    [
      "times of a jump",
      "bits 64\ntimes 2000000 jmp $\n",
      "jumps.s:2:1: error: times: a statement that encodes differently at each address (a jump, a RIP-relative operand, align) is repeated at most 1000000 times on one line (the times repetition limit)",
    ],
  ];
  for (const [name, src, want] of refused) {
    it(`stops cleanly at the ${name} limit`, () => {
      const file = want.split(".s:")[0];
      const r = asm(file, src);
      expect(firstLine(r.stderr)).toBe(want);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/vpmu: .*\.s: \d+ errors?, nothing written\n$/);
    });
  }

  it("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});
