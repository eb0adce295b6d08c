// Cross-check: every generated instruction form is assembled by vpmu and by `nasm -f bin` (NASM 2.16)
// and must be byte-identical; every form NASM rejects must be rejected by vpmu with a diagnostic.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../../src/asm/assemble.js";
import { generateCorpus } from "./corpus.js";

interface NasmForm {
  rejected: boolean;
  warned: boolean;
  hex: string;
}

function nasmAvailable(): boolean {
  const r = spawnSync("nasm", ["-v"], { encoding: "utf8" });
  return r.status === 0;
}

/** Runs nasm once on a batch (line i+2 = form i) and returns per-form results. */
function nasmBatch(forms: string[], dir: string): NasmForm[] {
  const src = join(dir, "batch.asm");
  const write = (skip: Set<number>): void =>
    writeFileSync(src, "bits 64\n" + forms.map((f, i) => (skip.has(i) ? "" : f)).join("\n") + "\n");
  const run = (): { stderr: string; status: number | null } => {
    const r = spawnSync("nasm", ["-f", "bin", src, "-o", join(dir, "batch.bin"), "-l", join(dir, "batch.lst")], { encoding: "utf8" });
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

describe("nasm cross-check", () => {
  it("nasm is installed (CI installs it with .ci/run)", () => {
    expect(nasmAvailable(), "nasm is not on PATH: install it (apt-get install nasm, or run .ci/run); the cross-check cannot run without it").toBe(true);
  });

  it("every generated form is byte-identical to nasm -f bin, and nasm's rejections are rejected", () => {
    if (!nasmAvailable()) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
    const forms = [...new Set(generateCorpus())];
    expect(forms.length).toBeGreaterThanOrEqual(2000);
    const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-"));
    try {
      const nasm = nasmBatch(forms, dir);
      const problems: string[] = [];
      let identical = 0;
      let bothRejected = 0;
      const warnedRejected: string[] = [];
      forms.forEach((form, i) => {
        const n = nasm[i];
        const r = assemble("bits 64\n" + form + "\n", { file: "form.s" });
        if (n.rejected) {
          if (r.ok) problems.push(`${form}: nasm rejects it, vpmu assembled ${hex(r.bytes)}`);
          else {
            bothRejected++;
            for (const d of r.diagnostics) if (d.line !== 2 || d.col < 1) problems.push(`${form}: diagnostic points at ${d.line}:${d.col}`);
          }
          return;
        }
        if (!r.ok) {
          // vpmu may refuse what nasm only accepts with a warning (e.g. truncated immediates).
          if (!n.warned) problems.push(`${form}: nasm gives ${n.hex}, vpmu rejects: ${r.diagnostics[0].message}`);
          else warnedRejected.push(`${form}: ${r.diagnostics[0].message}`);
          return;
        }
        const mine = hex(r.bytes);
        if (mine !== n.hex) problems.push(`${form}: nasm ${n.hex}, vpmu ${mine}`);
        else identical++;
      });
      if (process.env.ASM_XCHECK_OUT) {
        writeFileSync(process.env.ASM_XCHECK_OUT, [`forms ${forms.length} identical ${identical} bothRejected ${bothRejected}`, ...problems, "-- nasm warned, vpmu rejected:", ...warnedRejected].join("\n") + "\n");
      }
      expect(problems).toEqual([]);
      expect(identical).toBeGreaterThanOrEqual(1800);
      expect(bothRejected).toBeGreaterThan(50);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, "0")).join("");
}
