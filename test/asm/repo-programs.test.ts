// Every guest program in programs/ (and the lib/*.inc it includes) assembles to the same bytes with
// vpmu and with `nasm -f bin` (nasm is given every program directory and programs/lib/ as -i paths).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { assemble } from "../../src/asm/assemble.js";
import { formatDiagnostic } from "../../src/asm/diagnostics.js";

const root = resolve(new URL("../../programs", import.meta.url).pathname);

function walk(d: string, out: string[] = []): string[] {
  if (!existsSync(d)) return out;
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".s")) out.push(p);
  }
  return out;
}

describe("programs/**/*.s equal nasm -f bin", () => {
  const files = walk(root);
  const tmp = mkdtempSync(join(tmpdir(), "vpmu-asm-repo-"));
  for (const f of files) {
    it(f.slice(root.length + 1), () => {
      const r = assemble(readFileSync(f, "utf8"), {
        file: f,
        include: (name, from) => {
          const p = resolve(dirname(from), name);
          return existsSync(p) ? { file: p, text: readFileSync(p, "utf8") } : null;
        },
      });
      const out = join(tmp, "out.bin");
      // nasm searches -i directories (not the including file's): give it every program directory.
      const dirs = [...new Set([dirname(f), ...files.map((x) => dirname(x)), join(root, "lib")])].flatMap((d) => [
        "-i",
        d + "/",
      ]);
      const n = spawnSync("nasm", ["-f", "bin", ...dirs, f, "-o", out], { encoding: "utf8" });
      if (n.error) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
      if (n.status !== 0) {
        expect(r.ok, `nasm rejects ${f} but vpmu accepts it`).toBe(false);
        return;
      }
      if (!r.ok) throw new Error(r.error.map((d) => formatDiagnostic(d)).join("\n"));
      expect(Buffer.from(r.value.bytes).toString("hex")).toBe(readFileSync(out).toString("hex"));
    });
  }
  it("cleans up", () => rmSync(tmp, { recursive: true, force: true }));
});
