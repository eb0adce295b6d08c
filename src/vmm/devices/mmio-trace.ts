/**
 * `--trace-io` for memory-mapped devices: an MmioBus that hands every access on to the device's bus and
 * reports it to the IoTrace, so MMIO lines fall in guest order among the port lines (docs/devices.md). The
 * machine installs it only while tracing (src/machine/vcpu-guest.ts): without --trace-io the CPU keeps the
 * device's own bus, and MMIO is on the CPU's slow path only (src/isa/memory.ts), so RAM accesses and
 * compiled blocks never see either.
 */
import type { MmioBus } from "../../isa/platform.js";
import type { IoTrace } from "./io-trace.js";

/** The local APIC's xAPIC page (SDM Vol. 3 "Local APIC Register Address Map"), by offset >> 4: the name
 *  --trace-io gives each register (ISR/TMR/IRR words numbered 0-7, bits 31:0 first). */
const XAPIC_REGISTERS: ReadonlyMap<number, string> = new Map([
  [0x2, "ID"],
  [0x3, "version"],
  [0x8, "TPR"],
  [0x9, "APR"],
  [0xa, "PPR"],
  [0xb, "EOI"],
  [0xc, "RRD"],
  [0xd, "LDR"],
  [0xe, "DFR"],
  [0xf, "SVR"],
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i): [number, string][] => [
    [0x10 + i, `ISR${i}`],
    [0x18 + i, `TMR${i}`],
    [0x20 + i, `IRR${i}`],
  ]),
  [0x28, "ESR"],
  [0x2f, "LVT CMCI"],
  [0x30, "ICR low"],
  [0x31, "ICR high"],
  [0x32, "LVT timer"],
  [0x33, "LVT thermal"],
  [0x34, "LVT PMC"],
  [0x35, "LVT LINT0"],
  [0x36, "LVT LINT1"],
  [0x37, "LVT error"],
  [0x38, "initial count"],
  [0x39, "current count"],
  [0x3e, "divide config"],
]);

/** What an access at `offset` into the xAPIC page reaches, for the trace: "lapic SVR", "lapic SVR+1" for a
 *  byte inside a register, "lapic reserved 0x400" where the page names no register. */
export function xapicRegisterName(offset: number): string {
  const name = XAPIC_REGISTERS.get(offset >> 4);
  if (name === undefined) return `lapic reserved 0x${offset.toString(16)}`;
  return (offset & 15) === 0 ? `lapic ${name}` : `lapic ${name}+${offset & 15}`;
}

/** `bus` with every access the device sees reported to `trace`: loads, and stores. The bytes a
 *  read-modify-write instruction loads first are not an access of the device (MmioBus.read `forWrite`):
 *  only its store is listed, as the device sees only that. */
export class TracedMmioBus implements MmioBus {
  constructor(
    private readonly bus: MmioBus,
    private readonly trace: IoTrace,
    /** The device page's base and the name of a register at an offset into it. */
    private readonly base: number,
    private readonly register: (offset: number) => string,
  ) {}
  claims(pa: number): boolean {
    return this.bus.claims(pa);
  }
  read(pa: number, size: number, forWrite: boolean): number {
    const v = this.bus.read(pa, size, forWrite);
    if (!forWrite) this.trace.mmio(false, pa, size, v, 0, this.register(pa - this.base));
    return v;
  }
  write(pa: number, size: number, lo: number, hi: number): void {
    this.bus.write(pa, size, lo, hi);
    this.trace.mmio(true, pa, size, lo, hi, this.register(pa - this.base));
  }
}
