; RDMSR in hot loops under the mediated vPMU, code state FIX: the counter reads run natively (no exit),
; GLOBAL_CTRL writes too, and the PMI of a wrap inside the loop still arrives on the next boundary: the
; pass-through WRMSR that enabled the counter ends the run slice, so KVM's budget sees it (see
; ../pmu/rdmsr-loop.inc).
; vpmu: --host spr --pmu mediated --kvm fix
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "../pmu/rules.inc"
%include "../pmu/rdmsr-loop.inc"
