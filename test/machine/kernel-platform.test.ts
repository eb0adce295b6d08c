// A booted kernel on a KVM machine (src/machine/vcpu-guest.ts, issue 13 items 1 and 3): the local APIC's
// start state by entry (RESET's xAPIC mode for the Multiboot entry, the guest ABI's x2APIC mode for a flat
// program), and --trace-io listing the xAPIC page's accesses in order with the port accesses.
import { describe, expect, it } from "vitest";
import { createMachine, loadGuest, runToEnd } from "../../src/machine/index.js";
import { IoTrace } from "../../src/vmm/devices/io-trace.js";
import { TracedMmioBus, xapicRegisterName } from "../../src/vmm/devices/mmio-trace.js";
import { loadKernel, type BootImage } from "../../src/vmm/index.js";
import { buildElf, concat, mbHeader } from "../vmm/elf-build.js";

// 32-bit code at 0x10000c, after the 12-byte Multiboot header (paging off: linear = physical).
const CODE = Uint8Array.of(
  ...[0xbb, 0x00, 0x00, 0xe0, 0xfe], //                  mov ebx, 0xFEE00000
  ...[0x8b, 0x43, 0x30], //                              mov eax, [ebx + 0x30]        ; version
  ...[0x81, 0x8b, 0xf0, 0, 0, 0, 0x00, 0x01, 0, 0], //   or dword [ebx + 0xF0], 0x100 ; SVR |= enable
  ...[0xb0, 0x41, 0xe6, 0xe9], //                        mov al, 'A'; out 0xE9, al
  ...[0xc7, 0x83, 0xb0, 0, 0, 0, 0, 0, 0, 0], //         mov dword [ebx + 0xB0], 0    ; EOI
  ...[0x31, 0xc0, 0xe6, 0xf4], //                        xor eax, eax; out 0xF4, al
);

function kernel(): BootImage {
  const file = buildElf(32, 0x10000c, [{ paddr: 0x100000, bytes: concat(mbHeader(3), CODE), memsz: 0x1000 }]);
  const r = loadKernel(file, { kernelName: "k.elf", cmdline: "", modules: [], memSize: 16 << 20 });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function machine() {
  const m = createMachine({ host: "spr" });
  if (!m.ok) throw new Error(m.error);
  return m.value;
}

describe("a Multiboot kernel on a KVM machine", () => {
  it("starts with the APIC as RESET leaves it: xAPIC mode at 0xFEE00000; a flat program in x2APIC mode", () => {
    const m = machine();
    const g = loadGuest(m, kernel(), 0);
    if ("error" in g) throw new Error(g.error);
    expect(m.vcpu.lapic.apicBase).toBe(0xfee00900n);
    expect(m.vcpu.lapic.reg(0xf0)).toBe(0xff);
    const flat = machine();
    expect("error" in loadGuest(flat, Uint8Array.of(0xf4), 0x100000)).toBe(false);
    expect(flat.vcpu.lapic.apicBase).toBe(0xfee00d00n);
  });

  it("--trace-io lists the xAPIC page's loads and stores among the port accesses, in guest order", () => {
    let text = "";
    const trace = new IoTrace((t) => {
      text += t;
    });
    const m = machine();
    const g = loadGuest(m, kernel(), 0, { devices: { trace } });
    if ("error" in g) throw new Error(g.error);
    const r = runToEnd(g, 1000);
    expect([r.stop, r.console]).toEqual(["exit", "A"]);
    expect(g.cpu.mmio).toBeInstanceOf(TracedMmioBus);
    // The OR's load is not listed: the device sees only its store (MmioBus.read forWrite).
    expect(text).toBe(
      [
        "mmio-read  0xfee00030 4  0x00050014  lapic version",
        "mmio-write 0xfee000f0 4  0x000001ff  lapic SVR",
        "out        0x00e9     1  0x41        console byte",
        "mmio-write 0xfee000b0 4  0x00000000  lapic EOI",
        "out        0x00f4     1  0x00        debug-exit exit",
        "",
      ].join("\n"),
    );
    expect(m.vcpu.lapic.reg(0xf0)).toBe(0x1ff);
  });

  it("without --trace-io the CPU keeps the APIC page's own bus", () => {
    const m = machine();
    const g = loadGuest(m, kernel(), 0);
    if ("error" in g) throw new Error(g.error);
    runToEnd(g, 1000);
    expect(g.cpu.mmio).not.toBeInstanceOf(TracedMmioBus);
    expect(g.cpu.mmio).not.toBe(null);
  });

  it("names each register of the page, a byte inside one, and offsets that name none", () => {
    expect(
      [0x20, 0x31, 0x100, 0x170, 0x1f0, 0x270, 0x300, 0x310, 0x340, 0x3e0, 0x3f0, 0x400].map(xapicRegisterName),
    ).toEqual([
      "lapic ID",
      "lapic version+1",
      "lapic ISR0",
      "lapic ISR7",
      "lapic TMR7",
      "lapic IRR7",
      "lapic ICR low",
      "lapic ICR high",
      "lapic LVT PMC",
      "lapic divide config",
      "lapic reserved 0x3f0",
      "lapic reserved 0x400",
    ]);
  });
});
