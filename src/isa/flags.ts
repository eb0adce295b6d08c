/**
 * RFLAGS: bit positions, the parity table, condition codes, and — in one place — how this CPU sets the
 * flags the SDM calls "undefined". Facts: SDM Vol. 1 §3.4.3 (EFLAGS), Vol. 2 per-instruction "Flags
 * Affected", Table B-1 (condition codes); "undefined" behaviour follows Intel hardware as Bochs models it.
 *
 * UNDEFINED FLAGS (the only place these choices are made; src/isa/alu.ts and muldiv.ts implement them,
 * each operation's row in src/isa/sem/*.ts names its share (`undefined`, `undefinedValue`), and the
 * independent reference in src/isa/reference.ts restates them):
 *   AND/OR/XOR/TEST  AF := 0.
 *   SHL/SAL/SHR/SAR  (masked count ≠ 0) AF := 0; OF is computed for every count with the count-1
 *                    formula: SHL OF = CF xor MSB(result); SHR OF = bit(n-1) xor bit(n-2) of the result
 *                    (= MSB of the operand when count = 1, 0 otherwise); SAR OF = 0.
 *                    When count > operand width (8/16-bit with a masked count up to 31) CF is the last
 *                    bit shifted out of the operand widened with zeros (SHL/SHR) or sign copies (SAR).
 *   ROL/ROR          only CF and OF change, and only when the masked count ≠ 0; OF uses the count-1
 *                    formula for any count (ROL: CF xor MSB(result); ROR: MSB xor next bit of result).
 *   RCL/RCR          OF for a count ≠ 1 by the count-1 formula (src/isa/alu-carry.ts).
 *   SHLD/SHRD        AF := 0; OF for a count ≠ 1 by the count-1 formula; a word shifted by 17..31 shifts
 *                    the 48-bit dest:src:dest (src/isa/alu-carry.ts).
 *   MUL/IMUL         CF = OF = "high half significant"; SF, ZF, PF from the low half of the result
 *                    (AL/AX/EAX/RAX, or the truncated destination of 2/3-operand IMUL); AF := 0.
 *   DIV/IDIV         all six flags unchanged.
 *   NEG              CF := (operand ≠ 0); the rest as SUB 0, operand.
 *   BT/BTS/BTR/BTC   OF, SF, AF, PF unchanged.
 *   BSF/BSR          CF, OF, SF, AF, PF unchanged; with a zero source the destination is kept (a 32-bit
 *                    one has bits 63:32 cleared, as on Intel; sem/bits.ts).
 *   TZCNT/LZCNT      OF, SF, AF, PF unchanged.
 */

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
/** The six arithmetic status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** RFLAGS bit 1 is always 1 (SDM Vol. 1 §3.4.3). */
export const RFLAGS_FIXED = 0x2;
/** Bits POPFQ/IRETQ may change at CPL 0 in this model: status, TF, IF, DF, OF, NT(14), RF(16), AC(18), ID(21).
 *  VM (17), VIF/VIP (19/20) stay 0 (SDM POPF: "VM, VIP, VIF unaffected/cleared" in 64-bit mode). */
export const RFLAGS_WRITABLE = STATUS | TF | IF | DF | 0x4000 | 0x10000 | 0x40000 | 0x200000;

/** PF for each byte: 1 when the number of set bits is even (SDM: PF reflects the low 8 bits of the result). */
export const PARITY = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let n = 0;
    for (let b = i; b; b >>= 1) n += b & 1;
    t[i] = n & 1 ? 0 : PF;
  }
  return t;
})();

/** Condition code cc (0..15, SDM Table B-1) evaluated on RFLAGS. */
export function condition(cc: number, f: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0:
      r = (f & OF) !== 0;
      break; // O
    case 1:
      r = (f & CF) !== 0;
      break; // C / B
    case 2:
      r = (f & ZF) !== 0;
      break; // Z / E
    case 3:
      r = (f & (CF | ZF)) !== 0;
      break; // BE / NA
    case 4:
      r = (f & SF) !== 0;
      break; // S
    case 5:
      r = (f & PF) !== 0;
      break; // P / PE
    case 6:
      r = ((f & SF) !== 0) !== ((f & OF) !== 0);
      break; // L
    default:
      r = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0);
      break; // LE / NG
  }
  return (cc & 1) !== 0 ? !r : r;
}
