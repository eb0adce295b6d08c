// Help text conventions: every command ends its --help with runnable examples in the same layout.
import type { Command } from "commander";

/** Append an "Examples:" section to `cmd --help`: [command line, what it does]. */
export function addExamples(cmd: Command, examples: readonly (readonly [string, string])[]): void {
  const width = Math.max(...examples.map(([c]) => c.length));
  const lines = examples.map(([c, what]) => `  $ ${c.padEnd(width)}   # ${what}`);
  cmd.addHelpText("after", `\nExamples:\n${lines.join("\n")}\n`);
}
