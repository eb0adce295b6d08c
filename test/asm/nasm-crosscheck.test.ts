// Cross-check: every generated instruction form is assembled by vpmu and by `nasm -f bin` (NASM 2.16)
// and must be byte-identical; every form NASM rejects must be rejected by vpmu with a diagnostic.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../../src/asm/assemble.js";
import { generateCorpus } from "./corpus.js";
import { nasmAvailable, nasmBatch } from "./nasm-batch.js";

describe("nasm cross-check", () => {
  it("nasm is installed (CI installs it with .ci/run)", () => {
    expect(
      nasmAvailable(),
      "nasm is not on PATH: install it (apt-get install nasm, or run .ci/run); the cross-check cannot run without it",
    ).toBe(true);
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
          if (r.ok) problems.push(`${form}: nasm rejects it, vpmu assembled ${hex(r.value.bytes)}`);
          else {
            bothRejected++;
            for (const d of r.error)
              if (d.line !== 2 || d.col < 1) problems.push(`${form}: diagnostic points at ${d.line}:${d.col}`);
          }
          return;
        }
        if (!r.ok) {
          // vpmu may refuse what nasm only accepts with a warning (e.g. truncated immediates).
          if (!n.warned) problems.push(`${form}: nasm gives ${n.hex}, vpmu rejects: ${r.error[0].message}`);
          else warnedRejected.push(`${form}: ${r.error[0].message}`);
          return;
        }
        const mine = hex(r.value.bytes);
        if (mine !== n.hex) problems.push(`${form}: nasm ${n.hex}, vpmu ${mine}`);
        else identical++;
      });
      if (process.env.ASM_XCHECK_OUT) {
        writeFileSync(
          process.env.ASM_XCHECK_OUT,
          [
            `forms ${forms.length} identical ${identical} bothRejected ${bothRejected}`,
            ...problems,
            "-- nasm warned, vpmu rejected:",
            ...warnedRejected,
          ].join("\n") + "\n",
        );
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

// Layout: jump sizing across passes depends on what every other statement's size was in each pass (a
// forward [rel label] is one byte longer in NASM's first pass; `align` and `times $`-expressions move with
// it). Random programs of labels, forward and backward jumps, RIP-relative and absolute operands,
// alignment and filler must still come out byte-identical to nasm.
describe("nasm cross-check: layouts", () => {
  it("random jump/label/align programs are byte-identical to nasm -f bin", async () => {
    if (!nasmAvailable()) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
    const fc = (await import("fast-check")).default;
    const dir = mkdtempSync(join(tmpdir(), "vpmu-layout-"));
    try {
      const stmt = (nLabels: number) =>
        fc.oneof(
          fc
            .tuple(fc.constantFrom("jmp", "jz", "jnc", "call"), fc.integer({ min: 0, max: nLabels - 1 }))
            .map(([m, l]) => `${m} L${l}`),
          fc
            .tuple(
              fc.constantFrom(
                "lea rax, [rel L%]",
                "mov [rel L%], ecx",
                "add qword [rel L%], 1",
                "lea rbx, [L%]",
                "mov eax, L%",
                "dq L%",
              ),
              fc.integer({ min: 0, max: nLabels - 1 }),
            )
            .map(([f, l]) => f.replace("%", String(l))),
          fc
            .oneof(
              fc.integer({ min: 1, max: 12 }),
              fc.integer({ min: 50, max: 64 }),
              fc.integer({ min: 105, max: 127 }),
            )
            .map((n) => `times ${n} nop`),
          fc.constantFrom(4, 8, 16, 32).map((a) => `align ${a}`),
          fc.constantFrom("ret", "xor eax, eax", "db 1, 2, 3"),
        );
      const program = fc.integer({ min: 2, max: 6 }).chain((nLabels) =>
        fc
          .tuple(
            fc.array(stmt(nLabels), { minLength: nLabels, maxLength: 12 }),
            fc.array(fc.nat(), { minLength: nLabels, maxLength: nLabels }),
          )
          .map(([body, at]) => {
            const lines = [...body];
            for (const [l, p] of at.entries()) lines.splice(p % (lines.length + 1), 0, `L${l}:`);
            return "bits 64\n" + lines.join("\n") + "\n";
          }),
      );
      const problems: string[] = [];
      fc.assert(
        fc.property(program, (src) => {
          const file = join(dir, "p.asm");
          writeFileSync(file, src);
          const n = spawnSync("nasm", ["-f", "bin", file, "-o", join(dir, "p.bin")], { encoding: "utf8" });
          const r = assemble(src, { file: "p.asm" });
          if (n.status !== 0) return; // e.g. a short jcc/call shape nasm refuses: not a layout question
          if (!r.ok) {
            problems.push(`${src}vpmu rejects: ${r.error[0].message}`);
            return;
          }
          const want = hex(readFileSync(join(dir, "p.bin")));
          if (hex(r.value.bytes) !== want) problems.push(`${src}nasm ${want}\nvpmu ${hex(r.value.bytes)}`);
        }),
        { numRuns: 300, seed: 1729 },
      );
      expect(problems.slice(0, 3)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it("jumps at the short/near boundary with forward operands between are byte-identical to nasm -f bin", () => {
    if (!nasmAvailable()) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
    const shapes = [
      "jmp f\n{X}\ntimes {n} nop\nf:\nret\ng: db 0",
      "jz f\n{X}\ntimes {n} nop\nalign 8\ndq 0\nf:\nret\ng: db 0",
      "jmp f\ntimes {n} nop\n{X}\nalign 16\nf:\nret\ng: db 0",
      "b: times {n} nop\n{X}\njnz b\nf: ret\ng: db 0",
    ];
    const xs = [
      "lea rax, [rel f]",
      "mov [rel g], ecx",
      "add qword [rel g], 1",
      "lea rbx, [g]",
      "mov eax, g",
      "call g",
      "jmp g",
      "nop",
    ];
    const dir = mkdtempSync(join(tmpdir(), "vpmu-jumps-"));
    try {
      const problems: string[] = [];
      let checked = 0;
      for (const shape of shapes)
        for (const x of xs)
          for (let n = 118; n <= 130; n++) {
            const src = "bits 64\n" + shape.replace("{X}", x).replace("{n}", String(n)) + "\n";
            const file = join(dir, "j.asm");
            writeFileSync(file, src);
            const r = spawnSync("nasm", ["-f", "bin", file, "-o", join(dir, "j.bin")], { encoding: "utf8" });
            if (r.status !== 0) throw new Error(`nasm rejects:\n${src}${r.stderr}`);
            const ours = assemble(src, { file: "j.asm" });
            const want = hex(readFileSync(join(dir, "j.bin")));
            if (!ours.ok) problems.push(`${src}vpmu rejects: ${ours.error[0].message}`);
            else if (hex(ours.value.bytes) !== want)
              problems.push(`${src}nasm ${want.slice(0, 24)}…\nvpmu ${hex(ours.value.bytes).slice(0, 24)}…`);
            checked++;
          }
      expect(checked).toBe(4 * 8 * 13);
      expect(problems.slice(0, 3)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
