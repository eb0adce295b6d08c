/**
 * Sharding: `--shard i/n` (1-based, like vitest's and jest's) splits the expanded matrix so n CI jobs on
 * several machines share it. Configurations are dealt round-robin by their matrix index, so every shard
 * gets a similar mix of hosts and policies, and the union of the n shards is exactly the matrix.
 */

export interface Shard {
  /** 1-based shard number. */
  readonly index: number;
  readonly count: number;
}

export type ShardParse = { readonly ok: true; readonly shard: Shard } | { readonly ok: false; readonly error: string };

/** "2/4" → shard 2 of 4. Errors are one sentence. */
export function parseShard(text: string): ShardParse {
  const m = /^\s*([0-9]{1,6})\s*\/\s*([0-9]{1,6})\s*$/.exec(text);
  if (!m) return { ok: false, error: `'${text}' is not i/n (e.g. 1/4: the first of four shards)` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return { ok: false, error: `'${text}': the shard count must be at least 1` };
  if (index < 1 || index > count)
    return { ok: false, error: `'${text}': the shard number must be between 1 and ${count}` };
  return { ok: true, shard: { index, count } };
}

/** Whether the item at matrix position `position` belongs to the shard. */
export function inShard(position: number, shard: Shard): boolean {
  return position % shard.count === shard.index - 1;
}

/** The items of one shard, in their original order. */
export function selectShard<T extends { readonly index: number }>(items: readonly T[], shard: Shard): T[] {
  return items.filter((x) => inShard(x.index, shard));
}
