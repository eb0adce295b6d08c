/**
 * The two 8259A PICs (master 0x20/0x21, slave 0xA0/0xA1), accepted for masking only: the ICW1..ICW4
 * initialisation sequence, OCW1 (the mask register, readable), OCW2 (EOI and priority commands: nothing
 * is in service, so they change nothing) and OCW3 (which of IRR/ISR a command-port read returns). No
 * device raises an IRQ, so IRR and ISR stay 0 and no vector is ever delivered (docs/devices.md). Facts:
 * the 8259A data sheet; QEMU hw/intc/i8259.c (pic_ioport_write/read) for the reset values.
 */
import type { AccessSize, PortDevice } from "./port-bus.js";

export const PIC_MASTER_BASE = 0x20;
export const PIC_SLAVE_BASE = 0xa0;

const ICW1 = 0x10; // command-port write with bit 4 set
const ICW1_IC4 = 0x01; // ICW4 follows
const ICW1_SNGL = 0x02; // single PIC: no ICW3
const OCW3 = 0x08; // command-port write with bits 4:3 = 01
const OCW3_RR = 0x02; // bit 1: read register command; bit 0 selects ISR (1) or IRR (0)

export class Pic8259 implements PortDevice {
  readonly count = 2;
  readonly wide = false;
  imr = 0;
  /** Vector base from ICW2 (bits 7:3). */
  vectorBase = 0;
  /** ICW3: the cascade mask (master) or the slave's ID. */
  icw3 = 0;
  icw4 = 0;
  /** 0: initialised; 2..4: the ICW the next data-port write is. */
  private initState = 0;
  private needIcw3 = false;
  private needIcw4 = false;
  private readIsr = false;

  constructor(
    readonly name: string,
    readonly base: number,
  ) {}

  read(offset: number, _size: AccessSize): number {
    // The command port returns IRR or ISR as OCW3 chose, or after an OCW3 poll command the poll byte (bit 7
    // clear: no interrupt): all 0 here, as nothing is ever requested or in service.
    return offset === 1 ? this.imr : 0;
  }

  write(offset: number, _size: AccessSize, value: number): boolean {
    const v = value & 0xff;
    if (offset === 0) {
      if (v & ICW1) {
        // ICW1 starts initialisation: the mask is cleared, the read selector back to IRR.
        this.imr = 0;
        this.readIsr = false;
        this.needIcw3 = (v & ICW1_SNGL) === 0;
        this.needIcw4 = (v & ICW1_IC4) !== 0;
        this.icw4 = 0;
        this.initState = 2;
      } else if (v & OCW3) {
        if (v & OCW3_RR) this.readIsr = (v & 1) !== 0;
      } // OCW2 (EOI, rotate, set priority): no in-service IRQ to end
      return false;
    }
    switch (this.initState) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initState = this.needIcw3 ? 3 : this.needIcw4 ? 4 : 0;
        break;
      case 3:
        this.icw3 = v;
        this.initState = this.needIcw4 ? 4 : 0;
        break;
      case 4:
        this.icw4 = v;
        this.initState = 0;
        break;
      default:
        this.imr = v; // OCW1
    }
    return false;
  }

  register(offset: number, write: boolean): string {
    if (offset === 0) return write ? "command" : this.readIsr ? "ISR" : "IRR";
    if (!write || this.initState === 0) return "IMR";
    return `ICW${this.initState}`;
  }
}
