// Test helper: 4-level page tables written straight into a Cpu's RAM (SDM Vol. 3 §4.5 formats).
import type { Cpu } from "../../src/isa/cpu.js";

export const P = 1n,
  RW = 2n,
  US = 4n,
  A = 0x20n,
  D = 0x40n,
  PS = 0x80n,
  G = 0x100n,
  XD = 1n << 63n;
export const KiB4 = 1,
  MiB2 = 2,
  GiB1 = 3;

export class Tables {
  readonly root: number;
  private next: number;
  private readonly dv: DataView;
  constructor(
    private readonly cpu: Cpu,
    base = 0x800000,
    /** Flags of the PML4E/PDPTE/PDE a map() creates on the way down. */
    private readonly upper = P | RW | US,
  ) {
    this.dv = new DataView(cpu.mem.buffer);
    this.next = base;
    this.root = this.alloc();
  }
  alloc(): number {
    const a = this.next;
    this.next += 4096;
    this.cpu.mem.fill(0, a, a + 4096);
    return a;
  }
  get(addr: number): bigint {
    return this.dv.getBigUint64(addr, true);
  }
  set(addr: number, v: bigint): void {
    this.dv.setBigUint64(addr, v, true);
  }
  /** Address of the entry for `va` at `level` (4 = PML4 … 1 = PT), creating tables on the way. */
  entry(va: bigint, level: number): number {
    let table = this.root;
    for (let l = 4; l > level; l--) {
      const e = table + Number((va >> BigInt(12 + 9 * (l - 1))) & 511n) * 8;
      let v = this.get(e);
      if (!(v & P)) {
        v = BigInt(this.alloc()) | this.upper;
        this.set(e, v);
      }
      table = Number(v & 0xffffffffff000n);
    }
    return table + Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8;
  }
  /** Map `va` to `pa` with a page of `size` (KiB4, MiB2, GiB1) and `flags`; returns the entry address. */
  map(va: bigint, pa: bigint, size: number, flags: bigint): number {
    const e = this.entry(va, size);
    this.set(e, pa | flags | (size > KiB4 ? PS : 0n));
    return e;
  }
  /** Identity-map [0, bytes) with 2 MiB pages. */
  identity(bytes: number, flags = P | RW | US): this {
    for (let a = 0; a < bytes; a += 2 << 20) this.map(BigInt(a), BigInt(a), MiB2, flags);
    return this;
  }
}
