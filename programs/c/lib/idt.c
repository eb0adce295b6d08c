/*
 * idt.c — the IDT: a 64-bit interrupt gate per vector to isr.S's stubs, and the dispatch to C handlers
 * (SDM Vol. 3 §7.14.1 "64-Bit Mode IDT": 16-byte gates, type 0xE, P = 1).
 */
#include "asm.h"
#include "vpmu.h"

struct gate {
        u16 offset0, selector;
        u8 ist, type;
        u16 offset1;
        u32 offset2, reserved;
};

static struct gate idt[256] __attribute__((aligned(16)));
static handler_t handlers[256];
volatile u64 exc_fixup_rip;
volatile u64 exc_fixup_vector;
extern const u64 isr_stubs[256];

static const char *const names[32] = {
        "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "CSO", "TS", "NP", "SS", "GP", "PF", "15",
        "MF", "AC", "MC", "XM", "VE", "CP", "22", "23", "24", "25", "26", "27", "HV", "VC", "SX", "31",
};

static void set_gate(u8 vector, u64 addr)
{
        idt[vector] = (struct gate){
                .offset0 = (u16)addr,
                .selector = SEL_CODE64,
                .type = 0x8E, /* P, DPL 0, 64-bit interrupt gate: IF is cleared on entry */
                .offset1 = (u16)(addr >> 16),
                .offset2 = (u32)(addr >> 32),
        };
}

void set_idt_entry(u8 vector, void (*entry)(void))
{
        set_gate(vector, (u64)entry);
}

void handle_exception(u8 vector, handler_t handler)
{
        handlers[vector] = handler;
        set_gate(vector, isr_stubs[vector]);
}

void setup_idt(void)
{
        for (unsigned v = 0; v < 256; v++)
                set_gate((u8)v, isr_stubs[v]);
        struct __attribute__((packed)) {
                u16 limit;
                u64 base;
        } idtr = { sizeof(idt) - 1, (u64)idt };
        asm volatile("lidt %0" : : "m"(idtr));
}

void do_interrupt(struct ex_regs *regs)
{
        if (exc_fixup_rip && regs->vector < 32) {
                exc_fixup_vector = regs->vector;
                regs->rip = exc_fixup_rip;
                exc_fixup_rip = 0;
                return;
        }
        handler_t h = handlers[regs->vector];
        if (h) {
                h(regs);
                return;
        }
        if (regs->vector < 32)
                report_abort("unhandled exception %lu (#%s) at rip 0x%016lx, error code 0x%016lx", regs->vector,
                             names[regs->vector], regs->rip, regs->error_code);
        report_abort("unexpected interrupt %lu at rip 0x%016lx", regs->vector, regs->rip);
}
