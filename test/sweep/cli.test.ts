// `vpmu sweep` through the built CLI (dist/, built by `npm test` before vitest): worker threads, output,
// exit statuses and usage errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}dist/cli/main.js`;

function vpmu(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, "sweep", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// spr, mediated, V4 and FIX, guest version 2 with 4 fixed counters, TopdownL1 on the host: 48 configurations.
const SLICE = [
  "--hosts",
  "spr",
  "--pmu",
  "mediated",
  "--kvm",
  "v4,fix",
  "--versions",
  "2",
  "--fixed",
  "4",
  "--activity",
  "topdown",
];

// Each test spawns the CLI several times; on a loaded machine that takes minutes, not seconds.
describe("vpmu sweep", { timeout: 300_000 }, () => {
  it("runs on worker threads, reports the V4 leak region and exits 1; the output does not depend on threads", () => {
    const par = vpmu([...SLICE, "--jobs", "2"]);
    expect(par.stderr).toBe("");
    expect(par.status).toBe(1);
    const lines = par.stdout.split("\n");
    expect(lines[0]).toBe("vpmu sweep: 48 configurations, 96 runs (programs: probe:read, probe:write; shard 1/1)");
    expect(lines[1]).toBe("  ran 96, rejected by KVM 0, did not complete 0");
    expect(lines).toContain("LEAK host→guest MSR_PERF_METRICS (0x329) via RDPMC: 2 configurations, 4 runs");
    expect(lines).toContain("  when v4, guest lacks PERF_METRICS, counts and widths equal (2)");
    expect(lines).toContain("LEAK guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) via WRMSR: 8 configurations, 8 runs");
    const one = vpmu([...SLICE, "--jobs", "1"]);
    expect(one.stdout).toBe(par.stdout);
  });

  it("--json carries the same findings; --shard runs its share", () => {
    const j = vpmu([...SLICE, "--json", "--shard", "2/3"]);
    expect(j.status).toBe(1);
    const doc = JSON.parse(j.stdout) as {
      shard: string;
      runs: number;
      leaks: { signature: string; example: { explain: string } }[];
    };
    expect([doc.shard, doc.runs]).toEqual(["2/3", 32]);
    expect(doc.leaks.map((l) => l.signature).sort()).toEqual([
      "guest→host MSR_CORE_PERF_GLOBAL_CTRL (0x38f) via WRMSR",
      "host→guest MSR_PERF_METRICS (0x329) via RDPMC",
    ]);
    // --merge: the shards' reports together are the whole sweep's.
    const dir = mkdtempSync(join(tmpdir(), "vpmu-sweep-merge-"));
    const files = [1, 2, 3].map((i) => {
      const f = join(dir, `part${i}.json`);
      writeFileSync(f, i === 2 ? j.stdout : vpmu([...SLICE, "--json", "--shard", `${i}/3`]).stdout);
      return f;
    });
    const merged = vpmu(["--merge", ...files]);
    const whole = vpmu(SLICE);
    expect(merged.status).toBe(1);
    expect(merged.stdout.split("\n")[0]).toBe(
      "vpmu sweep: 48 configurations, 96 runs (programs: probe:read, probe:write; shard merged 1/3 + 2/3 + 3/3)",
    );
    expect(merged.stdout.split("\n").slice(1)).toEqual(whole.stdout.split("\n").slice(1));
  });

  it("finds nothing under FIX (exit 0)", () => {
    const r = vpmu([
      "--hosts",
      "spr",
      "--pmu",
      "mediated",
      "--kvm",
      "fix",
      "--versions",
      "2",
      "--fixed",
      "4",
      "--activity",
      "topdown,counting",
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").slice(0, 4)).toEqual([
      "vpmu sweep: 48 configurations, 96 runs (programs: probe:read, probe:write; shard 1/1)",
      "  ran 96, rejected by KVM 0, did not complete 0",
      "",
      "no leaks: no host-owned value reached a guest and no guest write reached hardware KVM reserves, in 96 runs that completed",
    ]);
  });

  it("a policy file that passes RDPMC through leaks host counters, with the rule named; user programs run too", () => {
    const r = vpmu([
      "--hosts",
      "spr",
      "--pmu",
      "mediated",
      "--kvm",
      "test/sweep/fixtures/rdpmc-always.json",
      "--versions",
      "2",
      "--gp",
      "host-1",
      "--gp-width",
      "host",
      "--fixed",
      "3",
      "--fixed-width",
      "host",
      "--caps",
      "fw",
      "--activity",
      "counting",
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      "LEAK host→guest MSR_IA32_PERFCTR7 (0xc8) via RDPMC: 1 configurations, 2 runs\n  in every configuration of the sweep (1)\n",
    );
    expect(r.stdout).toContain(
      "  let through by: RDPMC exiting (primary processor-based VM-execution controls, bit 11) clear: policy rdpmc-always (a policy file, not a kernel decision) — RDPMC passes when []: all hold\n",
    );
    expect(r.stdout).toContain(
      "  see: vpmu explain --host spr --pmu mediated --kvm test/sweep/fixtures/rdpmc-always.json --pmu-version 2 --gp 7 --gp-width 48 --fixed 3 --fixed-width 48 --perf-caps 0x2000 --host-activity counting\n",
    );
    const u = vpmu([
      "--no-probes",
      "test/sweep/fixtures/read-metrics.s",
      "--hosts",
      "spr",
      "--pmu",
      "mediated",
      "--kvm",
      "v4",
      "--versions",
      "2",
      "--gp",
      "host",
      "--gp-width",
      "host",
      "--fixed",
      "4",
      "--fixed-width",
      "host",
      "--caps",
      "fw",
      "--activity",
      "topdown",
    ]);
    expect(u.status).toBe(1);
    expect(u.stdout).toContain(
      "  e.g. spr mediated v4 | v2 gp 8×48 fx 4×48 caps 0x2000 | topdown — test/sweep/fixtures/read-metrics.s: RDPMC ecx=0x20000000 at rip 0x100005 = 0x7f301040, owned by host (host activity topdown)\n",
    );
  });

  it("a program that faults or reaches its instruction limit did not complete, per configuration; exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpmu-sweep-user-"));
    const src = (name: string, body: string) => {
      writeFileSync(join(dir, name), `bits 64\norg 0x100000\n${body}\n`);
      return join(dir, name);
    };
    const ud = src("ud.s", "ud2");
    const loop = src("loop.s", "l: jmp l");
    const ok = src("ok.s", "mov al, 3\nout 0xf4, al");
    const r = vpmu([
      "--no-probes",
      ud,
      loop,
      ok,
      "--max-insns",
      "5000",
      ...["--hosts", "spr", "--pmu", "mediated", "--kvm", "v4,fix", "--versions", "2", "--gp", "host"],
      ...["--gp-width", "host", "--fixed", "4", "--fixed-width", "host", "--caps", "fw", "--activity", "idle"],
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    const label = (kvm: string) => `spr mediated ${kvm} | v2 gp 8×48 fx 4×48 caps 0x2000 | idle`;
    expect(r.stdout).toBe(
      [
        `vpmu sweep: 2 configurations, 6 runs (programs: ${ud}, ${loop}, ${ok}; shard 1/1)`,
        "  ran 2, rejected by KVM 0, did not complete 4",
        "  your programs stop after 5,000 instructions (--max-insns); one that reaches the limit, faults or does not exit did not complete",
        "",
        "no leaks: no host-owned value reached a guest and no guest write reached hardware KVM reserves, in 2 runs that completed; 4 runs did not complete (below): only what they ran before they stopped was checked",
        "",
        "did not complete (4 runs):",
        ...["v4", "fix"].flatMap((kvm) => [
          `  ${label(kvm)} — ${ud}: triple fault at rip=0x100000: #UD at rip=0x100000 (bytes 0f 0b: ud2), then #GP(0x33) at rip=0x100000, then #DF(0x0) at rip=0x100000, then #GP(0x43) at rip=0x100000`,
          `  ${label(kvm)} — ${loop}: instruction limit of 5000 reached at rip=0x100000`,
        ]),
        "",
      ].join("\n"),
    );
    const j = JSON.parse(
      vpmu(["--json", "--no-probes", ok, "--hosts", "spr", "--kvm", "fix", "--versions", "2"]).stdout,
    );
    expect([j.maxInsns, j.failed]).toEqual([10_000_000, 0]);
  });

  it("usage errors are one sentence and exit 2", () => {
    const cases: [string[], string][] = [
      [["--shard", "5/4"], "vpmu: option --shard '5/4': the shard number must be between 1 and 4\n"],
      [
        ["--hosts", "xyz"],
        'vpmu: option --hosts[0]: unknown host preset "xyz" (expected one of: skx, icx, spr, gnr)\n',
      ],
      [["--gp-width", "wide"], 'vpmu: option --gp-width[0]: expected a number 0..255, "host" or "host-N"\n'],
      [["--kvm", "nope.json"], `vpmu: cannot read policy file ${ROOT}nope.json: no such file\n`],
      [["--fuzz", "x.s"], "vpmu: --fuzz generates its own programs: give no program files with it\n"],
      [["--no-probes"], "vpmu: --no-probes needs at least one program file\n"],
      [["--matrix", "missing.json"], "vpmu: cannot read matrix file missing.json: no such file\n"],
      // Values and combinations that would mean nothing (issue 15 item 4).
      [["--gp", "host-99"], "vpmu: option --gp: host-99 would give -95 GP counters on host skx (it has 4)\n"],
      [
        ["--hosts", "spr", "--fixed-width", "host-48"],
        "vpmu: option --fixed-width: host-48 would give 0 bits per fixed counter on host spr (it has 48; a counter has at least 1 bit)\n",
      ],
      [["--runs", "5"], "vpmu: --runs applies only with --fuzz\n"],
      [["--seed", "2", "--fuzz-programs", "3"], "vpmu: --seed, --fuzz-programs apply only with --fuzz\n"],
      [
        ["--fuzz", "--no-probes"],
        "vpmu: --fuzz runs random probes instead of the built-in ones, so --no-probes has nothing to turn off\n",
      ],
      [
        ["--max-insns", "1000"],
        "vpmu: --max-insns limits your program files, and none were given (the built-in probes stop at 1,000,000 instructions)\n",
      ],
      [
        ["--merge", "a.json", "--hosts", "spr", "--jobs", "2"],
        "vpmu: --merge re-reads finished reports and runs nothing, so --hosts, --jobs would be ignored: give them to the sweeps that made the reports\n",
      ],
      [
        ["--pmu", "legacy", "--kvm", "v4,fix"],
        "vpmu: --pmu legacy runs the perf-backed kernel, and --kvm v4,fix names only kernels with the mediated vPMU: add legacy to --kvm or use --pmu mediated\n",
      ],
    ];
    for (const [args, err] of cases) {
      const r = vpmu(args);
      expect({ args, status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({
        args,
        status: 2,
        stderr: err,
        stdout: "",
      });
    }
  });
});
