// Entry point of the guest CPU model: the CPU, its platform interface, the decoder and disassembler, the
// opcode table and the micro-architectural costs.
export { Cpu, StopReason, Vec } from "./cpu.js";
export type { CpuOptions, FaultRecord, TripleFaultInfo } from "./cpu.js";
export { PlatformAction } from "./platform.js";
export type { Platform, PlatformCpu, GuestEvents } from "./platform.js";
export { decode, Insn } from "./decode.js";
export { disassemble, formatInsn } from "./disasm.js";
export type { DisasmLine } from "./disasm.js";
export { BASE_CYCLES } from "./semantics.js";
export {
  L1_MISS_LLC_HIT_CYCLES,
  LLC_MISS_CYCLES,
  MISPREDICT_CYCLES,
  EVENT_DELIVERY_CYCLES,
} from "./uarch.js";
export { OPCODES, ALIASES, CC_NAMES, PRIMARY_INDEX, MAP_0F_INDEX, ROWS_BY_MNEMONIC } from "./opcodes.js";
export type { OpcodeRow, OperandKind } from "./opcodes.js";
