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
// The small KVM and the vPMU (Kvm → createVm → createVcpu; setCpuid, getMsr/setMsr, setPmuEventFilter, run).
export { Kvm, Vm, mediatedUnsupported } from "./kvm/kvm.js";
export type { KvmOptions, KvmParams, KvmError } from "./kvm/kvm.js";
export { Vcpu, legacyIntercepts, msrsToSave } from "./kvm/vcpu.js";
export type { VcpuIntercepts, NativeAccess, ExitRecord, RunExit, MsrOptions, MsrGet, GuestCpu } from "./kvm/vcpu.js";
export { configureVcpu } from "./kvm/config.js";
export type { VpmuOptions, PmuMode, ConfiguredVcpu } from "./kvm/config.js";
export { vcpuGuestConfig } from "./kvm/vmm.js";
export { supportedCpuid, lookupCpuid, cpuid0a } from "./kvm/cpuid.js";
export type { CpuidEntry } from "./kvm/cpuid.js";
export { Lapic } from "./kvm/lapic.js";
export { HOST_PRESETS, HOST_PRESET_IDS, findHostPreset } from "./host/presets.js";
export type { HostPreset, HostPresetId } from "./host/presets.js";
export { KvmPmu, CODE_STATES } from "./pmu/pmu.js";
export type { CodeState, Pmc, PmuCap } from "./pmu/pmu.js";
export { MSR_CATALOGUE, findMsrRow } from "./pmu/msrs.js";
export type { MsrRow, MsrKind } from "./pmu/msrs.js";
export { ARCH_EVENTS, FIXED_SOURCES } from "./pmu/events.js";
export type { ArchEvent } from "./pmu/events.js";
export { preparePmuEventFilter, isGpEventAllowed, isFixedEventAllowed, KVM_PMU_EVENT_ALLOW, KVM_PMU_EVENT_DENY } from "./pmu/filter.js";
export type { PmuEventFilter, PmuEventFilterInput, FilterError } from "./pmu/filter.js";
export { supportedPerfCapabilities, kvmPmuCap, kvmPmuRdpmc, intelIsValidMsr } from "./pmu/intel.js";
