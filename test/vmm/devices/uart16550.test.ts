// The 16550 UART at 0x3F8 (issue 13 item 2): reset values, DLAB, LSR, IIR/IER, FCR, loopback — as QEMU's
// hw/char/serial.c presents them to a polling guest.
import { describe, expect, it } from "vitest";
import { GuestIo } from "../../../src/vmm/io.js";

const io = () => new GuestIo();
const inb = (g: GuestIo, p: number) => g.portIn(p, 1);
const outb = (g: GuestIo, p: number, v: number) => g.portOut(p, 1, v);

describe("16550 UART at 0x3F8", () => {
  it("reset state (serial_reset): IER 0, IIR 0x01, LCR 0, MCR 0x08 (OUT2), LSR 0x60, MSR 0xB0, SCR 0, divisor 12", () => {
    const g = io();
    expect([1, 2, 3, 4, 5, 6, 7].map((o) => inb(g, 0x3f8 + o))).toEqual([0, 0x01, 0, 0x08, 0x60, 0xb0, 0]);
    outb(g, 0x3fb, 0x80);
    expect([inb(g, 0x3f8), inb(g, 0x3f9)]).toEqual([0x0c, 0]);
  });
  it("THR bytes go to the console; LSR keeps THRE|TEMT; RBR reads 0 with nothing received", () => {
    const g = io();
    for (const c of "hi\r\n") {
      expect(inb(g, 0x3fd) & 0x20).toBe(0x20);
      outb(g, 0x3f8, c.charCodeAt(0));
    }
    expect(g.consoleText()).toBe("hi\r\n");
    expect(inb(g, 0x3fd)).toBe(0x60);
    expect(inb(g, 0x3f8)).toBe(0);
  });
  it("DLAB: offsets 0 and 1 are the divisor latch (DLL, DLM), not THR and IER", () => {
    const g = io();
    outb(g, 0x3fb, 0x83); // DLAB | 8 data bits
    outb(g, 0x3f8, 0x01); // 115200 baud
    outb(g, 0x3f9, 0x02);
    expect([inb(g, 0x3f8), inb(g, 0x3f9), inb(g, 0x3fb)]).toEqual([0x01, 0x02, 0x83]);
    expect(g.consoleText()).toBe("");
    outb(g, 0x3fb, 0x03);
    expect(inb(g, 0x3f9)).toBe(0); // IER again, untouched
    expect(g.uart.divider).toBe(0x201);
  });
  it("IER keeps bits 3:0; IIR reports THR empty with IER.THRI, and reading it acknowledges", () => {
    const g = io();
    outb(g, 0x3f9, 0xff);
    expect(inb(g, 0x3f9)).toBe(0x0f);
    expect(inb(g, 0x3fa)).toBe(0x02); // THRI pending: THR was empty when THRI was enabled
    expect(inb(g, 0x3fa)).toBe(0x01);
    outb(g, 0x3f8, 0x41);
    expect(inb(g, 0x3fa)).toBe(0x02);
    expect(inb(g, 0x3fa)).toBe(0x01);
  });
  it("FCR: FIFO enable shows in IIR bits 7:6; only FE and the trigger level stick", () => {
    const g = io();
    outb(g, 0x3fa, 0xc7);
    expect(inb(g, 0x3fa)).toBe(0xc1);
    expect(g.uart.fcr).toBe(0xc1);
    outb(g, 0x3fa, 0);
    expect(inb(g, 0x3fa)).toBe(0x01);
  });
  it("MCR keeps bits 4:0; SCR holds any byte; LSR and MSR writes are ignored", () => {
    const g = io();
    outb(g, 0x3fc, 0xeb);
    expect(inb(g, 0x3fc)).toBe(0x0b);
    outb(g, 0x3ff, 0xa5);
    expect(inb(g, 0x3ff)).toBe(0xa5);
    outb(g, 0x3fd, 0);
    outb(g, 0x3fe, 0);
    expect([inb(g, 0x3fd), inb(g, 0x3fe)]).toEqual([0x60, 0xb0]);
  });
  it("loopback (MCR bit 4): a transmitted byte is received (LSR.DR), MSR mirrors MCR, overrun without FIFO", () => {
    const g = io();
    outb(g, 0x3fc, 0x1f); // LOOP | OUT2 | OUT1 | RTS | DTR
    expect(inb(g, 0x3fe)).toBe(0xf0);
    outb(g, 0x3f9, 0x01); // IER.RDI
    outb(g, 0x3f8, 0x55);
    expect(inb(g, 0x3fd)).toBe(0x61);
    expect(inb(g, 0x3fa)).toBe(0x04); // received data available
    outb(g, 0x3f8, 0x66);
    expect(inb(g, 0x3fd)).toBe(0x63); // OE, reported once
    expect(inb(g, 0x3fd)).toBe(0x61);
    expect(inb(g, 0x3f8)).toBe(0x66);
    expect(inb(g, 0x3fd)).toBe(0x60);
    expect(g.consoleText()).toBe("");
  });
  it("loopback with the FIFO on: bytes come back in order, DR until the FIFO is empty", () => {
    const g = io();
    outb(g, 0x3fa, 0x01);
    outb(g, 0x3fc, 0x10);
    for (const b of [1, 2, 3]) outb(g, 0x3f8, b);
    const got: number[] = [];
    while (inb(g, 0x3fd) & 1) got.push(inb(g, 0x3f8));
    expect(got).toEqual([1, 2, 3]);
    expect(inb(g, 0x3f8)).toBe(0);
  });
  it("a 16-bit IN reaches two registers, lowest port first (the UART is byte-wide)", () => {
    const g = io();
    expect(g.portIn(0x3fd, 2)).toBe(0xb060);
    expect(g.portIn(0x3ff, 2)).toBe(0xff00); // SCR, then the unassigned 0x400
  });
});
