// Which of V8's code caches a command line uses (src/cli/launch.ts; issue 16: start-up).
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { invokedCommand, words } from "./argv.js";
import { entryFile } from "./asm-cache.js";

/** Which cache a command line uses. A run of one command compiles that command's code only: one cache
 *  per command ("all": --help, help, --config, an unknown command), and for `vpmu run` per kind of guest
 *  file as src/cli/guest-image.ts tells them apart, since a source also compiles the assembler and a .c
 *  file the C build (a flat image's run would otherwise deserialise the assembler it does not use, or a
 *  source's run compile it every time). A source whose image src/cli/asm-cache.ts holds (an entry no older
 *  than the source) runs without the assembler: its own cache, recorded by such a run. And a run with
 *  options (the KVM model, reports, traces) has its own cache too, so that the first run after a build
 *  does not decide for every later bare run what it deserialises. A guess from the words alone (and two
 *  file dates): a wrong one costs time, not results. */
export function cacheKey(argv: readonly string[]): string {
  const command = invokedCommand(argv);
  if (command !== "run") return command ?? "all";
  const operands = words(argv).slice(1);
  const opts = argv.slice(2).some((a) => a.startsWith("-")) ? "-opts" : "";
  if (operands.some((w) => /\.c$/.test(w))) return `run-c${opts}`;
  if (operands.some((w) => /\.(bin|img)$/i.test(w))) return `run-flat${opts}`;
  return `run${operands.some(assembled) ? "" : "-asm"}${opts}`;
}

/** Whether the assembled-image cache has an entry for the source `file` written after its last change. */
function assembled(file: string): boolean {
  try {
    const path = resolve(file);
    return statSync(entryFile(path)).mtimeMs >= statSync(path).mtimeMs;
  } catch {
    return false;
  }
}
