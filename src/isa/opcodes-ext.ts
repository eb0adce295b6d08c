/**
 * The rows of the general-purpose instructions compiled C code uses beyond the base set in opcodes.ts
 * (issue 12 item 3): bit tests and scans, byte swap, the atomics (XADD, CMPXCHG, CMPXCHG8B/16B), LEAVE
 * and ENTER, the flag instructions, the string instructions, double shifts and rotates through carry,
 * the hint NOPs (ENDBR64/32, PREFETCHh, HINT_NOPn), the moffs moves, cache and TSX instructions. Same
 * ROW FORMAT as opcodes.ts (which concatenates these into OPCODES). Facts: SDM Vol. 2 opcode maps
 * (Appendix A) and each instruction's page; NASM's spellings from insns.dat (checked by the cross-check
 * in test/asm).
 */
import type { OpcodeRow } from "./opcodes.js";

type Row = OpcodeRow;

/** BT/BTS/BTR/BTC: 0F A3/AB/B3/BB /r and 0F BA /4../7 ib (SDM "BT"; LOCK on the three writers). */
function bitTestRows(): Row[] {
  const rows: Row[] = [];
  for (const [m, op, ext] of [
    ["bt", 0xa3, 4],
    ["bts", 0xab, 5],
    ["btr", 0xb3, 6],
    ["btc", 0xbb, 7],
  ] as const) {
    const lk = m === "bt" ? {} : { lock: true as const };
    rows.push(
      { mnemonic: m, opcode: [0x0f, op], modrm: "r", operands: ["rm16/32/64", "r16/32/64"], ...lk },
      { mnemonic: m, opcode: [0x0f, 0xba], modrm: ext, operands: ["rm16/32/64", "imm8"], ...lk },
    );
  }
  return rows;
}

/** String instructions (SDM "MOVS", "CMPS", "STOS", "LODS", "SCAS", "INS", "OUTS"): no operands; the
 *  b/w/d/q suffix is the operand size. REP/REPE/REPNE are prefixes (the decoder keeps them). */
function stringRows(): Row[] {
  const rows: Row[] = [];
  const sizes = [
    ["b", 0, 0],
    ["w", 1, 16],
    ["d", 1, 32],
    ["q", 1, 64],
  ] as const;
  for (const [m, op, withQ] of [
    ["movs", 0xa4, true],
    ["cmps", 0xa6, true],
    ["stos", 0xaa, true],
    ["lods", 0xac, true],
    ["scas", 0xae, true],
    ["ins", 0x6c, false],
    ["outs", 0x6e, false],
  ] as const) {
    for (const [suffix, plus, osize] of sizes) {
      if (suffix === "q" && !withQ) continue;
      rows.push({
        mnemonic: m + suffix,
        opcode: [op + plus],
        operands: [],
        ...(osize ? { osize } : {}),
      });
    }
  }
  return rows;
}

/** The hint NOPs 0F 18–1F /r (SDM "NOP", Table A-3 notes; NASM HINT_NOP0..63 = 0F 18+n/8 /(n mod 8)),
 *  with 0F 18 /0../3 on memory spelled PREFETCHNTA/T0/T1/T2 (SDM "PREFETCHh") and 0F 1F /0 the
 *  recommended NOP (opcodes.ts). None has an architectural effect here. */
function hintNopRows(): Row[] {
  const rows: Row[] = [];
  // osize 32: with 66 or REX.W the bytes are NASM's hint_nopN with a sized operand instead.
  for (const [m, ext] of [
    ["prefetchnta", 0],
    ["prefetcht0", 1],
    ["prefetcht1", 2],
    ["prefetcht2", 3],
  ] as const)
    rows.push({ mnemonic: m, opcode: [0x0f, 0x18], modrm: ext, operands: ["m"], osize: 32 });
  for (let n = 0; n < 64; n++) {
    const row: Row = {
      mnemonic: `hint_nop${n}`,
      opcode: [0x0f, 0x18 + (n >> 3)],
      modrm: (n & 7) as 0,
      operands: ["rm16/32/64"],
    };
    // 0F 1F /0 decodes as `nop` (opcodes.ts); hint_nop56 is NASM's other spelling of the same bytes.
    rows.push(n === 56 ? { ...row, decode: false } : row);
  }
  return rows;
}

/** SHLD/SHRD (0F A4/A5, 0F AC/AD; SDM "SHLD", "SHRD": imm8 or CL count, the bits shifted in come from
 *  the register operand). RCL/RCR are group 2 /2, /3 (opcodes.ts SHIFT_OPS). */
function doubleShiftRows(): Row[] {
  const rows: Row[] = [];
  for (const [m, op] of [
    ["shld", 0xa4],
    ["shrd", 0xac],
  ] as const)
    rows.push(
      { mnemonic: m, opcode: [0x0f, op], modrm: "r", operands: ["rm16/32/64", "r16/32/64", "imm8"] },
      { mnemonic: m, opcode: [0x0f, op + 1], modrm: "r", operands: ["rm16/32/64", "r16/32/64", "cl"] },
    );
  return rows;
}

export const EXT_ROWS: readonly Row[] = [
  ...doubleShiftRows(),
  // CET's end-branch markers are hint NOPs on a CPU without CET (SDM "ENDBR64": "treated as NOP").
  { mnemonic: "endbr64", opcode: [0x0f, 0x1e, 0xfa], operands: [], prefix: 0xf3 },
  { mnemonic: "endbr32", opcode: [0x0f, 0x1e, 0xfb], operands: [], prefix: 0xf3 },
  ...hintNopRows(),

  // MOV with a 64-bit absolute address (SDM "MOV": A0–A3 moffs; NASM `[qword addr]`).
  { mnemonic: "mov", opcode: [0xa0], operands: ["al", "moffs"] },
  { mnemonic: "mov", opcode: [0xa1], operands: ["rAX", "moffs"] },
  { mnemonic: "mov", opcode: [0xa2], operands: ["moffs", "al"] },
  { mnemonic: "mov", opcode: [0xa3], operands: ["moffs", "rAX"] },

  { mnemonic: "leave", opcode: [0xc9], operands: [], default64: true },
  { mnemonic: "enter", opcode: [0xc8], operands: ["imm16", "imm8"], default64: true },

  ...bitTestRows(),
  { mnemonic: "bsf", opcode: [0x0f, 0xbc], modrm: "r", operands: ["r16/32/64", "rm16/32/64"] },
  { mnemonic: "bsr", opcode: [0x0f, 0xbd], modrm: "r", operands: ["r16/32/64", "rm16/32/64"] },
  { mnemonic: "tzcnt", opcode: [0x0f, 0xbc], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], prefix: 0xf3 },
  { mnemonic: "lzcnt", opcode: [0x0f, 0xbd], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], prefix: 0xf3 },
  { mnemonic: "popcnt", opcode: [0x0f, 0xb8], modrm: "r", operands: ["r16/32/64", "rm16/32/64"], prefix: 0xf3 },
  // BSWAP r32 / REX.W r64 (a 16-bit operand is undefined in the SDM: not decoded, #UD here).
  { mnemonic: "bswap", opcode: [0x0f, 0xc8], plusReg: true, operands: ["r32"] },
  { mnemonic: "bswap", opcode: [0x0f, 0xc8], plusReg: true, operands: ["r64"], osize: 64 },

  { mnemonic: "xadd", opcode: [0x0f, 0xc0], modrm: "r", operands: ["rm8", "r8"], lock: true },
  { mnemonic: "xadd", opcode: [0x0f, 0xc1], modrm: "r", operands: ["rm16/32/64", "r16/32/64"], lock: true },
  { mnemonic: "cmpxchg", opcode: [0x0f, 0xb0], modrm: "r", operands: ["rm8", "r8"], lock: true },
  { mnemonic: "cmpxchg", opcode: [0x0f, 0xb1], modrm: "r", operands: ["rm16/32/64", "r16/32/64"], lock: true },
  { mnemonic: "cmpxchg16b", opcode: [0x0f, 0xc7], modrm: 1, operands: ["m"], osize: 64, lock: true },
  { mnemonic: "cmpxchg8b", opcode: [0x0f, 0xc7], modrm: 1, operands: ["m"], lock: true },

  { mnemonic: "clc", opcode: [0xf8], operands: [] },
  { mnemonic: "stc", opcode: [0xf9], operands: [] },
  { mnemonic: "cmc", opcode: [0xf5], operands: [] },
  { mnemonic: "cld", opcode: [0xfc], operands: [] },
  { mnemonic: "std", opcode: [0xfd], operands: [] },
  { mnemonic: "lahf", opcode: [0x9f], operands: [] },
  { mnemonic: "sahf", opcode: [0x9e], operands: [] },

  ...stringRows(),

  { mnemonic: "invd", opcode: [0x0f, 0x08], operands: [] },
  { mnemonic: "wbinvd", opcode: [0x0f, 0x09], operands: [] },
  // RTM (SDM "XBEGIN", "XEND", "XABORT", "XTEST"): XBEGIN rel32 is C7 F8 cd, XABORT imm8 is C6 F8 ib.
  { mnemonic: "xbegin", opcode: [0xc7, 0xf8], operands: ["rel32"] },
  { mnemonic: "xabort", opcode: [0xc6, 0xf8], operands: ["imm8"] },
  { mnemonic: "xend", opcode: [0x0f, 0x01, 0xd5], operands: [] },
  { mnemonic: "xtest", opcode: [0x0f, 0x01, 0xd6], operands: [] },
];
