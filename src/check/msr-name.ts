/** Human names for MSR indexes in reports ("MSR_PERF_METRICS (0x329)"), from the vPMU's catalogue. */
import { findMsrRow } from "../pmu/msrs.js";

/** x2APIC registers a PMU guest touches (SDM Vol. 3 "x2APIC Register Address Space"). */
const X2APIC_NAMES: Readonly<Record<number, string>> = {
  0x802: "X2APIC_ID",
  0x803: "X2APIC_VERSION",
  0x808: "X2APIC_TPR",
  0x80a: "X2APIC_PPR",
  0x80b: "X2APIC_EOI",
  0x80f: "X2APIC_SPIV",
  0x834: "X2APIC_LVTPC",
};

export function msrName(index: number): string {
  const row = findMsrRow(index);
  const hex = `0x${index.toString(16)}`;
  if (X2APIC_NAMES[index] !== undefined) return `${X2APIC_NAMES[index]} (${hex})`;
  if (!row) return `MSR ${hex}`;
  if (row.count === 1) return `${row.name} (${hex})`;
  const n = index - row.index;
  return `${row.name.replace(/0$/, String(n))} (${hex})`;
}
