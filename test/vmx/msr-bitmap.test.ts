import { describe, expect, it } from "vitest";
import { MsrBitmap, MSR_TYPE_R, MSR_TYPE_RW, MSR_TYPE_W } from "../../src/vmx/msr-bitmap.js";
import { exitReasonName, EXIT_REASON } from "../../src/arch/vmx-exit-reasons.js";
import { exitReasonRow } from "../../src/vmx/exit-handlers.js";
import { controlNames, PRIMARY_CONTROLS } from "../../src/arch/vmx-controls.js";
import { Vmcs } from "../../src/vmx/vmcs.js";

describe("MSR bitmap (model.md §11.1)", () => {
  it("starts all-ones: every MSR exits", () => {
    const b = new MsrBitmap();
    expect(b.bytes.length).toBe(4096);
    expect(b.bytes.every((x) => x === 0xff)).toBe(true);
    expect(b.exits(0xc1, false)).toBe(true);
    expect(b.exits(0xc1, true)).toBe(true);
  });

  it("places bits in the four regions at byte (m & 0x1fff) >> 3, bit m & 7", () => {
    const b = new MsrBitmap();
    b.setIntercept(0x329, MSR_TYPE_R, false);
    expect(b.bytes[0x329 >> 3]).toBe(0xff & ~(1 << (0x329 & 7)));
    expect(b.bytes[0x800 + (0x329 >> 3)]).toBe(0xff);
    expect(b.exits(0x329, false)).toBe(false);
    expect(b.exits(0x329, true)).toBe(true);
    b.setIntercept(0xc0000080, MSR_TYPE_W, false);
    expect(b.bytes[0xc00 + (0x80 >> 3)]).toBe(0xfe);
    expect(b.bytes[0x400 + (0x80 >> 3)]).toBe(0xff);
    expect(b.exits(0xc0000080, true)).toBe(false);
    b.setIntercept(0x1fff, MSR_TYPE_RW, false);
    expect(b.bytes[0x3ff]).toBe(0x7f);
    expect(b.bytes[0xbff]).toBe(0x7f);
    b.setIntercept(0x1fff, MSR_TYPE_RW, true);
    expect(b.bytes[0x3ff]).toBe(0xff);
    // Exactly the five bytes touched above differ from 0xff.
    const changed = [...b.bytes].map((x, i) => (x !== 0xff ? i : -1)).filter((i) => i >= 0);
    expect(changed).toEqual([0x329 >> 3, 0xc10]);
  });

  it("MSRs outside 0–0x1FFF and 0xC0000000–0xC0001FFF always exit, and have no bit", () => {
    const b = new MsrBitmap();
    b.bytes.fill(0);
    for (const m of [0x2000, 0x4b564d00, 0xbfffffff, 0xc0002000, 0xffffffff]) {
      expect(b.exits(m, false)).toBe(true);
      expect(b.exits(m, true)).toBe(true);
      b.setIntercept(m, MSR_TYPE_RW, true);
    }
    expect(b.bytes.every((x) => x === 0)).toBe(true);
    expect(b.exits(0x2000 - 1, false)).toBe(false);
    // 0x2000 aliases nothing: it is not bit 0 of the low region.
    expect(b.exits(0, false)).toBe(false);
  });
});

describe("exit reasons and controls (model.md §11.2–11.4)", () => {
  it("names reasons the way kvm_exit does", () => {
    expect(exitReasonName(EXIT_REASON.MSR_READ)).toBe("MSR_READ");
    expect(exitReasonName(31)).toBe("MSR_READ");
    expect(exitReasonName(32)).toBe("MSR_WRITE");
    expect(exitReasonName(15)).toBe("RDPMC");
    expect(exitReasonName(30)).toBe("IO_INSTRUCTION");
    expect(exitReasonName(12)).toBe("HLT");
    expect(exitReasonName(10)).toBe("CPUID");
    expect(exitReasonName(5)).toBe("UNKNOWN_5");
    expect(exitReasonRow(15)?.kvmHandler).toBe("kvm_emulate_rdpmc");
  });
  it("primary controls table matches the SDM bit numbers", () => {
    const v = new Vmcs();
    expect(v.cpuBasedVmExecControl).toBe(0x11000880);
    expect(controlNames(PRIMARY_CONTROLS, v.cpuBasedVmExecControl)).toEqual([
      "CPU_BASED_HLT_EXITING",
      "CPU_BASED_RDPMC_EXITING",
      "CPU_BASED_UNCOND_IO_EXITING",
      "CPU_BASED_USE_MSR_BITMAPS",
    ]);
    v.setPrimary(1 << 11, false);
    expect(v.rdpmcExiting).toBe(false);
    expect(v.cpuBasedVmExecControl).toBe(0x11000080);
  });
});
