import { describe, expect, it } from "vitest";
import { RECENT_EXITS } from "../../src/kvm/vcpu.js";
import { runGuest } from "./harness.js";

// 40 intercepted MSR exits (WRMSR then RDMSR of FIXED_CTR_CTRL, 20 times), then the I/O exit that ends the run.
const SRC = `
  mov ebx, 20
l:
  mov ecx, 0x38d
  mov eax, 0xb
  xor edx, edx
  wrmsr
  rdmsr
  dec ebx
  jnz l
  out 0xf4, al
`;

describe("recent exits", () => {
  it("without the exit log, the last RECENT_EXITS exits read back as the records the log keeps", () => {
    const logged = runGuest(SRC);
    const lazy = runGuest(SRC, {}, (v) => {
      v.logExits = false;
    });
    expect(logged.vcpu.exits.length).toBe(41);
    expect(lazy.vcpu.exits.length).toBe(0);
    const want = logged.vcpu.exits.slice(-RECENT_EXITS);
    expect(lazy.vcpu.recentExits()).toEqual(want);
    expect(logged.vcpu.recentExits()).toEqual(want);
    expect(lazy.vcpu.exitCounts).toEqual(logged.vcpu.exitCounts);
    // The records: WRMSR 0x38d := 0xb, then RDMSR 0x38d = 0xb.
    expect(want.at(-3)).toEqual({
      reason: 32,
      name: "MSR_WRITE",
      rip: want.at(-3)!.rip,
      length: 2,
      msr: 0x38d,
      write: true,
      value: 0xbn,
      outcome: "ok",
    });
    expect(want.at(-2)).toEqual({
      reason: 31,
      name: "MSR_READ",
      rip: want.at(-3)!.rip + 2,
      length: 2,
      msr: 0x38d,
      write: false,
      value: 0xbn,
      outcome: "ok",
    });
  });
});
