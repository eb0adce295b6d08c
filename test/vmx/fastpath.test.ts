import { describe, expect, it } from "vitest";
import { LEAK_MODEL, setupGuest } from "./guest.js";

// A tiny image: the test drives the layer's entry/exit directly (model.md §12: fastpath exits re-enter
// without put/load; pmu.h kvm_pmu_is_fastpath_emulation_allowed).
const HLT = new Uint8Array([0xf4]);

describe("mediated fastpath (model.md §12, §8.3)", () => {
  it("a WRMSR of TSC_DEADLINE or the x2APIC ICR is handled without put/load; other exits put", () => {
    const g = setupGuest(HLT, { ...LEAK_MODEL, policy: "fix" });
    const L = g.layer;
    L.enterGuest();
    expect([L.sw.loads, L.sw.puts]).toEqual([1, 0]);
    L.prepareWrmsrExit(0x6e0, 0, 0);
    L.vmExit(32, 0x6e0);
    L.enterGuest();
    L.prepareWrmsrExit(0x830, 0x40040, 0); // self-IPI, vector 0x40 (kvm_x2apic_icr_write_fast delivers it)
    L.vmExit(32, 0x830);
    expect([L.sw.loads, L.sw.puts, L.fastpathExits]).toEqual([1, 0, 2]);
    // The exit still saved GLOBAL_CTRL and loaded the host's 0 (step 0), and the entry loaded it back.
    expect(L.phys.globalCtrl).toBe(0n);
    L.enterGuest();
    expect(L.phys.globalCtrl).toBe(0xffn);
    L.vmExit(31, 0x38d);
    expect([L.sw.loads, L.sw.puts, L.fastpathExits]).toEqual([1, 1, 2]);
  });

  it("an ICR write kvm_x2apic_icr_write_fast cannot route (all-including-self, broadcast, reserved bits) is slow", () => {
    const g = setupGuest(HLT, { ...LEAK_MODEL, policy: "fix" });
    const L = g.layer;
    for (const [lo, hi] of [
      [0x80040, 0], // all including self
      [0x40, 0xffffffff], // broadcast destination
      [0x42040, 0], // bit 13 reserved
    ] as const) {
      L.enterGuest();
      L.prepareWrmsrExit(0x830, lo, hi);
      L.vmExit(32, 0x830);
    }
    expect([L.sw.loads, L.sw.puts, L.fastpathExits]).toEqual([3, 3, 0]);
  });

  it("refused while an enabled counter counts instructions (the emulated count must not be lost)", () => {
    const g = setupGuest(HLT, { ...LEAK_MODEL, policy: "fix" });
    expect(g.vcpu.setMsr(0x186, 0x4300c0n, { hostInitiated: false })).toBe(true); // instructions, OS+USR, EN
    const L = g.layer;
    L.enterGuest();
    L.prepareWrmsrExit(0x6e0, 0, 0);
    L.vmExit(32, 0x6e0);
    expect([L.sw.loads, L.sw.puts, L.fastpathExits]).toEqual([1, 1, 0]);
  });
});

describe("use MSR bitmaps (SDM: with the control off every RDMSR/WRMSR exits)", () => {
  it("a pass-through counter exits once the primary control bit 28 is cleared", () => {
    const g = setupGuest(HLT, LEAK_MODEL);
    const L = g.layer;
    expect([L.msrExits(0xc1, false), L.msrExits(0xc1, true), L.rdpmcExiting()]).toEqual([false, false, false]);
    L.vmcs.setPrimary(1 << 28, false);
    expect([L.msrExits(0xc1, false), L.msrExits(0xc1, true), L.msrExits(0x329, false)]).toEqual([true, true, true]);
    // RDPMC exiting is its own control (bit 11), untouched.
    expect(L.rdpmcExiting()).toBe(false);
  });
});
