/**
 * How an MSR access reports back (msrs.c: the handlers' return codes, struct msr_data's value) and the
 * Number form of a guest RDMSR (PmuOps.getMsrHalves), shared by the vPMU and KVM's MSR emulation.
 */
import type { KvmPmu } from "./pmu.js";

/** An MSR value as EDX:EAX holds it: the out-parameter of a read that needs no BigInt (intel-msr-read.ts). */
export interface MsrHalves {
  lo: number;
  hi: number;
}

/** MSR indices below this may have a reader in PmuOps.getMsrHalves (the low MSR range of the VMX bitmap). */
export const MSR_HALVES_LIMIT = 0x2000;

/** A guest RDMSR of one MSR index as Numbers: true with EDX:EAX in `out` where the MSR is valid and the read
 *  succeeds; false sends the caller to isValidMsr + getMsr (the BigInt path), which then decides. */
export type MsrHalvesRead = (pmu: KvmPmu, out: MsrHalves) => boolean;

/** MSR access results as KVM's handlers return them (msrs.c): 0 ok, 1 fault/fail, unsupported. */
export const MSR_OK = 0;
export const MSR_FAIL = 1;
export const KVM_MSR_RET_UNSUPPORTED = 2;
export type MsrRet = typeof MSR_OK | typeof MSR_FAIL | typeof KVM_MSR_RET_UNSUPPORTED;

/** The value of an MSR read (struct msr_data's `data`): an out-parameter, so a read allocates nothing. */
export interface MsrData {
  data: bigint;
}
