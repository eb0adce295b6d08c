/**
 * The assembler's resource limits (docs/assembler.md "Limits"): each bounds time and memory whatever
 * the input, and each error message names its limit.
 */

/** Lines after preprocessing (macro, %rep and %include expansion). */
export const MAX_LINES = 100_000;
/** Lines the preprocessor may look at, including skipped %if branches and repeated empty %rep bodies. */
export const MAX_PP_WORK = 4_000_000;
/** Tokens on one line, after %define expansion. */
export const MAX_LINE_TOKENS = 2000;
/** The count of one %rep block. */
export const MAX_REP = 1_000_000;
/** Multi-line macro calls nested inside each other. */
export const MAX_MACRO_DEPTH = 64;
/** Rounds of single-line macro (%define) expansion on one line. */
export const MAX_DEFINE_DEPTH = 32;
/** %include files nested inside each other. */
export const MAX_INCLUDE_DEPTH = 32;
/** The largest output image: the largest guest RAM `vpmu run --mem` accepts (4 GiB), also Node's
 *  largest Uint8Array; a bigger image could never be loaded. */
export const MAX_OUTPUT = 4 * 1024 * 1024 * 1024;
/** `times` repetitions encoded one by one (bodies that encode differently at each address) per line. */
export const MAX_TIMES_ENCODED = 1_000_000;
