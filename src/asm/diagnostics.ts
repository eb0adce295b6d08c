/** Assembler diagnostics as values, and their NASM-style rendering (`file:line:col: error: …`). */

export interface Diagnostic {
  readonly file: string;
  /** 1-based line and column of the offending token. */
  readonly line: number;
  readonly col: number;
  /** Characters to underline (≥ 1). */
  readonly len: number;
  readonly severity: "error" | "warning";
  readonly message: string;
  /** The text of the source line (for rendering without re-reading the file). */
  readonly sourceLine: string;
}

/** `prog.s:12:9: error: message`, the source line, and a caret under the token (`^~~~`). Pass the
 *  file's lines to render from them; otherwise the line captured in the diagnostic is used. */
export function formatDiagnostic(d: Diagnostic, sourceLines?: readonly string[]): string {
  const text = (sourceLines ? sourceLines[d.line - 1] : undefined) ?? d.sourceLine;
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
  const clean = text.replace(/\t/g, " ");
  const pad = " ".repeat(Math.max(0, d.col - 1));
  const under = "^" + "~".repeat(Math.max(0, Math.min(d.len, Math.max(1, clean.length - d.col + 1)) - 1));
  return `${head}\n    ${clean}\n    ${pad}${under}`;
}

/** The diagnostics of one assembly (or one pass): each reported once, errors capped, with its source line. */
export class Diags {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly sources: Map<string, string[]>,
    private readonly cap: number,
  ) {}
  add(
    tok: { loc: { file: string; line: number; col: number }; len?: number },
    message: string,
    severity: "error" | "warning" = "error",
  ): void {
    const { file, line, col } = tok.loc;
    const key = `${file}:${line}:${col}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.errors() >= this.cap && severity === "error") return;
    const sourceLine = this.sources.get(file)?.[line - 1] ?? "";
    this.list.push({ file, line, col, len: tok.len ?? 1, severity, message, sourceLine });
  }
  sourceLine(file: string, line: number): string {
    return this.sources.get(file)?.[line - 1] ?? "";
  }
  errors(): number {
    let n = 0;
    for (const d of this.list) if (d.severity === "error") n++;
    return n;
  }
}
