/**
 * KVM_SET_PMU_EVENT_FILTER: validation, the plain → masked conversion and the allow/deny decisions for GP
 * and fixed counters. Facts: model.md §10; pmu.c (kvm_vm_ioctl_set_pmu_event_filter, prepare_filter_lists,
 * convert_to_masked_filter, is_masked_filter_valid, filter_contains_match, is_gp_event_allowed,
 * is_fixed_event_allowed).
 */

export const KVM_PMU_EVENT_ALLOW = 0;
export const KVM_PMU_EVENT_DENY = 1;
export const KVM_PMU_EVENT_FLAG_MASKED_EVENTS = 1;
/** KVM_PMU_EVENT_FILTER_MAX_EVENTS */
export const KVM_PMU_EVENT_FILTER_MAX_EVENTS = 300;

/** Masked-entry layout (uapi kvm.h KVM_PMU_MASKED_ENTRY_*): event 7:0 (+ AMD 35:32), match 15:8,
 *  exclude 55, mask 63:56. */
const MASKED_EVENT_SELECT = 0xffn;
const MASKED_UMASK_MATCH = 0xff00n;
const MASKED_EXCLUDE = 1n << 55n;
const MASKED_UMASK_MASK = 0xffn << 56n;
const MASKED_ENTRY_VALID_INTEL = MASKED_EVENT_SELECT | MASKED_UMASK_MATCH | MASKED_EXCLUDE | MASKED_UMASK_MASK;

/** The ioctl's argument (struct kvm_pmu_event_filter). */
export interface PmuEventFilterInput {
  readonly action: number;
  readonly flags?: number;
  readonly fixedCounterBitmap?: number;
  readonly events: readonly bigint[];
}

export interface MaskedEntry {
  readonly eventSelect: number;
  readonly umaskMatch: number;
  readonly umaskMask: number;
  readonly exclude: boolean;
}

/** The filter as KVM holds it after the ioctl. */
export interface PmuEventFilter {
  readonly action: number;
  readonly fixedCounterBitmap: number;
  readonly includes: readonly MaskedEntry[];
  readonly excludes: readonly MaskedEntry[];
}

export type FilterError = { readonly errno: "EINVAL" | "E2BIG"; readonly message: string };

/** Validate and convert (R-FLT-1, R-FLT-2). Returns the installed filter or the ioctl's error. */
export function preparePmuEventFilter(input: PmuEventFilterInput): PmuEventFilter | FilterError {
  const flags = input.flags ?? 0;
  if (input.action !== KVM_PMU_EVENT_ALLOW && input.action !== KVM_PMU_EVENT_DENY)
    return { errno: "EINVAL", message: `action ${input.action} is neither ALLOW (0) nor DENY (1)` };
  if ((flags & ~KVM_PMU_EVENT_FLAG_MASKED_EVENTS) !== 0)
    return { errno: "EINVAL", message: `unknown flag bits 0x${(flags & ~1).toString(16)}` };
  if (input.events.length > KVM_PMU_EVENT_FILTER_MAX_EVENTS)
    return {
      errno: "E2BIG",
      message: `${input.events.length} events exceed the limit of ${KVM_PMU_EVENT_FILTER_MAX_EVENTS}`,
    };
  const masked = (flags & KVM_PMU_EVENT_FLAG_MASKED_EVENTS) !== 0;
  const entries: bigint[] = [];
  for (const raw of input.events as readonly unknown[]) {
    // The ioctl takes u64 entries; a caller outside TypeScript may hand numbers or junk: EINVAL, not a throw.
    if (typeof raw !== "bigint" && !(typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0))
      return { errno: "EINVAL", message: `event entry ${String(raw)} is not a 64-bit unsigned integer` };
    const e = BigInt.asUintN(64, BigInt(raw));
    if (masked) {
      // is_masked_filter_valid: any bit outside the Intel masked-entry layout ⇒ EINVAL.
      if ((e & ~MASKED_ENTRY_VALID_INTEL) !== 0n)
        return {
          errno: "EINVAL",
          message: `masked entry 0x${e.toString(16)} has bits outside event/match/exclude/mask`,
        };
      entries.push(e);
    } else {
      // convert_to_masked_filter: entries with bits beyond event select + umask are silently dropped.
      if ((e & ~0xffffn) !== 0n) continue;
      entries.push((e & 0xffn) | (e & 0xff00n) | MASKED_UMASK_MASK);
    }
  }
  const includes: MaskedEntry[] = [];
  const excludes: MaskedEntry[] = [];
  for (const e of entries) {
    const m: MaskedEntry = {
      eventSelect: Number(e & 0xffn),
      umaskMatch: Number((e >> 8n) & 0xffn),
      umaskMask: Number((e >> 56n) & 0xffn),
      exclude: (e & MASKED_EXCLUDE) !== 0n,
    };
    (m.exclude ? excludes : includes).push(m);
  }
  return { action: input.action, fixedCounterBitmap: (input.fixedCounterBitmap ?? 0) >>> 0, includes, excludes };
}

export function isFilterError(x: PmuEventFilter | FilterError): x is FilterError {
  return (x as FilterError).errno !== undefined;
}

/** R-FLT-3: event selects equal and (umask & mask) == match; CMASK/INV/EDGE/USR/OS never compared. */
function containsMatch(list: readonly MaskedEntry[], eventSelect: number, umask: number): boolean {
  for (const m of list) if (m.eventSelect === eventSelect && (umask & m.umaskMask) === m.umaskMatch) return true;
  return false;
}

/** R-FLT-4 (is_gp_event_allowed). No filter ⇒ allowed. */
export function isGpEventAllowed(f: PmuEventFilter | null, eventSelect: number, umask: number): boolean {
  if (f === null) return true;
  const hit = containsMatch(f.includes, eventSelect, umask) && !containsMatch(f.excludes, eventSelect, umask);
  return hit ? f.action === KVM_PMU_EVENT_ALLOW : f.action === KVM_PMU_EVENT_DENY;
}

/** R-FLT-5 (is_fixed_event_allowed): only the bitmap is consulted. */
export function isFixedEventAllowed(f: PmuEventFilter | null, idx: number): boolean {
  if (f === null) return true;
  const bit = ((f.fixedCounterBitmap >>> idx) & 1) === 1;
  if (f.action === KVM_PMU_EVENT_DENY && bit) return false;
  if (f.action === KVM_PMU_EVENT_ALLOW && !bit) return false;
  return true;
}

/**
 * A filter file for `--pmu-filter` (JSON; docs/vpmu.md): the ioctl's fields with readable values.
 *   { "action": "allow" | "deny", "events": [ENTRY, …], "masked": false, "fixedCounterBitmap": 0 }
 * An ENTRY is the raw u64 KVM takes (a number or "0x…" string), or an object: unmasked
 * { "event": 0xC0, "umask": 0x00 }; masked { "event": …, "mask": …, "match": …, "exclude": false }
 * (KVM_PMU_ENCODE_MASKED_ENTRY). Pure: the caller reads the file. Errors are one sentence naming the field.
 */
export function parsePmuFilterFile(
  file: string,
  text: string,
): { ok: true; filter: PmuEventFilterInput } | { ok: false; error: string } {
  const fail = (msg: string) => ({ ok: false as const, error: `${file}: ${msg}` });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return fail("expected a JSON object with action and events");
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!["action", "events", "masked", "fixedCounterBitmap", "comment"].includes(k))
      return fail(`${k}: unknown field (expected action, events, masked, fixedCounterBitmap)`);
  if (o.action !== "allow" && o.action !== "deny") return fail(`action: expected "allow" or "deny"`);
  if (o.masked !== undefined && typeof o.masked !== "boolean") return fail("masked: expected true or false");
  const masked = o.masked === true;
  const num = (v: unknown, where: string, bits: number): bigint | string => {
    let n: bigint | null = null;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) n = BigInt(v);
    else if (typeof v === "string" && /^(0x[0-9a-f_]+|[0-9_]+)$/i.test(v.trim()))
      n = BigInt(v.trim().replace(/_/g, ""));
    if (n === null) return `${where}: expected a non-negative integer or a "0x…" string`;
    if (n >= 1n << BigInt(bits)) return `${where}: does not fit in ${bits} bits`;
    return n;
  };
  if (!Array.isArray(o.events)) return fail("events: expected an array of event entries");
  const events: bigint[] = [];
  for (let i = 0; i < o.events.length; i++) {
    const e: unknown = o.events[i];
    const where = `events[${i}]`;
    if (typeof e === "object" && e !== null && !Array.isArray(e)) {
      const f = e as Record<string, unknown>;
      const allowed = masked ? ["event", "mask", "match", "exclude"] : ["event", "umask"];
      for (const k of Object.keys(f))
        if (!allowed.includes(k))
          return fail(
            `${where}.${k}: unknown field (expected ${allowed.join(", ")}${masked ? "" : '; mask/match/exclude need "masked": true'})`,
          );
      const ev = num(f.event, `${where}.event`, 8);
      if (typeof ev === "string") return fail(ev);
      if (masked) {
        const mask = num(f.mask ?? 0xff, `${where}.mask`, 8);
        if (typeof mask === "string") return fail(mask);
        const match = num(f.match ?? 0, `${where}.match`, 8);
        if (typeof match === "string") return fail(match);
        if (f.exclude !== undefined && typeof f.exclude !== "boolean")
          return fail(`${where}.exclude: expected true or false`);
        events.push(ev | (match << 8n) | (f.exclude === true ? MASKED_EXCLUDE : 0n) | (mask << 56n));
      } else {
        const umask = num(f.umask ?? 0, `${where}.umask`, 8);
        if (typeof umask === "string") return fail(umask);
        events.push(ev | (umask << 8n));
      }
    } else {
      const raw = num(e, where, 64);
      if (typeof raw === "string") return fail(raw);
      events.push(raw);
    }
  }
  let bitmap = 0;
  if (o.fixedCounterBitmap !== undefined) {
    const b = num(o.fixedCounterBitmap, "fixedCounterBitmap", 32);
    if (typeof b === "string") return fail(b);
    bitmap = Number(b);
  }
  return {
    ok: true,
    filter: {
      action: o.action === "allow" ? KVM_PMU_EVENT_ALLOW : KVM_PMU_EVENT_DENY,
      flags: masked ? KVM_PMU_EVENT_FLAG_MASKED_EVENTS : 0,
      fixedCounterBitmap: bitmap,
      events,
    },
  };
}
