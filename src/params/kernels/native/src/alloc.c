/*
 * On this kind of VM a page touched for the first time costs far more than writing it (a fresh 400 MB
 * output faulted in at 0.2-0.5 GB/s, against tens of GB/s to rewrite memory the process already has),
 * and memory handed back to the kernel is faulted in afresh the next time. Typed arrays get their memory
 * from malloc, which by default serves large blocks with mmap and unmaps them on free, and trims the heap
 * top; so every merge output of a tensor-sized array paid the first-touch cost again.
 *
 * Loading the addon therefore tells glibc to serve blocks up to its maximum mmap threshold (32 MiB on
 * 64-bit) from the heap and never to trim it: memory freed by one merge (the garbage collector frees
 * typed arrays synchronously) is reused by the next without page faults. The process keeps its high-water
 * mark of heap memory, which is what a merge loop needs again anyway. Larger blocks still use mmap.
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
