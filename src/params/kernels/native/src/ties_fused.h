/* The job of one fused TIES pass (ties_fused.c), shared with its 8-lane path (ties_lanes.c). */
#ifndef TM_TIES_FUSED_H
#define TM_TIES_FUSED_H
#include "pool.h"
#include <stddef.h>
#include <stdint.h>

typedef struct {
  float *out;
  const float *base;
  const float *const *xs;
  size_t k;
  const float *thr;
  const size_t *cut;
  const double *ws, *ew;
  int method, mode;
  int fill_from_total; /* 0: use fill; 1: majority; -1: minority (sign of the total) */
  int deltas;          /* xs are task vectors already */
  int8_t fill;
  float lambda;
  int64_t totals[TM_MAX_PARTS];
  int bad[TM_MAX_PARTS]; /* a part wrote a NaN or ±Infinity */
} fused_job;

/* The merge pass over [b, e) block by block: every option, any CPU. */
void tm_ties_block_range(fused_job *j, size_t b, size_t e, int part);

/*
 * The merge pass over [b, e) 8 lanes at a time where the CPU has AVX2 and the options have a lane path
 * (election sum or count, disjoint mean or sum, at most TM_LANES_MAX_K inputs), the few elements around
 * index cuts by the block path; returns 0, having done nothing, where there is no lane path.
 */
#define TM_LANES_MAX_K 64
int tm_ties_lanes_part(fused_job *j, size_t b, size_t e, int part);

#endif
