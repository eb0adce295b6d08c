/*
 * printf.c — the console and a printf subset: conversions d i u x X c s p %, length modifiers l ll z,
 * flags 0 and -, a decimal width. The console itself (putchar, puts) is the UART, in io.c.
 */
#include "asm.h"
#include "vpmu.h"
#include "x86.h"

/* An output buffer that counts what would have been written (snprintf's return value). */
struct out {
        char *buf;
        size_t size, len;
};

static void emit(struct out *o, char c)
{
        if (o->buf == NULL)
                putchar(c);
        else if (o->len + 1 < o->size)
                o->buf[o->len] = c;
        o->len++;
}

static void pad(struct out *o, char c, int n)
{
        while (n-- > 0)
                emit(o, c);
}

/* A number in base 10 or 16, with its sign, the 0x of %p, and the field's width and padding. */
static void number(struct out *o, u64 v, bool negative, unsigned base, bool upper, const char *prefix,
                   int width, bool zero, bool left)
{
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[24];
        int n = 0;
        do {
                tmp[n++] = digits[v % base];
                v /= base;
        } while (v);
        int extra = (negative ? 1 : 0) + (int)strlen(prefix);
        int fill = width - n - extra;
        if (!left && !zero)
                pad(o, ' ', fill);
        if (negative)
                emit(o, '-');
        while (*prefix)
                emit(o, *prefix++);
        if (!left && zero)
                pad(o, '0', fill);
        while (n)
                emit(o, tmp[--n]);
        if (left)
                pad(o, ' ', fill);
}

static void format(struct out *o, const char *fmt, va_list va)
{
        for (; *fmt; fmt++) {
                if (*fmt != '%') {
                        emit(o, *fmt);
                        continue;
                }
                fmt++;
                bool zero = false, left = false;
                for (;; fmt++) {
                        if (*fmt == '0')
                                zero = true;
                        else if (*fmt == '-')
                                left = true;
                        else
                                break;
                }
                int width = 0;
                while (*fmt >= '0' && *fmt <= '9')
                        width = width * 10 + (*fmt++ - '0');
                int longs = 0;
                while (*fmt == 'l' || *fmt == 'z') {
                        longs += *fmt == 'z' ? 2 : 1;
                        fmt++;
                }
                switch (*fmt) {
                case 'd':
                case 'i': {
                        int64_t v = longs ? va_arg(va, int64_t) : va_arg(va, int);
                        u64 mag = v < 0 ? -(u64)v : (u64)v;
                        number(o, mag, v < 0, 10, false, "", width, zero, left);
                        break;
                }
                case 'u':
                case 'x':
                case 'X': {
                        u64 v = longs ? va_arg(va, u64) : va_arg(va, unsigned);
                        number(o, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', "", width, zero, left);
                        break;
                }
                case 'p':
                        number(o, (u64)va_arg(va, void *), false, 16, false, "0x", width, zero, left);
                        break;
                case 'c': {
                        int fill = width - 1;
                        if (!left)
                                pad(o, ' ', fill);
                        emit(o, (char)va_arg(va, int));
                        if (left)
                                pad(o, ' ', fill);
                        break;
                }
                case 's': {
                        const char *s = va_arg(va, const char *);
                        if (s == NULL)
                                s = "(null)";
                        int fill = width - (int)strlen(s);
                        if (!left)
                                pad(o, ' ', fill);
                        while (*s)
                                emit(o, *s++);
                        if (left)
                                pad(o, ' ', fill);
                        break;
                }
                case '%':
                        emit(o, '%');
                        break;
                case '\0':
                        return;
                default: /* not a conversion this printf knows: shown as written */
                        emit(o, '%');
                        emit(o, *fmt);
                        break;
                }
        }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list va)
{
        struct out o = { buf, size, 0 };
        format(&o, fmt, va);
        if (buf && size)
                buf[o.len < size ? o.len : size - 1] = '\0';
        return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        int n = vsnprintf(buf, size, fmt, va);
        va_end(va);
        return n;
}

int vprintf(const char *fmt, va_list va)
{
        struct out o = { NULL, 0, 0 };
        format(&o, fmt, va);
        return (int)o.len;
}

int printf(const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        int n = vprintf(fmt, va);
        va_end(va);
        return n;
}

void *memset(void *s, int c, size_t n)
{
        u8 *p = s;
        while (n--)
                *p++ = (u8)c;
        return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
        u8 *p = d;
        const u8 *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const u8 *p = a, *q = b;
        for (; n; n--, p++, q++)
                if (*p != *q)
                        return *p - *q;
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

int strcmp(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return (u8)*a - (u8)*b;
}
