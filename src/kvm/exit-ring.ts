/**
 * The last RECENT_EXITS VM exits, for error reports (Vcpu.recentExits). An exit whose record nobody else
 * wants (no exit log, no sink: the sweep, `vpmu run` without --exits, the exits benchmark) is kept as its
 * fields in preallocated slots and becomes an ExitRecord only when read: the intercepted-RDMSR path (W4 of
 * issue 16) then allocates nothing per exit. Records built anyway (a sink or the log wants them) are kept
 * as they are.
 */
import { EXIT_REASON, exitReasonName } from "../arch/vmx-exit-reasons.js";
import { big } from "../host/halves.js";
import type { ExitRecord } from "./vcpu.js";

/** Exits remembered for error reports (Vcpu.recentExits). */
export const RECENT_EXITS = 32;

/** A slot holds an ExitRecord object. */
const SLOT_OBJECT = 0;
/** A slot holds the fields of an MSR access exit (kvm_emulate_rdmsr/wrmsr), its value a bigint. */
const SLOT_MSR = 1;
/** A successful RDMSR exit whose value is two 32-bit halves (the PMU's Number reader answered). */
const SLOT_MSR_READ_HALVES = 2;
const NAME_MSR_READ = exitReasonName(EXIT_REASON.MSR_READ);

/** Fields of a slot in `f` (one Float64Array, FIELDS numbers per slot). */
const KIND = 0,
  REASON = 1,
  RIP = 2,
  LENGTH = 3,
  MSR = 4,
  WRITE = 5,
  OK = 6,
  LO = 7,
  HI = 8,
  FIELDS = 9;

export class RecentExits {
  /** Every slot's fields, FIELDS numbers each (one store per field per exit, no object). */
  private readonly f = new Float64Array(RECENT_EXITS * FIELDS);
  private readonly objects: (ExitRecord | null)[] = new Array(RECENT_EXITS).fill(null);
  private readonly value: bigint[] = new Array(RECENT_EXITS).fill(0n);
  private readonly name: string[] = new Array(RECENT_EXITS).fill("");
  private at = 0;

  /** The next slot (RECENT_EXITS is a power of two). */
  private next(): number {
    const i = this.at & (RECENT_EXITS - 1);
    this.at++;
    return i;
  }

  push(r: ExitRecord): void {
    const i = this.next();
    this.f[i * FIELDS + KIND] = SLOT_OBJECT;
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
    const i = this.next();
    this.objects[i] = null;
    this.name[i] = name;
    this.value[i] = value;
    const f = this.f;
    const b = i * FIELDS;
    f[b + KIND] = SLOT_MSR;
    f[b + REASON] = reason;
    f[b + RIP] = rip;
    f[b + LENGTH] = length;
    f[b + MSR] = msr;
    f[b + WRITE] = write ? 1 : 0;
    f[b + OK] = ok ? 1 : 0;
  }

  /** pushMsr for a successful RDMSR (reason MSR_READ, `name` its name) whose value is EDX:EAX = hi:lo: no
   *  bigint is made until it is read, and the fields such a read always has are not stored. */
  pushMsrReadHalves(rip: number, length: number, msr: number, lo: number, hi: number): void {
    const f = this.f;
    const b = this.next() * FIELDS;
    f[b + KIND] = SLOT_MSR_READ_HALVES;
    f[b + RIP] = rip;
    f[b + LENGTH] = length;
    f[b + MSR] = msr;
    f[b + LO] = lo;
    f[b + HI] = hi;
  }

  /** The last (up to RECENT_EXITS) exits, oldest first. */
  list(): ExitRecord[] {
    const out: ExitRecord[] = [];
    for (let i = Math.max(0, this.at - RECENT_EXITS); i < this.at; i++) out.push(this.materialize(i % RECENT_EXITS));
    return out;
  }

  private materialize(i: number): ExitRecord {
    const f = this.f;
    const b = i * FIELDS;
    const kind = f[b + KIND];
    if (kind === SLOT_OBJECT) return this.objects[i]!;
    if (kind === SLOT_MSR_READ_HALVES)
      return msrExitRecord(
        EXIT_REASON.MSR_READ,
        NAME_MSR_READ,
        f[b + RIP]!,
        f[b + LENGTH]!,
        f[b + MSR]!,
        false,
        big(f[b + LO]!, f[b + HI]!),
        true,
      );
    return msrExitRecord(
      f[b + REASON]!,
      this.name[i]!,
      f[b + RIP]!,
      f[b + LENGTH]!,
      f[b + MSR]!,
      f[b + WRITE] === 1,
      this.value[i]!,
      f[b + OK] === 1,
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
