// After tsc: bundle the CLI and make its entry executable (issue 16: start-up).
// `vpmu` starts by loading its code; as ~150 separate ES modules that cost more than the run of a small
// guest, and Node 20 caches no compiled ES module code. So esbuild bundles src/cli/main.ts (and everything
// it imports, commander, moo and nearley included) into one script, dist/cli/vpmu.cjs, wrapped as
// `(function (require, importMetaUrl, VPMU_BUNDLE_HASH) { … })`, and src/cli/launch.ts into dist/cli/main.js, which runs that
// script through V8's code cache (launch.ts says how). Modules a command reaches only through import()
// stay uninitialised until it does (esbuild's lazy module wrappers), so `vpmu run prog.bin` sets up no
// assembler, KVM model or report code, and its code cache holds only what it ran. main.js, the sweep
// worker (dist/cli/sweep-worker.js) and dist/cli/c-guest.js are CommonJS bundles under dist/cli/package.json
// ("type": "commonjs"): an ES module entry alone costs every start ~8 ms of Node's ES module loader. Every
// path the CLI computes from its own location lives in src/cli/paths.ts. The library (dist/index.js and
// the rest of dist/) stays tsc's ES module output and imports the npm packages from node_modules.
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
rmSync(`${outdir}/package.json`, { force: true });

/** commander requires node:child_process at load, for executable subcommands, which vpmu has none of;
 *  loading it pulls in net, dgram and streams (a few ms of every start). Its copy resolves to a stand-in
 *  that loads the real module on first use. */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes("/node_modules/commander/") ? { path: "child_process", namespace: "lazy" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "lazy" }, () => ({
      contents: 'let m;\nmodule.exports = new Proxy({}, { get: (_, k) => (m ??= require("node:child_process"))[k] });',
      loader: "js",
    }));
  },
};

const esbuild = await loadEsbuild();
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  // Comments, indentation and long local names out: every start reads the bundle and copies it into a
  // string, and V8's code cache holds the names too (identifiers: 630 -> 500 KB of bundle, ~100 fewer page
  // faults per start). Output never shows a function's or class's own name (commander's error classes set
  // `name` from theirs, which vpmu does not print); only VPMU_DEBUG's stack traces show the short names.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
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
    plugins: [lazyChildProcess],
  });
  const code = cli.outputFiles[0].text.replace(/^#!.*\n/, "");
  // launch.ts reads the bundle as latin1, which is exact only for ASCII (esbuild escapes non-ASCII text
  // in strings, not in regular expression literals: write those as \uXXXX).
  const wide = code.search(/[^ -~\t\n\r]/);
  if (wide >= 0)
    throw new Error(`post-build: dist/cli/vpmu.cjs is not ASCII: ${JSON.stringify(code.slice(wide - 40, wide + 20))}`);
  const wrapped = `(function (require, importMetaUrl, VPMU_BUNDLE_HASH) {"use strict";\n${code}\n})`;
  writeFileSync(`${outdir}/vpmu.cjs`, wrapped);
  const hash = createHash("sha256").update(wrapped).digest("hex").slice(0, 16);
  // The launcher, the sweep worker and c-guest.js (bench/c-guest.bench.mjs imports it) are CommonJS too:
  // dist/cli/package.json says so, since an ES module entry costs every start Node's ES module loader.
  // tsc's own dist/cli/ modules are ES modules, wrong under that package.json: removed.
  const cjs = {
    ...common,
    format: "cjs",
    define: { "import.meta.url": "importMetaUrl", VPMU_BUNDLE_HASH: JSON.stringify(hash) },
    banner: { js: '"use strict";\nvar importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  };
  for (const f of readdirSync(outdir, { recursive: true }))
    if (f.endsWith(".js") && !f.startsWith("cache")) rmSync(`${outdir}/${f}`);
  rmSync(`${outdir}/commands`, { recursive: true, force: true });
  await esbuild.build({
    ...cjs,
    entryPoints: ["src/cli/launch.ts"],
    outfile: `${outdir}/main.js`,
    // Started as `vpmu` (or ./dist/cli/main.js), the file is a shell script first: its second line is a
    // comment to JavaScript and, to /bin/sh, a failing command (hidden) and then `exec node` on the same file
    // without NODE_EXTRA_CA_CERTS. Node 20 loads that certificate file, and its root store, at every start
    // before any JavaScript runs (~40 ms on machines that set it); vpmu opens no TLS connection, nor does
    // anything it starts (gcc, ld, its sweep workers). `node dist/cli/main.js` skips the shell line.
    banner: { js: `#!/bin/sh\n// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"\n${cjs.banner.js}` },
  });
  await esbuild.build({ ...cjs, entryPoints: ["src/cli/sweep-worker.ts"], outfile: `${outdir}/sweep-worker.js` });
  await esbuild.build({ ...cjs, entryPoints: ["src/cli/c-guest.ts"], outfile: `${outdir}/c-guest.js` });
  writeFileSync(`${outdir}/package.json`, '{ "type": "commonjs" }\n');
}
const main = `${outdir}/main.js`;
if (existsSync(main)) chmodSync(main, 0o755);
