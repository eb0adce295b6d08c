import { CF, OF, PF, SF, ZF } from "./flags.js";
import { type Insn, K } from "./insn.js";
import { Op } from "./ops.js";
import { flagsRead, flagsWritten } from "./semantics.js";
import { predictTaken } from "./jit-emit.js";
import {
  type Access,
  condition,
  Emitter,
  form,
  get,
  L_A32,
  L_B32,
  L_COND,
  L_K,
  L_MAX,
  L_R32,
  lea,
  regsOf,
  set,
  SPAN_AT,
  tee,
} from "./jit-wasm-emit.js";
import { moduleBytes, OPS32, OPS64, uleb, W } from "./wasm-module.js";

/** The part of the WebAssembly JS API used here (the project's TypeScript libraries declare none). */
declare namespace WebAssembly {
  class Memory {
    constructor(d: { initial: number; maximum: number });
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(m: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

/** A compiled loop: `run(max)` runs at most `max` (≥ 1) committed passes on the registers in `regs`
 *  (halves, as `Cpu.regs`) and returns how many it committed. */
export interface WasmLoop {
  readonly run: (max: number) => number;
  /** The register file the function works on (shared by every loop of this thread). */
  readonly regs: Uint32Array;
  /** Register halves the block reads or writes (copied in before a call), and those it writes (copied
   *  back after one). */
  readonly used: readonly number[];
  readonly written: readonly number[];
  /** The memory operands (instruction index, bytes) in the order of their slots in `offsets`. */
  readonly accesses: readonly { k: number; size: number }[];
  /** The shared memory's bytes: the span the accesses cover is copied to SPAN_AT. */
  readonly bytes: Uint8Array;
  /** Each access's offset in that span (slot j at index j). */
  readonly offsets: Int32Array;
}

/** Layout of the shared memory: registers at 0 (8 bytes each), access offsets at OFFSETS_AT (4 bytes
 *  each, at most MAX_ACCESSES), then the copied span at SPAN_AT, at most SPAN_MAX bytes. */
const OFFSETS_AT = 128,
  MAX_ACCESSES = 32;
export const SPAN_MAX = 1024;
export { SPAN_AT };

/** The flags each condition code tests (SDM Table B-1), by cc >> 1 (as jit.ts CC_FLAGS). */
const CC_FLAGS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

/** One memory for the register files and spans of every loop of this thread (calls never nest: each
 *  copies its state in and out), and the compiled loops by their code, at most CACHE_MAX of them. */
let shared: { memory: WebAssembly.Memory; regs: Uint32Array; bytes: Uint8Array; offsets: Int32Array } | null = null;
const compiled = new Map<string, (max: number) => number>();
const CACHE_MAX = 256;

/** The bytes instruction `ins` accesses through its memory operand (0: none). */
const memBytes = (ins: Insn): number =>
  (ins.k0 === K.Mem || ins.k1 === K.Mem) && ins.op !== Op.Lea && ins.op !== Op.Nop
    ? ins.op === Op.Movzx || ins.op === Op.Movsx
      ? ins.srcSize
      : ins.size
    : 0;

/**
 * The loop tier's function for the block `insns` (its last instruction a Jcc back to the block start; the
 * caller has checked that no instruction may leave the block mid-pass and that no pass looks up the
 * cache), or null where it does not qualify. `hoisted`: the instructions whose memory operand's RAM offset
 * the JS block finds at entry; any other memory operand disqualifies the block.
 */
export function wasmLoop(insns: readonly Insn[], hoisted: ReadonlySet<number>): WasmLoop | null {
  const n = insns.length;
  const jcc = insns[n - 1];
  if (
    jcc.op !== Op.Jcc ||
    jcc.target !== insns[0].addr ||
    typeof (globalThis as { WebAssembly?: unknown }).WebAssembly !== "object"
  )
    return null;
  const need = CC_FLAGS[jcc.cc >> 1];
  // The condition's flags all come from one instruction of the pass, and nothing else reads a flag.
  let source = -1;
  for (let i = n - 2; i >= 0 && source < 0; i--) {
    const w = flagsWritten(insns[i]) & need;
    if (w === 0) continue;
    if (w !== need) return null;
    source = i;
  }
  if (source < 0) return null;
  const usedSet = new Set<number>(),
    writtenSet = new Set<number>();
  const accesses: Access[] = [];
  for (let i = 0; i < n - 1; i++) {
    const ins = insns[i];
    if (flagsRead(ins) !== 0 || ins.seg >= 0 || (ins.k2 !== K.None && !(ins.op === Op.Imul2 && ins.k2 === K.Imm)))
      return null;
    const size = memBytes(ins);
    if (size !== 0) {
      if (!hoisted.has(i)) return null;
      accesses.push({ k: i, size, store: ins.k0 === K.Mem });
    }
    const rw = regsOf(ins);
    for (const r of rw.reads) usedSet.add(r);
    for (const r of rw.writes) {
      usedSet.add(r);
      writtenSet.add(r);
    }
  }
  if (accesses.length > MAX_ACCESSES) return null;
  for (const r of usedSet) if (r < 0 || r >= 16) return null;
  const used = [...usedSet].sort((x, y) => x - y),
    written = [...writtenSet].sort((x, y) => x - y);
  const e = new Emitter(used, written, accesses);
  const c = e.code;
  for (const r of used) c.push(W.i32Const, 0, W.i64Load, 3, ...uleb(8 * r), ...set(e.reg(r)));
  accesses.forEach((a, j) => {
    c.push(W.i32Const, 0, W.i32Load, 2, ...uleb(OFFSETS_AT + 4 * j), ...set(e.off.get(a.k) as number));
  });
  const srcIns = insns[source];
  if (srcIns.op === Op.Nop || srcIns.op === Op.Lea) return null;
  const sf = form(e, srcIns, source);
  if (sf === null || sf.kind === null || (sf.noCf && (need & CF) !== 0)) return null;
  const ss = srcIns.size;
  const so = ss === 8 ? OPS64 : OPS32;
  const [la, lb, lr] = ss === 8 ? [e.a64, e.b64, e.r64] : [L_A32, L_B32, L_R32];
  const srcResult = [...sf.a, ...tee(la), ...sf.b, ...tee(lb), ...sf.op, ...tee(lr)];
  const srcCond = [...condition(sf.kind, jcc.cc, so, ss, la, lb, lr)];
  // Early condition: where no instruction before the flag source writes a register it reads (nor stores,
  // when it reads memory), its operands at the pass start are those it will see, so the branch's outcome
  // is known before the pass begins: a pass that would fall through is not begun, and nothing is undone.
  const readsOfSrc = regsOf(srcIns).reads;
  const early = insns
    .slice(0, source)
    .every((i) => !regsOf(i).writes.some((r) => readsOfSrc.includes(r)) && !(memBytes(srcIns) !== 0 && i.k0 === K.Mem));
  // block $out; loop $pass: if k >= max: br $out
  c.push(W.block, W.void, W.loop, W.void);
  const passAt = c.length;
  c.push(...get(L_K), ...get(L_MAX), W.i32GeS, W.brIf, 1);
  if (early) c.push(...srcResult, W.drop, ...srcCond, W.i32Eqz, W.brIf, 1);
  else for (const r of written) c.push(...get(e.reg(r)), ...set(e.copyOf(r)));
  const stores: Access[] = [];
  for (let i = 0; i < n - 1; i++) {
    const ins = insns[i];
    if (ins.op === Op.Nop) continue;
    if (ins.op === Op.Lea) {
      const js = lea(e, ins);
      if (js === null) return null;
      c.push(...js);
      continue;
    }
    const f = form(e, ins, i);
    if (f === null) return null;
    const s = ins.size;
    const toMem = ins.k0 === K.Mem;
    if (toMem && f.write && !early) {
      // Save what the store overwrites (restored if the pass is undone).
      c.push(...e.load(i, s), ...set(e.old.get(i) as number));
      stores.push({ k: i, size: s, store: true });
    }
    const pre = toMem && f.write ? e.storeAddr(i) : [];
    const post = toMem ? e.store(s) : e.writeReg(ins.r0, s);
    if (i === source) {
      // Early: its result was found at the pass start (its operands have not changed since).
      if (early) {
        if (f.write) c.push(...pre, ...get(lr), ...post);
        continue;
      }
      if (f.write) c.push(...pre, ...f.a, ...tee(la), ...f.b, ...tee(lb), ...f.op, ...tee(lr), ...post);
      else c.push(...srcResult, W.drop);
      c.push(...srcCond, ...set(L_COND));
      continue;
    }
    // CMP/TEST, and a shift by a count masked to 0, change nothing.
    if (!f.write) continue;
    c.push(...pre, ...f.a, ...f.b, ...f.op, ...post);
  }
  if (!early) {
    // Not taken: undo the pass (stores in reverse order, then registers) and stop. Taken: commit it.
    c.push(...get(L_COND), W.i32Eqz, W.if, W.void);
    for (let j = stores.length - 1; j >= 0; j--) {
      const st = stores[j];
      c.push(...e.storeAddr(st.k), ...get(e.old.get(st.k) as number), ...e.store(st.size));
    }
    for (const r of written) c.push(...get(e.copyOf(r)), ...set(e.reg(r)));
    c.push(W.br, 2, W.end);
  }
  c.push(...get(L_K), W.i32Const, 1, W.i32Add, ...set(L_K));
  // Early: the pass is written twice in the loop, so half as many loop back-edges (each with V8's
  // interrupt check) run; every pass still checks the bound and its condition first.
  if (early) c.push(...c.slice(passAt));
  c.push(W.br, 0, W.end, W.end);
  for (const r of written) c.push(W.i32Const, 0, ...get(e.reg(r)), W.i64Store, 3, ...uleb(8 * r));
  c.push(...get(L_K));
  const bytes = moduleBytes(c, e.i32Locals, e.i64Locals);
  if (shared === null) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    shared = {
      memory,
      regs: new Uint32Array(memory.buffer, 0, 32),
      bytes: new Uint8Array(memory.buffer),
      offsets: new Int32Array(memory.buffer, OFFSETS_AT, MAX_ACCESSES),
    };
  }
  const key = String.fromCharCode(...bytes);
  let run = compiled.get(key);
  if (run === undefined) {
    let inst: WebAssembly.Instance;
    try {
      inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: shared.memory } });
    } catch {
      // The engine refused the module (out of memory for code, say): the block runs in JS alone, exactly
      // as it would have (test/isa/jit-wasm counts the blocks that use the tier, so a module this code
      // encodes wrongly fails the tests rather than passing unnoticed).
      return null;
    }
    run = inst.exports.f as (max: number) => number;
    if (compiled.size >= CACHE_MAX) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, run);
  }
  return {
    run,
    regs: shared.regs,
    used: used.flatMap((r) => [2 * r, 2 * r + 1]),
    written: written.flatMap((r) => [2 * r, 2 * r + 1]),
    accesses: accesses.map((a) => ({ k: a.k, size: a.size })),
    bytes: shared.bytes,
    offsets: shared.offsets,
  };
}

/**
 * The loop tier's part of a block's JS (jit-wasm.ts), run before its loop: the registers (and the bytes
 * the memory operands span, at most SPAN_MAX of them, at their RAM offsets `P<k>` found at entry) are
 * copied to the loop's memory, all passes but the last that the budget allows run there, and what the
 * committed passes changed is copied back; the JS loop then runs from there.
 */
export function loopTierJs(w: WasmLoop): string {
  const regsIn = w.used.map((h) => `WR[${h}] = R[${h}];`).join(" ");
  const regsOut = w.written.map((h) => `R[${h}] = WR[${h}];`).join(" ");
  if (w.accesses.length === 0)
    return `  if (maxIters > 1) {
    ${regsIn}
    const wk = WL(maxIters - 1);
    if (wk > 0) { ${regsOut} iters = wk; ${predictTaken(true)} }
  }
`;
  const [first, ...rest] = w.accesses;
  const span = rest.map(
    (a) => `if (P${a.k} < lo) lo = P${a.k}; if (P${a.k} + ${a.size} > hi) hi = P${a.k} + ${a.size};`,
  );
  return `  if (maxIters > 1) {
    let lo = P${first.k}, hi = P${first.k} + ${first.size}; ${span.join(" ")}
    if (hi - lo <= ${SPAN_MAX}) {
      ${w.accesses.map((a, j) => `WO[${j}] = P${a.k} - lo;`).join(" ")}
      for (let i = lo, j = ${SPAN_AT}; i < hi; i++, j++) WB[j] = mem[i];
      ${regsIn}
      const wk = WL(maxIters - 1);
      if (wk > 0) { for (let i = lo, j = ${SPAN_AT}; i < hi; i++, j++) mem[i] = WB[j]; ${regsOut} iters = wk; ${predictTaken(true)} }
    }
  }
`;
}
