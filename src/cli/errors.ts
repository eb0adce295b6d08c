// How the CLI ends: every expected failure becomes one sentence on stderr (`vpmu: …`) and an exit
// status; usage errors exit 2 (POSIX utility convention, as the issue asks); bugs say they are bugs.
import { CommanderError } from "commander";

/** Exit statuses the CLI itself uses (guest programs choose their own through port 0xF4). */
export const EXIT_OK = 0;
/** A check the user asked for did not hold (e.g. `vpmu test` found a mismatch). */
export const EXIT_FAILURE = 1;
/** Bad command line, option value, config file or input file. */
export const EXIT_USAGE = 2;
/** An internal error: a bug in vpmu-lab, never the user's fault. */
export const EXIT_INTERNAL = 70; // sysexits.h EX_SOFTWARE

/** Where the internal-error sentence tells users to report a bug. */
export const REPORT_BUGS_TO = "the vpmu-lab issue tracker (include the command line and input files)";

/**
 * An expected, user-facing failure raised inside src/cli only (library code returns values; the CLI
 * turns a rejected value into a CliError). The message is one sentence without the `vpmu:` prefix.
 */
export class CliError extends Error {
  readonly status: number;
  constructor(message: string, status: number = EXIT_USAGE) {
    super(message);
    this.name = "CliError";
    this.status = status;
  }
}

/** Shorthand for a usage error (exit status 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/** The sentence and status for anything that escaped a command. Pure: the caller prints and exits. */
export function describeFailure(err: unknown): { message: string | null; status: number } {
  if (err instanceof CliError) return { message: err.message, status: err.status };
  if (err instanceof CommanderError) {
    // --help and --version end through exitOverride too: they are successes with nothing to add.
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version") {
      return { message: null, status: err.exitCode };
    }
    // `vpmu help [command]` prints the help on stdout (exit 0); `vpmu` with no command prints it on
    // stderr with a non-zero exitCode: that is a usage error.
    if (err.code === "commander.help") return { message: null, status: err.exitCode === 0 ? EXIT_OK : EXIT_USAGE };
    // One sentence: commander's suggestion ("\n(Did you mean run?)") joins the line it follows.
    const text = err.message
      .replace(/^error:\s*/, "")
      .trim()
      .replace(/\s*\n\s*\(Did you mean (.*)\)$/, " (did you mean $1)");
    if (err.code === "commander.unknownCommand") return { message: `${text} (see vpmu --help)`, status: EXIT_USAGE };
    return { message: text, status: EXIT_USAGE };
  }
  const detail = err instanceof Error ? err.message : String(err);
  return {
    message: `internal error: ${detail} — this is a bug in vpmu-lab, please report it to ${REPORT_BUGS_TO}`,
    status: EXIT_INTERNAL,
  };
}

/**
 * The stderr text for a failure message. A multi-line message is details (e.g. assembler diagnostics
 * with their caret lines, which carry their own `file:line:col:` prefix) followed by the one sentence:
 * the details print as they are and only the final sentence gets the `vpmu: ` prefix.
 */
export function formatFailure(message: string): string {
  const lines = message.replace(/\n+$/, "").split("\n").map(printable);
  const last = lines.pop()!;
  return lines.map((l) => `${l}\n`).join("") + `vpmu: ${last}\n`;
}

/** Longest line a failure prints: the head and tail of a longer one are kept, the middle elided. */
export const MAX_LINE = 200;

/**
 * A line safe to print: control bytes (C0, DEL, C1) escaped as `\xNN` so echoed input cannot move the
 * cursor or ring the bell, and a line over MAX_LINE characters cut in the middle (the sentence's end,
 * which says what was wrong, survives).
 */
export function printable(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control bytes is the point
  const esc = line.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  if (esc.length <= MAX_LINE) return esc;
  const head = esc.slice(0, 120);
  const tail = esc.slice(esc.length - 60);
  return `${head}…[${esc.length - 180} characters]…${tail}`;
}

/** Print the failure (if any) as `vpmu: <sentence>` and set the process exit status. */
export function reportFailure(err: unknown): void {
  const { message, status } = describeFailure(err);
  if (message !== null) process.stderr.write(formatFailure(message));
  if (
    process.env.VPMU_DEBUG &&
    !(err instanceof CliError) &&
    !(err instanceof CommanderError) &&
    err instanceof Error
  ) {
    process.stderr.write(`${err.stack ?? ""}\n`);
  }
  process.exitCode = status;
}
