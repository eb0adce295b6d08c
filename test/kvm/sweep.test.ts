import { describe, expect, it } from "vitest";
import { runGuest } from "./harness.js";

// Guest-side sweep: every PMU version 1–5 × every GP counter × every fixed counter of the guest model:
// the counter counts a 50-iteration dec/jnz loop exactly (branches on GP n, instructions on FC i), with
// GLOBAL_CTRL used only where the version has it.
function program(version: number, kind: "gp" | "fixed", n: number): string {
  const global = version >= 2;
  const ctrlBit = kind === "gp" ? n : 32 + n;
  const enable = global
    ? `mov ecx, 0x38f
  mov eax, ${ctrlBit < 32 ? 1 << ctrlBit : 0}
  mov edx, ${ctrlBit >= 32 ? 1 << (ctrlBit - 32) : 0}
  wrmsr`
    : "";
  const disable = global ? "mov ecx, 0x38f\n  xor eax, eax\n  xor edx, edx\n  wrmsr" : "";
  const arm =
    kind === "gp"
      ? `mov ecx, ${0x186 + n}
  mov eax, ${global ? 0x4300c4 : 0x4300c4}
  xor edx, edx
  wrmsr`
      : `mov ecx, 0x38d
  mov eax, ${3 << (4 * n)}
  xor edx, edx
  wrmsr`;
  const disarm = kind === "gp" ? `mov ecx, ${0x186 + n}\n  xor eax, eax\n  xor edx, edx\n  wrmsr` : "";
  const read = kind === "gp" ? 0xc1 + n : 0x309 + n;
  return `
  ${global ? "mov ecx, 0x38f\n  xor eax, eax\n  xor edx, edx\n  wrmsr" : ""}
  ${arm}
  ${enable}
  mov ecx, 50
l: dec ecx
  jnz l
  ${global ? disable : disarm}
  mov ecx, ${read}
  rdmsr
  out 0xf4, al
`;
}

describe("counting sweep over versions and counters (SPR host, LEGACY)", () => {
  for (let version = 1; version <= 5; version++) {
    for (let n = 0; n < 8; n++) {
      it(`v${version} GP${n} counts 50 branches`, () => {
        const g = runGuest(program(version, "gp", n), { host: "spr" }, (v) => {
          const a = (version | (8 << 8) | (48 << 16) | (8 << 24)) >>> 0;
          expect(
            v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax: a, ebx: 0, ecx: 0, edx: 3 | (48 << 5) })).ok,
          ).toBe(true);
        });
        expect(g.exit).toMatchObject({ reason: "io", port: 0xf4 });
        // v1: the selector alone enables, so the disarming WRMSR's own instructions are not branches
        expect(g.cpu.getLo(0)).toBe(50);
      });
    }
    if (version >= 2) {
      for (let i = 0; i < 3; i++) {
        it(`v${version} FC${i} counts`, () => {
          const g = runGuest(program(version, "fixed", i), { host: "spr" }, (v) => {
            const a = (version | (8 << 8) | (48 << 16) | (8 << 24)) >>> 0;
            expect(
              v.setCpuid(v.withCpuidLeaf({ function: 0xa, index: 0, eax: a, ebx: 0, ecx: 0, edx: 3 | (48 << 5) })).ok,
            ).toBe(true);
          });
          // FC0: the enabling WRMSR + mov ecx + 100 loop + mov/xor/xor before the disabling WRMSR = 105.
          // FC1: mov 1 + 100 loop cycles + the mispredicted loop exit 15 + mov/xor/xor 3 = 119 (the WRMSRs
          // exit: no guest cycles). FC2: TSC edges inside those 119 cycles at TSC/core = 1/2; the window
          // opens on an odd cycle total in this program, so it holds 60 edges.
          expect(g.cpu.getLo(0)).toBe([105, 119, 60][i]);
        });
      }
    }
  }
});
