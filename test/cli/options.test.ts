// Option parsers and the failure → sentence/status mapping (pure parts of src/cli).
import { describe, expect, it } from "vitest";
import { CommanderError } from "commander";
import { parseChoice, parseCount, parseMsrAssignment, parseUnsigned } from "../../src/cli/options.js";
import { CliError, describeFailure, EXIT_INTERNAL, EXIT_USAGE, formatFailure } from "../../src/cli/errors.js";
import { colourWanted, painter } from "../../src/cli/colour.js";

describe("number options", () => {
  it("accepts decimal, 0x, h-suffix and 0b forms with underscores", () => {
    expect(parseUnsigned("4096")).toEqual({ ok: true, value: 4096n });
    expect(parseUnsigned("0x8899_AABB_1122_3344")).toEqual({ ok: true, value: 0x8899aabb11223344n });
    expect(parseUnsigned("1Fh")).toEqual({ ok: true, value: 31n });
    expect(parseUnsigned("0b101")).toEqual({ ok: true, value: 5n });
  });
  it("rejects malformed and oversized values with the reason", () => {
    expect(parseUnsigned("0xfg")).toEqual({
      ok: false,
      error: "'0xfg' is not a number (use decimal, 0x… or …h hex, or 0b… binary)",
    });
    expect(parseUnsigned("0x1_0000_0000", 32)).toEqual({ ok: false, error: "'0x1_0000_0000' does not fit in 32 bits" });
    expect(parseUnsigned("-1")).toMatchObject({ ok: false });
    expect(parseCount("9", 0, 8)).toEqual({ ok: false, error: "9 is out of range (0..8)" });
    expect(parseCount("8", 0, 8)).toEqual({ ok: true, value: 8 });
  });
  it("reads MSR=VALUE", () => {
    expect(parseMsrAssignment("0x329=0x8899aabb11223344")).toEqual({
      ok: true,
      value: { index: 0x329, value: 0x8899aabb11223344n },
    });
    expect(parseMsrAssignment("0x329")).toMatchObject({ ok: false });
    expect(parseMsrAssignment("0x329=zz")).toEqual({
      ok: false,
      error: "value 'zz' is not a number (use decimal, 0x… or …h hex, or 0b… binary)",
    });
  });
  it("checks choices", () => {
    expect(parseChoice("spr", ["skx", "icx", "spr", "gnr"])).toEqual({ ok: true, value: "spr" });
    expect(parseChoice("zen", ["skx", "icx"])).toEqual({ ok: false, error: "'zen' is not one of skx, icx" });
  });
});

describe("failures", () => {
  it("usage errors are one sentence with status 2; bugs say so with status 70", () => {
    expect(describeFailure(new CliError("option --gp: 9 is out of range (0..8)"))).toEqual({
      message: "option --gp: 9 is out of range (0..8)",
      status: EXIT_USAGE,
    });
    expect(describeFailure(new CommanderError(1, "commander.unknownOption", "error: unknown option '--frob'"))).toEqual(
      {
        message: "unknown option '--frob'",
        status: EXIT_USAGE,
      },
    );
    expect(describeFailure(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"))).toEqual({
      message: null,
      status: 0,
    });
    const internal = describeFailure(new TypeError("x is undefined"));
    expect(internal.status).toBe(EXIT_INTERNAL);
    expect(internal.message).toMatch(/^internal error: x is undefined — this is a bug in vpmu-lab, please report it/);
  });
});

describe("colour", () => {
  it("only on a terminal, never with NO_COLOR set", () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(painter(true)("PASS", "pass")).toBe("\x1b[32mPASS\x1b[0m");
    expect(painter(false)("PASS", "pass")).toBe("PASS");
  });
});

describe("formatFailure", () => {
  it("prefixes the one sentence; details above it print as they are", () => {
    expect(formatFailure("option --gp: 9 is out of range (0..8)")).toBe(
      "vpmu: option --gp: 9 is out of range (0..8)\n",
    );
    expect(formatFailure("p.s:1:5: error: bad\n    mov eax, bl\n        ^~~\np.s: assembly failed")).toBe(
      "p.s:1:5: error: bad\n    mov eax, bl\n        ^~~\nvpmu: p.s: assembly failed\n",
    );
  });
});
