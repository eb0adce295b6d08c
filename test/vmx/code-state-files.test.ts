// A policy file naming the code-state predicates (src/pmu/code-states.ts) behaves like the built-in row it
// copies: same plans, and the same `vpmu run` output for every golden program that names a built-in kernel.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { goldenText } from "../../src/golden/expected.js";
import { parseHeader } from "../../src/golden/header.js";
import { findHostPreset, HOST_PRESET_IDS } from "../../src/host/presets.js";
import { CODE_STATE_FEATURES, CODE_STATES, type CodeState } from "../../src/pmu/code-states.js";
import { findPolicy, parsePolicyFile, type GuestPmuView, type InterceptPolicy } from "../../src/vmx/policies/index.js";
import { ROOT, vpmu } from "../cli/run-cli.js";

const MEDIATED_ROWS = CODE_STATES.filter((c) => c.mediatedPmu);

/** The file text that re-creates `row` from a different starting point, naming every predicate. */
function fileFor(row: CodeState): string {
  const other = MEDIATED_ROWS.find((c) => c.id !== row.id)!;
  const features = Object.fromEntries(CODE_STATE_FEATURES.map((f) => [f, row[f]]));
  return JSON.stringify({ name: row.id, extends: other.id, features }, null, 2);
}

function filePolicy(row: CodeState): InterceptPolicy {
  const r = parsePolicyFile(`${row.id}.json`, fileFor(row));
  if (!r.ok) throw new Error(r.error);
  return r.policy;
}

const GUESTS: GuestPmuView[] = [
  { version: 2, nGP: 8, wGP: 48, nFX: 4, wFX: 48, perfCapabilities: 0x2000n },
  { version: 2, nGP: 8, wGP: 48, nFX: 4, wFX: 48, perfCapabilities: 0xa000n },
  { version: 2, nGP: 8, wGP: 40, nFX: 4, wFX: 48, perfCapabilities: 0xa000n },
  { version: 2, nGP: 8, wGP: 48, nFX: 3, wFX: 48, perfCapabilities: 0x2000n },
  { version: 1, nGP: 4, wGP: 48, nFX: 0, wFX: 0, perfCapabilities: 0n },
  { version: 0, nGP: 0, wGP: 0, nFX: 0, wFX: 0, perfCapabilities: 0n },
];

describe("a policy file naming the predicates behaves like its built-in row", () => {
  it("the file's kernel is the row: same id, label and predicates", () => {
    for (const row of MEDIATED_ROWS) expect(filePolicy(row).codeState, row.id).toEqual(row);
  });

  it("same plans on every host, guest and module parameters", () => {
    for (const row of MEDIATED_ROWS) {
      const builtin = findPolicy(row.id)!;
      const file = filePolicy(row);
      for (const hostId of HOST_PRESET_IDS) {
        const host = findHostPreset(hostId)!;
        for (const guest of GUESTS)
          for (const enableVmwareBackdoor of [false, true]) {
            const params = { enablePmu: true, enableMediatedPmu: true, enableVmwareBackdoor };
            const want = builtin.plan({ params: { ...params, codeState: builtin.codeState }, host, guest });
            const got = file.plan({ params: { ...params, codeState: file.codeState }, host, guest });
            expect(got, `${row.id} on ${hostId}`).toEqual(want);
          }
      }
    }
  });

  it("rejects unknown predicates and non-boolean values, naming the field", () => {
    const bad = (features: unknown) =>
      parsePolicyFile("v5.json", JSON.stringify({ name: "v5", extends: "fix", features }));
    expect(bad({ rdpmcMetrics: 1 })).toEqual({
      ok: false,
      error: "v5.json: features.rdpmcMetrics: expected true or false",
    });
    const r = bad({ fc3: true });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toBe(
        `v5.json: features.fc3: unknown feature (expected one of: ${CODE_STATE_FEATURES.join(", ")})`,
      );
  });

  // Every golden program that runs a built-in mediated kernel, run with the file instead: byte-identical.
  const dir = mkdtempSync(join(tmpdir(), "vpmu-code-states-"));
  const files = new Map(MEDIATED_ROWS.map((row) => [row.id, join(dir, `${row.id}.json`)]));
  for (const row of MEDIATED_ROWS) writeFileSync(files.get(row.id)!, fileFor(row));
  const programs = ["leak", "mediated"].flatMap((d) =>
    readdirSync(join(ROOT, "programs", d))
      .filter((f) => f.endsWith(".s"))
      .map((f) => `programs/${d}/${f}`),
  );
  for (const prog of programs) {
    const header = parseHeader(readFileSync(join(ROOT, prog), "utf8"), prog);
    if (!header.ok) continue;
    const args = header.value.args;
    const k = args.indexOf("--kvm");
    if (k < 0 || !files.has(args[k + 1]!)) continue;
    it(`${prog} under --kvm ${args[k + 1]}.json prints its golden output`, () => {
      const withFile = [...args.slice(0, k + 1), files.get(args[k + 1]!)!, ...args.slice(k + 2)];
      const r = vpmu(["run", prog, ...withFile]);
      const golden = readFileSync(join(ROOT, prog.replace(/\.s$/, ".out")), "utf8");
      expect(goldenText(r.stdout, r.status ?? -1)).toBe(golden);
    });
  }
});
