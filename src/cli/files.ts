// File access for the CLI (the library core never touches the file system): read and write with
// failures turned into one sentence naming the file.
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CliError, EXIT_USAGE } from "./errors.js";

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a component of the path is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ENAMETOOLONG: "the file name is too long",
  ELOOP: "too many symbolic links in the path",
  EPERM: "operation not permitted",
  EBUSY: "the file is busy",
  EFBIG: "the file is too large",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  EXDEV: "the path crosses file systems",
  EMFILE: "too many open files",
};

function reason(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code]!;
  // Node's own text repeats the path and the system call ("EXYZ: …, open 'x'"): the code alone is enough.
  if (code !== undefined) return `the system refused it (${code})`;
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

function writeError(path: string, what: string, err: unknown): CliError {
  const code = (err as { code?: string } | null)?.code;
  const dir = dirname(path);
  const why = code === "ENOENT" && !existsSync(dir) ? `directory ${dir} does not exist` : reason(err);
  return new CliError(`cannot write ${what} ${path}: ${why}`, 1);
}

/**
 * Write several outputs all or nothing: each file is written beside its target under a temporary name and
 * renamed only when every one was written, so a listing that cannot be written leaves no binary behind
 * (and an older binary untouched). `-` outputs go to stdout after the files. A failure is one sentence
 * naming the output, exit 1.
 */
export function writeOutputs(outputs: readonly { path: string; data: string | Uint8Array; what: string }[]): void {
  const staged: { tmp: string; path: string; what: string }[] = [];
  try {
    for (const o of outputs) {
      if (o.path === "-") continue;
      if (existsSync(o.path) && statSync(o.path).isDirectory()) throw writeError(o.path, o.what, { code: "EISDIR" });
      const tmp = `${o.path}.vpmu-${process.pid}.tmp`;
      try {
        writeFileSync(tmp, o.data);
      } catch (err) {
        throw writeError(o.path, o.what, err);
      }
      staged.push({ tmp, path: o.path, what: o.what });
    }
    for (const s of staged) {
      try {
        renameSync(s.tmp, s.path);
      } catch (err) {
        throw writeError(s.path, s.what, err);
      }
    }
  } finally {
    for (const s of staged) rmSync(s.tmp, { force: true });
  }
  for (const o of outputs) if (o.path === "-") process.stdout.write(o.data);
}

export function writeText(path: string, text: string, what = "file", encoding: BufferEncoding = "utf8"): void {
  try {
    writeFileSync(path, text, encoding);
  } catch (err) {
    throw new CliError(`cannot write ${what} ${path}: ${reason(err)}`, 1);
  }
}
