/**
 * NASM's preprocessor (NASM manual ch. 4): %define/%xdefine (with parameters)/%undef, %assign,
 * %if/%elif/%else/%endif and their def/idn/idni forms, %include "file", %rep N … %exitrep … %endrep,
 * %macro with ranges, defaults and greedy parameters (%1…, %0, %rotate, %%local), and the struc/istruc
 * structure macros. Works on token lines so every token keeps the file/line/col it was written at; a
 * line expanded from a macro keeps its call site too.
 */
import { tokenizeLine, type Token, type Loc } from "./lexer.js";
import { MAX_INCLUDE_DEPTH, MAX_LINES, MAX_MACRO_DEPTH, MAX_PP_WORK, MAX_REP } from "./limits.js";
import { CondStack, type CondKind, definedNames, identical } from "./preprocess-cond.js";
import { Defines, defineParams, isName } from "./preprocess-define.js";
import {
  bindArgs,
  describeCount,
  type Macro,
  type MacroCall,
  parseMacroHeader,
  substituteParams,
} from "./preprocess-macro.js";
import { expandStruc, STRUC_WORDS, type StrucContext } from "./preprocess-struc.js";

/** Resolves `%include "name"` seen in `fromFile` → the file's path and text, or null if not found. */
export type IncludeResolver = (name: string, fromFile: string) => { file: string; text: string } | null;

/** One logical line after preprocessing. `file`/`line` is where the user wrote the line that produced
 *  it (the macro call site for expanded lines); tokens keep their own origins. */
export interface PLine {
  readonly tokens: Token[];
  readonly file: string;
  readonly line: number;
}

/** A source line before preprocessing, with the place its output is attributed to and, for a macro
 *  body line, the expansion whose parameters it takes. */
interface RawLine {
  tokens: Token[];
  file: string;
  line: number;
  call?: MacroCall;
}

/** Evaluates a constant expression (%assign, %rep count, %if); null after reporting an error. */
export type ConstEvaluator = (tokens: Token[], at: Token) => bigint | null;

export interface PreprocessOutput {
  lines: PLine[];
  /** Source text lines per file (for diagnostics and listings). */
  sources: Map<string, string[]>;
}

/** processLines' outcome: go on, or leave the enclosing %rep (%exitrep). */
type Flow = "next" | "exitrep";

export class Preprocessor {
  private readonly defines = new Defines();
  private readonly macros = new Map<string, Macro[]>();
  private readonly active: string[] = [];
  private readonly includeStack: string[] = [];
  private readonly strucs: StrucContext[] = [];
  private expansionId = 0;
  /** %rep bodies being repeated in the current macro expansion (0: %exitrep has nothing to leave). */
  private repDepth = 0;
  /** Set once a limit is hit: everything after is dropped (one error). */
  private overflow = false;
  /** Lines looked at (including skipped ones and repeated empty %rep bodies): bounds the work. */
  private work = 0;
  readonly out: PLine[] = [];

  constructor(
    private readonly resolver: IncludeResolver | undefined,
    private readonly reportAt: (tok: Loc, len: number, message: string, severity?: "error" | "warning") => void,
    /** Filled with every file's lines as it is read (diagnostics render from it). */
    readonly sources: Map<string, string[]> = new Map(),
    private readonly evalConst: ConstEvaluator = () => null,
  ) {}

  private readonly report = (tok: Token, message: string, severity?: "error" | "warning"): void =>
    this.reportAt(tok.loc, tok.len, message, severity);

  run(text: string, file: string): PreprocessOutput {
    this.processFile(text, file);
    for (const s of this.strucs) this.report(s.tok, `${s.kind} has no ${s.kind === "struc" ? "endstruc" : "iend"}`);
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

  private stop(tok: Token | undefined, l: RawLine, message: string): void {
    this.report(tok ?? { type: "", value: "", loc: { file: l.file, line: l.line, col: 1 }, len: 1 }, message);
    this.overflow = true;
  }

  /** Lines of a file, a macro expansion or a %rep body: follows %if blocks, collects %macro and %rep
   *  blocks, passes the rest on. */
  private processLines(lines: RawLine[]): Flow {
    let macro: Macro | null = null;
    let depth = 0;
    let rep: { count: number; body: RawLine[]; tok: Token } | null = null;
    const conds = new CondStack();
    const host = {
      test: (kind: CondKind, head: Token, args: Token[]) => this.test(kind, head, args),
      report: this.report,
    };
    for (const l of lines) {
      if (this.overflow) return "next";
      const head = l.tokens[0];
      if (++this.work > MAX_PP_WORK) {
        this.stop(
          head,
          l,
          `more than ${MAX_PP_WORK} lines to preprocess (the preprocessing work limit; nested %rep or macros repeat too often)`,
        );
        return "next";
      }
      const dir = head && head.type === "ppDirective" ? head.value.toLowerCase() : "";
      if (macro) {
        if (dir === "%macro") depth++;
        if (dir === "%endmacro") {
          if (depth === 0) {
            const list = (this.macros.get(macro.name) ?? []).filter(
              (m) => m.min !== macro!.min || m.max !== macro!.max,
            );
            list.push(macro);
            this.macros.set(macro.name, list);
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
            this.repDepth++;
            for (let i = 0; i < r.count && !this.overflow; i++) {
              if (++this.work > MAX_PP_WORK) {
                this.stop(
                  r.tok,
                  l,
                  `more than ${MAX_PP_WORK} lines to preprocess (the preprocessing work limit; nested %rep or macros repeat too often)`,
                );
                break;
              }
              if (this.processLines(r.body) === "exitrep") break;
            }
            this.repDepth--;
            continue;
          }
          depth--;
        }
        rep.body.push(l);
        continue;
      }
      if (dir && conds.handle(l.tokens, host)) continue;
      if (!conds.active()) continue;
      const tokens = l.call ? substituteParams(l.tokens, l.call) : l.tokens;
      if (dir === "%macro" || dir === "%imacro") {
        if (dir === "%imacro")
          this.report(head, "%imacro is not supported by vpmu (use %macro; see docs/assembler.md)");
        macro = parseMacroHeader(tokens, this.report) ?? {
          name: "",
          min: 0,
          max: 0,
          greedy: false,
          defaults: [],
          body: [],
          loc: head.loc,
        };
        depth = 0;
        continue;
      }
      if (dir === "%rep") {
        // NASM §4.5: %rep N … %endrep repeats the lines N times (N a constant, evaluated now).
        const v = tokens.length > 1 ? this.evalConst(this.expand(tokens.slice(1)), head) : null;
        if (tokens.length < 2) this.report(head, "%rep needs a count");
        const n = v === null ? 0n : BigInt.asIntN(64, v);
        const bad = n < 0n || n > BigInt(MAX_REP);
        if (n < 0n) this.report(head, `%rep count ${n} is negative`);
        else if (bad) this.report(head, `%rep count ${n} is larger than ${MAX_REP} (the %rep count limit)`);
        rep = { count: bad ? 0 : Number(n), body: [], tok: head };
        depth = 0;
        continue;
      }
      if (dir === "%endrep") {
        this.report(head, "%endrep without %rep");
        continue;
      }
      if (dir === "%exitrep") {
        if (this.repDepth > 0) return "exitrep";
        this.report(head, "%exitrep outside a %rep block");
        continue;
      }
      if (dir === "%rotate") {
        this.rotate(tokens, l.call);
        continue;
      }
      this.processTokens(tokens, l.file, l.line);
      if (this.overflow) return "next";
      if (this.out.length > MAX_LINES) {
        const after = this.active.length > 0 ? " after macro expansion" : "";
        this.stop(head, l, `program has more than ${MAX_LINES} lines${after} (the line limit)`);
        return "next";
      }
    }
    if (macro) this.reportAt(macro.loc, Math.max(1, macro.name.length), `%macro '${macro.name}' has no %endmacro`);
    if (rep) this.report(rep.tok, "%rep has no %endrep");
    conds.close(host);
    return "next";
  }

  /** `%rotate N` (NASM §4.3.7): the parameters rotate left by N (right when negative). */
  private rotate(tokens: Token[], call: MacroCall | undefined): void {
    const head = tokens[0];
    if (!call) {
      this.report(head, "%rotate outside a macro");
      return;
    }
    const v = tokens.length > 1 ? this.evalConst(this.expand(tokens.slice(1)), head) : null;
    if (tokens.length < 2) this.report(head, "%rotate needs a count");
    const n = call.params.length;
    if (v === null || n === 0) return;
    const k = Number(BigInt.asIntN(64, v) % BigInt(n));
    call.rotate = (((call.rotate + k) % n) + n) % n;
  }

  private test(kind: CondKind, head: Token, args: Token[]): boolean {
    if (kind === "def") {
      const names = definedNames(args);
      if (!names) {
        this.report(args[0] ?? head, `${head.value} expects macro names`);
        return false;
      }
      return names.some((n) => this.defines.has(n));
    }
    if (kind === "idn" || kind === "idni") {
      const same = identical(this.expand(args), kind === "idni");
      if (same === null) this.report(head, `${head.value} expects two comma-separated token lists`);
      return same === true;
    }
    if (args.length === 0) {
      this.report(head, `${head.value} needs an expression`);
      return false;
    }
    const v = this.evalConst(this.expand(args), head);
    return v !== null && v !== 0n;
  }

  private expand(tokens: Token[]): Token[] {
    return this.defines.expand(tokens, this.report);
  }

  /** One line at the call site `file:line` (after macro parameter substitution, if any). */
  private processTokens(tokens: Token[], file: string, line: number): void {
    const head = tokens[0];
    if (head && head.type === "ppDirective") {
      this.directive(tokens);
      return;
    }
    const t = this.expand(tokens);
    // A macro call: NAME args…, or label: NAME args…
    let at = 0;
    if (t.length >= 2 && t[1].type === ":" && isName(t[0])) at = 2;
    const callee = t[at];
    if (callee && isName(callee)) {
      const word = callee.value.toLowerCase();
      // struc/istruc/at/iend are NASM standard macros (case-insensitive); `at` only inside istruc.
      const struc =
        STRUC_WORDS.has(word) &&
        !this.macros.has(callee.value) &&
        (word !== "at" || this.strucs[this.strucs.length - 1]?.kind === "istruc");
      if (struc || this.macros.has(callee.value)) {
        if (at > 0) this.out.push({ tokens: t.slice(0, 2), file, line });
        if (struc) {
          const lines = expandStruc(callee, t.slice(at + 1), this.strucs, () => ++this.expansionId, this.report);
          for (const l of lines ?? []) this.out.push({ tokens: l, file, line });
        } else this.call(this.macros.get(callee.value)!, callee, t.slice(at + 1), file, line);
        return;
      }
    }
    this.out.push({ tokens: t, file, line });
  }

  private directive(tokens: Token[]): void {
    const head = tokens[0];
    const dir = head.value.toLowerCase();
    if (dir === "%define" || dir === "%xdefine") {
      const name = tokens[1];
      if (!name || !isName(name)) {
        this.report(head, `${dir} needs a name`);
        return;
      }
      const p = defineParams(tokens, name);
      if (p === "bad") {
        this.report(tokens[2], `${dir} parameter list must be names separated by commas, closed by ')'`);
        return;
      }
      const body = tokens.slice(p ? p.end : 2);
      // %xdefine expands the body now; %define when the name is used (NASM §4.1.1, §4.1.2).
      this.defines.set(name.value, p ? p.params : null, dir === "%xdefine" ? this.expand(body) : body);
      return;
    }
    if (dir === "%assign") {
      // NASM §4.1.8: %assign NAME expr defines NAME as the expression's value, evaluated now.
      const name = tokens[1];
      if (!name || !isName(name) || tokens.length < 3) {
        this.report(head, "%assign needs a name and a value");
        return;
      }
      const v = this.evalConst(this.expand(tokens.slice(2)), head);
      if (v !== null)
        this.defines.set(name.value, null, [
          { type: "number", value: String(BigInt.asIntN(64, v)), loc: name.loc, len: name.len },
        ]);
      return;
    }
    if (dir === "%undef") {
      const name = tokens[1];
      if (!name || !isName(name)) this.report(head, "%undef needs a name");
      else this.defines.delete(name.value);
      return;
    }
    if (dir === "%include") {
      this.include(tokens);
      return;
    }
    if (dir === "%endmacro") {
      this.report(head, "%endmacro without %macro");
      return;
    }
    this.report(head, `unknown preprocessor directive '${head.value}'`);
  }

  private include(tokens: Token[]): void {
    const [head, arg] = tokens;
    if (arg?.type !== "string" || tokens.length > 2) {
      this.report(arg ?? head, "%include expects one quoted file name");
      return;
    }
    const name = arg.value.slice(1, -1);
    let found: { file: string; text: string } | null = null;
    try {
      found = this.resolver ? this.resolver(name, head.loc.file) : null;
    } catch (e) {
      this.report(arg, `include file '${name}' could not be read: ${(e as Error)?.message ?? String(e)}`);
      return;
    }
    if (!found) {
      this.report(arg, `include file '${name}' not found`);
      return;
    }
    if (this.includeStack.includes(found.file)) {
      this.report(
        arg,
        `include cycle: '${found.file}' includes itself (${[...this.includeStack, found.file].join(" -> ")})`,
      );
      return;
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      this.report(arg, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (the include depth limit)`);
      return;
    }
    this.processFile(found.text, found.file);
  }

  private call(candidates: Macro[], callee: Token, argTokens: Token[], file: string, line: number): void {
    let m = candidates[0];
    let params: Token[][] | null = null;
    for (const c of candidates) {
      params = bindArgs(c, argTokens, this.report);
      m = c;
      if (params) break;
    }
    if (!params) {
      const given = argTokens.length === 0 ? 0 : bindArgsCount(argTokens);
      const want = candidates.map(describeCount).join(" or ");
      this.report(callee, `macro '${m.name}' expects ${want} parameter${want === "1" ? "" : "s"}, got ${given}`);
      return;
    }
    if (this.active.includes(m.name)) {
      this.report(callee, `recursive macro call: '${m.name}' (${[...this.active, m.name].join(" -> ")})`);
      return;
    }
    if (this.active.length >= MAX_MACRO_DEPTH) {
      this.report(callee, `macro calls nested more than ${MAX_MACRO_DEPTH} deep (the macro expansion depth limit)`);
      return;
    }
    const call: MacroCall = { macro: m, params, rotate: 0, id: ++this.expansionId };
    this.active.push(m.name);
    const saved = this.repDepth;
    this.repDepth = 0;
    this.processLines(m.body.map((tokens) => ({ tokens, file, line, call })));
    this.repDepth = saved;
    this.active.pop();
  }
}

/** Arguments in a call (for the arity message). */
function bindArgsCount(tokens: Token[]): number {
  let n = 1;
  let brace = 0;
  for (const t of tokens) {
    if (t.type === "{") brace++;
    else if (t.type === "}") brace = Math.max(0, brace - 1);
    else if (t.type === "," && brace === 0) n++;
  }
  return n;
}
