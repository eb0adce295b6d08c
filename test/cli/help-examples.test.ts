// Every example in `vpmu run --help` and `vpmu explain --help` is run as shown (the built CLI) and must
// show what its comment says it shows. A new example without a check here fails the first test.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, vpmu, type CliResult } from "./run-cli.js";

/** The "$ vpmu …" lines of a command's --help Examples section, as argument lists. */
function examples(command: string): string[] {
  const help = vpmu([command, "--help"]).stdout;
  return help
    .slice(help.indexOf("\nExamples:\n"))
    .split("\n")
    .filter((l) => l.startsWith("  $ vpmu "))
    .map((l) => l.slice("  $ vpmu ".length).replace(/\s+#.*$/, ""));
}

// A flat binary that prints a string through an absolute address: right only when loaded at 0x200000.
const dir = mkdtempSync(join(tmpdir(), "vpmu-help-"));
writeFileSync(
  join(dir, "prog.s"),
  [
    "        org 0x200000",
    "        bits 64",
    "        mov rsi, msg",
    "        mov dx, 0xe9",
    ".next:  mov al, [rsi]",
    "        test al, al",
    "        jz .done",
    "        out dx, al",
    "        inc rsi",
    "        jmp .next",
    ".done:  mov al, 0",
    "        out 0xf4, al",
    'msg:    db "loaded at 0x200000", 10, 0',
    "",
  ].join("\n"),
);

// The golden ends with the status line `vpmu test` adds; the console is what precedes it.
const HELLO = readFileSync(join(ROOT, "programs/cpu/hello.out"), "utf8").replace(/exit status: 0\n$/, "");
const BARE_EXITS =
  "--- platform: bare (no KVM): no VM exits to show; a machine option (--host, --pmu, --kvm, ...) selects the KVM model ---\n";
const line = (out: string, start: string): string => out.split("\n").find((l) => l.startsWith(start)) ?? "";

const RUN: Record<string, (r: CliResult) => void> = {
  "run programs/cpu/hello.s": (r) => {
    expect(r).toEqual({ status: 0, stdout: HELLO, stderr: "" });
  },
  "run --trace programs/cpu/hello.s": (r) => {
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(HELLO);
    expect(r.stderr.split("\n").filter((l) => /^0x1[0-9a-f]{5}\b/.test(l)).length).toBeGreaterThan(50);
  },
  "run --load 0x200000 --mem 64M prog.bin": (r) => {
    expect(r).toEqual({ status: 0, stdout: "loaded at 0x200000\n", stderr: "" });
  },
  "run --exits programs/cpu/hello.s": (r) => {
    expect(r).toEqual({ status: 0, stdout: HELLO + BARE_EXITS, stderr: "" });
  },
  "run --kvm v4 --perf-caps 0x2000 --host-msr 0x329=0x8899aabb11223344 programs/leak/v4-rdpmc-leak.s": (r) => {
    expect(r.status).toBe(104);
    expect(r.stdout).toContain("FAIL: perf-metrics: rdpmc 0x20000000 raises #GP\n");
    expect(r.stderr).toContain("vpmu: 1 leak between host and guest: exit status 104 (the guest's own status was 1)\n");
  },
};

const EXPLAIN: Record<string, (r: CliResult) => void> = {
  explain: (r) => {
    expect(r.status).toBe(0);
    expect(line(r.stdout, "host ")).toBe(
      "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu legacy, --kvm legacy (code state LEGACY)",
    );
    expect(line(r.stdout, "RDPMC exiting")).toBe(
      "RDPMC exiting        on   R-INT-1: enable_mediated_pmu is off (LEGACY perf-backed vPMU)",
    );
    const msrs = r.stdout.split("\n").filter((l) => /^ {2}0x[0-9a-f]+ /.test(l));
    expect(msrs.length).toBeGreaterThan(20);
    expect(msrs.filter((l) => / pass /.test(l))).toEqual([]);
  },
  "explain --host spr --kvm v4 --perf-caps 0x2000": (r) => {
    expect(r.status).toBe(0);
    expect(line(r.stdout, "host ")).toBe(
      "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu mediated, --kvm v4 (code state V4)",
    );
    expect(line(r.stdout, "vCPU mediated")).toBe(
      "vCPU mediated        on   R-MED-2: enable_mediated_pmu on and guest PMU version 2",
    );
    expect(line(r.stdout, "RDPMC exiting")).toMatch(/^RDPMC exiting {8}off {2}R-INT-5: /);
    expect(line(r.stdout, "  0x329 ")).toBe(
      "  0x329  MSR_PERF_METRICS                 exit  exit   P-4: guest PERF_CAPABILITIES bit 15 clear",
    );
  },
  "explain --kvm fix --perf-caps 0x2000": (r) => {
    expect(r.status).toBe(0);
    expect(line(r.stdout, "host ")).toBe(
      "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu mediated, --kvm fix (code state FIX)",
    );
    expect(line(r.stdout, "RDPMC exiting")).toBe(
      "RDPMC exiting        on   R-INT-4: host has PERF_METRICS, guest PERF_CAPABILITIES bit 15 clear",
    );
  },
  "explain --kvm programs/leak/metrics-aware.json": (r) => {
    expect(r.status).toBe(0);
    expect(line(r.stdout, "host ")).toBe(
      "host spr (Sapphire Rapids (Xeon Scalable 4th gen)), --pmu mediated, --kvm metrics-aware (code state V4)",
    );
    expect(line(r.stdout, "RDPMC exiting")).toMatch(/^RDPMC exiting {8}off {2}policy metrics-aware: /);
  },
};

describe.each([
  ["run", RUN],
  ["explain", EXPLAIN],
])("vpmu %s --help examples", (command, checks) => {
  it("each has a check here", () => {
    expect(examples(command)).toEqual(Object.keys(checks));
  });
  for (const [example, check] of Object.entries(checks)) {
    it(`vpmu ${example}`, () => {
      const args = example.split(" ");
      const cwd = example.includes("prog.bin") ? dir : ROOT;
      if (cwd === dir) expect(vpmu(["asm", "prog.s", "-o", "prog.bin"], { cwd }).status).toBe(0);
      check(vpmu(args, { cwd }));
    });
  }
});

/** The "$ …" lines of the top-level `vpmu --help` Examples section. */
function topExamples(): string[] {
  const help = vpmu(["--help"]).stdout;
  return help
    .slice(help.indexOf("\nExamples:\n"))
    .split("\n")
    .filter((l) => l.startsWith("  $ "))
    .map((l) => l.slice("  $ ".length).replace(/\s+#.*$/, ""));
}

// The files the top-level example `vpmu run --config vm.json prog.s` names, as a user would have them.
const configDir = mkdtempSync(join(tmpdir(), "vpmu-help-config-"));
writeFileSync(
  join(configDir, "vm.json"),
  JSON.stringify({ host: "spr", kvm: "v4", "pmu-version": 2, gp: 8, fixed: 4, "perf-caps": "0x2000", exits: true }),
);
writeFileSync(join(configDir, "prog.s"), "bits 64\norg 0x100000\nmov al, 7\nout 0xf4, al\n");

describe("vpmu --help examples", () => {
  // Those run elsewhere: `npm run demo` is `vpmu demo` (test/cli/demo.test.ts), `vpmu test` runs every
  // golden program (test/golden); the others run here as shown.
  const elsewhere = ["npm run demo", "vpmu test"];
  const checks: Record<string, (r: CliResult) => void> = {
    "vpmu run programs/cpu/hello.s": (r) => expect(r).toEqual({ status: 0, stdout: HELLO, stderr: "" }),
    "vpmu run --config vm.json prog.s": (r) => {
      expect([r.status, r.stderr]).toEqual([7, ""]);
      expect(r.stdout.split("\n")[0]).toBe("--- platform: kvm, vm exits: 1 (policy v4, mediated) ---");
    },
    "vpmu help run": (r) => expect(r).toEqual({ status: 0, stdout: vpmu(["run", "--help"]).stdout, stderr: "" }),
  };
  it("each has a check", () => {
    const all = topExamples();
    expect(all.filter((e) => !elsewhere.includes(e))).toEqual(Object.keys(checks));
    expect(all.filter((e) => elsewhere.includes(e))).toEqual(elsewhere);
  });
  for (const [example, check] of Object.entries(checks))
    it(example, () => {
      check(vpmu(example.split(" ").slice(1), { cwd: example.includes("vm.json") ? configDir : ROOT }));
    });
});
