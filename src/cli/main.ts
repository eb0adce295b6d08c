#!/usr/bin/env node
// The `vpmu` command: commander wiring only. Each subcommand lives in src/cli/commands/<name>.ts and
// exports `register(program)`; add one import and one call below for a new command.
// Errors: every failure ends in reportFailure (src/cli/errors.ts): one `vpmu: …` sentence, exit 2
// for usage errors, never a stack trace. `--config FILE` applies to whichever command runs.
import { Command } from "commander";
import { applyConfigFile } from "./config.js";
import { reportFailure } from "./errors.js";
import { addExamples } from "./help.js";
import { register as registerAsm } from "./commands/asm.js";
import { register as registerDemo } from "./commands/demo.js";
import { register as registerDisasm } from "./commands/disasm.js";
import { register as registerExplain } from "./commands/explain.js";
import { register as registerRun } from "./commands/run.js";
import { register as registerSweep } from "./commands/sweep.js";
import { register as registerTest } from "./commands/test.js";

// A reader that goes away (`vpmu run prog.s | head`) is not an error: stop quietly, as `cat` does,
// instead of letting Node print an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const program = new Command();
program
  .name("vpmu")
  .description("vpmu-lab: assemble x86-64 guests and run them on a deterministic model of KVM's Intel vPMU")
  .version("0.1.0")
  .option("--config <file>", "read options from a JSON file (keys are the long option names; the command line wins)")
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .showSuggestionAfterError(true)
  .hook("preAction", (root, action) => {
    const config = root.opts().config as string | undefined;
    if (config !== undefined && action !== root) applyConfigFile(action, config, root.commands);
  });
addExamples(program, [
  ["npm run demo", "the flagship demo: the PERF_METRICS leak under --kvm v4, closed under --kvm fix"],
  ["vpmu run programs/cpu/hello.s", "assemble and run a guest; its console is stdout, its status the exit status"],
  ["vpmu test", "run every golden program under programs/"],
  ["vpmu run --config vm.json prog.s", "take long option sets from a JSON file"],
  ["vpmu help run", "the options of one command"],
]);

// Subcommands register here (keep the list sorted):
registerAsm(program);
registerDemo(program);
registerDisasm(program);
registerExplain(program);
registerRun(program);
registerSweep(program);
registerTest(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  reportFailure(err);
}
