// File access for the CLI (the library core never touches the file system): read and write with
// failures turned into one sentence naming the file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CliError, EXIT_USAGE } from "./errors.js";

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a component of the path is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

function reason(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code]!;
  return err instanceof Error ? err.message : String(err);
}

/** Read a UTF-8 text file; `what` names its role in the sentence (e.g. "config file"). */
export function readText(path: string, what = "file", encoding: BufferEncoding = "utf8"): string {
  try {
    return readFileSync(path, encoding);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${reason(err)}`, EXIT_USAGE);
  }
}

export function readBytes(path: string, what = "file"): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${reason(err)}`, EXIT_USAGE);
  }
}

/** Write an output file (`-` is stdout); a failure is one sentence naming the file, exit 1. */
export function writeOutput(path: string, data: string | Uint8Array, what = "file"): void {
  if (path === "-") {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileSync(path, data);
  } catch (err) {
    const code = (err as { code?: string } | null)?.code;
    const dir = dirname(path);
    const why = code === "ENOENT" && !existsSync(dir) ? `directory ${dir} does not exist` : reason(err);
    throw new CliError(`cannot write ${what} ${path}: ${why}`, 1);
  }
}

export function writeText(path: string, text: string, what = "file", encoding: BufferEncoding = "utf8"): void {
  try {
    writeFileSync(path, text, encoding);
  } catch (err) {
    throw new CliError(`cannot write ${what} ${path}: ${reason(err)}`, 1);
  }
}
