/**
 * NASM's preprocessor subset (NASM manual ch. 4): %define/%xdefine/%undef (no parameters), %assign,
 * %include "file", %rep N … %endrep, %macro NAME N … %endmacro with %1..%N, %0 and %%local labels. Works on token lines so every token
 * keeps the file/line/col it was written at; a line expanded from a macro keeps its call site too.
 */
import { tokenizeLine, type Token, type Loc } from "./lexer.js";

/** Resolves `%include "name"` seen in `fromFile` → the file's path and text, or null if not found. */
export type IncludeResolver = (name: string, fromFile: string) => { file: string; text: string } | null;

/** One logical line after preprocessing. `file`/`line` is where the user wrote the line that produced
 *  it (the macro call site for expanded lines); tokens keep their own origins. */
export interface PLine {
  readonly tokens: Token[];
  readonly file: string;
  readonly line: number;
}

/** A source line before preprocessing, with the place its output is attributed to. */
interface RawLine {
  tokens: Token[];
  file: string;
  line: number;
}

/** Evaluates a constant expression (%assign, %rep count); null after reporting an error. */
export type ConstEvaluator = (tokens: Token[], at: Token) => bigint | null;

interface Macro {
  name: string;
  nparams: number;
  body: Token[][];
  loc: Loc;
}

const MAX_INCLUDE_DEPTH = 32;
const MAX_MACRO_DEPTH = 64;
/** Lines after expansion: stops macro bombs long before memory runs out. */
const MAX_LINES = 100_000;

export interface PreprocessOutput {
  lines: PLine[];
  /** Source text lines per file (for diagnostics and listings). */
  sources: Map<string, string[]>;
}

export class Preprocessor {
  private readonly defines = new Map<string, Token[]>();
  private readonly macros = new Map<string, Macro>();
  private readonly active: string[] = [];
  private readonly includeStack: string[] = [];
  private expansionId = 0;
  /** Set once the output exceeds MAX_LINES: everything after is dropped (one error). */
  private overflow = false;
  /** Lines looked at (including repeated empty %rep bodies): bounds the work whatever the input. */
  private work = 0;
  readonly out: PLine[] = [];

  constructor(
    private readonly resolver: IncludeResolver | undefined,
    private readonly report: (tok: Loc, len: number, message: string) => void,
    /** Filled with every file's lines as it is read (diagnostics render from it). */
    readonly sources: Map<string, string[]> = new Map(),
    private readonly evalConst: ConstEvaluator = () => null,
  ) {}

  run(text: string, file: string): PreprocessOutput {
    this.processFile(text, file);
    return { lines: this.out, sources: this.sources };
  }

  private processFile(text: string, file: string): void {
    const raw = text.split(/\r?\n/);
    if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
    if (!this.sources.has(file)) this.sources.set(file, raw);
    this.includeStack.push(file);
    const lines: RawLine[] = raw.map((t, i) => ({ tokens: tokenizeLine(t, file, i + 1), file, line: i + 1 }));
    this.processLines(lines);
    this.includeStack.pop();
  }

  /** Lines of a file, a macro expansion or a %rep body: collects %macro and %rep blocks, passes the
   *  rest on. */
  private processLines(lines: RawLine[]): void {
    let macro: Macro | null = null;
    let depth = 0;
    let rep: { count: number; body: RawLine[]; tok: Token } | null = null;
    for (const l of lines) {
      if (this.overflow) return;
      const head = l.tokens[0];
      if (++this.work > 20 * MAX_LINES) {
        const where = head ?? { loc: { file: l.file, line: l.line, col: 1 }, len: 1 };
        this.report(where.loc, where.len, "too much preprocessing work (nested %rep or macros repeat too often)");
        this.overflow = true;
        return;
      }
      const dir = head && head.type === "ppDirective" ? head.value.toLowerCase() : "";
      if (macro) {
        if (dir === "%macro") depth++;
        if (dir === "%endmacro") {
          if (depth === 0) {
            this.macros.set(macro.name, macro);
            macro = null;
            continue;
          }
          depth--;
        }
        macro.body.push(l.tokens);
        continue;
      }
      if (rep) {
        if (dir === "%rep") depth++;
        if (dir === "%endrep") {
          if (depth === 0) {
            const r = rep;
            rep = null;
            for (let i = 0; i < r.count && !this.overflow; i++) {
              if (++this.work > 20 * MAX_LINES) {
                this.report(
                  r.tok.loc,
                  r.tok.len,
                  "too much preprocessing work (nested %rep or macros repeat too often)",
                );
                this.overflow = true;
                break;
              }
              this.processLines(r.body);
            }
            continue;
          }
          depth--;
        }
        rep.body.push(l);
        continue;
      }
      if (dir === "%macro") {
        macro = this.beginMacro(l.tokens);
        depth = 0;
        continue;
      }
      if (dir === "%rep") {
        // NASM §4.5: %rep N … %endrep repeats the lines N times (N a constant, evaluated now).
        const v = l.tokens.length > 1 ? this.evalConst(this.expandDefines(l.tokens.slice(1), 0), head) : null;
        if (l.tokens.length < 2) this.report(head.loc, head.len, "%rep needs a count");
        const n = v === null ? 0n : BigInt.asIntN(64, v);
        if (n < 0n || n > BigInt(MAX_LINES)) this.report(head.loc, head.len, `%rep count ${n} is out of range`);
        rep = { count: n < 0n || n > BigInt(MAX_LINES) ? 0 : Number(n), body: [], tok: head };
        depth = 0;
        continue;
      }
      if (dir === "%endrep") {
        this.report(head.loc, head.len, "%endrep without %rep");
        continue;
      }
      this.processTokens(l.tokens, l.file, l.line);
      if (this.overflow) return;
      if (this.out.length > MAX_LINES) {
        const where = head ?? { loc: { file: l.file, line: l.line, col: 1 }, len: 1 };
        const after = this.active.length > 0 ? " after macro expansion" : "";
        this.report(where.loc, where.len, `program too large${after} (more than ${MAX_LINES} lines)`);
        this.overflow = true;
        return;
      }
    }
    if (macro) this.report(macro.loc, macro.name.length, `%macro '${macro.name}' has no %endmacro`);
    if (rep) this.report(rep.tok.loc, rep.tok.len, "%rep has no %endrep");
  }

  private beginMacro(tokens: Token[]): Macro {
    const [kw, name, count] = tokens;
    const m: Macro = { name: "", nparams: 0, body: [], loc: kw.loc };
    if (!name || !isName(name)) {
      this.report(kw.loc, kw.len, "%macro needs a name and a parameter count");
      return m;
    }
    m.name = name.value;
    m.loc = name.loc;
    if (count?.type !== "number" || !/^[0-9]+$/.test(count.value) || tokens.length > 3) {
      this.report(
        (count ?? name).loc,
        (count ?? name).len,
        "%macro parameter count must be a plain number (ranges and '+' are not supported)",
      );
      return m;
    }
    m.nparams = Number(count.value);
    return m;
  }

  /** One line at the call site `file:line` (after macro parameter substitution, if any). */
  private processTokens(tokens: Token[], file: string, line: number): void {
    const head = tokens[0];
    if (head && head.type === "ppDirective") {
      this.directive(tokens, file, line);
      return;
    }
    const t = this.expandDefines(tokens, 0);
    // A macro call: NAME args…, or label: NAME args…
    let at = 0;
    if (t.length >= 2 && t[1].type === ":" && isName(t[0])) at = 2;
    const callee = t[at];
    if (callee && isName(callee) && this.macros.has(callee.value)) {
      if (at > 0) this.out.push({ tokens: t.slice(0, 2), file, line });
      this.expand(this.macros.get(callee.value)!, callee, t.slice(at + 1), file, line);
      return;
    }
    this.out.push({ tokens: t, file, line });
  }

  private directive(tokens: Token[], file: string, line: number): void {
    const head = tokens[0];
    const dir = head.value.toLowerCase();
    if (dir === "%define" || dir === "%xdefine") {
      const name = tokens[1];
      if (!name || !isName(name)) {
        this.report(head.loc, head.len, `${dir} needs a name`);
        return;
      }
      if (tokens[2] && tokens[2].type === "(" && tokens[2].loc.col === name.loc.col + name.len) {
        this.report(tokens[2].loc, 1, "%define with parameters is not supported");
        return;
      }
      const body = tokens.slice(2);
      this.defines.set(name.value, dir === "%xdefine" ? this.expandDefines(body, 0) : body);
      return;
    }
    if (dir === "%assign") {
      // NASM §4.1.8: %assign NAME expr defines NAME as the expression's value, evaluated now.
      const name = tokens[1];
      if (!name || !isName(name) || tokens.length < 3) {
        this.report(head.loc, head.len, "%assign needs a name and a value");
        return;
      }
      const v = this.evalConst(this.expandDefines(tokens.slice(2), 0), head);
      if (v !== null)
        this.defines.set(name.value, [{ type: "number", value: String(v), loc: name.loc, len: name.len }]);
      return;
    }
    if (dir === "%undef") {
      const name = tokens[1];
      if (name) this.defines.delete(name.value);
      return;
    }
    if (dir === "%include") {
      const arg = tokens[1];
      if (arg?.type !== "string" || tokens.length > 2) {
        this.report((arg ?? head).loc, (arg ?? head).len, "%include expects one quoted file name");
        return;
      }
      const name = arg.value.slice(1, -1);
      const from = head.loc.file;
      let found: { file: string; text: string } | null = null;
      try {
        found = this.resolver ? this.resolver(name, from) : null;
      } catch (e) {
        this.report(
          arg.loc,
          arg.len,
          `include file '${name}' could not be read: ${(e as Error)?.message ?? String(e)}`,
        );
        return;
      }
      if (!found) {
        this.report(arg.loc, arg.len, `include file '${name}' not found`);
        return;
      }
      if (this.includeStack.includes(found.file)) {
        this.report(
          arg.loc,
          arg.len,
          `include cycle: '${found.file}' includes itself (${[...this.includeStack, found.file].join(" -> ")})`,
        );
        return;
      }
      if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
        this.report(arg.loc, arg.len, "includes nested too deeply");
        return;
      }
      this.processFile(found.text, found.file);
      return;
    }
    if (dir === "%endmacro") {
      this.report(head.loc, head.len, "%endmacro without %macro");
      return;
    }
    this.report(head.loc, head.len, `unknown preprocessor directive '${head.value}'`);
    void file;
    void line;
  }

  private expandDefines(tokens: Token[], depth: number): Token[] {
    if (this.defines.size === 0) return tokens;
    let changed = false;
    const out: Token[] = [];
    for (const t of tokens) {
      const body = isName(t) ? this.defines.get(t.value) : undefined;
      if (body === undefined) {
        out.push(t);
        continue;
      }
      changed = true;
      // Replacement tokens point at the use site, so a diagnostic underlines the name the user wrote.
      for (const b of body) out.push({ ...b, loc: t.loc, len: t.len });
    }
    if (!changed) return tokens;
    if (depth > 32) {
      this.report(tokens[0].loc, tokens[0].len, "%define expansion too deep (recursive definition?)");
      return out;
    }
    return this.expandDefines(out, depth + 1);
  }

  private expand(m: Macro, callee: Token, argTokens: Token[], file: string, line: number): void {
    if (this.active.includes(m.name)) {
      this.report(
        callee.loc,
        callee.len,
        `recursive macro call: '${m.name}' (${[...this.active, m.name].join(" -> ")})`,
      );
      return;
    }
    if (this.active.length >= MAX_MACRO_DEPTH) {
      this.report(callee.loc, callee.len, "macro calls nested too deeply");
      return;
    }
    const args = splitArgs(argTokens);
    if (args.length !== m.nparams) {
      this.report(
        callee.loc,
        callee.len,
        `macro '${m.name}' expects ${m.nparams} parameter${m.nparams === 1 ? "" : "s"}, got ${args.length}`,
      );
      return;
    }
    const id = ++this.expansionId;
    this.active.push(m.name);
    const expanded: RawLine[] = [];
    for (const bodyLine of m.body) {
      const out: Token[] = [];
      let bad = false;
      for (const t of bodyLine) {
        if (t.type === "param") {
          const n = Number(t.value.slice(1));
          if (n === 0) {
            out.push({ type: "number", value: String(args.length), loc: t.loc, len: t.len });
          } else if (n > args.length) {
            this.report(t.loc, t.len, `macro '${m.name}' has no parameter ${t.value}`);
            bad = true;
          } else out.push(...args[n - 1]);
        } else if (t.type === "localLabel") {
          // NASM names %%x in expansion n as ..@n.x; ..@ labels do not start a new local-label scope.
          out.push({ type: "ident", value: `..@${id}.${t.value.slice(2)}`, loc: t.loc, len: t.len });
        } else out.push(t);
      }
      if (!bad) expanded.push({ tokens: out, file, line });
    }
    this.processLines(expanded);
    this.active.pop();
  }
}

function isName(t: Token): boolean {
  return /^[A-Za-z_.?]/.test(t.value) && t.type !== "string" && t.type !== "ppDirective";
}

/** Macro arguments: comma-separated; braces group an argument containing commas (NASM §4.3.3). */
function splitArgs(tokens: Token[]): Token[][] {
  if (tokens.length === 0) return [];
  const args: Token[][] = [[]];
  let brace = 0;
  for (const t of tokens) {
    if (t.type === "{" && brace++ === 0) continue;
    if (t.type === "}" && brace > 0 && --brace === 0) continue;
    if (t.type === "," && brace === 0) {
      args.push([]);
      continue;
    }
    args[args.length - 1].push(t);
  }
  return args;
}
