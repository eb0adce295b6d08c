// The CLI's contract for bad input, through the built binary: one `vpmu: …` sentence on stderr, exit
// status 2, no stack trace; --help has examples; --config applies the same parsers as the command line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { MAIN, ROOT, vpmu } from "./run-cli.js";

const tmp = mkdtempSync(join(tmpdir(), "vpmu-cli-"));
function config(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe("vpmu usage errors", () => {
  it("--help lists the commands and examples, exit 0", () => {
    const r = vpmu(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: vpmu [options] [command]");
    expect(r.stdout).toContain("\nExamples:\n");
    expect(r.stdout).toMatch(/^ {2}test \[options\] \[paths\.\.\.\]/m);
    expect(vpmu(["test", "--help"]).stdout).toContain("$ vpmu test --update programs/cpu/hello.s");
  });
  it("no command: help on stderr, exit 2", () => {
    const r = vpmu([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Usage: vpmu");
  });
  const cases: [string[], string][] = [
    [["bogus"], "vpmu: unknown command 'bogus' (see vpmu --help)\n"],
    [["test", "--frob"], "vpmu: unknown option '--frob'\n"],
    [["test", "--jobs", "0"], "vpmu: option --jobs: 0 is out of range (1..1024)\n"],
    [
      ["test", "--jobs", "0x"],
      "vpmu: option --jobs: '0x' is not a number (use decimal, 0x… or …h hex, or 0b… binary)\n",
    ],
    [["test", "--reporter", "xml"], "vpmu: option --reporter: 'xml' is not one of line, tap, json\n"],
    [["test", "no/such/dir"], "vpmu: no such file or directory: no/such/dir\n"],
    [
      ["test", "package.json"],
      "vpmu: package.json is not a guest program (expected a .s, .asm, .nasm, .c, .elf file)\n",
    ],
    [["test", "--config", "no-such.json"], "vpmu: cannot read config file no-such.json: no such file\n"],
  ];
  it("vpmu test outside a checkout says where to run it", () => {
    expect(vpmu(["test"], { cwd: tmp })).toEqual({
      status: 2,
      stdout: "",
      stderr:
        "vpmu: no programs/ directory here: run vpmu test from the repository root, or name the programs or directories to test\n",
    });
  });
  for (const [args, stderr] of cases) {
    it(`vpmu ${args.join(" ")}`, () => {
      const r = vpmu(args);
      expect(r.stderr).toBe(stderr);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
    });
  }
});

describe("--config", () => {
  it("rejects a file that is not JSON, naming it", () => {
    const p = config("broken.json", "{ reporter: tap }");
    const r = vpmu(["test", "--config", p]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^vpmu: config file ${p} is not valid JSON: .*\\n$`));
  });
  it("rejects a key that is not an option of the command", () => {
    const p = config("unknown.json", '{ "gpp": 8 }');
    expect(vpmu(["test", "--config", p])).toEqual({
      status: 2,
      stdout: "",
      stderr: `vpmu: config file ${p}: 'gpp' is not an option of vpmu test (see vpmu test --help)\n`,
    });
  });
  it("runs values through the option's own parser", () => {
    const p = config("bad-value.json", '{ "reporter": "xml" }');
    expect(vpmu(["test", "--config", p]).stderr).toBe(
      `vpmu: config file ${p}: 'reporter': option --reporter: 'xml' is not one of line, tap, json\n`,
    );
    const q = config("bad-type.json", '{ "update": "yes" }');
    expect(vpmu(["test", "--config", q]).stderr).toBe(`vpmu: config file ${q}: 'update' must be true or false\n`);
  });
  it("is applied, and the command line wins", () => {
    const p = config("jobs.json", '{ "jobs": 0 }');
    // From the config: rejected by the same range check as --jobs 0.
    expect(vpmu(["test", "--config", p, "no/such/dir"]).stderr).toBe(
      `vpmu: config file ${p}: 'jobs': option --jobs: 0 is out of range (1..1024)\n`,
    );
    // Given on the command line, the config value is never parsed.
    expect(vpmu(["test", "--config", p, "--jobs", "1", "no/such/dir"]).stderr).toBe(
      "vpmu: no such file or directory: no/such/dir\n",
    );
  });
});

describe("a reader that goes away", () => {
  it("vpmu disasm | head: no EPIPE stack trace, the writer's status", () => {
    // A listing far longer than the pipe buffer, read for one line only.
    const bin = join(tmp, "nops.bin");
    writeFileSync(bin, new Uint8Array(200_000).fill(0x90));
    const r = spawnSync(
      "sh",
      ["-c", `"${process.execPath}" "${MAIN}" disasm "${bin}" | head -1; exit \${PIPESTATUS:-0}`],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    expect(r.stdout).toBe("bits 64\n");
    expect(r.stderr).toBe("");
  });
});

describe("vpmu disasm addresses", () => {
  it("--load names the load address as for vpmu run; --org is a synonym; a conflict is a usage error", () => {
    const bin = join(tmp, "two.bin");
    writeFileSync(bin, new Uint8Array([0x90, 0xeb, 0xfe]));
    const listing = (addr: string) => `bits 64\norg ${addr}\n    ${"nop".padEnd(40)} ; ${addr}: 90\n`;
    expect(vpmu(["disasm", bin]).stdout.startsWith(listing("0x100000"))).toBe(true);
    expect(vpmu(["disasm", "--load", "0x200000", bin]).stdout.startsWith(listing("0x200000"))).toBe(true);
    expect(vpmu(["disasm", "--org", "0x200000", bin]).stdout).toBe(vpmu(["disasm", "--load", "0x200000", bin]).stdout);
    expect(vpmu(["disasm", "--load", "1", "--org", "2", bin])).toMatchObject({
      status: 2,
      stderr: "vpmu: --load 1 and --org 2 name different addresses: give one\n",
    });
  });
});
