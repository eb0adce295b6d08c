/**
 * Host CPU presets: the physical PMU and clocks of the Intel server parts vpmu-lab models, as one table.
 * Facts: SDM CPUID leaf 0AH / IA32_PERF_CAPABILITIES layout (model.md §3.2, §5.5). Counter counts/widths, FC3
 * and PERF_METRICS follow each generation (Hyper-Threading on); the PEBS/LBR fields of PERF_CAPABILITIES
 * are representative of the generation, and the clocks are round values chosen so reference cycles are
 * easy to predict (docs/vpmu.md) — not any particular SKU.
 */
import { MSR_LBR_INFO_0, MSR_LBR_NHM_FROM, MSR_LBR_NHM_TO } from "../arch/msr-index.js";

export type HostPresetId = "skx" | "icx" | "spr" | "gnr";

export interface HostPreset {
  readonly id: HostPresetId;
  readonly name: string;
  /** CPUID.1:EAX display family/model (used for the guest's default CPUID). */
  readonly family: number;
  readonly model: number;
  /** CPUID.0AH: architectural PMU version, GP count/width, fixed count/width, EBX vector length. */
  readonly pmuVersion: number;
  readonly nGP: number;
  readonly wGP: number;
  readonly nFX: number;
  readonly wFX: number;
  readonly eventMaskLength: number;
  /** CPUID.0AH:EBX — 1 bits are architectural events the part does NOT support. */
  readonly eventsUnavailable: number;
  /** Host IA32_PERF_CAPABILITIES (0x345). Bit 13 FW_WRITES, bit 15 PERF_METRICS. */
  readonly perfCapabilities: bigint;
  /** Fixed counter 3 (TOPDOWN.SLOTS) present: nFX ≥ 4. */
  readonly fc3: boolean;
  /** Host has IA32_PERF_METRICS (caps bit 15). */
  readonly perfMetrics: boolean;
  /** CPUID.7.0:EBX HLE (bit 4) / RTM (bit 11). */
  readonly hle: boolean;
  readonly rtm: boolean;
  /** Architectural LBRs (CPUID.7.0:EDX[19]); then the caps LBR format reads 0x3F. */
  readonly archLbr: boolean;
  /** The model-specific LBR stack as perf reports it to KVM (x86_perf_get_lbr: depth, first FROM/TO/INFO MSR;
   *  intel_pmu_lbr_init_skl for Skylake and Ice Lake server parts: 32 entries at 0x680/0x6C0/0xDC0, call-stack
   *  capable), or null on a part with architectural LBRs, where perf fills none of them for KVM. */
  readonly lbr: HostLbr | null;
  /** PEBS usable by guests: PEBS-via-EPT (x86_pmu.pebs_ept, Ice Lake and later; KVM vmx_pebs_supported). */
  readonly pebs: boolean;
  /** TSC frequency and the (fixed, turbo-free) core clock of the model, in kHz. Reference cycles
   *  (event 0x3C/0x01, FC2) tick at the TSC rate: refCycles = floor(coreCycles × tscKhz / coreKhz). */
  readonly tscKhz: number;
  readonly coreKhz: number;
  /** Topdown issue width: TOPDOWN.SLOTS (FC3, event 0xA4/0x01) = core cycles × slotsPerCycle. */
  readonly slotsPerCycle: number;
  /** VMX "load IA32_PERF_GLOBAL_CTRL" entry/exit controls and "save" exit control supported. */
  readonly vmxLoadPerfGlobalCtrl: boolean;
  /** perf reports mediated-vPMU support (PERF_PMU_CAP_MEDIATED_VPMU). */
  readonly perfMediated: boolean;
  /** X86_FEATURE_HYBRID_CPU (P-cores and E-cores with different PMUs). None of the server presets is;
   *  `hybridVariant` derives one. KVM then turns enable_pmu off (pmu.c kvm_init_pmu_capability). */
  readonly hybrid: boolean;
}

/** struct x86_pmu_lbr (perf_event.h): what x86_perf_get_lbr hands KVM. */
export interface HostLbr {
  readonly nr: number;
  readonly from: number;
  readonly to: number;
  /** 0 when the LBR format has no LBR_INFO MSRs (only format 5, LBR_FORMAT_INFO, has them). */
  readonly info: number;
  /** x86_pmu_has_lbr_callstack: KVM offers LBRs only with call-stack support (vmx_get_perf_capabilities). */
  readonly hasCallstack: boolean;
}

/** struct x86_pmu_lbr with no LBRs (a vCPU without them, lbr_desc->records.nr = 0). */
export const NO_LBR: HostLbr = { nr: 0, from: 0, to: 0, info: 0, hasCallstack: false };

/** intel_pmu_lbr_init_skl (Skylake and Ice Lake server parts). */
const SKL_LBR: HostLbr = {
  nr: 32,
  from: MSR_LBR_NHM_FROM,
  to: MSR_LBR_NHM_TO,
  info: MSR_LBR_INFO_0,
  hasCallstack: true,
};

/** One row per part. Capabilities: SKX 0x33c5 = LBR fmt 5, PEBS trap+arch-regs, PEBS fmt 3, SMM freeze,
 *  FW_WRITES; ICX adds PEBS fmt 4, baseline and PERF_METRICS; SPR/GNR: PEBS fmt 5, timing info, arch LBR. */
export const HOST_PRESETS: readonly HostPreset[] = [
  {
    id: "skx",
    name: "Skylake-SP (Xeon Scalable 1st gen)",
    family: 6,
    model: 0x55,
    pmuVersion: 4,
    nGP: 4,
    wGP: 48,
    nFX: 3,
    wFX: 48,
    eventMaskLength: 7,
    eventsUnavailable: 0,
    perfCapabilities: 0x33c5n,
    fc3: false,
    perfMetrics: false,
    hle: true,
    rtm: true,
    archLbr: false,
    lbr: SKL_LBR,
    pebs: false,
    tscKhz: 2_000_000,
    coreKhz: 3_000_000,
    slotsPerCycle: 4,
    vmxLoadPerfGlobalCtrl: true,
    perfMediated: true,
    hybrid: false,
  },
  {
    id: "icx",
    name: "Ice Lake-SP (Xeon Scalable 3rd gen)",
    family: 6,
    model: 0x6a,
    pmuVersion: 5,
    nGP: 8,
    wGP: 48,
    nFX: 4,
    wFX: 48,
    eventMaskLength: 8,
    eventsUnavailable: 0,
    perfCapabilities: 0xf4c5n,
    fc3: true,
    perfMetrics: true,
    hle: false,
    rtm: true,
    archLbr: false,
    lbr: SKL_LBR,
    pebs: true,
    tscKhz: 2_000_000,
    coreKhz: 3_000_000,
    slotsPerCycle: 5,
    vmxLoadPerfGlobalCtrl: true,
    perfMediated: true,
    hybrid: false,
  },
  {
    id: "spr",
    name: "Sapphire Rapids (Xeon Scalable 4th gen)",
    family: 6,
    model: 0x8f,
    pmuVersion: 5,
    nGP: 8,
    wGP: 48,
    nFX: 4,
    wFX: 48,
    eventMaskLength: 8,
    eventsUnavailable: 0,
    perfCapabilities: 0x2f5ffn,
    fc3: true,
    perfMetrics: true,
    hle: false,
    rtm: true,
    archLbr: true,
    lbr: null,
    pebs: true,
    tscKhz: 2_000_000,
    coreKhz: 4_000_000,
    slotsPerCycle: 6,
    vmxLoadPerfGlobalCtrl: true,
    perfMediated: true,
    hybrid: false,
  },
  {
    id: "gnr",
    name: "Granite Rapids (Xeon 6 P-core)",
    family: 6,
    model: 0xad,
    pmuVersion: 5,
    nGP: 8,
    wGP: 48,
    nFX: 4,
    wFX: 48,
    eventMaskLength: 8,
    eventsUnavailable: 0,
    perfCapabilities: 0x2f5ffn,
    fc3: true,
    perfMetrics: true,
    hle: false,
    rtm: true,
    archLbr: true,
    lbr: null,
    pebs: true,
    tscKhz: 2_000_000,
    coreKhz: 4_000_000,
    slotsPerCycle: 6,
    vmxLoadPerfGlobalCtrl: true,
    perfMediated: true,
    hybrid: false,
  },
];

export const HOST_PRESET_IDS: readonly HostPresetId[] = HOST_PRESETS.map((p) => p.id);

/** The same part reported as a hybrid CPU (X86_FEATURE_HYBRID_CPU), as on a client host with P- and E-cores:
 *  what KVM's perf capability query sees there (`--hybrid-host`). */
export function hybridVariant(p: HostPreset): HostPreset {
  return { ...p, name: `${p.name}, hybrid`, hybrid: true };
}

/** The preset with this id, or undefined (callers turn that into a rejected option). */
export function findHostPreset(id: string): HostPreset | undefined {
  return HOST_PRESETS.find((p) => p.id === id.toLowerCase());
}
