import { describe, expect, it } from "vitest";
import { exitSummary, LEAK_MODEL, runProgram } from "./guest.js";

const H = 0x8899aabb11223344n;

/** Exits other than console output (port 0xE9): what the PMU accesses caused. */
function pmuExits(lines: string[]): string[] {
  return lines.filter((l) => !l.startsWith("IO_INSTRUCTION port 0xe9"));
}

describe("the PERF_METRICS leak end to end (model.md §14.4, §14.5)", () => {
  it("V4: RDPMC(0x20000000) returns the host's H with no exit; RDMSR 0x329 exits and #GPs", () => {
    const r = runProgram("programs/leak/v4-rdpmc-leak.s", LEAK_MODEL);
    expect(r.exit).toEqual({ reason: "io", port: 0xf4, value: 1 });
    expect(r.io.text).toContain("INFO: perf-metrics: rdpmc 0x20000000 edx:eax: 0x8899aabb11223344\n");
    expect(r.io.text).toContain("FAIL: perf-metrics: rdpmc 0x20000000 raises #GP\n");
    expect(r.io.text).toContain("PASS: perf-metrics: rdmsr 0x329 raises #GP\n");
    expect(r.io.text).toContain("SUMMARY: 4 tests, 3 unexpected failures\n");
    // The only PMU exit is the RDMSR of 0x329: the RDPMC left no trace in the exit log.
    expect(pmuExits(exitSummary(r.vcpu))).toEqual(["MSR_READ 0x329 #GP", "IO_INSTRUCTION port 0xf4 userspace"]);
    expect(r.checker.leaks.length).toBe(1);
    const l = r.checker.leaks[0];
    expect([l.register, l.path, l.value, l.owner, l.source]).toEqual([
      "MSR_PERF_METRICS (0x329)",
      "RDPMC ecx=0x20000000",
      H,
      "host",
      "--host-msr",
    ]);
    expect(l.rule).toBe("R-INT-5: mediated, guest counters match the host exactly (8×48-bit GP, 4×48-bit fixed)");
    // I-4 is violated at every entry (PERF_METRICS reachable by RDPMC, host-owned); I-1..I-3 hold.
    const inv = new Set(r.checker.violations.map((v) => `${v.invariant} ${v.register}`));
    expect([...inv]).toEqual(["I-4 MSR_PERF_METRICS (0x329)"]);
  });

  it("FIX: the RDPMC exits with reason 15 and #GP, RIP unchanged; nothing leaks", () => {
    const r = runProgram("programs/leak/fix-rdpmc-exits.s", { ...LEAK_MODEL, policy: "fix" });
    expect(r.exit).toEqual({ reason: "io", port: 0xf4, value: 0 });
    expect(r.io.text).toContain("SUMMARY: 4 tests\n");
    expect(pmuExits(exitSummary(r.vcpu))).toEqual([
      "RDPMC 0x20000000 #GP",
      "MSR_READ 0x329 #GP",
      "IO_INSTRUCTION port 0xf4 userspace",
    ]);
    const rdpmc = r.vcpu.exits.find((e) => e.name === "RDPMC")!;
    expect([rdpmc.reason, rdpmc.length, rdpmc.why]).toEqual([15, 2, "metrics type not emulated"]);
    expect(r.checker.leaks).toEqual([]);
    expect(r.checker.violations).toEqual([]);
    // Every exit is a slow-path exit: put after it, load before the next entry (also after an injected #GP).
    expect(r.layer.sw.puts).toBe(r.layer.exitCount);
    expect(r.layer.sw.loads).toBe(r.layer.exitCount);
  });

  it("controls: nFX 3 or wGP 40 already intercept RDPMC under V4", () => {
    for (const [prog, m] of [
      ["programs/leak/v4-control-nfx3.s", { ...LEAK_MODEL, nFX: 3 }],
      ["programs/leak/v4-control-wgp40.s", { ...LEAK_MODEL, wGP: 40 }],
    ] as const) {
      const r = runProgram(prog, m);
      expect(r.exit).toEqual({ reason: "io", port: 0xf4, value: 0 });
      expect(pmuExits(exitSummary(r.vcpu))).toEqual([
        "RDPMC 0x20000000 #GP",
        "MSR_READ 0x329 #GP",
        "IO_INSTRUCTION port 0xf4 userspace",
      ]);
      expect(r.checker.leaks).toEqual([]);
    }
  });

  it("FIX regression guard: a guest with PERF_METRICS reads its own G natively, and put scrubs 0x329 (I-1)", () => {
    const r = runProgram("programs/leak/fix-regression-guard.s", { ...LEAK_MODEL, policy: "fix", perfCaps: 0xa000n });
    expect(r.io.text).toContain("SUMMARY: 4 tests\n");
    expect(r.exit).toEqual({ reason: "io", port: 0xf4, value: 0 });
    // Only CPUID and console I/O exit: the WRMSR/RDMSR of 0x329 and the RDPMC pass through.
    expect(pmuExits(exitSummary(r.vcpu))).toEqual(["CPUID ok", "IO_INSTRUCTION port 0xf4 userspace"]);
    expect(r.checker.leaks).toEqual([]);
    expect(r.checker.violations).toEqual([]);
    // After the final put: 0x329 was scrubbed by KVM; hardware now holds 0 (idle host activity restores nothing).
    expect(r.layer.phys.rdmsr(0x329)).toBe(0n);
    expect(r.vcpu.pmu.perfMetrics).toBe(0x0102030405060708n);
  });
});
