/* A 32-bit start-up in C (-m32): build identity 4-level tables, enable PAE, set EFER.LME, turn on paging. */
#include <stdint.h>

#define PAGE_PRESENT 1u
#define PAGE_RW 2u
#define PAGE_PS 0x80u

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

static inline void wrmsr32(uint32_t msr, uint32_t lo, uint32_t hi) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi));
}
static inline uint32_t rdmsr_lo(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return lo;
}
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

void build_tables(void) {
  pml4[0] = (uint32_t)pdpt | PAGE_PRESENT | PAGE_RW;
  for (int i = 0; i < 4; i++) {
    pdpt[i] = (uint32_t)pd[i] | PAGE_PRESENT | PAGE_RW;
    for (int j = 0; j < 512; j++)
      pd[i][j] = ((uint64_t)(i * 512 + j) << 21) | PAGE_PRESENT | PAGE_RW | PAGE_PS;
  }
}

void enter_long(void) {
  uint32_t cr4, cr0;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1u << 5)));
  __asm__ volatile("mov %0, %%cr3" : : "r"((uint32_t)pml4));
  wrmsr32(0xc0000080, rdmsr_lo(0xc0000080) | (1u << 8), 0);
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 0x80000001u));
}

uint64_t add64(uint64_t a, uint64_t b) { return a + b; }
uint64_t sub64(uint64_t a, uint64_t b) { return a - b; }
uint64_t mul64(uint64_t a, uint64_t b) { return a * b; }
uint64_t shl64(uint64_t a, unsigned n) { return a << (n & 63); }
uint64_t shr64(uint64_t a, unsigned n) { return a >> (n & 63); }
int64_t sar64(int64_t a, unsigned n) { return a >> (n & 63); }
uint64_t shl64c(uint64_t a) { return a << 7; }
uint64_t shr64c(uint64_t a) { return a >> 13; }
int64_t neg64(int64_t a) { return -a; }
int lt64(int64_t a, int64_t b) { return a < b; }
int ult64(uint64_t a, uint64_t b) { return a < b; }
uint32_t mulhi32(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * b) >> 32); }
int32_t div10(int32_t a) { return a / 10; }
uint32_t udiv(uint32_t a, uint32_t b) { return a / b; }

void puts32(const char *s) {
  while (*s) outb(0x3f8, (uint8_t)*s++);
}
int main32(uint32_t magic, uint32_t *mbi) {
  if (magic != 0x2badb002) return -1;
  uint32_t mem = mbi[0] & 1 ? mbi[2] : 0;
  build_tables();
  enter_long();
  puts32(mem > 1024 ? "big\n" : "small\n");
  return (int)mem;
}
