// `vpmu explain [machine options]`: every PMU MSR intercepted or passed through and why, RDPMC exiting and
// why, the VMX controls and KVM's reserved-bit masks, for one configuration. Library: explainMachine.
import type { Command } from "commander";
import { createMachine } from "../../machine/index.js";
import { explainMachine, formatExplain } from "../../report/index.js";
import { usageError } from "../errors.js";
import { addExamples } from "../help.js";
import { addMachineOptions, machineOptions } from "../machine-options.js";

export function register(program: Command): void {
  const cmd = program
    .command("explain")
    .description("why each PMU MSR access and RDPMC exits or passes through, for one configuration");
  addMachineOptions(cmd).option("--json", "print the report as JSON");
  addExamples(cmd, [
    ["vpmu explain", "no options: the LEGACY perf-backed vPMU, every PMU MSR and RDPMC exits (R-INT-1)"],
    [
      "vpmu explain --host spr --kvm v4 --perf-caps 0x2000",
      "the §14.4 guest under V4 (--kvm implies --pmu mediated): RDPMC native, 0x329 intercepted",
    ],
    ["vpmu explain --kvm fix --perf-caps 0x2000", "the same guest under the fix: RDPMC exits (R-INT-4)"],
    ["vpmu explain --kvm programs/leak/metrics-aware.json", "an intercept policy file (docs/vmx.md) and its rules"],
  ]);
  cmd.action(async (opts: Record<string, unknown>) => {
    const m = createMachine(await machineOptions(opts));
    if (!m.ok) throw usageError(m.error);
    const r = explainMachine(m.value);
    process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + "\n" : formatExplain(r));
  });
}
