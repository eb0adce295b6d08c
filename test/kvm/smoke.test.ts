import { describe, expect, it } from "vitest";
import { runGuest } from "./harness.js";

describe("smoke", () => {
  it("counts a dec/jnz loop exactly on GP0 (instructions) and FC0", () => {
    const g = runGuest(`
      mov ecx, 0x186
      mov eax, 0x4300c0      ; EN|OS|USR, instructions retired
      xor edx, edx
      wrmsr
      mov ecx, 0x38d
      mov eax, 0x3           ; FC0 OS|USR
      wrmsr
      mov ecx, 0x38f
      mov eax, 1
      mov edx, 1             ; GP0 + FC0
      wrmsr                  ; counted (enables)
      mov ecx, 100
    l: dec ecx
      jnz l
      mov ecx, 0x38f
      xor eax, eax
      xor edx, edx
      wrmsr                  ; not counted (disables)
      mov ecx, 0xc1
      rdmsr
      mov ebx, eax
      mov ecx, 0x309
      rdmsr
      out 0xf4, al
    `);
    expect(g.exit).toEqual({ reason: "io", port: 0xf4, value: expect.any(Number) });
    // wrmsr(enable) 1 + mov ecx 1 + 200 loop + mov ecx + xor + xor = 205
    // GP0 is globally enabled from reset (GLOBAL_CTRL = GP bits): it counts from its own enabling WRMSR, 7 more.
    expect(g.cpu.getLo(3)).toBe(212);
    expect(g.cpu.getLo(0)).toBe(205);
  });
});
