/**
 * Dealing a sweep's jobs to worker threads: chunks of jobs in matrix order, handed to whichever thread
 * asks, with no start-up barrier and no program assembled twice. Each distinct program is assembled by
 * one thread (its owner: the programs are dealt in the groups the chunks first need them, so each thread
 * can start on chunks of its own programs at once); a thread reports what it assembled with each chunk,
 * and the other threads receive those images. Until they have, a thread takes the first chunk it can run
 * with what it holds or may assemble. Records are stored by chunk number, so the report never depends on
 * which thread ran what. Pure: the CLI moves the messages.
 */
import type { Job, ProgramLoader } from "./sweep.js";

export class ChunkPlan {
  readonly chunks: readonly (readonly Job[])[];
  /** Per chunk: the keys of the assembled programs it runs. */
  private readonly needs: readonly (readonly string[])[];
  /** The thread that assembles each program. */
  private readonly owner = new Map<string, number>();
  /** Per thread: the programs it holds (assembled, or received from another thread). */
  private readonly held: Set<string>[];
  private readonly taken: Uint8Array;
  /** Chunks below this are all taken. */
  private low = 0;

  constructor(jobs: readonly Job[], loader: ProgramLoader, threads: number, size: number) {
    const chunks: Job[][] = [];
    for (let i = 0; i < jobs.length; i += size) chunks.push(jobs.slice(i, i + size));
    this.chunks = chunks;
    this.needs = chunks.map((c) => [
      ...new Set(c.filter((j) => loader.assembles(j.program)).map((j) => loader.key(j.program, j.config))),
    ]);
    let group = 0;
    for (const keys of this.needs) {
      const fresh = keys.filter((k) => !this.owner.has(k));
      if (fresh.length === 0) continue;
      for (const k of fresh) this.owner.set(k, group % threads);
      group++;
    }
    this.held = Array.from({ length: threads }, () => new Set());
    this.taken = new Uint8Array(chunks.length);
  }

  /** The next chunk for `thread` (its number), or -1 when every chunk is taken: the first it can run with
   *  the programs it holds or owns, else the first left (it then assembles what it lacks itself). */
  next(thread: number): number {
    while (this.low < this.chunks.length && this.taken[this.low] === 1) this.low++;
    if (this.low === this.chunks.length) return -1;
    let pick = this.low;
    for (let i = this.low; i < this.chunks.length; i++) {
      if (this.taken[i] === 1) continue;
      if (this.needs[i]!.every((k) => this.held[thread]!.has(k) || this.owner.get(k) === thread)) {
        pick = i;
        break;
      }
    }
    this.taken[pick] = 1;
    return pick;
  }

  /** `thread` now holds these programs. */
  hold(thread: number, keys: Iterable<string>): void {
    for (const k of keys) this.held[thread]!.add(k);
  }

  /** The number of threads. */
  get threads(): number {
    return this.held.length;
  }
}
