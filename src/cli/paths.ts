// Files the CLI finds beside its own code. Every such path is computed here, in a module that sits in
// dist/cli/ both as tsc emits it and inside the bundle (scripts/post-build.mjs writes main.js, the sweep
// worker and their shared chunks to dist/cli/), so import.meta.url names the same directory either way.
import { fileURLToPath } from "node:url";

/** The package root (dist/cli/ → ../../). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The C runtime's directory: programs/c/lib of this package. */
export const C_RUNTIME_DIR = fileURLToPath(new URL("../../programs/c/lib/", import.meta.url));

/** The CLI entry (`vpmu test` runs each program in a child process of it). */
export const MAIN_JS = fileURLToPath(new URL("./main.js", import.meta.url));

/** The `vpmu sweep` worker thread's module. */
export const SWEEP_WORKER_URL = new URL("./sweep-worker.js", import.meta.url);
