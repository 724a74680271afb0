/* Large zeroed float32 buffers backed by transparent huge pages. */
#ifndef TM_ALLOC_H
#define TM_ALLOC_H
#include <node_api.h>
#include <stddef.h>

/* An ArrayBuffer of n zeroed floats; large ones are 2 MiB aligned and advised MADV_HUGEPAGE. */
napi_value tm_alloc_f32_buffer(napi_env env, size_t n);

#endif
