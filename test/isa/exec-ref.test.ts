// Each ALU instruction and size executed from real bytes (register, immediate and memory forms) through
// the decoder and the executor, against the independent reference (src/isa/reference.ts).
import { expect, test } from "vitest";
import fc from "fast-check";
import { assemble } from "../../src/asm/assemble.js";
import { Cpu, StopReason } from "../../src/isa/cpu.js";
import { BarePlatform } from "../../src/vmm/bare.js";
import { GuestIo } from "../../src/vmm/io.js";
import { refBinary, refDiv, refMul, refShift } from "../../src/isa/reference.js";

const ORG = 0x1000,
  MEM = 1 << 20,
  DATA = 0x8000;
const R: Record<number, [string, string, string]> = {
  1: ["cl", "bl", "dl"],
  2: ["cx", "bx", "dx"],
  4: ["ecx", "ebx", "edx"],
  8: ["rcx", "rbx", "rdx"],
};
const KW: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 8: "qword" };
const mask = (s: number) => (1n << BigInt(8 * s)) - 1n;
const u64 = (v: bigint) => BigInt.asUintN(64, v);

const cache = new Map<string, Uint8Array>();
function run(body: string, rcx: bigint, rbx: bigint, rdx: bigint, rax: bigint, flags: number, mem: bigint) {
  let bytes = cache.get(body);
  if (!bytes) {
    const r = assemble(
      `bits 64\norg 0x${ORG.toString(16)}\npush qword [0x7ff8]\npopfq\n${body}\npushfq\npop r15\nhlt\n`,
    );
    if (!r.ok) throw new Error(`${body}: ${r.error.map((d) => d.message).join("; ")}`);
    bytes = r.value.bytes;
    cache.set(body, bytes);
  }
  const cpu = new Cpu({ memSize: MEM, platform: new BarePlatform(new GuestIo()) });
  cpu.jitEnabled = false;
  cpu.load(ORG, bytes);
  cpu.rip = ORG;
  cpu.set64(4, MEM, 0);
  const set = (r: number, v: bigint) => cpu.set64(r, Number(v & 0xffffffffn), Number(v >> 32n));
  set(1, rcx);
  set(3, rbx);
  set(2, rdx);
  set(0, rax);
  new DataView(cpu.mem.buffer).setBigUint64(0x7ff8, BigInt(flags), true);
  new DataView(cpu.mem.buffer).setBigUint64(DATA, mem, true);
  const stop = cpu.run(100);
  const get = (r: number) => (BigInt(cpu.getHi(r)) << 32n) | BigInt(cpu.getLo(r));
  return {
    stop,
    rcx: get(1),
    rbx: get(3),
    rdx: get(2),
    rax: get(0),
    flags: Number(get(15)) & 0x8d5,
    mem: new DataView(cpu.mem.buffer).getBigUint64(DATA, true),
    fault: cpu.lastFault,
  };
}
/** Merge a `size` result into a 64-bit register the way x86-64 writes it. */
function merge(old: bigint, v: bigint, size: number): bigint {
  if (size === 8) return v;
  if (size === 4) return v & 0xffffffffn;
  return (old & ~mask(size)) | (v & mask(size));
}

const v64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(
    0n,
    1n,
    0x7fn,
    0x80n,
    0xffn,
    0x7fffn,
    0x8000n,
    0xffffn,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    1n << 63n,
    (1n << 64n) - 1n,
  ),
);
const SIZES = fc.constantFrom(1, 2, 4, 8);
const FLAGS = fc.constantFrom(0x2, 0x3, 0x2 | 0x8d5);

test("binary ALU ops: reg,reg / reg,imm / mem,reg / reg,mem", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test"),
      SIZES,
      fc.constantFrom("rr", "ri", "mr", "rm"),
      v64,
      v64,
      fc.integer({ min: -200, max: 200 }),
      FLAGS,
      (m, s, form, a, b, imm, fl) => {
        const [rc, rb] = R[s];
        const immOk = s === 1 ? imm >= -128 && imm <= 255 : true;
        if (form === "ri" && !immOk) return;
        const body =
          form === "rr"
            ? `${m} ${rc}, ${rb}`
            : form === "ri"
              ? `${m} ${rc}, ${imm}`
              : form === "mr"
                ? `${m} ${KW[s]} [${DATA}], ${rb}`
                : `${m} ${rc}, ${KW[s]} [${DATA}]`;
        if (m === "test" && form === "rm") return;
        const got = run(body, a, b, 0n, 0n, fl, form === "rm" ? b : form === "mr" ? a : 0n);
        const A = a & mask(s);
        const B = form === "ri" ? BigInt.asUintN(8 * s, BigInt(imm)) : b & mask(s);
        const ref = refBinary(m === "test" ? "and" : m, s, A, B, fl);
        const writes = m !== "cmp" && m !== "test";
        if (form === "mr")
          expect([got.mem, got.flags]).toEqual([writes ? (a & ~mask(s)) | ref.res : a, ref.flags! & 0x8d5]);
        else expect([got.rcx, got.flags]).toEqual([writes ? merge(a, ref.res, s) : a, ref.flags! & 0x8d5]);
      },
    ),
    { numRuns: 2500, seed: 31 },
  );
});

test("inc/dec/neg/not and shifts/rotates (by 1, imm8, cl)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("inc", "dec", "neg", "not", "shl", "shr", "sar", "rol", "ror"),
      SIZES,
      fc.constantFrom("one", "imm", "cl"),
      v64,
      fc.integer({ min: 0, max: 255 }),
      FLAGS,
      fc.boolean(),
      (m, s, cform, a, count, fl, inMem) => {
        const [rc] = R[s];
        const dst = inMem ? `${KW[s]} [${DATA}]` : rc.replace("c", "d").replace("rdx", "rdx");
        const d = inMem ? `${KW[s]} [${DATA}]` : R[s][2];
        const shift = !["inc", "dec", "neg", "not"].includes(m);
        const body = shift ? `${m} ${d}, ${cform === "one" ? "1" : cform === "imm" ? count : "cl"}` : `${m} ${d}`;
        void dst;
        const got = run(body, BigInt(count), 0n, a, 0n, fl, a);
        const A = a & mask(s);
        let res: bigint, flags: number;
        if (shift) {
          const r = refShift(m, s, A, cform === "one" ? 1 : count, fl);
          res = r.res;
          flags = r.flags!;
        } else if (m === "not") {
          res = ~A & mask(s);
          flags = fl;
        } else {
          const r = refBinary(m, s, A, 0n, fl);
          res = r.res;
          flags = r.flags!;
        }
        const val = inMem ? got.mem : got.rdx;
        expect([val, got.flags]).toEqual([inMem ? (a & ~mask(s)) | res : merge(a, res, s), flags & 0x8d5]);
      },
    ),
    { numRuns: 2500, seed: 32 },
  );
});

test("mul/imul (1, 2, 3 operands) and div/idiv with #DE", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("mul", "imul1", "imul2", "imul3", "div", "idiv"),
      SIZES,
      v64,
      v64,
      v64,
      fc.integer({ min: -128, max: 127 }),
      FLAGS,
      (m, s, ax, src, dx, imm, fl) => {
        if ((m === "imul2" || m === "imul3") && s === 1) return;
        const [rc, , rd] = R[s];
        const acc = { 1: "al", 2: "ax", 4: "eax", 8: "rax" }[s]!;
        void acc;
        const body =
          m === "imul2"
            ? `imul ${rd}, ${rc}`
            : m === "imul3"
              ? `imul ${rd}, ${rc}, ${imm}`
              : `${m === "imul1" ? "imul" : m} ${rc}`;
        const got = run(body, src, 0n, dx, ax, fl, 0n);
        const S = src & mask(s);
        if (m === "imul2" || m === "imul3") {
          const r = refMul(true, s, m === "imul2" ? dx & mask(s) : BigInt.asUintN(8 * s, BigInt(imm)), S, fl);
          expect([got.rdx, got.flags]).toEqual([merge(dx, r.res, s), r.flags! & 0x8d5]);
        } else if (m === "mul" || m === "imul1") {
          const r = refMul(m === "imul1", s, ax & mask(s), S, fl);
          if (s === 1)
            expect([got.rax, got.flags]).toEqual([(ax & ~0xffffn) | (r.res2 << 8n) | r.res, r.flags! & 0x8d5]);
          else
            expect([got.rax, got.rdx, got.flags]).toEqual([
              merge(ax, r.res, s),
              merge(dx, r.res2, s),
              r.flags! & 0x8d5,
            ]);
        } else {
          const n = s === 1 ? ax & 0xffffn : ((dx & mask(s)) << BigInt(8 * s)) | (ax & mask(s));
          const r = refDiv(m === "idiv", s, n, S, fl);
          if (r.flags === null) {
            expect(got.stop).toBe(StopReason.TripleFault); // #DE with no IDT
            expect(got.fault?.vector ?? -1).toBeGreaterThanOrEqual(0);
          } else if (s === 1) expect(got.rax).toEqual((ax & ~0xffffn) | (r.res2 << 8n) | r.res);
          else expect([got.rax, got.rdx, got.flags]).toEqual([merge(ax, r.res, s), merge(dx, r.res2, s), fl & 0x8d5]);
        }
      },
    ),
    { numRuns: 2500, seed: 33 },
  );
});

test("movzx/movsx/movsxd, cbw..cqo, xchg, setcc, cmovcc", () => {
  fc.assert(
    fc.property(v64, v64, fc.integer({ min: 0, max: 15 }), FLAGS, (a, b, cc, fl) => {
      const sx = (v: bigint, from: number) => u64(BigInt.asIntN(8 * from, v & mask(from)));
      const g1 = run("movzx edx, cl\nmovsx rbx, cx\nmovsxd rax, ecx", a, b, 0n, 0n, fl, 0n);
      expect([g1.rdx, g1.rbx, g1.rax]).toEqual([a & 0xffn, sx(a, 2), sx(a, 4)]);
      const g2 = run("cqo", 0n, 0n, b, a, fl, 0n);
      expect(g2.rdx).toBe(a >> 63n ? (1n << 64n) - 1n : 0n);
      const g3 = run("cwde", 0n, 0n, 0n, a, fl, 0n);
      expect(g3.rax).toBe(sx(a, 2) & 0xffffffffn);
      const g4 = run("xchg rcx, rbx", a, b, 0n, 0n, fl, 0n);
      expect([g4.rcx, g4.rbx]).toEqual([b, a]);
      const ccName = ["o", "no", "c", "nc", "z", "nz", "na", "a", "s", "ns", "pe", "po", "l", "nl", "ng", "g"][cc];
      const g5 = run(`set${ccName} dl\ncmov${ccName} ecx, ebx`, a, b, 0n, 0n, fl, 0n);
      const f = (bit: number) => (fl & bit) !== 0;
      const conds = [
        f(0x800),
        f(1),
        f(0x40),
        f(1) || f(0x40),
        f(0x80),
        f(4),
        f(0x80) !== f(0x800),
        f(0x40) || f(0x80) !== f(0x800),
      ];
      const t = cc & 1 ? !conds[cc >> 1] : conds[cc >> 1];
      expect([g5.rdx, g5.rcx]).toEqual([t ? 1n : 0n, t ? b & 0xffffffffn : a & 0xffffffffn]);
    }),
    { numRuns: 400, seed: 34 },
  );
});
