/**
 * The VMX MSR bitmap: one real 4 KiB page, one bit per MSR and access type, 1 = VM exit.
 * Facts: model.md §11.1; SDM Vol. 3 "VM-Execution Controls: MSR-Bitmap Address"; vmx.h
 * (__BUILD_VMX_MSR_BITMAP_HELPER), vmx.c (alloc_loaded_vmcs, vmx_set_intercept_for_msr).
 */

/** Byte offsets of the four 1 KiB regions (model.md §11.1 table). */
export const MSR_BITMAP_READ_LOW = 0x000;
export const MSR_BITMAP_READ_HIGH = 0x400;
export const MSR_BITMAP_WRITE_LOW = 0x800;
export const MSR_BITMAP_WRITE_HIGH = 0xc00;
export const MSR_BITMAP_SIZE = 0x1000;

/** KVM's MSR_TYPE_R / MSR_TYPE_W / MSR_TYPE_RW (vmx.h). */
export const MSR_TYPE_R = 1;
export const MSR_TYPE_W = 2;
export const MSR_TYPE_RW = 3;
export type MsrType = typeof MSR_TYPE_R | typeof MSR_TYPE_W | typeof MSR_TYPE_RW;

/**
 * Byte offset within a region for MSR `msr` plus the region base for reads, or -1 if the MSR lies
 * outside both covered ranges (0–0x1FFF and 0xC0000000–0xC0001FFF), which always exit (SDM).
 */
function regionOffset(msr: number, write: boolean): number {
  const m = msr >>> 0;
  if (m <= 0x1fff) return (write ? MSR_BITMAP_WRITE_LOW : MSR_BITMAP_READ_LOW) + (m >>> 3);
  if (m >= 0xc0000000 && m <= 0xc0001fff)
    return (write ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_READ_HIGH) + ((m & 0x1fff) >>> 3);
  return -1;
}

export class MsrBitmap {
  /** The page itself. KVM allocates it all-ones ("intercept everything", alloc_loaded_vmcs). */
  readonly bytes: Uint8Array = new Uint8Array(MSR_BITMAP_SIZE).fill(0xff);

  /** Would a RDMSR (write = false) or WRMSR (write = true) of `msr` exit, with "use MSR bitmaps" on? */
  exits(msr: number, write: boolean): boolean {
    const off = regionOffset(msr, write);
    if (off < 0) return true;
    return ((this.bytes[off] >>> (msr & 7)) & 1) === 1;
  }

  /** vmx_set_intercept_for_msr: set (intercept) or clear (pass through) the bits for the given types.
   *  MSRs outside the covered ranges have no bit: they keep exiting whatever is asked. */
  setIntercept(msr: number, type: MsrType, intercept: boolean): void {
    if (type & MSR_TYPE_R) this.setBit(msr, false, intercept);
    if (type & MSR_TYPE_W) this.setBit(msr, true, intercept);
  }

  /** Back to the all-ones state KVM starts from. */
  interceptAll(): void {
    this.bytes.fill(0xff);
  }

  private setBit(msr: number, write: boolean, intercept: boolean): void {
    const off = regionOffset(msr, write);
    if (off < 0) return;
    const bit = 1 << (msr & 7);
    this.bytes[off] = intercept ? this.bytes[off] | bit : this.bytes[off] & ~bit;
  }
}
