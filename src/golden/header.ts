// The `; vpmu:` header of a golden program: the `vpmu run` options the program is meant to run with,
// written once in a leading comment so a reader sees the configuration beside the code.
import { err, ok, type Result } from "../result.js";

/** Parsed header: the options passed verbatim to `vpmu run`, and the line they came from (1-based; 0 = none). */
export interface GoldenHeader {
  args: string[];
  line: number;
}

/** The header, or why it cannot be read (`file:line: …`). */
export type HeaderResult = Result<GoldenHeader, string>;

// NASM comments start with ';', C ones with '//' (a C guest's header: `// vpmu: --host spr`).
const HEADER = /^\s*(?:;|\/\/)\s*vpmu:(.*)$/;
const COMMENT_OR_BLANK = /^\s*((;|\/\/).*)?$/;

/**
 * Split an option string like a POSIX shell would for the simple cases a header needs: whitespace
 * separates words; '…' and "…" quote (no escapes inside '…'; `\"` and `\\` inside "…").
 */
export function splitWords(text: string): Result<string[], string> {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
    } else if (ch === "'" || ch === '"') {
      const close = ch;
      inWord = true;
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === close) {
          closed = true;
          i++;
          break;
        }
        if (close === '"' && c === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) {
          cur += text[i + 1];
          i += 2;
          continue;
        }
        cur += c;
        i++;
      }
      if (!closed) return err(`unterminated ${close} quote`);
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return ok(words);
}

/**
 * Find the header among the program's leading comment lines (before the first line of code). A
 * program without one runs with no options. A second header line, or one after code, is an error:
 * one line says it all.
 */
export function parseHeader(source: string, file: string): HeaderResult {
  const lines = source.split("\n");
  let found: GoldenHeader | null = null;
  for (let n = 0; n < lines.length; n++) {
    const text = lines[n]!.replace(/\r$/, "");
    const m = HEADER.exec(text);
    if (m) {
      if (found !== null) {
        return err(
          `${file}:${n + 1}: a second '; vpmu:' header line (the first is on line ${found.line}); keep the options on one line`,
        );
      }
      const words = splitWords(m[1]!);
      if (!words.ok) return err(`${file}:${n + 1}: '; vpmu:' header has an ${words.error}`);
      found = { args: words.value, line: n + 1 };
      continue;
    }
    if (!COMMENT_OR_BLANK.test(text)) break;
  }
  return ok(found ?? { args: [], line: 0 });
}
