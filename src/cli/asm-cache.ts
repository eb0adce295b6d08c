// `vpmu run` of an assembly source seen before: the image comes from a cache instead of the assembler
// (issue 16: start-up). Assembling programs/lib's ~1,000 lines of includes took longer than the rest of a
// small guest's whole run, and `vpmu test` runs every golden program that way. An entry is valid only for
// the same source text, file name and directory (the assembler's inputs), the same text of every file the
// assembly included, and the same bundle (the assembler's version): any difference assembles again. Only
// the bundled CLI keeps entries, beside its code cache in dist/cli/cache/ — the package's own directory,
// never the user's; unwritable, every run assembles. An entry holds the texts themselves and is compared
// with them exactly (no hash: node:crypto alone cost a source's run a few ms of start-up). The directory
// keeps the MAX_ENTRIES most recently written entries (the 62 programs under programs/ fit twice over).
import {
  accessSync,
  constants,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
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
  path: string;
  file: string;
  dir: string;
  text: string;
  /** Each included file's text as the assembly read it, null for one that was missing. */
  includes: [path: string, text: string | null][];
  bytes: string;
  origin: number;
  symbols: TraceSymbol[];
  entryBits: 32 | 64;
}

/** How many entries the cache directory keeps: saving one more removes the oldest written. */
export const MAX_ENTRIES = 128;

/** A file's text, or null when it cannot be read. */
function textOf(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The entry's file name: one per source path, by the path's 32-bit FNV-1a hash. Two paths with the same
 *  hash only replace each other's entry: an entry holds its path and is checked against it. */
export function entryFile(path: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return join(CACHE_DIR, `asm-${BUNDLE_HASH}-${(h >>> 0).toString(16).padStart(8, "0")}.json`);
}

/** Whether entries are read and kept: only in the bundled CLI, and not under VPMU_CACHE=off (launch.ts). */
const enabled = BUNDLE_HASH !== null && process.env.VPMU_CACHE !== "off";

/** The cached image of this source, or null (none, stale, or caching is off). */
export function cachedAssembly(i: Omit<AssemblyInputs, "includes">): AssembledImage | null {
  if (!enabled) return null;
  try {
    const e = JSON.parse(readFileSync(entryFile(i.path), "utf8")) as Entry;
    if (e.path !== i.path || e.file !== i.file || e.dir !== i.dir || e.text !== i.text) return null;
    for (const [path, text] of e.includes) if (textOf(path) !== text) return null;
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
 *  rename is atomic), then trim the directory to MAX_ENTRIES entries. */
export function saveAssembly(i: AssemblyInputs, img: AssembledImage): void {
  if (!enabled) return;
  const file = entryFile(i.path);
  const tmp = `${file}.${process.pid}`;
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    accessSync(CACHE_DIR, constants.W_OK);
    const e: Entry = {
      path: i.path,
      file: i.file,
      dir: i.dir,
      text: i.text,
      includes: [...i.includes],
      bytes: Buffer.from(img.bytes.buffer, img.bytes.byteOffset, img.bytes.byteLength).toString("base64"),
      origin: img.origin,
      symbols: img.symbols,
      entryBits: img.entryBits,
    };
    writeFileSync(tmp, JSON.stringify(e));
    renameSync(tmp, file);
    pruneEntries(CACHE_DIR, MAX_ENTRIES);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** Remove all but the `keep` most recently written entries (asm-*.json) of `dir`; entries another run
 *  removes meanwhile are skipped. Exported for its test. */
export function pruneEntries(dir: string, keep: number): void {
  const names = readdirSync(dir).filter((f) => f.startsWith("asm-") && f.endsWith(".json"));
  if (names.length <= keep) return;
  const dated: [name: string, mtime: number][] = [];
  for (const name of names) {
    try {
      dated.push([name, statSync(join(dir, name)).mtimeMs]);
    } catch {
      // gone already
    }
  }
  dated.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [name] of dated.slice(keep)) rmSync(join(dir, name), { force: true });
}
