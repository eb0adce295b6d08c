/**
 * Decoded instructions shared by the CPUs that run one image one after another (the sweep runs each probe
 * thousands of times in a worker thread, and decoding it afresh each run was a tenth of the sweep).
 *
 * decodeInto is a pure function of the bytes it may read (at most min(15, avail) from the instruction's
 * first byte: decode-bytes.ts ByteCursor), that count, the address and the code size. An entry keeps the
 * bytes it was decoded from; a CPU takes a copy of it (copyDecoded: a new Insn of its own, so stores into
 * code invalidate and the block compiler counts in that CPU alone) only when its memory holds exactly
 * those bytes there now — otherwise (code the guest changed, another image) it decodes as without the
 * cache. So a run with the cache decodes exactly what it would have decoded without it.
 */
import { decodeInto } from "./decode.js";
import { copyDecoded, Insn } from "./insn.js";
import type { CodeBits } from "./modes.js";

/** Entries kept at most (one per address): past this, decodes are not added. */
export const MAX_SHARED_DECODES = 1 << 16;

interface Entry {
  /** The decoded instruction (never handed out: CPUs get copies). */
  readonly ins: Insn;
  /** The bytes decodeInto could read: min(15, avail). */
  readonly bytes: Uint8Array;
}

export class SharedDecodes {
  private readonly entries = new Map<number, Entry>();
  /** Copies handed out and decodes done (tests and diagnostics). */
  readonly stats = { copied: 0, decoded: 0 };

  /** decodeInto(new Insn(), mem, addr, addr, avail, bits): a copy of the entry for `addr` when `mem` holds
   *  its bytes and the readable count and code size match, else a fresh decode (remembered when `addr`
   *  has no entry yet). */
  decode(mem: Uint8Array, addr: number, avail: number, bits: CodeBits): Insn {
    const max = Math.min(avail, 15);
    const e = this.entries.get(addr);
    if (e !== undefined && e.bytes.length === max && e.ins.mode === bits) {
      const b = e.bytes;
      let i = 0;
      while (i < max && mem[addr + i] === b[i]) i++;
      if (i === max) {
        this.stats.copied++;
        return copyDecoded(new Insn(), e.ins);
      }
    }
    this.stats.decoded++;
    const ins = decodeInto(new Insn(), mem, addr, addr, avail, bits);
    if (e === undefined && this.entries.size < MAX_SHARED_DECODES)
      this.entries.set(addr, { ins: copyDecoded(new Insn(), ins), bytes: mem.slice(addr, addr + max) });
    return ins;
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }
}
