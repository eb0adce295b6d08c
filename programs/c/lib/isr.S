/*
 * isr.S — one entry stub per IDT vector, and the common path into C (idt.c do_interrupt).
 *
 * In 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for vectors 8, 10-14, 17, 21, 29 and 30,
 * an error code (SDM Vol. 3 §7.14 "Exception and Interrupt Handling in 64-bit Mode", Table 7-1). Each
 * stub pushes a 0 for the vectors without one, then the vector, so every frame has one layout:
 * struct ex_regs in vpmu.h, lowest address first.
 */
        .intel_syntax noprefix
        .text

        .altmacro
.macro STUB vec
        .balign 16
isr_\vec:
        .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
        .else
        push 0
        .endif
        push \vec
        jmp isr_common
.endm

.macro STUB_ADDR vec
        .quad isr_\vec
.endm

        .set vec, 0
        .rept 256
        STUB %vec
        .set vec, vec + 1
        .endr

/* The frame is then 7 + 15 quadwords = 176 bytes above an RSP the CPU aligned to 16 before pushing
 * (SDM §7.14.2): the call below is made with RSP 16-byte aligned, as the System V ABI wants. */
isr_common:
        push r15
        push r14
        push r13
        push r12
        push r11
        push r10
        push r9
        push r8
        push rdi
        push rsi
        push rbp
        push rbx
        push rdx
        push rcx
        push rax
        mov rdi, rsp
        cld
        call do_interrupt
        pop rax
        pop rcx
        pop rdx
        pop rbx
        pop rbp
        pop rsi
        pop rdi
        pop r8
        pop r9
        pop r10
        pop r11
        pop r12
        pop r13
        pop r14
        pop r15
        add rsp, 16                     /* vector and error code */
        iretq

/* isr_stubs[v]: the address of vector v's stub (idt.c fills the gates from it). */
        .section .rodata
        .balign 8
        .globl isr_stubs
isr_stubs:
        .set vec, 0
        .rept 256
        STUB_ADDR %vec
        .set vec, vec + 1
        .endr

/* skip2_gp: a raw #GP handler for counting tests — resume after a 2-byte RDMSR/WRMSR/RDPMC in three
 * instructions, so a count that includes the handler stays exact (programs/pmu/counting.s skip_gp). */
        .text
        .globl skip2_gp
skip2_gp:
        add rsp, 8
        add qword ptr [rsp], 2
        iretq

/* No executable stack (ld warns about objects without this note). */
        .section .note.GNU-stack, "", @progbits
