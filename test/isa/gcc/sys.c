/* System access as a PMU test writes it: MSRs, PMCs, CPUID, control registers, TSC, interrupts. */
#include <stdint.h>

static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return lo | ((uint64_t)hi << 32);
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdpmc(uint32_t idx) {
  uint32_t lo, hi;
  __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(idx));
  return lo | ((uint64_t)hi << 32);
}
struct cpuid { uint32_t a, b, c, d; };
static inline struct cpuid cpuid(uint32_t leaf, uint32_t sub) {
  struct cpuid r;
  __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "0"(leaf), "2"(sub));
  return r;
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return lo | ((uint64_t)hi << 32);
}
static inline uint64_t rdtscp(uint32_t *aux) {
  uint32_t lo, hi;
  __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
  return lo | ((uint64_t)hi << 32);
}
static inline unsigned long read_cr0(void) {
  unsigned long v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
static inline void write_cr4(unsigned long v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline unsigned long read_cr4(void) {
  unsigned long v;
  __asm__ volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
static inline unsigned long save_flags(void) {
  unsigned long f;
  __asm__ volatile("pushf; pop %0" : "=rm"(f) : : "memory");
  return f;
}

int pmu_version(void) { return cpuid(0xa, 0).a & 0xff; }
int pmu_gp_counters(void) { return (cpuid(0xa, 0).a >> 8) & 0xff; }
int pmu_gp_width(void) { return (cpuid(0xa, 0).a >> 16) & 0xff; }
uint64_t pmu_gp_mask(void) { return (1ull << pmu_gp_width()) - 1; }
int has_pdcm(void) { return (cpuid(1, 0).c >> 15) & 1; }

void start_counter(int i, uint32_t event, uint32_t umask) {
  wrmsr(0x186 + i, 0);
  wrmsr(0xc1 + i, 0);
  wrmsr(0x186 + i, event | (umask << 8) | (1u << 16) | (1u << 17) | (1u << 22));
  wrmsr(0x38f, rdmsr(0x38f) | (1ull << i));
}
uint64_t stop_counter(int i) {
  wrmsr(0x38f, rdmsr(0x38f) & ~(1ull << i));
  return rdmsr(0xc1 + i);
}
uint64_t measure(void (*fn)(void), int i) {
  start_counter(i, 0xc0, 0);
  fn();
  uint64_t a = rdpmc(i), b = rdpmc((1u << 30) | 1);
  return stop_counter(i) + (a ^ b);
}
uint64_t elapsed(void) {
  uint32_t aux;
  uint64_t t0 = rdtscp(&aux);
  uint64_t t1 = rdtsc();
  return t1 - t0 + aux;
}
void enable_pce(void) { write_cr4(read_cr4() | (1ul << 8)); }
int paging_on(void) { return (read_cr0() >> 31) & 1; }
int irqs_on(void) { return (save_flags() >> 9) & 1; }
void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
void lfence(void) { __asm__ volatile("lfence" ::: "memory"); }
void mfence(void) { __asm__ volatile("mfence" ::: "memory"); }
void clflush(volatile void *p) { __asm__ volatile("clflush %0" : "+m"(*(volatile char *)p)); }
void invlpg(void *p) { __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory"); }
void vmcall(void) { __asm__ volatile("vmcall"); }
void ud2(void) { __asm__ volatile("ud2"); }
void int3(void) { __asm__ volatile("int3"); }
uint64_t xchg64(volatile uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
uint32_t fetch_add(volatile uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
int cas(volatile int *p, int o, int n) { return __sync_bool_compare_and_swap(p, o, n); }
void inc_atomic(volatile long *p) { __atomic_add_fetch(p, 1, __ATOMIC_RELAXED); }
uint64_t loops(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++) __asm__ volatile("" : "+r"(s) : "r"(i));
  return s;
}
