; RDMSR in hot loops under the LEGACY vPMU: every access exits and KVM emulates it (see rdmsr-loop.inc).
; vpmu: --host icx
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "rules.inc"
%include "rdmsr-loop.inc"
