// Which of V8's code caches a command line uses (src/cli/cache-key.ts): one per command, and for `vpmu run`
// per kind of guest file, with or without options, and for a source with or without its assembled image.
// (A source with a fresh image takes "run": test/cli/start-caches.test.ts runs that through the CLI.)
import { describe, expect, test } from "vitest";
import { cacheKey } from "../../src/cli/cache-key.js";

const key = (...args: string[]) => cacheKey(["node", "main.js", ...args]);

describe("cacheKey", () => {
  test("one cache per command; --config and help load every command", () => {
    expect(key("asm", "x.s")).toBe("asm");
    expect(key("disasm", "x.bin")).toBe("disasm");
    expect(key("--help")).toBe("all");
    expect(key("run", "--config", "vm.json", "x.s")).toBe("all");
  });
  test("vpmu run: by kind of guest file, and runs with options apart from bare ones", () => {
    expect(key("run", "x.bin")).toBe("run-flat");
    expect(key("run", "x.IMG")).toBe("run-flat");
    expect(key("run", "--exits", "x.bin")).toBe("run-flat-opts");
    expect(key("run", "x.c")).toBe("run-c");
    expect(key("run", "--kvm", "v4", "x.c")).toBe("run-c-opts");
    // A source the assembled-image cache does not hold (here: none at all) assembles.
    expect(key("run", "no/such/source.s")).toBe("run-asm");
    expect(key("run", "--trace", "no/such/source.s")).toBe("run-asm-opts");
  });
});
