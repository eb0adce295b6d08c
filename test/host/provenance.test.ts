import { describe, expect, it } from "vitest";
import {
  guestWriteSource,
  HOST_OWNER,
  ProvenanceTable,
  RESET_PROV_ID,
  RESET_PROVENANCE,
} from "../../src/host/provenance.js";

describe("provenance table", () => {
  it("one id per (owner, source) pair, whichever way it is asked for", () => {
    const t = new ProvenanceTable();
    expect(t.of(RESET_PROVENANCE)).toBe(RESET_PROV_ID);
    expect(t.id(HOST_OWNER, "power-on reset")).toBe(RESET_PROV_ID);
    const a = t.id("vcpu:0", "load step 5");
    const b = t.id(HOST_OWNER, "load step 5");
    expect([a, b]).toEqual([1, 2]);
    // A fresh object with the same pair, and the same object asked again (the identity cache).
    expect(t.of({ owner: "vcpu:0", source: "load step 5" })).toBe(a);
    const tag = { owner: HOST_OWNER, source: "load step 5" };
    expect(t.of(tag)).toBe(b);
    expect(t.of(tag)).toBe(b);
    // More distinct objects than the identity cache holds: each still gets its pair's id.
    const many = Array.from({ length: 20 }, (_, i) => ({ owner: HOST_OWNER, source: `step ${i % 10}` }));
    const ids = many.map((p) => t.of(p));
    expect(ids.slice(10)).toEqual(ids.slice(0, 10));
    expect(new Set(ids).size).toBe(10);
    expect(many.map((p) => t.of(p))).toEqual(ids);
    // A guest write by rip is the pair (owner, guestWriteSource(rip)), built or found either way.
    const w = t.guestWrite("vcpu:0", 0x10d9);
    expect(t.get(w)).toEqual({ owner: "vcpu:0", source: "guest WRMSR at rip 0x10d9" });
    expect(guestWriteSource(0x10d9)).toBe("guest WRMSR at rip 0x10d9");
    expect(t.guestWrite("vcpu:0", 0x10d9)).toBe(w);
    expect(t.id("vcpu:0", guestWriteSource(0x1397))).toBe(t.guestWrite("vcpu:0", 0x1397));
    expect(t.guestWrite("vcpu:1", 0x10d9)).not.toBe(w);
    expect(t.ownerOf(w)).toBe(t.ownerId("vcpu:0"));
    expect(t.ownerOf(b)).toBe(0);
    expect(t.ownerOf(t.guestWrite("vcpu:1", 0x10d9))).toBe(t.ownerId("vcpu:1"));
  });
});
