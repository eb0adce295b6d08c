/**
 * NASM's multi-line macros (NASM manual §4.3): `%macro NAME N`, ranges `N-M` and `N-*`, greedy `+`,
 * default parameters, `.nolist`; binding a call's arguments; `%1`…, `%0`, `%%local` and `%rotate`
 * substitution in the body, line by line as the expansion is processed.
 */
import type { Loc, Token } from "./lexer.js";
import { isName } from "./preprocess-define.js";

export interface Macro {
  name: string;
  min: number;
  /** Infinity for `N-*`. */
  max: number;
  /** `+`: arguments past `max` join the last parameter, commas included. */
  greedy: boolean;
  /** Values of the parameters min+1… when a call leaves them out. */
  defaults: Token[][];
  body: Token[][];
  loc: Loc;
}

/** One expansion in progress: its parameters (defaults filled in), rotation and %%local number. */
export interface MacroCall {
  macro: Macro;
  params: Token[][];
  rotate: number;
  id: number;
}

type Report = (tok: Token, message: string, severity?: "error" | "warning") => void;

/** `%macro NAME SPEC [defaults]`, SPEC = N | N-M | N-* with an optional `+` and `.nolist`. */
export function parseMacroHeader(tokens: Token[], report: Report): Macro | null {
  const [kw, name] = tokens;
  if (!name || !isName(name)) {
    report(kw, "%macro needs a name and a parameter count");
    return null;
  }
  const m: Macro = { name: name.value, min: 0, max: 0, greedy: false, defaults: [], body: [], loc: name.loc };
  let i = 2;
  const count = (): number | null => {
    const t = tokens[i];
    if (t?.type !== "number" || !/^[0-9]+$/.test(t.value)) return null;
    i++;
    return Number(t.value);
  };
  const min = count();
  if (min === null) {
    const at = tokens[2] ?? name;
    report(at, "%macro parameter count must be N, N-M or N-* (optionally with '+')");
    return null;
  }
  m.min = m.max = min;
  if (tokens[i]?.type === "-") {
    i++;
    if (tokens[i]?.type === "*") {
      i++;
      m.max = Number.POSITIVE_INFINITY;
    } else {
      const max = count();
      if (max === null || max < min) {
        report(tokens[i] ?? tokens[i - 1], "%macro parameter range must be N-M with M >= N, or N-*");
        return null;
      }
      m.max = max;
    }
  }
  if (tokens[i]?.type === "+") {
    i++;
    m.greedy = true;
  }
  if (tokens[i]?.type === "ident" && tokens[i].value.toLowerCase() === ".nolist") i++;
  const rest = tokens.slice(i);
  if (rest.length > 0) {
    m.defaults = splitArgs(rest).args;
    if (m.defaults.length > m.max - m.min) {
      report(rest[0], `%macro '${m.name}' has more default parameters than optional ones`);
      m.defaults = m.defaults.slice(0, Math.max(0, m.max - m.min));
    }
  }
  return m;
}

/** `1-3` for a range, `2+`, `1-*`: how a macro's parameter count is written. */
export function describeCount(m: Macro): string {
  const range =
    m.max === m.min ? `${m.min}` : m.max === Number.POSITIVE_INFINITY ? `${m.min} or more` : `${m.min} to ${m.max}`;
  return m.greedy && m.max === m.min ? `${m.min} or more` : range;
}

/** The arguments of a call, as NASM binds them to `m` (null when the count does not fit). */
export function bindArgs(m: Macro, argTokens: Token[], report: Report): Token[][] | null {
  const split = splitArgs(argTokens);
  let args = split.args;
  // NASM drops one trailing empty argument (`m 1,`) with a warning.
  if (args.length > 1 && args[args.length - 1].length === 0) {
    report(
      argTokens[argTokens.length - 1],
      `dropping trailing empty parameter in call to macro '${m.name}'`,
      "warning",
    );
    args = args.slice(0, -1);
  }
  if (m.greedy && args.length > m.max && m.max > 0) {
    // The greedy parameter is the rest of the line from its first token, commas included.
    const from = split.starts[m.max - 1];
    args = [...args.slice(0, m.max - 1), argTokens.slice(from).filter((t) => t.type !== "{" && t.type !== "}")];
  }
  if (args.length < m.min || args.length > m.max) return null;
  const params = [...args];
  for (let k = params.length; k < m.min + m.defaults.length; k++) params.push(m.defaults[k - m.min]);
  return params;
}

/** Macro arguments: comma-separated; braces group an argument containing commas (NASM §4.3.3). */
export function splitArgs(tokens: Token[]): { args: Token[][]; starts: number[] } {
  if (tokens.length === 0) return { args: [], starts: [] };
  const args: Token[][] = [[]];
  const starts = [0];
  let brace = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type === "{" && brace++ === 0) continue;
    if (t.type === "}" && brace > 0 && --brace === 0) continue;
    if (t.type === "," && brace === 0) {
      args.push([]);
      starts.push(i + 1);
      continue;
    }
    args[args.length - 1].push(t);
  }
  return { args, starts };
}

/** A body line with the call's parameters in place: `%n` (after %rotate; past the last parameter it is
 *  empty, as in NASM), `%0` (the parameter count, defaults included) and `%%x` (`..@<id>.x`). */
export function substituteParams(tokens: Token[], call: MacroCall): Token[] {
  let any = false;
  for (const t of tokens) if (t.type === "param" || t.type === "localLabel") any = true;
  if (!any) return tokens;
  const out: Token[] = [];
  const n = call.params.length;
  for (const t of tokens) {
    if (t.type === "param") {
      const k = Number(t.value.slice(1));
      if (k === 0) out.push({ type: "number", value: String(n), loc: t.loc, len: t.len });
      else if (k <= n) for (const a of call.params[(k - 1 + call.rotate) % n]) out.push(a);
    } else if (t.type === "localLabel") {
      // NASM names %%x in expansion n as ..@n.x; ..@ labels do not start a new local-label scope.
      out.push({ type: "ident", value: `..@${call.id}.${t.value.slice(2)}`, loc: t.loc, len: t.len });
    } else out.push(t);
  }
  return out;
}
