; vmware-backdoor-off.s — the ring-3 steps of vmware-backdoor.s without enable_vmware_backdoor: #GP is
; not intercepted, so the first RDPMC of a pseudo-PMC at CPL 3 with CR4.PCE = 0 is the CPU's #GP.
; vpmu: --host spr
        org 0x100000
        bits 64
%include "vmware-backdoor.inc"
        lea rdx, [rel step1]
        REPORT_EQ rax, rdx, "RDPMC 0x10000 at CPL 3 with CR4.PCE = 0: #GP (no backdoor)"
        REPORT_EQ r15, 0, "no step completed"
        REPORT_SUMMARY
