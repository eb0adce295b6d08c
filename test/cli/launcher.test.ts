// dist/cli/main.js started as a command (`vpmu`, ./dist/cli/main.js) runs through its shell line
// (scripts/post-build.mjs): node on the same file, its arguments and exit status intact, and without
// NODE_EXTRA_CA_CERTS, whose file Node 20 reads at every start. Node warns on stderr when that file cannot be
// loaded, which shows whether the process read it.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MAIN } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "vpmu launcher "));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "no such file.pem"), NO_COLOR: "1" };
const WARNING = /Ignoring extra certs from/;

describe("the launcher's shell line", () => {
  // mov al, 5 / out 0xf4, al: the guest exits with status 5.
  const guest = join(dir, "exit five.bin");
  writeFileSync(guest, Uint8Array.of(0xb0, 0x05, 0xe6, 0xf4));

  test("run as a command: arguments with spaces reach vpmu, the guest's status comes back, no certificate load", () => {
    const r = spawnSync(MAIN, ["run", guest], { env, encoding: "utf8" });
    expect(r.stderr).not.toMatch(WARNING);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(5);
  });

  test("run through node, the shell line is a comment and Node reads the file as usual", () => {
    const r = spawnSync(process.execPath, [MAIN, "run", guest], { env, encoding: "utf8" });
    expect(r.stderr).toMatch(WARNING);
    expect(r.status).toBe(5);
  });
});

describe("vpmu test's runs", () => {
  test("start without NODE_EXTRA_CA_CERTS even when vpmu test itself was started through node", () => {
    // An update prints each run's stderr under its result line, so a run that read the file would show it.
    const programs = join(dir, "programs");
    mkdirSync(programs);
    writeFileSync(join(programs, "quiet.s"), "; vpmu:\nbits 64\norg 0x100000\nmov al, 0\nout 0xf4, al\n");
    const r = spawnSync(process.execPath, [MAIN, "test", "--update", programs], { env, encoding: "utf8", cwd: dir });
    expect(r.stderr).toMatch(WARNING); // vpmu test's own start read it
    expect(r.stdout).not.toMatch(WARNING);
    expect(r.status).toBe(0);
    expect(readFileSync(join(programs, "quiet.out"), "utf8")).toBe("exit status: 0\n");
  });
});
