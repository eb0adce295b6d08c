// The default `vpmu sweep` (every host preset × LEGACY/mediated × legacy/base/v4/fix × 96 guest models ×
// 3 host activities × the read and write probes) through the built CLI, on worker threads over all
// cores: wall time, CPU time, runs per second, and what it found. Target (issue 7): ≥ 10,000 runs in
// < 60 s. The machine's load average is printed too: on a shared machine the wall time says little,
// and CPU time ÷ cores is what an otherwise idle machine would take.
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";

const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
const load = loadavg()[0];
const t0 = performance.now();
// bash's `time` reports the CPU time of the whole command (main thread and worker threads).
const r = spawnSync(
  "bash",
  ["-c", `TIMEFORMAT='%U %S'; { time "${process.execPath}" "${main}" sweep --json >&3; } 2>&1`],
  {
    encoding: "utf8",
    maxBuffer: 256 << 20,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  },
);
const seconds = (performance.now() - t0) / 1000;
const json = r.output[3];
const times = r.stdout.trim().split(/\s+/).map(Number);
if (!json) {
  console.log(`sweep failed: ${r.stdout.trim()} ${r.stderr.trim()}`);
  process.exit(1);
}
const doc = JSON.parse(json);
const cpu = times[0] + times[1];
const cores = availableParallelism();
console.log(
  `default sweep: ${doc.configurations} configurations, ${doc.runs} runs (${doc.ran} ran, ${doc.rejected} rejected by KVM) on ${cores} threads`,
);
console.log(
  `  ${seconds.toFixed(1)} s wall (load average ${load.toFixed(1)} before the run), ${(doc.runs / seconds).toFixed(0)} runs/s — target < 60 s: ${seconds < 60 ? "met" : "NOT met"}`,
);
console.log(`  ${cpu.toFixed(1)} s CPU: ${(cpu / cores).toFixed(1)} s on ${cores} otherwise idle cores`);
for (const l of doc.leaks) console.log(`  ${l.signature}: ${l.conditions.map((c) => c.sentence).join(" | ")}`);
