/* Control flow and data: switch tables, structs, function pointers, volatile MMIO, a state machine. */
#include <stdint.h>

struct dev {
  volatile uint32_t *regs;
  uint8_t id;
  uint16_t flags;
  uint64_t count;
  struct dev *next;
  int (*handler)(struct dev *, int);
};

const char *event_name(int e) {
  switch (e) {
  case 0: return "cycles";
  case 1: return "instructions";
  case 2: return "ref-cycles";
  case 3: return "llc-refs";
  case 4: return "llc-misses";
  case 5: return "branches";
  case 6: return "branch-misses";
  case 7: return "topdown";
  case 9: return "slots";
  default: return "?";
  }
}

int classify(int op, int a, int b) {
  switch (op) {
  case 0: return a + b;
  case 1: return a - b;
  case 2: return a * b;
  case 3: return b ? a / b : 0;
  case 4: return a & b;
  case 5: return a | b;
  case 6: return a ^ b;
  case 7: return a << (b & 31);
  case 8: return a >> (b & 31);
  case 10: return a == b;
  case 11: return a < b;
  case 12: return (unsigned)a > (unsigned)b;
  default: return -1;
  }
}

static int h0(struct dev *d, int v) { return d->id + v; }
static int h1(struct dev *d, int v) { return (int)d->count - v; }
static int (*const table[])(struct dev *, int) = {h0, h1};

int dispatch(struct dev *d, int v) {
  int sum = 0;
  for (; d; d = d->next) {
    d->count++;
    if (d->handler) sum += d->handler(d, v);
    else sum += table[d->flags & 1](d, v);
  }
  return sum;
}

void mmio_write(struct dev *d, unsigned reg, uint32_t v) { d->regs[reg] = v; }
uint32_t mmio_read(struct dev *d, unsigned reg) { return d->regs[reg]; }
void apic_eoi(void) { *(volatile uint32_t *)0xfee000b0ul = 0; }
uint32_t apic_id(void) { return *(volatile uint32_t *)0xfee00020ul >> 24; }
void mmio_wait(volatile uint32_t *status, uint32_t mask) {
  while (!(*status & mask)) __asm__ volatile("pause");
}
void wr8(volatile uint8_t *p, uint8_t v) { *p = v; }
uint16_t rd16(volatile uint16_t *p) { return *p; }
uint64_t rd64(volatile uint64_t *p) { return *p; }

struct pair { int64_t a, b; };
struct pair swap_pair(struct pair p) { return (struct pair){p.b, p.a}; }
struct big { uint64_t v[8]; };
void copy_big(struct big *d, const struct big *s) { *d = *s; }
struct big make_big(uint64_t x) {
  struct big b = {{x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7}};
  return b;
}

enum state { IDLE, RUN, WAIT, DONE };
int step(enum state *s, int in) {
  switch (*s) {
  case IDLE: *s = in ? RUN : IDLE; return 0;
  case RUN: *s = in > 10 ? WAIT : RUN; return 1;
  case WAIT: *s = in < 0 ? DONE : WAIT; return 2;
  case DONE: return 3;
  }
  __builtin_unreachable();
}

void panic(void) __attribute__((noreturn));
void panic(void) {
  for (;;) __asm__ volatile("cli; hlt");
}
void check(int ok) {
  if (!ok) __builtin_trap();
}
long sum_array(const int *a, long n) {
  long s = 0;
  for (long i = 0; i < n; i++) s += a[i];
  return s;
}
int find(const int16_t *a, int n, int16_t key) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (a[mid] == key) return mid;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
unsigned char bools(int a, int b, long c) { return (a > b) | ((c != 0) << 1) | ((a == 3) << 2) | ((unsigned)b >= 9) << 3; }
