/**
 * Semantic functions of the read-modify-write instructions made for LOCK (SDM Vol. 2 XADD, CMPXCHG,
 * CMPXCHG8B/CMPXCHG16B). With one CPU a locked operation is the plain one: the LOCK prefix only decides
 * #UD (decode.ts). Each returns true: the instruction retired (RIP is advanced).
 */
import { aluBin, AluOp } from "../alu.js";
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { STATUS, ZF } from "../flags.js";
import { Vec } from "../state.js";
import * as emit from "../jit-emit.js";
import { Op } from "../ops.js";
import type { SemRow } from "./row.js";

/** XADD: TEMP := SRC + DEST; SRC := DEST; DEST := TEMP (flags as ADD). */
export function xadd(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const dLo = c.aLo,
    dHi = c.aHi;
  c.gr(ins.r1, s);
  o.fl = c.rflags;
  aluBin(o, AluOp.Add, s, dLo, dHi, c.aLo, c.aHi);
  c.rflags = o.fl;
  c.sr(ins.r1, s, dLo, dHi);
  c.st0(ins, a, s, o.lo, o.hi);
  c.rip += ins.len;
  return true;
}

/** CMPXCHG: flags of CMP accumulator, DEST; equal: DEST := SRC; else accumulator := DEST and a memory
 *  DEST is written back with its own value (SDM "CMPXCHG": "the destination operand is written back if
 *  the comparison fails"). A register DEST is not written then: a 32-bit one keeps bits 63:32, as
 *  hardware does (FEX-Emu/FEX#439, angr/vex#63; test/isa/native.test.ts checks it on this machine). */
export function cmpxchg(c: Cpu, ins: Insn): boolean {
  const s = ins.size,
    o = c.o;
  const a = c.ld(ins, ins.k0, ins.r0, s, true);
  const dLo = c.aLo,
    dHi = c.aHi;
  c.gr(0, s);
  o.fl = c.rflags;
  aluBin(o, AluOp.Sub, s, c.aLo, c.aHi, dLo, dHi);
  c.rflags = o.fl;
  if ((o.fl & ZF) !== 0) {
    c.gr(ins.r1, s);
    c.st0(ins, a, s, c.aLo, c.aHi);
  } else {
    c.sr(0, s, dLo, dHi);
    if (a >= 0) c.wr(a, s, dLo, dHi);
  }
  c.rip += ins.len;
  return true;
}

/**
 * CMPXCHG8B m64 (EDX:EAX vs m64, ECX:EBX stored) / CMPXCHG16B m128 with REX.W (RDX:RAX vs m128, RCX:RBX
 * stored; #GP(0) unless 16-byte aligned). ZF := equal; otherwise the accumulator pair := the memory value
 * (32-bit writes zero-extend) and the memory is written back unchanged. Other flags unchanged.
 */
export function cmpxchg8b(c: Cpu, ins: Insn): boolean {
  const g = c.regs,
    dv = c.dv;
  const wide = ins.size === 8;
  const n = wide ? 16 : 8;
  const a = c.ea(ins, n, true);
  if (wide && (a & 15) !== 0) c.fault(Vec.GP, 0);
  c.cache.access(a, n);
  const m0 = dv.getUint32(a, true),
    m1 = dv.getUint32(a + 4, true);
  if (!wide) {
    if (m0 === g[0] && m1 === g[4]) {
      c.rflags |= ZF;
      c.wr(a, 8, g[6], g[2]);
    } else {
      c.rflags &= ~ZF;
      c.sr(0, 4, m0, 0);
      c.sr(2, 4, m1, 0);
      c.wr(a, 8, m0, m1);
    }
  } else {
    const m2 = dv.getUint32(a + 8, true),
      m3 = dv.getUint32(a + 12, true);
    if (m0 === g[0] && m1 === g[1] && m2 === g[4] && m3 === g[5]) {
      c.rflags |= ZF;
      c.wr(a, 8, g[6], g[7]);
      c.wr(a + 8, 8, g[2], g[3]);
    } else {
      c.rflags &= ~ZF;
      c.sr(0, 8, m0, m1);
      c.sr(2, 8, m2, m3);
      c.wr(a, 8, m0, m1);
      c.wr(a + 8, 8, m2, m3);
    }
  }
  c.rip += ins.len;
  return true;
}

/** The rows of this family (semantics.ts). */
export const ROWS: readonly SemRow[] = [
  { op: Op.Xadd, mnemonics: { xadd: 0 }, cycles: 3, reads: 0, writes: STATUS, exec: xadd, compile: emit.viaExec },
  {
    op: Op.Cmpxchg,
    mnemonics: { cmpxchg: 0 },
    cycles: 5,
    reads: 0,
    writes: STATUS,
    exec: cmpxchg,
    compile: emit.viaExec,
  },
  {
    op: Op.Cmpxchg8b,
    mnemonics: { cmpxchg8b: 0, cmpxchg16b: 0 },
    cycles: 10,
    reads: 0,
    writes: ZF,
    faults: true,
    exec: cmpxchg8b,
    memSize: (ins) => (ins.size === 8 ? 16 : 8),
  },
];
