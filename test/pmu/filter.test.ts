import { describe, expect, it } from "vitest";
import {
  isFilterError,
  isFixedEventAllowed,
  isGpEventAllowed,
  parsePmuFilterFile,
  preparePmuEventFilter,
} from "../../src/pmu/filter.js";
import { runGuest } from "../kvm/harness.js";

const MASKED = 1;
const masked = (ev: number, match: number, mask: number, exclude = false): bigint =>
  BigInt(ev) | (BigInt(match) << 8n) | (exclude ? 1n << 55n : 0n) | (BigInt(mask) << 56n);

describe("KVM_SET_PMU_EVENT_FILTER validation (R-FLT-1)", () => {
  it.each([
    [{ action: 2, events: [] }, "EINVAL"],
    [{ action: 0, flags: 2, events: [] }, "EINVAL"],
    [{ action: 0, events: new Array(301).fill(0xc0n) }, "E2BIG"],
    [{ action: 0, flags: MASKED, events: [1n << 32n] }, "EINVAL"],
    [{ action: 0, flags: MASKED, events: [1n << 40n] }, "EINVAL"],
  ])("%o → %s", (input, errno) => {
    const f = preparePmuEventFilter(input);
    expect(isFilterError(f) && f.errno).toBe(errno);
  });
  it("plain entries with extra bits are dropped silently (R-FLT-2)", () => {
    const f = preparePmuEventFilter({ action: 0, events: [0xc0n | (1n << 16n), 0x01c4n] });
    expect(isFilterError(f)).toBe(false);
    if (!isFilterError(f))
      expect(f.includes).toEqual([{ eventSelect: 0xc4, umaskMatch: 1, umaskMask: 0xff, exclude: false }]);
  });
});

describe("truth tables (R-FLT-3..5)", () => {
  const allow = preparePmuEventFilter({
    action: 0,
    flags: MASKED,
    fixedCounterBitmap: 0b101,
    events: [masked(0x2e, 0x40, 0xf0), masked(0x2e, 0x41, 0xff, true), masked(0xc0, 0, 0xff)],
  });
  const deny = preparePmuEventFilter({ action: 1, fixedCounterBitmap: 0b010, events: [0x00c0n] });
  if (isFilterError(allow) || isFilterError(deny)) throw new Error("bad filter");
  it.each([
    [0x2e, 0x4f, true],
    [0x2e, 0x41, false],
    [0x2e, 0x40, true],
    [0x2e, 0x3f, false],
    [0xc0, 0x00, true],
    [0xc0, 0x01, false],
    [0x3c, 0x00, false],
  ])("ALLOW masked: event %i umask %i → %s", (ev, um, ok) => expect(isGpEventAllowed(allow, ev, um)).toBe(ok));
  it.each([
    [0xc0, 0x00, false],
    [0xc4, 0x00, true],
    [0x3c, 0x00, true],
  ])("DENY plain: %i/%i → %s", (ev, um, ok) => expect(isGpEventAllowed(deny, ev, um)).toBe(ok));
  it("fixed bitmap", () => {
    expect([0, 1, 2, 3].map((i) => isFixedEventAllowed(allow, i))).toEqual([true, false, true, false]);
    expect([0, 1, 2, 3].map((i) => isFixedEventAllowed(deny, i))).toEqual([true, false, true, true]);
    expect(isFixedEventAllowed(null, 3)).toBe(true);
  });
  it("ALLOW with no events denies every GP event", () => {
    const f = preparePmuEventFilter({ action: 0, events: [] });
    if (isFilterError(f)) throw new Error();
    expect(isGpEventAllowed(f, 0xc0, 0)).toBe(false);
  });
});

describe("a denied counter keeps its registers and stops counting (R-FLT-7), emulated counts too", () => {
  it("instructions denied on GP0, branches allowed on GP1, FC0 denied by bitmap", () => {
    const g = runGuest(
      `
      mov ecx, 0x186
      mov eax, 0x4300c0
      xor edx, edx
      wrmsr
      mov ecx, 0x187
      mov eax, 0x4300c4
      wrmsr
      mov ecx, 0x38d
      mov eax, 0x3
      wrmsr
      mov ecx, 0x38f
      mov eax, 3
      mov edx, 1
      wrmsr
      mov ecx, 50
    l: dec ecx
      jnz l
      mov ecx, 0x38f
      xor eax, eax
      xor edx, edx
      wrmsr
      mov ecx, 0xc1
      rdmsr
      mov r8d, eax
      mov ecx, 0xc2
      rdmsr
      mov r9d, eax
      mov ecx, 0x309
      rdmsr
      mov r10d, eax
      mov ecx, 0x186
      rdmsr
      out 0xf4, al
    `,
      { host: "spr" },
      (v) => {
        expect(v.vm.setPmuEventFilter({ action: 1, fixedCounterBitmap: 1, events: [0xc0n] })).toBeNull();
      },
    );
    expect(g.cpu.getLo(8)).toBe(0);
    expect(g.cpu.getLo(9)).toBe(50);
    expect(g.cpu.getLo(10)).toBe(0);
    expect(g.cpu.getLo(0)).toBe(0x4300c0); // selector reads back the guest value
  });
});

describe("configureVcpu installs a filter (the library side of --pmu-filter)", () => {
  it("accepts a valid filter and reports a rejected one as one sentence", async () => {
    const { configureVcpu } = await import("../../src/machine/index.js");
    const ok = configureVcpu({ host: "spr", filter: { action: 1, events: [0xc0n] } });
    expect("error" in ok).toBe(false);
    if (!("error" in ok)) expect(ok.vcpu.pmu.filter?.includes.length).toBe(1);
    expect(configureVcpu({ host: "spr", filter: { action: 7, events: [] } })).toEqual({
      error: "the PMU event filter is rejected (EINVAL): action 7 is neither ALLOW (0) nor DENY (1)",
    });
  });
});

describe("filter input from outside TypeScript", () => {
  it("numbers are accepted, junk is EINVAL (no exception)", () => {
    const ok = preparePmuEventFilter({ action: 0, events: [0xc0 as unknown as bigint] });
    expect(isFilterError(ok)).toBe(false);
    const bad = preparePmuEventFilter({ action: 0, events: ["c0" as unknown as bigint] });
    expect(bad).toEqual({ errno: "EINVAL", message: "event entry c0 is not a 64-bit unsigned integer" });
  });
});

describe("--pmu-filter files (parsePmuFilterFile)", () => {
  it("turns readable entries into the ioctl's u64 entries", () => {
    const plain = parsePmuFilterFile(
      "f.json",
      '{"action": "deny", "events": [{"event": "0xc0"}, {"event": 196, "umask": "0x01"}, "0x2e4f", 60], "fixedCounterBitmap": 5}',
    );
    expect(plain).toEqual({
      ok: true,
      filter: { action: 1, flags: 0, fixedCounterBitmap: 5, events: [0xc0n, 0x1c4n, 0x2e4fn, 60n] },
    });
    const m = parsePmuFilterFile(
      "f.json",
      '{"action": "allow", "masked": true, "events": [{"event": "0xc4", "mask": "0xf0", "match": "0x10", "exclude": true}, {"event": "0xc0"}]}',
    );
    expect(m).toEqual({
      ok: true,
      filter: {
        action: 0,
        flags: 1,
        fixedCounterBitmap: 0,
        events: [masked(0xc4, 0x10, 0xf0, true), masked(0xc0, 0, 0xff)],
      },
    });
    if (m.ok) expect(isFilterError(preparePmuEventFilter(m.filter))).toBe(false);
  });

  it.each([
    ["{", /^f\.json: not valid JSON \(/],
    ["[]", /^f\.json: expected a JSON object with action and events$/],
    ['{"action": "block", "events": []}', /^f\.json: action: expected "allow" or "deny"$/],
    ['{"action": "deny"}', /^f\.json: events: expected an array of event entries$/],
    ['{"action": "deny", "events": [], "colour": 1}', /^f\.json: colour: unknown field/],
    ['{"action": "deny", "events": [{"event": 256}]}', /^f\.json: events\[0\]\.event: does not fit in 8 bits$/],
    [
      '{"action": "deny", "events": [{"event": 1, "match": 2}]}',
      /^f\.json: events\[0\]\.match: unknown field .*need "masked": true\)$/,
    ],
    [
      '{"action": "deny", "events": ["c0"]}',
      /^f\.json: events\[0\]: expected a non-negative integer or a "0x…" string$/,
    ],
    ['{"action": "deny", "events": [-1]}', /^f\.json: events\[0\]: expected a non-negative integer/],
    [
      '{"action": "deny", "events": [], "fixedCounterBitmap": "0x100000000"}',
      /^f\.json: fixedCounterBitmap: does not fit in 32 bits$/,
    ],
  ])("rejects %s with one sentence naming the field", (text, msg) => {
    const r = parsePmuFilterFile("f.json", text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(msg);
  });
});
