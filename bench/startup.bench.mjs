// Start-up (issue 16: ≤ 100 ms): whole `vpmu run` processes of a guest that exits at once (`mov al, 0` /
// `out 0xf4, al`), as a flat binary and as assembly source (the assembler loads only for .s), beside
// `node -e 0` (Node's own start-up, which every run pays) and qemu-x86_64 running a static ELF that exits
// at once (qemu.mjs). Wall time of the fastest of STARTUP_BENCH_RUNS runs (default 9) and their median;
// the load average is printed too: on a shared machine the medians say little. The CLI starts through
// V8's code cache, which the first run of a command after a build records (src/cli/launch.ts), and takes
// a source it assembled before from a cache too (src/cli/asm-cache.ts): two untimed runs of each first,
// and the same command without either cache (VPMU_CACHE=off: every run compiles and assembles, as the
// first run after a build does). `vpmu` runs as a user starts it, as a command: dist/cli/main.js's shell line
// starts node without NODE_EXTRA_CA_CERTS (scripts/post-build.mjs), whose file Node 20 reads at every start,
// TLS or not (on this workplace's machines it is set and adds ~40 ms to every node process). Where it is
// set, `node -e 0` is timed without it too, and `node dist/cli/main.js run exit.bin` (which keeps it), so
// both figures come from one run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { qemuMissing, qemuStartup } from "./qemu.mjs";

const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
const runs = Number(process.env.STARTUP_BENCH_RUNS ?? 9);
const dir = mkdtempSync(join(tmpdir(), "vpmu-startup-"));

/** Fastest and median wall seconds of `runs` runs of node with `args` (environment `env` added); each
 *  must exit 0. With `command`, `args[0]` is run as a command itself (main.js through its shell line). */
function time(args, env = {}, drop = [], command = false) {
  const secs = [];
  const full = { ...process.env, ...env };
  for (const k of drop) delete full[k];
  const [file, argv] = command ? [args[0], args.slice(1)] : [process.execPath, args];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, argv, { stdio: "ignore", env: full });
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0) throw new Error(`${file} ${argv.join(" ")} exited with ${r.status}`);
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
  // vpmu as a command starts node without NODE_EXTRA_CA_CERTS, so Node's own start is timed the same way.
  const caSet = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  const drop = ["NODE_EXTRA_CA_CERTS"];
  const node = time(["-e", "0"], {}, drop);
  console.log(
    `  ${(caSet ? "node -e 0, no NODE_EXTRA_CA_CERTS" : "node -e 0").padEnd(34)} ${ms(node.best)}  median ${ms(node.median)}`,
  );
  const verdict = (t) =>
    `target ≤ 100 ms: ${t.median <= 0.1 ? "met at the median" : t.best <= 0.1 ? "met at best only" : "NOT met"}`;
  for (const [name, file, env] of [
    ["vpmu run exit.bin", bin, {}],
    ["vpmu run exit.s", src, {}],
    ["vpmu run exit.s, no cache", src, { VPMU_CACHE: "off" }], // as the first run after a build
  ]) {
    // Records the caches: for a source the first run assembles (and records the code cache of a run that
    // assembles), the second takes the image and records the code cache later runs use.
    for (let i = 0; i < 2; i++) spawnSync(main, ["run", file], { stdio: "ignore" });
    const t = time([main, "run", file], env, [], true);
    console.log(
      `  ${name.padEnd(34)} ${ms(t.best)}  median ${ms(t.median)}  (${ms(t.best - node.best)} beyond node's own)${env.VPMU_CACHE ? "" : ` — ${verdict(t)}`}`,
    );
  }
  if (caSet) {
    console.log("  with NODE_EXTRA_CA_CERTS, as set in this environment (Node reads its file at every start):");
    const withCa = time(["-e", "0"]);
    console.log(`  ${"node -e 0".padEnd(34)} ${ms(withCa.best)}  median ${ms(withCa.median)}`);
    const t = time([main, "run", bin]);
    console.log(
      `  ${"node dist/cli/main.js run exit.bin".padEnd(34)} ${ms(t.best)}  median ${ms(t.median)}  (keeps the variable: started through node, not as a command)`,
    );
  }
  const missing = process.env.CPU_BENCH_QEMU === "off" ? "skipped (CPU_BENCH_QEMU=off)" : qemuMissing();
  const q = missing === null ? qemuStartup(runs) : missing;
  console.log(`  ${"qemu-x86_64 exit ELF".padEnd(34)} ${typeof q === "number" ? ms(q) : q}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
