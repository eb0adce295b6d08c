export {};
// Golden-output runner core (header, .out format, unified diff, reporters): golden.judge(…) etc.
export * as golden from "./golden/index.js";
// Assembler (NASM syntax → flat x86-64 binary): assemble(source, { file, include }) and its result types.
export { assemble } from "./asm/assemble.js";
export type { AssembleOptions, AssembleResult, AssembleOk, AssembleFailed, AsmSymbol, ListingLine } from "./asm/assemble.js";
export type { IncludeResolver } from "./asm/preprocess.js";
export { formatDiagnostic } from "./asm/diagnostics.js";
export type { Diagnostic } from "./asm/diagnostics.js";
export { OPCODES, ALIASES, CC_NAMES, PRIMARY_INDEX, MAP_0F_INDEX, ROWS_BY_MNEMONIC } from "./isa/opcodes.js";
export type { OpcodeRow, OperandKind } from "./isa/opcodes.js";
