// Files the CLI finds beside its own code. Every such path is computed here, from import.meta.url: tsc's
// dist/cli/paths.js in the unbundled layout; in the bundles (scripts/post-build.mjs) the URL of the file
// that was started, dist/cli/main.js (or sweep-worker.js, c-guest.js) — the same directory either way.
import { fileURLToPath } from "node:url";

/** The package root (dist/cli/ → ../../). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The C runtime's directory: programs/c/lib of this package. */
export const C_RUNTIME_DIR = fileURLToPath(new URL("../../programs/c/lib/", import.meta.url));

/** The CLI entry (`vpmu test` runs each program in a child process of it). */
export const MAIN_JS = fileURLToPath(new URL("./main.js", import.meta.url));

/** The `vpmu sweep` worker thread's module. */
export const SWEEP_WORKER_URL = new URL("./sweep-worker.js", import.meta.url);

/** Caches beside the bundled CLI's code (src/cli/launch.ts, src/cli/asm-cache.ts). */
export const CACHE_DIR = fileURLToPath(new URL("./cache/", import.meta.url));

/** The bundle's content hash, which launch.ts passes to the bundle (scripts/post-build.mjs wraps it in a
 *  function with this parameter); null in tsc's unbundled layout, which keeps no caches. */
declare const VPMU_BUNDLE_HASH: string | undefined;
export const BUNDLE_HASH: string | null = typeof VPMU_BUNDLE_HASH === "string" ? VPMU_BUNDLE_HASH : null;
