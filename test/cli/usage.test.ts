// Issue 15 item 14: help exits 0, unknown help topics and "did you mean" are one `vpmu:` sentence,
// every number option takes the same syntax, out-of-range values name the option and the range,
// and echoed input is printable (control bytes escaped, long lines cut in the middle).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vpmu } from "./run-cli.js";

const HELLO = "programs/cpu/hello.s";
const HELLO_OUT = "hello from the guest\n6 * 7 = 42 = 0x000000000000002a\n";
const NOT_A_NUMBER = "is not a number (use decimal, 0x… or …h hex, or 0b… binary)";

describe("vpmu help", () => {
  it("vpmu help: the main help on stdout, exit 0", () => {
    const r = vpmu(["help"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe(vpmu(["--help"]).stdout);
    expect(r.stdout.startsWith("Usage: vpmu [options] [command]\n")).toBe(true);
  });
  it("vpmu help run: the command's help on stdout, exit 0", () => {
    const r = vpmu(["help", "run"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe(vpmu(["run", "--help"]).stdout);
    expect(r.stdout.startsWith("Usage: vpmu run [options] <file>\n")).toBe(true);
  });
  it("vpmu help frob: says the command is unknown, exit 2", () => {
    expect(vpmu(["help", "frob"])).toEqual({
      status: 2,
      stdout: "",
      stderr: "vpmu: unknown command 'frob' (see vpmu --help)\n",
    });
  });
  it("a config file on the line changes nothing about help: vpmu --config f help frob / help run", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpmu-help-config-"));
    const f = join(dir, "vm.json");
    writeFileSync(f, JSON.stringify({ gp: 4 }));
    for (const args of [
      ["--config", f, "help", "frob"],
      [`--config=${f}`, "help", "frob"],
      ["help", "--config", f, "frob"],
    ])
      expect(vpmu(args)).toEqual({ status: 2, stdout: "", stderr: "vpmu: unknown command 'frob' (see vpmu --help)\n" });
    const r = vpmu(["--config", f, "help", "run"]);
    expect([r.status, r.stderr, r.stdout]).toEqual([0, "", vpmu(["run", "--help"]).stdout]);
  });
});

describe("--config: one rule wherever it stands", () => {
  it("vpmu run --config f and vpmu --config f run skip another command's keys and refuse a typo alike", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpmu-config-place-"));
    const shared = join(dir, "shared.json");
    writeFileSync(shared, JSON.stringify({ host: "spr", jobs: 4 })); // jobs: an option of vpmu test
    const typo = join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ gpp: 4 }));
    for (const args of [
      ["--config", shared, "run", HELLO],
      ["run", "--config", shared, HELLO],
      ["run", HELLO, "--config", shared],
    ])
      expect(vpmu(args)).toEqual({ status: 0, stdout: HELLO_OUT, stderr: "" });
    for (const args of [
      ["--config", typo, "run", HELLO],
      ["run", "--config", typo, HELLO],
    ])
      expect(vpmu(args)).toEqual({
        status: 2,
        stdout: "",
        stderr: `vpmu: config file ${typo}: 'gpp' is not an option of vpmu run (see vpmu run --help)\n`,
      });
  });
});

describe("usage errors are one prefixed line", () => {
  const cases: [string[], string][] = [
    [["runn", HELLO], "vpmu: unknown command 'runn' (did you mean run?) (see vpmu --help)\n"],
    [["run", "--gpp", "1", HELLO], "vpmu: unknown option '--gpp' (did you mean --gp?)\n"],
    [["run", "--gp", "-1", HELLO], "vpmu: option --gp: must be a non-negative whole number (got -1)\n"],
    [["run", "--max-insns", "1e3", HELLO], `vpmu: option --max-insns: '1e3' ${NOT_A_NUMBER}\n`],
    [["run", "--max-insns", "0", HELLO], "vpmu: option --max-insns: 0 is out of range (1..9007199254740991)\n"],
    [["run", "--load", "1e3", HELLO], "vpmu: --load 1e3: expected an address such as 0x100000\n"],
    [
      ["run", "--mem", "0", HELLO],
      "vpmu: option --mem: guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got 0)\n",
    ],
    [
      ["run", "--mem", "1000", HELLO],
      "vpmu: option --mem: guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got 1000)\n",
    ],
    [["run", "--gp", "\x1b[31m\x07", HELLO], `vpmu: option --gp: '\\x1b[31m\\x07' ${NOT_A_NUMBER}\n`],
    [["test", "--jobs", "0x"], `vpmu: option --jobs: '0x' ${NOT_A_NUMBER}\n`],
    [["run", "--gp-width", "99", HELLO], "vpmu: --gp-width must be an integer from 1 to 48 for host spr (got 99)\n"],
    [["run", "--gp-width", "0", HELLO], "vpmu: --gp-width must be an integer from 1 to 48 for host spr (got 0)\n"],
    [
      ["run", "--fixed-width", "49", HELLO],
      "vpmu: --fixed-width must be an integer from 1 to 48 for host spr (got 49)\n",
    ],
    [
      ["explain", "--host", "icx", "--gp-width", "64"],
      "vpmu: --gp-width must be an integer from 1 to 48 for host icx (got 64)\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    it(`vpmu ${JSON.stringify(args.join(" ")).slice(1, -1)}`, () => {
      expect(vpmu(args)).toEqual({ status: 2, stdout: "", stderr });
    });
  }
  it("a 100 KB value is echoed cut in the middle, the end of the sentence kept", () => {
    const long = "z".repeat(100_000);
    const full = `option --gp: '${long}' ${NOT_A_NUMBER}`;
    const cut = `${full.slice(0, 120)}…[${full.length - 180} characters]…${full.slice(-60)}`;
    expect(vpmu(["run", "--gp", long, HELLO])).toEqual({ status: 2, stdout: "", stderr: `vpmu: ${cut}\n` });
    expect(cut).toHaveLength(120 + 60 + `…[${full.length - 180} characters]…`.length);
  });
});

describe("every number option takes decimal, 0x… and …h", () => {
  for (const args of [
    ["--max-insns", "1000h"],
    ["--max-insns", "0x1000"],
    ["--max-insns", "4096"],
    ["--mem", "1000000h"],
    ["--mem", "0x1000000"],
    ["--mem", "16M"],
    ["--gp", "4h"],
    ["--gp-width", "30h"],
  ]) {
    it(`vpmu run ${args.join(" ")}`, () => {
      expect(vpmu(["run", ...args, HELLO])).toEqual({ status: 0, stdout: HELLO_OUT, stderr: "" });
    });
  }
  it("vpmu disasm --load 100000h is --load 0x100000", () => {
    const r = vpmu(["disasm", "--load", "100000h", "package.json"]);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("bits 64\norg 0x100000\n")).toBe(true);
  });
});
