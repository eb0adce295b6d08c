// Test helper: compare two object graphs (a CPU, a whole machine) field by field, all the way down. Every own
// property of every object reached is compared — class fields no test names included — so a field that a
// reuse or a cache leaves different from a fresh object is found whatever its name. Returns the path of the
// first difference, or null.
//
// Objects are paired as they are met (a in the first graph with b in the second), so shared and cyclic
// structure must correspond too; the same object on both sides (a module's table, a preset) is equal.
// Typed arrays compare by type and contents, Maps and Sets by entries (keys as primitives or paired objects);
// functions on both sides must be the same function or have the same source (closures made by two
// instances of one class: what they capture is reached through the objects that hold the same state).

export function deepDiff(
  a: unknown,
  b: unknown,
  opts: { readonly ignore?: (path: string) => boolean } = {},
  path = "$",
  paired = new Map<object, object>(),
): string | null {
  if (Object.is(a, b) || opts.ignore?.(path) === true) return null;
  if (typeof a !== typeof b) return `${path}: ${describe(a)} vs ${describe(b)}`;
  if (typeof a === "function") {
    return String(a) === String(b) ? null : `${path}: function ${(a as { name: string }).name} differs`;
  }
  if (typeof a !== "object" || a === null || b === null) return `${path}: ${describe(a)} vs ${describe(b)}`;
  const ao = a as object,
    bo = b as object;
  const seen = paired.get(ao);
  if (seen !== undefined) return seen === bo ? null : `${path}: shared structure differs`;
  paired.set(ao, bo);
  if (Object.getPrototypeOf(ao) !== Object.getPrototypeOf(bo)) return `${path}: different classes`;
  if (ArrayBuffer.isView(ao)) {
    const x = ao as unknown as ArrayLike<number>,
      y = bo as unknown as ArrayLike<number>;
    if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${path}[${i}]: ${x[i]} vs ${y[i]}`;
    return null;
  }
  if (ao instanceof Map) {
    const bm = bo as Map<unknown, unknown>;
    if (ao.size !== bm.size) return `${path}: Map size ${ao.size} vs ${bm.size}`;
    const ak = [...ao.keys()],
      bk = [...bm.keys()];
    for (let i = 0; i < ak.length; i++) {
      const kd = deepDiff(ak[i], bk[i], opts, `${path}.key(${i})`, paired);
      if (kd !== null) return kd;
      const vd = deepDiff(ao.get(ak[i]), bm.get(bk[i]), opts, `${path}.get(${String(ak[i])})`, paired);
      if (vd !== null) return vd;
    }
    return null;
  }
  if (ao instanceof Set) {
    const as = [...ao],
      bs = [...(bo as Set<unknown>)];
    if (as.length !== bs.length) return `${path}: Set size ${as.length} vs ${bs.length}`;
    for (let i = 0; i < as.length; i++) {
      const d = deepDiff(as[i], bs[i], opts, `${path}.item(${i})`, paired);
      if (d !== null) return d;
    }
    return null;
  }
  const ak = Reflect.ownKeys(ao),
    bk = Reflect.ownKeys(bo);
  if (ak.length !== bk.length || ak.some((k, i) => k !== bk[i]))
    return `${path}: keys ${ak.map(String).join(",")} vs ${bk.map(String).join(",")}`;
  for (const k of ak) {
    const d = deepDiff(
      (ao as Record<PropertyKey, unknown>)[k],
      (bo as Record<PropertyKey, unknown>)[k],
      opts,
      `${path}.${String(k)}`,
      paired,
    );
    if (d !== null) return d;
  }
  return null;
}

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "object" && v !== null) return `[${v.constructor?.name ?? "object"}]`;
  return String(v);
}
