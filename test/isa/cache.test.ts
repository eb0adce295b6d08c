// The LLC of the cycle model (src/isa/uarch.ts, docs/cpu.md "Caches"): 16-way sets with LRU replacement,
// CLFLUSH emptying a way that is then the set's next victim, and the streamer's page-bounded fills.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { noEvents } from "../../src/isa/platform.js";
import { CacheModel, LLC_SETS, LLC_WAYS } from "../../src/isa/uarch.js";

const MiB = 1 << 20;
const LINE = 64;
/** A cache over 64 MiB of memory, and a load of one 8-byte word that counts into `ev`. */
function cache() {
  const ev = noEvents();
  const c = new CacheModel(64 * MiB, ev);
  return { ev, c, load: (a: number) => c.access(a, 8) };
}
/** Address k MiB from `base`: every such line maps to one LLC set (16384 sets of 64 bytes = 1 MiB). */
const sameSet = (base: number, k: number) => base + k * MiB;

describe("LLC geometry", () => {
  test("16384 sets of 16 ways: 16 MiB", () => {
    expect(LLC_SETS * LLC_WAYS * LINE).toBe(16 * MiB);
  });
});

describe("LRU replacement", () => {
  test("a 17th line of a set evicts the least recently used line, not the first loaded", () => {
    const { ev, load } = cache();
    for (let k = 0; k < 16; k++) load(sameSet(0x40000, k));
    expect(ev.llcMisses).toBe(16);
    load(sameSet(0x40000, 0)); // hit: now the most recently used
    expect(ev.llcMisses).toBe(16);
    load(sameSet(0x40000, 16)); // evicts line 1
    load(sameSet(0x40000, 0)); // still there
    expect(ev.llcMisses).toBe(17);
    load(sameSet(0x40000, 1)); // gone
    expect(ev.llcMisses).toBe(18);
    expect(ev.llcReferences).toBe(20); // the lines 1 MiB apart share one L1 line: every load is a reference
  });

  test("CLFLUSH empties a way, which the next miss of its set fills before any line is evicted", () => {
    const { ev, c, load } = cache();
    for (let k = 0; k < 16; k++) load(sameSet(0x80000, k));
    c.flush(sameSet(0x80000, 5));
    load(sameSet(0x80000, 20)); // takes the emptied way
    expect(ev.llcMisses).toBe(17);
    for (let k = 0; k < 16; k++) if (k !== 5) load(sameSet(0x80000, k));
    expect(ev.llcMisses).toBe(17); // the other 15 all hit
    load(sameSet(0x80000, 5));
    expect(ev.llcMisses).toBe(18);
  });

  test("CLFLUSH of a set's most recently used line: the next load misses (the fast path forgets it too)", () => {
    const { ev, c, load } = cache();
    load(sameSet(0xc0000, 0));
    load(sameSet(0xc0000, 1)); // the set's MRU line
    c.flush(sameSet(0xc0000, 1));
    load(sameSet(0xc0000, 1));
    load(sameSet(0xc0000, 0)); // still there
    expect([ev.llcReferences, ev.llcMisses]).toEqual([4, 3]);
  });

  test("WBINVD/INVD empty every set", () => {
    const { ev, c, load } = cache();
    load(0x1000);
    c.flushAll();
    load(0x1000);
    expect([ev.llcReferences, ev.llcMisses]).toEqual([2, 2]);
  });
});

describe("LRU order against a reference model", () => {
  /** The set's ways as a plain list, most recently used first (null: empty): a miss takes the last way,
   *  a hit or fill moves the way to the front, CLFLUSH empties the way and moves it to the back. */
  class ReferenceSet {
    ways: (number | null)[] = Array.from({ length: LLC_WAYS }, () => null);
    /** Whether the line was there. */
    fill(line: number): boolean {
      let i = this.ways.indexOf(line);
      const hit = i >= 0;
      if (!hit) {
        i = LLC_WAYS - 1;
        this.ways[i] = line;
      }
      this.ways.unshift(...this.ways.splice(i, 1));
      return hit;
    }
    flush(line: number): void {
      const i = this.ways.indexOf(line);
      if (i < 0) return;
      this.ways.splice(i, 1);
      this.ways.push(null);
    }
  }
  test("every reference and CLFLUSH in two sets: the same misses as the list model", () => {
    // Lines 1 MiB apart share a set and an L1 line and are never a stream: each load that is not a
    // repeat of the previous one is an LLC reference. Two sets, so the model keeps them apart too.
    const op = fc.record({
      set: fc.constantFrom(0x40000, 0x9ffc0),
      k: fc.integer({ min: 0, max: 23 }),
      // Mostly loads, so sets fill and evict; a CLFLUSH one time in ten, a WBINVD one in 200.
      kind: fc.integer({ min: 0, max: 199 }),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 40, maxLength: 400, size: "max" }), (ops) => {
        const { ev, c, load } = cache();
        const ref = new Map<number, ReferenceSet>();
        const l1 = new Map<number, number | null>(); // per set: the line its L1 slot holds
        let refs = 0;
        let misses = 0;
        for (const o of ops) {
          const addr = sameSet(o.set, o.k);
          const line = addr >>> 6;
          const set = ref.get(o.set) ?? new ReferenceSet();
          ref.set(o.set, set);
          if (o.kind === 0) {
            c.flushAll();
            ref.clear();
            l1.clear();
          } else if (o.kind % 10 === 1) {
            c.flush(addr);
            set.flush(line);
            if (l1.get(o.set) === line) l1.set(o.set, null);
          } else {
            load(addr);
            if (l1.get(o.set) !== line) {
              l1.set(o.set, line);
              refs++;
              if (!set.fill(line)) misses++;
            }
          }
          expect([ev.llcReferences, ev.llcMisses]).toEqual([refs, misses]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the streamer", () => {
  test("two ascending references in a page fill the next line; a page's last line fills nothing", () => {
    const { ev, load } = cache();
    for (let a = 0x100000 + 60 * LINE; a < 0x100000 + 68 * LINE; a += LINE) load(a);
    // Lines 60, 61 miss; 61 fills 62, 62 fills 63 (hits); 63 is the page's last: no fill of 64 (next page);
    // 64, 65 miss, then 66 and 67 hit.
    expect([ev.llcReferences, ev.llcMisses]).toEqual([8, 4]);
    expect(ev.cycles).toBe(4 * 100 + 4 * 10);
  });

  test("a descending sweep, or a stride of two lines, is no stream", () => {
    const { ev, load } = cache();
    for (let i = 63; i >= 0; i--) load(0x200000 + i * LINE);
    for (let i = 0; i < 64; i += 2) load(0x300000 + i * LINE);
    expect(ev.llcMisses).toBe(64 + 32);
  });

  test("another reference in between breaks the stream", () => {
    const { ev, load } = cache();
    load(0x400000);
    load(0x500000);
    load(0x400040);
    load(0x400080); // 0x400040 after 0x500000: no fill; then 0x400080 after 0x400040 is a stream, but too late
    expect(ev.llcMisses).toBe(4);
    load(0x4000c0); // filled by the reference to 0x400080
    expect(ev.llcMisses).toBe(4);
  });
});
