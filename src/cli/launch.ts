// `vpmu` as installed (scripts/post-build.mjs bundles this file as dist/cli/main.js): starts the CLI, which
// post-build bundles as one script, dist/cli/vpmu.cjs, through V8's code cache (issue 16: start-up).
// Compiling the CLI's JavaScript cost more than running a small guest: Node 20 caches no ES module code,
// but a script compiled with vm.Script takes `cachedData`, V8's serialized bytecode of the functions a
// run compiled. The first run of each command (and a run whose cache V8 rejects: another Node or V8
// flags) records one at exit into dist/cli/cache/ beside the bundle — the package's own directory, never
// the user's; unwritable, the run simply goes uncached. Each cache file is named after the bundle's
// content hash, so a rebuilt bundle never meets an old cache (V8 itself checks only the source length).
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { cacheKey } from "./cache-key.js";

/** The bundle's content hash (post-build defines it). */
declare const VPMU_BUNDLE_HASH: string;

const bundle = fileURLToPath(new URL("./vpmu.cjs", import.meta.url));
const cacheDir = fileURLToPath(new URL("./cache/", import.meta.url));
const cacheFile = `${cacheDir}${cacheKey(process.argv)}-${VPMU_BUNDLE_HASH}.bin`;

/** VPMU_CACHE=off: neither read nor record a cache, this one or asm-cache.ts's (a run as the first after a
 *  build; bench/startup.bench.mjs times such runs). */
const useCache = process.env.VPMU_CACHE !== "off";

/** The bundle's text and the cache's bytes, read through one buffer: the bundle first (its text is a
 *  copy), then the cache over it. Memory is costly the first time it is touched, and readFileSync would
 *  take a new buffer for each (a few hundred KiB apiece, every start). The bundle is ASCII (post-build
 *  checks), so latin1 is its cheapest exact decoding. */
function readBoth(): { source: string; cached: Buffer | undefined } {
  const fd = openSync(bundle, "r");
  let cacheFd = -1;
  try {
    if (useCache) cacheFd = openSync(cacheFile, "r");
  } catch {
    cacheFd = -1; // no cache yet
  }
  try {
    const size = fstatSync(fd).size;
    const cacheSize = cacheFd < 0 ? 0 : fstatSync(cacheFd).size;
    const buf = Buffer.allocUnsafeSlow(Math.max(size, cacheSize));
    const source = buf.toString("latin1", 0, readAll(fd, buf, size));
    const cached = cacheFd < 0 ? undefined : buf.subarray(0, readAll(cacheFd, buf, cacheSize));
    return { source, cached };
  } finally {
    closeSync(fd);
    if (cacheFd >= 0) closeSync(cacheFd);
  }
}

/** Read `size` bytes of `fd` into the start of `buf` (fewer if the file is shorter); how many were read. */
function readAll(fd: number, buf: Buffer, size: number): number {
  let n = 0;
  while (n < size) {
    const r = readSync(fd, buf, n, size - n, n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

const { source, cached } = readBoth();
const script = new Script(source, { filename: bundle, cachedData: cached });
if (useCache && (cached === undefined || script.cachedDataRejected === true)) process.once("exit", saveCache);

/** Record what this run compiled; a concurrent run may do the same (the rename is atomic). */
function saveCache(): void {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    mkdirSync(cacheDir, { recursive: true });
    accessSync(cacheDir, constants.W_OK); // before serialising: a read-only install pays nothing
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // Unwritable (or full): every run compiles, as without the cache.
    rmSync(tmp, { force: true });
  }
}

// The bundle is `(function (require, importMetaUrl, VPMU_BUNDLE_HASH) { … })`: src/cli/paths.ts finds files
// beside main.js, and src/cli/asm-cache.ts keys its entries by the bundle.
// The bundle requires Node's built-in modules only (npm packages are inside it), so this file's own
// `require` serves (post-build bundles it as CommonJS beside vpmu.cjs); node:module's createRequire would
// cost every start loading that module and Node's ES module loader with it.
script.runInThisContext()(require, import.meta.url, VPMU_BUNDLE_HASH);
