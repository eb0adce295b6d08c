// Test helper: run nasm once over a batch of instruction forms (one a line, after a `bits N` line) and
// return, per form, whether nasm rejected or warned about it and the bytes it produced.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface NasmForm {
  rejected: boolean;
  warned: boolean;
  hex: string;
}

export function nasmAvailable(): boolean {
  const r = spawnSync("nasm", ["-v"], { encoding: "utf8" });
  return r.status === 0;
}

/** Runs nasm once on a batch (line i+2 = form i) and returns per-form results. */
export function nasmBatch(forms: string[], dir: string, bits: 16 | 32 | 64 = 64): NasmForm[] {
  const src = join(dir, "batch.asm");
  const write = (skip: Set<number>): void =>
    writeFileSync(src, `bits ${bits}\n` + forms.map((f, i) => (skip.has(i) ? "" : f)).join("\n") + "\n");
  const run = (): { stderr: string; status: number | null } => {
    const r = spawnSync("nasm", ["-f", "bin", src, "-o", join(dir, "batch.bin"), "-l", join(dir, "batch.lst")], {
      encoding: "utf8",
    });
    return { stderr: r.stderr, status: r.status };
  };
  const lineOf = (kind: string, text: string): Set<number> => {
    const s = new Set<number>();
    for (const m of text.matchAll(new RegExp(`batch\\.asm:(\\d+): ${kind}:`, "g"))) s.add(Number(m[1]) - 2);
    return s;
  };
  // nasm stops at the end of the pass that found errors and writes no output: blank the rejected
  // lines and run again, until it succeeds (errors of later passes show up in later rounds).
  const rejected = new Set<number>();
  const warned = new Set<number>();
  for (let round = 0; ; round++) {
    write(rejected);
    const r = run();
    for (const i of lineOf("warning", r.stderr)) warned.add(i);
    if (r.status === 0) break;
    const errs = lineOf("error", r.stderr);
    if (errs.size === 0 || round > 20) throw new Error(`nasm fails without a line error:\n${r.stderr}`);
    for (const i of errs) rejected.add(i);
  }
  const hex = new Map<number, string>();
  for (const line of readFileSync(join(dir, "batch.lst"), "utf8").split("\n")) {
    const m = /^\s*(\d+) [0-9A-F]{8} ([0-9A-F[\]()-]+)/.exec(line);
    if (!m) continue;
    const i = Number(m[1]) - 2;
    hex.set(i, (hex.get(i) ?? "") + m[2].replace(/[[\]()-]/g, ""));
  }
  return forms.map((_, i) => ({ rejected: rejected.has(i), warned: warned.has(i), hex: hex.get(i) ?? "" }));
}
