// vpmu run --step / --expect-exit (issue 14 item 11): the VMM's ioctls between KVM_RUNs and assertions on the
// exit log, from the command line and from a --config file; their failures decide the exit status.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitExpectations } from "../../src/report/exit-expect.js";
import { ROOT, vpmu } from "./run-cli.js";

const DIR = join(ROOT, "programs/pmu");
const STEPS = ["--step", "run:3000", "--step", "set-msr:0xc1=1000000", "--step", "run:12000"];

describe("ExitExpectations", () => {
  it("matches every word of each pattern, in order, on distinct lines", () => {
    const x = new ExitExpectations(["MSR_WRITE (0x186)", "MSR_READ (0xc1)"]);
    x.feed("exit MSR_READ(31) rip=0x1 len=2 msr=MSR_IA32_PERFCTR0 (0xc1) -> 0x0"); // before the write: not yet
    x.feed("exit MSR_WRITE(32) rip=0x2 len=2 msr=MSR_P6_EVNTSEL0 (0x186) value=0x4200c0 -> skip");
    expect(x.unmet()).toEqual([
      "--expect-exit 'MSR_READ (0xc1)' matched none of the exits after the previous pattern (2 exits in all)",
    ]);
    x.feed("exit MSR_READ(31) rip=0x3 len=2 msr=MSR_IA32_PERFCTR0 (0xc1) -> 0x5");
    expect(x.unmet()).toEqual([]);
    expect(x.pending).toBe(false);
  });
});

describe("vpmu run --step / --expect-exit", () => {
  it("a host KVM_SET_MSRS inside the first loop: the guest's PERFCTR0 reads 1000000 + what followed", () => {
    const r = vpmu(["run", "--host", "spr", "--pmu", "legacy", ...STEPS, "host-steps.s"], { cwd: DIR });
    expect(r.stdout).toContain("INFO: PERFCTR0 after loop 1: 0x00000000000f60c8\n");
    // No filter step: loop 2's 10000 instructions and the emulated RDMSR are counted, so the second check fails.
    expect(r.stdout).toContain("FAIL: the filter landed inside loop 2");
    expect(r.status).toBe(1);
  });
  it("the same steps from a --config file", () => {
    const d = mkdtempSync(join(tmpdir(), "vpmu-steps-"));
    const cfg = join(d, "vm.json");
    writeFileSync(
      cfg,
      JSON.stringify({ host: "spr", pmu: "legacy", step: ["run:3000", "set-msr:0xc1=1000000", "run:12000"] }),
    );
    const r = vpmu(["run", "--config", cfg, "host-steps.s"], { cwd: DIR });
    expect(r.stdout).toContain("INFO: PERFCTR0 after loop 1: 0x00000000000f60c8\n");
  });
  it("a refused KVM_SET_MSRS, an unmet --expect-exit and steps left over make the status 1, with the reasons", () => {
    const r = vpmu(
      [
        "run",
        "--host",
        "spr",
        "--pmu",
        "legacy",
        "--step",
        "set-msr:0x38f=0xffffffffffffffff",
        "--step",
        "run:100000000",
        "--expect-exit",
        "MSR_READ (0x38e)",
        "host-steps.s",
      ],
      { cwd: DIR },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "vpmu: --step 1: KVM_SET_MSRS 0x38f = 0xffffffffffffffff failed (KVM_SET_MSRS set 0 MSRs)\n",
    );
    expect(r.stderr).toContain("vpmu: --expect-exit 'MSR_READ (0x38e)' matched none of the exits");
    expect(r.stderr).toContain("vpmu: the guest stopped with 1 --step steps not done (exit)\n");
  });
  it("needs the KVM model; an unknown step is a usage error", () => {
    expect(vpmu(["run", "--step", "run:5", "host-steps.s"], { cwd: DIR }).stderr).toContain("--step watches");
    const bad = vpmu(["run", "--host", "spr", "--step", "reset", "host-steps.s"], { cwd: DIR });
    expect(bad.stderr).toContain(
      "--step reset: expected run:N, set-msr:MSR=VALUE, set-filter:FILE.json or set-filter:none",
    );
    expect(bad.status).not.toBe(0);
  });
});
