// `vpmu asm` end to end through the built CLI (dist/; `npm test` builds first): outputs, listing,
// symbol map, includes, errors and exit statuses.
import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vpmu } from "../cli/run-cli.js";

describe("vpmu asm", () => {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-asm-cli-"));
  mkdirSync(join(dir, "inc"));
  writeFileSync(join(dir, "inc", "defs.inc"), "PORT equ 0xE9\n%macro say 1\n  mov al, %1\n  out PORT, al\n%endmacro\n");
  writeFileSync(
    join(dir, "prog.s"),
    "bits 64\norg 0x100000\n%include \"defs.inc\"\nstart: say 'A'\n.l: jmp .l\ndata: dq start\n",
  );

  it("writes the binary, the listing and the symbol map", () => {
    const r = vpmu(["asm", "prog.s", "-o", "out.bin", "-I", "inc", "--listing", "-", "--symbols", "prog.json"], {
      cwd: dir,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(Array.from(readFileSync(join(dir, "out.bin")))).toEqual([
      0xb0, 0x41, 0xe6, 0xe9, 0xeb, 0xfe, 0, 0, 0x10, 0, 0, 0, 0, 0,
    ]);
    expect(r.stdout).toBe(
      [
        "     1 00100000                    bits 64",
        "     2 00100000                    org 0x100000",
        "     4 00100000                    start: say 'A'",
        "     4 00100000 B041                 mov al, 'A'",
        "     4 00100002 E6E9                 out PORT, al",
        "     5 00100004 EBFE               .l: jmp .l",
        "     6 00100006 0000100000000000   data: dq start",
        "",
      ].join("\n"),
    );
    const map = JSON.parse(readFileSync(join(dir, "prog.json"), "utf8"));
    expect(map.origin).toBe(0x100000);
    expect(map.size).toBe(14);
    expect(map.symbols.map((s: { name: string; value: string }) => `${s.name}=${s.value}`)).toEqual([
      "PORT=0xe9",
      "start=0x100000",
      "start.l=0x100004",
      "data=0x100006",
    ]);
  });

  it("defaults the output name to the source with .bin", () => {
    const r = vpmu(["asm", "prog.s", "-I", "inc"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "prog.bin"))).toBe(true);
  });

  it("reports every error with a caret, writes nothing and exits 1", () => {
    writeFileSync(join(dir, "bad.s"), "bits 64\nmov eax, bl\npush eax\n");
    const r = vpmu(["asm", "bad.s", "-o", "bad.bin"], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "bad.s:2:10: error: operand size mismatch: 'eax' is 32-bit, 'bl' is 8-bit\n    mov eax, bl\n             ^~\n" +
        "bad.s:3:6: error: invalid combination of opcode and operands\n    push eax\n         ^~~\n" +
        "vpmu: bad.s: 2 errors, nothing written\n",
    );
    expect(existsSync(join(dir, "bad.bin"))).toBe(false);
  });

  it("a missing include is an error of the source; a missing source is a usage error (exit 2)", () => {
    const inc = vpmu(["asm", "prog.s", "-o", "x.bin"], { cwd: dir });
    expect(inc.status).toBe(1);
    expect(inc.stderr).toContain("prog.s:3:10: error: include file 'defs.inc' not found");
    const missing = vpmu(["asm", "nope.s"], { cwd: dir });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe("vpmu: cannot read source file nope.s: no such file\n");
  });
});
