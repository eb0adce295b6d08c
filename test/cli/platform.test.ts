// The machine options alone choose the platform (issue 15, items 1 and 2): a mediated --kvm code state
// implies --pmu mediated (on the command line and in a config file), a contradiction is one sentence
// (exit 2), and the reporting options --exits/--json never change what runs; they name the platform.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vpmu } from "./run-cli.js";

const EXC = "programs/cpu/exceptions.s";
const dir = mkdtempSync(join(tmpdir(), "vpmu-platform-"));
const cfg = (name: string, data: object): string => {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(data));
  return f;
};
const HOST_V4 = "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu mediated, --kvm v4 (code state V4)\n";

describe("--kvm and --pmu", () => {
  it("--kvm v4 alone is the mediated vPMU, on the command line and in a config file", () => {
    expect(vpmu(["explain", "--kvm", "v4"]).stdout.split("\n")[0] + "\n").toBe(HOST_V4);
    const f = cfg("v4.json", { kvm: "v4" });
    expect(vpmu(["explain", "--config", f]).stdout.split("\n")[0] + "\n").toBe(HOST_V4);
    expect(vpmu(["--config", f, "explain"]).stdout.split("\n")[0] + "\n").toBe(HOST_V4);
  });

  it("refuses --pmu legacy/off with a mediated --kvm in one sentence, exit status 2", () => {
    const sentence = (pmu: string, kvm: string) =>
      `vpmu: --pmu ${pmu} contradicts --kvm ${kvm}, a kernel with the mediated vPMU: drop --pmu or use --pmu mediated\n`;
    expect(vpmu(["explain", "--pmu", "legacy", "--kvm", "v4"])).toEqual({
      status: 2,
      stdout: "",
      stderr: sentence("legacy", "v4"),
    });
    expect(vpmu(["run", "--pmu", "off", "--kvm", "fix", "programs/cpu/hello.s"])).toEqual({
      status: 2,
      stdout: "",
      stderr: sentence("off", "fix"),
    });
    const f = cfg("contradiction.json", { pmu: "legacy", kvm: "base" });
    expect(vpmu(["run", "--config", f, "programs/cpu/hello.s"])).toEqual({
      status: 2,
      stdout: "",
      stderr: sentence("legacy", "base"),
    });
    // The command line wins over the file, and then nothing contradicts.
    expect(vpmu(["explain", "--config", f, "--pmu", "mediated"]).status).toBe(0);
  });

  it("--pmu legacy --kvm legacy and --pmu off stay as they were", () => {
    expect(vpmu(["explain", "--pmu", "legacy", "--kvm", "legacy"]).stdout.split("\n")[0]).toBe(
      "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu legacy, --kvm legacy (code state LEGACY)",
    );
    expect(vpmu(["run", "--pmu", "off", "programs/cpu/hello.s"]).status).toBe(0);
  });
});

describe("reporting options never change the platform", () => {
  const plain = vpmu(["run", EXC]);
  it("exceptions.s on the bare platform: 11 passes, status 0", () => {
    expect(plain.status).toBe(0);
    expect(plain.stderr).toBe("");
    expect(plain.stdout.endsWith("SUMMARY: 11 tests\n")).toBe(true);
    expect(plain.stdout).not.toContain("FAIL");
  });

  it("--exits: the same console and status, then one line saying the bare platform has no VM exits", () => {
    expect(vpmu(["run", "--exits", EXC])).toEqual({
      status: 0,
      stdout:
        plain.stdout +
        "--- platform: bare (no KVM): no VM exits to show; a machine option (--host, --pmu, --kvm, ...) selects the KVM model ---\n",
      stderr: "",
    });
  });

  it("--json: the same console and status in a document naming the bare platform", () => {
    const r = vpmu(["run", "--json", EXC]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      platform: "bare",
      console: plain.stdout,
      status: 0,
      stop: "exit",
      report: "guest exited with status 0 after 4121 instructions",
    });
  });

  it("on the KVM model the document and the exit log name its configuration", () => {
    const doc = JSON.parse(vpmu(["run", "--json", "--pmu", "legacy", EXC]).stdout) as Record<string, unknown>;
    expect([doc.platform, doc.policy, doc.codeState, doc.mediated, doc.status]).toEqual([
      "kvm",
      "legacy",
      "legacy",
      false,
      1,
    ]);
    const exits = vpmu(["run", "--exits", "--pmu", "legacy", EXC]);
    // 538 includes the ud2 probe's EXCEPTION_NMI exit: VMX always intercepts #UD
    // (vmx.c vmx_update_exception_bitmap sets UD_VECTOR) and handle_ud reflects it.
    expect(exits.stdout).toContain(
      "SUMMARY: 11 tests, 2 unexpected failures\n--- platform: kvm, vm exits: 538 (policy legacy, not mediated) ---\n",
    );
    expect(exits.status).toBe(1);
  });
});

describe("run-only checks", () => {
  it("vpmu explain does not offer the checks only a run performs", () => {
    const help = vpmu(["explain", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).not.toContain("--check-isolation");
    expect(help.stdout).not.toContain("--trace-switch");
    expect(vpmu(["explain", "--check-isolation"]).status).toBe(2);
  });

  it("--check-isolation and --trace-switch on the bare platform are refused in one sentence, exit status 2", () => {
    for (const flag of ["--check-isolation", "--trace-switch"])
      expect(vpmu(["run", flag, "--exits", "programs/cpu/hello.s"])).toEqual({
        status: 2,
        stdout: "",
        stderr: `vpmu: ${flag} watches the KVM model's entries and exits, and the bare platform has none: add a machine option (--host, --pmu, --kvm, ...)\n`,
      });
    const kvm = vpmu(["run", "--check-isolation", "--host", "spr", "programs/cpu/hello.s"]);
    expect(kvm.status).toBe(0);
    expect(kvm.stdout).toContain("hello from the guest");
  });
});
