// `vpmu asm prog.s -o prog.bin [--listing FILE|-] [--symbols FILE|-]`: assemble with the library's
// assembler (includes resolved relative to the including file) and write the outputs.
import type { Command } from "commander";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
// The assembler's entry point only: `vpmu asm` must not pay for loading the CPU,
// KVM and VMX models at startup (issue 2: 10,000 lines in under a second, startup included).
import { assemble, formatDiagnostic, formatListing, symbolMap } from "../../asm/index.js";
import { CliError, usageError } from "../errors.js";
import { readText, writeOutputs } from "../files.js";
import { addExamples } from "../help.js";

interface AsmOptions {
  output?: string;
  listing?: string;
  symbols?: string;
  include?: string[];
}

/** The same file, as far as the path tells (a symlink or hard link to the source counts too). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  const cmd = program
    .command("asm")
    .description("assemble NASM-syntax x86-64 source into a flat binary (byte-identical to nasm -f bin)")
    .argument("<file>", "source file (.s / .asm)")
    .option("-o, --output <file>", "flat binary to write (default: the source name with .bin)")
    .option("-l, --listing <file>", "write a listing (address, bytes, source line); '-' for stdout")
    .option("--symbols <file>", "write the symbol map as JSON; '-' for stdout")
    .option("-I, --include <dir...>", "extra directories searched by %include (after the including file's own)")
    .action((file: string, o: AsmOptions) => {
      const text = readText(file, "source file");
      const dirs = (o.include ?? []).map((d) => resolve(d));
      const inputs = [file];
      const res = assemble(text, {
        file,
        include: (name, from) => {
          for (const dir of [dirname(from), ...dirs]) {
            const p = resolve(dir, name);
            if (existsSync(p)) {
              try {
                const included = { file: p, text: readFileSync(p, "utf8") };
                inputs.push(p);
                return included;
              } catch {
                return null;
              }
            }
          }
          return null;
        },
      });
      if (!res.ok) {
        for (const d of res.error) process.stderr.write(formatDiagnostic(d) + "\n");
        const n = res.error.length;
        throw new CliError(`${file}: ${n} error${n === 1 ? "" : "s"}, nothing written`, 1);
      }
      const r = res.value;
      for (const w of r.warnings) process.stderr.write(formatDiagnostic(w) + "\n");
      const out = o.output ?? file.replace(/\.(s|asm|nasm)$/i, "") + ".bin";
      const outputs: [string, string, string][] = [
        [o.output === undefined ? "the default output" : "-o", out, "output"],
        ...(o.listing !== undefined ? [["--listing", o.listing, "listing"] as [string, string, string]] : []),
        ...(o.symbols !== undefined ? [["--symbols", o.symbols, "symbol map"] as [string, string, string]] : []),
      ];
      // Checked before anything is written: no output may replace an input.
      for (const [option, path] of outputs) {
        const input = path === "-" ? undefined : inputs.find((i) => sameFile(path, i));
        if (input !== undefined) {
          const role = input === file ? "the source" : "a file the source includes";
          const hint = o.output === undefined && path === out ? "give -o" : "give another path";
          throw usageError(`refusing to overwrite ${role} ${path} with ${option}: ${hint}`);
        }
      }
      // All or nothing: a listing or symbol map that cannot be written leaves no binary behind.
      writeOutputs([
        { path: out, data: r.bytes, what: "output" },
        ...(o.listing !== undefined ? [{ path: o.listing, data: formatListing(r, file), what: "listing" }] : []),
        ...(o.symbols !== undefined
          ? [{ path: o.symbols, data: JSON.stringify(symbolMap(r), null, 2) + "\n", what: "symbol map" }]
          : []),
      ]);
    });
  addExamples(cmd, [
    ["vpmu asm prog.s -o prog.bin", "assemble; the bytes equal `nasm -f bin prog.s`"],
    [
      "vpmu asm prog.s -o prog.bin --listing - --symbols prog.sym.json",
      "also print a listing and write the symbol map",
    ],
  ]);
}
