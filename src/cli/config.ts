// `--config vm.json`: a JSON object whose keys are the long option names of the command being run
// (`"host": "spr"`, `"gp": 8`, `"host-msr": ["0x329=0x8899aabb11223344"]`, `"exits": true`; camelCase
// also accepted). Values go through the same parsers as the command line, and the command line wins.
import type { Command, Option } from "commander";
import { usageError } from "./errors.js";
import { readText } from "./files.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function findOption(cmd: Command, key: string): { option: Option; negated: boolean } | null {
  for (const option of cmd.options) {
    const long = option.long?.replace(/^--/, "");
    if (long === key || option.attributeName() === key || option.attributeName() === camel(key)) {
      // `"no-pdcm": true` names the negation itself; `"pdcm": false` names the attribute.
      return { option, negated: option.negate && long === key };
    }
  }
  return null;
}

function scalarText(v: Json): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

/**
 * Apply the config file at `path` to `cmd`'s options that were not given on the command line.
 * A key that is not an option of `cmd` but is one of another command in `siblings` is skipped, so one
 * vm.json serves `vpmu run` and `vpmu explain` alike; any other key is an error (a typo).
 * Throws a usage CliError naming the file and the key for anything it cannot use.
 */
export function applyConfigFile(cmd: Command, path: string, siblings: readonly Command[] = []): void {
  const text = readText(path, "config file");
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw usageError(`config file ${path} is not valid JSON: ${why}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw usageError(`config file ${path} must hold a JSON object of option names and values`);
  }
  const where = `config file ${path}`;
  for (const [key, value] of Object.entries(data)) {
    const found = key === "config" ? null : findOption(cmd, key);
    if (found === null) {
      if (key !== "config" && siblings.some((c) => c !== cmd && findOption(c, key) !== null)) continue;
      throw usageError(`${where}: '${key}' is not an option of vpmu ${cmd.name()} (see vpmu ${cmd.name()} --help)`);
    }
    const { option, negated } = found;
    const attr = option.attributeName();
    const source = cmd.getOptionValueSource(attr);
    if (source === "cli" || source === "env") continue; // the command line wins
    if (option.isBoolean() || option.negate) {
      if (typeof value !== "boolean") throw usageError(`${where}: '${key}' must be true or false`);
      cmd.setOptionValueWithSource(attr, negated ? !value : value, "config");
      continue;
    }
    const items: Json[] = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !option.variadic && !option.parseArg) {
      throw usageError(`${where}: '${key}' takes one value, not a list`);
    }
    let current: unknown = option.variadic || Array.isArray(value) ? cmd.getOptionValue(attr) : undefined;
    if (source === "default" && Array.isArray(current)) current = undefined;
    for (const item of items) {
      const t = scalarText(item);
      if (t === null) throw usageError(`${where}: '${key}' must be a string or a number`);
      if (option.parseArg) {
        try {
          current = option.parseArg(t, current as never);
        } catch (err) {
          const why = err instanceof Error ? err.message.replace(/^error:\s*/, "") : String(err);
          throw usageError(`${where}: '${key}': ${why}`);
        }
      } else if (option.variadic) {
        current = [...((current as string[] | undefined) ?? []), t];
      } else {
        current = t;
      }
    }
    cmd.setOptionValueWithSource(attr, current, "config");
  }
}
