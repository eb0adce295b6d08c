// Guests written in C (docs/c-guests.md): `vpmu run prog.c` compiles the program with the system gcc
// against the runtime in programs/c/lib (start-up, APIC mode, UART console and exit, printf, reports, IDT), links it with
// guest.ld into a Multiboot ELF, and boots that. The build happens in a temporary directory, removed
// afterwards; the tool lines are the ones docs/c-guests.md prints, so a reader can build the same ELF.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CliError, EXIT_USAGE } from "./errors.js";
import { C_RUNTIME_DIR } from "./paths.js";
import { readBytes } from "./files.js";
import { elfTextSymbols } from "../vmm/index.js";

/** The runtime's sources, compiled with every C guest (start.S first: the Multiboot header leads). */
export const C_RUNTIME_SOURCES: readonly string[] = [
  "start.S",
  "isr.S",
  "idt.c",
  "apic.c",
  "io.c",
  "printf.c",
  "report.c",
];

/** gcc's flags for guest code: no libc, no red zone (interrupts push on the interrupted stack), no
 *  SSE (the handlers save general registers only), code at fixed addresses below 2 GiB. */
export const C_GUEST_CFLAGS: readonly string[] = [
  "-ffreestanding",
  "-nostdlib",
  "-mno-red-zone",
  "-mgeneral-regs-only",
  "-O2",
  "-fno-pie",
  "-fno-stack-protector",
  "-fno-asynchronous-unwind-tables",
  "-std=gnu11",
  "-Wall",
  "-Wextra",
  "-Werror",
];

/** ld's flags: the layout of guest.ld, 4 KiB segment alignment (the Multiboot header stays in the
 *  file's first 8 KiB). */
export const C_GUEST_LDFLAGS: readonly string[] = ["-nostdlib", "-static", "-z", "max-page-size=0x1000"];

function tool(cmd: string, args: readonly string[], what: string): string {
  // LC_ALL=C: the tools' messages in plain ASCII whatever the user's locale (gcc quotes with ‘’ otherwise).
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (r.error) {
    const missing = (r.error as { code?: string }).code === "ENOENT";
    throw new CliError(
      missing
        ? `${what} needs ${cmd}, which is not installed (scripts/ensure-tools.sh installs gcc and binutils)`
        : `${what}: could not start ${cmd}: ${r.error.message}`,
      EXIT_USAGE,
    );
  }
  if (r.status !== 0) throw new CliError(`${r.stderr.trimEnd()}\n${what} failed (${cmd} exit status ${r.status})`);
  return r.stdout;
}

export interface CGuestImage {
  /** The Multiboot ELF64 image, booted as `qemu -kernel` boots it (docs/loading.md). */
  elf: Uint8Array;
  /** Its text symbols, for --trace. */
  symbols: { name: string; value: number }[];
}

/** Build `path` (a C guest) and return its ELF image and text symbols. */
export function buildCGuest(path: string): CGuestImage {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-cc-"));
  try {
    const what = `building ${basename(path)}`;
    const objs: string[] = [];
    const sources = [...C_RUNTIME_SOURCES.map((s) => join(C_RUNTIME_DIR, s)), path];
    sources.forEach((src, i) => {
      const obj = join(dir, `${i}-${basename(src).replace(/\.[cS]$/, "")}.o`);
      tool("gcc", [...C_GUEST_CFLAGS, "-I", C_RUNTIME_DIR, "-c", src, "-o", obj], what);
      objs.push(obj);
    });
    const elf = join(dir, "guest.elf");
    tool("ld", [...C_GUEST_LDFLAGS, "-T", join(C_RUNTIME_DIR, "guest.ld"), "-o", elf, ...objs], what);
    const bytes = readBytes(elf, "guest image");
    return { elf: bytes, symbols: elfTextSymbols(bytes) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
