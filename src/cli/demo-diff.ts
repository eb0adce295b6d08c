// Line-array front end of the golden runner's unified diff, for showing what differs between two runs
// (hunks only: the ---/+++ header is the caller's).
import { golden } from "../index.js";

export function unifiedDiffLines(a: readonly string[], b: readonly string[], context = 1): string[] {
  const text = (ls: readonly string[]) => (ls.length ? ls.join("\n") + "\n" : "");
  const d = golden.unifiedDiff(text(a), text(b), "a", "b", context);
  return d === "" ? [] : d.replace(/\n$/, "").split("\n").slice(2);
}
