// The decoder against the shared opcode table: every decodable row maps to an executor operation, and
// the decoder's choices on ambiguous bytes follow the SDM.
import { expect, test } from "vitest";
import { OPCODES } from "../../src/isa/opcodes.js";
import { Op } from "../../src/isa/ops.js";
import { opFor } from "../../src/isa/semantics.js";
import { decode, DecodeFail, Insn } from "../../src/isa/decode.js";
import { formatInsn } from "../../src/isa/disasm.js";

test("every decodable row of src/isa/opcodes.ts has execution semantics", () => {
  const missing = OPCODES.filter((r) => r.decode !== false && opFor(r, new Insn()) === Op.Invalid).map(
    (r) => r.mnemonic,
  );
  expect(missing).toEqual([]);
});

const d = (...b: number[]) => {
  const i = decode(Uint8Array.from(b), 0, 0x1000);
  return i.fail === DecodeFail.None && i.op !== Op.Invalid ? `${formatInsn(i)} /${i.len}` : `#${i.fail}`;
};

test("ambiguous and edge encodings", () => {
  expect(d(0x90)).toBe("nop /1");
  expect(d(0x41, 0x90)).toBe("xchg eax, r8d /2"); // 90 + REX.B is xchg (SDM XCHG)
  expect(d(0xf3, 0x90)).toBe("pause /2");
  expect(d(0x48, 0xcf)).toBe("iretq /2");
  expect(d(0xcf)).toBe("iretd /1"); // CF without REX.W: the 32-bit operand size (interrupts.ts iret)
  expect(d(0x66, 0xcf)).toBe("iretw /2");
  expect(d(0x0f, 0xa8)).toBe("push gs /2");
  expect(d(0x1f)).toBe("#1"); // POP DS: not in 64-bit code
  expect(d(0x0f, 0x01, 0xc1)).toBe("vmcall /3");
  expect(d(0x0f, 0x01, 0x18)).toBe("lidt [rax] /3");
  expect(d(0x0f, 0x01, 0xd8)).toBe("#1"); // 0F 01 /3 with mod = 11 is not LIDT
  expect(d(0x0f, 0xae, 0x38)).toBe("clflush [rax] /3");
  expect(d(0x0f, 0xae, 0xe8)).toBe("lfence /3");
  expect(d(0x44, 0x0f, 0x20, 0xc0)).toBe("mov rax, cr8 /4");
  expect(d(0x0f, 0x22, 0xe0)).toBe("mov cr4, rax /3");
  expect(d(0x40, 0x88, 0xe0)).toBe("mov al, spl /3"); // REX: spl, not ah
  expect(d(0x88, 0xe0)).toBe("mov al, ah /2");
  expect(d(0x66, 0x48, 0x01, 0xc0)).toBe("add rax, rax /4"); // REX.W wins over 66
  expect(d(0x48, 0x66, 0x01, 0xc0)).toBe("add ax, ax /4"); // a REX before a legacy prefix is ignored
  expect(d(0x67, 0x8b, 0x00)).toBe("mov eax, dword [eax] /3");
  expect(d(0x8b, 0x05, 0x10, 0, 0, 0)).toBe("mov eax, dword [rel $+0x16] /6");
  expect(d(0x8b, 0x04, 0x25, 0x00, 0x20, 0, 0)).toBe("mov eax, dword [0x2000] /7");
  expect(d(0xf0, 0x01, 0x00)).toBe("lock add dword [rax], eax /3");
  expect(d(0xf0, 0x01, 0xc0)).toBe("#1"); // LOCK with a register destination: #UD (SDM "LOCK")
  expect(d(0xf0, 0x03, 0x00)).toBe("#1"); // ADD r, r/m is not lockable
  expect(d(0xf0, 0x39, 0x00)).toBe("#1"); // nor is CMP
  expect(d(0xf0, 0x90)).toBe("#1");
  expect(d(0xf0, 0x0f, 0xc7, 0x08)).toBe("lock cmpxchg8b [rax] /4");
  expect(d(0xf3, 0x0f, 0xbc, 0xc1)).toBe("tzcnt eax, ecx /4"); // the mandatory-prefix row before BSF
  expect(d(0x0f, 0xbc, 0xc1)).toBe("bsf eax, ecx /3");
  expect(d(0xf3, 0x0f, 0x1e, 0xfa)).toBe("endbr64 /4");
  expect(d(0x0f, 0x1e, 0xfa)).toBe("hint_nop55 edx /3"); // without F3: a hint NOP
  expect(d(0x0f, 0x18, 0x00)).toBe("prefetchnta [rax] /3");
  expect(d(0x0f, 0x18, 0xc0)).toBe("hint_nop0 eax /3");
  expect(d(0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11)).toBe("mov eax, [qword 0x1122334455667788] /9");
  expect(d(0xc8, 0x10, 0x00, 0x02)).toBe("enter 0x10, 0x2 /4");
  expect(d(0xf3, 0x48, 0xab)).toBe("rep stosq /3");
  expect(d(0xf3, 0xa6)).toBe("repe cmpsb /2");
  expect(d(0x41, 0x0f, 0xc9)).toBe("bswap r9d /3");
  expect(d(0x66, 0x0f, 0xc8)).toBe("#1"); // BSWAP r16 is undefined in the SDM: #UD here
  expect(d(0x64, 0x8b, 0x00)).toBe("mov eax, dword [fs:rax] /3"); // FS override: adds FS.base
  expect(d(0x2e, 0x8b, 0x00)).toBe("mov eax, dword [rax] /3"); // CS override: null in 64-bit mode
  expect(d(...new Array(15).fill(0x66), 0x90)).toBe("#2"); // longer than 15 bytes: #GP
  expect(d(0x48)).toBe("#3"); // truncated at the end of memory
  expect(d(0x00)).toBe("#3"); // its ModRM byte is past the end: truncated, not #UD (issue 15 item 14)
  expect(d(0x0f, 0x01)).toBe("#3"); // the same for a 0F-map row that needs its ModRM byte
  expect(d(0x48, 0x0f, 0xbf, 0xd9)).toBe("movsx rbx, cx /4");
  expect(d(0x0f, 0xbf, 0xd9)).toBe("movsx ebx, cx /3");
});
