/* asm.h — constants the assembly files share (plain #defines: included by .S and .c files). */
#ifndef VPMU_ASM_H
#define VPMU_ASM_H

#define MB_MAGIC 0x1BADB002             /* Multiboot v1 header magic */
#define MB_FLAGS 0x0                    /* no requests; bit 16 clear: load by the ELF headers */
#define MB_BOOT_MAGIC 0x2BADB002        /* EAX at the Multiboot entry */

#define SEL_CODE64 0x08
#define SEL_DATA 0x10

#define CR0_PE (1 << 0)
#define CR0_PG 0x80000000
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

#define STACK_SIZE 0x4000

/* The console: the 16550 UART at COM1 (docs/devices.md), registers at these offsets. */
#define COM1 0x3F8
#define UART_THR 0                      /* transmit holding register (write); DLL while LCR.DLAB */
#define UART_IER 1                      /* interrupt enable; DLM while LCR.DLAB */
#define UART_FCR 2                      /* FIFO control (write) */
#define UART_LCR 3                      /* line control; bit 7 DLAB */
#define UART_MCR 4                      /* modem control */
#define UART_LSR 5                      /* line status; bit 5 THR empty */
#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE 0x20

/* isa-debug-exit (-device isa-debug-exit,iobase=0xf4,iosize=4): QEMU exits with (v << 1) | 1. */
#define EXIT_PORT 0xF4

/* The local APIC (SDM Vol. 3 §12.12 "Extended XAPIC (x2APIC)"). */
#define MSR_IA32_APICBASE 0x1B
#define APIC_BASE_EXTD (1 << 10)        /* x2APIC mode */
#define APIC_BASE_EN (1 << 11)          /* xAPIC global enable */
#define CPUID_1_ECX_X2APIC (1 << 21)

#endif
