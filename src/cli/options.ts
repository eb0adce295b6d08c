// Option-value parsers shared by every command, so `--gp 9`, `--load 0x100000` and `--host-msr
// 0x329=0x8899aabb11223344` are read and rejected the same way everywhere, before anything runs.
// Each `parseX` is pure (value or error string); each `xOption` adapts it to commander's argParser
// and throws a CliError (exit 2) naming the option.
import { usageError } from "./errors.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const NUMBER_FORMS: readonly { re: RegExp; radix: bigint }[] = [
  { re: /^0[xX]([0-9a-fA-F](?:_?[0-9a-fA-F])*)$/, radix: 16n },
  { re: /^([0-9a-fA-F](?:_?[0-9a-fA-F])*)[hH]$/, radix: 16n },
  { re: /^0[bB]([01](?:_?[01])*)$/, radix: 2n },
  { re: /^([0-9](?:_?[0-9])*)$/, radix: 10n },
];

/** An unsigned integer in decimal, `0x…`, `…h` or `0b…` (underscores allowed between digits); the one
 *  number syntax of every option (`1e3` is not a number). */
export function parseUnsigned(text: string, bits = 64): Parsed<bigint> {
  const t = text.trim();
  for (const form of NUMBER_FORMS) {
    const m = form.re.exec(t);
    if (!m) continue;
    const digits = m[1]!.replace(/_/g, "");
    let v = 0n;
    for (const ch of digits) v = v * form.radix + BigInt(parseInt(ch, 16));
    if (v >> BigInt(bits) !== 0n) return { ok: false, error: `'${text}' does not fit in ${bits} bits` };
    return { ok: true, value: v };
  }
  if (/^-/.test(t) && parseUnsigned(t.slice(1), bits).ok)
    return { ok: false, error: `must be a non-negative whole number (got ${text})` };
  return { ok: false, error: `'${text}' is not a number (use decimal, 0x… or …h hex, or 0b… binary)` };
}

/** A non-negative integer within [min, max], as a JS number. */
export function parseCount(text: string, min: number, max: number): Parsed<number> {
  const p = parseUnsigned(text, 53);
  if (!p.ok) return p;
  const v = Number(p.value);
  if (v < min || v > max) return { ok: false, error: `${text} is out of range (${min}..${max})` };
  return { ok: true, value: v };
}

/** One of a fixed list of names (case-sensitive, as typed in the docs). */
export function parseChoice<T extends string>(text: string, choices: readonly T[]): Parsed<T> {
  if ((choices as readonly string[]).includes(text)) return { ok: true, value: text as T };
  return { ok: false, error: `'${text}' is not one of ${choices.join(", ")}` };
}

/** `MSR=VALUE`, both numbers (MSR 32-bit, value 64-bit). */
export function parseMsrAssignment(text: string): Parsed<{ index: number; value: bigint }> {
  const eq = text.indexOf("=");
  if (eq < 0) return { ok: false, error: `'${text}' is not MSR=VALUE (e.g. 0x329=0x8899aabb11223344)` };
  const idx = parseUnsigned(text.slice(0, eq), 32);
  if (!idx.ok) return { ok: false, error: `MSR index ${idx.error}` };
  const val = parseUnsigned(text.slice(eq + 1), 64);
  if (!val.ok) return { ok: false, error: `value ${val.error}` };
  return { ok: true, value: { index: Number(idx.value), value: val.value } };
}

function unwrap<T>(option: string, p: Parsed<T>): T {
  if (!p.ok) throw usageError(`option ${option}: ${p.error}`);
  return p.value;
}

/** commander argParser: unsigned number of up to `bits` bits, as bigint. */
export function unsignedOption(option: string, bits = 64): (text: string) => bigint {
  return (text) => unwrap(option, parseUnsigned(text, bits));
}

/** commander argParser: integer count within [min, max]. */
export function countOption(option: string, min: number, max: number): (text: string) => number {
  return (text) => unwrap(option, parseCount(text, min, max));
}

/** commander argParser: one of `choices`. */
export function choiceOption<T extends string>(option: string, choices: readonly T[]): (text: string) => T {
  return (text) => unwrap(option, parseChoice(text, choices));
}

/** commander argParser for a repeatable `MSR=VALUE` option: accumulates into an array. */
export function msrAssignmentOption(
  option: string,
): (text: string, previous: { index: number; value: bigint }[] | undefined) => { index: number; value: bigint }[] {
  return (text, previous) => [...(previous ?? []), unwrap(option, parseMsrAssignment(text))];
}

/** An address option (`--load`): any number form, up to 2^53. */
export function parseAddress(option: string, text: string): number {
  const p = parseUnsigned(text, 53);
  if (!p.ok) throw usageError(`${option} ${text}: expected an address such as 0x100000`);
  return Number(p.value);
}

/** A size option (`--mem 16M`): a number in any form, optionally followed by K, M or G (KiB units) and B. */
export function parseSize(option: string, text: string): number {
  const whole = parseUnsigned(text, 53);
  const m = /^(.+?)([kmg])?(i?b)?$/i.exec(text.trim());
  const p = whole.ok || !m ? whole : parseUnsigned(m[1]!, 53);
  if (!p.ok) throw usageError(`${option} ${text}: expected a size such as 16M, 65536 or 0x1000000`);
  const unit = !whole.ok && m?.[2] ? 1024 ** ("kmg".indexOf(m[2].toLowerCase()) + 1) : 1;
  const n = Number(p.value) * unit;
  if (!Number.isSafeInteger(n)) throw usageError(`${option} ${text}: too large`);
  return n;
}
