/* The index cut of a top-k rule's "first `ties` elements equal to the threshold" (cut.c). */
#ifndef TM_CUT_H
#define TM_CUT_H
#include <stddef.h>

/* The index after the `ties`-th element (ties >= 1) with |x - base| == thr (|x| when base is NULL); n
 * when there are fewer. */
size_t tm_cut_after(const float *x, const float *base, size_t n, float thr, size_t ties);

#endif
