// Every example in docs/*.md and README.md runs here, so none goes stale. Convention (docs/README.md):
// - a fenced block whose info string has `file=PATH` (```nasm file=programs/mine/hello.s) is written
//   to PATH in the document's scratch directory before the document's commands run;
// - a ```console block holds commands (`$ …`, run by bash in that directory with `vpmu` on PATH) each
//   followed by its exact output (stdout and stderr together, every line newline-terminated),
//   compared byte for byte.
// The scratch directory has programs/<area> linked to the repository's programs, so examples can use
// the guest library and the shipped programs without writing into the repository.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAIN, ROOT } from "./cli/run-cli.js";

interface Block {
  info: string;
  body: string;
  line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    out.push({ info: open[1]!.trim(), body: body.length ? body.join("\n") + "\n" : "", line: start + 1 });
  }
  return out;
}

interface Example {
  command: string;
  expected: string;
  line: number;
}

function commands(block: Block): Example[] {
  const out: Example[] = [];
  let cur: Example | null = null;
  block.body
    .replace(/\n$/, "")
    .split("\n")
    .forEach((l, k) => {
      if (l.startsWith("$ ")) {
        if (cur) out.push(cur);
        cur = { command: l.slice(2), expected: "", line: block.line + 1 + k };
      } else if (cur) {
        cur.expected += l + "\n";
      }
    });
  if (cur) out.push(cur);
  return out;
}

function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vpmu-doc-${name}-`));
  mkdirSync(join(dir, "programs"));
  for (const area of readdirSync(join(ROOT, "programs")))
    symlinkSync(join(ROOT, "programs", area), join(dir, "programs", area));
  const bin = join(dir, ".bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "vpmu"), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(join(bin, "vpmu"), 0o755);
  return dir;
}

const docs = [
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join("docs", f)),
  "README.md",
];

for (const doc of docs) {
  const text = readFileSync(join(ROOT, doc), "utf8");
  const all = blocks(text);
  const examples = all.filter((b) => b.info.split(/\s+/)[0] === "console").flatMap(commands);
  if (examples.length === 0) continue;
  describe(doc, () => {
    const dir = scratch(doc.replace(/[^a-z0-9]+/gi, "-"));
    for (const b of all) {
      const file = /(?:^|\s)file=(\S+)/.exec(b.info);
      if (!file) continue;
      mkdirSync(dirname(join(dir, file[1]!)), { recursive: true });
      writeFileSync(join(dir, file[1]!), b.body);
    }
    for (const ex of examples) {
      it(`${doc}:${ex.line}: $ ${ex.command}`, () => {
        const r = spawnSync("bash", ["-c", `(${ex.command}) 2>&1`], {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, PATH: `${join(dir, ".bin")}:${process.env.PATH}`, NO_COLOR: "1" },
          timeout: 300_000,
        });
        expect(r.stdout).toBe(ex.expected);
      }, 600_000);
    }
  });
}
