// `vpmu run --trace` lines (library Tracer): address, symbol+offset, bytes, disassembly, registers changed,
// and a line of its own for each exception delivery.
import { expect, test } from "vitest";
import { Guest } from "../../src/vmm/guest.js";
import { Tracer } from "../../src/vmm/trace.js";
import { prog } from "../isa/nasm.js";

test("one line per step, exact", () => {
  const g = Guest.create(
    prog(`
    mov ecx, 2
  l: dec ecx
    jnz l
    lidt [rel idtr]
    ud2
  idtr: dw 0
    dq 0`),
    0x100000,
  );
  if ("error" in g) throw new Error(g.error);
  const t = new Tracer(g, [
    { name: "start", value: 0x100000 },
    { name: "l", value: 0x100005 },
  ]);
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    const s = t.step();
    lines.push(s.line);
    if (s.result) break;
  }
  expect(lines).toEqual([
    "0x100000   start                b9 02 00 00 00                 mov ecx, 0x2                     rcx=0x2",
    "0x100005   l                    ff c9                          dec ecx                          rcx=0x1",
    "0x100007   l+0x2                75 fc                          jnz short 0x100005",
    "0x100005   l                    ff c9                          dec ecx                          rcx=0x0 rflags=0x46",
    "0x100007   l+0x2                75 fc                          jnz short 0x100005",
    "0x100009   l+0x4                0f 01 1d 02 00 00 00           lidt [rel $+0x9]",
    "0x100010   l+0xb                0f 0b                          ud2                              -- triple fault",
  ]);
  expect(g.result?.stop).toBe("ud");
});

test("an exception delivered to a handler gets its own line", () => {
  const g = Guest.create(
    prog(`
    lea rax, [rel handler]
    mov [rel idt+6*16], ax
    mov word [rel idt+6*16+2], 0x08
    mov word [rel idt+6*16+4], 0x8e00
    shr rax, 16
    mov [rel idt+6*16+6], ax
    lidt [rel idtr]
    ud2
  handler:
    hlt
  idtr: dw 16*7-1
    dq idt
  align 16
  idt: times 16*7 db 0`),
    0x100000,
  );
  if ("error" in g) throw new Error(g.error);
  const t = new Tracer(g);
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    const s = t.step();
    lines.push(s.line);
    if (s.result) break;
  }
  expect(lines.slice(-3)).toEqual([
    "0x10002b                        0f 01 1d 03 00 00 00           lidt [rel $+0xa]",
    "0x100032                        0f 0b                          ud2                              -- #UD delivered → rip=0x100034",
    "0x100034                        f4                             hlt",
  ]);
  expect(g.result?.stop).toBe("halted");
});
