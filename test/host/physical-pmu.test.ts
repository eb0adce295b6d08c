import { describe, expect, it } from "vitest";
import { type GuestEvents, noEvents } from "../../src/isa/platform.js";
import { findHostPreset, type HostPreset } from "../../src/host/presets.js";
import { PhysicalPmu } from "../../src/host/physical-pmu.js";
import { findHostActivity, HostPerf, parseHostMsr } from "../../src/host/activity.js";

const spr = findHostPreset("spr") as HostPreset;
const skx = findHostPreset("skx") as HostPreset;
const g = { owner: "vcpu:0", source: "test" };

function events(p: Partial<GuestEvents> = {}): GuestEvents {
  return { ...noEvents(), ...p };
}

describe("physical PMU: native MSR and RDPMC semantics", () => {
  it("R-HW-2: RDPMC reads any physical counter and PERF_METRICS whenever the CPU has it", () => {
    const p = new PhysicalPmu(spr);
    expect(p.wrmsr(0x329, 0x8899aabb11223344n, { owner: "host", source: "--host-msr" })).toBe(true);
    expect(p.rdpmc(0x20000000)).toBe(0x8899aabb11223344n);
    expect(p.owner(0x329)).toEqual({ owner: "host", source: "--host-msr" });
    expect(p.rdpmc(0x20000001)).toBeNull();
    expect(p.rdpmc(0x40000003)).toBe(0n);
    expect(p.rdpmc(0x40000004)).toBeNull();
    expect(p.rdpmc(7)).toBe(0n);
    expect(p.rdpmc(8)).toBeNull();
    expect(p.rdpmc(0x80000000)).toBeNull();
    const s = new PhysicalPmu(skx);
    expect(s.rdpmc(0x20000000)).toBeNull();
    expect(s.rdmsr(0x329)).toBeNull();
    expect(s.rdpmc(0x40000003)).toBeNull();
  });

  it("GLOBAL_CTRL (model.md §5.3): the GP and fixed enables and, with PERF_METRICS, bit 48; any other bit #GPs", () => {
    const p = new PhysicalPmu(spr); // 8 GP, 4 fixed, PERF_METRICS
    expect(p.globalCtrlBits).toBe(0x1000f000000ffn);
    expect(p.wrmsr(0x38f, 0x1000f000000ffn, g)).toBe(true);
    expect(p.rdmsr(0x38f)).toBe(0x1000f000000ffn);
    for (const bit of [8n, 31n, 36n, 47n, 49n, 63n]) expect(p.wrmsr(0x38f, 1n << bit, g)).toBe(false);
    expect(p.rdmsr(0x38f)).toBe(0x1000f000000ffn); // a faulting WRMSR writes nothing
    const s = new PhysicalPmu(skx); // 4 GP, 3 fixed, no PERF_METRICS
    expect(s.globalCtrlBits).toBe(0x70000000fn);
    expect(s.wrmsr(0x38f, 1n << 4n, g)).toBe(false);
    expect(s.wrmsr(0x38f, 1n << 48n, g)).toBe(false);
    expect(s.wrmsr(0x38f, 1n << 35n, g)).toBe(false);
  });

  it("counter write aliases (model.md §5.7): legacy sign-extends bit 31, full-width #GPs above the width", () => {
    const p = new PhysicalPmu(spr);
    expect(p.wrmsr(0xc1, 0x89abcdefn, g)).toBe(true);
    expect(p.rdmsr(0xc1)).toBe(0xffff89abcdefn);
    expect(p.rdmsr(0x4c1)).toBe(0xffff89abcdefn);
    expect(p.wrmsr(0xc1, 0xff0123456789n, g)).toBe(true);
    expect(p.rdmsr(0xc1)).toBe(0x23456789n);
    expect(p.wrmsr(0x4c2, 0x1000000000000n, g)).toBe(false);
    expect(p.wrmsr(0x4c2, 0xffffffffffffn, g)).toBe(true);
    expect(p.rdpmc(1)).toBe(0xffffffffffffn);
    expect(p.owner(0x4c2)).toEqual(g);
    expect(p.owner(0xc2)).toEqual(g);
  });

  it("GLOBAL_STATUS is read-only; OVF_CTRL clears and STATUS_SET sets it", () => {
    const p = new PhysicalPmu(spr);
    expect(p.wrmsr(0x38e, 1n, g)).toBe(false);
    expect(p.wrmsr(0x391, 0x100000003n, g)).toBe(true);
    expect(p.rdmsr(0x38e)).toBe(0x100000003n);
    expect(p.wrmsr(0x390, 1n, g)).toBe(true);
    expect(p.rdmsr(0x38e)).toBe(0x100000002n);
    expect(p.owner(0x38e)).toEqual(g);
    expect(p.rdmsr(0x38f)).toBe(0xffn); // power-on: GP enable bits set
  });

  it("counts natively only while enabled, by CPL, and wraps into GLOBAL_STATUS", () => {
    const p = new PhysicalPmu(spr);
    p.wrmsr(0x186, 0x5300c0n, g); // instructions: EN(22), INT(20), OS(17), USR(16)
    p.wrmsr(0x187, 0x42003cn, g); // cycles, OS only (bit 17) + EN
    p.wrmsr(0x38d, 0x0b0n, g); // FC1: OS+USR+PMI → field 1 = 0xb
    p.wrmsr(0x4c1, 0xfffffffffff0n, g);
    p.loadGlobalCtrl(0x200000003n, g);
    p.rebase(events({ instructions: 100, cycles: 1000 }), 0);
    p.sync(events({ instructions: 110, cycles: 1030 }), 0);
    expect(p.rdmsr(0xc1)).toBe(0xfffffffffffan);
    expect(p.rdmsr(0xc2)).toBe(30n);
    expect(p.rdmsr(0x30a)).toBe(30n);
    p.sync(events({ instructions: 130, cycles: 1100 }), 3);
    // 110 → 130 ran at CPL 0 (the CPL given at the previous sync): counter 0 wraps, counter 1 counts.
    expect(p.rdmsr(0xc1)).toBe(0xen);
    expect(p.rdmsr(0xc2)).toBe(100n);
    p.sync(events({ instructions: 131, cycles: 1200 }), 3);
    // 130 → 131 ran at CPL 3: counter 1 (OS only) does not count.
    expect(p.rdmsr(0xc1)).toBe(0xfn);
    expect(p.rdmsr(0xc2)).toBe(100n);
    expect(p.rdmsr(0x38e)).toBe(1n);
    expect(p.pmiPending).toBe(true);
    p.loadGlobalCtrl(0n, g);
    p.sync(events({ instructions: 1000, cycles: 9000 }), 0);
    expect(p.rdmsr(0xc1)).toBe(0xfn);
    expect(p.rdmsr(0x30a)).toBe(200n);
  });
});

describe("host activity", () => {
  it("topdown leaves FC3 and PERF_METRICS host-owned; --host-msr wins", () => {
    const p = new PhysicalPmu(spr);
    const hv = parseHostMsr("0x329=0x8899AABB11223344");
    if (!hv.ok) throw new Error(hv.error);
    const h = HostPerf.create(p, findHostActivity("topdown")!, [hv.value]);
    if (!h.ok) throw new Error(h.error);
    h.value.applyInitial(p);
    expect(p.rdmsr(0x329)).toBe(0x8899aabb11223344n);
    expect(p.owner(0x329)).toEqual({ owner: "host", source: "--host-msr" });
    expect(p.rdmsr(0x30c)).toBe(0x12345600n);
    expect(p.owner(0x30c)).toEqual({ owner: "host", source: "host activity topdown" });
    expect(p.rdmsr(0x38f)).toBe((1n << 35n) | (1n << 48n));
  });

  it("counting: host counters advance by their per-interval amount at each restore", () => {
    const p = new PhysicalPmu(spr);
    const h = HostPerf.create(p, findHostActivity("counting")!, []);
    if (!h.ok) throw new Error(h.error);
    h.value.applyInitial(p);
    expect(p.rdmsr(0xc8)).toBe(0x800000n);
    h.value.restore(p, "put step 5");
    h.value.restore(p, "put step 5");
    expect(p.rdmsr(0xc8)).toBe(0x800000n + 2n * 1007n);
    expect(p.owner(0xc8)).toEqual({ owner: "host", source: "put step 5 (host activity counting)" });
  });

  it("rejects bad --host-msr values with one sentence", () => {
    expect(parseHostMsr("0x329")).toEqual({
      ok: false,
      error: '--host-msr "0x329": expected MSR=VALUE, e.g. 0x329=0x8899aabb11223344',
    });
    expect(parseHostMsr("0x329=0x10000000000000000")).toEqual({
      ok: false,
      error: "--host-msr 0x329=0x10000000000000000: value 0x10000000000000000 does not fit in 64 bits",
    });
    const s = new PhysicalPmu(skx);
    const r = HostPerf.create(s, findHostActivity("idle")!, [{ msr: 0x329, value: 1n }]);
    expect(r).toEqual({ ok: false, error: "--host-msr 0x329: the skx host has no such PMU MSR" });
  });
});

describe("perf_load_guest_context (load step 2)", () => {
  it("clears EN of the host's selectors and its FIXED_CTR_CTRL; counter values stay", () => {
    const p = new PhysicalPmu(spr);
    const h = HostPerf.create(p, findHostActivity("counting")!, []);
    if (!h.ok) throw new Error(h.error);
    h.value.applyInitial(p);
    h.value.scheduleOut(p, "load step 2");
    expect(p.rdmsr(0x18d)).toBe(0x03003cn);
    expect(p.owner(0x18d)).toEqual({ owner: "host", source: "load step 2 (perf_load_guest_context)" });
    expect(p.rdmsr(0x38d)).toBe(0n);
    expect(p.rdmsr(0xc8)).toBe(0x800000n);
    h.value.restore(p, "put step 5");
    expect(p.rdmsr(0x18d)).toBe(0x43003cn);
    expect(p.rdmsr(0x38d)).toBe(0x333n);
  });
});
