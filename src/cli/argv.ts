// The command line before commander sees it: which command it names. Shared by main.ts (which loads only
// that command's module) and launch.ts (which picks the code cache recorded for that command).

/** The subcommands, sorted (main.ts maps each to its module). */
export const COMMAND_NAMES = ["asm", "demo", "disasm", "explain", "run", "sweep", "test"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const isConfig = (a: string) => a === "--config" || a.startsWith("--config=");

/** The words of a command line that are not options: `vpmu --config f.json help run` → help, run (the
 *  root's one option with a value, --config FILE, is skipped with its value wherever it stands). */
export function words(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--config") i++;
    else if (!a.startsWith("-")) out.push(a);
  }
  return out;
}

/** The command a command line names, or null when every command is needed: `--help`, `help`, an unknown
 *  command, and a config file anywhere on the line (`vpmu --config f.json run` or `vpmu run --config
 *  f.json`), whose keys are checked against every command (src/cli/config.ts). */
export function invokedCommand(argv: readonly string[]): CommandName | null {
  if (argv.slice(2).some(isConfig)) return null;
  const first = words(argv)[0];
  return COMMAND_NAMES.find((name) => name === first) ?? null;
}
