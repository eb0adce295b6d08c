/**
 * The guest CPU: the run loop over decoded instructions (interpreted through the semantic rows of
 * semantics.ts, or run as compiled blocks from jit.ts), instruction fetch and its cache, and the
 * platform's answers to privileged instructions. State, memory, interrupts and control registers are in
 * state.ts, memory.ts, interrupts.ts and control.ts. Facts: SDM Vol. 3 §6 (instruction boundaries,
 * interrupt shadow). Privileged instructions go to the injected Platform (platform.ts) after the faults
 * that outrank a VM exit.
 */
import { IF } from "./flags.js";
import { loadEfer, writeEfer } from "./control.js";
import { DecodeFail, Insn, decodeInto } from "./decode.js";
import { Delivery, CpuInterrupts } from "./interrupts.js";
import { compileBlock } from "./jit.js";
import { ExceptionAction, PlatformAction, type PlatformCpu } from "./platform.js";
import { Access, pfAccessBits } from "./paging.js";
import type { SharedDecodes } from "./shared-decodes.js";
import { CYCLES, EXEC } from "./semantics.js";
import { FAULT, StopReason, TWO32, Vec, canonical } from "./state.js";
import { TLB_MASK } from "./tlb.js";
import { UOPS } from "./uops.js";

export { StopReason, Vec } from "./state.js";
export type { CpuOptions, FaultRecord, TripleFaultInfo } from "./state.js";
export { AF, CF, OF, PF, SF, ZF } from "./flags.js";

/** Executions of an instruction (interpreted) before a block is compiled from it. */
const HOT = 8;
/** Decoded instructions kept at most (a few hundred bytes each, plus the blocks compiled from them): past
 *  this the pages decoded longest ago are dropped, so memory stays flat whatever code the guest runs. */
export const MAX_DECODED = 1 << 16;

export class Cpu extends CpuInterrupts implements PlatformCpu {
  /** @internal A compiled block's platform call returned this action (not Skip) for `jitIns`; the run
   *  loop completes it. -1: none. */
  jitAct = -1;
  /** @internal */
  jitIns: Insn | null = null;
  /** @internal act() raised an injected #GP/#UD (in fVec/fErr) without throwing: the instruction changed
   *  nothing, so the run loop delivers it exactly as it would a thrown fault, minus the cost of a throw on
   *  every injected fault (the sweep's probes take hundreds per run). */
  injected = false;
  /** @internal The bytes of an instruction that crosses into another physical page (paging on). */
  private readonly fetchBuf = new Uint8Array(16);

  /** WRMSR to IA32_EFER executed natively (control.ts writeEfer): false = #GP(0). */
  writeEfer(lo: number, hi: number): boolean {
    return writeEfer(this, lo, hi);
  }
  /** EFER as VM entry loads it from the VMCS guest field, after KVM's checks (control.ts loadEfer). */
  loadEfer(v: number): void {
    loadEfer(this, v);
  }
  /** Where the run stopped with StopReason.UnwrittenFetch (docs/guest-abi.md), or -1. */
  unwrittenFetch = -1;
  /** Pages the VMM loaded the image into (load()): the rule against executing unwritten memory spares them. */
  private readonly loadedPages = new Uint8Array(Math.ceil(this.memSize / 4096));
  /** Pages with a decoded-instruction array, oldest first (a ring), and how many decodes each has had. */
  private readonly codePages: number[] = [];
  private codeHead = 0;
  private readonly decodesInPage = new Uint32Array(Math.ceil(this.memSize / 4096));
  private decoded = 0;
  /** Decoded instructions shared with earlier CPUs that ran the same image (shared-decodes.ts), or null.
   *  Only fetches with paging off use it; what they decode is the same either way. */
  sharedDecodes: SharedDecodes | null = null;

  /**
   * Run until `budget` instructions have retired natively, or an earlier stop (see StopReason).
   * Interrupts raised before the call are delivered at the first boundary where they are allowed.
   */
  run(budget: number): StopReason {
    if (this.shutdown) return StopReason.TripleFault;
    let left = budget;
    const ev = this.events;
    // Only entry points (branch targets, where a run or a block left off) count towards compiling a
    // block, so a hot loop becomes one block rather than one per instruction.
    let entry = true;
    for (;;) {
      // Instruction boundary: pending external interrupt?
      // The STI shadow (this.inhibit) blocks delivery until the instruction after STI has run.
      if (this.irqCount > 0 && !this.inhibit) {
        if ((this.rflags & IF) !== 0) {
          const v = this.takeInterrupt();
          if (v >= 0) {
            this.halted = false;
            const cpl = this.cpl;
            this.deliverEvent(v, -1, this.rip, Delivery.External);
            if (this.shutdown) return StopReason.TripleFault;
            if (this.cpl !== cpl) return StopReason.ModeChange;
            if (this.stopAfterEvent) return StopReason.Budget;
          }
        }
      }
      if (this.halted) return StopReason.Halted;
      if (left <= 0) return StopReason.Budget;
      // In the STI shadow exactly one instruction runs before a pending interrupt: interpret it. While the LBR
      // stack records (lbr.ts), every instruction is interpreted: compiled blocks do not record branches.
      if (this.jitEnabled && !this.stopAfterEvent && !this.inhibit && !this.lbr.on) {
        const rip = this.rip;
        // Blocks are cached by the physical address of their first byte (and run only from the linear
        // address they were compiled at).
        const pa = this.paging ? this.probeFetch(rip) : rip < this.memSize ? rip : -1;
        if (pa >= 0) {
          const bp = this.bcache[pa >>> 12];
          if (bp !== null) {
            const b = bp[pa & 4095];
            if (b !== null && b.n <= left && b.start === rip) {
              const d = b.fn(left);
              if (d !== 0) {
                // d < 0: the block completed a platform call but retired nothing.
                if (d > 0) left -= d;
                entry = true;
                if (this.jitAct < 0) continue;
              }
            }
          }
        }
      }
      // A block's platform call returned an action other than Skip: complete it here as exec would.
      const pending = this.jitAct;
      const ins = pending >= 0 ? this.jitIns : this.fetch();
      this.jitAct = -1;
      this.jitIns = null;
      const cpl = this.cpl;
      this.inhibit = false;
      if (ins === null) {
        if (this.unwrittenFetch >= 0) return StopReason.UnwrittenFetch;
        // fetch fault
        this.deliverFault();
        if (this.shutdown) return StopReason.TripleFault;
        if (this.cpl !== cpl) return StopReason.ModeChange;
        if (this.stopAfterEvent) return StopReason.Budget;
        continue;
      }
      let retired: boolean;
      try {
        retired = pending >= 0 ? this.act(pending, ins) : EXEC[ins.op](this, ins);
      } catch (e) {
        if (e !== FAULT) throw e;
        retired = false;
        this.injected = true;
      }
      if (this.injected) {
        this.injected = false;
        this.deliverFault();
        if (this.shutdown) return StopReason.TripleFault;
        if (this.cpl !== cpl) return StopReason.ModeChange;
        if (this.stopAfterEvent) return StopReason.Budget;
        continue;
      }
      if (retired) {
        left--;
        ev.instructions++;
        ev.cycles += CYCLES[ins.op];
        ev.uops += UOPS[ins.op];
      }
      if (pending < 0 && entry && ++ins.hits === HOT && ins.valid && this.jitEnabled) this.compileAt(ins);
      entry = this.rip !== ins.addr + ins.len;
      if (this.trap >= 0) {
        const t = this.trap;
        this.trap = -1;
        this.deliverEvent(t, -1, this.rip, Delivery.Software);
        if (this.shutdown) return StopReason.TripleFault;
      }
      if (this.stopReq >= 0) {
        const s = this.stopReq;
        this.stopReq = -1;
        if (s === StopReason.Halted) {
          this.halted = true;
          if (this.canWake()) continue;
        }
        return s;
      }
      if (this.cpl !== cpl) return StopReason.ModeChange;
    }
  }

  private compileAt(ins: Insn): void {
    // Blocks are compiled for 64-bit code only; 16/32-bit code is interpreted (docs/cpu.md).
    if (this.codeBits !== 64) return;
    const pa = this.paging ? this.fetchPhys : ins.addr;
    // With paging on a block stays within its first instruction's page: the next page's translation
    // may change without touching this one.
    const page = Math.floor(ins.addr / 4096);
    const b = compileBlock(this, ins, (a) =>
      !this.paging ? this.peekInsn(a) : Math.floor(a / 4096) === page ? this.decodeCached(pa - ins.addr + a, a) : null,
    );
    if (b === null) return;
    b.phys = pa;
    this.jitStats.compiled++;
    if (b.wasm) this.jitStats.wasm++;
    const pi = pa >>> 12;
    let bp = this.bcache[pi];
    if (bp === null) bp = this.bcache[pi] = new Array(4096).fill(null);
    bp[pa & 4095] = b;
  }

  /** The RAM offset of an instruction fetch at `rip` if the TLB allows it now (no walk, no fault), or -1. */
  private probeFetch(rip: number): number {
    const p = (rip >>> 12) & 0xfffff;
    const t = this.tlb,
      i = p & TLB_MASK;
    if (t.tagLo[i] === p && t.tagHi[i] === Math.floor(rip / TWO32) && (t.allow[i] & (this.cpl === 3 ? 32 : 4)) !== 0)
      return t.phys[i] + (rip & 4095);
    return -1;
  }

  /** The decoded instruction at `addr` if it lies wholly in RAM (no fault is raised), for the compiler. */
  private peekInsn(addr: number): Insn | null {
    if (addr < 0 || addr >= this.memSize) return null;
    const page = this.icache[addr >>> 12];
    const cached = page ? page[addr & 4095] : null;
    if (cached) return cached;
    const saveLo = this.cr2Lo,
      saveHi = this.cr2Hi,
      v = this.fVec,
      e = this.fErr,
      rip = this.rip;
    this.rip = addr;
    const ins = this.fetch(false);
    this.rip = rip;
    this.cr2Lo = saveLo;
    this.cr2Hi = saveHi;
    this.fVec = v;
    this.fErr = e;
    return ins;
  }

  /** The decoded instruction at RIP (null after raising a fetch fault, or, for the run loop, when RIP is in
   *  unwritten memory: `unwrittenFetch` is set). `run` false: a look-ahead of the block compiler, which
   *  neither stops the run nor evicts (the block it is building holds instructions it decoded). */
  private fetch(run = true): Insn | null {
    const rip = this.rip;
    if (this.paging) return this.fetchPaged(rip);
    if (rip >= this.memSize || rip < 0) {
      // A relative branch below 0 wraps to the top of the address space (canonical, outside RAM → #PF).
      const hi = Math.floor(rip / TWO32) >>> 0;
      if (!canonical(hi)) {
        this.fVec = Vec.GP;
        this.fErr = 0;
        return null;
      }
      this.cr2Lo = rip >>> 0;
      this.cr2Hi = hi;
      this.fVec = Vec.PF;
      this.fErr = pfAccessBits(this, Access.Fetch, this.cpl === 3);
      return null;
    }
    const pi = rip >>> 12;
    let page = this.icache[pi];
    if (page !== null) {
      const cached = page[rip & 4095];
      if (cached !== null) return cached;
    }
    // Only a decode (a cache miss) looks: an instruction starting with a non-zero byte is never in a blank page.
    if (this.mem[rip] === 0 && this.blankPage(pi)) {
      if (run) this.unwrittenFetch = rip;
      return null;
    }
    const shared = this.sharedDecodes;
    const ins =
      shared !== null
        ? shared.decode(this.mem, rip, this.memSize - rip, this.codeBits)
        : decodeInto(new Insn(), this.mem, rip, rip, this.memSize - rip, this.codeBits);
    if (ins.fail === DecodeFail.Truncated) {
      this.cr2Lo = this.memSize;
      this.cr2Hi = 0;
      this.fVec = Vec.PF;
      this.fErr = pfAccessBits(this, Access.Fetch, this.cpl === 3);
      return null;
    }
    if (run && this.decoded >= MAX_DECODED) {
      this.evictOldPages();
      page = this.icache[pi];
    }
    if (page === null) {
      page = this.icache[pi] = new Array(4096).fill(null);
      this.codePages.push(pi);
    }
    page[rip & 4095] = ins;
    this.decodesInPage[pi]++;
    this.decoded++;
    const last = Math.min(this.memSize - 1, rip + Math.max(ins.len, 1) - 1);
    for (let gr = rip >>> 3; gr <= last >>> 3; gr++) this.codeGranules[gr] = 1;
    return ins;
  }

  /** fetch() with paging on: RIP is translated for an instruction fetch (SDM §4.6: XD, U/S); the
   *  decoded-instruction cache is keyed by the physical address and an entry serves only the linear
   *  address it was decoded at. An instruction whose bytes continue on the next page is decoded from
   *  both pages and not cached (the next page's translation may change on its own). */
  private fetchPaged(rip: number): Insn | null {
    const lo = rip >>> 0,
      hi = Math.floor(rip / TWO32) >>> 0;
    const user = this.cpl === 3;
    if (!canonical(hi)) {
      this.fVec = Vec.GP;
      this.fErr = 0;
      return null;
    }
    const pa = this.translate(lo, hi, Access.Fetch, user);
    if (pa < 0) return null;
    this.fetchPhys = pa;
    // The same bound as fetch(): only the run loop's fetch evicts, between instructions.
    if (this.decoded >= MAX_DECODED) this.evictOldPages();
    const ins = this.decodeCached(pa, rip);
    if (ins !== null) return ins;
    // The instruction continues on the next page.
    const n = 4096 - (pa & 4095);
    const next = rip + n;
    const hi2 = Math.floor(next / TWO32) >>> 0;
    if (!canonical(hi2)) {
      this.fVec = Vec.GP;
      this.fErr = 0;
      return null;
    }
    const pb = this.translate(next >>> 0, hi2, Access.Fetch, user);
    if (pb < 0) return null;
    const buf = this.fetchBuf;
    buf.set(this.mem.subarray(pa, pa + n));
    buf.set(this.mem.subarray(pb, pb + 16 - n), n);
    return decodeInto(new Insn(), buf, 0, rip, 16, this.codeBits);
  }

  /** @internal The instruction at RAM offset `pa` decoded for linear address `rip`, cached by `pa`; null
   *  if its bytes run past the end of the page. */
  decodeCached(pa: number, rip: number): Insn | null {
    const off = pa & 4095;
    const pi = pa >>> 12;
    let page = this.icache[pi];
    if (page === null) {
      page = this.icache[pi] = new Array(4096).fill(null);
      this.codePages.push(pi);
    }
    let ins = page[off];
    if (ins !== null) {
      if (ins.addr === rip) return ins;
      this.dropInsn(page, off); // another linear address decoded these bytes (an alias)
    }
    ins = decodeInto(new Insn(), this.mem, pa, rip, 4096 - off, this.codeBits);
    if (ins.fail === DecodeFail.Truncated) return null;
    page[off] = ins;
    this.decodesInPage[pi]++;
    this.decoded++;
    const last = pa + Math.max(ins.len, 1) - 1;
    for (let gr = pa >>> 3; gr <= last >>> 3; gr++) this.codeGranules[gr] = 1;
    return ins;
  }

  /**
   * The guest ABI's rule against running into memory nothing was put in (docs/guest-abi.md): a 4 KiB page
   * the image was not loaded into that holds only zero bytes. Without it a program that falls off its end
   * executes `00 00` (add [rax], al) through all of RAM until the instruction limit.
   */
  private blankPage(pi: number): boolean {
    if (this.loadedPages[pi] === 1) return false;
    const m = this.mem;
    const end = Math.min(this.memSize, pi * 4096 + 4096);
    for (let a = pi * 4096; a < end; a++) if (m[a] !== 0) return false;
    return true;
  }

  /** Drop the pages decoded longest ago (their instructions and every block holding one: invalidate())
   *  until a quarter of MAX_DECODED is free. Only the run loop's fetch evicts, between instructions. */
  private evictOldPages(): void {
    const pages = this.codePages;
    while (this.decoded > (MAX_DECODED * 3) / 4 && this.codeHead < pages.length) {
      const pi = pages[this.codeHead++];
      this.invalidate(pi * 4096, Math.min(4096, this.memSize - pi * 4096));
      this.icache[pi] = null;
      this.bcache[pi] = null;
      this.decoded -= this.decodesInPage[pi];
      this.decodesInPage[pi] = 0;
    }
    if (this.codeHead > 1024 && this.codeHead * 2 > pages.length) {
      pages.splice(0, this.codeHead);
      this.codeHead = 0;
    }
  }

  /** Copy bytes into guest memory (the VMM's loader); the pages they cover are never "unwritten". */
  override load(addr: number, bytes: Uint8Array): void {
    super.load(addr, bytes);
    for (let pi = addr >>> 12; pi * 4096 < addr + bytes.length; pi++) this.loadedPages[pi] = 1;
  }

  /** Decode (uncached) the instruction at `addr`, for traces and reports. */
  decodeAt(addr: number): Insn {
    return decodeInto(new Insn(), this.mem, addr, addr, Math.max(0, this.memSize - addr), this.codeBits);
  }

  /** The platform may intercept a fault before it is delivered (a VM exit on the exception bitmap). */
  override deliverFault(): void {
    if (this.platform.exception(this, this.fVec, this.fErr) === ExceptionAction.Deliver) super.deliverFault();
  }

  /** ExceptionCpu.readByte: a guest byte by linear address (translated when paging is on, as KVM's
   *  kvm_read_guest_virt does), -1 if it is not mapped or outside RAM. Raises nothing: the fault being
   *  handled (fVec, fErr, CR2) is kept. */
  readByte(addr: number): number {
    if (!this.paging) return addr >= 0 && addr < this.memSize ? this.mem[addr] : -1;
    const cr2Lo = this.cr2Lo,
      cr2Hi = this.cr2Hi,
      v = this.fVec,
      e = this.fErr;
    let pa = -1;
    try {
      pa = this.translate(addr >>> 0, Math.floor(addr / TWO32) >>> 0, Access.Read, this.cpl === 3);
    } catch (x) {
      if (x !== FAULT) throw x;
    }
    this.cr2Lo = cr2Lo;
    this.cr2Hi = cr2Hi;
    this.fVec = v;
    this.fErr = e;
    return pa >= 0 && pa < this.memSize ? this.mem[pa] : -1;
  }

  /** ExceptionCpu.emulateAt: run the instruction at `rip` for the host's emulator, not counted natively. */
  emulateAt(rip: number): number {
    this.rip = rip;
    const ins = this.fetch();
    if (ins === null) {
      this.deliverFault();
      return -1;
    }
    const ev = this.events;
    const branches = ev.branches,
      mispredicts = ev.branchMispredicts;
    // The host's emulator does not write the guest's LBRs: only the processor records (lbr.ts).
    const lbrOn = this.lbr.on;
    this.lbr.on = false;
    try {
      EXEC[ins.op](this, ins);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.injected = true;
    }
    this.lbr.on = lbrOn;
    if (this.injected) {
      this.injected = false;
      this.deliverFault();
      return -1;
    }
    const branch = ev.branches !== branches ? 1 : 0;
    ev.branches = branches;
    ev.branchMispredicts = mispredicts;
    return branch;
  }

  /** ExceptionCpu.skip. */
  skip(length: number): void {
    this.rip += length;
  }

  /** Execute one instruction via the same path as run(), with no budget accounting tricks. */
  step(): StopReason {
    return this.run(1);
  }

  /** The platform's #GP/#UD for an instruction that has changed nothing yet: raised as fault() would, for
   *  the caller to deliver, but returned instead of thrown (every caller returns act()'s value at once). */
  private inject(vec: number, err: number): boolean {
    this.fVec = vec;
    this.fErr = err;
    this.injected = true;
    return false;
  }

  /** @internal Apply a platform's answer. Returns true if the instruction retired natively. */
  act(a: PlatformAction, ins: Insn): boolean {
    switch (a) {
      case PlatformAction.Retire:
        this.rip += ins.len;
        return true;
      case PlatformAction.Skip:
        this.rip += ins.len;
        return false;
      case PlatformAction.InjectGP:
        return this.inject(Vec.GP, 0);
      case PlatformAction.InjectUD:
        return this.inject(Vec.UD, -1);
      case PlatformAction.Exit:
        this.rip += ins.len;
        this.stopReq = StopReason.Exit;
        return false;
      case PlatformAction.Halt:
        this.rip += ins.len;
        this.stopReq = StopReason.Halted;
        return false;
      case PlatformAction.RetireAndStop:
        this.rip += ins.len;
        this.stopReq = StopReason.Budget;
        return true;
      default:
        return this.fault(Vec.UD, -1);
    }
  }
}
