; vmware-backdoor.s — KVM's VMware backdoor (module parameter enable_vmware_backdoor, issue 14 item 4):
; #GP is intercepted and the emulator takes RDPMC and IN/OUT. At CPL 3 with CR4.PCE = 0, RDPMC of the
; pseudo-PMCs 0x10000-0x10002 completes (check_rdpmc's exemption; kvm_pmu_rdpmc_vmware: host TSC, real
; time, apparent time from the model's clocks), IN from port 0x5658 completes although CPL > IOPL
; (emulator_io_port_access_allowed), and RDPMC of GP0 still #GPs.
; vpmu: --vmware-backdoor
        org 0x100000
        bits 64
%include "vmware-backdoor.inc"
        lea rdx, [rel step5]
        REPORT_EQ rax, rdx, "the first #GP is RDPMC of GP0 (CPL 3, CR4.PCE = 0)"
        REPORT_EQ r15, 4, "RDPMC 0x10000, 0x10001, 0x10002 and IN from port 0x5658 completed at CPL 3"
        REPORT_INFO_HEX "host TSC (0x10000)", r8
        REPORT_INFO_HEX "real time in ns (0x10001)", r9
        REPORT_INFO_HEX "apparent time in ns (0x10002)", r10
        REPORT_INFO_HEX "IN from port 0x5658 (no device: all ones)", r11
        ; real time = TSC * 10^6 / tsc_khz: two reads a few instructions apart, so r9 > r8 * 10^6 / tsc_khz.
        cmp r9, r10
        setbe al
        movzx eax, al
        REPORT rax, "apparent time does not run behind real time"
        REPORT_SUMMARY
