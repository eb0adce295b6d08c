/**
 * An operand after its expression is evaluated (NASM manual §3.3 effective addresses): a register, an
 * immediate, or a memory operand reduced to base + index*scale + disp as the SDM's ModRM/SIB can encode it.
 */
import type { Operand } from "./ast.js";
import type { Diags } from "./diagnostics.js";
import { evaluate, type EvalEnv, type Value } from "./expr.js";
import type { Token } from "./lexer.js";
import { REGISTERS, type RegInfo } from "./registers.js";
import type { CodeBits } from "../isa/modes.js";

/** An operand after its expression is evaluated. */
export type ROp =
  | { t: "reg"; reg: RegInfo; tok: Token }
  | {
      t: "imm";
      v: bigint;
      reloc: boolean;
      unknown: boolean;
      /** Size keyword (0 = none) and `strict`. */
      size: number;
      strict: boolean;
      jump?: "short" | "near";
      tok: Token;
    }
  | {
      t: "mem";
      size: number;
      base: RegInfo | null;
      index: RegInfo | null;
      scale: number;
      disp: bigint;
      dispReloc: boolean;
      dispUnknown: boolean;
      /** [rel x] / default rel with no registers: RIP-relative, disp = target − next RIP. */
      ripRel: boolean;
      /** Forced displacement width ([byte …] / [dword …]), 0 = choose. */
      dispSize: number;
      /** The address size the registers give (16, 32, 64), or the code size's when there are none. */
      asize: 16 | 32 | 64;
      addr32: boolean;
      /** Segment-override register number (ES CS SS DS FS GS = 0..5), -1 for none. */
      seg: number;
      /** `far [mem]`: a far pointer (m16:16/32/64). */
      far?: boolean;
      tok: Token;
    }
  /** `sel:offset` (jmp 0x08:start): size is the offset's size keyword (0 = the code size). */
  | { t: "ptr"; sel: bigint; off: bigint; unknown: boolean; size: number; tok: Token };

const SIZE_BITS: Readonly<Record<string, number>> = { byte: 8, word: 16, dword: 32, qword: 64 };

/** Evaluates an operand into a register, an immediate or an effective address. */
export function resolveOperand(
  o: Operand,
  env: EvalEnv,
  defaultRel: boolean,
  bits: CodeBits,
  diags: Diags,
): ROp | null {
  const size = o.size ? SIZE_BITS[o.size.value.toLowerCase()] : 0;
  if (o.k === "ptr") {
    const sel = evaluate(o.sel, env),
      off = evaluate(o.off, env);
    if (sel.regs.length || off.regs.length) {
      diags.add(o.tok, "a far pointer is a number:number (selector:offset)");
      return null;
    }
    return { t: "ptr", sel: sel.v, off: off.v, unknown: sel.unknown || off.unknown, size, tok: o.tok };
  }
  const v = evaluate(o.e, env);
  if (o.k === "expr") {
    if (v.regs.length) {
      const r = v.regs[0];
      if (v.regs.length === 1 && r.coef === 1n && v.v === 0n && v.reloc === 0 && !o.jump) {
        if (size && size !== r.reg.size) {
          diags.add(o.size!, `operand size mismatch: '${r.reg.name}' is ${r.reg.size}-bit, not ${size}-bit`);
          return null;
        }
        return { t: "reg", reg: r.reg, tok: r.tok };
      }
      diags.add(o.tok, "a register can only appear alone or inside [ ]");
      return null;
    }
    return {
      t: "imm",
      v: v.v,
      reloc: v.reloc !== 0,
      unknown: v.unknown,
      size,
      strict: !!o.strict,
      jump: o.jump,
      tok: o.tok,
    };
  }
  const m = resolveMem(o, v, size, bits, defaultRel, diags);
  if (m?.t === "mem" && o.far) m.far = true;
  if (m?.t === "mem" && o.seg) {
    const r = REGISTERS.get(o.seg.value.toLowerCase());
    if (r?.cls !== "sreg") {
      diags.add(o.seg, `'${o.seg.value}' is not a segment register (es, cs, ss, ds, fs, gs)`);
      return null;
    }
    m.seg = r.num;
  }
  return m;
}

function resolveMem(
  o: Operand & { k: "mem" },
  v: Value,
  size: number,
  bits: CodeBits,
  defaultRel: boolean,
  diags: Diags,
): ROp | null {
  // The caret covers the whole operand, from its size keyword or '[' to ']'.
  const a = o.tok;
  const tok =
    a.loc.line === o.end.loc.line && a.loc.file === o.end.loc.file && o.end.loc.col >= a.loc.col
      ? { ...a, len: o.end.loc.col + o.end.len - a.loc.col }
      : a;
  // Combine repeated registers (rax+rax → rax*2) and drop zero coefficients.
  const terms: { reg: RegInfo; coef: bigint; tok: Token }[] = [];
  for (const r of v.regs) {
    const t = terms.find((x) => x.reg.name === r.reg.name);
    if (t) t.coef += r.coef;
    else terms.push({ ...r });
  }
  const live = terms.filter((t) => t.coef !== 0n);
  const bad = (m = "invalid effective address"): null => {
    diags.add(tok, m);
    return null;
  };
  for (const t of live) {
    if (t.reg.cls !== "gpr" || t.reg.size < (bits === 64 ? 32 : 16))
      return bad(
        `'${t.reg.name}' cannot be used in an address (${bits === 64 ? "64-bit mode uses 64- or 32-bit registers" : "16- or 32-bit registers only"})`,
      );
    if (bits !== 64 && t.reg.size === 64) return bad(`'${t.reg.name}' is a 64-bit register: not in ${bits}-bit code`);
  }
  if (live.length > 2) return bad();
  // With no register, `[word …]` / `[dword …]` outside 64-bit code is the address size (NASM: a 16-bit
  // address in 32-bit code takes 0x67 and ModRM 06 or moffs16; a 32-bit one in 16-bit code likewise).
  const forced = o.dispSize && live.length === 0 && bits !== 64 ? SIZE_BITS[o.dispSize.value.toLowerCase()] : 0;
  const asz = live.length ? live[0].reg.size : forced === 16 || forced === 32 ? forced : bits;
  if (forced === 64) return bad("a 64-bit address ([qword …]) exists only in 64-bit code");
  if (live.some((t) => t.reg.size !== asz)) return bad("cannot mix registers of different sizes in an address");
  if (asz === 16) return mem16(o, v, size, live, tok, bad);
  let base: RegInfo | null = null;
  let index: RegInfo | null = null;
  let scale = 1;
  const okScale = (c: bigint): boolean => c === 1n || c === 2n || c === 4n || c === 8n;
  if (live.length === 1) {
    const t = live[0];
    // NASM: [r*2] [r*3] [r*5] [r*9] become [r + r*(n-1)] (shorter than a disp32 with no base).
    if (t.coef === 1n) base = t.reg;
    else if (t.coef === 2n || t.coef === 3n || t.coef === 5n || t.coef === 9n) {
      base = t.reg;
      index = t.reg;
      scale = Number(t.coef - 1n);
    } else if (okScale(t.coef)) {
      index = t.reg;
      scale = Number(t.coef);
    } else return bad(`scale ${t.coef} is not 1, 2, 4 or 8`);
  } else if (live.length === 2) {
    const [a, b] = live;
    if (a.coef === 1n && okScale(b.coef)) {
      base = a.reg;
      index = b.reg;
      scale = Number(b.coef);
    } else if (b.coef === 1n && okScale(a.coef)) {
      base = b.reg;
      index = a.reg;
      scale = Number(a.coef);
    } else return bad();
  }
  if (index && index.num === 4) {
    // RSP cannot be an index (SDM Table 2-3): swap with the base when the scale is 1.
    if (scale === 1 && base && base.num !== 4) [base, index] = [index, base];
    else return bad(`'${index.name}' cannot be an index register`);
  }
  // RIP-relative only for a label address (NASM: "absolute address can not be RIP-relative" — a plain
  // number stays a SIB absolute disp32 even under `rel` / `default rel`). A label not known yet (a forward
  // reference in the first pass) has no segment in NASM either, so that pass sizes the operand as the SIB
  // absolute form, one byte longer: a jump sized against that layout can end up near where a short one
  // would also fit, and NASM keeps it (checked against nasm 2.16: `jmp f` / `lea rax, [rel f]` /
  // `times 120 nop` / `f:` gives E9).
  const ripRel =
    bits === 64 && live.length === 0 && v.reloc !== 0 && (o.mode === "rel" || (defaultRel && o.mode !== "abs"));
  const dispSize = o.dispSize ? SIZE_BITS[o.dispSize.value.toLowerCase()] : 0;
  return {
    t: "mem",
    size,
    base,
    index,
    scale,
    disp: v.v,
    dispReloc: v.reloc !== 0,
    dispUnknown: v.unknown,
    ripRel,
    dispSize,
    asize: asz as 32 | 64,
    addr32: asz === 32 && bits === 64,
    seg: -1,
    tok,
  };
}

/** A 16-bit effective address (SDM Vol. 2 Table 2-1): at most one of BX/BP and one of SI/DI, scale 1. */
function mem16(
  o: Operand & { k: "mem" },
  v: Value,
  size: number,
  live: { reg: RegInfo; coef: bigint; tok: Token }[],
  tok: Token,
  bad: (m?: string) => null,
): ROp | null {
  let base: RegInfo | null = null;
  let index: RegInfo | null = null;
  for (const t of live) {
    if (t.coef !== 1n) return bad("16-bit addresses take no scale");
    if (t.reg.num === 3 || t.reg.num === 5) {
      if (base) return bad("a 16-bit address takes one of bx/bp");
      base = t.reg;
    } else if (t.reg.num === 6 || t.reg.num === 7) {
      if (index) return bad("a 16-bit address takes one of si/di");
      index = t.reg;
    } else return bad(`'${t.reg.name}' cannot be used in a 16-bit address (bx, bp, si, di)`);
  }
  const dispSize = o.dispSize ? SIZE_BITS[o.dispSize.value.toLowerCase()] : 0;
  return {
    t: "mem",
    size,
    base,
    index,
    scale: 1,
    disp: v.v,
    dispReloc: v.reloc !== 0,
    dispUnknown: v.unknown,
    ripRel: false,
    dispSize,
    asize: 16,
    addr32: false,
    seg: -1,
    tok,
  };
}
