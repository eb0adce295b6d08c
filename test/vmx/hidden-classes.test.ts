// A machine's objects keep the hidden class (V8 map) they were built with while a guest runs: a field created
// as a small integer that later receives a double (an unsigned 32-bit value ≥ 2^31, an immediate, which Insn
// holds as a double) would move every object of its class to a new one in the middle of a run, and code V8
// optimised for the old class is thrown away at the next machine built (issue 16, W4: the exits benchmark's
// timed machine deoptimised its exit path that way after the guest's last `mov al, 0` / `out 0xf4, al`).
// Checked in a child Node with --allow-natives-syntax (%HaveSameMap) on the built library (`npm test` builds).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

const SCRIPT = `
const { assemble, createMachine, vcpuGuestConfig, Guest } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
const src = "        org 0x100000\\n        bits 64\\n        mov ebx, 20\\n        mov ecx, 0x38d\\n.loop:  rdmsr\\n" +
  "        dec ebx\\n        jnz .loop\\n        mov eax, 0x80000000\\n        mov edx, eax\\n        mov al, 0\\n        out 0xf4, al\\n";
function machine() {
  const asm = assemble(src, { file: "g.s", include: () => null });
  if (!asm.ok) throw new Error("assembly failed");
  const m = createMachine({ host: "spr", pmu: "mediated", kvm: "fix" });
  if (!m.ok) throw new Error(m.error);
  const { vcpu, layer } = m.value;
  return { layer, g: Guest.create(asm.value.bytes, asm.value.origin, { ...vcpuGuestConfig(vcpu), maxInsns: 1e6 }) };
}
const before = machine();
const ran = machine();
let r;
while (!(r = ran.g.runChunk(1e6)));
if (r.status !== 0) throw new Error("guest failed: " + r.report);
const after = machine();
console.log(JSON.stringify({ cpu: %HaveSameMap(before.g.cpu, after.g.cpu), exit: %HaveSameMap(before.layer.exit, after.layer.exit) }));
`;

describe("hidden classes of a machine's objects", () => {
  it("a run leaves the CPU state's and the exit record's classes as a new machine gets them", () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} does not exist: build first (npm run build)`);
    const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", SCRIPT], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ cpu: true, exit: true });
  });
});
