/**
 * Semantic functions of the system and platform instructions (SDM Vol. 2 NOP, PAUSE, LFENCE, MFENCE,
 * CLFLUSH, HLT, CLI, STI, CPUID, RDMSR, WRMSR, RDPMC, RDTSC(P), IN, OUT, VMCALL, UD2, LIDT, INVLPG). Each
 * raises the faults that outrank a VM exit (SDM Vol. 3 "Relative priority of faults and VM exits";
 * the row's `priv` in semantics.ts names the rule) and only then asks the platform (platform.ts).
 * Returns true if the instruction retired natively (the run loop counts it).
 */
import { CR4_PCE, CR4_TSD } from "../control.js";
import type { Cpu } from "../cpu.js";
import { DecodeFail, K, type Insn } from "../insn.js";
import { IF } from "../flags.js";
import { Vec } from "../state.js";
import * as control from "../control.js";
import { STATUS } from "../flags.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import { KEEP, Priv, type SemRow } from "./row.js";
import { loadDtr } from "./segment.js";

/** NOP, PAUSE, LFENCE, MFENCE: nothing architectural (their cost is the row's cycles). */
export function nop(c: Cpu, ins: Insn): boolean {
  c.rip += ins.len;
  return true;
}

/** CLFLUSH (sub 0; #UD unless CPUID.01H:EDX.CLFSH) / CLFLUSHOPT (sub 1): the line leaves the cache model.
 *  TODO(issue 12 item 3): CLFLUSHOPT is not gated on CPUID.(EAX=7,ECX=0):EBX[bit 23]; no modelled CPUID
 *  advertises it yet. */
export function clflush(c: Cpu, ins: Insn): boolean {
  if (ins.sub === 0 && !c.cpuidFeatures.clflush) c.fault(Vec.UD, -1);
  const a = c.ea(ins, 1, false);
  c.cache.flush(a);
  c.rip += ins.len;
  return true;
}

export function hlt(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  return c.act(c.platform.hlt(c, ins.len), ins);
}

/** SDM CLI/STI (protected mode, no VME/PVI): #GP(0) if CPL > IOPL. */
export function cli(c: Cpu, ins: Insn): boolean {
  if (c.cpl > c.iopl) c.fault(Vec.GP, 0);
  c.rflags &= ~IF;
  c.rip += ins.len;
  return true;
}

/** STI that sets IF opens the interrupt shadow: the next instruction runs before any delivery. */
export function sti(c: Cpu, ins: Insn): boolean {
  if (c.cpl > c.iopl) c.fault(Vec.GP, 0);
  if (!(c.rflags & IF)) c.inhibit = true;
  c.rflags |= IF;
  c.rip += ins.len;
  return true;
}

export function cpuid(c: Cpu, ins: Insn): boolean {
  return c.act(c.platform.cpuid(c, ins.len), ins);
}

/** RDMSR: the FS/GS base MSRs are the CPU's own (VMX passes them through: descriptors.ts); the
 *  others go to the platform. */
export function rdmsr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  if (c.readBaseMsr(c.regs[2])) {
    c.rip += ins.len;
    return true;
  }
  return c.act(c.platform.rdmsr(c, ins.len), ins);
}

export function wrmsr(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  if (c.writeBaseMsr(c.regs[2])) {
    c.rip += ins.len;
    return true;
  }
  return c.act(c.platform.wrmsr(c, ins.len), ins);
}

/** SWAPGS (descriptors.ts). */
export function swapgs(c: Cpu, ins: Insn): boolean {
  c.swapgs();
  c.rip += ins.len;
  return true;
}

/** SDM RDPMC / model.md R-HW-1: #GP if CPL > 0 and CR4.PCE = 0 (CR0.PE = 1 here), before any VM exit. */
export function rdpmc(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0 && !(c.cr4 & CR4_PCE)) c.fault(Vec.GP, 0);
  return c.act(c.platform.rdpmc(c, ins.len), ins);
}

/** RDTSC / RDTSCP: #GP(0) at CPL > 0 with CR4.TSD = 1; RDTSCP #UD first unless CPUID.80000001H:EDX.RDTSCP
 *  (SDM RDTSCP; ECX := IA32_TSC_AUX, MSR 0xC0000103, from the platform). */
function readTsc(c: Cpu, ins: Insn, withAux: boolean): boolean {
  if (withAux && !c.cpuidFeatures.rdtscp) c.fault(Vec.UD, -1);
  if (c.cpl > 0 && c.cr4 & CR4_TSD) c.fault(Vec.GP, 0);
  return c.act(c.platform.rdtsc(c, ins.len, withAux), ins);
}
export const rdtsc = (c: Cpu, ins: Insn): boolean => readTsc(c, ins, false);
export const rdtscp = (c: Cpu, ins: Insn): boolean => readTsc(c, ins, true);

/** SDM IN/OUT: CPL > IOPL → #GP(0) (no TSS I/O bitmap in this model). Port from imm8 or DX. */
export function portIn(c: Cpu, ins: Insn): boolean {
  if (c.cpl > c.iopl) c.fault(Vec.GP, 0);
  // imm8 zero-extended; `& 0xff` keeps the port a small integer (Insn holds immediates as doubles, and a double
  // port would change the hidden class of the VMX layer's exit record at the guest's first I/O exit).
  const port = ins.k1 === K.Imm ? ins.immLo & 0xff : c.regs[4] & 0xffff;
  return c.act(c.platform.portIn(c, port, ins.size as 1 | 2 | 4, ins.len), ins);
}

export function portOut(c: Cpu, ins: Insn): boolean {
  if (c.cpl > c.iopl) c.fault(Vec.GP, 0);
  const g = c.regs;
  const port = ins.k0 === K.Imm ? ins.immLo & 0xff : g[4] & 0xffff; // as in portIn
  const sz = ins.size as 1 | 2 | 4;
  const v = sz === 1 ? g[0] & 0xff : sz === 2 ? g[0] & 0xffff : g[0];
  return c.act(c.platform.portOut(c, port, sz, v, ins.len), ins);
}

export function vmcall(c: Cpu, ins: Insn): boolean {
  return c.act(c.platform.vmcall(c, ins.len), ins);
}

export function ud2(c: Cpu, _ins: Insn): boolean {
  return c.fault(Vec.UD, -1);
}

/** LIDT m: a 10-byte IDTR image (limit, 64-bit base); CPL 0 only. */
/** LIDT: 10 bytes in 64-bit mode, 6 outside it (sem/segment.ts loadDtr, shared with LGDT). */
export const lidt = loadDtr;

/** INVLPG m (SDM INVLPG): CPL 0 only; drops the TLB entries of the page holding the operand's linear
 *  address, global ones too (tlb.ts). Nothing is translated, so nothing faults on the address; a
 *  non-canonical one drops nothing. With EPT, KVM runs it without a VM exit (no INVLPG exiting). */
export function invlpg(c: Cpu, ins: Insn): boolean {
  if (c.cpl > 0) c.fault(Vec.GP, 0);
  c.invlpg(ins);
  c.rip += ins.len;
  return true;
}

/** Bytes this CPU does not implement (#UD), or an over-long instruction (SDM §2.3.11: #GP(0)). */
export function invalid(c: Cpu, ins: Insn): boolean {
  if (ins.fail === DecodeFail.TooLong) return c.fault(Vec.GP, 0);
  return c.fault(Vec.UD, -1);
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  { op: Op.Invalid, mnemonics: {}, cycles: 0, reads: 0, writes: 0, faults: true, exec: invalid },
  {
    op: Op.Nop,
    // The hint NOPs (opcodes-ext.ts): ENDBR64/32 without CET, PREFETCHh (no fault, no cache effect
    // modelled) and HINT_NOPn.
    mnemonics: {
      nop: 0,
      endbr64: 0,
      endbr32: 0,
      prefetchnta: 0,
      prefetcht0: 0,
      prefetcht1: 0,
      prefetcht2: 0,
      ...Object.fromEntries(Array.from({ length: 64 }, (_, n) => [`hint_nop${n}`, 0])),
    },
    cycles: 1,
    reads: 0,
    writes: 0,
    exec: nop,
    compile: emit.nop,
    memSize: () => 0,
  },
  {
    op: Op.Pause,
    mnemonics: { pause: 0 },
    cycles: 10,
    reads: 0,
    writes: 0,
    exec: nop,
    compile: emit.nop,
    memSize: () => 0,
  },
  {
    op: Op.Hlt,
    mnemonics: { hlt: 0 },
    cycles: 1,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: hlt,
  },
  { op: Op.Cli, mnemonics: { cli: 0 }, cycles: 2, reads: 0, writes: 0, priv: Priv.Iopl, exec: cli },
  { op: Op.Sti, mnemonics: { sti: 0 }, cycles: 2, reads: 0, writes: 0, priv: Priv.Iopl, exec: sti },
  { op: Op.Cpuid, mnemonics: { cpuid: 0 }, cycles: 100, reads: STATUS, writes: 0, platform: true, exec: cpuid },
  {
    op: Op.Rdmsr,
    mnemonics: { rdmsr: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: rdmsr,
    compile: emit.rdmsr,
  },
  {
    op: Op.Wrmsr,
    mnemonics: { wrmsr: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: wrmsr,
  },
  { op: Op.Swapgs, mnemonics: { swapgs: 0 }, cycles: 10, reads: 0, writes: 0, faults: true, exec: swapgs },
  {
    op: Op.Rdpmc,
    mnemonics: { rdpmc: 0 },
    cycles: 30,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Pce,
    exec: rdpmc,
  },
  {
    op: Op.Rdtsc,
    mnemonics: { rdtsc: 0 },
    cycles: 20,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Tsd,
    exec: rdtsc,
  },
  {
    op: Op.Rdtscp,
    mnemonics: { rdtscp: 0 },
    cycles: 25,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Tsd,
    faults: true,
    exec: rdtscp,
  },
  {
    op: Op.Lfence,
    mnemonics: { lfence: 0 },
    cycles: 4,
    reads: 0,
    writes: 0,
    exec: nop,
    compile: emit.nop,
    memSize: () => 0,
  },
  {
    op: Op.Mfence,
    mnemonics: { mfence: 0 },
    cycles: 10,
    reads: 0,
    writes: 0,
    exec: nop,
    compile: emit.nop,
    memSize: () => 0,
  },
  {
    op: Op.Clflush,
    mnemonics: { clflush: 0, clflushopt: 1 },
    cycles: 5,
    reads: 0,
    writes: 0,
    faults: true,
    exec: clflush,
  },
  {
    op: Op.In,
    mnemonics: { in: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Iopl,
    exec: portIn,
  },
  {
    op: Op.Out,
    mnemonics: { out: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Iopl,
    exec: portOut,
  },
  { op: Op.Ud2, mnemonics: { ud2: 0 }, cycles: 0, reads: STATUS, writes: 0, faults: true, exec: ud2 },
  { op: Op.Lidt, mnemonics: { lidt: 0 }, cycles: 10, reads: 0, writes: 0, priv: Priv.Cpl0, exec: lidt },
  { op: Op.Invlpg, mnemonics: { invlpg: 0 }, cycles: 10, reads: 0, writes: 0, priv: Priv.Cpl0, exec: invlpg },
  {
    op: Op.MovFromCr,
    faults: true,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[1] === "cr",
    cycles: 10,
    reads: 0,
    writes: 0,
    priv: Priv.Cpl0,
    exec: control.movFromCr,
  },
  {
    op: Op.MovToCr,
    mnemonics: { mov: KEEP },
    form: (r) => r.operands[0] === "cr",
    cycles: 10,
    reads: STATUS,
    writes: 0,
    platform: true,
    priv: Priv.Cpl0,
    exec: control.movToCr,
  },
  {
    op: Op.Vmcall,
    mnemonics: { vmcall: 0 },
    cycles: 50,
    reads: STATUS,
    writes: 0,
    platform: true,
    exec: vmcall,
  },
];
