/* A small persistent thread pool for splitting one array pass across cores. */
#ifndef TM_POOL_H
#define TM_POOL_H
#include <stddef.h>

/* Body of a parallel pass: process elements [begin, end) as part `part` of `parts`. */
typedef void (*tm_range_fn)(void *ctx, size_t begin, size_t end, int part);

/* Most parts a pass is split into (per-part scratch arrays are sized by it). */
#define TM_MAX_PARTS 16

/* Below this many elements a pass runs on the calling thread: waking workers costs more than it saves. */
#define TM_PARALLEL_MIN ((size_t)1 << 18)

/* How many parts a pass of n elements is split into (1 for small n). */
int tm_parts_for(size_t n);

/* Runs fn over [0, n) in tm_parts_for(n) contiguous parts (boundaries on 64-element multiples), the
 * calling thread doing part 0; returns when all parts are done. */
void tm_parallel(size_t n, tm_range_fn fn, void *ctx);

/* Runs fn(ctx, t, t + 1, part) for each task t in [0, count), spread over the pool (task t on part
 * t mod parts), for independent serial steps such as one selection per expert; returns when all are done. */
void tm_parallel_tasks(size_t count, tm_range_fn fn, void *ctx);

#endif
