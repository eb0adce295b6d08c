// A unified diff (the `diff -u` format) between two texts, so a golden mismatch or the demo's two runs read
// like a patch. Myers' O((N+M)·D) shortest edit script on lines, after trimming the common prefix and
// suffix; beyond MAX_EDITS differing lines the middle is shown as one replaced block (still correct,
// just not minimal). Used by the golden runner (src/golden/verdict.ts) and `vpmu demo`.

const MAX_EDITS = 2000;

type Op = { kind: " " | "-" | "+"; text: string; aLine: number; bLine: number };

/** Lines with their terminator, so a missing final newline is a difference too. */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) out.push(parts[i]! + "\n");
  if (parts[parts.length - 1] !== "") out.push(parts[parts.length - 1]!);
  return out;
}

/** Shortest edit script between a and b (Myers 1986), or null past MAX_EDITS. */
function myers(a: string[], b: string[]): ("=" | "-" | "+")[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const trace: Int32Array[] = [];
  // v indexed by k + d (k in [-d, d]); each step keeps its own small snapshot for the backtrack.
  let prev = new Int32Array(1);
  prev[0] = 0;
  for (let d = 0; d <= max; d++) {
    const v = new Int32Array(2 * d + 1);
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      const pk = (kk: number) => prev[kk + (d - 1)]!;
      if (d === 0) x = 0;
      else if (k === -d || (k !== d && pk(k - 1) < pk(k + 1))) x = pk(k + 1);
      else x = pk(k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + d] = x;
      if (x >= n && y >= m) {
        trace.push(v);
        return backtrack(trace, n, m);
      }
    }
    trace.push(v);
    prev = v;
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number): ("=" | "-" | "+")[] {
  const ops: ("=" | "-" | "+")[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const v = trace[d - 1]!;
    const at = (kk: number) => v[kk + (d - 1)]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push("=");
      x--;
      y--;
    }
    if (x === prevX) {
      ops.push("+");
      y--;
    } else {
      ops.push("-");
      x--;
    }
  }
  while (x > 0 && y > 0) {
    ops.push("=");
    x--;
    y--;
  }
  return ops.reverse();
}

function editScript(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const midA = a.slice(pre, a.length - suf);
  const midB = b.slice(pre, b.length - suf);
  const mid = myers(midA, midB) ?? [...midA.map(() => "-" as const), ...midB.map(() => "+" as const)];
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  const push = (kind: Op["kind"]) => {
    ops.push({ kind, text: kind === "+" ? b[j]! : a[i]!, aLine: i, bLine: j });
    if (kind !== "+") i++;
    if (kind !== "-") j++;
  };
  for (let t = 0; t < pre; t++) push(" ");
  for (const op of mid) push(op === "=" ? " " : op);
  for (let t = 0; t < suf; t++) push(" ");
  return ops;
}

function range(start: number, count: number): string {
  // diff -u: "l,s"; a count of 1 is written without ",1"; an empty range names the line before it.
  if (count === 0) return `${start},0`;
  if (count === 1) return `${start + 1}`;
  return `${start + 1},${count}`;
}

/**
 * `diff -u`-style text turning `expected` into `actual`, or "" when they are equal. `context` lines of
 * unchanged text surround each change; `fromName`/`toName` label the two sides.
 */
export function unifiedDiff(expected: string, actual: string, fromName: string, toName: string, context = 3): string {
  if (expected === actual) return "";
  const ops = editScript(splitLines(expected), splitLines(actual));
  const out: string[] = [`--- ${fromName}\n`, `+++ ${toName}\n`];
  let idx = 0;
  while (idx < ops.length) {
    while (idx < ops.length && ops[idx]!.kind === " ") idx++;
    if (idx >= ops.length) break;
    const start = Math.max(0, idx - context);
    let end = idx;
    // Extend the hunk while the next change is within 2·context unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next]!.kind === " ") next++;
      if (next < ops.length && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = Math.min(ops.length, end + context);
      break;
    }
    const hunk = ops.slice(start, end);
    const first = hunk[0]!;
    const aCount = hunk.filter((o) => o.kind !== "+").length;
    const bCount = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${range(first.aLine, aCount)} +${range(first.bLine, bCount)} @@\n`);
    for (const o of hunk) {
      out.push(o.kind + o.text);
      if (!o.text.endsWith("\n")) out.push("\n\\ No newline at end of file\n");
    }
    idx = end;
  }
  return out.join("");
}

/** The hunks of the unified diff between two line arrays (no ---/+++ header: the caller titles them),
 *  for showing what differs between two runs. */
export function unifiedDiffLines(a: readonly string[], b: readonly string[], context = 1): string[] {
  const text = (ls: readonly string[]) => (ls.length ? ls.join("\n") + "\n" : "");
  const d = unifiedDiff(text(a), text(b), "a", "b", context);
  return d === "" ? [] : d.replace(/\n$/, "").split("\n").slice(2);
}
