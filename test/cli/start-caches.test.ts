// The bundled CLI's start-up caches (src/cli/launch.ts: V8's code cache per command; src/cli/asm-cache.ts:
// assembled sources): a run that takes its image from the cache behaves exactly as one that assembles, and
// any change to the source or to a file it included (or the appearance of one it looked for) assembles again.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MAIN, vpmu } from "./run-cli.js";

const CACHE = join(MAIN, "..", "cache");
const dir = mkdtempSync(join(tmpdir(), "vpmu-start-caches-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const asmEntries = () => (existsSync(CACHE) ? readdirSync(CACHE).filter((f) => f.startsWith("asm-")) : []);

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
