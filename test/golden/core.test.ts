// The golden runner's pure core: header parsing, the .out format, SUMMARY parsing, verdicts and the
// three reporters, all with exact expected text.
import { describe, expect, it } from "vitest";
import {
  goldenPathFor,
  goldenText,
  judge,
  jsonReport,
  lineReport,
  parseHeader,
  parseSummary,
  programName,
  resultLine,
  splitWords,
  tapReport,
  totalsLine,
  totals,
  type GoldenResult,
} from "../../src/golden/index.js";

describe("parseHeader", () => {
  it("reads the options from a leading comment", () => {
    const src = "; PERF_METRICS leak\n; vpmu: --host spr --kvm v4 --gp 8\n\n        org 0x100000\n";
    expect(parseHeader(src, "p.s")).toEqual({
      ok: true,
      value: { args: ["--host", "spr", "--kvm", "v4", "--gp", "8"], line: 2 },
    });
  });
  it("gives no options when there is no header, and ignores one after the first code line", () => {
    expect(parseHeader("org 0x100000\n; vpmu: --exits\n", "p.s")).toEqual({ ok: true, value: { args: [], line: 0 } });
  });
  it("keeps quoted words together", () => {
    expect(parseHeader(';vpmu: --kvm \'my policy.json\' --x "a\\"b"\n', "p.s")).toEqual({
      ok: true,
      value: { args: ["--kvm", "my policy.json", "--x", 'a"b'], line: 1 },
    });
  });
  it("rejects a second header line and an unterminated quote with the file and line", () => {
    expect(parseHeader("; vpmu: --exits\n; vpmu: --json\n", "p.s")).toEqual({
      ok: false,
      error: "p.s:2: a second '; vpmu:' header line (the first is on line 1); keep the options on one line",
    });
    expect(parseHeader("; vpmu: --kvm 'x\n", "q.s")).toEqual({
      ok: false,
      error: "q.s:1: '; vpmu:' header has an unterminated ' quote",
    });
  });
  it("reads a C guest's header from its leading // comments", () => {
    const src = '// counting.c\n// vpmu: --host spr\n#include "pmu.h"\n// vpmu: --json\n';
    expect(parseHeader(src, "p.c")).toEqual({ ok: true, value: { args: ["--host", "spr"], line: 2 } });
  });
  it("splits words like a shell for the simple cases", () => {
    expect(splitWords("  a  b\t'c d'e \"\"")).toEqual({ ok: true, value: ["a", "b", "c de", ""] });
  });
});

describe(".out format", () => {
  it("is stdout then the exit status line", () => {
    expect(goldenText("hello\n", 0)).toBe("hello\nexit status: 0\n");
    expect(goldenText("", 77)).toBe("exit status: 77\n");
  });
  it("marks a console that does not end in a newline", () => {
    expect(goldenText("abc", 1)).toBe("abc\n\\ no newline at end of console\nexit status: 1\n");
    expect(goldenText("abc", 1)).not.toBe(goldenText("abc\n", 1));
  });
  it("sits beside the program", () => {
    expect(goldenPathFor("programs/pmu/overflow.s")).toBe("programs/pmu/overflow.out");
    expect(goldenPathFor("x.asm")).toBe("x.out");
    expect(goldenPathFor("programs/c/pmu/counting.c")).toBe("programs/c/pmu/counting.out");
  });
  it("names programs below programs/", () => {
    expect(programName("programs/pmu/overflow.s")).toBe("pmu/overflow");
    expect(programName("/abs/work/programs/leak/v4.asm")).toBe("leak/v4");
    expect(programName("./mine/x.s")).toBe("mine/x");
    expect(programName("programs/c/pmu/counting.c")).toBe("c/pmu/counting");
  });
});

describe("parseSummary", () => {
  it("reads report.c's SUMMARY line, the last one in the output", () => {
    expect(parseSummary("PASS: a\nFAIL: b\nSUMMARY: 2 tests, 1 unexpected failures\n")).toEqual({
      text: "2 tests, 1 unexpected failures",
      tests: 2,
      failures: 1,
      expectedFailures: 0,
      skipped: 0,
    });
    expect(parseSummary("SUMMARY: 3 tests, 3 skipped\n")?.skipped).toBe(3);
    expect(parseSummary("SUMMARY: 1 tests\n--- vm exits: 3 ---\nexit a\nexit b\n")?.text).toBe("1 tests");
    expect(parseSummary("SUMMARY: 1 tests\nSUMMARY: 2 tests, 1 skipped\nx\n")?.text).toBe("2 tests, 1 skipped");
    expect(parseSummary("no summary\n")).toBeNull();
  });
});

const ran = (stdout: string, status: number, stderr = "") => ({ kind: "ran" as const, stdout, stderr, status });

describe("judge", () => {
  const base = { name: "pmu/x", program: "programs/pmu/x.s", golden: "programs/pmu/x.out", args: ["--gp", "8"] };
  it("passes on an exact match and carries the guest summary", () => {
    const r = judge({
      ...base,
      expected: "PASS: a\nSUMMARY: 1 tests\nexit status: 0\n",
      outcome: ran("PASS: a\nSUMMARY: 1 tests\n", 0),
    });
    expect([r.verdict, r.detail, r.diff, r.needsUpdate]).toEqual(["PASS", "1 tests", "", false]);
    expect(resultLine(r)).toBe("PASS pmu/x (1 tests)");
  });
  it("is a SKIP when the matching guest exits 77", () => {
    const r = judge({
      ...base,
      expected: "SKIP: a\nSUMMARY: 1 tests, 1 skipped\nexit status: 77\n",
      outcome: ran("SKIP: a\nSUMMARY: 1 tests, 1 skipped\n", 77),
    });
    expect(resultLine(r)).toBe("SKIP pmu/x (1 tests, 1 skipped)");
  });
  it("fails with a diff when the status differs", () => {
    const r = judge({ ...base, expected: "hi\nexit status: 0\n", outcome: ran("hi\n", 3) });
    expect(r.verdict).toBe("FAIL");
    expect(resultLine(r)).toBe("FAIL pmu/x (exit status 3; output differs from programs/pmu/x.out)");
    expect(r.diff).toBe(
      "--- programs/pmu/x.out\n+++ programs/pmu/x.s (actual)\n@@ -1,2 +1,2 @@\n hi\n-exit status: 0\n+exit status: 3\n",
    );
    expect(r.actual).toBe("hi\nexit status: 3\n");
  });
  it("fails when the golden file is missing and says how to create it", () => {
    const r = judge({ ...base, expected: null, outcome: ran("hi\n", 0) });
    expect(resultLine(r)).toBe("FAIL pmu/x (no golden file programs/pmu/x.out)");
    expect(r.notes).toEqual(["create it with: vpmu test --update programs/pmu/x.s"]);
    expect(r.needsUpdate).toBe(true);
  });
  it("reports timeouts and signals the way run_tests.sh does", () => {
    expect(
      resultLine(judge({ ...base, expected: "", outcome: { kind: "timeout", seconds: 5, stdout: "", stderr: "" } })),
    ).toBe("FAIL pmu/x (timeout; duration=5s)");
    expect(
      resultLine(
        judge({ ...base, expected: "", outcome: { kind: "signal", signal: "SIGSEGV", stdout: "", stderr: "" } }),
      ),
    ).toBe("FAIL pmu/x (terminated on SIGSEGV)");
  });
});

describe("reporters", () => {
  const base = { program: "", golden: "", args: [] as string[] };
  const results: GoldenResult[] = [
    judge({
      ...base,
      name: "a",
      program: "p/a.s",
      golden: "p/a.out",
      expected: "SUMMARY: 2 tests\nexit status: 0\n",
      outcome: ran("SUMMARY: 2 tests\n", 0),
    }),
    judge({
      ...base,
      name: "b",
      program: "p/b.s",
      golden: "p/b.out",
      expected: "x\nexit status: 0\n",
      outcome: ran("y\n", 0, "oops\n"),
    }),
    judge({
      ...base,
      name: "c",
      program: "p/c.s",
      golden: "p/c.out",
      expected: "exit status: 77\n",
      outcome: ran("", 77),
    }),
  ];
  it("counts", () => {
    expect(totals(results)).toEqual({ programs: 3, passed: 1, failed: 1, skipped: 1, updated: 0 });
    expect(totalsLine(totals(results))).toBe("3 programs: 1 passed, 1 failed, 1 skipped");
    expect(totalsLine(totals(results, new Set(["p/b.s"])))).toBe("3 programs: 1 passed, 1 skipped, 1 updated");
  });
  it("line report: result lines, the diff and stderr under a failure, the count", () => {
    expect(lineReport(results, new Set())).toBe(
      [
        "PASS a (2 tests)",
        "FAIL b (exit status 0; output differs from p/b.out)",
        "--- p/b.out",
        "+++ p/b.s (actual)",
        "@@ -1,2 +1,2 @@",
        "-x",
        "+y",
        " exit status: 0",
        "    stderr of vpmu run p/b.s:",
        "    | oops",
        "SKIP c (exit status 77)",
        "3 programs: 1 passed, 1 failed, 1 skipped",
        "",
      ].join("\n"),
    );
  });
  it("TAP 13", () => {
    expect(tapReport(results, new Set())).toBe(
      [
        "TAP version 13",
        "1..3",
        "ok 1 - a (2 tests)",
        "not ok 2 - b (exit status 0; output differs from p/b.out)",
        "  ---",
        '  program: "p/b.s"',
        '  golden: "p/b.out"',
        "  diff: |",
        "    --- p/b.out",
        "    +++ p/b.s (actual)",
        "    @@ -1,2 +1,2 @@",
        "    -x",
        "    +y",
        "     exit status: 0",
        '  stderr: "oops\\n"',
        "  ...",
        "ok 3 - c # SKIP exit status 77",
        "",
      ].join("\n"),
    );
  });
  it("JSON", () => {
    const doc = JSON.parse(jsonReport(results, new Set(["p/b.s"])));
    expect(doc.totals).toEqual({ programs: 3, passed: 1, failed: 0, skipped: 1, updated: 1 });
    expect(doc.results.map((r: { verdict: string }) => r.verdict)).toEqual(["PASS", "UPDATE", "SKIP"]);
  });
});

describe("updates", () => {
  it("show the run's stderr under the UPDATE line", () => {
    const r = judge({
      name: "x",
      program: "p/x.s",
      golden: "p/x.out",
      args: [],
      expected: "old\nexit status: 0\n",
      outcome: ran("", 104, "vpmu: boom\n"),
    });
    expect(lineReport([r], new Set(["p/x.s"]))).toBe(
      "UPDATE x (wrote p/x.out)\n    stderr of vpmu run p/x.s:\n    | vpmu: boom\n1 program: 0 passed, 1 updated\n",
    );
  });
});
