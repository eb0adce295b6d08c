// The leak check after put (IsolationChecker.afterPut) looks only at registers whose value or owner changed since
// the last put, and calls checkLeftAfterPut only when one of the changed writable registers holds a value the vCPU
// owns (issue 16, W4: after every exit the changed register is the GLOBAL_CTRL the exit loaded for the host). A
// guest value written natively between two exits — not before the first, where the first put looks at every
// register — must still give its record at the next put, in every position of the exits around it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePolicyFile } from "../../src/vmx/policies/from-file.js";
import { LEAK_MODEL, nasmFile, ROOT, setupGuest } from "../vmx/guest.js";

const POLICY = "programs/leak/metrics-write-through.json";

/** A guest that leaves the CPU `before` times (console output), writes PERF_METRICS natively, leaves it `after`
 *  more times, and ends. */
function guest(before: number, after: number): Uint8Array {
  const out = (n: number) => "        mov al, 0x2e\n        out 0xe9, al\n".repeat(n);
  const src = `        org 0x100000
        bits 64
${out(before)}        mov ecx, 0x329
        mov eax, 0x11223344
        mov edx, 0x55667788
        wrmsr
${out(after)}        mov al, 0
        out 0xf4, al
`;
  const path = join(mkdtempSync(join(tmpdir(), "vpmu-left-")), "g.s");
  writeFileSync(path, src);
  return nasmFile(path);
}

describe("leak check after put: a native write between exits", () => {
  const p = parsePolicyFile(POLICY, readFileSync(join(ROOT, POLICY), "utf8"));
  if (!p.ok) throw new Error(p.error);
  for (const [before, after] of [
    [0, 0],
    [1, 0],
    [3, 2],
    [5, 5],
  ] as const) {
    for (const invariants of [false, true]) {
      it(`${before} exits before the WRMSR, ${after} after (invariants ${invariants ? "on" : "off"})`, () => {
        const g = setupGuest(guest(before, after), { ...LEAK_MODEL, policy: p.policy }, invariants);
        const exit = g.vcpu.run({ maxInstructions: 1_000_000 });
        expect(exit).toEqual({ reason: "io", port: 0xf4, value: 0 });
        const left = g.checker.leaks.filter((l) => l.path.startsWith("left in hardware"));
        expect(left.map((l) => [l.register, l.value, l.owner, l.rip])).toEqual([
          // Reported at the put of the exit that follows the write: the next OUT, at its rip.
          ["MSR_PERF_METRICS (0x329)", 0x5566778811223344n, "vcpu:0", 0x100000 + 4 * before + 17 + 2],
        ]);
      });
    }
  }
});
