/* Which x86 vector extensions the hand-vectorised kernels may use (simd.c). */
#ifndef TM_SIMD_H
#define TM_SIMD_H

/* 0: none (portable C), 1: AVX2, 2: AVX2 and AVX-512 F/DQ/VL. What the CPU has, capped by the environment
 * variable TIME_MERGE_SIMD (none, avx2, avx512) so tests can run the narrower paths on a wider CPU. */
int tm_simd_level(void);

#endif
