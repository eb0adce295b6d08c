// `vpmu asm` outputs: no output path may be an input (the source or a file it %includes), for every
// output option, and nothing is written then; an unwritable output path is one sentence.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vpmu } from "./run-cli.js";

const SOURCE = '%include "inc.s"\nnop\n';
const INCLUDED = "db 1\n";

function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-"));
  writeFileSync(join(dir, "x.s"), SOURCE);
  writeFileSync(join(dir, "inc.s"), INCLUDED);
  return dir;
}

describe("vpmu asm refuses to overwrite its inputs", () => {
  const cases: [string[], string][] = [
    [["x.s", "--listing", "x.s"], "vpmu: refusing to overwrite the source x.s with --listing: give another path\n"],
    [["x.s", "--symbols", "./x.s"], "vpmu: refusing to overwrite the source ./x.s with --symbols: give another path\n"],
    [["x.s", "-o", "x.s"], "vpmu: refusing to overwrite the source x.s with -o: give another path\n"],
    [
      ["x.s", "-o", "inc.s"],
      "vpmu: refusing to overwrite a file the source includes inc.s with -o: give another path\n",
    ],
    [
      ["x.s", "-o", "x.bin", "--listing", "inc.s"],
      "vpmu: refusing to overwrite a file the source includes inc.s with --listing: give another path\n",
    ],
    [
      ["x.s", "-o", "x.bin", "--symbols", "sub/../inc.s"],
      "vpmu: refusing to overwrite a file the source includes sub/../inc.s with --symbols: give another path\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    it(`vpmu asm ${args.join(" ")}: exit 2, nothing written`, () => {
      const dir = fresh();
      mkdirSync(join(dir, "sub"));
      expect(vpmu(["asm", ...args], { cwd: dir })).toEqual({ status: 2, stdout: "", stderr });
      expect(readdirSync(dir).sort()).toEqual(["inc.s", "sub", "x.s"]);
      expect(readFileSync(join(dir, "x.s"), "utf8")).toBe(SOURCE);
      expect(readFileSync(join(dir, "inc.s"), "utf8")).toBe(INCLUDED);
    });
  }
  it("the default output of a source without an extension is not the source", () => {
    const dir = fresh();
    writeFileSync(join(dir, "y"), "nop\n");
    expect(vpmu(["asm", "y"], { cwd: dir })).toEqual({ status: 0, stdout: "", stderr: "" });
    expect([...readFileSync(join(dir, "y.bin"))]).toEqual([0x90]);
  });
});

describe("vpmu asm output-path errors are one sentence", () => {
  it("a missing directory", () => {
    const dir = fresh();
    expect(vpmu(["asm", "x.s", "-o", "nodir/x.bin"], { cwd: dir })).toEqual({
      status: 1,
      stdout: "",
      stderr: "vpmu: cannot write output nodir/x.bin: directory nodir does not exist\n",
    });
    expect(readdirSync(dir).sort()).toEqual(["inc.s", "x.s"]);
  });
  it("a directory as the output", () => {
    const dir = fresh();
    mkdirSync(join(dir, "out"));
    expect(vpmu(["asm", "x.s", "-o", "x.bin", "--listing", "out"], { cwd: dir })).toEqual({
      status: 1,
      stdout: "",
      stderr: "vpmu: cannot write listing out: it is a directory\n",
    });
  });
  it("all or nothing: a listing that cannot be written leaves no binary (and an older one untouched)", () => {
    const dir = fresh();
    expect(vpmu(["asm", "x.s", "-o", "x.bin", "--listing", "nodir/x.lst"], { cwd: dir })).toEqual({
      status: 1,
      stdout: "",
      stderr: "vpmu: cannot write listing nodir/x.lst: directory nodir does not exist\n",
    });
    expect(readdirSync(dir).sort()).toEqual(["inc.s", "x.s"]);
    writeFileSync(join(dir, "x.bin"), "old");
    mkdirSync(join(dir, "map"));
    expect(vpmu(["asm", "x.s", "--listing", "-", "--symbols", "map"], { cwd: dir })).toEqual({
      status: 1,
      stdout: "",
      stderr: "vpmu: cannot write symbol map map: it is a directory\n",
    });
    expect(readdirSync(dir).sort()).toEqual(["inc.s", "map", "x.bin", "x.s"]);
    expect(readFileSync(join(dir, "x.bin"), "utf8")).toBe("old");
  });
  it("a file name too long for the system: a sentence, not Node's text", () => {
    const dir = fresh();
    const long = `${"n".repeat(300)}.bin`;
    const r = vpmu(["asm", "x.s", "-o", long], { cwd: dir });
    expect([r.status, r.stdout]).toEqual([1, ""]);
    // One line: the long name is cut in the middle (src/cli/errors.ts printable), the reason is ours.
    expect(r.stderr).toMatch(/^vpmu: cannot write output n+…\[\d+ characters\]…n+\.bin: the file name is too long\n$/);
  });
  it("a path through a file", () => {
    const dir = fresh();
    expect(vpmu(["asm", "x.s", "-o", "x.bin", "--symbols", "inc.s/map.json"], { cwd: dir })).toEqual({
      status: 1,
      stdout: "",
      stderr: "vpmu: cannot write symbol map inc.s/map.json: a component of the path is not a directory\n",
    });
  });
});
