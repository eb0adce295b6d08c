// --config with `vpmu run`: a JSON file of the same keys as the options gives byte-identical output
// to the options themselves; camelCase keys work; the command line overrides the file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vpmu } from "./run-cli.js";

const PROGRAM = "programs/leak/v4-rdpmc-leak.s";
const SETUP = [
  "--host",
  "spr",
  "--pmu",
  "mediated",
  "--pmu-version",
  "2",
  "--gp",
  "8",
  "--gp-width",
  "48",
  "--fixed",
  "4",
  "--fixed-width",
  "48",
  "--perf-caps",
  "0x2000",
  "--host-msr",
  "0x329=0x8899aabb11223344",
  "--exits",
];
const dir = mkdtempSync(join(tmpdir(), "vpmu-config-"));
const config = join(dir, "vm.json");
writeFileSync(
  config,
  JSON.stringify({
    host: "spr",
    pmu: "mediated",
    kvm: "v4",
    pmuVersion: 2,
    gp: 8,
    "gp-width": 48,
    fixed: 4,
    fixedWidth: 48,
    "perf-caps": "0x2000",
    "host-msr": ["0x329=0x8899aabb11223344"],
    exits: true,
  }),
);

describe("vpmu run --config", () => {
  it("gives the same bytes and status as the options on the command line", () => {
    const byOptions = vpmu(["run", ...SETUP, "--kvm", "v4", PROGRAM]);
    const byConfig = vpmu(["run", "--config", config, PROGRAM]);
    expect(byOptions.status).toBe(104); // a leak decides the status (EXIT_LEAK)
    expect(byOptions.stdout).toContain("FAIL: perf-metrics: rdpmc 0x20000000 raises #GP\n");
    expect(byConfig).toEqual(byOptions);
  });
  it("lets the command line win", () => {
    const fix = vpmu(["run", ...SETUP, "--kvm", "fix", PROGRAM]);
    expect(fix.status).toBe(0);
    expect(vpmu(["run", "--config", config, "--kvm", "fix", PROGRAM])).toEqual(fix);
  });
  it("rejects a bad value in the file with the file, key and reason, before running", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ host: "zen" }));
    expect(vpmu(["run", "--config", bad, PROGRAM])).toEqual({
      status: 2,
      stdout: "",
      stderr: `vpmu: config file ${bad}: 'host': option --host: 'zen' is not one of skx, icx, spr, gnr\n`,
    });
  });
});
