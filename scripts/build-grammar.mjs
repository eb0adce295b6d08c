// Compiles grammar/*.ne with nearleyc into src/**/generated/ (build outputs, never hand-edited).
import { execFileSync } from "node:child_process";
import { readdirSync, mkdirSync, existsSync } from "node:fs";
import { join, basename } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const nearleyc = join(root, "node_modules", ".bin", "nearleyc");
const outDir = join(root, "src", "asm", "generated");
mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(join(root, "grammar"))) {
  if (!f.endsWith(".ne")) continue;
  const out = join(outDir, basename(f, ".ne") + ".ts");
  execFileSync(nearleyc, [join(root, "grammar", f), "-o", out], { stdio: "inherit" });
  if (!existsSync(out)) throw new Error(`nearleyc produced no ${out}`);
}
