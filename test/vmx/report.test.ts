import { describe, expect, it } from "vitest";
import type { ExitRecord } from "../../src/kvm/vcpu.js";
import { formatExit, formatExitLog, runDocument } from "../../src/report/index.js";
import { LEAK_MODEL, runProgram } from "./guest.js";

const out = (rip: number): ExitRecord => ({
  reason: 30,
  name: "IO_INSTRUCTION",
  rip,
  length: 2,
  port: 0xe9,
  size: 1,
  in: false,
  value: 0x41n,
  outcome: "userspace",
});

describe("exit log lines (kvm_exit / kvm_msr style)", () => {
  it("formats each kind of exit", () => {
    expect(
      formatExit({ reason: 31, name: "MSR_READ", rip: 0x100010, length: 2, msr: 0x329, write: false, outcome: "#GP" }),
    ).toBe("exit MSR_READ(31) rip=0x100010 len=2 msr=MSR_PERF_METRICS (0x329) -> #GP injected, rip unchanged");
    expect(
      formatExit({
        reason: 32,
        name: "MSR_WRITE",
        rip: 0x100020,
        length: 3,
        msr: 0xc2,
        write: true,
        value: 0x10n,
        outcome: "ok",
      }),
    ).toBe("exit MSR_WRITE(32) rip=0x100020 len=3 msr=MSR_IA32_PERFCTR1 (0xc2) value=0x10 -> skip (rip += len)");
    expect(
      formatExit({ reason: 15, name: "RDPMC", rip: 0x100030, length: 2, ecx: 0x40000001, value: 5n, outcome: "ok" }),
    ).toBe("exit RDPMC(15) rip=0x100030 len=2 ecx=0x40000001 result=0x5 -> skip (rip += len)");
    expect(formatExit({ reason: 12, name: "HLT", rip: 0x100040, length: 1, outcome: "halt" })).toBe(
      "exit HLT(12) rip=0x100040 len=1 -> halt",
    );
  });

  it("folds runs of console output into one line", () => {
    const hlt: ExitRecord = { reason: 12, name: "HLT", rip: 0x100040, length: 1, outcome: "halt" };
    expect(formatExitLog([out(1), out(2), out(3), hlt, out(4)])).toEqual([
      "exit IO_INSTRUCTION(30) port=0xe9 out ×3 (console)",
      "exit HLT(12) rip=0x100040 len=1 -> halt",
      "exit IO_INSTRUCTION(30) port=0xe9 out ×1 (console)",
    ]);
  });
});

describe("--json run document", () => {
  it("carries the console, status, exits, counters, hardware owners and the leak", () => {
    const r = runProgram("programs/leak/v4-rdpmc-leak.s", LEAK_MODEL, false);
    const doc = runDocument(
      { console: r.io.text, status: 1, stop: "exit", report: "guest exited with status 1" },
      r.vcpu,
      r.layer,
      r.checker,
    );
    expect([doc.status, doc.policy, doc.mediated]).toEqual([1, "v4", true]);
    expect(doc.exits.filter((e) => e.msr !== undefined)).toEqual([
      { reason: 31, name: "MSR_READ", rip: "0x10192c", length: 2, msr: "0x329", outcome: "#GP" },
    ]);
    expect(doc.counters.fixed).toEqual(["0x0", "0x0", "0x0", "0x0"]);
    expect(doc.hardware["MSR_PERF_METRICS (0x329)"]).toEqual({
      value: "0x8899aabb11223344",
      owner: "host",
      source: "--host-msr",
    });
    expect(doc.leaks).toEqual([
      {
        direction: "host→guest",
        register: "MSR_PERF_METRICS (0x329)",
        path: "RDPMC ecx=0x20000000",
        rip: "0x101af9",
        value: "0x8899aabb11223344",
        owner: "host",
        source: "--host-msr",
        rule: "R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)",
        why: "RDPMC exiting (primary processor-based VM-execution controls, bit 11) clear: kvm_need_rdpmc_intercept() false — mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed) (docs/model.md §11.6 R-INT-5)",
      },
    ]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
