// File access for the CLI (the library core never touches the file system): read and write with
// failures turned into one sentence naming the file.
import { readFileSync, writeFileSync } from "node:fs";
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

export function writeText(path: string, text: string, what = "file", encoding: BufferEncoding = "utf8"): void {
  try {
    writeFileSync(path, text, encoding);
  } catch (err) {
    throw new CliError(`cannot write ${what} ${path}: ${reason(err)}`, 1);
  }
}
