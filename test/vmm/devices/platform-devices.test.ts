// isa-debug-exit, fw_cfg, the PICs and unassigned ports (issue 13 item 2), on the VMM's port bus.
import { describe, expect, it } from "vitest";
import { exitStatusOf } from "../../../src/vmm/devices/debug-exit.js";
import { IoTrace } from "../../../src/vmm/devices/io-trace.js";
import { GuestIo } from "../../../src/vmm/io.js";

describe("isa-debug-exit at 0xF4 (iosize 4)", () => {
  it("raw: the value's low byte; qemu: ((v << 1) | 1) & 0xff as QEMU's process status", () => {
    expect([0, 1, 38, 63, 0x80, 0x1ff].map((v) => exitStatusOf(v, "raw"))).toEqual([0, 1, 38, 63, 0x80, 0xff]);
    expect([0, 1, 38, 63, 0x80, 0x1ff].map((v) => exitStatusOf(v, "qemu"))).toEqual([1, 3, 77, 127, 1, 0xff]);
  });
  it("a write of any size at 0xF4..0xF7 ends the run; reads return 0; 0xF8 is not the device", () => {
    for (const [port, size] of [
      [0xf4, 1],
      [0xf5, 2],
      [0xf7, 4],
    ] as const) {
      const g = new GuestIo(null, { exitStatus: "qemu" });
      expect(g.exitStatus).toBe(null);
      expect(g.portIn(port, size)).toBe(0);
      expect(g.portOut(port, size, 38)).toBe(true);
      expect(g.exitStatus).toBe(77);
    }
    const g = new GuestIo();
    expect(g.portOut(0xf8, 1, 3)).toBe(false);
    expect(g.portOut(0xf4, 4, 0x103)).toBe(true);
    expect(g.exitStatus).toBe(3);
  });
});

describe("fw_cfg at 0x510/0x511", () => {
  const read = (g: GuestIo, key: number, n: number, port = 0x511) => {
    g.portOut(0x510, 2, key);
    return Array.from({ length: n }, () => g.portIn(port, 1));
  };
  it('signature "QEMU", ID 1 (no DMA), RAM size (u64), NB_CPUS = MAX_CPUS = 1 (u16), an empty file directory', () => {
    const g = new GuestIo(null, { memSize: 256 << 20 });
    expect(String.fromCharCode(...read(g, 0, 4))).toBe("QEMU");
    expect(read(g, 0, 5, 0x510)).toEqual([0x51, 0x45, 0x4d, 0x55, 0]); // either port reads data; 0 past the end
    expect(read(g, 1, 4)).toEqual([1, 0, 0, 0]);
    expect(read(g, 3, 8)).toEqual([0, 0, 0, 0x10, 0, 0, 0, 0]);
    expect(read(g, 5, 2)).toEqual([1, 0]);
    expect(read(g, 0xf, 2)).toEqual([1, 0]);
    expect(read(g, 0x19, 4)).toEqual([0, 0, 0, 0]);
  });
  it("unknown, arch-local and out-of-range keys read 0; selecting rewinds; byte writes are ignored", () => {
    const g = new GuestIo();
    expect(read(g, 0x02, 2)).toEqual([0, 0]);
    expect(read(g, 0x8000, 2)).toEqual([0, 0]);
    expect(read(g, 0x40, 2)).toEqual([0, 0]);
    g.portOut(0x510, 2, 0);
    g.portIn(0x511, 1);
    g.portOut(0x511, 1, 0x12);
    expect(g.portIn(0x511, 1)).toBe(0x45);
    expect(read(g, 0, 1)).toEqual([0x51]);
  });
  it("sizes the region does not take behave as an unassigned port", () => {
    const g = new GuestIo();
    g.portOut(0x510, 2, 0);
    expect(g.portIn(0x511, 2)).toBe(0xffff);
    g.portOut(0x510, 4, 1); // not a select
    expect(g.portIn(0x511, 1)).toBe(0x51);
  });
});

describe("the 8259 PICs: masking only", () => {
  it("ICW1-ICW4 then OCW1: the IMR reads back; IRR and ISR (OCW3) read 0", () => {
    const g = new GuestIo();
    // The usual remap: master at vector 0x20, slave at 0x28, cascade on IRQ 2, 8086 mode; then mask all.
    for (const [p, v] of [
      [0x20, 0x11],
      [0xa0, 0x11],
      [0x21, 0x20],
      [0xa1, 0x28],
      [0x21, 0x04],
      [0xa1, 0x02],
      [0x21, 0x01],
      [0xa1, 0x01],
      [0x21, 0xfb],
      [0xa1, 0xff],
    ])
      g.portOut(p, 1, v);
    expect([g.portIn(0x21, 1), g.portIn(0xa1, 1)]).toEqual([0xfb, 0xff]);
    expect([g.pics[0].vectorBase, g.pics[1].vectorBase, g.pics[0].icw3, g.pics[1].icw3]).toEqual([0x20, 0x28, 4, 2]);
    g.portOut(0x20, 1, 0x0b); // OCW3: read ISR
    expect(g.portIn(0x20, 1)).toBe(0);
    g.portOut(0x20, 1, 0x20); // OCW2: EOI (nothing in service)
    expect(g.portIn(0x21, 1)).toBe(0xfb);
    g.portOut(0x20, 1, 0x13); // ICW1 single, ICW4: the mask clears, ICW2 then ICW4 (no ICW3)
    expect(g.portIn(0x21, 1)).toBe(0);
    g.portOut(0x21, 1, 0x30);
    g.portOut(0x21, 1, 0x01);
    g.portOut(0x21, 1, 0x7f);
    expect([g.pics[0].vectorBase, g.pics[0].icw4, g.portIn(0x21, 1)]).toEqual([0x30, 1, 0x7f]);
  });
});

describe("unassigned ports and the trace", () => {
  it("reads all ones, writes change nothing and never end the run", () => {
    const g = new GuestIo();
    expect([g.portIn(0x80, 1), g.portIn(0x514, 2), g.portIn(0xcf8, 4)]).toEqual([0xff, 0xffff, 0xffffffff]);
    expect(g.portOut(0x80, 1, 0)).toBe(false);
    expect(g.portOut(0x2f8, 4, 0x41424344)).toBe(false);
    expect(g.consoleText()).toBe("");
  });
  it("--trace-io lists each access with direction, port, size, value and the register it reached", () => {
    let text = "";
    const trace = new IoTrace((t) => {
      text += t;
    });
    const g = new GuestIo(null, { trace });
    g.portIn(0x3fd, 1);
    g.portOut(0x3f8, 1, 0x68);
    g.portOut(0x510, 2, 5);
    g.portIn(0x511, 1);
    g.portIn(0x3ff, 2);
    g.portIn(0x80, 4);
    trace.mmio(true, 0xfee000f0, 4, 0x1ff, 0, "lapic SVR");
    g.portOut(0xf4, 1, 0);
    g.drain();
    expect(text).toBe(
      [
        "in         0x03fd     1  0x60        uart16550 LSR",
        "out        0x03f8     1  0x68        uart16550 THR",
        "out        0x0510     2  0x0005      fw_cfg selector",
        "in         0x0511     1  0x01        fw_cfg data[key 0x5]",
        "in         0x03ff     2  0xff00      uart16550 SCR, unassigned",
        "in         0x0080     4  0xffffffff  unassigned",
        "mmio-write 0xfee000f0 4  0x000001ff  lapic SVR",
        "out        0x00f4     1  0x00        debug-exit exit",
        "",
      ].join("\n"),
    );
    expect(trace.count).toBe(8);
  });
});
