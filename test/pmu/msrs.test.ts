import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../src/kvm/kvm.js";
import { Vmx } from "../../src/vmx/vmx.js";
import { findMsrRow, MSR_CATALOGUE, msrCatalogueMarkdown } from "../../src/pmu/msrs.js";
import { intelIsValidMsr } from "../../src/pmu/intel.js";

describe("the MSR catalogue", () => {
  it("docs/vpmu.md carries it verbatim", () => {
    const doc = readFileSync("docs/vpmu.md", "utf8");
    const m = /<!-- msr-catalogue:begin -->\n([\s\S]*?)<!-- msr-catalogue:end -->/.exec(doc);
    expect(m?.[1]).toBe(msrCatalogueMarkdown());
  });
  it("rows do not overlap and findMsrRow finds each", () => {
    const seen = new Map<number, string>();
    for (const r of MSR_CATALOGUE) {
      for (let i = r.index; i < r.index + r.count; i++) {
        expect(seen.get(i)).toBeUndefined();
        seen.set(i, r.name);
        expect(findMsrRow(i)).toBe(r);
      }
    }
    expect(findMsrRow(0x12345)).toBeUndefined();
  });
  it("member 0 of every PMU row is valid for a full LEGACY SPR vCPU except the rows KVM never exposes", () => {
    const v = (Kvm.create({ host: "spr", vendor: new Vmx() }) as Kvm).createVm().createVcpu();
    const never = new Set([
      "MSR_PERF_METRICS",
      "MSR_CORE_PERF_GLOBAL_STATUS_SET",
      "MSR_CORE_PERF_GLOBAL_INUSE",
      "MSR_PEBS_DATA_CFG",
      // SPR has architectural LBRs: no legacy LBR format, so no LBR MSRs (test/pmu/lbr.test.ts has SKX/ICX).
      "MSR_LBR_SELECT",
      "MSR_LBR_TOS",
      "MSR_LBR_NHM_FROM",
      "MSR_LBR_NHM_TO",
      "MSR_LBR_INFO_0",
    ]);
    for (const r of MSR_CATALOGUE.filter((x) => x.pmu)) {
      expect([r.name, intelIsValidMsr(v.pmu, r.index)]).toEqual([r.name, !never.has(r.name)]);
    }
  });
});
