// C guests (docs/c-guests.md): `vpmu run prog.c` builds with gcc and the runtime in programs/c/lib; the
// C twins of the PMU programs print the same lines as the NASM originals.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { C_GUEST_CFLAGS, C_GUEST_LDFLAGS, C_RUNTIME_SOURCES } from "../../src/cli/c-guest.js";
import { ROOT, vpmu } from "./run-cli.js";

describe("C guests", () => {
  it("each C twin in programs/c/pmu prints the lines of its NASM original, each ended by the UART's \\r\\n", () => {
    const twins = readdirSync(join(ROOT, "programs/c/pmu")).filter((f) => f.endsWith(".c"));
    expect(twins.length).toBeGreaterThan(0);
    for (const c of twins) {
      const out = c.replace(/\.c$/, ".out");
      // The golden's last line, "exit status: N", is the runner's, not the console's.
      const lines = readFileSync(join(ROOT, "programs/pmu", out), "latin1").split("\n");
      expect(lines.at(-1)).toBe("");
      const crlf =
        lines
          .slice(0, -2)
          .map((l) => `${l}\r\n`)
          .join("") + `${lines.at(-2)}\n`;
      expect(readFileSync(join(ROOT, "programs/c/pmu", out), "latin1"), c).toBe(crlf);
    }
  });

  it("docs/c-guests.md shows the build's own flags and sources", () => {
    const doc = readFileSync(join(ROOT, "docs/c-guests.md"), "utf8");
    expect(doc).toContain(`CFLAGS="${C_GUEST_CFLAGS.join(" ")}"`);
    expect(doc).toContain(`for f in ${C_RUNTIME_SOURCES.join(" ")}; do`);
    expect(doc).toContain(`ld ${C_GUEST_LDFLAGS.join(" ")} -T $L/guest.ld`);
  });

  it("builds and runs a C file given to vpmu run; the guest's status is the exit status", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpmu-c-"));
    writeFileSync(
      join(dir, "t.c"),
      '#include "vpmu.h"\nint main(void)\n{\n        printf("%s %05d|%-4x|\\n", "c", 42, 0xab);\n        return 9;\n}\n',
    );
    const r = vpmu(["run", join(dir, "t.c")]);
    expect(r).toEqual({ status: 9, stdout: "c 00042|ab  |\r\n", stderr: "" });
  });

  it("reports a compile error with gcc's message, exit status 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpmu-c-"));
    writeFileSync(join(dir, "bad.c"), "int main(void) { return undeclared; }\n");
    const r = vpmu(["run", join(dir, "bad.c")]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("'undeclared' undeclared");
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("vpmu: building bad.c failed (gcc exit status 1)");
  });
});
