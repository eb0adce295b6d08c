// Exit-path speed: a guest loop whose RDMSR of an intercepted MSR (FIXED_CTR_CTRL, 0x38D: always
// intercepted, model.md §11.6) exits on every iteration and goes through the full handler (exit decision from
// the MSR bitmap, KVM's MSR emulation, skip + R-CNT-4 count, re-entry). Reports exits per second for the
// LEGACY vPMU (targets: issue 5 ≥ 10 M/s, issue 16 ≥ 30 M/s; also with the exit log kept) and for the mediated vPMU (where every slow-path exit also runs put and load, model.md §12;
// issue 16 target ≥ 10 M/s). Each line gives exits per second of wall time and of this process's CPU time
// (user + system): on a shared machine the CPU figure is the one to compare between runs. Each line is timed
// after an untimed run of the same loop (a tenth as long) on another machine, so it is the steady rate.
import { assemble, createMachine, vcpuGuestConfig, Guest } from "../dist/index.js";

function image(N) {
  const src = `
        org 0x100000
        bits 64
        mov ebx, ${N}
        mov ecx, 0x38d
.loop:  rdmsr
        dec ebx
        jnz .loop
        mov al, 0
        out 0xf4, al
`;
  const asm = assemble(src, { file: "exits.s", include: () => null });
  if (!asm.ok) throw new Error("assembly failed");
  return asm;
}

/** A machine of `opts` running the loop for N exits, not started yet. */
function machine(opts, N, keepLog) {
  const asm = image(N);
  const m = createMachine(opts);
  if (!m.ok) throw new Error(m.error);
  const { vcpu, layer } = m.value;
  vcpu.logExits = keepLog;
  return { layer, g: Guest.create(asm.value.bytes, asm.value.origin, { ...vcpuGuestConfig(vcpu), maxInsns: 1e10 }) };
}

function bench(label, opts, N, keepLog = false) {
  // The same loop for N/10 exits on another machine first, untimed: V8 optimises the exit path (and the
  // figure is the steady rate, not the few hundred thousand exits it takes to get there).
  const warm = machine(opts, N / 10, keepLog);
  while (!warm.g.runChunk(1e9));
  const { layer, g } = machine(opts, N, keepLog);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let r;
  while (!(r = g.runChunk(1e9)));
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  const cpuNs = (c.user + c.system) * 1000;
  const exits = layer.exitCount;
  if (r.status !== 0 || exits < N) throw new Error(`${label}: run ended with ${r.report} after ${exits} exits`);
  console.log(
    `${label.padEnd(44)} ${exits} exits in ${(ns / 1e6).toFixed(0)} ms: ${(exits / (ns / 1e9) / 1e6).toFixed(2)} M exits/s (CPU ${(exits / (cpuNs / 1e9) / 1e6).toFixed(2)} M/s)`,
  );
}

// Each line runs for about a second (2×10^7 LEGACY exits, 10^7 mediated ones): a new machine's compiled block
// is optimised by V8 during its own run (twice: once entered mid-loop), some 20-30 ms of CPU time, which over
// 2×10^6 LEGACY exits weighed a third of the figure and over 3×10^6 mediated ones about a tenth.
bench("legacy (RDMSR 0x38d exits)", { host: "spr", pmu: "legacy" }, 20_000_000);
bench("mediated v4 (RDMSR 0x38d exits, put+load)", { host: "spr", pmu: "mediated", kvm: "v4" }, 10_000_000);
// W4 of issue 16: `--pmu mediated --kvm fix` (the leak checks run after every put).
bench("mediated fix (RDMSR 0x38d exits, put+load)", { host: "spr", pmu: "mediated", kvm: "fix" }, 10_000_000);
// The LEGACY loop with the exit log kept (what `vpmu run --exits` prints): one record per exit. Last: its
// 2×10^6 records (over 200 MB) become garbage when it ends, and V8 collects them during whatever line runs
// next — a full collection on the garbage of another line, which the line after it would be charged for.
bench("legacy, exit log kept", { host: "spr", pmu: "legacy" }, 2_000_000, true);
