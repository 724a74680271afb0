/*
 * Output buffers for large merges. A fresh JS typed array is mmapped and faults in one 4 KiB page at a
 * time on first write, which on this kind of VM costs about as much as the merge itself; a 2 MiB-aligned
 * mapping advised MADV_HUGEPAGE faults once per 2 MiB. The memory is handed to JS as an external
 * ArrayBuffer and unmapped by its finalizer; where the runtime refuses external buffers, a plain
 * ArrayBuffer is returned instead.
 */
#include "alloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

typedef struct {
  void *map;
  size_t len;
} mapping;

static void unmap(napi_env env, void *data, void *hint) {
  mapping *m = hint;
  munmap(m->map, m->len);
  free(m);
}

napi_value tm_alloc_f32_buffer(napi_env env, size_t n) {
  size_t bytes = n * sizeof(float);
  napi_value buf;
  void *plain;
  if (bytes >= HUGE_PAGE) {
    size_t len = bytes + HUGE_PAGE;
    void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map != MAP_FAILED) {
      char *start = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
      madvise(start, bytes, MADV_HUGEPAGE);
      mapping *m = malloc(sizeof *m);
      if (m) {
        m->map = map;
        m->len = len;
        if (napi_create_external_arraybuffer(env, start, bytes, unmap, m, &buf) == napi_ok) return buf;
        free(m);
      }
      munmap(map, len);
      /* a pending exception from the refused external buffer would poison the fallback */
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  if (napi_create_arraybuffer(env, bytes, &plain, &buf) != napi_ok) return NULL;
  return buf;
}
