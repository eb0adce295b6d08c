// Makes the CLI entry executable after tsc (npm link / bin shims need it on a fresh clone).
import { chmodSync, existsSync } from "node:fs";
const main = new URL("../dist/cli/main.js", import.meta.url).pathname;
if (existsSync(main)) chmodSync(main, 0o755);
