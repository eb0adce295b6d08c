// `npm run bench`: assembles a generated 10,000-line program (mixed instructions, labels, forward and
// backward jumps, data, a macro) with the library's assemble() and prints the time. Goal: < 1 s.
import { assemble } from "../dist/index.js";
import { loadavg } from "node:os";

const body = [
  "    mov eax, [rbx+rcx*4+0x10]",
  "    add rax, 12345",
  "    lea rsi, [rel data]",
  "    cmp ecx, 100",
  "    jne .skip%",
  "    call func%",
  ".skip%:",
  "    shl rdx, 3",
  "    movzx eax, byte [rsi+1]",
  "    push r12",
  "    pop r12",
  "    xor r8d, r8d",
  "    test al, 1",
  "    jz func%",
  "    imul rax, rbx, 10",
  "    sub qword [rsp+8], 1",
  "    rdpmc",
  "    out 0xE9, al",
  "    inc dword [counter]",
];
const lines = ["bits 64", "org 0x100000", "%macro bump 1", "    add %1, 1", "%endmacro", "start:"];
let i = 0;
while (lines.length < 9980) {
  lines.push(`func${i}:`);
  for (const l of body) lines.push(l.replace(/%/g, String(i)));
  lines.push("    bump eax", "    ret");
  i++;
}
lines.push(
  "    jmp start",
  "counter: dd 0",
  "data: times 64 db 0x55",
  "    align 16",
  "table: dq start, data, counter",
);
const src = lines.join("\n") + "\n";

assemble("bits 64\nnop\n"); // warm up the grammar and tables
const runs = 5;
const times = [];
const cpuTimes = [];
let size = 0;
let passes = 0;
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = assemble(src, { file: "bench.s" });
  const c1 = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c1.user + c1.system) / 1000);
  if (!res.ok) {
    console.error(
      res.error
        .slice(0, 3)
        .map((d) => `${d.line}:${d.col} ${d.message}`)
        .join("\n"),
    );
    process.exit(1);
  }
  size = res.value.bytes.length;
  passes = res.value.passes;
}
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);
const load = loadavg()[0].toFixed(1);
console.log(
  `asm: ${lines.length} lines -> ${size} bytes in ${passes} passes; median ${times[runs >> 1].toFixed(1)} ms wall (${cpuTimes[runs >> 1].toFixed(1)} ms CPU), best ${times[0].toFixed(1)} ms (goal < 1000 ms; load average ${load})`,
);

// The whole command as a user runs it: process start, module load, assemble, write.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-bench-"));
writeFileSync(join(dir, "big.s"), src);
const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
const cli = [];
const cliCpu = [];
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  // bash's `time` gives the child's CPU seconds (user+system), which the machine's load inflates less.
  const cmd = `TIMEFORMAT='%U %S'; time "${process.execPath}" "${main}" asm "${join(dir, "big.s")}" -o "${join(dir, "big.bin")}"`;
  const res = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  cli.push(performance.now() - t0);
  if (res.status !== 0) {
    console.error(res.stderr);
    process.exit(1);
  }
  const [u, s] = res.stderr.trim().split("\n").pop().split(" ").map(Number);
  cliCpu.push((u + s) * 1000);
}
rmSync(dir, { recursive: true, force: true });
cli.sort((a, b) => a - b);
cliCpu.sort((a, b) => a - b);
console.log(
  `vpmu asm (CLI, ${lines.length} lines): median ${cli[1].toFixed(1)} ms wall (${cliCpu[1].toFixed(0)} ms CPU), best ${cli[0].toFixed(1)} ms (goal < 1000 ms)`,
);
