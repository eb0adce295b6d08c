/**
 * The condition-grouping summariser: given configurations described by a few attributes (policy, pmu
 * mode, host has PERF_METRICS, guest caps bit 15, counts equal, widths equal, …) and which of them showed
 * a finding, find the smallest conjunctions of attribute = value that cover every positive and no
 * negative configuration, and say them as sentences ("v4, host has PERF_METRICS, guest lacks it, counts
 * and widths equal"). Exact over terms of up to `maxLiterals` literals (prime implicants by increasing
 * size), then a greedy cover; deterministic (ties go to fewer literals, then attribute order).
 */

/** One attribute: its id, and how a literal `id = value` reads in a sentence. */
export interface Attribute {
  readonly id: string;
  /** Phrase for a literal; `others` are the other literals of the same term (for "guest lacks it"). */
  phrase(value: string, others: ReadonlyMap<string, string>): string;
}

/** A configuration's attribute values, in the order of the attribute list. */
export type AttrVector = readonly string[];

export interface Literal {
  readonly attr: string;
  readonly value: string;
}

export interface Condition {
  readonly literals: readonly Literal[];
  /** How many positive configurations this condition covers (weighted by multiplicity). */
  readonly covers: number;
  readonly sentence: string;
}

export interface Explanation {
  readonly conditions: readonly Condition[];
  /** Positives whose full attribute vector also occurs among negatives: the attributes cannot tell
   *  them apart (a finding that depends on something else, e.g. the program). Counted, not hidden. */
  readonly unexplained: number;
  /** Positives not covered within `maxLiterals` (only if the search was cut short). */
  readonly uncovered: number;
}

interface Term {
  readonly attrs: readonly number[];
  readonly values: readonly number[];
}

/**
 * Explain `positives` against `negatives`. Each vector gives one value per attribute (as strings);
 * `weights` (optional) count how many configurations each positive stands for.
 */
export function explain(
  attrs: readonly Attribute[],
  positives: readonly AttrVector[],
  negatives: readonly AttrVector[],
  maxLiterals = 8,
  weights?: readonly number[],
): Explanation {
  const nA = attrs.length;
  // Encode values as small integers per attribute.
  const dict: Map<string, number>[] = attrs.map(() => new Map());
  const code = (a: number, v: string): number => {
    const d = dict[a];
    let c = d.get(v);
    if (c === undefined) {
      c = d.size;
      d.set(v, c);
    }
    return c;
  };
  const enc = (v: AttrVector): number[] => v.map((x, a) => code(a, x));
  // Distinct positives with weights; distinct negatives.
  const posMap = new Map<string, { v: number[]; w: number }>();
  positives.forEach((p, i) => {
    const e = enc(p);
    const k = e.join(",");
    const cur = posMap.get(k);
    if (cur) cur.w += weights?.[i] ?? 1;
    else posMap.set(k, { v: e, w: weights?.[i] ?? 1 });
  });
  const negKeys = new Set<string>();
  const negs: number[][] = [];
  for (const n of negatives) {
    const e = enc(n);
    const k = e.join(",");
    if (!negKeys.has(k)) {
      negKeys.add(k);
      negs.push(e);
    }
  }
  let unexplained = 0;
  const pos: { v: number[]; w: number }[] = [];
  for (const [k, p] of posMap) {
    if (negKeys.has(k)) unexplained += p.w;
    else pos.push(p);
  }
  if (pos.length === 0) return { conditions: [], unexplained, uncovered: 0 };
  if (negs.length === 0) {
    // Nothing to contrast with: the finding holds in every configuration (the empty conjunction).
    return {
      conditions: [{ literals: [], covers: pos.reduce((n, p) => n + p.w, 0), sentence: "every configuration" }],
      unexplained,
      uncovered: 0,
    };
  }

  // Radix per attribute for numeric projection keys.
  const radix = dict.map((d) => Math.max(1, d.size));
  const keyOf = (v: readonly number[], s: readonly number[]): number => {
    let k = 0;
    for (const a of s) k = k * radix[a] + v[a];
    return k;
  };

  const primes: Term[] = [];
  const coveredBy = new Array<boolean>(pos.length).fill(false);
  const subsumed = (s: readonly number[], v: readonly number[]): boolean =>
    primes.some((t) => t.attrs.every((a, i) => s.includes(a) && v[a] === t.values[i]));
  const limit = Math.min(maxLiterals, nA);
  // Which negatives hold each value of each attribute, as bitsets over `negs`: a positive's projection
  // onto `s` equals some negative's exactly when the AND of its values' sets over `s` is not empty (the
  // same answer as comparing projection keys, without a key per negative per subset).
  const words = (negs.length + 31) >>> 5;
  const holders: Uint32Array[][] = radix.map((r) => Array.from({ length: r }, () => new Uint32Array(words)));
  negs.forEach((n, i) => {
    for (let a = 0; a < nA; a++) holders[a][n[a]][i >>> 5] |= 1 << (i & 31);
  });
  const sets: Uint32Array[] = [];
  const collides = (s: readonly number[], v: readonly number[]): boolean => {
    sets.length = 0;
    for (const a of s) sets.push(holders[a][v[a]]);
    for (let w = 0; w < words; w++) {
      let x = sets[0][w];
      for (let j = 1; j < sets.length && x !== 0; j++) x &= sets[j][w];
      if (x !== 0) return true;
    }
    return false;
  };
  for (let k = 1; k <= limit && coveredBy.some((c) => !c); k++) {
    for (const s of combinations(nA, k)) {
      const seen = new Set<number>();
      for (const p of pos) {
        const key = keyOf(p.v, s);
        if (seen.has(key)) continue;
        seen.add(key);
        if (collides(s, p.v) || subsumed(s, p.v)) continue;
        primes.push({ attrs: s, values: s.map((a) => p.v[a]) });
      }
    }
    for (let i = 0; i < pos.length; i++) if (!coveredBy[i]) coveredBy[i] = primes.some((t) => matches(t, pos[i].v));
  }

  // Greedy weighted cover.
  const done = new Array<boolean>(pos.length).fill(false);
  const chosen: { t: Term; w: number }[] = [];
  for (;;) {
    let best: Term | null = null;
    let bestW = 0;
    for (const t of primes) {
      let w = 0;
      for (let i = 0; i < pos.length; i++) if (!done[i] && matches(t, pos[i].v)) w += pos[i].w;
      if (w > bestW || (w === bestW && w > 0 && best !== null && t.attrs.length < best.attrs.length)) {
        best = t;
        bestW = w;
      }
    }
    if (best === null || bestW === 0) break;
    for (let i = 0; i < pos.length; i++) if (matches(best, pos[i].v)) done[i] = true;
    chosen.push({ t: best, w: bestW });
  }
  let uncovered = 0;
  for (let i = 0; i < pos.length; i++) if (!done[i]) uncovered += pos[i].w;

  const names = dict.map((d) => {
    const arr: string[] = [];
    for (const [v, c] of d) arr[c] = v;
    return arr;
  });
  const conditions = chosen.map(({ t, w }) => {
    const literals = t.attrs.map((a, i) => ({ attr: attrs[a].id, value: names[a][t.values[i]] }));
    return { literals, covers: w, sentence: sentence(attrs, literals) };
  });
  return { conditions, unexplained, uncovered };
}

function matches(t: Term, v: readonly number[]): boolean {
  for (let i = 0; i < t.attrs.length; i++) if (v[t.attrs[i]] !== t.values[i]) return false;
  return true;
}

/** k-subsets of 0..n-1 in lexicographic order. */
function* combinations(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield idx.slice();
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
  }
}

/** Literals in attribute order, each through its attribute's phrase, joined with ", ". Consecutive
 *  phrases "X equal" are merged ("counts and widths equal"). */
export function sentence(attrs: readonly Attribute[], literals: readonly Literal[]): string {
  const others = new Map(literals.map((l) => [l.attr, l.value] as const));
  const ordered = attrs.filter((a) => others.has(a.id));
  const phrases = ordered.map((a) => a.phrase(others.get(a.id)!, others));
  const out: string[] = [];
  for (const p of phrases) {
    const prev = out[out.length - 1];
    const m = / (equal|differ)$/.exec(p);
    if (prev !== undefined && m && prev.endsWith(` ${m[1]}`) && !prev.includes(",")) {
      out[out.length - 1] = `${prev.slice(0, -(m[1].length + 1)).replace(/ and /g, ", ")} and ${p}`;
    } else {
      out.push(p);
    }
  }
  return out.join(", ");
}
