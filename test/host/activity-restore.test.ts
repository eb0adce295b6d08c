// Host perf activity around the mediated switch (model.md §12: load step 2, put step 5). The switch calls
// HostPerf.scheduleOut and HostPerf.restore only for an activity with registers (HostPerf.idle: an idle
// activity writes nothing): with the "counting" activity every put must still give the host its counters back,
// advanced by the host's run time of every interval so far.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nasmFile, ROOT, setupGuest } from "../vmx/guest.js";

describe("host perf activity: restored at every put", () => {
  for (const activity of ["counting", "idle"]) {
    it(activity, () => {
      const g = setupGuest(
        nasmFile(join(ROOT, "programs/mediated/rdmsr-loop.s")),
        { host: "spr", policy: "fix", mediated: true, activity },
        false,
      );
      const phys = g.layer.phys;
      for (let i = 0; i < 100; i++) {
        const r = g.vcpu.run({ maxInstructions: 2_000_000 });
        if (r.reason !== "io" || g.io.status !== null) break;
      }
      const puts = g.layer.sw.puts;
      expect(puts).toBeGreaterThan(10);
      expect(g.layer.sw.loaded).toBe(false);
      if (activity === "counting") {
        // Host activity "counting": GP counter n starts at 0x100000·(n+1) and runs 1000+n per interval, fixed
        // counter i at 0x10000·(i+1), 500+i per interval; its selectors count cycles with EN (bit 22) set.
        for (let n = 0; n < phys.nGP; n++) expect(phys.gp[n]).toBe(0x100000 * (n + 1) + (1000 + n) * puts);
        for (let i = 0; i < 3; i++) expect(phys.fixed[i]).toBe(0x10000 * (i + 1) + (500 + i) * puts);
        expect(phys.eventsel[0]).toBe(0x43003c);
        expect(phys.owner(0xc1).source).toBe("put step 5 (host activity counting)");
      } else {
        // Idle: the counters keep their power-on zeros and the switch's scrub.
        for (let n = 0; n < phys.nGP; n++) expect(phys.gp[n]).toBe(0);
        expect(phys.owner(0xc1).source).not.toContain("host activity");
      }
    });
  }
});
