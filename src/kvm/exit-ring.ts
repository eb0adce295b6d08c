/**
 * The last RECENT_EXITS VM exits, for error reports (Vcpu.recentExits). An exit whose record nobody else
 * wants (no exit log, no sink: the sweep, `vpmu run` without --exits, the exits benchmark) is kept as its
 * fields in preallocated slots and becomes an ExitRecord only when read: the intercepted-RDMSR path (W4 of
 * issue 16) then allocates nothing per exit. Records built anyway (a sink or the log wants them) are kept
 * as they are.
 */
import type { ExitRecord } from "./vcpu.js";

/** Exits remembered for error reports (Vcpu.recentExits). */
export const RECENT_EXITS = 32;

/** A slot holds an ExitRecord object. */
const SLOT_OBJECT = 0;
/** A slot holds the fields of an MSR access exit (kvm_emulate_rdmsr/wrmsr). */
const SLOT_MSR = 1;

export class RecentExits {
  private readonly kind = new Uint8Array(RECENT_EXITS);
  private readonly objects: (ExitRecord | null)[] = new Array(RECENT_EXITS).fill(null);
  private readonly reason = new Uint8Array(RECENT_EXITS);
  private readonly rip = new Float64Array(RECENT_EXITS);
  private readonly length = new Uint8Array(RECENT_EXITS);
  private readonly msr = new Float64Array(RECENT_EXITS);
  private readonly write = new Uint8Array(RECENT_EXITS);
  private readonly ok = new Uint8Array(RECENT_EXITS);
  private readonly value: bigint[] = new Array(RECENT_EXITS).fill(0n);
  private readonly name: string[] = new Array(RECENT_EXITS).fill("");
  private at = 0;

  push(r: ExitRecord): void {
    const i = this.at++ % RECENT_EXITS;
    this.kind[i] = SLOT_OBJECT;
    this.objects[i] = r;
  }

  /** The fields of the record an MSR exit handler would build (see `materialize` for its shape). */
  pushMsr(
    reason: number,
    name: string,
    rip: number,
    length: number,
    msr: number,
    write: boolean,
    value: bigint,
    ok: boolean,
  ): void {
    const i = this.at++ % RECENT_EXITS;
    this.kind[i] = SLOT_MSR;
    this.objects[i] = null;
    this.reason[i] = reason;
    this.name[i] = name;
    this.rip[i] = rip;
    this.length[i] = length;
    this.msr[i] = msr;
    this.write[i] = write ? 1 : 0;
    this.value[i] = value;
    this.ok[i] = ok ? 1 : 0;
  }

  /** The last (up to RECENT_EXITS) exits, oldest first. */
  list(): ExitRecord[] {
    const out: ExitRecord[] = [];
    for (let i = Math.max(0, this.at - RECENT_EXITS); i < this.at; i++) out.push(this.materialize(i % RECENT_EXITS));
    return out;
  }

  private materialize(i: number): ExitRecord {
    if (this.kind[i] === SLOT_OBJECT) return this.objects[i]!;
    return msrExitRecord(
      this.reason[i]!,
      this.name[i]!,
      this.rip[i]!,
      this.length[i]!,
      this.msr[i]!,
      this.write[i] === 1,
      this.value[i]!,
      this.ok[i] === 1,
    );
  }
}

/** The exit log's record of an MSR access exit: a read that failed carries no value (it injected #GP). */
export function msrExitRecord(
  reason: number,
  name: string,
  rip: number,
  length: number,
  msr: number,
  write: boolean,
  value: bigint,
  ok: boolean,
): ExitRecord {
  if (!write && !ok) return { reason, name, rip, length, msr, write, outcome: "#GP" };
  return { reason, name, rip, length, msr, write, value, outcome: ok ? "ok" : "#GP" };
}
