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

/** Widest source excerpt a diagnostic echoes: a longer line is shown as a window around the column. */
export const ECHO_WIDTH = 120;

/** One source character as printed: tabs as a space, control bytes (C0, DEL, C1) as `\xNN`. */
function shown(ch: string): string {
  if (ch === "\t") return " ";
  const c = ch.charCodeAt(0);
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
}

/** `prog.s:12:9: error: message`, the source line, and a caret under the token (`^~~~`). Pass the
 *  file's lines to render from them; otherwise the line captured in the diagnostic is used. Control
 *  bytes are escaped and a line wider than ECHO_WIDTH is cut to a window around the token (`…`). */
export function formatDiagnostic(d: Diagnostic, sourceLines?: readonly string[]): string {
  const text = (sourceLines ? sourceLines[d.line - 1] : undefined) ?? d.sourceLine;
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message
    .split("")
    .map((c) => (c === "\t" ? c : shown(c)))
    .join("")}`;
  const chars = text.split("");
  const start0 = Math.max(0, Math.min(d.col - 1, chars.length));
  const len0 = Math.max(1, Math.min(d.len, chars.length - start0));
  let from = 0;
  let to = chars.length;
  if (chars.length > ECHO_WIDTH) {
    from = Math.max(0, Math.min(start0 - 40, chars.length - ECHO_WIDTH));
    to = Math.min(chars.length, from + ECHO_WIDTH);
  }
  const before = chars.slice(from, start0).map(shown).join("");
  const token = chars
    .slice(start0, Math.min(to, start0 + len0))
    .map(shown)
    .join("");
  const lead = from > 0 ? "…" : "";
  const clean = lead + chars.slice(from, to).map(shown).join("") + (to < chars.length ? "…" : "");
  const pad = " ".repeat(lead.length + before.length);
  const under = "^" + "~".repeat(Math.max(0, token.length - 1));
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
