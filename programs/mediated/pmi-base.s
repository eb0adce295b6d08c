; programs/cpu/pmi.s on the mediated vPMU (BASE): the counter wraps in hardware, the host PMI arrives as an
; external-interrupt exit (reason 1, R-PMI-4), KVM requests a PMI for the vCPU and delivers it through the
; guest's LVTPC before re-entry — at the same instruction boundary as the LEGACY emulation.
; vpmu: --host spr --pmu mediated --kvm base --exits
%include "../cpu/pmi.s"
