/**
 * Instruction traces for `vpmu run --trace`: single-step the guest (the CPU's plain one-instruction
 * path) and describe each step as one line: address, symbol+offset, bytes, disassembly, and the
 * registers (and RFLAGS) whose values changed.
 */
import { formatInsn, regName } from "../isa/disasm.js";
import type { Guest, RunResult } from "./guest.js";
import { VECTOR_NAMES, hex } from "./guest.js";

export interface TraceSymbol {
  name: string;
  value: number;
}

export class Tracer {
  private readonly syms: TraceSymbol[];
  private readonly before = new Uint32Array(32);

  constructor(
    private readonly guest: Guest,
    symbols: readonly TraceSymbol[] = [],
  ) {
    this.syms = [...symbols].sort((a, b) => a.value - b.value || a.name.localeCompare(b.name));
    guest.cpu.stopAfterEvent = true;
  }

  /** The nearest symbol at or below addr as `name+0xN`, or "" when there is none. */
  symbolize(addr: number): string {
    let lo = 0,
      hi = this.syms.length - 1,
      best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.syms[mid].value <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return "";
    const s = this.syms[best];
    return addr === s.value ? s.name : `${s.name}+0x${(addr - s.value).toString(16)}`;
  }

  /** Run one step; returns its trace line and the run's result once it has ended. */
  step(): { line: string; result: RunResult | null } {
    const cpu = this.guest.cpu;
    const rip = cpu.rip,
      flags = cpu.rflags,
      deliveries = cpu.deliveries,
      retired = cpu.events.instructions;
    this.before.set(cpu.regs);
    const ins = cpu.decodeAt(rip);
    const n = Math.max(1, Math.min(ins.len || 1, 15, cpu.memSize - rip));
    const bytes =
      rip >= 0 && rip < cpu.memSize
        ? Array.from(cpu.mem.subarray(rip, rip + n), (b) => b.toString(16).padStart(2, "0")).join(" ")
        : "";
    const result = this.guest.runChunk(1);
    const sym = this.symbolize(rip);
    let line: string;
    if (cpu.tripleFault && result) {
      line = `${hex(rip).padEnd(10)} ${sym.padEnd(20)} ${bytes.padEnd(30)} ${(ins.op ? formatInsn(ins) : "(bad)").padEnd(32)} -- triple fault`;
    } else if (cpu.deliveries !== deliveries && cpu.events.instructions === retired && cpu.lastFault) {
      const f = cpu.lastFault;
      const name = VECTOR_NAMES[f.vector] ?? `vector ${f.vector}`;
      // An exception raised by the instruction at rip shows that instruction; an external interrupt
      // (delivered before it ran) does not.
      const what =
        f.vector < 32 && f.rip === rip ? `${bytes.padEnd(30)} ${(ins.op ? formatInsn(ins) : "(bad)").padEnd(32)} ` : "";
      line = `${hex(rip).padEnd(10)} ${sym.padEnd(20)} ${what}-- ${name}${f.errorCode !== null ? `(0x${f.errorCode.toString(16)})` : ""} delivered → rip=${hex(cpu.rip)}`;
    } else {
      const changes: string[] = [];
      for (let r = 0; r < 16; r++) {
        if (cpu.regs[2 * r] !== this.before[2 * r] || cpu.regs[2 * r + 1] !== this.before[2 * r + 1])
          changes.push(
            `${regName(r, 8)}=0x${cpu.regs[2 * r + 1] ? cpu.regs[2 * r + 1].toString(16) + cpu.regs[2 * r].toString(16).padStart(8, "0") : cpu.regs[2 * r].toString(16)}`,
          );
      }
      if (cpu.rflags !== flags) changes.push(`rflags=0x${cpu.rflags.toString(16)}`);
      const text = ins.op ? formatInsn(ins) : "(bad)";
      line =
        `${hex(rip).padEnd(10)} ${sym.padEnd(20)} ${bytes.padEnd(30)} ${text.padEnd(32)} ${changes.join(" ")}`.trimEnd();
    }
    return { line, result };
  }
}
