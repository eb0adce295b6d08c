// What `vpmu run FILE` loads: a C guest (built by c-guest.ts, then booted as the Multiboot ELF it is); a
// kernel (any file whose bytes are ELF or carry a Multiboot header, and a source whose assembled image
// carries one) booted as `qemu -kernel` boots it; else a NASM source assembled at its org or a flat binary (.bin/.img) at --load
// (docs/loading.md, docs/guest-abi.md).
import { dirname, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { elfTextSymbols, isKernelImage, loadKernel, type BootImage, type TraceSymbol } from "../vmm/index.js";
import { CliError, EXIT_USAGE, usageError } from "./errors.js";
import { readBytes } from "./files.js";
import type { AssembledImage } from "./asm-cache.js";

/** QEMU's default RAM (-m 128M), for a booted kernel without --mem: kvm-unit-tests assumes at least this. */
export const KERNEL_DEFAULT_MEM = 128 << 20;

/** How a kernel is booted: the command line, the modules, RAM (null: KERNEL_DEFAULT_MEM). */
export interface KernelInput {
  append?: string;
  initrd?: string[];
  memSize: number | null;
}

export interface LoadedImage {
  /** A flat image (at `origin`), or a booted kernel's regions and entry state. */
  image: Uint8Array | BootImage;
  origin: number;
  symbols: TraceSymbol[];
  entryBits: 32 | 64;
  /** The RAM the guest gets: --mem, or the default for this kind of image. */
  memSize: number;
}

/**
 * Load `file` (relative to `dir`, the working directory unless given): boot it as a kernel when its bytes
 * (or, for a source, its assembled bytes) are ELF or carry a Multiboot header; otherwise a flat image.
 * The assembler and the C toolchain driver load only for a file that needs them (start-up, issue 16).
 */
export async function loadImage(
  file: string,
  load: number,
  dir = ".",
  k: KernelInput = { memSize: null },
): Promise<LoadedImage> {
  const path = resolve(dir, file);
  if (/\.c$/.test(file)) {
    const { buildCGuest } = await import("./c-guest.js");
    const c = buildCGuest(path);
    return bootKernel(c.elf, file, dir, k, c.symbols);
  }
  const isFlat = /\.(bin|img)$/i.test(file);
  const raw = readBytes(path, isFlat ? "guest image" : "guest source");
  if (isKernelImage(raw)) return bootKernel(raw, file, dir, k, elfTextSymbols(raw));
  if (isFlat) return flat(file, k, { bytes: raw, origin: load, symbols: [], entryBits: 64 });
  const src = await assembleFile(file, dir, path, new TextDecoder("utf-8", { ignoreBOM: true }).decode(raw));
  if (isKernelImage(src.bytes)) return bootKernel(src.bytes, file, dir, k, src.symbols);
  return flat(file, k, src);
}

function flat(
  file: string,
  k: KernelInput,
  img: { bytes: Uint8Array; origin: number; symbols: TraceSymbol[]; entryBits: 32 | 64 },
): LoadedImage {
  for (const [v, flag] of [
    [k.append, "--append"],
    [k.initrd, "--initrd"],
  ] as const)
    if (v !== undefined)
      throw usageError(
        `${flag} is for a booted kernel (an ELF or Multiboot image), and ${file} is a flat program (docs/loading.md)`,
      );
  return {
    image: img.bytes,
    origin: img.origin,
    symbols: img.symbols,
    entryBits: img.entryBits,
    memSize: k.memSize ?? 16 << 20,
  };
}

function bootKernel(bytes: Uint8Array, file: string, dir: string, k: KernelInput, symbols: TraceSymbol[]): LoadedImage {
  const memSize = k.memSize ?? KERNEL_DEFAULT_MEM;
  const modules = (k.initrd ?? []).map((name) => ({ name, bytes: readBytes(resolve(dir, name), "initrd") }));
  const r = loadKernel(bytes, { kernelName: file, cmdline: k.append ?? "", modules, memSize });
  if (!r.ok) throw usageError(`${file}: ${r.error}`);
  return { image: r.value, origin: r.value.entry, symbols, entryBits: r.value.bits, memSize };
}

/** Assemble a source file (includes resolved relative to the including file), or take the image of the
 *  same inputs from the cache (src/cli/asm-cache.ts). */
async function assembleFile(file: string, dir: string, path: string, text: string): Promise<AssembledImage> {
  // Loaded for sources only: it needs node:crypto, which a flat image's run does not load.
  const { cachedAssembly, saveAssembly } = await import("./asm-cache.js");
  const cached = cachedAssembly({ path, file, dir, text });
  if (cached !== null) return cached;
  const { assemble, formatDiagnostic } = await import("../asm/index.js");
  const includes = new Map<string, string | null>();
  const res = assemble(text, {
    file,
    include: (name, from) => {
      const p = resolve(dir, dirname(from), name);
      const found = existsSync(p) ? { file: p, text: readFileSync(p, "utf8") } : null;
      includes.set(p, found?.text ?? null);
      return found;
    },
  });
  if (!res.ok) {
    const lines = new Map<string, string[]>();
    const msgs = res.error.map((d) => {
      if (!lines.has(d.file)) {
        try {
          lines.set(d.file, readFileSync(resolve(dir, d.file), "utf8").split("\n"));
        } catch {
          lines.set(d.file, []);
        }
      }
      return formatDiagnostic(d, lines.get(d.file)!);
    });
    throw new CliError(`${msgs.join("\n")}\n${file}: assembly failed`, EXIT_USAGE);
  }
  const r = res.value;
  if (r.entryBits === 16)
    throw new CliError(
      `${file}: starts with 'bits 16': real mode is not modelled (a guest starts in 64- or 32-bit mode)`,
      EXIT_USAGE,
    );
  const symbols = r.symbols.filter((s) => s.kind === "label").map((s) => ({ name: s.name, value: Number(s.value) }));
  const img: AssembledImage = { bytes: r.bytes, origin: r.origin, symbols, entryBits: r.entryBits };
  saveAssembly({ path, file, dir, text, includes }, img);
  return img;
}
