/*
 * The vector extensions the hand-vectorised kernels (ties_lanes.c, select_bracket.c) may use, from the
 * CPU's feature bits; TIME_MERGE_SIMD=avx2|none caps the level so the tests can check every body against
 * the reference on one machine.
 */
#include "simd.h"
#include <stdlib.h>
#include <string.h>

int tm_simd_level(void) {
  int level = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx2")) {
    level = 1;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) level = 2;
  }
#endif
  const char *cap = getenv("TIME_MERGE_SIMD");
  if (cap && strcmp(cap, "none") == 0) level = 0;
  else if (cap && strcmp(cap, "avx2") == 0 && level > 1) level = 1;
  return level;
}
