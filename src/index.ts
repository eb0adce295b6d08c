// The library's public entry point: every area's own entry point (src/<area>/index.ts) re-exported, and
// the lower layers' API by name. The CLI imports the area entry points it needs, not this file.
// Golden-output runner core (header, .out format, unified diff, reporters): golden.judge(…) etc.
export * as golden from "./golden/index.js";
// Assembler (NASM syntax → flat x86-64 binary): assemble(source, { file, include }) and its result types.
export * from "./asm/index.js";
// The guest CPU (src/isa) and the userspace VMM of the guest ABI (src/vmm).
export * from "./isa/index.js";
export * from "./vmm/index.js";
// The small KVM and the vPMU (Kvm → createVm → createVcpu; setCpuid, getMsr/setMsr, setPmuEventFilter, run).
export { Kvm, Vm, mediatedUnsupported } from "./kvm/kvm.js";
export type { KvmOptions, KvmParams, KvmError } from "./kvm/kvm.js";
export { Vcpu } from "./kvm/vcpu.js";
export { msrsToSave } from "./kvm/msr-common.js";
export type { ExitRecord, RunExit, MsrOptions, MsrGet, GuestCpu } from "./kvm/vcpu.js";
export type { X86Ops, X86Vendor } from "./kvm/x86-ops.js";
export { supportedCpuid, lookupCpuid, cpuid0a } from "./kvm/cpuid.js";
export type { CpuidEntry } from "./kvm/cpuid.js";
export { Lapic } from "./kvm/lapic.js";
export { HOST_PRESETS, HOST_PRESET_IDS, findHostPreset } from "./host/presets.js";
export type { HostPreset, HostPresetId } from "./host/presets.js";
export { KvmPmu } from "./pmu/pmu.js";
export type { Pmc, PmuCap } from "./pmu/pmu.js";
export { CODE_STATES, CODE_STATE_FEATURES, findCodeState, deriveCodeState } from "./pmu/code-states.js";
export type { CodeState, CodeStateFeatures } from "./pmu/code-states.js";
export { MSR_CATALOGUE, findMsrRow, msrCatalogueMarkdown } from "./pmu/msrs.js";
export type { MsrRow, MsrKind } from "./pmu/msrs.js";
export { ARCH_EVENTS, FIXED_SOURCES } from "./arch/arch-events.js";
export type { ArchEvent } from "./arch/arch-events.js";
export {
  isFilterError,
  parsePmuFilterFile,
  preparePmuEventFilter,
  isGpEventAllowed,
  isFixedEventAllowed,
  KVM_PMU_EVENT_ALLOW,
  KVM_PMU_EVENT_DENY,
} from "./pmu/filter.js";
export type { PmuEventFilter, PmuEventFilterInput, FilterError } from "./pmu/filter.js";
export { intelIsValidMsr, intelPmuOps } from "./pmu/intel.js";
export { supportedPerfCapabilities, kvmPmuCap } from "./pmu/capability.js";
export type { PmuOps } from "./pmu/pmu.js";
// The VMX layer: exit reasons, MSR bitmap, controls, intercept policies (legacy/base/v4/fix/JSON file), the
// physical PMU and host perf activity, the mediated context switch, isolation checks.
export { EXIT_REASON, exitReasonName } from "./arch/vmx-exit-reasons.js";
export { EXIT_REASON_ROWS as EXIT_REASON_TABLE, exitReasonRow, kvmVmxExitHandlers } from "./vmx/exit-handlers.js";
export type { ExitReasonRow } from "./vmx/exit-handlers.js";
export { MsrBitmap, MSR_TYPE_R, MSR_TYPE_W, MSR_TYPE_RW } from "./vmx/msr-bitmap.js";
export { Vmcs } from "./vmx/vmcs.js";
export { PRIMARY_CONTROLS, ENTRY_CONTROLS, EXIT_CONTROLS, VMCS_FIELDS, controlNames } from "./arch/vmx-controls.js";
export {
  BUILTIN_POLICIES,
  findPolicy,
  parsePolicyFile,
  POLICY_CONDITIONS,
  legacyPolicy,
  kernelPolicy,
} from "./vmx/policies/index.js";
export type {
  InterceptPolicy,
  InterceptPlan,
  Decision,
  MsrIntercept,
  PolicyInput,
  GuestPmuView,
  ModuleParams,
  PolicyFile,
  PolicyParse,
} from "./vmx/policies/index.js";
export { VmxLayer } from "./vmx/vmx-layer.js";
export type { SwitchRecord } from "./vmx/vmx-layer.js";
export { Vmx } from "./vmx/vmx.js";
export type { VmxOptions } from "./vmx/vmx.js";
export { PhysicalPmu, HOST_OWNER, hardwareGlobalCtrlBits } from "./host/physical-pmu.js";
export type { Provenance } from "./host/physical-pmu.js";
export { HOST_ACTIVITIES, findHostActivity, parseHostMsr, HostPerf } from "./host/activity.js";
export type { HostActivityPreset, HostMsrValue } from "./host/activity.js";
export { MediatedSwitch } from "./pmu/mediated.js";
export type { SwitchStep, MediatedConfig } from "./pmu/mediated.js";
export {
  checkAfterLoad,
  checkAfterPut,
  checkNotCounting,
  checkGuestReachable,
  reachableRegisters,
  summarizeViolations,
  formatViolation,
} from "./check/isolation.js";
export type { Violation, Invariant } from "./check/isolation.js";
export { checkNativeGlobalCtrlWrite, checkNativeRead, formatLeak } from "./check/leaks.js";
export type { LeakRecord } from "./check/leaks.js";
// The composition root (options → a ready machine, a guest on it) and the presentation of runs.
export {
  buildMachine,
  openKvm,
  setGuestPmu,
  configureVcpu,
  createMachine,
  loadGuest,
  runToEnd,
  vcpuGuestConfig,
} from "./machine/index.js";
export type {
  ConfiguredVcpu,
  GuestPmuRequest,
  Machine,
  MachineError,
  MachineOptions,
  MachineSpec,
  PmuMode,
  VpmuOptions,
} from "./machine/index.js";
export {
  formatExit,
  formatExitLog,
  formatExitsWithSwitches,
  formatRunTrace,
  runDocument,
  explainMachine,
  formatExplain,
  formatEvents,
  unifiedDiffLines,
  demoReport,
} from "./report/index.js";
export type {
  RunDocument,
  RunDocumentExit,
  RunDocumentLeak,
  ExplainReport,
  ExplainMsr,
  DemoScenario,
  Paint,
} from "./report/index.js";
// Isolation sweeps (matrix, probe and random programs, grouping into conditions, shards): sweep.expandMatrix(…) etc.
export * as sweep from "./sweep/index.js";
