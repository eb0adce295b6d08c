/**
 * Disassembler: a decoded instruction → NASM syntax that re-assembles (nasm -f bin, -Ox) to the same
 * bytes where NASM can express the encoding: explicit `strict`, `short`/`near` and `[byte …]`/`[dword …]`
 * overrides are printed wherever NASM's own choice would differ from the bytes.
 */
import { AH, DecodeFail, K, decode, type Insn } from "./decode.js";
import { type CodeBits, kindInMode } from "./modes.js";
import { OPCODES, type OperandKind } from "./opcodes.js";

/** Mnemonics with a sign-extended imm8 form (83 /n, 6B, 6A), which NASM prefers for small values. */
const HAS_IMM8S: ReadonlySet<string> = new Set(
  OPCODES.filter((r) => r.operands.includes("imm8s")).map((r) => r.mnemonic),
);

const STRING_OPS: ReadonlySet<string> = new Set(["movs", "cmps", "stos", "lods", "scas", "ins", "outs"]);

const R64 = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
];
const R32 = [
  "eax",
  "ecx",
  "edx",
  "ebx",
  "esp",
  "ebp",
  "esi",
  "edi",
  "r8d",
  "r9d",
  "r10d",
  "r11d",
  "r12d",
  "r13d",
  "r14d",
  "r15d",
];
const R16 = [
  "ax",
  "cx",
  "dx",
  "bx",
  "sp",
  "bp",
  "si",
  "di",
  "r8w",
  "r9w",
  "r10w",
  "r11w",
  "r12w",
  "r13w",
  "r14w",
  "r15w",
];
const R8 = [
  "al",
  "cl",
  "dl",
  "bl",
  "spl",
  "bpl",
  "sil",
  "dil",
  "r8b",
  "r9b",
  "r10b",
  "r11b",
  "r12b",
  "r13b",
  "r14b",
  "r15b",
  "ah",
  "ch",
  "dh",
  "bh",
];
const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs"];
const SIZE_KW: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 8: "qword", 10: "tword" };

export function regName(r: number, size: number): string {
  if (size === 1) return R8[r];
  if (size === 2) return R16[r];
  if (size === 4) return R32[r];
  return R64[r];
}

function hexs(v: number): string {
  return v < 0 ? "-0x" + (-v).toString(16) : "0x" + v.toString(16);
}

function kindSize(k: OperandKind, ins: Insn): number {
  switch (k) {
    case "r8":
    case "rm8":
    case "al":
      return 1;
    case "r16":
    case "rm16":
    case "ax":
      return 2;
    case "r32":
    case "rm32":
    case "eax":
      return 4;
    case "r64":
    case "rm64":
    case "rax":
    case "r64rm":
      return 8;
    case "r16/32/64":
    case "rm16/32/64":
    case "r16/32":
    case "r16/64":
    case "rm16/64":
    case "rAX":
      return ins.op !== 0 && (ins.mnemonic === "movzx" || ins.mnemonic === "movsx" || ins.mnemonic === "movsxd")
        ? ins.size
        : ins.size;
    default:
      return 0;
  }
}

function memText(ins: Insn): string {
  if (ins.ripRel) {
    // NASM applies `rel` only to relocatable expressions (a bare number stays absolute), so the target
    // is written relative to `$`, the start of this instruction.
    // The decoder made the target absolute (dispHi:dispLo, two's complement below 0); a target below 0 is
    // at most 2^31 under it, so its low half alone gives it exactly (a double cannot hold 2^64 - small).
    const t = ins.dispHi === 0xffffffff ? ins.dispLo - 4294967296 : ins.dispHi * 4294967296 + ins.dispLo;
    const d = t - ins.addr;
    const sg = ins.seg >= 0 ? `${SEG_NAMES[ins.seg]}:` : "";
    return `[${sg}rel $${d < 0 ? "-" : "+"}0x${Math.abs(d).toString(16)}]`;
  }
  const asz = ins.asize;
  const parts: string[] = [];
  if (ins.base >= 0) parts.push(regName(ins.base, asz));
  if (ins.index >= 0) parts.push(asz === 2 ? regName(ins.index, 2) : `${regName(ins.index, asz)}*${ins.scale}`);
  const disp = ins.dispLo | 0;
  // No register outside 64-bit mode: the address size is the mode's unless the text says otherwise (0x67).
  let over = "";
  if (parts.length === 0 && ins.mode !== 64) {
    if (asz * 8 !== ins.mode) over = asz === 2 ? "word " : "dword ";
    // MOV between the accumulator and an absolute address written plainly is A0–A3 in NASM; `[byte …]`
    // (a displacement size NASM ignores there) keeps the ModRM form these bytes are.
    else if (ins.mnemonic === "mov" && isAccModrmMov(ins)) over = "byte ";
  }
  if (ins.base >= 0) {
    // [bp] (16-bit) and [rbp]/[r13]/[ebp] (32/64-bit) have no mod-00 form: NASM adds a disp8 of 0.
    const needsDisp = asz === 2 ? ins.base === 5 && ins.index < 0 : (ins.base & 7) === 5;
    const wide = asz === 2 ? 2 : 4;
    const nasm = disp === 0 && !needsDisp ? 0 : disp >= -128 && disp <= 127 ? 1 : wide;
    if (nasm !== ins.dispBytes) over = ins.dispBytes === 1 ? "byte " : asz === 2 ? "word " : "dword ";
  }
  let s = parts.join("+");
  if (ins.dispBytes > 0 || parts.length === 0) {
    // An absolute address outside 64-bit mode is written unsigned (it is not sign-extended there).
    if (parts.length === 0) s = ins.mode === 64 ? hexs(disp) : hexs(asz === 2 ? disp & 0xffff : disp >>> 0);
    else s += disp < 0 ? hexs(disp) : "+" + hexs(disp);
  }
  const seg = ins.seg >= 0 ? `${SEG_NAMES[ins.seg]}:` : "";
  return `[${over}${seg}${s}]`;
}

/** MOV 88–8B /r with AL/AX/EAX as the register operand. */
function isAccModrmMov(ins: Insn): boolean {
  const op = ins.row?.opcode;
  if (op?.length !== 1 || op[0] < 0x88 || op[0] > 0x8b) return false;
  return (op[0] < 0x8a ? ins.r1 : ins.r0) === 0;
}

/** A0–A3's address, as NASM is told to encode it: in 64-bit code `[qword …]` (8 bytes) or `[a32 …]` (0x67,
 *  4 bytes); elsewhere a bare address of the mode's size, `[word …]`/`[dword …]` for the other (0x67). */
function moffsText(ins: Insn): string {
  const a = ins.asize;
  const v = `0x${ins.dispHi ? ins.dispHi.toString(16) + ins.dispLo.toString(16).padStart(8, "0") : ins.dispLo.toString(16)}`;
  const sg = ins.seg >= 0 ? `${SEG_NAMES[ins.seg]}:` : "";
  if (ins.mode === 64) return a === 8 ? `[qword ${sg}${v}]` : `[${sg}a32 ${v}]`;
  return `[${a * 8 === ins.mode ? "" : a === 2 ? "word " : "dword "}${sg}${v}]`;
}

function immText(ins: Insn, k: OperandKind): string {
  const size = ins.size;
  let v: number;
  if (k === "imm8" || k === "imm16") v = ins.immLo;
  else if (size === 8 || k === "imm64") {
    const hi = ins.immHi | 0;
    v = hi === 0 ? ins.immLo : hi === -1 ? -(2 ** 32 - ins.immLo) : ins.immHi * 4294967296 + ins.immLo;
    if (hi !== 0 && hi !== -1 && k === "imm64")
      return "0x" + ins.immHi.toString(16) + ins.immLo.toString(16).padStart(8, "0");
  } else {
    const w = size * 8;
    v = w === 32 ? ins.immLo | 0 : (ins.immLo << (32 - w)) >> (32 - w);
  }
  let s = hexs(v);
  // Where NASM would pick a shorter encoding for this value, force the one in the bytes.
  if ((k === "imm16/32" || k === "imm32") && !(ins.mnemonic === "mov" && size === 8)) {
    const hasShort = HAS_IMM8S.has(ins.mnemonic);
    if (hasShort && v >= -128 && v <= 127) s = `strict ${size === 2 ? "word" : size === 8 ? "qword" : "dword"} ${s}`;
    else if (ins.mnemonic === "push" && size === 2 && ins.mode !== 16) s = `word ${s}`;
  } else if (ins.mnemonic === "mov" && size === 8 && k === "imm16/32" && v >= 0) {
    // C7 /0 with a value NASM would rather load with the shorter B8 (mov r32, imm32).
    s = `strict dword ${s}`;
  } else if (k === "imm64") {
    if (ins.immHi === 0 || (ins.immHi === 0xffffffff && (ins.immLo & 0x80000000) !== 0)) s = `strict qword ${s}`;
  }
  return s;
}

/** NASM text of one decoded instruction (`(bad)` for undecodable bytes). */
export function formatInsn(ins: Insn): string {
  const row = ins.row;
  if (!row || ins.fail !== DecodeFail.None) return "(bad)";
  // 90 with REX.W or 66 is still NOP (SDM XCHG), but NASM spells those bytes xchg rax,rax / xchg ax,ax.
  if (ins.mnemonic === "nop" && row.opcode[0] === 0x90)
    return ins.rex & 8 ? "xchg rax, rax" : ins.pfx66 ? "xchg ax, ax" : "nop";
  const ops: string[] = [];
  const kinds = row.operands;
  const kk = [ins.k0, ins.k1, ins.k2],
    rr = [ins.r0, ins.r1, ins.r2];
  for (let i = 0; i < kinds.length; i++) {
    const k = kindInMode(row, kinds[i], ins.mode);
    switch (k) {
      case "rel8":
      case "rel32": {
        let kw = "";
        const isJ = ins.mnemonic === "jmp" || (ins.mnemonic.startsWith("j") && ins.mnemonic !== "jrcxz");
        if (isJ) kw = k === "rel8" ? "short " : "near ";
        ops.push(kw + hexs(ins.target));
        break;
      }
      case "imm8":
        // ENTER imm16, imm8: the nesting level is the second immediate.
        ops.push(i > 0 && kinds[i - 1] === "imm16" ? hexs(ins.imm2) : immText(ins, k));
        break;
      case "moffs":
        ops.push(moffsText(ins));
        break;
      case "imm8s":
      case "imm16":
      case "imm32":
      case "imm64":
      case "imm16/32":
        ops.push(
          ins.mnemonic === "push" && ins.size === 2 && k === "imm8s" && ins.mode !== 16
            ? `word ${immText(ins, k)}`
            : ins.mnemonic === "push" && ins.size === 4 && ins.mode === 16 && !immText(ins, k).startsWith("strict")
              ? `dword ${immText(ins, k)}`
              : immText(ins, k),
        );
        break;
      case "1":
        ops.push("1");
        break;
      case "al":
        ops.push("al");
        break;
      case "cl":
        ops.push("cl");
        break;
      case "dx":
        ops.push("dx");
        break;
      case "ax":
        ops.push("ax");
        break;
      case "eax":
        ops.push("eax");
        break;
      case "rax":
        ops.push("rax");
        break;
      case "rAX":
        ops.push(regName(0, ins.size));
        break;
      case "cr":
        ops.push("cr" + rr[i]);
        break;
      case "es":
      case "cs":
      case "ss":
      case "ds":
      case "fs":
      case "gs":
        ops.push(k);
        break;
      case "sreg":
        // 6 and 7 name no segment register (#UD when executed): NASM has no spelling for them.
        ops.push(SEG_NAMES[rr[i]] ?? `sreg${rr[i]}`);
        break;
      case "r16/32/64rm":
        ops.push(regName(rr[i], ins.size));
        break;
      case "mfar":
        ops.push(`far ${SIZE_KW[ins.size]} ${memText(ins)}`);
        break;
      case "ptr16:16/32": {
        const def = ins.mode === 16 ? 2 : 4;
        const kw = ins.size === def ? "" : ins.size === 2 ? "word " : "dword ";
        ops.push(`${kw}0x${ins.immHi.toString(16)}:0x${ins.immLo.toString(16)}`);
        break;
      }
      case "r64rm":
        ops.push(regName(rr[i], ins.mode === 64 ? 8 : 4));
        break;
      default: {
        let sz = kindSize(k, ins);
        if (k === "rm8") sz = 1;
        else if (k === "rm16") sz = 2;
        else if (k === "rm32") sz = 4;
        if (kk[i] === K.Reg) ops.push(regName(rr[i], sz));
        else if (k === "m") ops.push(memText(ins));
        else ops.push(`${SIZE_KW[sz]} ${memText(ins)}`);
      }
    }
  }
  // xchg reg, reg: NASM puts its first operand in ModRM.reg, so print the reg-field register first.
  if (ins.mnemonic === "xchg" && row.modrm === "r" && ins.k0 === K.Reg && ops.length === 2) ops.reverse();
  const text = ops.length ? `${ins.mnemonic} ${ops.join(", ")}` : ins.mnemonic;
  return prefixText(ins) + text;
}

/** REP/REPE/REPNE (on a row without a mandatory prefix; REPE is the spelling for CMPS/SCAS), then LOCK:
 *  the order the assembler emits them in. */
function prefixText(ins: Insn): string {
  let p = "";
  if (ins.rep !== 0 && ins.row?.prefix === undefined && STRING_OPS.has(ins.mnemonic.slice(0, -1))) {
    const cmp = STRING_OPS.has(ins.mnemonic.slice(0, -1)) && /^(cmps|scas)/.test(ins.mnemonic);
    p = ins.rep === 0xf2 ? "repne " : cmp ? "repe " : "rep ";
  }
  return ins.lock ? `${p}lock ` : p;
}

export interface DisasmLine {
  addr: number;
  bytes: Uint8Array;
  text: string;
  /** False for bytes that are not an instruction this CPU decodes (printed as `db`). */
  ok: boolean;
  /** The text names an address relative to this instruction (a branch target, a rip-relative operand): its
   *  bytes depend on where it is assembled. */
  pcRelative: boolean;
}

/** Disassemble a flat image loaded at `origin`, as code of `bits` (16/32/64). Undecodable bytes become
 *  one-byte `db` lines. */
export function disassemble(bytes: Uint8Array, origin = 0, bits: CodeBits = 64): DisasmLine[] {
  const out: DisasmLine[] = [];
  let off = 0;
  while (off < bytes.length) {
    const ins = decode(bytes, off, origin + off, bits);
    if (ins.fail !== DecodeFail.None || ins.op === 0) {
      out.push({
        addr: origin + off,
        bytes: bytes.subarray(off, off + 1),
        text: `db 0x${bytes[off].toString(16).padStart(2, "0")}`,
        ok: false,
        pcRelative: false,
      });
      off += 1;
    } else {
      out.push({
        addr: origin + off,
        bytes: bytes.subarray(off, off + ins.len),
        text: formatInsn(ins),
        ok: true,
        pcRelative: ins.relBytes > 0 || ins.ripRel,
      });
      off += ins.len;
    }
  }
  return out;
}

export { AH };
