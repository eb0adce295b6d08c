// test/setup/fast-check.ts makes an explicit maxLength the size property tests generate up to: without it,
// fast-check's "small" default would keep these arrays at about 10 elements.
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("fast-check set-up", () => {
  it("arrays with an explicit maxLength reach lengths well past the small default", () => {
    const lengths = fc.sample(fc.array(fc.nat(), { maxLength: 60 }), { numRuns: 300, seed: 16 }).map((a) => a.length);
    expect(Math.max(...lengths)).toBeGreaterThan(40);
  });
});
