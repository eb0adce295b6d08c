// The VMCS's GLOBAL_CTRL load/save at VM entry and exit (model.md §12.1 step 9, §12.2 step 0) works on the
// field's 32-bit halves with provenance ids interned once: it must leave the physical register file exactly as
// PhysicalPmu.loadGlobalCtrl (the BigInt path it replaced) does — value, owner tag (the same ProvenanceTable
// id, so leak records name the same source) and change marks — for values in either half and across owners.
import { describe, expect, it } from "vitest";
import {
  VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL,
  VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL,
} from "../../src/arch/vmx-controls.js";
import { PhysicalPmu } from "../../src/host/physical-pmu.js";
import { findHostPreset, type HostPreset } from "../../src/host/presets.js";
import { Vmcs } from "../../src/vmx/vmcs.js";

const spr = findHostPreset("spr") as HostPreset;

function vmcs(): Vmcs {
  const v = new Vmcs();
  v.vmEntryControls = VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL;
  v.vmExitControls = VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL | VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL;
  return v;
}

/** What the register file holds of GLOBAL_CTRL, and the change marks a consumer would take. */
function state(p: PhysicalPmu, who: object): unknown {
  return { ctrl: p.globalCtrl, owner: p.owner(0x38f), slotTag: p.prov[p.sCtrl], changed: p.takeChanged(who) };
}

describe("VMCS GLOBAL_CTRL load/save on halves = PhysicalPmu.loadGlobalCtrl", () => {
  it("entry and exit, values in both halves, two owners, the field round-trips", () => {
    const v = vmcs();
    const a = new PhysicalPmu(spr); // the VMCS's path
    const b = new PhysicalPmu(spr); // the reference: loadGlobalCtrl with the provenance objects
    const entry = (owner: string) => ({ owner, source: "VM entry (load IA32_PERF_GLOBAL_CTRL)" });
    const exit = { owner: "host", source: "VM exit (load IA32_PERF_GLOBAL_CTRL)" };
    const steps: [string, bigint][] = [
      ["vcpu:0", 0xffn],
      ["vcpu:0", 0x7_0000_00ffn],
      ["vcpu:1", 0x1_0000_0001n],
      ["vcpu:1", 0n],
      ["vcpu:0", 0xffff_ffff_ffff_ffffn],
    ];
    for (const [owner, value] of steps) {
      v.guestPerfGlobalCtrl = value;
      expect(v.guestPerfGlobalCtrl).toBe(value);
      v.vmEntry(a, owner);
      b.loadGlobalCtrl(value, entry(owner));
      expect(state(a, v)).toEqual(state(b, v));
      expect(a.owner(0x38f)).toEqual(entry(owner));
      // The guest changes GLOBAL_CTRL natively; the exit saves it and loads the host's 0.
      a.wrmsr(0x38f, 3n, { owner, source: "guest" });
      b.wrmsr(0x38f, 3n, { owner, source: "guest" });
      v.vmExit(a);
      expect(v.guestPerfGlobalCtrl).toBe(3n);
      b.loadGlobalCtrl(0n, exit);
      expect(state(a, v)).toEqual(state(b, v));
      expect(a.owner(0x38f)).toEqual(exit);
    }
    v.hostPerfGlobalCtrl = 0x1_0000_0000n;
    v.vmExit(a);
    b.loadGlobalCtrl(0x1_0000_0000n, exit);
    expect(state(a, v)).toEqual(state(b, v));
    // Without the controls nothing is loaded or saved.
    v.vmEntryControls = 0;
    v.vmExitControls = 0;
    v.guestPerfGlobalCtrl = 5n;
    v.vmEntry(a, "vcpu:0");
    v.vmExit(a);
    expect(a.globalCtrl).toBe(0x1_0000_0000n);
    expect(v.guestPerfGlobalCtrl).toBe(5n);
  });
});
