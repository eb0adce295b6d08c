/**
 * The house rules a reader cannot check file by file (the layers of docs/architecture.md, issue 11 item 6):
 * each folder under src/ imports only from its own layer and those below it, no source file grows past
 * 550 lines, no `as unknown as` cast, no exported `const enum` (tsc inlines it, vitest keeps it).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Lowest first; a folder may import only from its own layer and those before it. src/result.ts is a
 * leaf below everything; src/index.ts sits above every library folder and below the CLI. vmm sits
 * right after asm, not after vmx as first drafted: KVM's userspace exits hand port and MMIO accesses to
 * the VMM's IoHandler (kvm/vmm.ts imports vmm/io.ts), and vmm needs only isa.
 */
const LAYERS = [
  "result.ts",
  "arch",
  "isa",
  "asm",
  "vmm",
  "host",
  "pmu",
  "kvm",
  "vmx",
  "check",
  "machine",
  "report",
  "sweep",
  "golden",
  "index.ts",
  "cli",
] as const;

const MAX_LINES = 550;
/** Build output of grammar/*.ne (nearleyc), not written by hand. */
const GENERATED = /^src\/asm\/generated\//;

interface Violation {
  readonly rule: "layer" | "unknown-layer" | "size" | "cast" | "const-enum";
  readonly file: string;
  readonly message: string;
}

/** The layer of a path relative to the repository root (`src/kvm/vcpu.ts` → `kvm`, `src/index.ts` → `index.ts`),
 *  or null outside src/. */
function layerOf(path: string): string | null {
  const parts = path.split("/");
  if (parts[0] !== "src" || parts.length < 2) return null;
  return parts[1];
}

function rank(layer: string): number {
  return (LAYERS as readonly string[]).indexOf(layer);
}

/** Module specifiers of every static import, re-export and dynamic `import()` in a source file. */
function importsOf(sf: ts.SourceFile): { spec: string; line: number }[] {
  const out: { spec: string; line: number }[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined): void => {
    if (spec && ts.isStringLiteralLike(spec))
      out.push({ spec: spec.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node, node.arguments[0]);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node, node.moduleReference.expression);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every rule broken by the given sources (paths relative to the repository root, text as read). */
function check(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    if (from === null) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    if (rank(from) < 0) {
      out.push({
        rule: "unknown-layer",
        file,
        message: `${file}: folder '${from}' is not in the layer order (${LAYERS.join(", ")})`,
      });
    }
    for (const { spec, line } of importsOf(sf)) {
      if (!spec.startsWith(".")) continue; // packages and node: built-ins are not layers
      const target = relative(".", resolve(dirname(file), spec))
        .split("\\")
        .join("/")
        .replace(/\.js$/, ".ts");
      const to = layerOf(target);
      if (to === null || rank(from) < 0 || rank(to) < 0) continue;
      if (rank(to) > rank(from)) {
        out.push({
          rule: "layer",
          file,
          message: `${file}:${line} (layer ${from}) imports ${target} (layer ${to}), which is above it`,
        });
      }
    }
    if (!GENERATED.test(file)) {
      const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
      if (lines > MAX_LINES)
        out.push({ rule: "size", file, message: `${file}: ${lines} lines (at most ${MAX_LINES})` });
    }
    const constEnums = new Set<string>();
    const visit = (node: ts.Node): void => {
      // `x as unknown as T`, with or without parentheses around the inner cast.
      if (ts.isAsExpression(node) && node.type.kind !== ts.SyntaxKind.UnknownKeyword) {
        let inner = node.expression;
        while (ts.isParenthesizedExpression(inner)) inner = inner.expression;
        if (ts.isAsExpression(inner) && inner.type.kind === ts.SyntaxKind.UnknownKeyword) {
          const at = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          out.push({ rule: "cast", file, message: `${file}:${at}: 'as unknown as' cast` });
        }
      }
      if (ts.isEnumDeclaration(node) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ConstKeyword)) {
        const at = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        if (node.modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))
          out.push({ rule: "const-enum", file, message: `${file}:${at}: exported const enum ${node.name.text}` });
        else constEnums.add(node.name.text);
      }
      if (ts.isExportSpecifier(node) && !node.parent.parent.moduleSpecifier) {
        const local = (node.propertyName ?? node.name).text;
        if (constEnums.has(local))
          out.push({ rule: "const-enum", file, message: `${file}: exported const enum ${local}` });
      }
      ts.forEachChild(node, visit);
    };
    // Declarations first, so `const enum E {}; export { E }` is seen in either order.
    ts.forEachChild(sf, (n) => {
      if (ts.isEnumDeclaration(n) && n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ConstKeyword))
        if (!n.modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) constEnums.add(n.name.text);
    });
    visit(sf);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

describe("architecture", () => {
  const root = resolve(import.meta.dirname, "..");
  const files = new Map<string, string>();
  for (const p of sourceFiles(join(root, "src")))
    files.set(relative(root, p).split("\\").join("/"), readFileSync(p, "utf8"));
  const violations = check(files);

  it("reads the whole tree", () => {
    expect(files.has("src/result.ts")).toBe(true);
    expect(files.has("src/index.ts")).toBe(true);
    expect(files.size).toBeGreaterThan(50);
  });

  for (const rule of ["layer", "unknown-layer", "size", "cast", "const-enum"] as const) {
    it(`has no ${rule} violation`, () => {
      expect(violations.filter((v) => v.rule === rule).map((v) => v.message)).toEqual([]);
    });
  }
});

describe("architecture checker", () => {
  it("names the importing file, the imported file and both layers for an upward import", () => {
    const v = check(
      new Map([
        ["src/host/presets.ts", `import { EVENTSEL_EN } from "../pmu/pmu.js";\n`],
        ["src/pmu/pmu.ts", `import { PERF_CAP } from "../host/presets.js";\nexport const EVENTSEL_EN = 1;\n`],
      ]),
    );
    expect(v.map((x) => x.message)).toEqual([
      "src/host/presets.ts:1 (layer host) imports src/pmu/pmu.ts (layer pmu), which is above it",
    ]);
  });

  it("sees re-exports, dynamic imports and type-only imports; the result leaf and index files", () => {
    const v = check(
      new Map([
        ["src/result.ts", `export type { X } from "./isa/x.js";\n`],
        ["src/isa/index.ts", `export async function f() { return import("../cli/main.js"); }\n`],
        ["src/asm/a.ts", `import type { Vcpu } from "../kvm/vcpu.js";\nimport { ok } from "../result.js";\n`],
        ["src/cli/main.ts", `import { x } from "../index.js";\nimport { y } from "../golden/index.js";\n`],
        ["src/index.ts", `export * from "./cli/main.js";\nexport * from "./golden/index.js";\n`],
      ]),
    );
    expect(v.map((x) => x.message)).toEqual([
      "src/result.ts:1 (layer result.ts) imports src/isa/x.ts (layer isa), which is above it",
      "src/isa/index.ts:1 (layer isa) imports src/cli/main.ts (layer cli), which is above it",
      "src/asm/a.ts:1 (layer asm) imports src/kvm/vcpu.ts (layer kvm), which is above it",
      "src/index.ts:1 (layer index.ts) imports src/cli/main.ts (layer cli), which is above it",
    ]);
  });

  it("flags long files (not generated ones), double casts, exported const enums and unknown folders", () => {
    const long = "x;\n".repeat(MAX_LINES + 1);
    const v = check(
      new Map([
        ["src/isa/big.ts", long],
        ["src/isa/fits.ts", "x;\n".repeat(MAX_LINES)],
        ["src/asm/generated/asm.ts", long],
        ["src/kvm/a.ts", `const v = (g as unknown) as Vcpu;\nconst w = g as unknown;\nconst u = g as Vcpu;\n`],
        ["src/arch/e.ts", `export const enum A { X }\nconst enum B { Y }\nconst enum C { Z }\nexport { C };\n`],
        ["src/misc/x.ts", ""],
      ]),
    );
    expect(v.map((x) => x.message)).toEqual([
      `src/isa/big.ts: ${MAX_LINES + 1} lines (at most ${MAX_LINES})`,
      "src/kvm/a.ts:1: 'as unknown as' cast",
      "src/arch/e.ts:1: exported const enum A",
      "src/arch/e.ts: exported const enum C",
      `src/misc/x.ts: folder 'misc' is not in the layer order (${LAYERS.join(", ")})`,
    ]);
  });
});
