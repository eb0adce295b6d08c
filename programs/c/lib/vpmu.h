/*
 * vpmu.h — the C guest runtime (docs/c-guests.md): console, printf, kvm-unit-tests-style reports,
 * exit, exceptions and interrupts. Processor helpers are in x86.h, PMU and APIC numbers in pmu.h.
 */
#ifndef VPMU_H
#define VPMU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* Console (the 16550 UART at 0x3F8, io.c; "\n" goes out as "\r\n") and formatting: %d %i %u %x %X %lx
 * %ld %lu %llx %s %c %p %%, with a width, a 0 flag and '-' (left-justify); %p prints 0x and the
 * hexadecimal value. */
void putchar(int c);
void puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list va);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list va);

/* Reports, as kvm-unit-tests lib/report.c prints them: "PASS: <prefixes><message>" (FAIL:, SKIP:,
 * INFO:), prefixes joined by ": ", and the closing "SUMMARY: N tests[, M unexpected failures][, K
 * skipped]". report_summary() returns kvm-unit-tests' exit value: 1 on any failure, else 38 (77 >> 1)
 * when every test was skipped (or none ran), else 0 — return it from main(). Under QEMU's
 * isa-debug-exit mapping (vpmu --exit-status qemu) the run then ends with status 3, 77 or 1. */
void report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One test: PASS when value == expected; a FAIL is followed by "INFO: <prefixes><message>: expected
 * 0x…, got 0x…" (programs/lib/report.inc REPORT_EQ: C twins print the same lines). */
void report_eq(u64 value, u64 expected, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);
int report_summary(void);
/* "ABORT: <prefixes><message>", the summary (the abort counts as a failure), then exit. */
void report_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Switch the local APIC to x2APIC mode if CPUID.1:ECX.x2APIC says it exists (apic.c; start-up calls it
 * before main). Returns whether it did. */
bool enable_x2apic(void);

/* What the Multiboot loader handed over (start.S): EAX, which is 0x2BADB002 (MB_BOOT_MAGIC in asm.h),
 * and EBX, the physical address of the information block (Multiboot 0.6.96 §3.3). */
extern u64 mb_magic, mb_info;

/* End the run: a 4-byte write of the status to isa-debug-exit at port 0xF4 (io.c); vpmu run's exit status
 * is the value (--exit-status raw) or (value << 1) | 1 (--exit-status qemu). */
void exit(int status) __attribute__((noreturn));

/* The frame an exception or interrupt handler sees (isr.S): the registers at the interruption, then
 * what the CPU pushed. A handler may change any field; the interrupted code resumes with them. */
struct ex_regs {
        u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
        u64 r8, r9, r10, r11, r12, r13, r14, r15;
        u64 vector, error_code;
        u64 rip, cs, rflags, rsp, ss;
};
typedef void (*handler_t)(struct ex_regs *regs);

/* Call handler for vector (an exception 0-31, or an interrupt such as the PMI vector); NULL restores
 * the default, which is fatal for an exception (report_abort with the vector and RIP). */
void handle_exception(u8 vector, handler_t handler);
/* Point a gate straight at an assembly routine (no register save, no C): for handlers whose every
 * instruction a test counts, such as skip2_gp. */
void set_idt_entry(u8 vector, void (*entry)(void));
/* skip2_gp: resume after a 2-byte faulting instruction (the #GP of RDMSR, WRMSR, RDPMC). */
void skip2_gp(void);

/* Exception "fix-up" (kvm-unit-tests' *_safe accessors): while exc_fixup_rip is non-zero, any
 * exception resumes there (and clears it) after recording its vector in exc_fixup_vector. */
extern volatile u64 exc_fixup_rip;
extern volatile u64 exc_fixup_vector;

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
