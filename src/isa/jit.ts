/**
 * Block compiler: a hot straight-line run of decoded instructions (ending at a branch or at the first
 * instruction it does not compile) becomes one JS function, built once with `new Function` and cached by
 * start address; a block that branches back to its own start runs as a JS loop bounded by the remaining
 * budget. Everything it knows about an operation comes from the operation's row in semantics.ts: its
 * `compile` form (jit-emit.ts), the flags it reads and writes (for static liveness: flags are computed
 * only where a later instruction of the block could observe them; all flags are live at block exit),
 * whether it is a branch (ends the block), calls the platform, and its privilege rule. Anything unusual —
 * an address outside RAM, a store that invalidated the block, a privilege fault — returns to the
 * interpreter *before* the instruction, which then runs (and faults) exactly as it would have.
 * test/isa/jit.test.ts runs programs both ways and requires identical state and events.
 */
import { aluBin, aluIncDec, aluShift, AluOp, type AluOut } from "./alu.js";
import { aluDiv, aluMul } from "./muldiv.js";
import { AF, CF, OF, PARITY, PF, SF, STATUS, ZF } from "./flags.js";
import { type Insn, K } from "./insn.js";
import type { EmitCtx } from "./jit-emit.js";
import {
  ALIGN_RE,
  allHoisted,
  aluParts,
  type BlockCpu,
  cacheJs,
  cpuField,
  eaJs,
  Gen,
  l1Clash,
  LITTLE_ENDIAN,
  PAGED_PROLOGUE,
  regWrite,
  storeJs,
  WARM_LINES,
  warmLines,
} from "./jit-gen.js";
import { Op } from "./ops.js";
import { Priv, SEMANTICS, flagsRead, flagsWritten } from "./semantics.js";
import { UOPS } from "./uops.js";
import { loopTierJs, type WasmLoop, wasmLoop } from "./jit-wasm.js";

export type { BlockCpu } from "./jit-gen.js";

export interface Block {
  valid: boolean;
  /** Linear address of the first instruction (the block runs only from there). */
  start: number;
  /** Its RAM offset: the block cache's key (cpu.ts compileAt; memory.ts drops blocks by it). */
  phys: number;
  /** Instructions in one pass of the block. */
  n: number;
  /** Run the block (repeatedly, if it loops on itself) retiring at most `left` instructions; returns how
   *  many retired (0 = the first instruction must be interpreted). Updates RIP, RFLAGS and events. */
  fn: (left: number) => number;
  /** Its passes run in the loop tier (jit-wasm.ts). */
  wasm: boolean;
}

export const MAX_BLOCK = 48;

/** Most passes of a looping block per call. V8 first optimises a long-running loop on-stack (OSR), and
 *  that code, entered mid-loop with untyped values, runs the loop several times slower than the whole
 *  function optimised on a later call: bounded calls let the run loop's next calls get the latter. */
const CHUNK = 2048;
/** A new block's calls run at most FIRST_CHUNK passes, doubling every RAMP_CALLS calls up to CHUNK. V8
 *  marks the function hot within the first calls and optimises it on another thread; until that code is
 *  in place the calls run in the interpreter, and a long one there would be optimised on-stack instead
 *  (compiled twice, then deoptimised at its first exit, which had no type feedback). */
const FIRST_CHUNK = 8,
  RAMP_CALLS = 64;
/** Most passes per call of a block whose passes run in the loop tier (jit-wasm.ts): its JS runs at most
 *  one pass per call, so V8's on-stack compiles do not arise, but wasm code tiers up (Liftoff to TurboFan)
 *  only between calls, so the same ramp applies up to this bound. */
const WASM_CHUNK = 1 << 16;

/** Segment-overridden (FS/GS) accesses are interpreted: compiled addresses have no segment base. */
const compiles = (ins: Insn): boolean => SEMANTICS[ins.op].compile !== undefined && ins.seg < 0;
const isBranch = (ins: Insn): boolean => SEMANTICS[ins.op].branch === true;
const callsPlatform = (ins: Insn): boolean => SEMANTICS[ins.op].platform === true;
/** A conditional branch: its predictor state lives in the local `p0` while the block loops. */
const isPredicted = (ins: Insn): boolean => ins.op === Op.Jcc || ins.op === Op.Loop || ins.op === Op.Jrcxz;
/** The flags each condition code tests (SDM Table B-1; flags.ts condition), by cc >> 1. */
const CC_FLAGS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];
/** A platform call sees RFLAGS exact (an injected #GP pushes them). A Jcc reads only its condition's
 *  flags (its row says every status flag). */
const reads = (ins: Insn): number =>
  ins.op === Op.Jcc ? CC_FLAGS[ins.cc >> 1] : flagsRead(ins) | (callsPlatform(ins) ? STATUS : 0);
const writes = flagsWritten;
/** The bytes an instruction's memory operand accesses. */
const memSizeOf = (ins: Insn): number => {
  const row = SEMANTICS[ins.op];
  return row.memSize ? row.memSize(ins) : ins.size;
};
/** Compiled code may leave the block at this instruction (before it, for the interpreter to raise a
 *  fault; or right after it, a store into this block's code, a platform call's stop): RFLAGS must be
 *  exact there, so every flag is live on both sides of it. */
function mayExit(g: Gen, ins: Insn): boolean {
  const row = SEMANTICS[ins.op];
  if (row.faults || row.platform || row.priv !== undefined) return true;
  return (
    (ins.k0 === K.Mem || ins.k1 === K.Mem) && (row.memSize ? row.memSize(ins) : ins.size) > 0 && g.memoryExits(ins)
  );
}

/** The privilege rule of a row as a JS condition that leaves the block (the interpreter raises the
 *  fault), or null where compiled code does not check it. */
function privJs(p: Priv): string | null {
  if (p === Priv.None) return "false";
  if (p === Priv.Cpl0) return `${cpuField("cpl")} !== 0`;
  return null;
}

/**
 * Deferred flags: when the instruction just before the block's final jcc is a 4/8-byte ALU/inc/dec/test
 * whose flags nothing in the loop reads except that jcc, and the jcc tests only ZF or SF, the jcc is
 * decided from the result and the full flags are computed only when the block exits.
 */
function deferredCond(ins: Insn, jcc: Insn): string | null {
  if (jcc.op !== Op.Jcc || (jcc.cc >> 1 !== 2 && jcc.cc >> 1 !== 4)) return null;
  if (ins.size !== 4 && ins.size !== 8) return null;
  if (ins.op !== Op.Alu && ins.op !== Op.IncDec && ins.op !== Op.Test) return null;
  const z = ins.size === 8 ? "(r | rh) === 0" : "r === 0";
  const sgn = ins.size === 8 ? "(rh >>> 31) === 1" : "(r >>> 31) === 1";
  const base = jcc.cc >> 1 === 2 ? z : sgn;
  return jcc.cc & 1 ? `!(${base})` : base;
}

/** The full flags of the deferred writer, computed at block exit. */
function deferredFlags(w: Insn): string | null {
  const p =
    w.op === Op.IncDec
      ? aluParts(w.sub === 1 ? AluOp.Sub : AluOp.Add, w.size, true)
      : aluParts(w.op === Op.Test ? AluOp.And : w.sub, w.size);
  return p === null ? null : p.flags;
}

/** The locals an inline ALU form's flag terms read (jit-gen.ts aluParts). */
const TERM_VARS = /\b(ah|a|bh|b|rh|r|s|u)\b/g;

/** The inline ALU form of an instruction whose result is always computed (ADD..XOR other than CMP, INC,
 *  DEC on 4/8 bytes), for exit-only flags; null for any other. */
function lazyParts(ins: Insn): ReturnType<typeof aluParts> {
  if (ins.size !== 4 && ins.size !== 8) return null;
  if (ins.op === Op.Alu && ins.sub !== AluOp.Cmp) return aluParts(ins.sub, ins.size);
  if (ins.op === Op.IncDec) return aluParts(ins.sub === 1 ? AluOp.Sub : AluOp.Add, ins.size, true);
  return null;
}

/** The flags a block's instructions read before writing them (what a next pass needs from the last). */
function liveInOf(insns: readonly Insn[]): number {
  let liveIn = 0,
    killed = 0;
  for (const i of insns) {
    liveIn |= reads(i) & ~killed;
    killed |= writes(i);
  }
  return liveIn;
}

/** The register halves (`R[n]`) generated code assigns, or null where it hands the register file to code
 *  that may write any (an interpreter function, the platform). */
function writtenHalves(js: string): Set<number> | null {
  if (/\bX\[|platform/.test(js)) return null;
  return new Set([...js.matchAll(/\bR\[(\d+)\] =(?!=)/g)].map((m) => Number(m[1])));
}

/** Code for instruction k, or null if it cannot be compiled here. */
function insnJs(
  g: Gen,
  ins: Insn,
  k: number,
  live: number,
  last: boolean,
  deferred: string | null,
  align: Align,
  lookupsAtEntry: boolean,
  decides: boolean,
): string | null {
  const row = SEMANTICS[ins.op];
  if (row.compile === undefined) return null;
  const lines: string[] = [];
  const guard = privJs(row.priv ?? Priv.None);
  if (guard === null) return null;
  if (guard !== "false") lines.push(`if (${guard}) ${g.exit(k, String(ins.addr))}`);
  const s = ins.size;
  const mem0 = ins.k0 === K.Mem;
  const memSize = row.memSize ? row.memSize(ins) : s;
  if ((mem0 || ins.k1 === K.Mem) && memSize > 0) {
    const e = eaJs(g, ins, k, memSize, mem0);
    if (e === null) return null;
    // A hoisted access touches the same lines in every pass: see `warmLines`.
    lines.push(e);
    if (!g.hoisted.has(k)) lines.push(cacheJs(memSize));
    else if (!lookupsAtEntry) lines.push(`if (iters < warm) { ${cacheJs(memSize)} }`);
  }
  const x: EmitCtx = {
    live,
    last,
    deferred,
    decides,
    writeDst: () => (mem0 ? storeJs(g, ins, k, s, "r", "rh") : regWrite(ins.r0, s, "r", "rh")),
    helper: (fn) => `o.fl = fl; ${fn}; fl = o.fl; r = o.lo; rh = o.hi;`,
  };
  const body = row.compile(g, ins, k, x);
  if (body === null) return null;
  const js = [...lines, ...body].join("\n");
  if (align === Align.Unknown) return js;
  // The address of this one access is known to be aligned or not (see `alignments`).
  if (align === Align.Unaligned) return js.replace(ALIGN_RE, "$2");
  if (align === Align.Aligned) return js.replace(ALIGN_RE, "$1");
  // Assumed: a hoisted access, whose Uint32Array index is found once at entry too (`Q<k>`).
  g.entry.add(`if ((P${k} & 3) !== 0) return slow(left);`);
  g.entry.add(`const Q${k} = P${k} >>> 2;`);
  return js.replace(ALIGN_RE, (_m, aligned: string) =>
    aligned.replaceAll("M32[ea >>> 2]", `M32[Q${k}]`).replaceAll("M32[(ea >>> 2) + 1]", `M32[Q${k} + 1]`),
  );
}

/** What a block knows of an access's alignment to 4 bytes (for the Uint32Array fast path). */
const Align = {
  /** Found when it runs. */
  Unknown: 0,
  /** Always aligned (a fixed address). */
  Aligned: 1,
  /** Never aligned (a fixed address). */
  Unaligned: 2,
  /** Aligned when compiled and checked at block entry: the specialised block leaves it to the generic
   *  one (`slow`), which then replaces it, where a later entry finds it not aligned. */
  Assumed: 3,
} as const;
type Align = (typeof Align)[keyof typeof Align];

/** Alignment of each instruction's access where it is fixed (RIP-relative) or the same in every pass
 *  (hoisted: a hoisted address is as the registers hold it now, when the block is about to run). */
function alignments(cpu: BlockCpu, g: Gen): Align[] {
  return g.insns.map((ins, k) => {
    const row = SEMANTICS[ins.op];
    const size = row.memSize ? row.memSize(ins) : ins.size;
    if ((ins.k0 !== K.Mem && ins.k1 !== K.Mem) || (size !== 4 && size !== 8) || !LITTLE_ENDIAN) return Align.Unknown;
    const R = cpu.regs;
    if (ins.ripRel) return (ins.dispLo & 3) === 0 ? Align.Aligned : Align.Unaligned;
    if (!g.hoisted.has(k)) return Align.Unknown;
    const lo = ins.dispLo + (ins.base >= 0 ? R[2 * ins.base] : 0) + (ins.index >= 0 ? R[2 * ins.index] * ins.scale : 0);
    return (lo & 3) === 0 ? Align.Assumed : Align.Unaligned;
  });
}

/** One generation of a block's JS: its source, or the index of the first instruction that does not
 *  compile (`bad`); `body`, to find the registers it writes. */
interface Generated {
  g: Gen;
  src: string;
  body: string;
  bad: number;
  /** The loop tier's function for the block's passes, or null. */
  wasm: WasmLoop | null;
}

/** Generate the block of `insns`, hoisting the addresses of registers not in `written` (null: none), with
 *  what `align` says of each access (null: nothing known). */
function generate(
  cpu: BlockCpu,
  insns: Insn[],
  written: Set<number> | null,
  align: Align[] | null,
  lookupsAtEntry = false,
): Generated {
  const g = new Gen(
    insns,
    cpu.memSize,
    insns.map((i) => ({
      cycles: SEMANTICS[i.op].cycles,
      uops: UOPS[i.op],
      platform: callsPlatform(i),
      branch: isBranch(i),
    })),
  );
  g.paged = cpu.paging;
  g.written = written;
  let live = STATUS;
  const need: number[] = new Array(insns.length);
  for (let i = insns.length - 1; i >= 0; i--) {
    const exits = mayExit(g, insns[i]);
    if (exits) live = STATUS;
    const w = writes(insns[i]);
    need[i] = w & live;
    live = exits ? STATUS : (live & ~w) | reads(insns[i]);
  }
  const start = insns[0].addr;
  const body: string[] = [];
  let bad = -1;
  const nn = insns.length;
  const lastIns = insns[nn - 1];
  const predicted = isPredicted(lastIns);
  let defer: string | null = null;
  // Pending deferred flags (see the comment below): copied after `saveAfter`, made exact before
  // `matBefore`, superseded after `clearAfter` (-1: nowhere).
  let saveAfter = -1,
    matBefore = -1,
    clearAfter = -1;
  const w = insns[nn - 2];
  // A memory destination could leave the block right after the writer (a store into this block's code),
  // where the pending copy is not made yet: such writers are not deferred.
  if (nn >= 2 && lastIns.op === Op.Jcc && w.k0 !== K.Mem) {
    // Live-in of the block start (what a next pass reads before writing) must not need the writer's flags.
    let liveIn = 0,
      killed = 0;
    for (const i of insns) {
      liveIn |= reads(i) & ~killed;
      killed |= writes(i);
    }
    const c = deferredCond(w, lastIns);
    const full = c === null ? null : deferredFlags(w);
    if (c !== null && full !== null && (lastIns.target !== start || (liveIn & writes(w)) === 0)) {
      defer = c;
      need[nn - 2] = 0;
      if (!insns.slice(0, nn - 1).some((i) => mayExit(g, i))) {
        // Only the final exit can leave the block: the full flags from the writer's result there.
        g.onExit = full;
      } else {
        // The block may leave early, in a later pass too (a fault, a platform call), and must then
        // push exact RFLAGS: the writer's operands and result are copied to d* locals and its flags are
        // pending (`dp`) until the next pass's first instruction that touches them. A complete rewrite
        // of them (computed) ends the pending state; anything else (a reader, a partial writer) first
        // makes RFLAGS exact, as does every exit.
        g.onExit = `if (dp) { ${full.replace(TERM_VARS, "d$1")} dp = false; }`;
        saveAfter = nn - 2;
        const wf = writes(w);
        for (let i = 0; i < nn - 2; i++) {
          const ri = reads(insns[i]) & wf,
            wi = writes(insns[i]) & wf;
          if (ri === 0 && wi === 0) continue;
          if (ri === 0 && wi === wf && need[i] !== 0) clearAfter = i;
          else matBefore = i;
          break;
        }
      }
    }
  }
  // Exit-only flags: in a block that can leave only at the end of a pass, flags an ALU instruction writes
  // that nothing reads before they are rewritten — later in the pass, or in the next pass when the block
  // loops — are observed only by the exit, which sets them where their value is a constant (W2's OR: CF
  // cleared; DEC keeps CF).
  const lazy: number[] = new Array(nn).fill(0);
  if (!g.calls && !insns.some((i) => mayExit(g, i))) {
    let readLive = isBranch(lastIns) && lastIns.target === start ? liveInOf(insns) : 0;
    for (let i = nn - 1; i >= 0; i--) {
      const p = defer !== null && i === nn - 2 ? null : lazyParts(insns[i]);
      const m = need[i] & ~readLive;
      // Only flags whose terms are constants (a logical operation's CF and OF): copies of operands kept
      // across passes cost V8 more registers (spills) than computing the flag in the pass (W3's CF: ~15%).
      let lz = 0;
      if (p !== null)
        for (const f of [CF, PF, AF, ZF, SF, OF]) if ((m & f) !== 0 && p.flagsFor(f).match(TERM_VARS) === null) lz |= f;
      if (lz !== 0 && p !== null) {
        lazy[i] = lz;
        g.onExit = `${p.flagsFor(lz)} ${g.onExit}`;
      }
      readLive = (readLive & ~writes(insns[i])) | reads(insns[i]);
    }
  }
  // Predictor state of the final conditional branch lives in `p0` while the block loops.
  if (predicted) g.onExit += ` bpc[${lastIns.addr & 4095}] = p0;`;
  for (let k = 0; k < insns.length; k++) {
    const last = k === insns.length - 1;
    const a = align === null ? Align.Unknown : align[k];
    const decides = defer !== null && k === nn - 2;
    const js = insnJs(
      g,
      insns[k],
      k,
      need[k] & ~lazy[k],
      last && isBranch(insns[k]),
      last ? defer : null,
      a,
      lookupsAtEntry,
      decides,
    );
    if (js === null) {
      bad = k;
      break;
    }
    const pre = k === matBefore ? `${g.onExit}\n` : "";
    const post =
      k === saveAfter
        ? "\nda = a; dah = ah; db = b; dbh = bh; dr = r; drh = rh; ds = s; du = u; dp = true;"
        : k === clearAfter
          ? "\ndp = false;"
          : "";
    body.push(`// ${insns[k].addr.toString(16)}: ${insns[k].mnemonic}\n${pre}${js}${post}`);
  }
  const text = body.join("\n");
  if (bad >= 0) return { g, src: "", body: text, bad, wasm: null };
  // The loop tier (jit-wasm.ts): a register-only block that loops on itself and can leave only at the end
  // of a pass runs all its taken passes but the last in wasm; the JS loop below then runs the pass that
  // leaves (or the last one the budget allows) exactly as ever, from the registers the committed passes left.
  // Memory operands qualify only where no pass looks up the cache (their lines at entry: warmLines).
  const wasm =
    cpu.jitWasm &&
    predicted &&
    lastIns.target === start &&
    !g.calls &&
    (g.hoisted.size === 0 || lookupsAtEntry) &&
    !insns.some((i) => mayExit(g, i))
      ? wasmLoop(insns, g.hoisted)
      : null;
  const wasmJs = wasm === null ? "" : loopTierJs(wasm);
  const chunkMax = wasm === null ? CHUNK : WASM_CHUNK;
  const n = insns.length;
  const tail = isBranch(insns[n - 1]) ? "" : `iters++; ${g.exit(0, String(insns[n - 1].addr + insns[n - 1].len))}`;
  const src = `"use strict";
let chunk = ${FIRST_CHUNK}, calls = 0;
return function block(left) {
  let fl = ${cpuField("rflags")}, a = 0, ah = 0, b = 0, bh = 0, r = 0, rh = 0, s = 0, t = 0, u = 0, ea = 0, taken = false, iters = 0;${g.calls ? "\n  let fi = 0, fc = 0, fu = 0, fb = 0, called = false;" : ""}
${saveAfter >= 0 ? "  let dp = false, da = 0, dah = 0, db = 0, dbh = 0, dr = 0, drh = 0, ds = 0, du = 0;\n" : ""}  let p0 = ${predicted ? `bpc[${lastIns.addr & 4095}]` : "0"};${g.paged ? `\n  ${PAGED_PROLOGUE}` : ""}
  const maxIters = Math.min(Math.floor(left / ${n}), chunk) | 0;
  if (chunk < ${chunkMax} && ++calls % ${RAMP_CALLS} === 0) chunk *= 2;
${[...g.entry].map((e) => `  ${e}\n`).join("")}  ${warmLines(g, text, lookupsAtEntry, memSizeOf)}
${wasmJs}  for (;;) {
${text}
${tail}
  }
};`;
  return { g, src, body: text, bad, wasm };
}

/**
 * Compile the block starting at `first` (whose successors come from `next(addr)`), or null if its first
 * instruction cannot be compiled.
 */
export function compileBlock(cpu: BlockCpu, first: Insn, next: (addr: number) => Insn | null): Block | null {
  const insns: Insn[] = [];
  let ins: Insn | null = first;
  while (ins !== null && insns.length < MAX_BLOCK && compiles(ins) && ins.valid) {
    insns.push(ins);
    if (isBranch(ins)) break;
    ins = next(ins.addr + ins.len);
  }
  // Trim until every instruction compiles.
  // The register halves the block writes (from a first generation), for hoisting address checks.
  let written: Set<number> | null = null;
  let gen: Generated;
  for (;;) {
    if (insns.length === 0) return null;
    gen = generate(cpu, insns, written, null);
    if (gen.bad >= 0) {
      insns.length = gen.bad;
      written = null;
      continue;
    }
    if (written === null) {
      const w = writtenHalves(gen.body);
      if (w !== null) {
        // Generate again, checking the addresses of registers the block never writes once at entry.
        written = w;
        continue;
      }
    }
    break;
  }
  // Where accesses have a known alignment, a block specialised to it runs first; `slow` builds the
  // generic one (only once an entry finds an assumed alignment wrong) and puts it in the block's place.
  const align = alignments(cpu, gen.g);
  // A block that cannot leave mid-pass, whose cache accesses are all hoisted, looks their lines up once
  // per call, at entry (warmLines).
  const atEntry = gen.g.hoisted.size > 0 && allHoisted(gen.g, gen.body) && !insns.some((i) => mayExit(gen.g, i));
  const spec = atEntry || align.some((a) => a !== Align.Unknown) ? generate(cpu, insns, written, align, atEntry) : null;
  const n = insns.length;
  const blk: Block = { valid: true, start: insns[0].addr, phys: insns[0].addr, n, fn: () => 0, wasm: false };
  const generic = gen.src;
  const slow = (left: number): number => {
    blk.fn = build(cpu, insns, blk, generic, slow, gen.wasm);
    return blk.fn(left);
  };
  const initial = spec !== null && spec.bad < 0 ? spec : gen;
  blk.fn = build(cpu, insns, blk, initial.src, slow, initial.wasm);
  blk.wasm = initial.wasm !== null;
  for (const i of insns) {
    // Drop the blocks a store or an eviction invalidated through another of their instructions: code that
    // rewrites itself in a loop would otherwise pile them up here.
    const l = (i.blocks ??= []);
    let k = 0;
    for (const b of l) if (b.valid) l[k++] = b;
    l.length = k;
    l.push(blk);
  }
  return blk;
}

/** Blocks built so far in this process: each block's source ends with its number (see build). */
let builds = 0;

/** The block function of generated source `src`. Each build's source is made unique: V8 caches the
 *  functions it compiles from identical source text and lets closures of one cached function share
 *  tiering state, and a block built again from identical source (another CPU running the same code, a
 *  generic block replacing a specialised one) then tended to run every call through the interpreter and
 *  an on-stack entry into older optimised code (about half speed). */
function build(
  cpu: BlockCpu,
  insns: Insn[],
  blk: Block,
  src: string,
  slow: (left: number) => number,
  wasm: WasmLoop | null,
): (left: number) => number {
  const o: AluOut = { lo: 0, hi: 0, fl: 0, lo2: 0, hi2: 0 };
  const lastIns = insns[insns.length - 1];
  const predicted = isPredicted(lastIns);
  // The generated code's free names: the CPU (c, through BlockCpu), its state arrays, and the ALU.
  const env = {
    c: cpu,
    R: cpu.regs,
    mem: cpu.mem,
    dv: cpu.dv,
    ev: cpu.events,
    l1: cpu.cache.l1,
    cache: cpu.cache,
    bpc: predicted ? cpu.predictor.table(lastIns.addr) : null,
    cg: cpu.codeGranules,
    MEM: cpu.memSize,
    blk,
    slow,
    o,
    W: new Int32Array(WARM_LINES),
    l1Clash,
    aluBin,
    aluShift,
    aluIncDec,
    PAR: PARITY,
    aluMul,
    aluDiv,
    pred: cpu.predictor,
    M32: LITTLE_ENDIAN ? new Uint32Array(cpu.mem.buffer, cpu.mem.byteOffset, cpu.mem.byteLength >>> 2) : null,
    I: insns.slice(),
    TL: cpu.tlb.tagLo,
    TH: cpu.tlb.tagHi,
    TP: cpu.tlb.phys,
    TA: cpu.tlb.allow,
    X: insns.map((i) => SEMANTICS[i.op].exec),
    WL: wasm === null ? null : wasm.run,
    WR: wasm === null ? null : wasm.regs,
    WB: wasm === null ? null : wasm.bytes,
    WO: wasm === null ? null : wasm.offsets,
  };
  const factory = new Function(...Object.keys(env), `${src}\n// build ${++builds}`);
  return factory(...Object.values(env)) as (left: number) => number;
}
