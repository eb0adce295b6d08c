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

/** The interning table: ids for provenances and for owners. */
export class ProvenanceTable {
  private readonly provs: Provenance[] = [RESET_PROVENANCE];
  /** The owner id of each provenance id (read directly by per-exit checks). */
  readonly owners: number[] = [0];
  private readonly byKey = new Map<string, number>([[`${HOST_OWNER}\u0000${RESET_PROVENANCE.source}`, 0]]);
  private readonly ownerIds = new Map<string, number>([[HOST_OWNER, 0]]);
  /** The owner last asked for (the checker asks for its vCPU's at every put). */
  private lastOwner = HOST_OWNER;
  private lastOwnerId = 0;
  /** The last two provenance objects looked up by identity (VM entry and exit alternate between two). */
  private lastA: Provenance | null = null;
  private lastAId = 0;
  private lastB: Provenance | null = null;
  private lastBId = 0;

  /** The id of an owner string ("host" is 0). */
  ownerId(owner: string): number {
    if (owner === this.lastOwner) return this.lastOwnerId;
    let id = this.ownerIds.get(owner);
    if (id === undefined) this.ownerIds.set(owner, (id = this.ownerIds.size));
    this.lastOwner = owner;
    this.lastOwnerId = id;
    return id;
  }

  /** The id of (owner, source): the same pair always gets the same id. */
  id(owner: string, source: string): number {
    const key = `${owner}\u0000${source}`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.provs.length;
      this.byKey.set(key, id);
      this.provs.push({ owner, source });
      this.owners.push(this.ownerId(owner));
    }
    return id;
  }

  /** The id of a provenance object; repeated objects (the VMCS's entry/exit tags) are found by identity. */
  of(p: Provenance): number {
    if (p === this.lastA) return this.lastAId;
    if (p === this.lastB) return this.lastBId;
    const id = p === RESET_PROVENANCE ? RESET_PROV_ID : this.id(p.owner, p.source);
    this.lastB = this.lastA;
    this.lastBId = this.lastAId;
    this.lastA = p;
    this.lastAId = id;
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
