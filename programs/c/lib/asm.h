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

#define CONSOLE_PORT 0xE9               /* docs/guest-abi.md "Ports" */
#define EXIT_PORT 0xF4

#endif
