// The bundled CLI's start-up caches (src/cli/launch.ts: V8's code cache per command; src/cli/asm-cache.ts:
// assembled sources): a run that takes its image from the cache behaves exactly as one that assembles, and
// any change to the source or to a file it included (or the appearance of one it looked for) assembles again.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MAX_ENTRIES } from "../../src/cli/asm-cache.js";
import { MAIN, vpmu } from "./run-cli.js";

const CACHE = join(MAIN, "..", "cache");
const dir = mkdtempSync(join(tmpdir(), "vpmu-start-caches-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const asmEntries = () => (existsSync(CACHE) ? readdirSync(CACHE).filter((f) => /^asm-.*\.json$/.test(f)) : []);

/** Exit status and console of `vpmu run main.s` in the temporary directory. */
function run(env: Record<string, string> = {}) {
  const r = vpmu(["run", "main.s"], { cwd: dir, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("assembled sources", () => {
  test("the second run takes the image from the cache, with the same result; edits assemble again", () => {
    writeFileSync(join(dir, "value.inc"), "%define STATUS 7\n");
    writeFileSync(
      join(dir, "main.s"),
      'bits 64\norg 0x100000\n%include "value.inc"\n%include "extra.inc"\nmov al, STATUS\nout 0xf4, al\n',
    );
    // extra.inc does not exist yet: the assembly fails, and nothing is cached for it.
    const missing = run();
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/main\.s: assembly failed\n$/);
    writeFileSync(join(dir, "extra.inc"), "; nothing\n");
    const before = new Set(asmEntries());
    expect(run().status).toBe(7);
    const entry = asmEntries().find((f) => !before.has(f));
    expect(entry).toBeDefined();
    const written = statSync(join(CACHE, entry!)).mtimeMs;
    expect(run().status).toBe(7); // from the cache: the entry is not written again
    expect(statSync(join(CACHE, entry!)).mtimeMs).toBe(written);
    writeFileSync(join(dir, "value.inc"), "%define STATUS 9\n"); // an included file changed
    expect(run().status).toBe(9);
    expect(statSync(join(CACHE, entry!)).mtimeMs).not.toBe(written);
    expect(run().status).toBe(9);
    writeFileSync(
      join(dir, "main.s"),
      'bits 64\norg 0x100000\n%include "value.inc"\nmov al, STATUS + 1\nout 0xf4, al\n',
    );
    expect(run().status).toBe(10); // the source changed
    rmSync(join(dir, "value.inc"));
    const gone = run(); // an included file went away: assembled again, and it fails
    expect(gone.status).toBe(2);
    expect(gone.stderr).toMatch(/assembly failed/);
  });
});

describe("the cache's size", () => {
  test("saving an entry keeps the newest MAX_ENTRIES; older entries go first, newer ones stay", () => {
    mkdirSync(CACHE, { recursive: true });
    // Stand-ins for entries written long ago (a second apart), enough to fill the directory.
    const stale = Array.from(
      { length: MAX_ENTRIES },
      (_, i) => `asm-0000000000000000-stale${String(i).padStart(3, "0")}.json`,
    );
    stale.forEach((name, i) => {
      writeFileSync(join(CACHE, name), "{}");
      utimesSync(join(CACHE, name), 1_000_000 + i, 1_000_000 + i);
    });
    try {
      writeFileSync(join(dir, "bounded.s"), "bits 64\norg 0x100000\nmov al, 5\nout 0xf4, al\n");
      const before = new Set(asmEntries());
      expect(vpmu(["run", "bounded.s"], { cwd: dir }).status).toBe(5);
      const after = new Set(asmEntries());
      // The new entry is kept (other tests' runs may have added theirs too)…
      const added = [...after].filter((f) => !before.has(f));
      const source = join(dir, "bounded.s");
      expect(added.filter((f) => JSON.parse(readFileSync(join(CACHE, f), "utf8")).path === source)).toHaveLength(1);
      // …and the oldest stand-ins made room for it and for every entry other runs had written (runs of other
      // tests may write and trim meanwhile: so at least that many, and always the oldest).
      const left = stale.filter((f) => after.has(f));
      expect(left).toEqual(stale.slice(stale.length - left.length));
      expect(stale.length - left.length).toBeGreaterThanOrEqual(before.size + 1 - MAX_ENTRIES);
    } finally {
      for (const name of stale) rmSync(join(CACHE, name), { force: true });
    }
  });
});

describe("start-up", () => {
  test("a flat image's run that prints nothing loads neither node:crypto nor Node's stream modules", () => {
    // Every start pays for what it loads (src/cli/stdio.ts, src/cli/guest-image.ts); Node lists what it
    // loaded in process.moduleLoadList, read here at exit by a preloaded script that writes to a file.
    const bin = join(dir, "quiet.bin");
    writeFileSync(bin, Uint8Array.of(0xb0, 0x03, 0xe6, 0xf4)); // mov al, 3; out 0xf4, al
    const list = join(dir, "modules.txt");
    const preload = join(dir, "modules.cjs");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`,
    );
    const loaded = (args: string[]) => {
      const r = spawnSync(process.execPath, ["--require", preload, MAIN, "run", ...args], {
        cwd: dir,
        encoding: "utf8",
      });
      return { status: r.status, stdout: r.stdout, modules: readFileSync(list, "utf8").split("\n") };
    };
    const quiet = loaded([bin]);
    expect(quiet.status).toBe(3);
    expect(quiet.stdout).toBe("");
    expect(quiet.modules.filter((m) => /^NativeModule (crypto|stream)$/.test(m))).toEqual([]);
    // The same run with output does make stdout (and so loads the stream modules): the check can tell.
    writeFileSync(bin, Uint8Array.of(0xb0, 0x6b, 0xe6, 0xe9, 0xb0, 0x03, 0xe6, 0xf4)); // "k" to port 0xe9
    const loud = loaded([bin]);
    expect(loud).toMatchObject({ status: 3, stdout: "k" });
    expect(loud.modules).toContain("NativeModule stream");
  });
});

describe("V8's code cache", () => {
  test("runs with, without and recording the cache print the same", () => {
    writeFileSync(join(dir, "main.s"), 'bits 64\norg 0x100000\nmov al, "k"\nout 0xe9, al\nmov al, 3\nout 0xf4, al\n');
    const off = run({ VPMU_CACHE: "off" });
    const first = run();
    const cached = run();
    expect(off).toEqual({ status: 3, stdout: "k", stderr: "" });
    expect(first).toEqual(off);
    expect(cached).toEqual(off);
    expect(readdirSync(CACHE).some((f) => /^run-[0-9a-f]{16}\.bin$/.test(f))).toBe(true);
  });
});
