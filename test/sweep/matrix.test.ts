import { describe, expect, it } from "vitest";
import { findHostPreset } from "../../src/host/presets.js";
import {
  configFromJson,
  configJson,
  configLabel,
  DEFAULT_MATRIX,
  expandMatrix,
  parseCaps,
  parseMatrix,
  resolveGuest,
  withAxes,
} from "../../src/sweep/matrix.js";

describe("sweep matrix", () => {
  it("expands the default matrix in host → pmu → kvm → guest → activity order", () => {
    const all = expandMatrix(DEFAULT_MATRIX);
    // 4 hosts × (legacy pmu × legacy kvm + mediated pmu × base, v4, fix) × (2 versions × 2 gp × 2 gp widths
    // × 2 fixed × 2 fixed widths × 3 caps) × 3 activities: a pmu and a kvm pair only when they are one kernel.
    expect(all.length).toBe(4608);
    expect(all.every((c) => (c.pmu === "mediated") === (c.kvm !== "legacy"))).toBe(true);
    expect(all.map((c) => c.index)).toEqual(all.map((_, i) => i));
    expect(configLabel(all[0])).toBe("skx legacy legacy | v1 gp 4×48 fx 3×48 no PDCM | topdown");
    expect(configLabel(all[1])).toBe("skx legacy legacy | v1 gp 4×48 fx 3×48 no PDCM | counting");
    expect(configLabel(all[2])).toBe("skx legacy legacy | v1 gp 4×48 fx 3×48 no PDCM | idle");
    expect(configLabel(all[3])).toBe("skx legacy legacy | v1 gp 4×48 fx 3×48 caps 0x2000 | topdown");
    expect(configLabel(all[9])).toBe("skx legacy legacy | v1 gp 4×48 fx 3×40 no PDCM | topdown");
    expect(configLabel(all[4607])).toBe("gnr mediated fix | v2 gp 7×40 fx 4×40 caps 0xa000 | idle");
    const leak = all.filter(
      (c) =>
        c.kvm === "v4" &&
        c.pmu === "mediated" &&
        c.host === "spr" &&
        c.guest.version === 2 &&
        c.guest.nGP === 8 &&
        c.guest.wGP === 48 &&
        c.guest.nFX === 4 &&
        c.guest.wFX === 48,
    );
    expect(leak.map(configLabel)).toEqual([
      "spr mediated v4 | v2 gp 8×48 fx 4×48 no PDCM | topdown",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 no PDCM | counting",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 no PDCM | idle",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0x2000 | topdown",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0x2000 | counting",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0x2000 | idle",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0xa000 | topdown",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0xa000 | counting",
      "spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0xa000 | idle",
    ]);
  });

  it("resolves relative counts and widths against each host and keeps equal guest models once", () => {
    const skx = findHostPreset("skx")!;
    expect(resolveGuest(skx, 2, "host-1", "host", 3, 40, "fw+metrics")).toEqual({
      version: 2,
      nGP: 3,
      wGP: 48,
      nFX: 3,
      wFX: 40,
      pdcm: true,
      perfCapabilities: 0xa000n,
    });
    expect(resolveGuest(skx, 1, "host-9", 16, "host", "host", "nopdcm")).toEqual({
      version: 1,
      nGP: 0,
      wGP: 16,
      nFX: 3,
      wFX: 48,
      pdcm: false,
      perfCapabilities: 0n,
    });
    // Every preset has 48-bit GP counters: "host" and 48 name the same guest model.
    const m = withAxes(DEFAULT_MATRIX, { gpWidth: ["host", 48] }, []);
    expect(m.ok && expandMatrix(m.matrix).length).toBe(2304);
  });

  it("parses PERF_CAPABILITIES specs", () => {
    expect(parseCaps("nopdcm")).toEqual({ pdcm: false, caps: 0n });
    expect(parseCaps("fw")).toEqual({ pdcm: true, caps: 0x2000n });
    expect(parseCaps("metrics+fw")).toEqual({ pdcm: true, caps: 0xa000n });
    expect(parseCaps("0x8000")).toEqual({ pdcm: true, caps: 0x8000n });
    expect(parseCaps("0")).toEqual({ pdcm: true, caps: 0n });
    expect(parseCaps("lbr")).toBeNull();
    expect(parseCaps("0x1ffffffffffffffff")).toBeNull();
  });

  it("rejects bad matrix files with one sentence naming the field", () => {
    const err = (text: string, policies: string[] = []) => {
      const r = parseMatrix("m.json", text, policies);
      return r.ok ? "ok" : r.error;
    };
    expect(err("{")).toMatch(/^m\.json: not valid JSON \(/);
    expect(err("[1]")).toBe("m.json: expected a JSON object with matrix axes");
    expect(err('{"hosts":["xyz"]}')).toBe(
      'm.json: hosts[0]: unknown host preset "xyz" (expected one of: skx, icx, spr, gnr)',
    );
    expect(err('{"colour":["red"]}')).toBe(
      "m.json: colour: unknown axis (expected one of: hosts, pmu, kvm, versions, gp, gpWidth, fixed, fixedWidth, caps, activity, vmwareBackdoor)",
    );
    expect(err('{"pmu":[]}')).toBe("m.json: pmu: expected a non-empty array");
    expect(err('{"pmu":["mediated","fast"]}')).toBe("m.json: pmu[1]: expected one of legacy, mediated, off");
    expect(err('{"gp":["host-x"]}')).toBe('m.json: gp[0]: expected a number 0..255, "host" or "host-N"');
    expect(err('{"versions":[256]}')).toBe("m.json: versions[0]: expected a PMU version 0..255 (CPUID.0AH:EAX[7:0])");
    expect(err('{"caps":["lbr"]}')).toBe(
      'm.json: caps[0]: expected "nopdcm", "fw", "metrics", "fw+metrics" or a hex PERF_CAPABILITIES value',
    );
    expect(err('{"activity":["busy"]}')).toBe(
      'm.json: activity[0]: unknown host activity "busy" (expected one of: idle, topdown, counting)',
    );
    expect(err('{"vmwareBackdoor":["yes"]}')).toBe("m.json: vmwareBackdoor[0]: expected true or false");
    expect(err('{"kvm":["mine"]}')).toBe('m.json: kvm[0]: unknown policy "mine" (expected legacy, base, v4, fix)');
    expect(err('{"kvm":["mine","v4"]}', ["mine"])).toBe("ok");
  });

  it("a matrix file replaces only the axes it names; duplicates collapse", () => {
    const r = parseMatrix("m.json", '{"hosts":["spr","spr"],"kvm":["v4","fix"],"pmu":["mediated"],"comment":"slice"}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.matrix.hosts).toEqual(["spr"]);
    expect(r.matrix.activity).toEqual(DEFAULT_MATRIX.activity);
    expect(expandMatrix(r.matrix).length).toBe(1 * 1 * 2 * 96 * 3);
  });

  it("configurations survive the JSON form (worker protocol, reports)", () => {
    for (const c of expandMatrix(DEFAULT_MATRIX).filter((_, i) => i % 997 === 0))
      expect(configFromJson(configJson(c))).toEqual(c);
  });
});
