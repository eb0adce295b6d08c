// `vpmu disasm` through the built binary: an encoding NASM would not reproduce is printed as `db` with the
// instruction and NASM's bytes in the comment, undecodable bytes are marked, and the listing assembles
// back to the file with the real nasm (docs/cpu.md "Disassembly").
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { vpmu } from "./run-cli.js";

const tmp = mkdtempSync(join(tmpdir(), "vpmu-disasm-"));

it("fallback lines name the instruction and NASM's bytes; the listing re-assembles with nasm", () => {
  const bin = join(tmp, "mixed.bin");
  const image = Uint8Array.from([0x03, 0xc8, 0x0f, 0x0f, 0x26, 0x5e, 0x90, 0xeb, 0xfe]);
  writeFileSync(bin, image);
  const r = vpmu(["disasm", bin]);
  expect(r).toEqual({
    status: 0,
    stderr: "",
    stdout: [
      "bits 64",
      "org 0x100000",
      "    db 0x03, 0xc8                            ; 0x100000: 03 c8 (add ecx, eax: nasm encodes it 01 c1)",
      "    db 0x0f                                  ; 0x100002: 0f (not an instruction)",
      "    db 0x0f                                  ; 0x100003: 0f (not an instruction)",
      "    db 0x26, 0x5e                            ; 0x100004: 26 5e (pop rsi: nasm encodes it 5e)",
      "    nop                                      ; 0x100006: 90",
      "    jmp short 0x100007                       ; 0x100007: eb fe",
      "",
    ].join("\n"),
  });
  writeFileSync(join(tmp, "mixed.s"), r.stdout);
  execFileSync("nasm", ["-f", "bin", "-o", join(tmp, "again.bin"), join(tmp, "mixed.s")]);
  expect([...readFileSync(join(tmp, "again.bin"))]).toEqual([...image]);
});
