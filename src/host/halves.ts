/** 64-bit register values as two 32-bit halves (the physical PMU's and the mediated switch's Number form). */

/** The bigint of hi:lo (0n and small values without shifting). */
export function big(lo: number, hi: number): bigint {
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo >>> 0);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
