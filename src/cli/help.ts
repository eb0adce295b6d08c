// Help text conventions: every command ends its --help with runnable examples in the same layout.
import type { Command } from "commander";

/** Commands longer than this get their description on the line above instead of a column. */
const COLUMN_LIMIT = 56;

/** The "Examples:" section: [command line, what it does] pairs. */
export function formatExamples(examples: readonly (readonly [string, string])[]): string {
  const short = examples.filter(([c]) => c.length <= COLUMN_LIMIT);
  const width = short.length ? Math.max(...short.map(([c]) => c.length)) : 0;
  const lines = examples.map(([c, what]) =>
    c.length <= COLUMN_LIMIT ? `  $ ${c.padEnd(width)}   # ${what}` : `  # ${what}:\n  $ ${c}`,
  );
  return `\nExamples:\n${lines.join("\n")}\n`;
}

/** Append the examples to `cmd --help`. */
export function addExamples(cmd: Command, examples: readonly (readonly [string, string])[]): void {
  cmd.addHelpText("after", formatExamples(examples));
}
