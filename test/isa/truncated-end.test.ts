// An instruction cut off by the end of RAM faults the same way whatever its opcode byte
// (issue 15 item 14): the fetch of the missing byte is a #PF with CR2 = the first byte past RAM.
// Error code 0: not present, and I/D is reported only with EFER.NXE or CR4.SMEP (SDM Vol. 3 §4.7).
import { describe, expect, test } from "vitest";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";

const MEM = 1 << 20;

function runLastByte(opcode: number): { cpu: Cpu; stop: StopReason } {
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.load(MEM - 1, Uint8Array.of(opcode));
  cpu.rip = MEM - 1;
  cpu.set64(4, MEM - 0x1000, 0);
  return { cpu, stop: cpu.run(100) };
}

describe("a truncated instruction at the last byte of RAM", () => {
  // 00 (add r/m8, r8), 01 (add r/m32), 8B (mov r32, r/m32), F7 (group 3: needs ModRM.reg to pick the row)
  for (const opcode of [0x00, 0x01, 0x8b, 0xf7]) {
    test(`opcode 0x${opcode.toString(16).padStart(2, "0")}: #PF(0) with CR2 at the end of RAM, then a triple fault without an IDT`, () => {
      const { cpu, stop } = runLastByte(opcode);
      expect(cpu.tripleFault?.chain[0]).toEqual({ vector: 14, errorCode: 0, rip: MEM - 1, cr2: "0x100000" });
      expect(stop).toBe(StopReason.TripleFault);
    });
  }
});
