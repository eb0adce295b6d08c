// Every shipped guest program (and so the guest library it includes) assembles to the same bytes with
// vpmu's assembler as with `nasm -f bin` — the library is "usable from NASM too". NASM resolves
// %include against -I paths, vpmu against the including file: both layouts are given here.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble } from "../../src/index.js";
import { ROOT } from "../cli/run-cli.js";

function programs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    // src/ holds the sources of prebuilt kernels (nasm -f elf32 + ld: docs/loading.md), not flat programs.
    if (e.isDirectory() && e.name !== "lib" && e.name !== "src") out.push(...programs(p));
    else if (e.isFile() && /\.(s|asm|nasm)$/.test(e.name)) out.push(p);
  }
  return out;
}

function nasmAvailable(): boolean {
  try {
    execFileSync("nasm", ["-v"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

describe("guest programs assemble byte-identically with NASM", () => {
  it("nasm is installed (CI installs it: .ci/run)", () => {
    expect(nasmAvailable(), "nasm is not on PATH: install it (apt-get install nasm) — the cross-check needs it").toBe(
      true,
    );
  });
  const out = mkdtempSync(join(tmpdir(), "vpmu-nasm-compat-"));
  const areas = readdirSync(join(ROOT, "programs"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(ROOT, "programs", e.name))
    .sort();
  for (const file of programs(join(ROOT, "programs"))) {
    const name = relative(ROOT, file);
    it(name, () => {
      const ours = assemble(readFileSync(file, "utf8"), {
        file,
        include: (inc, from) => {
          const p = join(dirname(from), inc);
          return existsSync(p) ? { file: p, text: readFileSync(p, "utf8") } : null;
        },
      });
      expect(ours.ok, ours.ok ? "" : JSON.stringify(ours.error.slice(0, 3))).toBe(true);
      if (!ours.ok) return;
      const bin = join(out, name.replace(/[/.]/g, "_") + ".bin");
      // The program's own directory first, then every programs/ area (for includes of includes).
      const dirs = [dirname(file), ...areas].flatMap((d) => ["-I", d + "/"]);
      execFileSync("nasm", ["-f", "bin", ...dirs, "-o", bin, file], { stdio: "pipe" });
      expect(Buffer.from(ours.value.bytes).equals(readFileSync(bin))).toBe(true);
    });
  }
});
