/**
 * The physical PMU's register file: counters, selectors and the 64-bit controls as Numbers (issue 16), an
 * owner tag (ProvenanceTable id) per register, and which registers changed since a consumer last asked (so
 * per-exit checks look only at what something wrote). PhysicalPmu (physical-pmu.ts) adds MSR semantics and
 * native counting on top. Facts: model.md §5, §12.3.
 */
import { EventSource, sourceOfEvent } from "../arch/arch-events.js";
import { shapedSourceOf } from "./event-counts.js";
import { ProvenanceTable } from "./provenance.js";

/** The low selector bits the counted source depends on: event select, umask, EDGE (18), INV (23), CMASK. */
const SOURCE_BITS_LO = 0xff84ffff;

/** Native counting input: which `GuestEvents` totals a counter follows. */
export enum CountPriv {
  Never = 0,
  Os = 1,
  Usr = 2,
  Both = 3,
}

/** The consumer of `takeChanged` before the first call: an object no consumer is (not null, so the comparison
 *  stays one of objects and V8's code optimised for another register file's consumers still applies). */
const NO_TAKER: object = Object.freeze({});

export class PmuRegisterFile {
  readonly nGP: number;
  readonly nFX: number;
  readonly gpMask: number;
  readonly fxMask: number;

  // The register file: Numbers only (issue 16). Counters are exact below 2^53 (widths ≤ 48 bits), selectors
  // below 2^35; the 64-bit control registers are two 32-bit halves. GP counters, selectors and fixed counters
  // are views of one array indexed by slot (`regs[s]`), so a check over slots reads one array.
  readonly regs: Float64Array;
  readonly gp: Float64Array;
  readonly fixed: Float64Array;
  /** Selector values as written (< 2^35), and their decoded counting state. */
  readonly eventsel: Float64Array;
  protected readonly gpSource: Int32Array;
  /** The selector bits gpSource was decoded from (SOURCE_BITS_LO, IN_TX/IN_TXCP above), -1: none yet. */
  private readonly gpSourceKey: Float64Array;
  protected readonly gpPriv: Int32Array;
  protected readonly fxPriv: Int32Array;
  fccLo = 0;
  fccHi = 0;
  ctrlLo = 0;
  ctrlHi = 0;
  statusLo = 0;
  statusHi = 0;
  metricsLo = 0;
  metricsHi = 0;
  /** Counters that count something with their PMI bit set (GP n: bit n; fixed i: bit i), kept by the
   *  selector and FIXED_CTR_CTRL writes so the run budget costs nothing while none is armed. */
  protected pmiGp = 0;
  protected pmiFx = 0;
  /** Counters whose controls make them count something at some CPL (GP n: bit n; fixed i: bit i): with none
   *  of them globally enabled, native counting has nothing to add (PhysicalPmu.sync). */
  protected countGp = 0;
  protected countFx = 0;
  /** Set when a counter with its PMI bit wrapped; the consumer (mediated PMI path) clears it. */
  pmiPending = false;

  /** Provenance per register as a small int (ProvenanceTable id), by slot: GP counters from 0, selectors
   *  from `sSel0`, fixed counters from `sFx0`, then FIXED_CTR_CTRL, GLOBAL_CTRL, GLOBAL_STATUS, PERF_METRICS.
   *  The two aliases of a GP counter share its slot; OVF_CTRL and STATUS_SET writes tag GLOBAL_STATUS. */
  readonly prov: Int32Array;
  readonly provs = new ProvenanceTable();
  readonly sSel0: number;
  readonly sFx0: number;
  readonly sFcc: number;
  readonly sCtrl: number;
  readonly sStatus: number;
  readonly sMetrics: number;
  /** Slots whose value or owner tag changed since the last `takeChanged` (bit s = slot s): lets a per-exit
   *  check look only at registers something wrote (src/check's leak check after put). */
  private changed = -1;
  private changedTaker: object = NO_TAKER;
  /** The same for the mediated switch (its own consumer, so the checker's answers stay exact). */
  private swChanged = -1;
  private swTaker: object = NO_TAKER;
  /** Every slot has a bit in `changed` (below 31); else `takeChanged` always answers "all". */
  private readonly trackable: boolean;

  constructor(nGP: number, nFX: number, wGP: number, wFX: number) {
    this.nGP = nGP;
    this.nFX = nFX;
    this.gpMask = 2 ** wGP - 1;
    this.fxMask = 2 ** wFX - 1;
    this.regs = new Float64Array(2 * this.nGP + this.nFX);
    this.gp = this.regs.subarray(0, this.nGP);
    this.eventsel = this.regs.subarray(this.nGP, 2 * this.nGP);
    this.fixed = this.regs.subarray(2 * this.nGP);
    this.gpSource = new Int32Array(this.nGP);
    this.gpSourceKey = new Float64Array(this.nGP).fill(-1);
    this.gpPriv = new Int32Array(this.nGP);
    this.fxPriv = new Int32Array(this.nFX);
    this.sSel0 = this.nGP;
    this.sFx0 = 2 * this.nGP;
    this.sFcc = this.sFx0 + this.nFX;
    this.sCtrl = this.sFcc + 1;
    this.sStatus = this.sFcc + 2;
    this.sMetrics = this.sFcc + 3;
    this.prov = new Int32Array(this.sMetrics + 1); // all RESET_PROV_ID
    this.trackable = this.sMetrics < 31;
  }

  /** Slot `s` (value or owner tag) may have changed. */
  protected touch(s: number): void {
    this.changed |= 1 << s;
    this.swChanged |= 1 << s;
  }

  /** Set slot `s`'s owner tag (a ProvenanceTable id), noting a change. */
  tag(s: number, p: number): void {
    if (this.prov[s] !== p) {
      this.prov[s] = p;
      this.changed |= 1 << s;
      this.swChanged |= 1 << s;
    }
  }

  /**
   * The slots (bit s) whose value or owner tag changed since `who` last asked, or −1 (all) when another
   * consumer asked in between or some slot has no bit: a consumer that reads only these slots sees every
   * change. One consumer per PMU gets exact answers (the vCPU's isolation checker).
   */
  takeChanged(who: object): number {
    const same = this.changedTaker === who;
    const c = same && this.trackable ? this.changed : -1;
    if (!same) this.changedTaker = who; // no store (and write barrier) per exit
    this.changed = 0;
    return c;
  }

  /** The slots (bit s) whose value or owner tag changed since the last call, or −1 (all) when some slot has
   *  no bit or another switch asked in between: the mediated switch's own view (MediatedSwitch.load visits
   *  only these registers and those whose vCPU-side input changed). */
  takeSwitchChanged(who: object): number {
    const same = this.swTaker === who;
    const c = same && this.trackable ? this.swChanged : -1;
    if (!same) this.swTaker = who;
    this.swChanged = 0;
    return c;
  }

  /** The owner id (ProvenanceTable.ownerId) of the value in slot `s`. */
  ownerAt(s: number): number {
    return this.provs.ownerOf(this.prov[s]!);
  }

  /** Slot `s` holds 0 (no information). */
  isZeroAt(s: number): boolean {
    if (s < this.sFcc) return this.regs[s] === 0;
    if (s === this.sFcc) return (this.fccLo | this.fccHi) === 0;
    if (s === this.sCtrl) return (this.ctrlLo | this.ctrlHi) === 0;
    if (s === this.sStatus) return (this.statusLo | this.statusHi) === 0;
    return (this.metricsLo | this.metricsHi) === 0;
  }

  // The register file's writes, on Numbers (the mediated switch calls these directly; `wrmsr` validates and
  // converts first). `p` is a ProvenanceTable id.

  /** GP counter `n` := v (within the width). */
  writeGp(n: number, v: number, p: number): void {
    if (this.gp[n] !== v) this.touch(n);
    this.gp[n] = v;
    this.tag(n, p);
  }

  /** Selector `n` := v (< 2^35): decoded only when the value changes (the decode depends on nothing else). */
  writeSel(n: number, v: number, p: number): void {
    this.tag(this.sSel0 + n, p);
    if (this.eventsel[n] === v) return;
    this.touch(this.sSel0 + n);
    this.eventsel[n] = v;
    const lo = v >>> 0;
    const en = (lo >>> 22) & 1;
    this.gpPriv[n] = en
      ? ((lo >>> 17) & 1 ? CountPriv.Os : 0) | ((lo >>> 16) & 1 ? CountPriv.Usr : 0)
      : CountPriv.Never;
    // The same silicon model as the vPMU's counting (CMASK on per-instruction events; other shaping counts nothing).
    // It reads the event, umask, EDGE, INV, CMASK and IN_TX/IN_TXCP bits only: a write that changes none of
    // them (host perf toggling EN around every exit) keeps the source decoded before.
    const hi = Math.floor(v / 4294967296);
    const key = ((lo & SOURCE_BITS_LO) >>> 0) + (hi & 3) * 4294967296;
    if (key !== this.gpSourceKey[n]) {
      this.gpSourceKey[n] = key;
      this.gpSource[n] = shapedSourceOf(sourceOfEvent(lo & 0xff, (lo >>> 8) & 0xff), lo, hi);
    }
    const pmi = this.gpPriv[n] !== CountPriv.Never && this.gpSource[n] !== EventSource.None && ((lo >>> 20) & 1) === 1;
    this.pmiGp = pmi ? (this.pmiGp | (1 << n)) >>> 0 : (this.pmiGp & ~(1 << n)) >>> 0;
    const counts = this.gpPriv[n] !== CountPriv.Never && this.gpSource[n] !== EventSource.None;
    this.countGp = counts ? (this.countGp | (1 << n)) >>> 0 : (this.countGp & ~(1 << n)) >>> 0;
  }

  /** Fixed counter `i` := v (within the width). */
  writeFixed(i: number, v: number, p: number): void {
    if (this.fixed[i] !== v) this.touch(this.sFx0 + i);
    this.fixed[i] = v;
    this.tag(this.sFx0 + i, p);
  }

  writeFixedCtrCtrl(lo: number, hi: number, p: number): void {
    this.tag(this.sFcc, p);
    // The decoded fields depend on the value alone: an unchanged value (every mediated load) keeps them.
    if (lo >>> 0 === this.fccLo && hi >>> 0 === this.fccHi) return;
    this.touch(this.sFcc);
    this.fccLo = lo >>> 0;
    this.fccHi = hi >>> 0;
    let pmi = 0;
    let counts = 0;
    for (let i = 0; i < this.nFX; i++) {
      this.fxPriv[i] = (lo >>> (4 * i)) & 3;
      if (this.fxPriv[i] !== 0) counts |= 1 << i;
      if (this.fxPriv[i] !== 0 && ((lo >>> (4 * i + 3)) & 1) === 1) pmi |= 1 << i;
    }
    this.pmiFx = pmi;
    this.countFx = counts;
  }

  /** GLOBAL_CTRL := hi:lo (callers check reserved bits where hardware would). */
  writeGlobalCtrl(lo: number, hi: number, p: number): void {
    // The value's and the owner tag's changes in one test (touch and tag would test each): every VM entry
    // and exit writes it, three times per mediated exit.
    const l = lo >>> 0;
    const h = hi >>> 0;
    const s = this.sCtrl;
    if (l === this.ctrlLo && h === this.ctrlHi && this.prov[s] === p) return;
    this.ctrlLo = l;
    this.ctrlHi = h;
    this.prov[s] = p;
    this.touch(s);
  }

  /** GLOBAL_OVF_CTRL: clear these status bits; the status value is then `p`'s. */
  clearStatus(lo: number, hi: number, p: number): void {
    this.setStatusHalves((this.statusLo & ~lo) >>> 0, (this.statusHi & ~hi) >>> 0, p);
  }

  /** GLOBAL_STATUS_SET: set these status bits. */
  setStatus(lo: number, hi: number, p: number): void {
    this.setStatusHalves((this.statusLo | lo) >>> 0, (this.statusHi | hi) >>> 0, p);
  }

  private setStatusHalves(lo: number, hi: number, p: number): void {
    if (lo !== this.statusLo || hi !== this.statusHi) this.touch(this.sStatus);
    this.statusLo = lo;
    this.statusHi = hi;
    this.tag(this.sStatus, p);
  }

  writePerfMetrics(lo: number, hi: number, p: number): void {
    if (lo >>> 0 !== this.metricsLo || hi >>> 0 !== this.metricsHi) this.touch(this.sMetrics);
    this.metricsLo = lo >>> 0;
    this.metricsHi = hi >>> 0;
    this.tag(this.sMetrics, p);
  }
}
