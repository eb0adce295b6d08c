// unifiedDiff: exact output on hand-checked cases, and a property test against an independent
// reference: applying the printed hunks to `expected` must give `actual`, and the number of changed
// lines must equal the LCS-based minimum (dynamic programming, written separately from Myers).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { unifiedDiff } from "../../src/report/diff.js";

function lines(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const out = parts.slice(0, -1).map((p) => p + "\n");
  if (parts[parts.length - 1] !== "") out.push(parts[parts.length - 1]!);
  return out;
}

/** Apply a unified diff produced by unifiedDiff (independent parser). */
function applyPatch(original: string, patch: string): string {
  const src = lines(original);
  const out: string[] = [];
  const p = patch.split("\n");
  let i = 2; // skip --- and +++
  let pos = 0;
  const body: string[] = [];
  while (i < p.length) {
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(p[i]!);
    if (!h) {
      i++;
      continue;
    }
    const aStart = Number(h[1]);
    const aCount = h[2] === undefined ? 1 : Number(h[2]);
    const from = aCount === 0 ? aStart : aStart - 1;
    while (pos < from) out.push(src[pos++]!);
    i++;
    while (i < p.length && !p[i]!.startsWith("@@")) {
      const l = p[i]!;
      if (l === "" && i === p.length - 1) break;
      if (l.startsWith("\\")) {
        // previous emitted/consumed line had no newline: strip it from the last output line if it was added
        const last = body.pop();
        if (last === "+" || last === " ") out[out.length - 1] = out[out.length - 1]!.replace(/\n$/, "");
        i++;
        continue;
      }
      const kind = l[0]!;
      const text = l.slice(1) + "\n";
      body.push(kind);
      if (kind === " ") {
        out.push(src[pos++]!);
      } else if (kind === "-") {
        pos++;
      } else if (kind === "+") {
        out.push(text);
      }
      i++;
    }
  }
  while (pos < src.length) out.push(src[pos++]!);
  return out.join("");
}

function lcs(a: string[], b: string[]): number {
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]!;
}

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "x", "y")).toBe("");
  });

  it("prints one hunk with three lines of context, like diff -u", () => {
    const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
    expect(unifiedDiff(a, b, "exp", "act")).toBe(
      "--- exp\n+++ act\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
    );
  });

  it("splits changes more than six lines apart into two hunks", () => {
    const a = Array.from({ length: 20 }, (_, i) => `${i + 1}`).join("\n") + "\n";
    const b = a.replace("2\n", "two\n").replace("19\n", "nineteen\n");
    expect(unifiedDiff(a, b, "e", "a")).toBe(
      "--- e\n+++ a\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n",
    );
  });

  it("names the empty side's position with ,0 and omits ,1", () => {
    expect(unifiedDiff("", "x\n", "e", "a")).toBe("--- e\n+++ a\n@@ -0,0 +1 @@\n+x\n");
    expect(unifiedDiff("x\n", "", "e", "a")).toBe("--- e\n+++ a\n@@ -1 +0,0 @@\n-x\n");
  });

  it("marks a missing final newline", () => {
    expect(unifiedDiff("a\n", "a", "e", "x")).toBe("--- e\n+++ x\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
  });

  it("round-trips and is minimal on random texts", () => {
    const text = fc
      .array(fc.constantFrom("a", "b", "c", "d", "e"), { maxLength: 25 })
      .chain((ls) => fc.boolean().map((nl) => (ls.length ? ls.join("\n") + (nl ? "\n" : "") : "")));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b, "e", "a");
        if (a === b) return d === "";
        if (applyPatch(a, d) !== b) return false;
        const changed = d.split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
        const la = lines(a);
        const lb = lines(b);
        return changed === la.length + lb.length - 2 * lcs(la, lb);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });
});
