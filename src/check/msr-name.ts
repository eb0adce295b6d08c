/** Human names for MSR indexes in reports ("MSR_PERF_METRICS (0x329)"), from the vPMU's catalogue. */
import { findMsrRow } from "../pmu/msrs.js";

export function msrName(index: number): string {
  const row = findMsrRow(index);
  const hex = `0x${index.toString(16)}`;
  if (!row) return `MSR ${hex}`;
  if (row.count === 1) return `${row.name} (${hex})`;
  const n = index - row.index;
  return `${row.name.replace(/0$/, String(n))} (${hex})`;
}
