// `vpmu run` with kernels, through the built CLI: the ELF golden rebuilt from its source with nasm and ld
// prints the committed output; bad kernels and kernel-only options on flat programs give one sentence and
// exit status 2.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { goldenText } from "../../src/golden/index.js";
import { ROOT, vpmu } from "../cli/run-cli.js";
import { buildElf, concat, mbHeader } from "./elf-build.js";

const tmp = mkdtempSync(join(tmpdir(), "vpmu-kernel-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("programs/boot/multiboot-elf.elf", () => {
  it("rebuilt from src/multiboot-elf.asm (nasm -f elf32, ld -N) prints the golden output", () => {
    const obj = join(tmp, "m.o");
    const elf = join(tmp, "multiboot-elf.elf");
    const n = spawnSync(
      "nasm",
      ["-f", "elf32", "-i", join(ROOT, "programs/boot/"), join(ROOT, "programs/boot/src/multiboot-elf.asm"), "-o", obj],
      { encoding: "utf8" },
    );
    if (n.error) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
    expect(n.stderr).toBe("");
    const l = spawnSync("ld", ["-m", "elf_i386", "-N", "-Ttext=0x100000", "-e", "start", "-o", elf, obj], {
      encoding: "utf8",
    });
    if (l.error) throw new Error("ld is not on PATH: install binutils (scripts/ensure-tools.sh)");
    expect(l.status).toBe(0);
    const r = vpmu(["run", "multiboot-elf.elf"], { cwd: tmp });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(goldenText(r.stdout, 0)).toBe(readFileSync(join(ROOT, "programs/boot/multiboot-elf.out"), "latin1"));
  });
});

describe("vpmu run with kernels: usage errors", () => {
  const file = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(tmp, name), bytes);
    return name;
  };
  const elf = buildElf(32, 0x10000c, [{ paddr: 0x100000, bytes: concat(mbHeader(3), Uint8Array.of(0xf4)), memsz: 13 }]);
  it.each([
    [
      ["run", file("trunc.flat", elf.subarray(0, 60))],
      "vpmu: trunc.flat: truncated ELF file: its 1 program headers at offset 0x34 end past the file's 60 bytes\n",
    ],
    [
      ["run", file("bad.bin", mbHeader(0x10003, [0x100000, 0x100000, 0, 0, 0x100000], 5))],
      "vpmu: bad.bin: Multiboot header at offset 0x0 has a bad checksum: magic + flags + checksum = 0x5, not 0\n",
    ],
    [
      ["run", "--mem", "1M", file("k.elf", elf)],
      "vpmu: k.elf: a booted kernel needs between 2 MiB and 3.5 GiB - 4 KiB of RAM (got 1048576 bytes): from 3.5 GiB on QEMU's pc machine maps RAM above 4 GiB, and vpmu's guest RAM is one range from address 0\n",
    ],
    [
      ["run", "--initrd", "nonexistent.env", "k.elf"],
      "vpmu: cannot read initrd " + join(tmp, "nonexistent.env") + ": no such file\n",
    ],
    [
      ["run", "--append", "x", join(ROOT, "programs/cpu/hello.s")],
      `vpmu: --append is for a booted kernel (an ELF or Multiboot image), and ${join(ROOT, "programs/cpu/hello.s")} is a flat program (docs/loading.md)\n`,
    ],
  ])("%j", (args, sentence) => {
    const r = vpmu(args, { cwd: tmp });
    expect([r.status, r.stdout, r.stderr]).toEqual([2, "", sentence]);
  });
  it("a kernel whatever its name boots (here .flat, halting at once: status 0)", () => {
    const r = vpmu(["run", file("k.flat", elf)], { cwd: tmp });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
  });
});
