/*
 * Keeps the memory of freed merge outputs in the process. A page touched for the first time costs far
 * more than rewriting one (docs/benchmarks.md, "Memory"), and glibc by default serves tensor-sized blocks
 * with mmap, unmaps them on free and trims the heap top, so every merge output paid that cost again.
 * Loading the addon raises the mmap threshold to its maximum (32 MiB on 64-bit) and turns trimming off:
 * memory freed by one merge (typed arrays are freed synchronously by the GC) serves the next without page
 * faults. The process keeps its heap high-water mark, which a merge loop needs again anyway.
 */
#include "alloc.h"
#include <stdlib.h> /* defines __GLIBC__ */

#if defined(__GLIBC__)
#include <malloc.h>

void tm_keep_freed_memory(void) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
}
#else
void tm_keep_freed_memory(void) {}
#endif
