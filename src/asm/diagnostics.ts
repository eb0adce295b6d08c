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
