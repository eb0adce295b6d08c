/** Human and machine outputs of an assembly: a NASM `-l` style listing and the JSON symbol map. */
import type { Assembly } from "./assemble.js";

const BYTES_PER_ROW = 9;
const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, "0");
const hex8 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

/**
 * One row per source line that produced bytes or a label, as NASM's listing prints it: line number,
 * address, up to nine bytes (a trailing `-` when more follow on continuation rows), source text.
 * Lines from an included file carry the file name.
 */
export function formatListing(r: Assembly, mainFile?: string): string {
  const out: string[] = [];
  for (const l of r.lines) {
    const where = mainFile !== undefined && l.file !== mainFile ? `${l.file}:` : "";
    const num = (where + String(l.line)).padStart(6);
    if (l.bytes.length === 0) {
      out.push(`${num} ${hex8(l.address)} ${"".padEnd(BYTES_PER_ROW * 2 + 1)}${l.source}`.trimEnd());
      continue;
    }
    for (let i = 0; i < l.bytes.length; i += BYTES_PER_ROW) {
      const chunk = Array.from(l.bytes.subarray(i, i + BYTES_PER_ROW), hex2).join("");
      const more = i + BYTES_PER_ROW < l.bytes.length ? "-" : "";
      const text = i === 0 ? l.source : "";
      out.push(`${num} ${hex8(l.address + i)} ${(chunk + more).padEnd(BYTES_PER_ROW * 2 + 1)}${text}`.trimEnd());
    }
  }
  return out.join("\n") + (out.length ? "\n" : "");
}

export interface SymbolMapEntry {
  name: string;
  kind: "label" | "equ";
  /** The value as a hex string (0x…): 64-bit equ values do not fit a JSON number. */
  value: string;
  /** The value as a number when it is a label address (exact below 2^53). */
  address?: number;
  file: string;
  line: number;
}

/** The symbol map `vpmu asm --symbols` writes (sorted by value, then name), as a JSON-ready object. */
export function symbolMap(r: Assembly): { origin: number; size: number; symbols: SymbolMapEntry[] } {
  const symbols = [...r.symbols]
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => {
      const e: SymbolMapEntry = {
        name: s.name,
        kind: s.kind,
        value: "0x" + s.value.toString(16),
        file: s.file,
        line: s.line,
      };
      if (s.kind === "label") e.address = Number(s.value);
      return e;
    });
  return { origin: r.origin, size: r.bytes.length, symbols };
}
