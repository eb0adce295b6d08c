/**
 * The micro-architectural model behind GuestEvents (with the per-operation base cycles in the rows of
 * semantics.ts): a small L1D in
 * front of a bounded LLC, and a simple branch predictor — deliberately simple so a user can predict
 * every count by hand (docs/cpu.md has worked examples). Not a model of any real core's timings.
 */
import { release, zeroed } from "./array-pool.js";
import type { GuestEvents } from "./platform.js";

/** Penalties (cycles). */
export const L1_MISS_LLC_HIT_CYCLES = 10;
export const LLC_MISS_CYCLES = 100;
export const MISPREDICT_CYCLES = 15;
/** Delivering an exception or interrupt through the IDT (not an instruction; counted as cycles). */
export const EVENT_DELIVERY_CYCLES = 50;

/**
 * Upper bound on the cycles between two consecutive retirements when at most one exception chain is
 * delivered in between (the PMU uses it to bound cycle-counter overflow distance): the largest base cost
 * (CPUID 100) + six cache lines missing the LLC (an indirect call: 2-line load + 2-line push; a delivery
 * frame: 2 lines) × 100 + a mispredict (15) + three deliveries (#DF chain) × 50 + their frames' lines
 * (counted above), rounded up. A guest that faults repeatedly without retiring can exceed it.
 */
export const MAX_CYCLES_PER_INSTRUCTION = 2000;

export const L1_LINES = 512; // 32 KiB of 64-byte lines, direct-mapped
export const RSB_ENTRIES = 16;

/** BranchPredictor.table() of an address outside RAM. */
const NO_STATE = new Uint8Array(0);

/** LLC geometry: 16 MiB, 16-way set-associative, 16384 sets of 64-byte lines, index = line number mod 16384. */
export const LLC_WAYS = 16;
export const LLC_SETS = 16384;

/**
 * L1D: direct-mapped, 512 lines of 64 bytes (32 KiB), index = line number mod 512. A miss is an LLC
 * reference. LLC: 16 MiB, 16-way set-associative with true LRU replacement in each set; a line misses
 * the LLC when it was never there, when CLFLUSH evicted it, or when 16 other lines of its set (lines a
 * multiple of 1 MiB apart) came in since. A working set under 1 MiB never conflicts.
 * Streamer (after the L2 streamer of Intel's optimization manual, which follows ascending accesses and
 * stops at 4 KiB page boundaries; simplified to one stream): when an LLC reference to line L comes right
 * after one to line L−1 of the same 4 KiB page, line L+1 of that page is filled into the LLC (not a
 * reference). So a cold ascending sweep misses on the first two lines of each page and hits the other 62,
 * and one larger than the LLC (kvm-unit-tests' pmu.c `loop()` over its 64 MiB buffer) misses that way
 * every time round, as on hardware.
 * Each memory operand of an instruction is one access to every line it touches (a read-modify-write
 * operand is one access). Code fetches are not modelled. The LLC's bookkeeping is a byte per 64-byte line
 * of guest memory (the tags' index) plus 102 bytes per set guest memory can reach: 1.6 MiB from 1 MiB of
 * RAM up, 102 KiB for 64 KiB.
 */
export class CacheModel {
  /** @internal */
  readonly l1 = zeroed(Int32Array, L1_LINES).fill(-1);
  /** LLC tags: line number + 1 per way (0 = empty), set-major. */
  private readonly tags: Int32Array;
  /** Each set's ways as a recency list (way numbers 0-15): next/prev links per way, and per set the most
   *  (head) and least (tail) recently used way. Kept so that all zeros is every set in way order (0 MRU ..
   *  15 LRU): a link is stored relative to that order (next w + 1, prev w - 1; nextOf/prevOf) and the tail
   *  as tail ^ 15. A new model then writes none of this memory, which the system hands out as it is first
   *  touched: for a 16 MiB guest, 512 KiB of links written at every start (issue 16: start-up). */
  private readonly next: Uint8Array;
  private readonly prev: Uint8Array;
  private readonly head: Uint8Array;
  /** Per set: the tag (line + 1) of its most recently used way, 0 when empty — line()'s fast path. */
  private readonly mru: Int32Array;
  private readonly tail: Uint8Array;
  /** Per line of guest memory: the way (1-16) holding it in its set, 0 = not in the LLC — the tags' index. */
  private readonly where: Uint8Array;
  /** The line of the previous LLC reference (-1: none), for the streamer. */
  private lastRef = -1;
  constructor(
    memSize: number,
    private readonly ev: GuestEvents,
  ) {
    const lines = Math.ceil(memSize / 64);
    this.where = zeroed(Uint8Array, lines);
    // Only the sets guest memory can reach (line mod LLC_SETS) are kept: the smallest power of two of
    // whole pages (64 lines, so the streamer's next line is inside too) covering every line.
    let sets = 64;
    while (sets < lines && sets < LLC_SETS) sets *= 2;
    this.tags = zeroed(Int32Array, sets * LLC_WAYS);
    this.next = zeroed(Uint8Array, sets * LLC_WAYS);
    this.prev = zeroed(Uint8Array, sets * LLC_WAYS);
    this.head = zeroed(Uint8Array, sets);
    this.mru = zeroed(Int32Array, sets);
    this.tail = zeroed(Uint8Array, sets);
    // New (or released and cleared) arrays are all zeros: every way empty, every set in way order.
  }
  /** The CPU is done (Cpu.release): the tables go to the next cache model built. */
  release(): void {
    release(this.l1, this.tags, this.next, this.prev, this.head, this.mru, this.tail, this.where);
  }
  /** Every LLC way empty, each set's recency list in way order 0 (MRU) .. 15 (LRU): all zeros. */
  private resetLlc(): void {
    this.tags.fill(0);
    this.where.fill(0);
    this.mru.fill(0);
    this.next.fill(0);
    this.prev.fill(0);
    this.head.fill(0);
    this.tail.fill(0);
  }
  /** The recency list's links of way w of the set at `base` (the ends' links are never followed). The
   *  arrays hold each link minus its way-order value, mod 256 (a Uint8Array stores the low 8 bits). */
  private nextOf(base: number, w: number): number {
    return (this.next[base + w]! + w + 1) & 0xff;
  }
  private setNext(base: number, w: number, v: number): void {
    this.next[base + w] = v - w - 1;
  }
  private prevOf(base: number, w: number): number {
    return (this.prev[base + w]! + w - 1) & 0xff;
  }
  private setPrev(base: number, w: number, v: number): void {
    this.prev[base + w] = v - w + 1;
  }
  private tailOf(set: number): number {
    return this.tail[set]! ^ (LLC_WAYS - 1);
  }
  access(addr: number, size: number): void {
    const first = addr >>> 6,
      last = (addr + size - 1) >>> 6;
    this.line(first);
    if (last !== first) this.line(last);
  }
  /** @internal An access to one line that missed (or may miss) L1. */
  line(line: number): void {
    const i = line & (L1_LINES - 1);
    if (this.l1[i] === line) return;
    this.l1[i] = line;
    const ev = this.ev;
    ev.llcReferences++;
    // Fast path (kept small so compiled blocks inline it): the line is its set's most recently used.
    if (this.mru[line & (LLC_SETS - 1)] === line + 1) ev.cycles += L1_MISS_LLC_HIT_CYCLES;
    else if (this.fill(line)) ev.cycles += L1_MISS_LLC_HIT_CYCLES;
    else {
      ev.llcMisses++;
      ev.cycles += LLC_MISS_CYCLES;
      ev.memStallCycles += LLC_MISS_CYCLES;
    }
    // The streamer: two references in a row to ascending lines of one 4 KiB page fetch the next line of
    // that page into the LLC (a fill, not a reference). The 64 lines of a page are line numbers 64k..64k+63.
    const next = line + 1;
    if (
      line - 1 === this.lastRef &&
      (line & 63) !== 0 &&
      (next & 63) !== 0 &&
      this.mru[next & (LLC_SETS - 1)] !== next + 1
    )
      this.fill(next);
    this.lastRef = line;
  }
  /** Bring `line` into the LLC as its set's most recently used way; whether it was there already. The
   *  victim of a miss is the set's least recently used way (empty ways are kept least recent). */
  private fill(line: number): boolean {
    const set = line & (LLC_SETS - 1),
      w = this.where[line]!;
    if (w !== 0) {
      this.toFront(set, w - 1);
      return true;
    }
    const victim = this.tailOf(set),
      slot = set * LLC_WAYS + victim,
      old = this.tags[slot]!;
    if (old !== 0) this.where[old - 1] = 0;
    this.tags[slot] = line + 1;
    this.where[line] = victim + 1;
    this.toFront(set, victim);
    return false;
  }
  /** Make way w of the set its most recently used (the recency list: head = MRU, tail = LRU). */
  private toFront(set: number, w: number): void {
    const head = this.head[set]!;
    if (head === w) return;
    this.unlink(set, w);
    const base = set * LLC_WAYS;
    this.setNext(base, w, head);
    this.setPrev(base, head, w);
    this.head[set] = w;
    this.mru[set] = this.tags[base + w]!;
  }
  /** Make way w of the set its least recently used (an emptied way is the next victim). */
  private toBack(set: number, w: number): void {
    const tail = this.tailOf(set);
    if (tail === w) return;
    this.unlink(set, w);
    const base = set * LLC_WAYS;
    this.setPrev(base, w, tail);
    this.setNext(base, tail, w);
    this.tail[set] = w ^ (LLC_WAYS - 1);
    this.mru[set] = this.tags[base + this.head[set]!]!;
  }
  /** Take way w out of its set's recency list (the list's ends move past it). */
  private unlink(set: number, w: number): void {
    const base = set * LLC_WAYS,
      n = this.nextOf(base, w),
      p = this.prevOf(base, w);
    if (this.head[set] === w) this.head[set] = n;
    else this.setNext(base, p, n);
    if (this.tailOf(set) === w) this.tail[set] = p ^ (LLC_WAYS - 1);
    else this.setPrev(base, n, p);
  }
  /** CLFLUSH: the line leaves both levels. */
  flush(addr: number): void {
    const line = addr >>> 6;
    const i = line & (L1_LINES - 1);
    if (this.l1[i] === line) this.l1[i] = -1;
    const w = this.where[line]!;
    if (w === 0) return;
    const set = line & (LLC_SETS - 1);
    this.tags[set * LLC_WAYS + w - 1] = 0;
    this.where[line] = 0;
    this.toBack(set, w - 1);
  }

  /** WBINVD/INVD: every line out of both levels. */
  flushAll(): void {
    this.l1.fill(-1);
    this.resetLlc();
    this.lastRef = -1;
  }
}

/**
 * Branch predictor:
 * - conditional (jcc, loop*, jrcxz): per-branch-address last outcome (1 bit); a branch never seen is
 *   predicted by direction: backward taken, forward not taken;
 * - direct jmp/call: always predicted correctly;
 * - ret: a 16-entry return stack buffer (call pushes, ret pops; overflow drops the oldest); a ret with
 *   an empty RSB or a different top is mispredicted;
 * - indirect jmp/call: last target per branch address (never seen = mispredicted);
 * - iretq and int3 are never mispredicted (far transfers are not predicted in this model).
 * resetBranchPredictor() (IBPB) forgets everything.
 */
export class BranchPredictor {
  /** Conditional-branch state per branch address: 0 = unseen, 1 = last not taken, 2 = last taken. One
   *  4 KiB table per page of RAM, made when a branch there is first recorded (or compiled): a byte for
   *  every byte of RAM up front (16 MiB for a 16 MiB guest) cost every start a garbage collection.
   *  An address outside RAM has no state: it is never predicted taken and nothing is recorded. */
  private readonly pages: (Uint8Array | undefined)[];
  private readonly rsb = new Float64Array(RSB_ENTRIES);
  private rsbCount = 0;
  private rsbTop = 0;
  private readonly indirect = new Map<number, number>();
  constructor(
    private readonly memSize: number,
    private readonly ev: GuestEvents,
  ) {
    this.pages = new Array(Math.ceil(memSize / 4096));
  }
  /** @internal The state table holding branch address `addr`, indexed by `addr & 4095` (the block
   *  compiler binds it): the page's table, or an empty array (reads undefined, drops writes) for an
   *  address outside RAM. */
  table(addr: number): Uint8Array {
    if (!(addr >= 0 && addr < this.memSize)) return NO_STATE;
    const i = addr >>> 12;
    let t = this.pages[i];
    if (t === undefined) this.pages[i] = t = zeroed(Uint8Array, 4096);
    return t;
  }
  /** The CPU is done (Cpu.release): the state tables go to the next predictor built. */
  release(): void {
    for (const t of this.pages) if (t !== undefined) release(t);
  }
  reset(): void {
    // In place: compiled blocks keep the tables they were compiled with.
    for (const t of this.pages) t?.fill(0);
    this.rsbCount = 0;
    this.rsbTop = 0;
    this.indirect.clear();
  }
  /** @internal */
  miss(): void {
    this.ev.branchMispredicts++;
    this.ev.cycles += MISPREDICT_CYCLES;
    this.ev.mispredictCycles += MISPREDICT_CYCLES;
  }
  /** Each prediction returns whether it missed (the LBR's MISPRED bit, lbr.ts). */
  conditional(addr: number, taken: boolean, target: number): boolean {
    let predicted = false;
    if (addr >= 0 && addr < this.memSize) {
      const t = this.pages[addr >>> 12] ?? this.table(addr);
      const s = t[addr & 4095];
      predicted = s === 0 ? target <= addr : s === 2;
      t[addr & 4095] = taken ? 2 : 1;
    }
    if (predicted === taken) return false;
    this.miss();
    return true;
  }
  call(ret: number): void {
    this.rsbTop = (this.rsbTop + 1) & (RSB_ENTRIES - 1);
    this.rsb[this.rsbTop] = ret;
    if (this.rsbCount < RSB_ENTRIES) this.rsbCount++;
  }
  ret(target: number): boolean {
    if (this.rsbCount === 0) {
      this.miss();
      return true;
    }
    const p = this.rsb[this.rsbTop];
    this.rsbTop = (this.rsbTop - 1) & (RSB_ENTRIES - 1);
    this.rsbCount--;
    if (p === target) return false;
    this.miss();
    return true;
  }
  indirectBranch(addr: number, target: number): boolean {
    const hit = this.indirect.get(addr) === target;
    this.indirect.set(addr, target);
    if (hit) return false;
    this.miss();
    return true;
  }
}
