// Guest CPU speed (issue 3): three workloads of ≥ 10^8 guest instructions each on the bare platform,
// with the retired-instruction and branch counts checked exactly. Prints guest MIPS (target ≥ 200).
import { assemble, Cpu, BarePlatform, GuestIo, StopReason } from "../dist/index.js";

const ORG = 0x100000;
const MEM = 16 << 20;
const N = Number(process.env.CPU_BENCH_ITERS ?? 0) || undefined;

const WORKLOADS = [
  {
    name: "W1 dec/jnz loop",
    iters: N ?? 50_000_000,
    perIter: 2,
    branchesPerIter: 1,
    src: (n) => `mov rcx, ${n}\nl: dec rcx\njnz l\nhlt`,
  },
  {
    name: "W2 8 ALU ops + dec/jnz",
    iters: N ?? 10_000_000,
    perIter: 10,
    branchesPerIter: 1,
    src: (n) =>
      `mov rcx, ${n}\nmov r9, 12345\nl: add rax, rbx\nsub rdx, rax\nxor rsi, rdx\nand rdi, rsi\nshl rbx, 1\ninc r8\ncmp r8, r9\nor r10, r8\ndec rcx\njnz l\nhlt`,
  },
  {
    name: "W3 3 loads + 2 stores, same page as code",
    iters: N ?? 14_285_715,
    perIter: 7,
    branchesPerIter: 1,
    src: (n) =>
      `lea rbx, [rel arr]\nmov rcx, ${n}\nl: mov rax, [rbx]\nmov rdx, [rbx+8]\nadd rax, [rbx+16]\nmov [rbx+24], rax\nmov [rbx+32], rdx\ndec rcx\njnz l\nhlt\nalign 64\narr: times 8 dq 1`,
  },
];

let failed = false;
for (const w of WORKLOADS) {
  const r = assemble(`bits 64\norg 0x${ORG.toString(16)}\n${w.src(w.iters)}\n`);
  if (!r.ok) {
    console.log(`${w.name}: assembly failed`);
    failed = true;
    continue;
  }
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.load(ORG, r.value.bytes);
  cpu.rip = ORG;
  cpu.set64(4, MEM, 0);
  const expected = w.perIter * w.iters + (w.name.startsWith("W3") ? 2 : 1) + (w.name.startsWith("W2") ? 1 : 0);
  const t0 = process.hrtime.bigint();
  let stop;
  do stop = cpu.run(1e9);
  while (stop === StopReason.Budget);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const ev = cpu.events;
  const ok = stop === StopReason.Halted && ev.instructions === expected && ev.branches === w.branchesPerIter * w.iters;
  if (!ok) failed = true;
  console.log(
    `${w.name.padEnd(44)} ${(ev.instructions / 1e6).toFixed(0).padStart(5)}M insns in ${secs.toFixed(2)}s = ${(ev.instructions / secs / 1e6).toFixed(1).padStart(6)} MIPS  counts ${ok ? "exact" : `WRONG (insns ${ev.instructions}/${expected}, branches ${ev.branches})`}`,
  );
}
process.exit(failed ? 1 : 0);
