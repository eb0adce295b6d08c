// Colour and the progress line: only on a terminal, and never when NO_COLOR is set to a non-empty
// value (https://no-color.org). Output to pipes and files is therefore byte-identical across machines.

export type Style = "pass" | "fail" | "skip" | "bold" | "dim" | "removed" | "added" | "hunk";

/** SGR codes per style (kvm-unit-tests' runner uses green PASS, red FAIL, yellow SKIP). */
const SGR: Record<Style, string> = {
  pass: "32",
  fail: "31",
  skip: "33",
  bold: "1",
  dim: "2",
  removed: "31",
  added: "32",
  hunk: "36",
};

export type Painter = (text: string, style: Style) => string;

/** Whether to colour output written to `stream` (a terminal, NO_COLOR unset or empty). */
export function colourWanted(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true;
}

export function painter(enabled: boolean): Painter {
  return enabled ? (text, style) => `\x1b[${SGR[style]}m${text}\x1b[0m` : (text) => text;
}

/**
 * A one-line progress indicator on stderr for long runs, redrawn in place; a no-op unless stderr is
 * a terminal. `done()` erases it so the final output is the same as without a terminal.
 */
export class ProgressLine {
  private readonly enabled: boolean;
  private shown = false;
  /** `force`: show it on a non-terminal too (VPMU_PROGRESS=1, for tests of the line itself). */
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    force = false,
  ) {
    this.enabled = force || stream.isTTY === true;
  }
  update(text: string): void {
    if (!this.enabled) return;
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const line = text.length > width ? text.slice(0, width - 1) + "…" : text;
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }
  done(): void {
    if (this.enabled && this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
  }
}
