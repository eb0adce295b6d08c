// The same guest loop under QEMU's user-mode TCG (issue 16: each figure beside QEMU's, from one run):
// the loop's source, with `hlt` replaced by an exit(0) system call, is assembled by nasm as a static
// Linux ELF (ld -N: text writable, so W3's stores into the code's own page work as in the bare guest) and
// timed as a whole `qemu-x86_64` process, minus the start-up of the same ELF exiting at once (the best
// of three of each). Data after `align 64` (W3's array) goes to .data, pages of its own: QEMU's user
// mode write-protects pages holding translated code and retranslates after each store into one, which
// turns W3 into a self-modifying-code benchmark there (minutes instead of a fraction of a second).
// Not a test: the figures are this machine's, at this moment.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const has = (cmd, arg) => spawnSync(cmd, [arg], { stdio: "ignore" }).status === 0;

/** Why QEMU figures cannot be given here, or null when nasm, ld and qemu-x86_64 are all installed. */
export function qemuMissing() {
  for (const [cmd, arg] of [
    ["qemu-x86_64", "--version"],
    ["nasm", "-v"],
    ["ld", "--version"],
  ])
    if (!has(cmd, arg)) return `${cmd} not installed (Debian: apt-get install -y qemu-user nasm binutils)`;
  return null;
}

const EXIT = "mov eax, 60\nxor edi, edi\nsyscall";

/** Build a static ELF from a bare-guest loop source; returns its path. */
function build(dir, name, src) {
  const asm = join(dir, `${name}.asm`),
    obj = join(dir, `${name}.o`),
    exe = join(dir, name);
  const code = src.replace(/^hlt$/m, EXIT).replace(/^align 64$/m, "section .data\nalign 64");
  writeFileSync(asm, `bits 64\ndefault rel\nsection .text\nglobal _start\n_start:\n${code}\n`);
  for (const [cmd, args] of [
    ["nasm", ["-f", "elf64", "-o", obj, asm]],
    ["ld", ["-static", "-o", exe, obj]],
  ]) {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  return exe;
}

/** Seconds of the fastest of `n` runs of `exe` under qemu-x86_64. */
function best(exe, n) {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync("qemu-x86_64", [exe], { stdio: "ignore", timeout: 120_000 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`qemu-x86_64 ${exe} exited with ${r.status}`);
    min = Math.min(min, s);
  }
  return min;
}

/** Guest MIPS of `src` (a bare-guest loop ending in hlt) under qemu-x86_64 for `insns` instructions,
 *  or the reason it could not be measured. */
export function qemuMips(src, insns) {
  try {
    return measure(src, insns);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Seconds of the fastest of `n` qemu-x86_64 runs of a static ELF that exits at once (start-up), or the
 *  reason it could not be measured. */
export function qemuStartup(n) {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-qemu-"));
  try {
    return best(build(dir, "start", "hlt"), n);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(src, insns) {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-qemu-"));
  try {
    const start = best(build(dir, "start", "hlt"), 3);
    const secs = best(build(dir, "loop", src), 3) - start;
    // Below ~50 ms past start-up the figure is start-up noise (it can even come out negative).
    if (secs < 0.05) return `the loop ran ${(secs * 1000).toFixed(0)} ms past start-up: too short to measure`;
    return insns / secs / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
