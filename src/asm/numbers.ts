/**
 * NASM numeric and character constants (NASM manual §3.4.1 numeric constants, §3.4.2 character
 * strings): prefixes 0x 0h 0d 0t 0o 0q 0b 0y, suffixes h x d t o q b y, `_` separators.
 */

const RADIX_PREFIX: Readonly<Record<string, number>> = { x: 16, h: 16, d: 10, t: 10, o: 8, q: 8, b: 2, y: 2 };
const RADIX_SUFFIX: Readonly<Record<string, number>> = { h: 16, x: 16, d: 10, t: 10, o: 8, q: 8, b: 2, y: 2 };
const DIGITS = "0123456789abcdef";

/** The value of a NASM number token, wrapped to 64 bits as NASM does, or null if it is not a number. */
export function parseNumber(text: string): bigint | null {
  let s = text.toLowerCase();
  let radix = 10;
  if (
    s.length > 2 &&
    s[0] === "0" &&
    RADIX_PREFIX[s[1]] !== undefined &&
    !(s.length > 2 && /[hxdtoqby]$/.test(s) && isHexyDecimal(s))
  ) {
    radix = RADIX_PREFIX[s[1]];
    s = s.slice(2);
  } else if (s.length > 1 && RADIX_SUFFIX[s[s.length - 1]] !== undefined) {
    radix = RADIX_SUFFIX[s[s.length - 1]];
    s = s.slice(0, -1);
  }
  let v = 0n;
  let digits = 0;
  const r = BigInt(radix);
  for (const c of s) {
    if (c === "_") continue;
    const d = DIGITS.indexOf(c);
    if (d < 0 || d >= radix) return null;
    v = v * r + BigInt(d);
    digits++;
  }
  if (digits === 0) return null;
  return BigInt.asUintN(64, v);
}

/** "0bh" is 0xB (suffix h wins over prefix 0b when the rest is hex): NASM tries the suffix form when
 *  the token ends in a radix letter and the prefix form would be invalid. */
function isHexyDecimal(s: string): boolean {
  const suffix = RADIX_SUFFIX[s[s.length - 1]];
  const body = s.slice(0, -1);
  for (const c of body) {
    if (c === "_") continue;
    const d = DIGITS.indexOf(c);
    if (d < 0 || d >= suffix) return false;
  }
  // Only prefer the suffix reading when the prefix reading fails.
  const pr = RADIX_PREFIX[s[1]];
  for (const c of s.slice(2)) {
    if (c === "_") continue;
    const d = DIGITS.indexOf(c);
    if (d < 0 || d >= pr) return true;
  }
  return false;
}

const UTF8 = new TextEncoder();

const ESCAPES: Readonly<Record<string, number>> = {
  n: 10,
  t: 9,
  r: 13,
  "0": 0,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  e: 27,
  "\\": 92,
  "'": 39,
  '"': 34,
  "`": 96,
  "?": 63,
};

/** The bytes of a string token ('…', "…" literal; `…` with escapes). Characters above 0x7F are
 *  encoded as UTF-8, as NASM reads a UTF-8 source. */
export function stringBytes(token: string): number[] {
  const q = token[0];
  const body = token.slice(1, -1);
  if (q !== "`") return Array.from(UTF8.encode(body));
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out.push(...UTF8.encode(c));
      continue;
    }
    const n = body[++i];
    if (n === "x") {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1))?.[0] ?? "";
      out.push(parseInt(hex || "0", 16));
      i += hex.length;
    } else if (n >= "0" && n <= "7") {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i))?.[0] ?? "0";
      out.push(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else out.push(ESCAPES[n] ?? n.charCodeAt(0));
  }
  return out;
}

/** A character constant's numeric value: little-endian bytes (NASM §3.4.3), up to 8. */
export function stringValue(bytes: readonly number[]): bigint {
  let v = 0n;
  for (let i = Math.min(bytes.length, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}
