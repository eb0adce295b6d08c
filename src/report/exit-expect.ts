/**
 * `vpmu run --expect-exit PATTERN` (repeatable): assertions on the exit log, as a selftest asserts on
 * run->exit_reason and the MSR index. A pattern is words; an exit line matches when it contains every word
 * (exact substrings of the line `vpmu run --exits` prints, e.g. `MSR_READ msr=0x38f`). The patterns must
 * match distinct exits in the order given (other exits may come between them).
 */
export class ExitExpectations {
  private next = 0;
  private seen = 0;
  private readonly words: readonly (readonly string[])[];

  constructor(readonly patterns: readonly string[]) {
    this.words = patterns.map((p) => p.split(/\s+/).filter((w) => w !== ""));
  }

  /** Whether the next unmatched pattern needs to see exit lines at all (lets the caller skip formatting). */
  get pending(): boolean {
    return this.next < this.words.length;
  }

  /** One exit, formatted as the exit log prints it. */
  feed(line: string): void {
    this.seen++;
    const w = this.words[this.next];
    if (w?.every((x) => line.includes(x))) this.next++;
  }

  /** The report after the run: one sentence per pattern left unmatched (empty when all matched). */
  unmet(): string[] {
    return this.patterns
      .slice(this.next)
      .map((p, i) =>
        i === 0
          ? `--expect-exit '${p}' matched none of the exits after the previous pattern (${this.seen} exits in all)`
          : `--expect-exit '${p}' not reached (an earlier pattern is unmatched)`,
      );
  }
}
