// The guest's own verdict, read the way kvm-unit-tests' runner reads it (lib/report.c report_summary
// prints `SUMMARY: N tests[, M unexpected failures][, X expected failures][, K skipped]`). The runner
// (scripts/runtime.bash extract_summary) looks only at the last three lines; here `vpmu run --exits`
// appends the exit log after the console, so the last SUMMARY line anywhere in the output counts.

export interface GuestSummary {
  /** The text after `SUMMARY: `, as printed. */
  text: string;
  tests: number;
  failures: number;
  expectedFailures: number;
  skipped: number;
}

const SUMMARY =
  /^SUMMARY: (\d+) tests(?:, (\d+) unexpected failures)?(?:, (\d+) expected failures)?(?:, (\d+) skipped)?$/;

/** The last SUMMARY line of the output, or null. */
export function parseSummary(consoleText: string): GuestSummary | null {
  const lines = consoleText.replace(/\n$/, "").split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith("SUMMARY: ")) continue;
    const m = SUMMARY.exec(line);
    const text = line.slice("SUMMARY: ".length);
    if (!m) return { text, tests: 0, failures: 0, expectedFailures: 0, skipped: 0 };
    return {
      text,
      tests: Number(m[1]),
      failures: Number(m[2] ?? 0),
      expectedFailures: Number(m[3] ?? 0),
      skipped: Number(m[4] ?? 0),
    };
  }
  return null;
}
