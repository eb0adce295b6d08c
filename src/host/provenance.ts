/**
 * Provenance of physical PMU register values as small integers: every distinct (owner, source) pair gets an
 * id once, and each owner string an owner id, so the register file keeps one Int32 per register and the
 * mediated switch and the leak checks compare integers on every exit (issue 16: no Map, no string work on
 * the exit path). The interning itself (a string-keyed Map) runs only when a new pair first appears.
 */

/** Who put a value into a register, and how. `owner` is "host" or "vcpu:N". */
export interface Provenance {
  readonly owner: string;
  /** e.g. "host activity topdown", "--host-msr", "load step 5", "put step 2", "guest WRMSR at rip 0x100010". */
  readonly source: string;
}

export const HOST_OWNER = "host";
export const RESET_PROVENANCE: Provenance = { owner: HOST_OWNER, source: "power-on reset" };
/** Id of RESET_PROVENANCE in every table (a register nobody wrote). */
export const RESET_PROV_ID = 0;

/** The source of a value a guest wrote with WRMSR (the leak records and the register file say the same). */
export function guestWriteSource(rip: number): string {
  return `guest WRMSR at rip 0x${rip.toString(16)}`;
}

/** Provenance objects remembered by identity (VM entry/exit tags, the host's step tags, a policy's). */
const RECENT = 8;

/** The interning table: ids for provenances and for owners. */
export class ProvenanceTable {
  private readonly provs: Provenance[] = [RESET_PROVENANCE];
  /** The owner id of each provenance id (read directly by per-exit checks). */
  readonly owners: number[] = [0];
  /** Per owner id, provenance ids by source: no key is built (issue 16: no string work per write). */
  private readonly bySource: Map<string, number>[] = [new Map([[RESET_PROVENANCE.source, 0]])];
  /** Per owner id, the ids of guestWriteSource(rip) by rip. */
  private readonly byRip: Map<number, number>[] = [];
  private readonly ownerIds = new Map<string, number>([[HOST_OWNER, 0]]);
  /** The owner last asked for (the checker asks for its vCPU's at every put). */
  private lastOwner = HOST_OWNER;
  private lastOwnerId = 0;
  /** The last RECENT provenance objects looked up by identity (a ring), and their ids. */
  private readonly recent: (Provenance | null)[] = new Array<Provenance | null>(RECENT).fill(null);
  private readonly recentIds = new Int32Array(RECENT);
  private recentNext = 0;

  /** The id of an owner string ("host" is 0). */
  ownerId(owner: string): number {
    if (owner === this.lastOwner) return this.lastOwnerId;
    let id = this.ownerIds.get(owner);
    if (id === undefined) {
      this.ownerIds.set(owner, (id = this.ownerIds.size));
      this.bySource.push(new Map());
    }
    this.lastOwner = owner;
    this.lastOwnerId = id;
    return id;
  }

  /** The id of (owner, source): the same pair always gets the same id. */
  id(owner: string, source: string): number {
    const o = this.ownerId(owner);
    const m = this.bySource[o]!;
    let id = m.get(source);
    if (id === undefined) {
      id = this.provs.length;
      m.set(source, id);
      this.provs.push({ owner, source });
      this.owners.push(o);
    }
    return id;
  }

  /** The id of (owner, guestWriteSource(rip)), with the source text built only the first time. */
  guestWrite(owner: string, rip: number): number {
    const o = this.ownerId(owner);
    let m = this.byRip[o];
    if (m === undefined) m = this.byRip[o] = new Map();
    let id = m.get(rip);
    if (id === undefined) {
      id = this.id(owner, guestWriteSource(rip));
      m.set(rip, id);
    }
    return id;
  }

  /** The id of a provenance object; repeated objects (the VMCS's entry/exit tags, the host's step tags)
   *  are found by identity. */
  of(p: Provenance): number {
    const r = this.recent;
    for (let i = 0; i < RECENT; i++) if (r[i] === p) return this.recentIds[i]!;
    const id = p === RESET_PROVENANCE ? RESET_PROV_ID : this.id(p.owner, p.source);
    const k = this.recentNext;
    r[k] = p;
    this.recentIds[k] = id;
    this.recentNext = (k + 1) % RECENT;
    return id;
  }

  get(id: number): Provenance {
    return this.provs[id]!;
  }

  /** The owner id of provenance `id`. */
  ownerOf(id: number): number {
    return this.owners[id]!;
  }
}
