// `vpmu disasm prog.bin`: NASM source that re-assembles to the same bytes, one instruction a line, with
// each line's address and bytes as a comment; an encoding NASM would not reproduce is kept as `db` and
// the comment names the instruction (src/asm/checked-disasm.ts).
import type { Command } from "commander";
import { disassembleChecked, listingHeader } from "../../asm/index.js";
import { usageError } from "../errors.js";
import { readBytes } from "../files.js";
import { addExamples } from "../help.js";
import { parseAddress } from "../options.js";

export function register(program: Command): void {
  const cmd = program
    .command("disasm")
    .description("disassemble a flat binary into NASM syntax that re-assembles to the same bytes")
    .argument("<file>", "flat binary image")
    .option("--load <addr>", "address the image is loaded at, as for vpmu run (default 0x100000)")
    .option("--org <addr>", "the same as --load (the `org` line the listing starts with)")
    .option("--bits <n>", "code size: 64 (default), 32 or 16 (protected-mode or real-mode code; `bits N` line)")
    .action((file: string, o: { load?: string; org?: string; bits?: string }) => {
      const bits = o.bits === undefined ? 64 : o.bits === "64" ? 64 : o.bits === "32" ? 32 : o.bits === "16" ? 16 : 0;
      if (bits === 0) throw usageError(`--bits ${o.bits}: the code size is 16, 32 or 64`);
      const parse = parseAddress;
      const load = o.load !== undefined ? parse("--load", o.load) : undefined;
      const orgOpt = o.org !== undefined ? parse("--org", o.org) : undefined;
      if (load !== undefined && orgOpt !== undefined && load !== orgOpt)
        throw usageError(`--load ${o.load} and --org ${o.org} name different addresses: give one`);
      const org = load ?? orgOpt ?? 0x100000;
      const bytes = readBytes(file, "image");
      let out = listingHeader(org, bits);
      for (const l of disassembleChecked(bytes, org, bits)) {
        const hex = Array.from(l.bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
        const note =
          l.form === "bytes"
            ? " (not an instruction)"
            : l.form === "fallback"
              ? ` (${l.insn}: nasm ${l.nasm ? "encodes it " + Array.from(l.nasm, (b) => b.toString(16).padStart(2, "0")).join(" ") : "rejects the text"})`
              : "";
        out += `    ${l.text.padEnd(40)} ; 0x${l.addr.toString(16)}: ${hex}${note}\n`;
      }
      process.stdout.write(out);
    });
  addExamples(cmd, [
    ["vpmu disasm prog.bin > prog.s && nasm -f bin prog.s", "the listing re-assembles to the same bytes"],
    ["vpmu disasm --load 0x200000 prog.bin", "an image loaded elsewhere (vpmu run --load 0x200000 prog.bin)"],
    ["vpmu disasm --bits 32 boot.bin", "32-bit protected-mode code"],
  ]);
}
