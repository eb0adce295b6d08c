/**
 * The disassembly `vpmu disasm` prints, checked by re-assembly: each line the disassembler (src/isa/disasm.ts)
 * renders is assembled again at its own address, and where the bytes differ — a redundant or ignored
 * prefix, the other direction of a reg,reg form (01 /r vs 03 /r), a needless SIB byte, anything NASM
 * cannot be told to produce — the line falls back to `db` with the instruction's bytes. So the listing
 * re-assembles to its input for any input and for any instruction form added to the opcode table later,
 * by check rather than by the renderer being right (docs/cpu.md "Disassembly").
 *
 * Why per line is enough: a line holds no label and no state, so its bytes depend only on its text and its
 * address; every line is checked at the address it has in the listing, hence the listing (lines in order
 * from `org`) assembles to the concatenation, the input. test/isa/disasm-reassemble.test.ts assembles
 * whole listings to confirm it.
 *
 * This lives above isa because it needs the assembler; isa's renderer stays free of asm (layer order).
 */
import { type DisasmLine, disassemble } from "../isa/disasm.js";
import { assemble } from "./assemble.js";
import type { CodeBits } from "../isa/modes.js";

/** One line of a checked listing. */
export interface CheckedLine extends DisasmLine {
  /**
   * `insn`: the instruction text re-assembles to exactly these bytes. `bytes`: not an instruction this CPU
   * decodes (one byte). `fallback`: an instruction whose encoding NASM does not produce from the text the
   * disassembler writes; `text` is `db …` and `insn` says what it is.
   */
  readonly form: "insn" | "bytes" | "fallback";
  /** For `fallback`: the decoded instruction, and the bytes NASM gives for it (null if it rejects the text). */
  readonly insn?: string;
  readonly nasm?: Uint8Array | null;
}

/** The listing's header: the mode and origin every line is assembled under. */
export function listingHeader(origin: number, bits: CodeBits = 64): string {
  return `bits ${bits}\norg 0x${origin.toString(16)}\n`;
}

/** `db 0x26, 0x5e`: bytes as NASM data. */
export function dbText(bytes: Uint8Array): string {
  return "db " + Array.from(bytes, (b) => "0x" + b.toString(16).padStart(2, "0")).join(", ");
}

/** A listing as NASM source: the header and one line per instruction (no comments). */
export function listingSource(lines: readonly CheckedLine[], origin: number, bits: CodeBits = 64): string {
  return listingHeader(origin, bits) + lines.map((l) => l.text + "\n").join("");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lines per assembly: the assembler takes at most 100 000 lines, and a failed batch is split in two. */
const BATCH = 8192;

/**
 * The bytes each text assembles to at its address (null where the assembler rejects it), many per
 * assembly: texts in address order, each padded up to its address with `times … db 0` (an address already
 * passed makes the count negative: the batch fails and is split until the culprit is alone).
 */
function assembleAll(texts: readonly string[], addrs: readonly number[], bits: CodeBits): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(texts.length).fill(null);
  const run = (lo: number, hi: number): void => {
    const base = addrs[lo];
    const src: string[] = [listingHeader(base, bits)];
    const lineOf = new Map<number, number>(); // source line → text index
    let line = 3;
    for (let i = lo; i < hi; i++) {
      if (addrs[i] !== base) {
        src.push(`times ${addrs[i] - base}-($-$$) db 0\n`);
        line++;
      }
      src.push(texts[i] + "\n");
      lineOf.set(line++, i);
    }
    const r = assemble(src.join(""));
    if (!r.ok) {
      if (hi - lo === 1) return;
      const mid = (lo + hi) >> 1;
      run(lo, mid);
      run(mid, hi);
      return;
    }
    for (const l of r.value.lines) {
      const i = lineOf.get(l.line);
      if (i !== undefined && l.address === addrs[i]) out[i] = l.bytes;
    }
  };
  for (let lo = 0; lo < texts.length; lo += BATCH) run(lo, Math.min(texts.length, lo + BATCH));
  return out;
}

/** Disassemble `bytes` loaded at `origin` (code of `bits`) into lines that re-assemble, in order, to
 *  exactly `bytes`. */
export function disassembleChecked(bytes: Uint8Array, origin = 0, bits: CodeBits = 64): CheckedLine[] {
  const raw = disassemble(bytes, origin, bits);
  // A text without a pc-relative operand assembles the same anywhere: each distinct one is assembled once
  // (at 0, consecutively). The others are assembled at their own address.
  const fixed = new Map<string, number>();
  const fixedTexts: string[] = [];
  const fixedAddrs: number[] = [];
  const relIdx: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    if (!l.ok) continue;
    if (l.pcRelative) relIdx.push(i);
    else if (!fixed.has(l.text)) {
      fixed.set(l.text, fixedTexts.length);
      fixedTexts.push(l.text);
      fixedAddrs.push(0);
    }
  }
  // Consecutive at 0: give each text its own address so a short one does not shift the next out of place.
  for (let i = 1; i < fixedTexts.length; i++) fixedAddrs[i] = fixedAddrs[i - 1] + 16;
  const fixedBytes = assembleAll(fixedTexts, fixedAddrs, bits);
  const relBytes = assembleAll(
    relIdx.map((i) => raw[i].text),
    relIdx.map((i) => raw[i].addr),
    bits,
  );
  const relOf = new Map<number, number>(relIdx.map((i, k) => [i, k]));
  return raw.map((l, i): CheckedLine => {
    if (!l.ok) return { ...l, form: "bytes" };
    const k = relOf.get(i);
    const again = k !== undefined ? relBytes[k] : fixedBytes[fixed.get(l.text) ?? -1];
    if (again && sameBytes(again, l.bytes)) return { ...l, form: "insn" };
    return { ...l, text: dbText(l.bytes), form: "fallback", insn: l.text, nasm: again };
  });
}
