/* Bit manipulation: builtins, rotates, 128-bit shifts (SHLD/SHRD), byte swaps, masks, bitmaps. */
#include <stdint.h>

int ctz64(uint64_t v) { return v ? __builtin_ctzll(v) : 64; }
int clz32(uint32_t v) { return v ? __builtin_clz(v) : 32; }
int fls64(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }
int ffs32(int v) { return __builtin_ffs(v); }
int parity8(uint8_t v) { return __builtin_parity(v); }
uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }
uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }
uint32_t rol32(uint32_t v, unsigned n) { return (v << (n & 31)) | (v >> (-n & 31)); }
uint64_t ror64(uint64_t v, unsigned n) { return (v >> (n & 63)) | (v << (-n & 63)); }
uint16_t rol16c(uint16_t v) { return (uint16_t)((v << 3) | (v >> 13)); }
uint8_t ror8(uint8_t v, unsigned n) { return (uint8_t)((v >> (n & 7)) | (v << (-n & 7))); }
unsigned __int128 shl128(unsigned __int128 v, unsigned n) { return v << (n & 127); }
unsigned __int128 shr128(unsigned __int128 v, unsigned n) { return v >> (n & 127); }
__int128 sar128(__int128 v, unsigned n) { return v >> (n & 127); }
unsigned __int128 add128(unsigned __int128 a, unsigned __int128 b) { return a + b; }
unsigned __int128 sub128(unsigned __int128 a, unsigned __int128 b) { return a - b; }
uint64_t shld_c(uint64_t hi, uint64_t lo, unsigned n) { return n ? (hi << n) | (lo >> (64 - n)) : hi; }
uint64_t field(uint64_t v, int lo, int len) { return (v >> lo) & ((1ull << len) - 1); }
uint64_t set_field(uint64_t v, int lo, int len, uint64_t x) {
  uint64_t m = ((1ull << len) - 1) << lo;
  return (v & ~m) | ((x << lo) & m);
}
int test_bit(const unsigned long *map, unsigned n) { return (map[n / 64] >> (n % 64)) & 1; }
void set_bit(unsigned long *map, unsigned n) { map[n / 64] |= 1ul << (n % 64); }
void clear_bit(unsigned long *map, unsigned n) { map[n / 64] &= ~(1ul << (n % 64)); }
int test_and_set_bit(long nr, volatile unsigned long *addr) {
  int old;
  __asm__ volatile("lock btsq %2, %1\n\tsbb %0, %0" : "=r"(old), "+m"(*addr) : "Ir"(nr) : "memory");
  return old;
}
int popcount_loop(uint64_t v) {
  int n = 0;
  while (v) {
    v &= v - 1;
    n++;
  }
  return n;
}
int find_first_zero(const unsigned long *map, int words) {
  for (int i = 0; i < words; i++)
    if (~map[i]) return i * 64 + __builtin_ctzl(~map[i]);
  return -1;
}
int8_t sat8(int v) { return v > 127 ? 127 : v < -128 ? -128 : (int8_t)v; }
int sign(long v) { return (v > 0) - (v < 0); }
long absl(long v) { return v < 0 ? -v : v; }
unsigned min_u(unsigned a, unsigned b) { return a < b ? a : b; }
long max_l(long a, long b) { return a > b ? a : b; }
int cmp_u64(uint64_t a, uint64_t b) { return a < b; }
int16_t sx16(int8_t v) { return v; }
int64_t sx64(int32_t v) { return v; }
uint64_t zx64(uint16_t v) { return v; }
int64_t sx8_64(int8_t v) { return v; }
uint32_t mix(uint32_t h, uint32_t k) {
  k *= 0xcc9e2d51u;
  k = (k << 15) | (k >> 17);
  k *= 0x1b873593u;
  h ^= k;
  h = (h << 13) | (h >> 19);
  return h * 5 + 0xe6546b64u;
}
uint64_t hash64(const uint8_t *p, int n) {
  uint64_t h = 0xcbf29ce484222325ull;
  while (n--) h = (h ^ *p++) * 0x100000001b3ull;
  return h;
}
