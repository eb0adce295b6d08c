/**
 * Exceptions and interrupts: pending external interrupts (IRR, STI shadow, TPR), delivery through a
 * 64-bit IDT with #DF / triple-fault escalation, and IRETQ. Facts: SDM Vol. 3 §6.12 and §6.14 (64-bit
 * IDT, gates, frames), Table 6-5 (double-fault conditions), §10.8.3.1 (TPR); Vol. 2 IRET, POPF.
 */
import { IF, RFLAGS_FIXED, STATUS, DF, TF } from "./flags.js";
import { EFER_LMA } from "../arch/msr-index.js";
import { CpuSegments } from "./descriptors.js";
import { FAULT, type FaultRecord, Seg, TWO32, Vec, canonical, linearNumber } from "./state.js";
import { EVENT_DELIVERY_CYCLES } from "./uarch.js";

/** RFLAGS bits writable by POPFQ/IRETQ: status, TF, IF, DF, IOPL(12-13), NT(14), AC(18), ID(21). */
const FLAGS_WRITABLE = STATUS | TF | IF | DF | 0x3000 | 0x4000 | 0x40000 | 0x200000;

/** Delivery kinds of deliverEvent. */
export const Delivery = {
  Exception: 0,
  External: 1,
  /** INT3, INT n: software, so the gate DPL is checked against CPL and EXT = 0 in nested error codes. */
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
  /** @internal A trap to deliver after the current instruction retires (INT3, INT n), or -1. */
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

  /**
   * Read the gate and push the frame; any fault throws (caller escalates). IA-32e mode: 16-byte gates
   * (§6.14.1); protected mode: 8-byte 32-bit interrupt/trap gates (§6.11, §6.12.1). 16-bit gates and
   * task gates are not modelled (#GP(vector·8 + 2 + EXT), as for any other type).
   */
  private enterGate(v: number, err: number, retRip: number, ext: boolean, soft: boolean): void {
    const extBit = ext ? 1 : 0;
    // IA-32e mode (64-bit code runs only there; a test may set EFER directly without a mode switch).
    const long = (this.efer & EFER_LMA) !== 0 || this.codeBits === 64;
    const gsz = long ? 16 : 8;
    // Beyond the IDT limit → #GP(vector·8 + 2 + EXT) (§6.13 IDT bit).
    if (v * gsz + gsz - 1 > this.idtLimit) this.fault(Vec.GP, v * 8 + 2 + extBit);
    let lo = this.idtBaseLo + v * gsz,
      hi = this.idtBaseHi;
    if (lo > 0xffffffff) {
      lo -= TWO32;
      hi = (hi + 1) >>> 0;
    }
    const a = this.checkAs(lo, hi, gsz, false, false, false); // an implicit supervisor access (SDM §4.6)
    const dv = this.dv;
    const offLo = (dv.getUint16(a, true) | (dv.getUint16(a + 6, true) << 16)) >>> 0;
    const offHi = long ? dv.getUint32(a + 8, true) : 0;
    const sel = dv.getUint16(a + 2, true);
    const ist = long ? this.mem[a + 4] & 7 : 0;
    const attr = this.mem[a + 5];
    const type = attr & 0xf,
      dpl = (attr >> 5) & 3,
      present = attr >> 7;
    if (type !== 0xe && type !== 0xf) this.fault(Vec.GP, v * 8 + 2 + extBit);
    if (soft && dpl < this.cpl) this.fault(Vec.GP, v * 8 + 2);
    if (!present) this.fault(Vec.NP, v * 8 + 2 + extBit);
    if (!canonical(offHi)) this.fault(Vec.GP, 0);
    const oldCpl = this.cpl;
    // The handler's CS from the GDT/LDT; the 64-bit start state has no GDT (limit 0): then the handler's
    // CPL is the gate selector's RPL and CS keeps its hidden part (docs/cpu.md).
    const gdt = !long || this.gdtLimit !== 0;
    const newCpl = gdt ? this.handlerCode(sel, extBit) : sel & 3;
    if (!gdt && newCpl > oldCpl) this.fault(Vec.GP, (sel & 0xfffc) + extBit);
    const cLo = this.dLo,
      cHi = this.dHi,
      cAt = this.dAt;
    const fl = this.rflags;
    if (long) this.frame64(err, retRip, newCpl, ist, extBit);
    else {
      // The offset within the handler's segment limit (#GP(0)); a segment base other than 0 is not
      // modelled (RIP is the linear address here), as for far jumps: #GP(selector).
      let limit = (cLo & 0xffff) | (cHi & 0xf0000);
      if (cHi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
      if (offLo > limit) this.fault(Vec.GP, 0);
      if (((cLo >>> 16) | (cHi & 0xff0000ff)) !== 0) this.fault(Vec.GP, sel & 0xfffc);
      this.frame32(err, retRip, newCpl, extBit);
    }
    // Gates clear TF, NT, RF, VM; an interrupt gate (type E) also clears IF (§6.12.1.3).
    this.rflags = (fl & ~(TF | 0x4000 | 0x10000 | 0x20000 | (type === 0xe ? IF : 0))) >>> 0;
    this.halted = false;
    if (gdt) {
      this.dLo = cLo;
      this.dHi = cHi;
      this.dAt = cAt;
      this.loadHidden(Seg.CS, (sel & 0xfffc) | newCpl);
      this.cpl = newCpl;
      this.setMode();
    } else {
      this.cs = sel;
      this.cpl = newCpl;
    }
    this.rip = linearNumber(offLo, offHi);
  }

  /**
   * The IA-32e frame (§6.14.2–6.14.5): the stack is TSS.ISTn for a gate with IST = n, else TSS.RSPn on a
   * privilege change (rsp0Lo/Hi while no TR was loaded), else RSP; it is aligned down to 16 and SS, RSP,
   * RFLAGS, CS, RIP (and the error code) are pushed as qwords. A privilege change loads a null SS with
   * RPL = the new CPL.
   */
  private frame64(err: number, retRip: number, newCpl: number, ist: number, extBit: number): void {
    const g = this.regs;
    const oldRspLo = g[8],
      oldRspHi = g[9],
      oldSs = this.ss,
      oldCs = this.cs;
    let sLo = oldRspLo,
      sHi = oldRspHi;
    if (ist !== 0 || newCpl < this.cpl) {
      if (ist === 0 && this.trSel === 0) {
        sLo = this.rsp0Lo;
        sHi = this.rsp0Hi;
      } else {
        this.readTss(ist !== 0 ? 0x24 + 8 * (ist - 1) : 4 + 8 * newCpl, 8, extBit);
        sLo = this.aLo >>> 0;
        sHi = this.aHi >>> 0;
      }
    }
    sLo = (sLo & ~0xf) >>> 0;
    const n = err >= 0 ? 6 : 5;
    let bLo = sLo - n * 8,
      bHi = sHi;
    if (bLo < 0) {
      bLo += TWO32;
      bHi = (bHi - 1) >>> 0;
    }
    if (!canonical(bHi)) this.fault(Vec.SS, extBit);
    const base = this.checkAs(bLo, bHi, n * 8, true, true, newCpl === 3);
    const words =
      n === 6 ? [err, retRip, oldCs, this.rflags, oldRspLo, oldSs] : [retRip, oldCs, this.rflags, oldRspLo, oldSs];
    const his =
      n === 6 ? [0, Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0] : [Math.floor(retRip / TWO32), 0, 0, oldRspHi, 0];
    for (let i = 0; i < n; i++) this.wr(base + i * 8, 8, words[i] >>> 0, his[i] >>> 0);
    this.cache.access(base, n * 8);
    g[8] = bLo;
    g[9] = bHi;
    if (newCpl !== this.cpl) this.ss = newCpl; // null SS with RPL = new CPL (§6.14.4)
  }

  /**
   * The 32-bit frame (§6.12.1): on a privilege change SS:ESP come from the 32-bit TSS and the old SS and
   * ESP are pushed first; then EFLAGS, CS, EIP and the error code, 4 bytes each, through SS, as
   * supervisor accesses. A fault while pushing leaves SS, ESP and the CPL as they were.
   */
  private frame32(err: number, retRip: number, newCpl: number, extBit: number): void {
    const g = this.regs;
    const oldEsp = g[8],
      oldSs = this.ss,
      oldCs = this.cs,
      oldCpl = this.cpl,
      fl = this.rflags;
    const ssBase = this.segBase[Seg.SS],
      ssLimit = this.segLimit[Seg.SS],
      ssAttr = this.segAttr[Seg.SS];
    try {
      if (newCpl < oldCpl) {
        const esp = this.innerStack32(newCpl, extBit);
        this.setMode();
        g[8] = esp;
        this.cpl = newCpl;
        this.push(4, oldSs, 0);
        this.push(4, oldEsp, 0);
      }
      this.cpl = newCpl;
      this.push(4, fl, 0);
      this.push(4, oldCs, 0);
      this.push(4, retRip >>> 0, 0);
      if (err >= 0) this.push(4, err, 0);
    } catch (x) {
      g[8] = oldEsp;
      this.cpl = oldCpl;
      this.segSel[Seg.SS] = oldSs;
      this.segBase[Seg.SS] = ssBase;
      this.segLimit[Seg.SS] = ssLimit;
      this.segAttr[Seg.SS] = ssAttr;
      this.setMode();
      throw x;
    }
  }

  /** @internal POPFQ / IRETQ flag update at the current CPL (SDM POPF: IOPL only at CPL 0, IF only if
   *  CPL ≤ IOPL). */
  setFlagsFromPop(v: number): void {
    let mask = FLAGS_WRITABLE;
    if (this.cpl > 0) mask &= ~0x3000;
    if (this.cpl > this.iopl) mask &= ~IF;
    this.rflags = ((this.rflags & ~mask) | (v & mask) | RFLAGS_FIXED) >>> 0;
  }

  /**
   * @internal IRET with operand size `s` (IRETW 2, IRETD 4, IRETQ 8; SDM Vol. 2 IRET, protected and
   * IA-32e mode): pop the offset, CS and the flags; the code segment is checked as RET far checks it
   * (RPL ≥ CPL, #GP(sel)) and may switch to compatibility mode or 32-bit code. RSP and SS are popped
   * too in 64-bit mode and on a return to an outer ring; SS is then loaded as MOV SS would at the new
   * CPL (a null SS only into 64-bit code at CPL < 3, #GP(0)). RFLAGS.NT = 1 asks for a task return,
   * which is not modelled: #GP(0). Without a GDT (the 64-bit start state) the new CPL is CS.RPL, a
   * return to an inner ring is #GP(CS), and CS/SS keep their hidden parts.
   */
  iret(s: number): void {
    const long = (this.efer & EFER_LMA) !== 0 || this.codeBits === 64;
    if (this.rflags & 0x4000 && !long) this.fault(Vec.GP, 0);
    this.peek(s, 0);
    const ripLo = this.aLo >>> 0,
      ripHi = s === 8 ? this.aHi >>> 0 : 0;
    this.peek(s, s);
    const cs = this.aLo & 0xffff;
    this.peek(s, 2 * s);
    const fl = s === 2 ? (this.rflags & 0xffff0000) | (this.aLo & 0xffff) : this.aLo;
    const rpl = cs & 3;
    if (rpl < this.cpl) this.fault(Vec.GP, cs & 0xfffc);
    const popStack = this.codeBits === 64 || rpl > this.cpl;
    let spLo = 0,
      spHi = 0,
      ss = 0;
    if (popStack) {
      this.peek(s, 3 * s);
      spLo = this.aLo >>> 0;
      spHi = s === 8 ? this.aHi >>> 0 : 0;
      this.peek(s, 4 * s);
      ss = this.aLo & 0xffff;
    }
    const oldCpl = this.cpl;
    if (long && this.gdtLimit === 0) {
      if (!canonical(ripHi)) this.fault(Vec.GP, 0);
      this.setFlagsFromPop(fl);
      this.cpl = rpl;
      this.cs = cs;
      this.ss = ss;
      this.regs[8] = spLo;
      this.regs[9] = spHi;
      this.rip = linearNumber(ripLo, ripHi);
      return;
    }
    const bits = this.checkCode(cs, rpl);
    if (popStack) {
      if ((ss & 0xfffc) === 0 && bits !== 64) this.fault(Vec.GP, 0);
      this.loadReturnSs(ss, rpl);
    }
    this.enterCode(cs, rpl, bits, ripLo, ripHi);
    this.cpl = oldCpl;
    this.setFlagsFromPop(fl);
    this.cpl = rpl;
    if (popStack) {
      this.regs[8] = spLo;
      this.regs[9] = spHi;
    } else this.addRsp(3 * s);
  }
}

/** CR2 as 0x-prefixed hex without a leading-zero pad, for fault reports (not on the hot path). */
function cr2Hex(hi: number, lo: number): string {
  return hi >>> 0
    ? `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, "0")}`
    : `0x${(lo >>> 0).toString(16)}`;
}
