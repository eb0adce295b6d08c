// The guest's micro-architectural event totals (src/isa GuestEvents) as `vpmu run --events` prints them:
// one `name value` line per event, names padded to one column.
import type { GuestEvents } from "../isa/platform.js";

export function formatEvents(e: GuestEvents): string {
  const rows: [string, number][] = [
    ["instructions", e.instructions],
    ["branches", e.branches],
    ["branch-mispredicts", e.branchMispredicts],
    ["uops", e.uops],
    ["cycles", e.cycles],
    ["mem-stall-cycles", e.memStallCycles],
    ["mispredict-cycles", e.mispredictCycles],
    ["llc-references", e.llcReferences],
    ["llc-misses", e.llcMisses],
    ["halted-cycles", e.haltedCycles],
  ];
  return rows.map(([k, v]) => `${k.padEnd(19)} ${v}`).join("\n") + "\n";
}
