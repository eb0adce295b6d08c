// After tsc: bundle the CLI and make its entry executable.
// `vpmu` starts by loading its modules; as ~150 separate files that costs more than the run of a small guest
// (issue 16: start-up). esbuild bundles src/cli/main.ts and the sweep worker into dist/cli/ as ES modules, the
// command modules and what each needs split into shared chunks beside them, so a command still loads only
// its own code (src/cli/main.ts imports each command on demand). Every path the CLI computes from its own
// location lives in src/cli/paths.ts, which sits in dist/cli/ in both layouts. The library (dist/index.js
// and the rest of dist/) stays tsc's output and imports the npm packages from node_modules; the CLI bundles
// them (commander, moo, nearley), so it reads nothing from node_modules at run time.
import { chmodSync, existsSync, readdirSync, rmSync } from "node:fs";

/** esbuild, or null in a node_modules installed before it became a devDependency (run `npm ci`). */
async function loadEsbuild() {
  try {
    return await import("esbuild");
  } catch {
    return null;
  }
}

const root = new URL("../", import.meta.url).pathname;
const outdir = `${root}dist/cli`;
for (const f of readdirSync(outdir)) if (/^chunk-.*\.js$/.test(f)) rmSync(`${outdir}/${f}`);
const esbuild = await loadEsbuild();
// Without esbuild the CLI is tsc's unbundled output: it runs the same, only starts slower.
if (esbuild === null) console.warn("post-build: esbuild is not installed (npm ci): dist/cli left unbundled");
else
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/cli/main.ts", "src/cli/sweep-worker.ts"],
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // commander, moo and nearley are bundled too: loading them from node_modules costs more than
    // their code (the CommonJS loader, package.json "exports" resolution, a compile per file). Their
    // require() of Node's built-in modules goes through a real require made for each output file.
    banner: {
      js: 'import { createRequire as __vpmuCreateRequire } from "node:module";\nconst require = __vpmuCreateRequire(import.meta.url);',
    },
    chunkNames: "chunk-[hash]",
    logLevel: "warning",
  });
const main = `${outdir}/main.js`;
if (existsSync(main)) chmodSync(main, 0o755);
