// Test helper: assemble NASM source with the real `nasm -f bin` (installed by .ci/run). Missing nasm
// fails loudly: these tests must not silently skip.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function nasm(src: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-cpu-"));
  try {
    writeFileSync(join(dir, "t.s"), src);
    try {
      execFileSync("nasm", ["-f", "bin", "-o", join(dir, "t.bin"), join(dir, "t.s")], {
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === "ENOENT") throw new Error("nasm is not installed (CI installs it via .ci/run)");
      throw new Error("nasm failed: " + (err.stderr?.toString() ?? String(e)));
    }
    return new Uint8Array(readFileSync(join(dir, "t.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A guest program at the ABI's default origin. */
export function prog(body: string, org = 0x100000): Uint8Array {
  return nasm(`bits 64\norg 0x${org.toString(16)}\n${body}\n`);
}
