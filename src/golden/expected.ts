// The golden `.out` format: exactly what `vpmu run <header options> prog.s` writes to stdout, then a
// final line `exit status: N` (docs/cli.md). A console whose last byte is not a newline gets a marker
// line so "abc" and "abc\n" stay distinguishable.

export const NO_NEWLINE_MARKER = "\\ no newline at end of console";

/** The text a golden file holds for this console output and exit status. */
export function goldenText(stdout: string, status: number): string {
  const body = stdout === "" || stdout.endsWith("\n") ? stdout : `${stdout}\n${NO_NEWLINE_MARKER}\n`;
  return `${body}exit status: ${status}\n`;
}

/** The golden file's name for a program file: `dir/name.s` → `dir/name.out`. */
export function goldenPathFor(programPath: string): string {
  return programPath.replace(/\.(s|asm|nasm|c|elf)$/, "") + ".out";
}
