/*
 * x86.h — processor helpers: MSRs, RDPMC, CPUID, port I/O, interrupt flag. The *_safe forms return the
 * vector of the exception the instruction raised (13 for #GP), or 0 when it completed.
 */
#ifndef VPMU_X86_H
#define VPMU_X86_H

#include "vpmu.h"

#define GP_VECTOR 13
#define UD_VECTOR 6

static inline u64 rdmsr(u32 index)
{
        u32 lo, hi;
        asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
        return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 index, u64 val)
{
        asm volatile("wrmsr" : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline u64 rdpmc(u32 index)
{
        u32 lo, hi;
        asm volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
        return lo | ((u64)hi << 32);
}

/* The instruction runs with exc_fixup_rip pointing just past it: a fault resumes there (idt.c). The
 * outputs are then the registers' values from before it. */
#define SAFE_INSN(insn, ...)                                                                           \
        ({                                                                                             \
                exc_fixup_vector = 0;                                                                  \
                asm volatile("movq $1f, exc_fixup_rip(%%rip)\n\t" insn "\n\t"                          \
                             "1: movq $0, exc_fixup_rip(%%rip)" __VA_ARGS__);                          \
                (int)exc_fixup_vector;                                                                 \
        })

static inline int rdmsr_safe(u32 index, u64 *val)
{
        u32 lo = 0, hi = 0;
        int vector = SAFE_INSN("rdmsr", : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
        *val = lo | ((u64)hi << 32);
        return vector;
}

static inline int wrmsr_safe(u32 index, u64 val)
{
        return SAFE_INSN("wrmsr", : : "c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline int rdpmc_safe(u32 index, u64 *val)
{
        u32 lo = 0, hi = 0;
        int vector = SAFE_INSN("rdpmc", : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
        *val = lo | ((u64)hi << 32);
        return vector;
}

struct cpuid {
        u32 a, b, c, d;
};

static inline struct cpuid cpuid_indexed(u32 leaf, u32 subleaf)
{
        struct cpuid r;
        asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(subleaf));
        return r;
}

static inline struct cpuid cpuid(u32 leaf)
{
        return cpuid_indexed(leaf, 0);
}

static inline void outb(u8 val, u16 port)
{
        asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void outl(u32 val, u16 port)
{
        asm volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
        u8 val;
        asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
        return val;
}

static inline void irq_enable(void)
{
        asm volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
        asm volatile("cli" : : : "memory");
}

static inline void clflush(volatile void *p)
{
        asm volatile("clflush (%0)" : : "r"(p) : "memory");
}

#endif
