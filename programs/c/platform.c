// platform.c — the platform as the C runtime leaves it for main(), on a KVM machine: the local APIC
// switched from its xAPIC start state to x2APIC mode by start-up (apic.c, as kvm-unit-tests'
// enable_x2apic), and the 16550 console set up as kvm-unit-tests' serial_init does (io.c). Run under
// QEMU's isa-debug-exit mapping: the pass value 0 ends the run with status 1, as QEMU would.
// vpmu: --host spr --exit-status qemu
#include "asm.h"
#include "pmu.h"
#include "vpmu.h"
#include "x86.h"

int main(void)
{
        report_prefix_push("apic");
        report(cpuid(1).c & CPUID_1_ECX_X2APIC, "CPUID.1:ECX.x2APIC");
        report_eq(rdmsr(MSR_IA32_APICBASE), 0xFEE00D00, "APIC base: x2APIC, enabled, BSP");
        report_eq(rdmsr(0x802), 0, "x2APIC ID");
        report_eq(rdmsr(0x803), 0x50014, "version 0x14, 6 LVT entries");
        report_eq(rdmsr(MSR_X2APIC_SPIV), 0xFF, "SVR: software-disabled, as after reset");
        report_eq(rdmsr(MSR_X2APIC_LVTPC), APIC_LVT_MASKED, "LVTPC masked");
        report_eq(*(volatile u32 *)0xFEE00030, 0xFFFFFFFF, "the xAPIC page reads all ones in x2APIC mode");
        report_prefix_pop();

        report_prefix_push("uart");
        report_eq(inb(COM1 + UART_LCR), 0x03, "LCR: 8N1, DLAB clear");
        report_eq(inb(COM1 + UART_IER), 0x00, "IER: no interrupts");
        report_eq(inb(COM1 + UART_FCR), 0x01, "IIR: no interrupt pending, FIFOs off");
        report_eq(inb(COM1 + UART_MCR), 0x03, "MCR: DTR, RTS");
        report_eq(inb(COM1 + UART_LSR), UART_LSR_THRE | 0x40, "LSR: THR and transmitter empty");
        outb(inb(COM1 + UART_LCR) | UART_LCR_DLAB, COM1 + UART_LCR);
        u8 dll = inb(COM1 + UART_THR), dlm = inb(COM1 + UART_IER);
        outb(inb(COM1 + UART_LCR) & ~UART_LCR_DLAB, COM1 + UART_LCR);
        report_eq(dlm << 8 | dll, 1, "divisor 1: 115200 baud");
        report_prefix_pop();
        return report_summary();
}
