// After tsc: bundle the CLI and make its entry executable (issue 16: start-up).
// `vpmu` starts by loading its code; as ~150 separate ES modules that cost more than the run of a small
// guest, and Node 20 caches no compiled ES module code. So esbuild bundles src/cli/main.ts (and everything
// it imports, commander, moo and nearley included) into one CommonJS script, dist/cli/vpmu.cjs, wrapped as
// `(function (require, importMetaUrl) { … })`, and src/cli/launch.ts into dist/cli/main.js, which runs that
// script through V8's code cache (launch.ts says how). Modules a command reaches only through import()
// stay uninitialised until it does (esbuild's lazy module wrappers), so `vpmu run prog.bin` sets up no
// assembler, KVM model or report code, and its code cache holds only what it ran. The sweep worker is a
// separate ES module bundle, dist/cli/sweep-worker.js. Every path the CLI computes from its own location
// lives in src/cli/paths.ts (import.meta.url there is main.js's: dist/cli/ in both layouts). The library
// (dist/index.js and the rest of dist/) stays tsc's output and imports the npm packages from node_modules.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";

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
// Outputs of earlier layouts and builds: code-split chunks, the bundle's code caches.
for (const f of readdirSync(outdir)) if (/^chunk-.*\.js$/.test(f)) rmSync(`${outdir}/${f}`);
rmSync(`${outdir}/cache`, { recursive: true, force: true });
rmSync(`${outdir}/vpmu.cjs`, { force: true });

const esbuild = await loadEsbuild();
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  // Comments and indentation out: less to read and hash at every start. Names stay (no minifyIdentifiers).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
};
// Without esbuild the CLI is tsc's unbundled output (dist/cli/main.js from main.ts): it runs the same,
// only starts slower.
if (esbuild === null) console.warn("post-build: esbuild is not installed (npm ci): dist/cli left unbundled");
else {
  const cli = await esbuild.build({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    format: "cjs",
    write: false,
    outfile: `${outdir}/vpmu.cjs`,
    define: { "import.meta.url": "importMetaUrl" },
  });
  const code = cli.outputFiles[0].text.replace(/^#!.*\n/, "");
  // launch.ts reads the bundle as latin1, which is exact only for ASCII (esbuild escapes non-ASCII text
  // in strings, not in regular expression literals: write those as \uXXXX).
  const wide = code.search(/[^ -~\t\n\r]/);
  if (wide >= 0)
    throw new Error(`post-build: dist/cli/vpmu.cjs is not ASCII: ${JSON.stringify(code.slice(wide - 40, wide + 20))}`);
  const wrapped = `(function (require, importMetaUrl) {"use strict";\n${code}\n})`;
  writeFileSync(`${outdir}/vpmu.cjs`, wrapped);
  const hash = createHash("sha256").update(wrapped).digest("hex").slice(0, 16);
  await esbuild.build({
    ...common,
    entryPoints: ["src/cli/launch.ts"],
    outfile: `${outdir}/main.js`,
    format: "esm",
    define: { VPMU_BUNDLE_HASH: JSON.stringify(hash) },
    banner: { js: "#!/usr/bin/env node" },
  });
  await esbuild.build({
    ...common,
    entryPoints: ["src/cli/sweep-worker.ts"],
    outfile: `${outdir}/sweep-worker.js`,
    format: "esm",
    // moo and nearley are CommonJS: their require() of Node's built-in modules needs a real require.
    banner: {
      js: 'import { createRequire as __vpmuCreateRequire } from "node:module";\nconst require = __vpmuCreateRequire(import.meta.url);',
    },
  });
}
const main = `${outdir}/main.js`;
if (existsSync(main)) chmodSync(main, 0o755);
