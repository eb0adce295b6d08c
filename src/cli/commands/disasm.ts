// `vpmu disasm prog.bin`: NASM source that re-assembles to the same bytes, one instruction a line, with
// each line's address and bytes as a comment.
import type { Command } from "commander";
import { disassemble } from "../../index.js";
import { usageError } from "../errors.js";
import { readBytes } from "../files.js";
import { addExamples } from "../help.js";

export function register(program: Command): void {
  const cmd = program
    .command("disasm")
    .description("disassemble a flat binary into NASM syntax that re-assembles to the same bytes")
    .argument("<file>", "flat binary image")
    .option("--org <addr>", "address of the first byte", "0x100000")
    .action((file: string, o: { org: string }) => {
      const t = o.org.trim();
      const org = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isSafeInteger(org)) throw usageError(`--org ${o.org}: expected an address such as 0x100000`);
      const bytes = readBytes(file, "image");
      let out = `bits 64\norg 0x${org.toString(16)}\n`;
      for (const l of disassemble(bytes, org)) {
        const hex = Array.from(l.bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
        out += `    ${l.text.padEnd(40)} ; 0x${l.addr.toString(16)}: ${hex}${l.ok ? "" : " (not an instruction)"}\n`;
      }
      process.stdout.write(out);
    });
  addExamples(cmd, [["vpmu disasm prog.bin > prog.s && nasm -f bin prog.s", "the listing re-assembles to the same bytes"]]);
}
