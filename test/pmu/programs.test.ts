// Golden runs of programs/pmu/*.s on the small KVM through the library (what `vpmu run <header> prog.s`
// prints: console, then "exit status: N"). VPMU_UPDATE=1 rewrites the .out files.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble } from "../../src/asm/assemble.js";
import { goldenPathFor, goldenText } from "../../src/golden/expected.js";
import { parseHeader } from "../../src/golden/header.js";
import { configureVcpu, type VpmuOptions } from "../../src/machine/index.js";
import { vcpuGuestConfig } from "../../src/machine/index.js";
import { Guest } from "../../src/vmm/guest.js";
import { parsePmuFilterFile } from "../../src/pmu/filter.js";
import { parseSize } from "../../src/cli/options.js";

const DIR = resolve("programs/pmu");

/** The vPMU options and guest memory size of a `; vpmu:` header (the subset these programs use). */
function headerOptions(args: readonly string[]): { vpmu: VpmuOptions; memSize?: number } {
  const o: Record<string, unknown> = {};
  let memSize: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    switch (a) {
      case "--host":
        o.host = v;
        i++;
        break;
      case "--pmu":
        o.pmu = v;
        i++;
        break;
      case "--kvm":
        o.kvm = v;
        i++;
        break;
      case "--pmu-version":
        o.pmuVersion = Number(v);
        i++;
        break;
      case "--gp":
        o.gp = Number(v);
        i++;
        break;
      case "--gp-width":
        o.gpWidth = Number(v);
        i++;
        break;
      case "--fixed":
        o.fixed = Number(v);
        i++;
        break;
      case "--fixed-width":
        o.fixedWidth = Number(v);
        i++;
        break;
      case "--perf-caps":
        o.perfCaps = BigInt(v!);
        i++;
        break;
      case "--no-pdcm":
        o.noPdcm = true;
        break;
      case "--tsx":
        o.tsx = true;
        break;
      case "--mem":
        memSize = parseSize(a, v!);
        i++;
        break;
      case "--pmu-filter": {
        const f = parsePmuFilterFile(v!, readFileSync(join(DIR, v!), "utf8"));
        if (!f.ok) throw new Error(f.error);
        o.filter = f.filter;
        i++;
        break;
      }
      default:
        throw new Error(`unknown header option ${a}`);
    }
  }
  return { vpmu: o as VpmuOptions, memSize };
}

function runProgram(path: string): string {
  const src = readFileSync(path, "utf8");
  const h = parseHeader(src, path);
  if (!h.ok) throw new Error(h.error);
  const asm = assemble(src, {
    file: path,
    include: (name, from) => {
      const f = join(dirname(from), name);
      return existsSync(f) ? { file: f, text: readFileSync(f, "utf8") } : null;
    },
  });
  if (!asm.ok) throw new Error(asm.error.map((d) => JSON.stringify(d)).join("\n"));
  const { vpmu, memSize } = headerOptions(h.value.args);
  const cfg = configureVcpu(vpmu);
  if ("error" in cfg) throw new Error(cfg.error);
  const g = Guest.create(asm.value.bytes, asm.value.origin, {
    ...vcpuGuestConfig(cfg.vcpu),
    maxInsns: 1e9,
    ...(memSize === undefined ? {} : { memSize }),
  });
  if ("error" in g) throw new Error(g.error);
  for (;;) {
    const r = g.runChunk(20_000_000); // the chunk `vpmu run` uses
    if (r) return goldenText(r.console, r.status);
  }
}

/** Programs whose header drives the VMM between KVM_RUNs (--step) or asserts on the exit log
 *  (--expect-exit): this library-level replay runs one guest to its end, so they are checked only by
 *  test/golden.test.ts through the CLI (src/machine/host-steps.ts). */
const hostDriven = (f: string) =>
  /--step |--expect-exit /.test(readFileSync(join(DIR, f), "utf8").split("\n", 12).join("\n"));

describe("programs/pmu golden outputs", () => {
  const all = readdirSync(DIR)
    .filter((f) => f.endsWith(".s"))
    .sort();
  it("leaves only the host-driven programs to the CLI golden test", () => {
    expect(all.filter(hostDriven)).toEqual(["host-steps.s"]);
  });
  const files = all.filter((f) => !hostDriven(f));
  for (const f of files) {
    it(f, () => {
      const path = join(DIR, f);
      const out = runProgram(path);
      const golden = goldenPathFor(path);
      // The console is bytes (one char per byte); the .out file holds the same bytes.
      if (process.env.VPMU_UPDATE === "1") writeFileSync(golden, Buffer.from(out, "latin1"));
      expect(out).toBe(readFileSync(golden, "latin1"));
    });
  }
});
