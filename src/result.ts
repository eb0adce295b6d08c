/**
 * The one shape of an expected failure returned as a value (the house rule: exceptions are for bugs).
 * A leaf module below every layer: any folder may import it, it imports nothing.
 */
export type Result<T, E = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
