/* A printf subset (%d %u %x %lx %llu %s %c %p, width, zero padding) over a port console: 64-bit
 * division and modulo by constants and variables, varargs, a callback for output. */
#include <stdarg.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

typedef void (*putc_fn)(void *ctx, char c);

void serial_putc(void *ctx, char c) {
  (void)ctx;
  while (!(inb(0x3fd) & 0x20)) __builtin_ia32_pause();
  outb(0x3f8, (uint8_t)c);
}

static int emit_num(putc_fn out, void *ctx, uint64_t v, unsigned base, int width, char pad, int upper) {
  char buf[32];
  int n = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    buf[n++] = digits[v % base];
    v /= base;
  } while (v);
  int total = n;
  while (width-- > n) {
    out(ctx, pad);
    total++;
  }
  while (n) out(ctx, buf[--n]);
  return total;
}

int vformat(putc_fn out, void *ctx, const char *f, va_list ap) {
  int count = 0;
  for (; *f; f++) {
    if (*f != '%') {
      out(ctx, *f);
      count++;
      continue;
    }
    f++;
    char pad = ' ';
    int width = 0, lng = 0;
    if (*f == '0') {
      pad = '0';
      f++;
    }
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    while (*f == 'l') {
      lng++;
      f++;
    }
    switch (*f) {
    case 'd': {
      int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
      if (v < 0) {
        out(ctx, '-');
        count++;
        v = -v;
      }
      count += emit_num(out, ctx, (uint64_t)v, 10, width, pad, 0);
      break;
    }
    case 'u':
      count += emit_num(out, ctx, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, 0);
      break;
    case 'x':
    case 'X':
      count += emit_num(out, ctx, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, *f == 'X');
      break;
    case 'o':
      count += emit_num(out, ctx, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 8, width, pad, 0);
      break;
    case 'p':
      count += emit_num(out, ctx, (uintptr_t)va_arg(ap, void *), 16, 16, '0', 0);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      while (*s) {
        out(ctx, *s++);
        count++;
      }
      break;
    }
    case 'c':
      out(ctx, (char)va_arg(ap, int));
      count++;
      break;
    default:
      out(ctx, '%');
      out(ctx, *f);
      count += 2;
    }
  }
  return count;
}

int printk(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vformat(serial_putc, 0, f, ap);
  va_end(ap);
  return n;
}

uint64_t udiv_var(uint64_t a, uint64_t b) { return a / b; }
int64_t sdiv_var(int64_t a, int64_t b) { return a / b; }
int64_t smod_var(int64_t a, int64_t b) { return a % b; }
uint64_t div1000(uint64_t a) { return a / 1000; }
int64_t sdiv7(int64_t a) { return a / 7; }
uint32_t umod10(uint32_t a) { return a % 10; }
int32_t sdiv_pow2(int32_t a) { return a / 16; }
uint64_t mulhi(uint64_t a, uint64_t b) { return (uint64_t)(((unsigned __int128)a * b) >> 64); }
int64_t muls(int64_t a, int64_t b) { return a * b + 3 * a - b * 12345; }
