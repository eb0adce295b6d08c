/**
 * The large typed arrays of a CPU (RAM, the TLB, the cache model's tables, code granules), handed on from
 * a CPU that is done to the next one built in the same thread: the sweep builds thousands of small CPUs one
 * after another, and allocating ~230 KiB of fresh tables for each (and collecting them) cost more than
 * clearing them. `zeroed` returns an array exactly as `new` makes it (all zeros); only Cpu.release puts
 * arrays here, so a program that never releases a CPU always gets new ones. What the pool holds is bounded
 * (KEEP per type and length, MAX_POOLED_BYTES in all): a run with a larger guest than that simply gets new
 * arrays, and a thread never keeps more than that alive for CPUs it may not build again.
 */

type Pooled = Uint8Array | Int32Array | Uint32Array;
type PooledCtor<T extends Pooled> = new (length: number) => T;

/** Arrays kept per (type, length) at most (a CPU has several of one kind: the TLB's, the branch predictor's pages). */
const KEEP = 8;

/** Bytes the pool holds at most per thread (a 16 MiB guest's RAM and tables fit several times over). */
export const MAX_POOLED_BYTES = 64 << 20;

const free = new Map<PooledCtor<Pooled>, Map<number, Pooled[]>>();
let pooled = 0;

/** Bytes the pool holds now (tests). */
export function pooledBytes(): number {
  return pooled;
}

/** A zero-filled array of `length` elements: a released one when there is one, else a new one. */
export function zeroed<T extends Pooled>(ctor: PooledCtor<T>, length: number): T {
  const list = free.get(ctor)?.get(length);
  if (list !== undefined && list.length > 0) {
    const a = list.pop() as T;
    pooled -= a.byteLength;
    a.fill(0);
    return a;
  }
  return new ctor(length);
}

/** Hand arrays back: their owner will never touch them again. */
export function release(...arrays: Pooled[]): void {
  for (const a of arrays) {
    const ctor = a.constructor as PooledCtor<Pooled>;
    let byLength = free.get(ctor);
    if (byLength === undefined) free.set(ctor, (byLength = new Map()));
    let list = byLength.get(a.length);
    if (list === undefined) byLength.set(a.length, (list = []));
    if (list.length < KEEP && pooled + a.byteLength <= MAX_POOLED_BYTES && !list.includes(a)) {
      list.push(a);
      pooled += a.byteLength;
    }
  }
}
