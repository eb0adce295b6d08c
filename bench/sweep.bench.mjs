// The default `vpmu sweep` (every host preset × LEGACY/mediated × legacy/base/v4/fix × 96 guest models ×
// 2 host activities × the read and write probes) through the built CLI, on worker threads over all
// cores: wall time, runs per second, and what it found. Target (issue 7): ≥ 10,000 runs in < 60 s.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
const t0 = performance.now();
const r = spawnSync(process.execPath, [main, "sweep", "--json"], { encoding: "utf8", maxBuffer: 64 << 20 });
const seconds = (performance.now() - t0) / 1000;
if (r.status !== 0 && r.status !== 1) {
  console.log(`sweep failed (status ${r.status}): ${r.stderr.trim()}`);
  process.exit(1);
}
const doc = JSON.parse(r.stdout);
console.log(`default sweep: ${doc.configurations} configurations, ${doc.runs} runs (${doc.ran} ran, ${doc.rejected} rejected by KVM) on ${availableParallelism()} threads`);
console.log(`  ${seconds.toFixed(1)} s wall, ${(doc.runs / seconds).toFixed(0)} runs/s — target < 60 s: ${seconds < 60 ? "met" : "NOT met"}`);
for (const l of doc.leaks) console.log(`  ${l.signature}: ${l.conditions.map((c) => c.sentence).join(" | ")}`);
