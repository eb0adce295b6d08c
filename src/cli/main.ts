#!/usr/bin/env node
// The `vpmu` command: commander wiring only. Each subcommand lives in src/cli/commands/<name>.ts and
// exports `register(program)`; add one import and one call below for a new command.
import { Command } from "commander";

const program = new Command();
program
  .name("vpmu")
  .description("vpmu-lab: assemble x86-64 guests and run them on a deterministic model of KVM's Intel vPMU")
  .version("0.1.0");

// Subcommands register here (keep the list sorted):

await program.parseAsync(process.argv);
