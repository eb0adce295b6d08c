// Start-up (issue 16: ≤ 100 ms): whole `vpmu run` processes of a guest that exits at once (`mov al, 0` /
// `out 0xf4, al`), as a flat binary and as assembly source (the assembler loads only for .s), beside
// `node -e 0` (Node's own start-up, which every run pays) and qemu-x86_64 running a static ELF that exits
// at once (qemu.mjs). Wall time of the fastest of STARTUP_BENCH_RUNS runs (default 9) and their median;
// the load average is printed too: on a shared machine the medians say little. The CLI starts through
// V8's code cache, which the first run of a command after a build records (src/cli/launch.ts), and takes
// a source it assembled before from a cache too (src/cli/asm-cache.ts): two untimed runs of each first,
// and the same command without either cache (VPMU_CACHE=off: every run compiles and assembles, as the
// first run after a build does). Node 20 reads the file NODE_EXTRA_CA_CERTS names at every start, TLS or
// not (on this workplace's machines it is set and adds ~40 ms to every node process): where it is set,
// `node -e 0` and the cached runs are timed again without it, so both figures come from one run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { qemuMissing, qemuStartup } from "./qemu.mjs";

const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
const runs = Number(process.env.STARTUP_BENCH_RUNS ?? 9);
const dir = mkdtempSync(join(tmpdir(), "vpmu-startup-"));

/** Fastest and median wall seconds of `runs` runs of node with `args` (environment `env` added); each
 *  must exit 0. */
function time(args, env = {}, drop = []) {
  const secs = [];
  const full = { ...process.env, ...env };
  for (const k of drop) delete full[k];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: "ignore", env: full });
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}`);
  }
  secs.sort((a, b) => a - b);
  return { best: secs[0], median: secs[secs.length >> 1] };
}

const ms = (s) => `${(s * 1000).toFixed(0).padStart(4)} ms`;
try {
  const bin = join(dir, "exit.bin");
  const src = join(dir, "exit.s");
  writeFileSync(bin, Uint8Array.of(0xb0, 0x00, 0xe6, 0xf4));
  writeFileSync(src, "bits 64\nmov al, 0\nout 0xf4, al\n");
  console.log(`start-up, best and median of ${runs} (load average ${loadavg()[0].toFixed(1)} before the runs):`);
  const node = time(["-e", "0"]);
  console.log(`  node -e 0                  ${ms(node.best)}  median ${ms(node.median)}`);
  for (const [name, file, env] of [
    ["vpmu run exit.bin", bin, {}],
    ["vpmu run exit.s", src, {}],
    ["vpmu run exit.s, no cache", src, { VPMU_CACHE: "off" }],
  ]) {
    // Records the caches: for a source the first run assembles (and records the code cache of a run that
    // assembles), the second takes the image and records the code cache later runs use.
    for (let i = 0; i < 2; i++) spawnSync(process.execPath, [main, "run", file], { stdio: "ignore" });
    const t = time([main, "run", file], env);
    console.log(
      `  ${name.padEnd(26)} ${ms(t.best)}  median ${ms(t.median)}  (${ms(t.best - node.best)} beyond node's own) — target ≤ 100 ms: ${t.best <= 0.1 ? "met" : "NOT met"}`,
    );
  }
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    const drop = ["NODE_EXTRA_CA_CERTS"];
    console.log("  without NODE_EXTRA_CA_CERTS (set in this environment; Node reads its file at every start):");
    const bare = time(["-e", "0"], {}, drop);
    console.log(`  node -e 0                  ${ms(bare.best)}  median ${ms(bare.median)}`);
    for (const [name, file] of [
      ["vpmu run exit.bin", bin],
      ["vpmu run exit.s", src],
    ]) {
      const t = time([main, "run", file], {}, drop);
      console.log(
        `  ${name.padEnd(26)} ${ms(t.best)}  median ${ms(t.median)}  (${ms(t.best - bare.best)} beyond node's own) — target ≤ 100 ms: ${t.best <= 0.1 ? "met" : "NOT met"}`,
      );
    }
  }
  const missing = process.env.CPU_BENCH_QEMU === "off" ? "skipped (CPU_BENCH_QEMU=off)" : qemuMissing();
  const q = missing === null ? qemuStartup(runs) : missing;
  console.log(`  qemu-x86_64 exit ELF       ${typeof q === "number" ? ms(q) : q}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
