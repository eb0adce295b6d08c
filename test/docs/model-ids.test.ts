// Every rule id (R-INT-5, P-6, I-4, L-5 …) and every section (`model.md §14.4`, `spec §14.4`, a bare
// `§14.4` on the KVM side, a `model.md#anchor` link) cited in src/, test/, programs/ and docs/ must resolve
// to an anchor in docs/model.md, the project's statement of the rules it models. A failure names
// file:line and the citation.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../cli/run-cli.js";

const MODEL = "docs/model.md";
const SCANNED = ["src", "test", "programs", "docs"];
/** This file quotes citations as examples. */
const SELF = "test/docs/model-ids.test.ts";

/**
 * While true, "spec §N.M" citations (the old fact sheet, which is not in the repository) are accepted if
 * §N.M resolves in model.md. Once they are all rewritten to "model.md §N.M" this is false, and any
 * remaining "spec §" citation fails.
 */
const SPEC_CITATIONS_ALLOWED = false;

/** Rule ids: R-<GROUP>-<n>, P-<n> (the PERF_METRICS patch), I-<n> (isolation invariants), L-<n> (leak conditions). */
const RULE_ID = /\b(?:R-[A-Z]+-\d+|[PIL]-\d+)\b/g;
/** A section sign with its number, and the word before it when that says whose section it is. */
const SECTION = /(model\.md |spec )?§(\d+(?:\.\d+)*)/gi;
/** A link into the page: docs/model.md#R-INT-5, model.md#sec-14.4. */
const LINK = /model\.md#([A-Za-z0-9_.-]+)/g;

/** The old fact sheet's file name. */
const FACT_SHEET = ["vpmu-and-vmx", "md"].join(".");
/** Files whose bare "§N" citations are the SDM's or NASM's (the CPU and the assembler), not model.md's. */
const SDM_SIDE = ["src/isa/", "src/asm/", "test/isa/", "test/asm/", "docs/cpu.md", "docs/assembler.md"];
/** A bare § preceded closely by one of these names another document. */
const OTHER_DOCUMENT = /SDM|NASM|Vol\.|manual|Table|RFC/;

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1]!);
  return out;
}

interface CitationError {
  file: string;
  line: number;
  citation: string;
  why: string;
}

function citationErrors(
  file: string,
  text: string,
  defined: ReadonlySet<string>,
  opts: { specAllowed: boolean },
): CitationError[] {
  const out: CitationError[] = [];
  const sdmSide = SDM_SIDE.some((p) => file.startsWith(p));
  text.split("\n").forEach((line, i) => {
    const at = (citation: string, why: string) => out.push({ file, line: i + 1, citation, why });
    if (!opts.specAllowed && line.includes(FACT_SHEET))
      at(FACT_SHEET, `names the fact sheet, which is not in the repository: point to ${MODEL}`);
    for (const m of line.matchAll(RULE_ID))
      if (!defined.has(m[0])) at(m[0], `rule id ${m[0]} has no anchor in ${MODEL}`);
    for (const m of line.matchAll(LINK))
      if (!defined.has(m[1]!)) at(m[0], `link target #${m[1]} has no anchor in ${MODEL}`);
    for (const m of line.matchAll(SECTION)) {
      const prefix = (m[1] ?? "").toLowerCase();
      const section = m[2]!;
      if (prefix === "spec " && !opts.specAllowed) {
        at(m[0], `cites the fact sheet, which is not in the repository: cite model.md §${section}`);
        continue;
      }
      if (prefix === "") {
        if (sdmSide) continue;
        const before = line.slice(Math.max(0, m.index! - 40), m.index!);
        if (OTHER_DOCUMENT.test(before)) continue;
      }
      if (!defined.has(`sec-${section}`)) at(m[0], `section §${section} has no anchor (sec-${section}) in ${MODEL}`);
    }
  });
  return out;
}

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return files(path);
    return e.isFile() ? [path] : [];
  });
}

function format(e: CitationError): string {
  return `${e.file}:${e.line}: ${e.citation}: ${e.why}`;
}

describe("rule ids and sections resolve in docs/model.md", () => {
  const defined = anchors(readFileSync(join(ROOT, MODEL), "utf8"));

  it("model.md defines its anchors", () => {
    // Every section of the old fact sheet, 1 to 16, and the rule groups the code cites.
    for (const id of ["sec-1", "sec-6.3", "sec-11.6", "sec-14.4", "sec-16", "R-INT-5", "R-MED-1", "P-6", "I-4", "L-5"])
      expect(defined.has(id), id).toBe(true);
  });

  it("every citation under src/, test/, programs/, docs/ resolves", () => {
    const errors: string[] = [];
    let scanned = 0;
    for (const dir of SCANNED)
      for (const file of files(dir)) {
        const rel = relative(ROOT, join(ROOT, file)).split(sep).join("/");
        const text = readFileSync(join(ROOT, file), "utf8");
        if (rel === SELF || text.includes("\0")) continue;
        scanned++;
        errors.push(...citationErrors(rel, text, defined, { specAllowed: SPEC_CITATIONS_ALLOWED }).map(format));
      }
    expect(scanned).toBeGreaterThan(100);
    expect(errors).toEqual([]);
  });

  it("the scan fails on what does not resolve, and names file:line", () => {
    const bogus = `R-${"NOPE"}-1`;
    const text = [
      `// ${bogus} and P-${999}`,
      "// R-INT-5 (model.md §14.4) and §11.6",
      `// spec §${"99.1"}; SDM Vol. 3 §6.14.2 is the SDM's`,
      `// see docs/model.md#${"no-such-anchor"}`,
    ].join("\n");
    const found = citationErrors("src/kvm/x.ts", text, defined, { specAllowed: true }).map(format);
    expect(found).toEqual([
      `src/kvm/x.ts:1: ${bogus}: rule id ${bogus} has no anchor in docs/model.md`,
      "src/kvm/x.ts:1: P-999: rule id P-999 has no anchor in docs/model.md",
      "src/kvm/x.ts:3: spec §99.1: section §99.1 has no anchor (sec-99.1) in docs/model.md",
      "src/kvm/x.ts:4: model.md#no-such-anchor: link target #no-such-anchor has no anchor in docs/model.md",
    ]);
    // Once the fact sheet is gone, even a resolvable "spec §" citation fails.
    expect(citationErrors("src/kvm/x.ts", "// spec §14.4", defined, { specAllowed: false }).map(format)).toEqual([
      "src/kvm/x.ts:1: spec §14.4: cites the fact sheet, which is not in the repository: cite model.md §14.4",
    ]);
    // On the CPU side a bare § is the SDM's.
    expect(citationErrors("src/isa/x.ts", "// §6.14.2", defined, { specAllowed: true })).toEqual([]);
  });
});
