/*
 * io.c — the console and the end of a run, on the devices QEMU gives a test kernel (docs/devices.md), as
 * kvm-unit-tests' lib/x86/io.c drives them: the 16550 UART at COM1, set up on first use (divisor latch
 * for 115200 baud, 8N1, no interrupts, FIFOs off, DTR and RTS), each byte written once LSR says the
 * transmit register is empty, and "\n" sent as "\r\n"; and isa-debug-exit at port 0xF4.
 */
#include "asm.h"
#include "vpmu.h"
#include "x86.h"

static bool uart_ready;

static void uart_init(void)
{
        outb(inb(COM1 + UART_LCR) | UART_LCR_DLAB, COM1 + UART_LCR);
        outb(0x01, COM1 + UART_THR);    /* DLL: divisor 1 = 115200 baud */
        outb(0x00, COM1 + UART_IER);    /* DLM */
        outb(inb(COM1 + UART_LCR) & ~UART_LCR_DLAB, COM1 + UART_LCR);
        outb(0x00, COM1 + UART_IER);    /* no interrupts */
        outb(0x03, COM1 + UART_LCR);    /* 8 data bits, no parity, 1 stop bit */
        outb(0x00, COM1 + UART_FCR);    /* FIFOs off */
        outb(0x03, COM1 + UART_MCR);    /* DTR, RTS */
        uart_ready = true;
}

static void uart_out(char c)
{
        while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
                ;
        outb((u8)c, COM1 + UART_THR);
}

void putchar(int c)
{
        if (!uart_ready)
                uart_init();
        if (c == '\n')
                uart_out('\r');     /* a serial terminal needs the carriage return */
        uart_out((char)c);
}

void puts(const char *s)
{
        while (*s)
                putchar(*s++);
}

/* A 4-byte write of the status, as kvm-unit-tests' exit() does; the run ends there. */
void exit(int status)
{
        for (;;) {
                outl((u32)status, EXIT_PORT);
                asm volatile("cli; hlt");
        }
}
