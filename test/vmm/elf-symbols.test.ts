// ELF code symbols for --trace (src/vmm/elf-symbols.ts): the same list `nm -n` gives as t/T, from an image
// binutils linked (ELF64), its objcopy to ELF32 (as kvm-unit-tests makes its .flat files), and nothing from a
// stripped one or from a file without section headers.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { elfTextSymbols } from "../../src/vmm/elf-symbols.js";
import { buildElf } from "./elf-build.js";

const dir = mkdtempSync(join(tmpdir(), "vpmu-elfsym-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const SRC = `
  .text
  .globl start
start: nop
  call helper
  hlt
local_label: ret
helper: ret
  .section .text.other, "ax"
  .globl far_func
far_func: ret
  .data
  .globl some_data
some_data: .quad 1
`;
function nmText(file: string): string[] {
  return run("nm", ["-n", file])
    .split("\n")
    .map((l) => /^0*([0-9a-f]+) [tT] (\S+)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}
const mine = (file: string) =>
  elfTextSymbols(readFileSync(join(dir, file))).map((s) => `${s.value.toString(16)} ${s.name}`);

describe("elfTextSymbols", () => {
  writeFileSync(join(dir, "k.s"), SRC);
  run("as", ["--64", "-o", "k.o", "k.s"]);
  run("ld", ["-m", "elf_x86_64", "-Ttext", "0x200000", "-o", "k.elf", "k.o"]);

  test("ELF64: the code symbols nm lists, by address; data symbols left out", () => {
    expect(mine("k.elf")).toEqual(nmText(join(dir, "k.elf")));
    expect(mine("k.elf")).toEqual(["200000 start", "200007 local_label", "200008 helper", "200009 far_func"]);
  });

  test("ELF32 made by objcopy -O elf32-i386: the same symbols", () => {
    run("objcopy", ["-O", "elf32-i386", "k.elf", "k.flat"]);
    expect(mine("k.flat")).toEqual(mine("k.elf"));
  });

  test("a stripped image, or one without section headers, has none", () => {
    run("strip", ["-o", "k.stripped", "k.elf"]);
    expect(mine("k.stripped")).toEqual([]);
    expect(
      elfTextSymbols(buildElf(64, 0x100000, [{ paddr: 0x100000, bytes: new Uint8Array([0xf4]), memsz: 1 }])),
    ).toEqual([]);
  });

  test("section headers cut off by the end of the file give none", () => {
    const b = readFileSync(join(dir, "k.elf"));
    expect(elfTextSymbols(b.subarray(0, b.length - 64))).toEqual([]);
  });
});
