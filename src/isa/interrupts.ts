/**
 * Exceptions and interrupts: pending external interrupts (IRR, STI shadow, TPR), delivery through a
 * 64-bit IDT with #DF / triple-fault escalation, and IRETQ. Facts: SDM Vol. 3 §6.12 and §6.14 (64-bit
 * IDT, gates, frames), Table 6-5 (double-fault conditions), §10.8.3.1 (TPR); Vol. 2 IRET, POPF.
 */
import { IF, RFLAGS_FIXED, STATUS, DF, TF } from "./flags.js";
import { CpuSegments } from "./descriptors.js";
import { FAULT, type FaultRecord, TWO32, Vec, canonical, linearNumber } from "./state.js";
import { EVENT_DELIVERY_CYCLES } from "./uarch.js";

/** RFLAGS bits writable by POPFQ/IRETQ: status, TF, IF, DF, IOPL(12-13), NT(14), AC(18), ID(21). */
const FLAGS_WRITABLE = STATUS | TF | IF | DF | 0x3000 | 0x4000 | 0x40000 | 0x200000;

/** Delivery kinds of deliverEvent. */
export const Delivery = {
  Exception: 0,
  External: 1,
  /** INT3: software, so the gate DPL is checked against CPL and EXT = 0 in nested error codes. */
  Software: 2,
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** SDM Table 6-5 classes: benign 0, contributory 1 (#DE, #TS, #NP, #SS, #GP), page fault 2. */
function exceptionClass(v: number): number {
  return v === Vec.PF ? 2 : v === Vec.DE || (v >= Vec.TS && v <= Vec.GP) ? 1 : 0;
}

export class CpuInterrupts extends CpuSegments {
  /** @internal Pending external interrupt vectors (256-bit bitmap) and how many are set. */
  readonly irr = new Uint32Array(8);
  /** @internal */
  irqCount = 0;
  /** @internal The STI/interrupt shadow: no delivery before the next instruction retires. */
  inhibit = false;
  /** @internal A trap to deliver after the current instruction retires (INT3), or -1. */
  trap = -1;

  /** Assert an external interrupt (e.g. a PMI) with this vector; delivered at the next instruction
   *  boundary where RFLAGS.IF = 1, no STI shadow, and vector[7:4] > CR8 (SDM §10.8.3.1 TPR). */
  raiseInterrupt(vector: number): void {
    const v = vector & 0xff;
    if (!(this.irr[v >>> 5] & (1 << (v & 31)))) {
      this.irr[v >>> 5] |= 1 << (v & 31);
      this.irqCount++;
    }
  }
  /** Is an interrupt pending (not yet delivered)? */
  get interruptPending(): boolean {
    return this.irqCount > 0;
  }

  /** @internal Could a pending interrupt wake a halted CPU now? */
  canWake(): boolean {
    return this.irqCount > 0 && (this.rflags & IF) !== 0 && this.highestDeliverable() >= 0;
  }

  /** @internal */
  highestDeliverable(): number {
    for (let w = 7; w >= 0; w--) {
      const bits = this.irr[w];
      if (bits === 0) continue;
      const v = w * 32 + 31 - Math.clz32(bits);
      return v >>> 4 > this.cr8 ? v : -1; // SDM §10.8.3.1: priority class must exceed TPR
    }
    return -1;
  }

  /** @internal Take the highest deliverable pending interrupt off the IRR (or -1). */
  takeInterrupt(): number {
    const v = this.highestDeliverable();
    if (v >= 0) {
      this.irr[v >>> 5] &= ~(1 << (v & 31));
      this.irqCount--;
    }
    return v;
  }

  /** @internal Deliver the fault raised by the last instruction/fetch (fVec/fErr), with #DF /
   *  triple-fault escalation. */
  deliverFault(): void {
    this.deliverEvent(this.fVec, this.fErr, this.rip, Delivery.Exception);
  }

  /**
   * @internal Deliver vector `vec` through the IDT (SDM Vol. 3 §6.12, §6.14). `retRip` is pushed.
   * Faults during delivery escalate per SDM Table 6-5.
   */
  deliverEvent(vec: number, err: number, retRip: number, kind: Delivery): void {
    const chain: FaultRecord[] = [];
    let v = vec,
      e = err,
      k: Delivery = kind;
    this.deliveries++;
    for (;;) {
      const rec: FaultRecord = { vector: v, errorCode: e >= 0 ? e : null, rip: this.rip };
      if (v === Vec.PF) rec.cr2 = cr2Hex(this.cr2Hi, this.cr2Lo);
      chain.push(rec);
      this.lastFault = rec;
      try {
        this.enterGate(v, e, retRip, k !== Delivery.Software, k === Delivery.Software);
        this.events.cycles += EVENT_DELIVERY_CYCLES;
        return;
      } catch (x) {
        if (x !== FAULT) throw x;
      }
      const nv = this.fVec,
        ne = this.fErr;
      if (v === Vec.DF && k === Delivery.Exception) {
        // SDM Table 6-5: a fault while delivering #DF → shutdown (triple fault).
        chain.push({ vector: nv, errorCode: ne >= 0 ? ne : null, rip: this.rip });
        this.shutdown = true;
        this.halted = true;
        this.tripleFault = { rip: this.rip, chain };
        return;
      }
      const c1 = k !== Delivery.Exception ? 0 : exceptionClass(v),
        c2 = exceptionClass(nv);
      if ((c1 === 1 && c2 === 1) || (c1 === 2 && c2 !== 0)) {
        v = Vec.DF;
        e = 0;
      } else {
        v = nv;
        e = ne;
      }
      k = Delivery.Exception;
      retRip = this.rip;
    }
  }

  /** Read the gate and push the frame; any fault throws (caller escalates). */
  private enterGate(v: number, err: number, retRip: number, ext: boolean, soft: boolean): void {
    const extBit = ext ? 1 : 0;
    // SDM §6.14.1: 16-byte gates; beyond the limit → #GP(vector*8 + 2 + EXT).
    if (v * 16 + 15 > this.idtLimit) this.fault(Vec.GP, v * 8 + 2 + extBit);
    let lo = this.idtBaseLo + v * 16,
      hi = this.idtBaseHi;
    if (lo > 0xffffffff) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.checkAs(lo, hi, 16, false, false, false); // an implicit supervisor access (SDM §4.6)
    const dv = this.dv;
    const offLo = dv.getUint16(a, true) | (dv.getUint16(a + 6, true) << 16);
    const offHi = dv.getUint32(a + 8, true);
    const sel = dv.getUint16(a + 2, true);
    const attr = this.mem[a + 5];
    const type = attr & 0xf,
      dpl = (attr >> 5) & 3,
      present = attr >> 7;
    if (type !== 0xe && type !== 0xf) this.fault(Vec.GP, v * 8 + 2 + extBit);
    if (soft && dpl < this.cpl) this.fault(Vec.GP, v * 8 + 2);
    if (!present) this.fault(Vec.NP, v * 8 + 2 + extBit);
    if (!canonical(offHi)) this.fault(Vec.GP, 0);
    // No GDT is modelled: the handler's CPL is the gate selector's RPL (docs/cpu.md).
    const newCpl = sel & 3;
    if (newCpl > this.cpl) this.fault(Vec.GP, (sel & 0xfffc) + extBit);
    const g = this.regs;
    const oldRspLo = g[8],
      oldRspHi = g[9],
      oldSs = this.ss,
      oldCs = this.cs,
      oldCpl = this.cpl;
    // §6.14.2: stack switch on a privilege change (RSP0), then align RSP to 16 and push 5 (or 6) qwords.
    let sLo = newCpl < oldCpl ? this.rsp0Lo : oldRspLo;
    const sHi = newCpl < oldCpl ? this.rsp0Hi : oldRspHi;
    sLo = (sLo & ~0xf) >>> 0;
    const n = err >= 0 ? 6 : 5;
    let bLo = sLo - n * 8,
      bHi = sHi;
    if (bLo < 0) {
      bLo += TWO32;
      bHi = (bHi - 1) >>> 0;
    }
    const base = this.checkAs(bLo, bHi, n * 8, true, true, newCpl === 3);
    const words =
      n === 6 ? [err, retRip, oldCs, this.rflags, oldRspLo, oldSs] : [retRip, oldCs, this.rflags, oldRspLo, oldSs];
    const his =
      n === 6 ? [0, Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0] : [Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0];
    for (let i = 0; i < n; i++) this.wr(base + i * 8, 8, words[i] >>> 0, his[i] >>> 0);
    this.cache.access(base, n * 8);
    g[8] = bLo;
    g[9] = bHi;
    // Gates clear TF, NT, RF; an interrupt gate (type E) also clears IF (§6.12.1.3).
    this.rflags &= ~(TF | 0x4000 | 0x10000 | (type === 0xe ? IF : 0));
    this.cs = sel;
    if (newCpl !== oldCpl) this.ss = newCpl; // null SS with RPL = new CPL (§6.14.4)
    this.cpl = newCpl;
    this.halted = false;
    this.rip = linearNumber(offLo, offHi);
  }

  /** @internal POPFQ / IRETQ flag update at the current CPL (SDM POPF: IOPL only at CPL 0, IF only if
   *  CPL ≤ IOPL). */
  setFlagsFromPop(v: number): void {
    let mask = FLAGS_WRITABLE;
    if (this.cpl > 0) mask &= ~0x3000;
    if (this.cpl > this.iopl) mask &= ~IF;
    this.rflags = ((this.rflags & ~mask) | (v & mask) | RFLAGS_FIXED) >>> 0;
  }

  /** @internal IRETQ (SDM IRET, 64-bit mode): pop RIP, CS, RFLAGS, RSP, SS. No GDT is modelled: the new
   *  CPL is CS.RPL, and a return to an inner ring is refused with #GP(CS). */
  iretq(): void {
    this.peek(8, 0);
    const ripLo = this.aLo,
      ripHi = this.aHi;
    this.peek(8, 8);
    const cs = this.aLo & 0xffff;
    this.peek(8, 16);
    const fl = this.aLo;
    this.peek(8, 24);
    const rspLo = this.aLo,
      rspHi = this.aHi;
    this.peek(8, 32);
    const ss = this.aLo & 0xffff;
    const newCpl = cs & 3;
    if (newCpl < this.cpl) this.fault(Vec.GP, cs & 0xfffc);
    if (!canonical(ripHi)) this.fault(Vec.GP, 0);
    this.setFlagsFromPop(fl);
    this.cpl = newCpl;
    this.cs = cs;
    this.ss = ss;
    this.regs[8] = rspLo;
    this.regs[9] = rspHi;
    this.rip = linearNumber(ripLo, ripHi);
  }
}

/** CR2 as 0x-prefixed hex without a leading-zero pad, for fault reports (not on the hot path). */
function cr2Hex(hi: number, lo: number): string {
  return hi >>> 0
    ? `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, "0")}`
    : `0x${(lo >>> 0).toString(16)}`;
}
