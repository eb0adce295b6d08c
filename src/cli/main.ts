#!/usr/bin/env node
// The `vpmu` command: commander wiring only. Each subcommand lives in src/cli/commands/<name>.ts and
// exports `register(program)`; a new command adds its name to COMMAND_NAMES (argv.ts) and a row to COMMANDS.
// Errors: every failure ends in reportFailure (src/cli/errors.ts): one `vpmu: …` sentence, exit 2
// for usage errors, never a stack trace. `--config FILE` applies to whichever command runs.
import { Command } from "commander";
import { applyConfigFile } from "./config.js";
import { reportFailure, usageError } from "./errors.js";
import { addExamples } from "./help.js";
import { COMMAND_NAMES, type CommandName, invokedCommand, words } from "./argv.js";
import { watchStdio } from "./stdio.js";

/**
 * The subcommands' modules (src/cli/argv.ts lists their names). Each exports `register(program)`. They
 * are loaded on demand: a run of one command loads that command's module only (so `vpmu asm` does not
 * load the CPU, KVM and VMX models — startup is part of issue 2's "10,000 lines in under a second");
 * `--help`, `help`, an unknown command and `--config` (whose keys are checked against every command)
 * load them all.
 */
const COMMANDS: Readonly<Record<CommandName, () => Promise<{ register(program: Command): void }>>> = {
  asm: () => import("./commands/asm.js"),
  demo: () => import("./commands/demo.js"),
  disasm: () => import("./commands/disasm.js"),
  explain: () => import("./commands/explain.js"),
  run: () => import("./commands/run.js"),
  sweep: () => import("./commands/sweep.js"),
  test: () => import("./commands/test.js"),
};

// A reader that goes away (`vpmu run prog.s | head`) is not an error: stop quietly, as `cat` does,
// instead of letting Node print an unhandled EPIPE with a stack trace. Attached as each stream is first
// used (src/cli/stdio.ts): a run that prints nothing never makes them.
watchStdio((err) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

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

async function main(): Promise<void> {
  const only = invokedCommand(process.argv);
  for (const name of COMMAND_NAMES) if (only === null || only === name) (await COMMANDS[name]()).register(program);
  // `vpmu help NAME` for a NAME that is no command: say so (commander would print the main help).
  const [first, second] = words(process.argv);
  if (first === "help" && second !== undefined && !program.commands.some((c) => c.name() === second))
    throw usageError(`unknown command '${second}' (see vpmu --help)`);
  await program.parseAsync(process.argv);
}

main().catch(reportFailure);
