// Cross-check of 16- and 32-bit code (`bits 16` / `bits 32`, issue 12 item 3): every generated form is
// assembled by vpmu and by nasm and must be byte-identical (nasm's rejections rejected too); and nasm's
// bytes, decoded in that mode and disassembled, re-assemble to the same bytes.
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../../src/asm/assemble.js";
import { decode, DecodeFail } from "../../src/isa/decode.js";
import { formatInsn } from "../../src/isa/disasm.js";
import { generateModeCorpus } from "./corpus-modes.js";
import { nasmAvailable, nasmBatch } from "./nasm-batch.js";

const hex = (b: ArrayLike<number>): string =>
  Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, "0")).join("");
const bytesOf = (h: string): Uint8Array => new Uint8Array((h.match(/../g) ?? []).map((x) => parseInt(x, 16)));

describe.each([32, 16] as const)("bits %i: nasm cross-check", (bits) => {
  it("every generated form is byte-identical to nasm -f bin, and decodes and disassembles back to it", () => {
    if (!nasmAvailable()) throw new Error("nasm is not on PATH: install it (apt-get install nasm, or .ci/run)");
    const forms = [...new Set(generateModeCorpus(bits))];
    const dir = mkdtempSync(join(tmpdir(), "vpmu-modes-"));
    try {
      const nasm = nasmBatch(forms, dir, bits);
      const problems: string[] = [];
      let identical = 0,
        bothRejected = 0;
      const texts: string[] = [];
      const expectHex: string[] = [];
      forms.forEach((form, i) => {
        const n = nasm[i];
        const r = assemble(`bits ${bits}\n${form}\n`, { file: "form.s" });
        if (n.rejected) {
          if (r.ok) problems.push(`${form}: nasm rejects it, vpmu assembled ${hex(r.value.bytes)}`);
          else bothRejected++;
          return;
        }
        if (!r.ok) {
          if (!n.warned) problems.push(`${form}: nasm gives ${n.hex}, vpmu rejects: ${r.error[0].message}`);
          return;
        }
        const mine = hex(r.value.bytes);
        if (mine !== n.hex) problems.push(`${form}: nasm ${n.hex}, vpmu ${mine}`);
        else identical++;
        expectHex.push(n.hex);
      });
      // Decode nasm's bytes in this mode at the address each will have in one batch: one instruction of
      // exactly that length, whose disassembly nasm assembles back to the same bytes.
      let at = 0;
      for (const h of [...expectHex]) {
        const b = bytesOf(h);
        const ins = decode(b, 0, at, bits);
        if (ins.fail !== DecodeFail.None || ins.len !== b.length) {
          problems.push(`${h} decodes to ${ins.len} bytes (fail ${ins.fail})`);
          texts.push("nop");
        } else {
          // nasm's listing shows an absolute branch target, not its bytes: write it `$`-relative.
          const t = formatInsn(ins);
          const d = ins.target - at;
          texts.push(ins.relBytes ? t.replace(/-?0x[0-9a-f]+$/, `$${d < 0 ? "-" : "+"}${Math.abs(d)}`) : t);
        }
        at += b.length;
      }
      const back = nasmBatch(texts, dir, bits);
      texts.forEach((t, i) => {
        if (back[i].rejected || back[i].hex !== expectHex[i])
          problems.push(`disasm '${t}' of ${expectHex[i]}: nasm gives ${back[i].rejected ? "an error" : back[i].hex}`);
      });
      expect(problems).toEqual([]);
      expect(identical).toBeGreaterThan(1000);
      expect(bothRejected).toBeGreaterThanOrEqual(8);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
});
