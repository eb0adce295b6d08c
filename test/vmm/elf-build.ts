// Hand-built ELF executables for the loader tests: an ELF32 (EM_386) or ELF64 (EM_X86_64) ET_EXEC with
// the given PT_LOAD segments, each segment's file bytes placed after the program headers in order.

export interface SegSpec {
  paddr: number;
  bytes: Uint8Array;
  memsz: number;
}

export function buildElf(bits: 32 | 64, entry: number, segs: SegSpec[], trailer = new Uint8Array(0)): Uint8Array {
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  let off = ehsize + phentsize * segs.length;
  const offsets = segs.map((s) => {
    const o = off;
    off += s.bytes.length;
    return o;
  });
  const out = new Uint8Array(off + trailer.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, 1, 1], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, bits === 64 ? 62 : 3, true);
  v.setUint32(20, 1, true);
  if (bits === 64) {
    v.setBigUint64(24, BigInt(entry), true);
    v.setBigUint64(32, BigInt(ehsize), true);
    v.setUint16(52, ehsize, true);
    v.setUint16(54, phentsize, true);
    v.setUint16(56, segs.length, true);
  } else {
    v.setUint32(24, entry, true);
    v.setUint32(28, ehsize, true);
    v.setUint16(40, ehsize, true);
    v.setUint16(42, phentsize, true);
    v.setUint16(44, segs.length, true);
  }
  segs.forEach((s, i) => {
    const p = ehsize + i * phentsize;
    v.setUint32(p, 1, true); // PT_LOAD
    if (bits === 64) {
      v.setBigUint64(p + 8, BigInt(offsets[i]!), true);
      v.setBigUint64(p + 16, BigInt(s.paddr), true);
      v.setBigUint64(p + 24, BigInt(s.paddr), true);
      v.setBigUint64(p + 32, BigInt(s.bytes.length), true);
      v.setBigUint64(p + 40, BigInt(s.memsz), true);
    } else {
      v.setUint32(p + 4, offsets[i]!, true);
      v.setUint32(p + 8, s.paddr, true);
      v.setUint32(p + 12, s.paddr, true);
      v.setUint32(p + 16, s.bytes.length, true);
      v.setUint32(p + 20, s.memsz, true);
    }
    out.set(s.bytes, offsets[i]!);
  });
  out.set(trailer, off);
  return out;
}

/** A Multiboot header (magic, flags, checksum, then the five address fields when given). */
export function mbHeader(flags: number, addr: number[] = [], checksumDelta = 0): Uint8Array {
  const words = [0x1badb002, flags, (-(0x1badb002 + flags) + checksumDelta) >>> 0, ...addr];
  const b = new Uint8Array(words.length * 4);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => {
    v.setUint32(i * 4, w >>> 0, true);
  });
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
