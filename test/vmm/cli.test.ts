// `vpmu run` end to end through the built CLI (dist/): the guest console on stdout, exit statuses, and
// Ctrl-C stopping a runaway guest cleanly with the same kind of report as the instruction limit.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";

const MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "vpmu-run-"));
const src = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, `bits 64\norg 0x100000\n${body}\n`);
  return p;
};

test("console, status, and usage errors", () => {
  const ok = spawnSync(
    process.execPath,
    [MAIN, "run", src("a.s", "mov al, 'A'\nout 0xe9, al\nmov al, 7\nout 0xf4, al")],
    { encoding: "utf8" },
  );
  expect([ok.stdout, ok.stderr, ok.status]).toEqual(["A", "", 7]);
  const bad = spawnSync(process.execPath, [MAIN, "run", "--mem", "lots", src("b.s", "hlt")], { encoding: "utf8" });
  expect([bad.stderr, bad.status]).toEqual(["vpmu: --mem lots: expected a size such as 16M, 65536 or 0x1000000\n", 2]);
});

// Far above the default limit (10^8), which a spinning guest reaches within a second.
test("Ctrl-C stops a runaway guest with a report and status 103", async () => {
  const child = spawn(
    process.execPath,
    [MAIN, "run", "--max-insns", "1000000000000000", src("spin.s", "l: inc rax\njmp l")],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  // Give node time to start and install its handler even on a loaded machine, then interrupt.
  await new Promise((r) => setTimeout(r, 4000));
  child.kill("SIGINT");
  const status = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  expect(status).toBe(103);
  expect(err).toMatch(/^vpmu: interrupted at rip=0x10000[03] after \d+ instructions\n$/);
});
