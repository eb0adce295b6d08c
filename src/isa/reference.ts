/**
 * An independent, slow restatement of the SDM's integer ALU definitions on BigInt, written apart from
 * the fast path (alu.ts) so tests can compare the two. It follows the SDM "Operation" pseudo-code
 * literally (shifts and rotates loop one bit at a time; CF/OF from the mathematical result being out of
 * range; AF from the low nibbles) and the undefined-flag choices listed in flags.ts. Never used by the CPU.
 */

export interface RefResult {
  /** Result (low half for MUL/IMUL, quotient for DIV). */
  res: bigint;
  /** High half (MUL/IMUL) or remainder (DIV). */
  res2: bigint;
  /** RFLAGS after (only the six status flags are meaningful), or null for #DE. */
  flags: number | null;
}

const CFb = 1,
  PFb = 4,
  AFb = 0x10,
  ZFb = 0x40,
  SFb = 0x80,
  OFb = 0x800;

function bits(size: number): bigint {
  return BigInt(size * 8);
}
function mask(size: number): bigint {
  return (1n << bits(size)) - 1n;
}
function signed(v: bigint, size: number): bigint {
  const w = bits(size);
  return v >= 1n << (w - 1n) ? v - (1n << w) : v;
}
function parityEven(v: bigint): boolean {
  let n = 0;
  for (let i = 0n; i < 8n; i++) if ((v >> i) & 1n) n++;
  return n % 2 === 0;
}
function resultFlags(r: bigint, size: number): number {
  let f = 0;
  if (r === 0n) f |= ZFb;
  if ((r >> (bits(size) - 1n)) & 1n) f |= SFb;
  if (parityEven(r & 0xffn)) f |= PFb;
  return f;
}

/** add, or, adc, sbb, and, sub, xor, cmp (names as the SDM), inc, dec, neg. */
export function refBinary(name: string, size: number, a: bigint, b: bigint, flagsIn: number): RefResult {
  const m = mask(size);
  const cin = BigInt(flagsIn & CFb);
  const keep = flagsIn & ~(CFb | PFb | AFb | ZFb | SFb | OFb);
  let r: bigint,
    f = 0;
  switch (name) {
    case "add":
    case "adc":
    case "inc": {
      const c = name === "adc" ? cin : 0n;
      const bb = name === "inc" ? 1n : b;
      const u = a + bb + c;
      const s = signed(a, size) + signed(bb, size) + c;
      r = u & m;
      if (u > m) f |= CFb;
      if (s !== signed(r, size)) f |= OFb;
      if ((a & 0xfn) + (bb & 0xfn) + c > 0xfn) f |= AFb;
      if (name === "inc") f = (f & ~CFb) | (flagsIn & CFb);
      break;
    }
    case "sub":
    case "sbb":
    case "cmp":
    case "dec":
    case "neg": {
      const c = name === "sbb" ? cin : 0n;
      const x = name === "neg" ? 0n : a;
      const y = name === "dec" ? 1n : name === "neg" ? a : b;
      const u = x - y - c;
      const s = signed(x, size) - signed(y, size) - c;
      r = ((u % (m + 1n)) + (m + 1n)) & m;
      if (u < 0n) f |= CFb;
      if (s !== signed(r, size)) f |= OFb;
      if ((x & 0xfn) - (y & 0xfn) - c < 0n) f |= AFb;
      if (name === "dec") f = (f & ~CFb) | (flagsIn & CFb);
      if (name === "neg") f = (f & ~CFb) | (a !== 0n ? CFb : 0);
      break;
    }
    case "and":
      r = a & b;
      break;
    case "or":
      r = a | b;
      break;
    case "xor":
      r = a ^ b;
      break;
    default:
      throw new Error("refBinary: " + name);
  }
  return { res: r, res2: 0n, flags: keep | f | resultFlags(r, size) };
}

/** SAL/SHL, SHR, SAR, ROL, ROR by the SDM's bit-at-a-time pseudo-code. */
export function refShift(name: string, size: number, a: bigint, count: number, flagsIn: number): RefResult {
  const w = bits(size),
    m = mask(size);
  const c = count & (size === 8 ? 0x3f : 0x1f);
  if (c === 0) return { res: a, res2: 0n, flags: flagsIn };
  let d = a,
    cf = 0n;
  const msb = (v: bigint) => (v >> (w - 1n)) & 1n;
  if (name === "rol" || name === "ror") {
    // SDM ROL/ROR: tempCOUNT = (COUNT & mask) MOD SIZE; flags are affected when the masked count ≠ 0.
    let t = c % Number(w);
    while (t-- > 0) {
      if (name === "rol") {
        const hi = msb(d);
        d = ((d << 1n) | hi) & m;
      } else {
        const lo = d & 1n;
        d = (d >> 1n) | (lo << (w - 1n));
      }
    }
    let of: bigint;
    if (name === "rol") {
      cf = d & 1n;
      of = msb(d) ^ cf;
    } else {
      cf = msb(d);
      of = msb(d) ^ ((d >> (w - 2n)) & 1n);
    }
    const f = (flagsIn & ~(CFb | OFb)) | (cf ? CFb : 0) | (of ? OFb : 0);
    return { res: d, res2: 0n, flags: f };
  }
  const orig = a;
  let t = c;
  while (t-- > 0) {
    if (name === "shl") {
      cf = msb(d);
      d = (d << 1n) & m;
    } else if (name === "shr") {
      cf = d & 1n;
      d = d >> 1n;
    } else {
      cf = d & 1n;
      d = (d >> 1n) | (msb(d) << (w - 1n));
    }
  }
  let of: bigint;
  if (name === "shl") of = msb(d) ^ cf;
  else if (name === "shr")
    of = c === 1 ? msb(orig) : 0n; // flags.ts: bit(n-1) xor bit(n-2) of the result
  else of = 0n;
  const f = (flagsIn & ~(CFb | PFb | AFb | ZFb | SFb | OFb)) | (cf ? CFb : 0) | (of ? OFb : 0) | resultFlags(d, size);
  return { res: d, res2: 0n, flags: f };
}

/** MUL / IMUL (one-operand form: full product; res = low, res2 = high). */
export function refMul(signedMul: boolean, size: number, a: bigint, b: bigint, flagsIn: number): RefResult {
  const w = bits(size),
    m = mask(size);
  const x = signedMul ? signed(a, size) : a,
    y = signedMul ? signed(b, size) : b;
  const p = x * y;
  const full = p & ((1n << (2n * w)) - 1n);
  const lo = full & m,
    hi = full >> w;
  const sig = signedMul ? signed(lo, size) !== p : hi !== 0n;
  const f = (flagsIn & ~(CFb | PFb | AFb | ZFb | SFb | OFb)) | (sig ? CFb | OFb : 0) | resultFlags(lo, size);
  return { res: lo, res2: hi, flags: f };
}

/** DIV / IDIV of the 2·size dividend `n` by `b`: flags null = #DE. */
export function refDiv(signedDiv: boolean, size: number, n: bigint, b: bigint, flagsIn: number): RefResult {
  const w = bits(size),
    m = mask(size);
  if (b === 0n) return { res: 0n, res2: 0n, flags: null };
  if (!signedDiv) {
    const q = n / b,
      r = n % b;
    if (q > m) return { res: 0n, res2: 0n, flags: null };
    return { res: q, res2: r, flags: flagsIn };
  }
  const nn = n >= 1n << (2n * w - 1n) ? n - (1n << (2n * w)) : n;
  const bb = signed(b, size);
  const q = nn / bb,
    r = nn % bb; // BigInt division truncates toward zero, like IDIV
  if (q > (1n << (w - 1n)) - 1n || q < -(1n << (w - 1n))) return { res: 0n, res2: 0n, flags: null };
  return { res: q & m, res2: r & m, flags: flagsIn };
}
