// `vpmu test` end to end on a scratch tree of programs: result lines in program order, diffs, the
// missing-golden hint, SKIP for status 77, the final count, exit status, --update, TAP and JSON.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { spawnSync } from "node:child_process";
import { MAIN, ROOT, vpmu } from "./run-cli.js";

function spawnBytes(args: string[]): Buffer {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } }).stdout;
}

const PRELUDE = '        org 0x100000\n        bits 64\n%include "../lib/vpmu.inc"\n';
const PROGRAMS: Record<string, string> = {
  "a-pass.s": `; vpmu:\n${PRELUDE}        REPORT_PASS "one"\n        REPORT_PASS "two"\n        REPORT_SUMMARY\n`,
  "b-differs.s": `${PRELUDE}        PRINTLN "actual line"\n        EXIT 3\n`,
  "c-missing.s": `${PRELUDE}        PRINTLN "no golden"\n        EXIT 0\n`,
  "d-skip.s": `${PRELUDE}        REPORT_SKIP "not here"\n        REPORT_SUMMARY\n`,
};
const GOLDEN: Record<string, string> = {
  "a-pass.out": "PASS: one\nPASS: two\nSUMMARY: 2 tests\nexit status: 0\n",
  "b-differs.out": "expected line\nexit status: 0\n",
  "d-skip.out": "SKIP: not here\nSUMMARY: 1 tests, 1 skipped\nexit status: 77\n",
};

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vpmu-test-cmd-"));
  mkdirSync(join(dir, "programs", "t"), { recursive: true });
  cpSync(join(ROOT, "programs", "lib"), join(dir, "programs", "lib"), { recursive: true });
  for (const [f, t] of Object.entries({ ...PROGRAMS, ...GOLDEN })) writeFileSync(join(dir, "programs", "t", f), t);
});

const LINE_REPORT = [
  "PASS t/a-pass (2 tests)",
  "FAIL t/b-differs (exit status 3; output differs from programs/t/b-differs.out)",
  "--- programs/t/b-differs.out",
  "+++ programs/t/b-differs.s (actual)",
  "@@ -1,2 +1,2 @@",
  "-expected line",
  "-exit status: 0",
  "+actual line",
  "+exit status: 3",
  "FAIL t/c-missing (no golden file programs/t/c-missing.out)",
  "    create it with: vpmu test --update programs/t/c-missing.s",
  "SKIP t/d-skip (1 tests, 1 skipped)",
  "4 programs: 1 passed, 2 failed, 1 skipped",
  "",
].join("\n");

// Each case runs the CLI several times; a busy machine must not turn slowness into failures.
vi.setConfig({ testTimeout: 600_000 });

describe("vpmu test", () => {
  it("prints one line per program in order, diffs, hints and the count; exits 1 on failure", () => {
    const r = vpmu(["test", "programs"], { cwd: dir });
    expect(r.stdout).toBe(LINE_REPORT);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    // Nothing was written without --update.
    expect(existsSync(join(dir, "programs/t/c-missing.out"))).toBe(false);
    expect(readFileSync(join(dir, "programs/t/b-differs.out"), "utf8")).toBe(GOLDEN["b-differs.out"]);
  });

  it("is the same with one job or many", () => {
    expect(vpmu(["test", "-j", "1", "programs"], { cwd: dir }).stdout).toBe(LINE_REPORT);
    expect(vpmu(["test", "-j", "4", "programs"], { cwd: dir }).stdout).toBe(LINE_REPORT);
  });

  it("--update rewrites exactly the files that differ and says which", () => {
    const r = vpmu(["test", "--update", "programs/t"], { cwd: dir });
    expect(r.stdout).toBe(
      [
        "PASS t/a-pass (2 tests)",
        "UPDATE t/b-differs (wrote programs/t/b-differs.out)",
        "UPDATE t/c-missing (wrote programs/t/c-missing.out)",
        "SKIP t/d-skip (1 tests, 1 skipped)",
        "4 programs: 1 passed, 1 skipped, 2 updated",
        "",
      ].join("\n"),
    );
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "programs/t/b-differs.out"), "utf8")).toBe("actual line\nexit status: 3\n");
    expect(readFileSync(join(dir, "programs/t/c-missing.out"), "utf8")).toBe("no golden\nexit status: 0\n");
    const again = vpmu(["test", "programs/t/b-differs.s", "programs/t/c-missing.s"], { cwd: dir });
    expect(again.stdout).toBe(
      "PASS t/b-differs (exit status 3)\nPASS t/c-missing (exit status 0)\n2 programs: 2 passed\n",
    );
    expect(again.status).toBe(0);
  });

  it("--reporter tap and json", () => {
    const tap = vpmu(
      ["test", "--reporter", "tap", "programs/t/a-pass.s", "programs/t/d-skip.s", "programs/t/c-missing.s"],
      { cwd: dir },
    );
    expect(tap.stdout).toBe(
      [
        "TAP version 13",
        "1..3",
        "ok 1 - t/a-pass (2 tests)",
        "not ok 2 - t/c-missing (no golden file programs/t/c-missing.out)",
        "  ---",
        '  program: "programs/t/c-missing.s"',
        '  golden: "programs/t/c-missing.out"',
        '  note: "create it with: vpmu test --update programs/t/c-missing.s"',
        "  ...",
        "ok 3 - t/d-skip # SKIP 1 tests, 1 skipped",
        "",
      ].join("\n"),
    );
    expect(tap.status).toBe(1);
    const json = JSON.parse(vpmu(["test", "--json", "programs/t"], { cwd: dir }).stdout);
    expect(json.totals).toEqual({ programs: 4, passed: 1, failed: 2, skipped: 1, updated: 0 });
    expect(json.results.map((r: { name: string; verdict: string }) => `${r.verdict} ${r.name}`)).toEqual([
      "PASS t/a-pass",
      "FAIL t/b-differs",
      "FAIL t/c-missing",
      "SKIP t/d-skip",
    ]);
  });

  it("compares bytes: UTF-8 and invalid UTF-8 console output round-trip exactly through --update", () => {
    writeFileSync(
      join(dir, "programs/t/f-bytes.s"),
      `${PRELUDE}        PRINT "§"\n        mov al, 0xFF\n        call console_putc\n        call console_nl\n        EXIT 0\n`,
    );
    const up = vpmu(["test", "--update", "programs/t/f-bytes.s"], { cwd: dir });
    expect(up.stdout).toBe("UPDATE t/f-bytes (wrote programs/t/f-bytes.out)\n1 program: 0 passed, 1 updated\n");
    expect([...readFileSync(join(dir, "programs/t/f-bytes.out"))]).toEqual([
      0xc2,
      0xa7,
      0xff,
      0x0a,
      ...Buffer.from("exit status: 0\n"),
    ]);
    expect(vpmu(["test", "programs/t/f-bytes.s"], { cwd: dir }).stdout).toBe(
      "PASS t/f-bytes (exit status 0)\n1 program: 1 passed\n",
    );
    // One byte different (0xFE) is a failure, and the diff shows the raw bytes.
    writeFileSync(
      join(dir, "programs/t/f-bytes.out"),
      Buffer.from([0xc2, 0xa7, 0xfe, 0x0a, ...Buffer.from("exit status: 0\n")]),
    );
    const r = spawnBytes(["test", "programs/t/f-bytes.s"]);
    expect(r.includes(Buffer.from([0x2d, 0xc2, 0xa7, 0xfe, 0x0a, 0x2b, 0xc2, 0xa7, 0xff, 0x0a]))).toBe(true);
  });

  it("a program that runs past --timeout is killed and FAILs the way run_tests.sh reports it", () => {
    // Past the default instruction limit (10^8, about 0.5 s), so that the timeout is what stops it.
    writeFileSync(
      join(dir, "programs/t/g-forever.s"),
      `; vpmu: --max-insns 100000000000\n${PRELUDE}.spin:\n        jmp .spin\n`,
    );
    writeFileSync(join(dir, "programs/t/g-forever.out"), "exit status: 0\n");
    const r = vpmu(["test", "--timeout", "1", "programs/t/g-forever.s"], { cwd: dir });
    expect(r.stdout).toBe("FAIL t/g-forever (timeout; duration=1s)\n1 program: 0 passed, 1 failed\n");
    expect(r.status).toBe(1);
  });

  it("a bad header is a FAIL naming the file and line, not a crash", () => {
    writeFileSync(join(dir, "programs/t/e-header.s"), `; vpmu: --x 'unterminated\n${PRELUDE}        EXIT 0\n`);
    const r = vpmu(["test", "programs/t/e-header.s"], { cwd: dir });
    expect(r.stdout).toBe(
      "FAIL t/e-header (programs/t/e-header.s:1: '; vpmu:' header has an unterminated ' quote)\n1 program: 0 passed, 1 failed\n",
    );
    expect(r.status).toBe(1);
  });
});
