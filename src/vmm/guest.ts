/**
 * The userspace VMM of the guest ABI (docs/guest-abi.md): build guest RAM, load a flat image at its
 * origin, set the initial state, run with an instruction limit, and report how the run ended.
 * The Platform is injected (the bare one by default; the KVM layer passes its Vcpu).
 */
import { Cpu, StopReason, type FaultRecord } from "../isa/cpu.js";
import type { GuestEvents, Platform } from "../isa/platform.js";
import type { SharedDecodes } from "../isa/shared-decodes.js";
import { BarePlatform } from "./bare.js";
import { GuestIo, type DeviceOptions, type IoHandler } from "./io.js";
import { formatInsn } from "../isa/disasm.js";
import type { BootImage } from "./kernel.js";

export const DEFAULT_MEM = 16 * 1024 * 1024;
export const DEFAULT_LOAD = 0x100000;
/** Large enough for every program under programs/ many times over, small enough that a runaway guest
 *  stops within seconds on the bare platform (and minutes in a mediated VM-exit loop; docs/guest-abi.md). */
export const DEFAULT_MAX_INSNS = 1e8;

/** `vpmu run` exit statuses besides the guest's own 0–255 (docs/guest-abi.md). */
export const EXIT_TRIPLE_FAULT = 100;
export const EXIT_INSN_LIMIT = 101;
export const EXIT_UD = 102;
export const EXIT_INTERRUPTED = 103;
/** `vpmu run` on a KVM machine: the isolation checker recorded a leak (the guest's own status is reported). */
export const EXIT_LEAK = 104;
/** The guest fetched an instruction from memory nothing was loaded to or written (Cpu.unwrittenFetch). */
export const EXIT_UNWRITTEN = 105;

export type StopKind = "exit" | "halted" | "triple-fault" | "ud" | "insn-limit" | "interrupted" | "unwritten";

export interface GuestConfig {
  /** Guest RAM in bytes (default 16 MiB). */
  memSize?: number;
  /** Stop after this many retired instructions (default DEFAULT_MAX_INSNS, 10^8). */
  maxInsns?: number;
  /** Build the platform (default: the bare platform) around the VMM's I/O handler. */
  platform?: (io: IoHandler) => Platform;
  /** Run the CPU for at most `budget` instructions (default: cpu.run). The KVM layer's vCPU passes its
   *  own loop here (PMI delivery at counter boundaries, src/kvm/vmm.ts). */
  run?: (cpu: Cpu, budget: number) => StopReason;
  /** Compile hot code into blocks (src/isa/jit.ts; default true). false runs every instruction in the
   *  interpreter: slower, with identical results (the golden tests run both ways). */
  jit?: boolean;
  /** The mode the guest starts in: 64 (default: 64-bit mode, flat segments) or 32 (the Multiboot entry
   *  state: 32-bit protected mode, paging off, EAX = 0x2BADB002; docs/guest-abi.md). */
  entryBits?: 32 | 64;
  /** Stream the guest console: called with each chunk as the guest writes it (after every run chunk at
   *  the latest; the view is reused: copy it). RunResult.console is then "". Default: kept in the result. */
  console?: (bytes: Uint8Array) => void;
  /** Decoded instructions shared with earlier guests of the same image (src/isa/shared-decodes.ts: the
   *  sweep's runs of one probe); results are the same without. */
  decodes?: SharedDecodes;
  /** The devices' options (debug-exit status mapping, --trace-io; fw_cfg's RAM size is memSize). */
  devices?: Omit<DeviceOptions, "memSize">;
}

export interface RunResult {
  /** The guest console (one character per byte), or "" when GuestConfig.console streamed it. */
  console: string;
  /** The process exit status `vpmu run` uses. */
  status: number;
  stop: StopKind;
  /** One sentence (or a few lines) saying how the run ended. */
  report: string;
  rip: number;
  events: GuestEvents;
}

/** Load problems are values, not exceptions. */
export interface LoadError {
  error: string;
}

/** Guest-ABI initial state (docs/guest-abi.md): 64-bit, CPL 0, RFLAGS = 0x2, GPRs 0, RSP = top of RAM, IDTR limit 0. */
export class Guest {
  readonly cpu: Cpu;
  readonly io: GuestIo;
  readonly maxInsns: number;
  private stopped: RunResult | null = null;
  private readonly runFn: ((cpu: Cpu, budget: number) => StopReason) | undefined;

  private constructor(
    memSize: number,
    maxInsns: number,
    platform: (io: IoHandler) => Platform,
    run?: (cpu: Cpu, budget: number) => StopReason,
    console?: (bytes: Uint8Array) => void,
    devices: Omit<DeviceOptions, "memSize"> = {},
  ) {
    this.io = new GuestIo(console ?? null, { ...devices, memSize });
    this.cpu = new Cpu({ memSize, platform: new BarePlatform(this.io) });
    this.cpu.platform = platform(this.io);
    this.maxInsns = maxInsns;
    this.runFn = run;
  }

  /**
   * A flat image at `origin` entered in the guest ABI's state (cfg.entryBits), or a booted kernel
   * (kernel.ts loadKernel: its regions, entry point and entry registers; `origin` is not used).
   */
  static create(image: Uint8Array | BootImage, origin: number, cfg: GuestConfig = {}): Guest | LoadError {
    const memSize = cfg.memSize ?? DEFAULT_MEM;
    if (!Number.isInteger(memSize) || memSize < 4096 || memSize > 2 ** 32 || memSize % 4096 !== 0)
      return { error: `guest memory must be a multiple of 4096 bytes between 4 KiB and 4 GiB (got ${memSize})` };
    if (!(image instanceof Uint8Array)) return Guest.boot(image, memSize, cfg);
    if (!Number.isInteger(origin) || origin < 0 || origin + image.length > memSize)
      return {
        error: `image of ${image.length} bytes at 0x${origin.toString(16)} does not fit in ${memSize} bytes of guest memory`,
      };
    const g = Guest.make(memSize, cfg);
    g.cpu.load(origin, image);
    g.enter(origin, cfg.entryBits === 32 ? 32 : 64, 0);
    return g;
  }

  /** Load a kernel's regions (checked against RAM by loadKernel; checked again here for other callers). */
  private static boot(image: BootImage, memSize: number, cfg: GuestConfig): Guest | LoadError {
    for (const r of image.regions)
      if (r.addr < 0 || r.addr + r.size > memSize || r.bytes.length > r.size)
        return { error: `${r.what} at 0x${r.addr.toString(16)} does not fit in ${memSize} bytes of guest memory` };
    const g = Guest.make(memSize, cfg);
    // RAM starts zeroed, so the part of a region past its bytes (a bss) needs no write.
    for (const r of image.regions) if (r.bytes.length > 0) g.cpu.load(r.addr, r.bytes);
    g.enter(image.entry, image.bits, image.ebx);
    return g;
  }

  private static make(memSize: number, cfg: GuestConfig): Guest {
    const g = new Guest(
      memSize,
      cfg.maxInsns ?? DEFAULT_MAX_INSNS,
      cfg.platform ?? ((io) => new BarePlatform(io)),
      cfg.run,
      cfg.console,
      cfg.devices,
    );
    g.cpu.jitEnabled = cfg.jit !== false;
    g.cpu.sharedDecodes = cfg.decodes ?? null;
    return g;
  }

  /** The entry state: RIP, RSP = top of RAM; 32: the Multiboot state (enterFlat32) with EBX = `ebx`. */
  private enter(rip: number, bits: 32 | 64, ebx: number): void {
    const cpu = this.cpu;
    const memSize = cpu.memSize;
    cpu.rip = rip;
    cpu.rsp0Lo = memSize >>> 0;
    cpu.set64(4, memSize >>> 0, Math.floor(memSize / 4294967296));
    if (bits === 32) {
      cpu.enterFlat32();
      cpu.set64(3, ebx >>> 0, 0);
    }
  }

  get result(): RunResult | null {
    return this.stopped;
  }

  /**
   * Run at most `chunk` more instructions (callers loop, e.g. to notice Ctrl-C between chunks).
   * Returns the result once the run has ended, else null.
   */
  runChunk(chunk = 1e8): RunResult | null {
    if (this.stopped) return this.stopped;
    const cpu = this.cpu;
    const remaining = this.maxInsns - cpu.events.instructions;
    if (remaining <= 0) return this.finish("insn-limit");
    const r = this.runFn ? this.runFn(cpu, Math.min(chunk, remaining)) : cpu.run(Math.min(chunk, remaining));
    this.io.drain();
    switch (r) {
      case StopReason.Exit:
        if (this.io.exitStatus !== null) return this.finish("exit");
        return null;
      case StopReason.Halted:
        return this.finish("halted");
      case StopReason.TripleFault:
        return this.finish(cpu.tripleFault && cpu.tripleFault.chain[0].vector === 6 ? "ud" : "triple-fault");
      case StopReason.UnwrittenFetch:
        return this.finish("unwritten");
      default:
        if (cpu.events.instructions >= this.maxInsns) return this.finish("insn-limit");
        return null;
    }
  }

  /** Stop now (Ctrl-C): same report as the instruction limit, with its own status. */
  interrupt(): RunResult {
    return this.stopped ?? this.finish("interrupted");
  }

  private finish(stop: StopKind): RunResult {
    const cpu = this.cpu;
    const n = cpu.events.instructions;
    const at = hex(cpu.rip);
    let status: number, report: string;
    switch (stop) {
      case "exit":
        status = this.io.exitStatus ?? 0;
        report = `guest exited with status ${status} after ${n} instructions`;
        break;
      case "halted":
        status = 0;
        report =
          `guest halted at rip=${at} after ${n} instructions` +
          (cpu.interruptsEnabled ? " (IF=1 but nothing can raise an interrupt)" : "");
        break;
      case "insn-limit":
        status = EXIT_INSN_LIMIT;
        report = `instruction limit of ${this.maxInsns} reached at rip=${at}`;
        break;
      case "interrupted":
        status = EXIT_INTERRUPTED;
        report = `interrupted at rip=${at} after ${n} instructions`;
        break;
      case "unwritten":
        status = EXIT_UNWRITTEN;
        report =
          `executed unwritten memory at ${hex(cpu.unwrittenFetch)} after ${n} instructions: nothing was loaded ` +
          `to or written in its 4 KiB page (did the program run off its end, or jump to an address never set?)`;
        break;
      default: {
        const tf = cpu.tripleFault!;
        status = stop === "ud" ? EXIT_UD : EXIT_TRIPLE_FAULT;
        report = `triple fault at rip=${hex(tf.rip)}: ` + tf.chain.map((f) => this.describe(f)).join(", then ");
      }
    }
    this.stopped = { console: this.io.consoleText(), status, stop, report, rip: cpu.rip, events: { ...cpu.events } };
    return this.stopped;
  }

  private describe(f: FaultRecord): string {
    const name = VECTOR_NAMES[f.vector] ?? `vector ${f.vector}`;
    let s = f.errorCode !== null ? `${name}(0x${f.errorCode.toString(16)})` : name;
    if (f.vector === 6) {
      const ins = this.cpu.decodeAt(f.rip);
      const n = Math.max(1, Math.min(ins.len || 1, 15));
      const bytes = Array.from(this.cpu.mem.subarray(f.rip, Math.min(this.cpu.memSize, f.rip + n)), (b) =>
        b.toString(16).padStart(2, "0"),
      ).join(" ");
      s += ` at rip=${hex(f.rip)} (bytes ${bytes}${ins.op ? ": " + formatInsn(ins) : ""})`;
    } else s += ` at rip=${hex(f.rip)}`;
    if (f.cr2 !== undefined) s += ` cr2=${f.cr2}`;
    return s;
  }
}

export const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0: "#DE",
  1: "#DB",
  2: "NMI",
  3: "#BP",
  4: "#OF",
  5: "#BR",
  6: "#UD",
  7: "#NM",
  8: "#DF",
  10: "#TS",
  11: "#NP",
  12: "#SS",
  13: "#GP",
  14: "#PF",
  16: "#MF",
  17: "#AC",
  18: "#MC",
  19: "#XM",
};

export function hex(n: number): string {
  return "0x" + n.toString(16);
}

/** Run a flat image to the end (library convenience: no Ctrl-C handling). */
export function runGuest(image: Uint8Array, origin: number, cfg: GuestConfig = {}): RunResult | LoadError {
  const g = Guest.create(image, origin, cfg);
  if ("error" in g) return g;
  for (;;) {
    const r = g.runChunk();
    if (r) return r;
  }
}
