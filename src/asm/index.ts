// Entry point of the assembler (NASM syntax → flat x86-64 binary): assemble(source, { file, include }),
// its diagnostics and listing/symbol-map formatting.
export { assemble } from "./assemble.js";
export type {
  AssembleOptions,
  AssembleResult,
  Assembly,
  AsmSymbol,
  ListingLine,
} from "./assemble.js";
export type { IncludeResolver } from "./preprocess.js";
export { formatDiagnostic } from "./diagnostics.js";
export type { Diagnostic } from "./diagnostics.js";
export { formatListing, symbolMap } from "./listing.js";
export type { SymbolMapEntry } from "./listing.js";
export { disassembleChecked, listingSource, listingHeader } from "./checked-disasm.js";
export type { CheckedLine } from "./checked-disasm.js";
