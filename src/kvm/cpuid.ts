/**
 * The CPUID table of a vCPU (KVM_SET_CPUID2) and KVM's supported CPUID for a host (KVM_GET_SUPPORTED_CPUID),
 * limited to the leaves a PMU guest reads. Facts: SDM CPUID; arch/x86/kvm/cpuid.c (__do_cpuid_func case 0xa,
 * kvm_cpuid out-of-range rule), vmx.c vmx_set_cpu_caps (PDCM, DS/DTES64 with PEBS).
 */
import {
  CPUID_0A_EDX_ANYTHREAD_DEPRECATED,
  CPUID_1_ECX_DTES64,
  CPUID_1_ECX_HYPERVISOR,
  CPUID_1_ECX_PDCM,
  CPUID_1_ECX_X2APIC,
  CPUID_1_EBX_CLFLUSH_SIZE_64,
  CPUID_1_EDX_APIC,
  CPUID_1_EDX_CLFLUSH,
  CPUID_1_EDX_DS,
  CPUID_1_EDX_MSR,
  CPUID_1_EDX_TSC,
  CPUID_7_EBX_HLE,
  CPUID_7_EBX_RTM,
  CPUID_7_EDX_SPEC_CTRL,
  CPUID_80000001_ECX_LAHF_LM,
  CPUID_80000001_ECX_LZCNT,
  CPUID_80000001_EDX_LM,
  CPUID_80000001_EDX_NX,
  CPUID_80000001_EDX_PAGE1GB,
  CPUID_80000001_EDX_RDTSCP,
  CPUID_80000008_VIRT_BITS,
} from "../arch/cpuid.js";
import { MAXPHYADDR } from "../isa/paging.js";
import type { HostPreset } from "../host/presets.js";
import type { PmuCap } from "../pmu/pmu.js";

export interface CpuidEntry {
  readonly function: number;
  readonly index: number;
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

const GENUINE_INTEL = { ebx: 0x756e6547, edx: 0x49656e69, ecx: 0x6c65746e };

/** Leaf 0xA as KVM reports it for kvm_pmu_cap. */
export function cpuid0a(cap: PmuCap): { eax: number; ebx: number; ecx: number; edx: number } {
  if (cap.version === 0) return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  const eax = (cap.version | (cap.nGP << 8) | (cap.wGP << 16) | (cap.eventMaskLength << 24)) >>> 0;
  const edx = (cap.nFX | (cap.wFX << 5) | CPUID_0A_EDX_ANYTHREAD_DEPRECATED) >>> 0;
  return { eax, ebx: cap.eventsUnavailable >>> 0, ecx: 0, edx };
}

/**
 * KVM_GET_SUPPORTED_CPUID restricted to the modelled leaves and the feature bits the guest CPU implements.
 * `pdcm` = KVM offers PERF_CAPABILITIES; `tsx` = boot_cpu_has(HLE/RTM) (a host kernel with tsx=on).
 * Leaf 1 (kvm_set_cpu_caps CPUID_1_EDX/ECX, with EBX passed from the host by __do_cpuid_func): TSC, MSR,
 * APIC and CLFLUSH in EDX, CLFLUSH line size 8 (× 8 = 64 bytes) in EBX[15:8], x2APIC and HYPERVISOR in
 * ECX; vmx_set_cpu_caps adds PDCM with a PMU, DS/DTES64 with guest PEBS. Leaf 7.0 EBX: HLE/RTM only
 * when the host kernel kept them; EDX: SPEC_CTRL. Bits of KVM's list the model does not implement (SSE,
 * AVX, …) are left out on purpose: a guest must not choose a code path the CPU model cannot run.
 * Extended leaves (kvm_set_cpu_caps CPUID_8000_0001_ECX/EDX, __do_cpuid_func cases 0x80000000/0x80000008):
 * max extended leaf 0x80000008; 0x80000001 ECX LAHF_LM and LZCNT (ABM), EDX NX, GBPAGES, RDTSCP and LM
 * (every preset's host has them) — without LM and NX, __kvm_valid_efer refuses EFER.LME/NXE and LAHF/SAHF
 * #UD in 64-bit mode. SYSCALL (EDX bit 11), in KVM's list, is left out: the model has no SYSCALL/SYSRET
 * (they #UD). 0x80000008 EAX = physical | linear << 8 address widths: KVM passes the host's
 * x86_phys_bits; the model reports the width its paging implements (MAXPHYADDR, isa/paging.ts), so that
 * the reserved bits a guest computes from CPUID are the ones the page walk checks. 0x80000002..7 (brand
 * string, caches, invariant TSC) read 0: not modelled.
 */
export function supportedCpuid(
  host: HostPreset,
  cap: PmuCap,
  pdcm: boolean,
  pebs: boolean,
  tsx: { readonly hle: boolean; readonly rtm: boolean },
): CpuidEntry[] {
  const signature = ((host.family & 0xf) << 8) | ((host.model & 0xf) << 4) | ((host.model >> 4) << 16);
  const ecx1 =
    (CPUID_1_ECX_X2APIC | CPUID_1_ECX_HYPERVISOR | (pdcm ? CPUID_1_ECX_PDCM : 0) | (pebs ? CPUID_1_ECX_DTES64 : 0)) >>>
    0;
  const edx1 =
    (CPUID_1_EDX_TSC | CPUID_1_EDX_MSR | CPUID_1_EDX_APIC | CPUID_1_EDX_CLFLUSH | (pebs ? CPUID_1_EDX_DS : 0)) >>> 0;
  const ebx1 = CPUID_1_EBX_CLFLUSH_SIZE_64 << 8;
  const ebx7 = ((tsx.hle ? CPUID_7_EBX_HLE : 0) | (tsx.rtm ? CPUID_7_EBX_RTM : 0)) >>> 0;
  const a = cpuid0a(cap);
  return [
    { function: 0, index: 0, eax: 0xa, ...GENUINE_INTEL },
    { function: 1, index: 0, eax: signature >>> 0, ebx: ebx1, ecx: ecx1, edx: edx1 },
    { function: 7, index: 0, eax: 0, ebx: ebx7, ecx: 0, edx: CPUID_7_EDX_SPEC_CTRL >>> 0 },
    { function: 0xa, index: 0, ...a },
    { function: 0x80000000, index: 0, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 },
    { function: 0x80000001, index: 0, eax: 0, ebx: 0, ecx: EXT1_ECX, edx: EXT1_EDX },
    { function: 0x80000008, index: 0, eax: MAXPHYADDR | (CPUID_80000008_VIRT_BITS << 8), ebx: 0, ecx: 0, edx: 0 },
  ];
}

const EXT1_ECX = CPUID_80000001_ECX_LAHF_LM | CPUID_80000001_ECX_LZCNT;
const EXT1_EDX =
  (CPUID_80000001_EDX_NX | CPUID_80000001_EDX_PAGE1GB | CPUID_80000001_EDX_RDTSCP | CPUID_80000001_EDX_LM) >>> 0;

/** Leaves whose sub-leaf index matters (CPUID.7, CPUID.0xB …); others ignore ECX. */
const INDEXED = new Set([4, 7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x1f]);

/**
 * kvm_cpuid: the entry for (function, index); a basic leaf above the table's maximum returns the highest
 * basic leaf (Intel's out-of-range behaviour, KVM get_out_of_range_cpuid_entry); anything else reads 0.
 */
export function lookupCpuid(
  table: readonly CpuidEntry[],
  fn: number,
  index: number,
): { eax: number; ebx: number; ecx: number; edx: number } {
  const find = (f: number, i: number) => table.find((e) => e.function === f && (!INDEXED.has(f) || e.index === i));
  let e = find(fn, index);
  if (e === undefined) {
    const max0 = find(0, 0)?.eax ?? 0;
    const maxExt = find(0x80000000, 0)?.eax ?? 0;
    const isBasic = fn < 0x80000000;
    if ((isBasic && fn > max0) || (!isBasic && fn > maxExt && fn < 0xc0000000)) e = find(max0, index);
  }
  return e === undefined ? { eax: 0, ebx: 0, ecx: 0, edx: 0 } : { eax: e.eax, ebx: e.ebx, ecx: e.ecx, edx: e.edx };
}
