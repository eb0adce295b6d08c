// applyConfigFile against a commander command built here: every option shape the commands use
// (value, number parser, repeatable, variadic, boolean, negated boolean), precedence and errors.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { applyConfigFile } from "../../src/cli/config.js";
import { countOption, msrAssignmentOption } from "../../src/cli/options.js";
import { ProgressLine } from "../../src/cli/colour.js";

const dir = mkdtempSync(join(tmpdir(), "vpmu-config-unit-"));
let n = 0;
function file(data: unknown): string {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, typeof data === "string" ? data : JSON.stringify(data));
  return p;
}

function command(argv: string[]): Command {
  const cmd = new Command("run")
    .exitOverride()
    .option("--host <preset>", "", "spr")
    .option("--gp <n>", "", countOption("--gp", 0, 8))
    .option("--host-msr <msr=value>", "", msrAssignmentOption("--host-msr"))
    .option("-I, --include <dir...>", "")
    .option("--exits", "")
    .option("--no-pdcm", "")
    .argument("[file]")
    .action(() => {});
  cmd.parse(argv, { from: "user" });
  return cmd;
}

describe("applyConfigFile", () => {
  it("fills every option shape through the option's own parser", () => {
    const cmd = command([]);
    applyConfigFile(
      cmd,
      file({
        host: "icx",
        gp: 4,
        "host-msr": ["0x329=1", "0x38f=0x2"],
        include: ["a", "b"],
        exits: true,
        "no-pdcm": true,
      }),
    );
    expect(cmd.opts()).toEqual({
      host: "icx",
      gp: 4,
      hostMsr: [
        { index: 0x329, value: 1n },
        { index: 0x38f, value: 2n },
      ],
      include: ["a", "b"],
      exits: true,
      pdcm: false,
    });
    expect(cmd.getOptionValueSource("host")).toBe("config");
  });
  it("accepts camelCase keys and the attribute of a negated flag", () => {
    const cmd = command([]);
    applyConfigFile(cmd, file({ hostMsr: "0x329=5", pdcm: false }));
    expect(cmd.opts().hostMsr).toEqual([{ index: 0x329, value: 5n }]);
    expect(cmd.opts().pdcm).toBe(false);
  });
  it("never overrides the command line", () => {
    const cmd = command(["--host", "skx", "--gp", "2"]);
    applyConfigFile(cmd, file({ host: "icx", gp: 9 }));
    expect([cmd.opts().host, cmd.opts().gp]).toEqual(["skx", 2]);
  });
  it("skips a key that belongs to another command, so one file serves run and explain", () => {
    const run = command([]);
    const explain = new Command("explain")
      .exitOverride()
      .option("--host <preset>", "", "spr")
      .option("--json", "")
      .action(() => {});
    explain.parse([], { from: "user" });
    const p = file({ host: "gnr", exits: true, json: true });
    applyConfigFile(explain, p, [run, explain]);
    expect(explain.opts()).toEqual({ host: "gnr", json: true });
    expect(() => applyConfigFile(explain, file({ exitz: true }), [run, explain])).toThrow(
      "'exitz' is not an option of vpmu explain",
    );
  });
  it("names the file and key in every error", () => {
    const cmd = command([]);
    const cases: [unknown, string][] = [
      [{ gpp: 1 }, "'gpp' is not an option of vpmu run (see vpmu run --help)"],
      [{ gp: 9 }, "'gp': option --gp: 9 is out of range (0..8)"],
      [{ exits: "yes" }, "'exits' must be true or false"],
      [{ host: ["a", "b"] }, "'host' takes one value, not a list"],
      [{ gp: { n: 1 } }, "'gp' must be a string or a number"],
      [[1, 2], "must hold a JSON object of option names and values"],
    ];
    for (const [data, message] of cases) {
      const p = file(data);
      expect(() => applyConfigFile(cmd, p)).toThrow(
        message.startsWith("must") ? `config file ${p} ${message}` : `config file ${p}: ${message}`,
      );
    }
  });
});

describe("ProgressLine", () => {
  it("draws and erases on a terminal, and writes nothing otherwise", () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 24, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const p = new ProgressLine(tty);
    p.update("short");
    p.update("a line much longer than the terminal");
    p.done();
    expect(written).toEqual(["\r\x1b[2Kshort", "\r\x1b[2Ka line much longer tha…", "\r\x1b[2K"]);
    const none: string[] = [];
    const pipe = new ProgressLine({
      isTTY: false,
      write: (s: string) => none.push(s),
    } as unknown as NodeJS.WriteStream);
    pipe.update("x");
    pipe.done();
    expect(none).toEqual([]);
  });
});
