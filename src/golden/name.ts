// The name a golden program is reported under: its path below the nearest `programs/` directory
// without the extension (`programs/pmu/overflow.s` → `pmu/overflow`), else the path as given.

/** NASM sources, C guests (`vpmu run` builds them: docs/c-guests.md), and prebuilt kernels (`.elf`: booted
 *  as docs/loading.md says, with no options). */
export const PROGRAM_EXTENSIONS: readonly string[] = [".s", ".asm", ".nasm", ".c", ".elf"];

export function programName(path: string): string {
  const norm = path.replace(/\\/g, "/").replace(/^\.\//, "");
  const segs = norm.split("/");
  const at = segs.lastIndexOf("programs");
  const rest = at >= 0 && at < segs.length - 1 ? segs.slice(at + 1).join("/") : norm;
  const ext = PROGRAM_EXTENSIONS.find((e) => rest.endsWith(e));
  return ext ? rest.slice(0, -ext.length) : rest;
}

/** Whether a file name is a guest program the runner should pick up (includes are `.inc`; the sources
 *  of prebuilt images live in `src/` directories, which the runner skips like `lib/`). */
export function isProgramFile(fileName: string): boolean {
  return PROGRAM_EXTENSIONS.some((e) => fileName.endsWith(e));
}
