// `vpmu run` of an assembly source seen before: the image comes from a cache instead of the assembler
// (issue 16: start-up). Assembling programs/lib's ~1,000 lines of includes took longer than the rest of a
// small guest's whole run, and `vpmu test` runs every golden program that way. An entry is valid only for
// the same source text, file name and directory (the assembler's inputs), the same text of every file the
// assembly included, and the same bundle (the assembler's version): any difference assembles again. Only
// the bundled CLI keeps entries, beside its code cache in dist/cli/cache/ — the package's own directory,
// never the user's; unwritable, every run assembles. An entry holds hashes of the texts, not the texts.
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { TraceSymbol } from "../vmm/index.js";
import { BUNDLE_HASH, CACHE_DIR } from "./paths.js";

/** What `vpmu run` takes from an assembly (src/cli/guest-image.ts). */
export interface AssembledImage {
  bytes: Uint8Array;
  origin: number;
  symbols: TraceSymbol[];
  entryBits: 32 | 64;
}

/** What one assembly read: the source and every included file, as the assembler received them. */
export interface AssemblyInputs {
  /** Absolute path of the source. */
  path: string;
  /** The source's name as given (diagnostics and relative includes start from it), and the directory it
   *  is relative to. */
  file: string;
  dir: string;
  text: string;
  /** Files the assembly asked for: absolute path → text, or null for one that did not exist. */
  includes: Map<string, string | null>;
}

interface Entry {
  key: string;
  includes: [path: string, hash: string][];
  bytes: string;
  origin: number;
  symbols: TraceSymbol[];
  entryBits: 32 | 64;
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const keyOf = (i: Omit<AssemblyInputs, "includes">) => sha(`${i.path}\0${i.file}\0${i.dir}\0${sha(i.text)}`);
/** The hash of a file the assembly found missing: it must still be missing. */
const MISSING = "missing";
function hashOfFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return MISSING;
  }
  return sha(text);
}
const entryFile = (path: string) => `${CACHE_DIR}asm-${BUNDLE_HASH}-${sha(path).slice(0, 24)}.json`;

/** Whether entries are read and kept: only in the bundled CLI, and not under VPMU_CACHE=off (launch.ts). */
const enabled = BUNDLE_HASH !== null && process.env.VPMU_CACHE !== "off";

/** The cached image of this source, or null (none, stale, or caching is off). */
export function cachedAssembly(i: Omit<AssemblyInputs, "includes">): AssembledImage | null {
  if (!enabled) return null;
  try {
    const e = JSON.parse(readFileSync(entryFile(i.path), "utf8")) as Entry;
    if (e.key !== keyOf(i)) return null;
    for (const [path, hash] of e.includes) if (hashOfFile(path) !== hash) return null;
    return {
      bytes: new Uint8Array(Buffer.from(e.bytes, "base64")),
      origin: e.origin,
      symbols: e.symbols,
      entryBits: e.entryBits,
    };
  } catch {
    return null;
  }
}

/** Keep an assembly's image for the next run of the same inputs (a concurrent run may do the same: the
 *  rename is atomic). */
export function saveAssembly(i: AssemblyInputs, img: AssembledImage): void {
  if (!enabled) return;
  const file = entryFile(i.path);
  const tmp = `${file}.${process.pid}`;
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    accessSync(CACHE_DIR, constants.W_OK);
    const e: Entry = {
      key: keyOf(i),
      includes: [...i.includes].map(([path, text]) => [path, text === null ? MISSING : sha(text)]),
      bytes: Buffer.from(img.bytes.buffer, img.bytes.byteOffset, img.bytes.byteLength).toString("base64"),
      origin: img.origin,
      symbols: img.symbols,
      entryBits: img.entryBits,
    };
    writeFileSync(tmp, JSON.stringify(e));
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}
