/**
 * The block compiler's code generation: the state compiled code may touch (BlockCpu), the generated
 * block's exits and exact counts (Gen), and JS snippets for operands, addresses, loads/stores and the
 * inlined ALU forms. Each snippet specialises a semantic function of the interpreter for one decoded
 * instruction (alu.ts aluBin for 4/8-byte operands, memory.ts ea/rd/wr, flags.ts condition); the
 * interpreter's functions remain the reference (test/isa/jit.test.ts compares the two).
 */
import { AluOp, ShiftOp } from "./alu.js";
import { AF, CF, OF, PF, SF, STATUS, ZF } from "./flags.js";
import { AH, type Insn, K } from "./insn.js";
import type { GuestEvents, Platform, PlatformCpu } from "./platform.js";
import { TLB_MASK, type Tlb } from "./tlb.js";
import { type BranchPredictor, type CacheModel, L1_LINES } from "./uarch.js";

/** What compiled code may touch of the CPU (the Cpu class implements it). Generated code names these
 *  fields only through `cpuField`, so a rename is a type error here rather than a broken block. */
export interface BlockCpu extends PlatformCpu {
  rip: number;
  rflags: number;
  readonly regs: Uint32Array;
  readonly mem: Uint8Array;
  readonly dv: DataView;
  readonly memSize: number;
  readonly events: GuestEvents;
  readonly codeGranules: Uint8Array;
  readonly cache: CacheModel;
  readonly predictor: BranchPredictor;
  readonly platform: Platform;
  /** Translation through the page tables is on: blocks translate every access through the TLB. */
  readonly paging: boolean;
  /** Register-only loops run their passes in the loop tier (jit-wasm.ts). */
  readonly jitWasm: boolean;
  readonly tlb: Tlb;
  /** Pending interrupts and a stop request end a block after a platform call. */
  readonly irqCount: number;
  readonly stopReq: number;
  /** A platform call's action other than Skip, for the run loop to complete (with the instruction). */
  jitAct: number;
  jitIns: Insn | null;
  /** Store invalidation of decoded code (memory.ts). */
  invalidate(a: number, size: number): void;
}

/** `c.<field>` in generated code, checked against BlockCpu. */
export const cpuField = (f: keyof BlockCpu): string => `c.${f}`;

/** Register numbers (ModRM order) and their halves in `regs`. */
const RCX = 1,
  RSP = 4;
export const RSP_LO = `R[${2 * RSP}]`;
export const RSP_HI = `R[${2 * RSP + 1}]`;
export const CL = `R[${2 * RCX}] & 255`;
/** Bit positions of SF and OF, for the sign/overflow arithmetic below. */
const SF_BIT = 7,
  OF_BIT = 11;

/** Aligned 32-bit accesses go through a Uint32Array view, which is little-endian only on a little-endian
 *  host; elsewhere the generated code uses the DataView. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Gen {
  /** Prefix sums of retired instructions, cycles and branches over the block's instructions. A platform
   *  call that exits is not retired by the CPU (platform.ts Skip; R-CNT-4), so it adds nothing. */
  readonly pi: number[] = [0];
  readonly pc: number[] = [0];
  /** Prefix sums of retired µops (uops.ts), like the cycles. */
  readonly pu: number[] = [0];
  readonly pb: number[] = [0];
  /** The block calls the platform: counts are flushed to `ev` before each call (platform.ts contract), so
   *  every exit adds only what was not flushed yet (locals fi/fc/fu/fb). */
  readonly calls: boolean;
  /** Code run at every exit (predictor state write-back, deferred flags). */
  onExit = "";
  /** The register halves the block writes, once known (null: not known, or any): an address made only
   *  of other registers is checked once at block entry (`entry`) rather than at each access. */
  written: Set<number> | null = null;
  /** Statements run once before the first pass (hoisted address checks and translations), which leave
   *  the block before its first instruction where they fail. */
  readonly entry = new Set<string>();
  /** The instructions whose memory operand's RAM offset is the local `P<k>`, found at entry. */
  readonly hoisted = new Set<number>();
  /** Built with paging on: memory accesses translate linear `ea` (and `t`, bits 63:32) through the TLB. */
  paged = false;
  /**
   * @param cycles base cycles of each instruction; `platform`: it calls the platform; `branch`: it
   *   retires as a branch.
   */
  constructor(
    readonly insns: readonly Insn[],
    readonly memSize: number,
    info: readonly { cycles: number; uops: number; platform: boolean; branch: boolean }[],
  ) {
    this.calls = info.some((i) => i.platform);
    for (const i of info) {
      this.pi.push(this.pi[this.pi.length - 1] + (i.platform ? 0 : 1));
      this.pc.push(this.pc[this.pc.length - 1] + (i.platform ? 0 : i.cycles));
      this.pu.push(this.pu[this.pu.length - 1] + (i.platform ? 0 : i.uops));
      this.pb.push(this.pb[this.pb.length - 1] + (i.branch ? 1 : 0));
    }
  }
  get start(): number {
    return this.insns[0].addr;
  }
  /** Can the address of `ins` be computed once at block entry: made only of registers the block never
   *  writes (or RIP-relative), so it is the same in every pass? */
  invariant(ins: Insn): boolean {
    const w = this.written;
    return w !== null && [ins.base, ins.index].every((r) => r < 0 || (!w.has(2 * r) && !w.has(2 * r + 1)));
  }
  /** Will eaJs compute the address of `ins` once at block entry (the `P<k>` locals)? */
  hoistable(ins: Insn): boolean {
    if (this.paged) return this.invariant(ins);
    return !ins.ripRel && !ins.addr32 && (ins.dispHi === 0 || ins.dispHi === 0xffffffff) && this.invariant(ins);
  }
  /** Can the memory operand of `ins` leave the block? Not when its address is checked once at entry (or,
   *  RIP-relative without paging, when compiling): a load then cannot leave, nor a store whose code
   *  granules entry found clear (storeJs). */
  memoryExits(ins: Insn): boolean {
    if (this.hoistable(ins)) return false;
    return !(ins.ripRel && !this.paged && ins.k0 !== K.Mem);
  }
  /** Leave before the first instruction: from a failed entry statement. Nothing ran yet — RFLAGS, RIP,
   *  the predictor state and the counts are as the block found them (and deferred flags are not pending:
   *  onExit must not run) — so nothing is written back. */
  entryExit(): string {
    return "return 0;";
  }
  /** Leave the block before instruction k (which the interpreter then runs), or after the last one. */
  exit(k: number, ripJs: string): string {
    const n = this.insns.length;
    const wb = `${this.onExit} ${cpuField("rflags")} = fl; ${cpuField("rip")} = ${ripJs};`;
    if (this.calls) {
      // -1: nothing retired, but a platform call completed an instruction (0 would re-run it).
      return `{ ${wb} const d = iters * ${this.pi[n]} + ${this.pi[k]}; ev.instructions += d - fi; ev.cycles += iters * ${this.pc[n]} + ${this.pc[k]} - fc; ev.uops += iters * ${this.pu[n]} + ${this.pu[k]} - fu; ev.branches += iters * ${this.pb[n]} + ${this.pb[k]} - fb; return d === 0 && called ? -1 : d; }`;
    }
    return `{ ${wb} const d = iters * ${n} + ${k}; ev.instructions += d; ev.cycles += iters * ${this.pc[n]} + ${this.pc[k]}; ev.uops += iters * ${this.pu[n]} + ${this.pu[k]}; ev.branches += iters * ${this.pb[n]} + ${this.pb[k]}; return d; }`;
  }
  /** Exact totals into `ev` before instruction k calls the platform. */
  flush(k: number): string {
    const n = this.insns.length;
    return `t = iters * ${this.pi[n]} + ${this.pi[k]}; ev.instructions += t - fi; fi = t; t = iters * ${this.pc[n]} + ${this.pc[k]}; ev.cycles += t - fc; fc = t; t = iters * ${this.pu[n]} + ${this.pu[k]}; ev.uops += t - fu; fu = t; t = iters * ${this.pb[n]} + ${this.pb[k]}; ev.branches += t - fb; fb = t;`;
  }
}

/** JS condition for cc on `fl` (SDM Table B-1; flags.ts condition()). */
export function condJs(cc: number): string {
  const lt = `(((fl >>> ${SF_BIT}) ^ (fl >>> ${OF_BIT})) & 1) !== 0`;
  const base = [
    `(fl & ${OF}) !== 0`,
    `(fl & ${CF}) !== 0`,
    `(fl & ${ZF}) !== 0`,
    `(fl & ${CF | ZF}) !== 0`,
    `(fl & ${SF}) !== 0`,
    `(fl & ${PF}) !== 0`,
    lt,
    `((fl & ${ZF}) !== 0 || ${lt})`,
  ][cc >> 1];
  return cc & 1 ? `!(${base})` : base;
}

/** The JS of each status flag (its bit, or 0) of an 8-byte (r, rh) or 4-byte (r) result. */
const szp = (size: number): [number, string][] =>
  size === 8
    ? [
        [ZF, `((r | rh) === 0 ? ${ZF} : 0)`],
        [SF, `((rh >>> ${31 - SF_BIT}) & ${SF})`],
        [PF, "PAR[r & 255]"],
      ]
    : [
        [ZF, `(r === 0 ? ${ZF} : 0)`],
        [SF, `((r >>> ${31 - SF_BIT}) & ${SF})`],
        [PF, "PAR[r & 255]"],
      ];

/** `fl := fl with the flags of `mask` replaced` from per-flag terms (absent terms: the flag is cleared). */
function setFlags(terms: [number, string][], writes: number, mask: number): string {
  const m = writes & mask;
  const t = terms.filter(([f]) => (f & m) !== 0).map(([, js]) => js);
  return `fl = (fl & ~${m})${t.map((x) => ` | ${x}`).join("")};`;
}

/**
 * Inline aluBin (alu.ts) for sizes 4 and 8: a,ah op b,bh → r,rh (`res`), and the statement setting the
 * flags it writes (`flags`, valid right after `res`: it reads a, b, r, their high halves and `s`;
 * `flagsFor(mask)` sets only those of `mask`, the ones a later instruction can observe).
 * `keepCF`: INC/DEC. The operands are unsigned (as `R` and memory hold them); results are signed 32-bit
 * (`| 0`, and the bitwise operators' own results): V8 then keeps them in machine registers with no
 * checks, where unsigned results (`>>> 0`) that it has only seen small get checked against 2^31 at every
 * use that does not truncate. Everything that reads r and rh treats them as bit patterns (stores into
 * `R` or memory, bitwise flag terms, `=== 0`); carries are unsigned compares made as signed ones on
 * operands with bit 31 flipped (`ult`: a + b wrapped iff r < a; a - b borrows iff a < b). With a carry-in
 * (ADC/SBB) it is CF as the instruction found it, kept in `u`.
 */
export function aluParts(
  op: number,
  size: number,
  keepCF = false,
): { res: string; flags: string; flagsFor: (mask: number) => string } | null {
  if (size !== 4 && size !== 8) return null;
  const writes = keepCF ? STATUS & ~CF : STATUS;
  const logic = op === AluOp.Or || op === AluOp.And || op === AluOp.Xor;
  const sym = op === AluOp.Or ? "|" : op === AluOp.And ? "&" : "^";
  const parts = (res: string, terms: [number, string][]) => ({
    res,
    flags: setFlags(terms, writes, STATUS),
    flagsFor: (mask: number) => setFlags(terms, writes, mask),
  });
  if (logic) {
    const res = size === 8 ? `r = a ${sym} b; rh = ah ${sym} bh;` : `r = a ${sym} b; rh = 0;`;
    return parts(res, szp(size));
  }
  const add = op === AluOp.Add || op === AluOp.Adc;
  const withCarry = op === AluOp.Adc || op === AluOp.Sbb;
  const pre = withCarry ? `u = fl & ${CF}; ` : "";
  const cin = withCarry ? " + u" : "";
  // Carry (add) or borrow (sub) out of x op y (+/- carry-in) whose truncated result is z.
  const out = (x: string, y: string, z: string) =>
    add
      ? withCarry
        ? `(${ult(z, x)} || (u !== 0 && ${eq32(z, x)}))`
        : ult(z, x)
      : withCarry
        ? `(${ult(x, y)} || (u !== 0 && ${eq32(x, y)}))`
        : ult(x, y);
  const sign = add ? "+" : "-";
  const ofBit = `>>> 31) << ${OF_BIT})`;
  const af: [number, string] = [AF, `((a ^ b ^ r) & ${AF})`];
  if (size === 4) {
    const res = `${pre}r = (a ${sign} b${cin.replace("+", sign)}) | 0; rh = 0;`;
    const of = add ? `((((a ^ r) & (b ^ r)) ${ofBit}` : `((((a ^ b) & (a ^ r)) ${ofBit}`;
    return parts(res, [[CF, `(${out("a", "b", "r")} ? ${CF} : 0)`], [OF, of], af, ...szp(4)]);
  }
  // s: the carry or borrow out of the low half, into the high half.
  // INC/DEC (b is 1): the low half carries iff it wrapped to 0, borrows iff it was 0.
  const lowOut = keepCF ? (add ? "r === 0" : "a === 0") : out("a", "b", "r");
  const res = `${pre}r = (a ${sign} b${cin.replace("+", sign)}) | 0; s = ${lowOut} ? 1 : 0; rh = (ah ${sign} bh ${sign} s) | 0;`;
  const cfHi = add
    ? `(${ult("rh", "ah")} || (s !== 0 && ${eq32("rh", "ah")}))`
    : `(${ult("ah", "bh")} || (s !== 0 && ${eq32("ah", "bh")}))`;
  const of = add ? `((((ah ^ rh) & (bh ^ rh)) ${ofBit}` : `((((ah ^ bh) & (ah ^ rh)) ${ofBit}`;
  return parts(res, [[CF, `(${cfHi} ? ${CF} : 0)`], [OF, of], af, ...szp(8)]);
}

/** x < y on the 32-bit patterns of x and y read as unsigned (either may be signed or unsigned): a signed
 *  compare with bit 31 flipped. */
export const ult = (x: string, y: string): string => `(${x} ^ -2147483648) < (${y} ^ -2147483648)`;
/** x === y on 32-bit patterns (either may be signed or unsigned). */
const eq32 = (x: string, y: string): string => `(${x} | 0) === (${y} | 0)`;

/** aluParts as one snippet: the result, and the flags of `live` (those a later instruction can observe). */
export function aluJs(op: number, size: number, live: number, keepCF = false): string | null {
  const p = aluParts(op, size, keepCF);
  return p === null ? null : live !== 0 ? `${p.res} ${p.flagsFor(live)}` : p.res;
}

/** Inline aluShift (alu.ts) for a constant count whose flags are dead: SHL/SHR/SAR on 4/8 bytes. Results
 *  are 32-bit patterns, signed or unsigned (only stored: see aluParts). */
export function shiftConstJs(sub: number, size: number, count: number): string | null {
  const c = count & (size === 8 ? 63 : 31);
  if (c === 0) return "r = a; rh = ah;";
  if (size === 4) {
    if (sub === ShiftOp.Shl) return `r = a << ${c}; rh = 0;`;
    if (sub === ShiftOp.Shr) return `r = a >>> ${c}; rh = 0;`;
    if (sub === ShiftOp.Sar) return `r = a >> ${c}; rh = 0;`;
    return null;
  }
  if (size !== 8) return null;
  if (sub === ShiftOp.Shl)
    return c < 32 ? `rh = (ah << ${c}) | (a >>> ${32 - c}); r = a << ${c};` : `rh = a << ${c - 32}; r = 0;`;
  if (sub === ShiftOp.Shr)
    return c < 32 ? `r = (a >>> ${c}) | (ah << ${32 - c}); rh = ah >>> ${c};` : `r = ah >>> ${c - 32}; rh = 0;`;
  if (sub === ShiftOp.Sar)
    return c < 32 ? `r = (a >>> ${c}) | (ah << ${32 - c}); rh = ah >> ${c};` : `r = ah >> ${c - 32}; rh = ah >> 31;`;
  return null;
}

/** state.ts gr(): register r at size into lo/hi variables. */
export function regRead(r: number, size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      return `${lo} = R[${2 * r}]; ${hi} = R[${2 * r + 1}];`;
    case 4:
      return `${lo} = R[${2 * r}]; ${hi} = 0;`;
    case 2:
      return `${lo} = R[${2 * r}] & 65535; ${hi} = 0;`;
    default:
      return r >= AH ? `${lo} = (R[${2 * (r - AH)}] >>> 8) & 255; ${hi} = 0;` : `${lo} = R[${2 * r}] & 255; ${hi} = 0;`;
  }
}
/** state.ts sr(), inline: 4/8-byte writes replace the register, 1/2-byte writes merge into its low half
 *  (an AH..BH write into bits 15:8). */
export function regWrite(r: number, size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      return `R[${2 * r}] = ${lo}; R[${2 * r + 1}] = ${hi};`;
    case 4:
      return `R[${2 * r}] = ${lo}; R[${2 * r + 1}] = 0;`;
    case 2:
      return `R[${2 * r}] = ((R[${2 * r}] & 0xffff0000) | ((${lo}) & 65535)) >>> 0;`;
    default:
      return r >= AH
        ? `R[${2 * (r - AH)}] = ((R[${2 * (r - AH)}] & 0xffff00ff) | (((${lo}) & 255) << 8)) >>> 0;`
        : `R[${2 * r}] = ((R[${2 * r}] & 0xffffff00) | ((${lo}) & 255)) >>> 0;`;
  }
}

/** The sum base + index·scale + disp as JS (low-half terms, high-half terms). */
export function addressTerms(ins: Insn): { lo: string[]; hi: string[] } {
  const lo = [`${ins.dispLo}`],
    hi = [`${ins.dispHi}`];
  if (ins.base >= 0) {
    lo.push(`R[${2 * ins.base}]`);
    hi.push(`R[${2 * ins.base + 1}]`);
  }
  if (ins.index >= 0) {
    lo.push(`R[${2 * ins.index}] * ${ins.scale}`);
    hi.push(`R[${2 * ins.index + 1}] * ${ins.scale}`);
  }
  return { lo, hi };
}

/** With paging: the TLB's rights bits a block's accesses need (tlb.ts Allow), for the CPL the block was
 *  entered at (a block never changes CPL): `nr` for reads, `nw` for writes; and the last page each kind
 *  of access hit (linear bits 31:12 and 63:32, RAM offset), which stays valid for the whole run of the
 *  block: nothing a block runs changes the TLB, and it leaves on any miss. */
export const PAGED_PROLOGUE =
  "const nr = c.cpl === 3 ? 8 : 1, nw = nr << 1; let lr = -1, lrh = 0, lrp = 0, lw = -1, lwh = 0, lwp = 0;";

/** memory.ts translate() on a TLB hit, inline: linear `ea` (bits 31:0, in [0, 2^32)) and `t` (bits 63:32)
 *  → the RAM offset in `ea`; a miss, a missing right or an access that crosses a page leaves before
 *  instruction k (the interpreter then walks, faults or splits exactly as it would have). */
export function xlateJs(
  g: Gen,
  ins: Insn,
  k: number,
  size: number,
  write: boolean,
  bail = g.exit(k, String(ins.addr)),
): string {
  const [l, lh, lp, need] = write ? ["lw", "lwh", "lwp", "nw"] : ["lr", "lrh", "lrp", "nr"];
  return `u = ea >>> 12; if (u !== ${l} || (t | 0) !== ${lh}) { s = u & ${TLB_MASK}; if (TL[s] !== u || TH[s] !== (t | 0) || (TA[s] & ${need}) === 0) ${bail} ${l} = u; ${lh} = t | 0; ${lp} = TP[s]; } if ((ea & 4095) > ${4096 - size}) ${bail} ea = ${lp} + (ea & 4095);`;
}

/** The linear address of the operand into `ea` (bits 31:0) and `t` (bits 63:32) with paging; sums that
 *  carry or borrow across bit 32 leave before instruction k (the interpreter computes those). */
function linearJs(g: Gen, ins: Insn, k: number, bail = g.exit(k, String(ins.addr))): string {
  if (ins.ripRel) return `ea = ${ins.dispLo}; t = ${ins.dispHi};`;
  const { lo } = addressTerms(ins);
  if (ins.addr32) return `ea = (${lo.join(" + ")}) >>> 0; t = 0;`;
  const his: string[] = [];
  if (ins.base >= 0) his.push(`R[${2 * ins.base + 1}]`);
  if (ins.index >= 0) his.push(`R[${2 * ins.index + 1}]${ins.scale > 1 ? ` * ${ins.scale}` : ""}`);
  // The displacement is sign-extended: with a signed low half, bits 63:32 are the registers' alone.
  const sum = [...lo.slice(1), String(ins.dispLo | 0)].join(" + ");
  return `ea = ${sum}; if (ea < 0 || ea > 4294967295) ${bail} t = ${his.length ? `(${his.join(" + ")}) >>> 0` : "0"};`;
}

/** memory.ts ea(): the operand address into `ea`, leaving before instruction k if it is not wholly in RAM. */
export function eaJs(g: Gen, ins: Insn, k: number, size: number, write = false): string | null {
  if (g.paged) {
    if (g.hoistable(ins)) {
      // The same linear address in every pass, and the same translation: nothing a block runs changes the
      // TLB (it leaves on any miss), so the RAM offset is found once, at entry, into a local.
      const bail = g.entryExit();
      g.entry.add(`${linearJs(g, ins, k, bail)} ${xlateJs(g, ins, k, size, write, bail)} const P${k} = ea;`);
      g.hoisted.add(k);
      return `ea = P${k};`;
    }
    return `${linearJs(g, ins, k)} ${xlateJs(g, ins, k, size, write)}`;
  }
  if (ins.ripRel) {
    if (ins.dispHi !== 0 || ins.dispLo + size > g.memSize) return null;
    return `ea = ${ins.dispLo};`;
  }
  const { lo: parts, hi: hparts } = addressTerms(ins);
  const bail = g.exit(k, String(ins.addr));
  if (ins.addr32) return `ea = (${parts.join(" + ")}) >>> 0; if (ea + ${size} > MEM) ${bail}`;
  if (ins.dispHi === 0 || ins.dispHi === 0xffffffff) {
    // Fast form: with zero high halves the address is exactly the (non-negative) sum; anything else
    // (negative sums, high halves) goes back to the interpreter, which computes the general case.
    const his: string[] = [];
    if (ins.base >= 0) his.push(`R[${2 * ins.base + 1}]`);
    if (ins.index >= 0) his.push(`R[${2 * ins.index + 1}]`);
    const d = ins.dispLo | 0;
    const sum = [...parts.slice(1), ...(d !== 0 || parts.length === 1 ? [String(d)] : [])].join(" + ");
    const out = (e: string) =>
      `${d < 0 ? `${e} < 0 || ` : ""}${his.length ? `(${his.join(" | ")}) !== 0 || ` : ""}${e} + ${size} > MEM`;
    if (g.hoistable(ins)) {
      // The registers hold the same values in every pass: if the access is out of RAM in any pass it is in
      // the first, and the block leaves before its first instruction (the interpreter then runs on); the
      // address is computed there once, into a local.
      g.entry.add(`if (${out(`(${sum})`)}) ${g.entryExit()} const P${k} = ${sum};`);
      g.hoisted.add(k);
      return `ea = P${k};`;
    }
    return `ea = ${sum}; if (${out("ea")}) ${bail}`;
  }
  return `ea = ${parts.join(" + ")}; t = ${hparts.join(" + ")}; if (ea > 4294967295) { u = Math.floor(ea / 4294967296); ea -= u * 4294967296; t += u; } if ((t >>> 0) !== 0 || ea + ${size} > MEM) ${bail}`;
}
/** CacheModel.access (uarch.ts) with the L1 hit inline. */
export function cacheJs(size: number): string {
  const one = "u = ea >>> 6; if (l1[u & 511] !== u) cache.line(u);";
  return size > 1
    ? `${one} if ((ea & 63) + ${size} > 64) { u = (ea + ${size - 1}) >>> 6; if (l1[u & 511] !== u) cache.line(u); }`
    : one;
}
/** Most lines a block's hoisted accesses may have for `cold` (jit.ts warmLines) to be computed. */
export const WARM_LINES = 16;

/** Do two distinct lines among `lines[0..n)` share an L1 set (one could evict the other)? */
export function l1Clash(lines: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (lines[i] !== lines[j] && (lines[i] & (L1_LINES - 1)) === (lines[j] & (L1_LINES - 1))) return true;
  return false;
}

/** `aligned` where `ea` is a multiple of 4 (a Uint32Array access), else `unaligned` (the DataView): the
 *  one shape (ALIGN_RE) in which jit.ts specialises an access whose alignment it knows. */
const byAlignment = (aligned: string, unaligned: string) => `if ((ea & 3) === 0) { ${aligned} } else { ${unaligned} }`;
export const ALIGN_RE = /if \(\(ea & 3\) === 0\) \{ ([^{}]*) \} else \{ ([^{}]*) \}/g;

/** memory.ts rd() at `ea`. */
export function loadJs(size: number, lo: string, hi: string): string {
  switch (size) {
    case 8:
      if (!LITTLE_ENDIAN) return `${lo} = dv.getUint32(ea, true); ${hi} = dv.getUint32(ea + 4, true);`;
      return byAlignment(
        `${lo} = M32[ea >>> 2]; ${hi} = M32[(ea >>> 2) + 1];`,
        `${lo} = dv.getUint32(ea, true); ${hi} = dv.getUint32(ea + 4, true);`,
      );
    case 4:
      if (!LITTLE_ENDIAN) return `${lo} = dv.getUint32(ea, true); ${hi} = 0;`;
      return `${byAlignment(`${lo} = M32[ea >>> 2];`, `${lo} = dv.getUint32(ea, true);`)} ${hi} = 0;`;
    case 2:
      return `${lo} = dv.getUint16(ea, true); ${hi} = 0;`;
    default:
      return `${lo} = mem[ea]; ${hi} = 0;`;
  }
}
/** memory.ts wr() at `ea`: a store into decoded code invalidates exactly what it overwrote, and leaves
 *  the block (after instruction k) if it hit this block. */
export function storeJs(g: Gen, ins: Insn, k: number, size: number, lo: string, hi: string): string {
  const w =
    !LITTLE_ENDIAN && size >= 4
      ? size === 8
        ? `dv.setUint32(ea, ${lo}, true); dv.setUint32(ea + 4, ${hi}, true);`
        : `dv.setUint32(ea, ${lo}, true);`
      : size === 8
        ? byAlignment(
            `M32[ea >>> 2] = ${lo}; M32[(ea >>> 2) + 1] = ${hi};`,
            `dv.setUint32(ea, ${lo}, true); dv.setUint32(ea + 4, ${hi}, true);`,
          )
        : size === 4
          ? byAlignment(`M32[ea >>> 2] = ${lo};`, `dv.setUint32(ea, ${lo}, true);`)
          : size === 2
            ? `dv.setUint16(ea, ${lo}, true);`
            : `mem[ea] = ${lo};`;
  const next = ins.addr + ins.len;
  const code = `(cg[ea >>> 3] | cg[(ea + ${size - 1}) >>> 3]) !== 0`;
  if (g.hoisted.has(k)) {
    // Only decoding marks code granules, and none happens while a block runs (it calls neither the
    // platform nor an interpreter function, or nothing is hoisted): granules clear at entry stay clear,
    // and the store never leaves the block (jit.ts counts on it for flag liveness). A store into decoded
    // code leaves before the first instruction; the interpreter then runs the pass and invalidates.
    g.entry.add(`if (${code.replaceAll("ea", `P${k}`)}) ${g.entryExit()}`);
    return w;
  }
  return `${w} if (${code}) { ${cpuField("invalidate")}(ea, ${size}); if (!blk.valid) ${g.exit(k + 1, String(next))} }`;
}

/** memory.ts ld(): operand (kind, register) into lo/hi variables; memory via `ea` (already computed). */
export function operandJs(ins: Insn, kind: K, r: number, size: number, lo: string, hi: string): string {
  if (kind === K.Reg) return regRead(r, size, lo, hi);
  if (kind === K.Imm) return `${lo} = ${ins.immLo}; ${hi} = ${ins.immHi};`;
  return loadJs(size, lo, hi);
}

/** The lookups of hoisted accesses, guarded by `warm` (see warmLines). */
const WARM_GUARDED = /if \(iters < warm\) \{[^{}]*(\{[^{}]*\}[^{}]*)*\}/g;

/** Every cache access of generated `body` is a hoisted one (their lines fit in W). */
export const allHoisted = (g: Gen, body: string): boolean =>
  !body.replace(WARM_GUARDED, "").includes("cache.line(") && 2 * g.hoisted.size <= WARM_LINES;

/**
 * The declaration of `warm`, the passes (from 0) that look up the lines of hoisted accesses. After a
 * block's first pass, a hoisted access finds its lines in L1 (the first pass put them there) unless
 * another line of the pass evicted one — the L1 is direct-mapped, so only a distinct line of the same set
 * can. When every cache access of the block is hoisted (the same lines in every pass; nothing else runs
 * while a block runs) and no two of their distinct lines share an L1 set (l1Clash, at entry), later
 * passes would only hit, which changes nothing (uarch.ts line()): `warm` is 1 and they skip the lookups.
 * Otherwise every pass looks them up.
 * `atEntry` (the block has no such clash, and no instruction where it may leave in a pass, so every
 * call runs its first pass whole): the first pass's lookups run at entry, in program order, and the loop
 * has none; a clash found at entry hands over to the generic block (`slow`). `memSize`: the bytes an
 * instruction's memory operand accesses.
 */
export function warmLines(g: Gen, body: string, atEntry: boolean, memSize: (ins: Insn) => number): string {
  if (!atEntry && !allHoisted(g, body)) return `const warm = ${2 ** 31 - 1};`;
  const set: string[] = [],
    lookups: string[] = [];
  for (const k of g.hoisted) {
    const size = memSize(g.insns[k]);
    set.push(`W[${set.length}] = P${k} >>> 6;`, `W[${set.length + 1}] = (P${k} + ${size - 1}) >>> 6;`);
    lookups.push(`ea = P${k}; ${cacheJs(size)}`);
  }
  const clash = `l1Clash(W, ${set.length})`;
  if (atEntry) return `${set.join(" ")} if (${clash}) return slow(left);\n  ${lookups.join("\n  ")}`;
  return `${set.join(" ")} const warm = ${clash} ? ${2 ** 31 - 1} : 1;`;
}
