/**
 * The 16550A UART at 0x3F8 (COM1) as the guest console, as QEMU's hw/char/serial.c presents it to a guest
 * that polls: eight byte-wide registers, the divisor latch behind LCR.DLAB, LSR THRE/TEMT always set (a
 * byte written to THR is transmitted at once), DR while the receive side holds a byte. There is no input
 * source: the only bytes ever received are the guest's own, in loopback mode (MCR bit 4). Interrupt
 * *state* is kept as serial_update_irq computes it (IIR reads THRI after a transmit with IER.THRI set),
 * but the interrupt line is connected to nothing: no vector is ever delivered (docs/devices.md).
 */
import type { AccessSize, PortDevice } from "./port-bus.js";

export const COM1_BASE = 0x3f8;

/** Register offsets (16550 data sheet; QEMU's UART_* names). */
export const UART_RBR_THR = 0;
export const UART_IER = 1;
export const UART_IIR_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_LCR_DLAB = 0x80;
export const UART_LSR_DR = 0x01;
export const UART_LSR_OE = 0x02;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_IER_RDI = 0x01;
export const UART_IER_THRI = 0x02;
export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
/** IIR[7:6]: both set while the FIFOs are enabled. */
export const UART_IIR_FE = 0xc0;
export const UART_FCR_FE = 0x01;
export const UART_FCR_RFR = 0x02;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;
/** MSR after reset: DCD, DSR and CTS asserted (serial_reset). */
export const UART_MSR_RESET = 0xb0;

/** The receive FIFO's depth (UART_FIFO_LENGTH). */
const FIFO = 16;

const READ_NAMES = ["RBR", "IER", "IIR", "LCR", "MCR", "LSR", "MSR", "SCR"];
const WRITE_NAMES = ["THR", "IER", "FCR", "LCR", "MCR", "LSR", "MSR", "SCR"];

export class Uart16550 implements PortDevice {
  readonly name = "uart16550";
  readonly count = 8;
  readonly wide = false;
  // serial_reset: 9600 baud (divisor 12), 8N1 written by the guest, OUT2 set.
  divider = 0x0c;
  ier = 0;
  lcr = 0;
  mcr = UART_MCR_OUT2;
  lsr = UART_LSR_THRE | UART_LSR_TEMT;
  msr = UART_MSR_RESET;
  scr = 0;
  fcr = 0;
  private iirFifo = 0;
  private rbr = 0;
  private thrPending = false;
  private readonly rx = new Uint8Array(FIFO);
  private rxHead = 0;
  private rxCount = 0;

  /** `transmit` receives each byte the guest sends (outside loopback). */
  constructor(
    private readonly transmit: (byte: number) => void,
    readonly base = COM1_BASE,
  ) {}

  /** IIR as serial_update_irq derives it: the highest-priority pending cause (receiver data, then THR
   *  empty), else NO_INT; bits 7:6 say the FIFOs are on. */
  get iir(): number {
    let id = UART_IIR_NO_INT;
    if ((this.ier & UART_IER_RDI) !== 0 && (this.lsr & UART_LSR_DR) !== 0) id = UART_IIR_RDI;
    else if ((this.ier & UART_IER_THRI) !== 0 && this.thrPending) id = UART_IIR_THRI;
    return id | this.iirFifo;
  }

  read(offset: number, _size: AccessSize): number {
    switch (offset) {
      case UART_RBR_THR:
        if (this.lcr & UART_LCR_DLAB) return this.divider & 0xff;
        return this.receive();
      case UART_IER:
        return this.lcr & UART_LCR_DLAB ? this.divider >>> 8 : this.ier;
      case UART_IIR_FCR: {
        const v = this.iir;
        // Reading IIR while it reports THR empty acknowledges that cause (serial_ioport_read).
        if ((v & 0x0f) === UART_IIR_THRI) this.thrPending = false;
        return v;
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const v = this.lsr;
        this.lsr &= ~UART_LSR_OE; // overrun is reported once
        return v;
      }
      case UART_MSR:
        // In loopback the modem inputs are the MCR outputs: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD.
        if (this.mcr & UART_MCR_LOOP)
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        return this.msr;
      default:
        return this.scr;
    }
  }

  write(offset: number, _size: AccessSize, value: number): boolean {
    const v = value & 0xff;
    switch (offset) {
      case UART_RBR_THR:
        if (this.lcr & UART_LCR_DLAB) this.divider = (this.divider & 0xff00) | v;
        else {
          if (this.mcr & UART_MCR_LOOP) this.loopback(v);
          else this.transmit(v);
          // Transmitted at once: THR and the shift register are empty again, and THR-empty is pending.
          this.thrPending = true;
        }
        return false;
      case UART_IER:
        if (this.lcr & UART_LCR_DLAB) this.divider = (this.divider & 0x00ff) | (v << 8);
        else {
          this.ier = v & 0x0f;
          if (this.lsr & UART_LSR_THRE) this.thrPending = true;
        }
        return false;
      case UART_IIR_FCR:
        this.writeFcr(v);
        return false;
      case UART_LCR:
        this.lcr = v;
        return false;
      case UART_MCR:
        this.mcr = v & 0x1f;
        return false;
      case UART_SCR:
        this.scr = v;
        return false;
      default:
        return false; // LSR and MSR are read-only (serial_ioport_write ignores them)
    }
  }

  register(offset: number, write: boolean): string {
    if (this.lcr & UART_LCR_DLAB && offset <= 1) return offset === 0 ? "DLL" : "DLM";
    return (write ? WRITE_NAMES : READ_NAMES)[offset];
  }

  /** FCR: enabling or disabling the FIFOs clears them; RFR clears the receive side; only FE and the trigger
   *  level stick (serial_ioport_write case 2: fcr = val & 0xC9). */
  private writeFcr(v: number): void {
    if (v === this.fcr) return;
    if (((v ^ this.fcr) & UART_FCR_FE) !== 0) v |= UART_FCR_RFR;
    if (v & UART_FCR_RFR) {
      this.rxCount = 0;
      this.lsr &= ~UART_LSR_DR;
    }
    this.iirFifo = v & UART_FCR_FE ? UART_IIR_FE : 0;
    this.fcr = v & 0xc9;
  }

  private loopback(byte: number): void {
    if (this.fcr & UART_FCR_FE) {
      // A full FIFO drops its oldest byte and flags overrun (recv_fifo_put).
      if (this.rxCount === FIFO) {
        this.rxHead = (this.rxHead + 1) % FIFO;
        this.rxCount--;
        this.lsr |= UART_LSR_OE;
      }
      this.rx[(this.rxHead + this.rxCount) % FIFO] = byte;
      this.rxCount++;
    } else {
      if (this.lsr & UART_LSR_DR) this.lsr |= UART_LSR_OE;
      this.rbr = byte;
    }
    this.lsr |= UART_LSR_DR;
  }

  private receive(): number {
    if (this.fcr & UART_FCR_FE) {
      if (this.rxCount === 0) return 0;
      const b = this.rx[this.rxHead];
      this.rxHead = (this.rxHead + 1) % FIFO;
      if (--this.rxCount === 0) this.lsr &= ~UART_LSR_DR;
      return b;
    }
    this.lsr &= ~UART_LSR_DR;
    return this.rbr;
  }
}
