; The counting body without a run header, for the TS tests that run it under every code state.
        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
%include "count-loop.inc"
