// The golden programs under programs/ are the readable tests: run them all through the built CLI
// (`vpmu test programs`, in parallel) and require every one to match its .out — twice, to prove the
// output is byte-for-byte deterministic.
import { describe, expect, it } from "vitest";
import { vpmu } from "./cli/run-cli.js";

describe("vpmu test programs", () => {
  it("every golden program matches its .out", () => {
    const r = vpmu(["test", "programs"]);
    const failures = r.stdout.split("\n").filter((l) => l.startsWith("FAIL "));
    expect(failures).toEqual([]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^\d+ programs: \d+ passed(, \d+ skipped)?\n$/m);
    expect(r.status).toBe(0);
  }, 900_000); // every program, on a machine that may be busy: far above vitest's default

  // The block compiler (src/isa/jit.ts) must not change anything a guest or the exit log shows: the same
  // golden files, with every instruction interpreted.
  it("every golden program matches its .out with the interpreter alone (--no-jit)", () => {
    const r = vpmu(["test", "--no-jit", "programs"]);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("FAIL "))).toEqual([]);
    expect(r.stdout).toMatch(/^\d+ programs: \d+ passed(, \d+ skipped)?\n$/m);
    expect(r.status).toBe(0);
  }, 900_000);

  it("is deterministic: two runs (different parallelism) print the same bytes", () => {
    const a = vpmu(["test", "--jobs", "1", "--reporter", "json", "programs/cpu"]);
    const b = vpmu(["test", "--jobs", "2", "--reporter", "json", "programs/cpu"]);
    expect(a.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  }, 900_000);
});
