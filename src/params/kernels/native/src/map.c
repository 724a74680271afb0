/*
 * Mapping input files for zero-copy reads, and early writeback of output files. A merge reads every
 * input byte once: read() into a JS buffer copies it, a mapping reads the page cache in place.
 */
#define _GNU_SOURCE
#include "map.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *tm_map_file(int fd, size_t length) {
  struct stat st;
  if (length == 0) {
    errno = EINVAL;
    return NULL;
  }
  if (fstat(fd, &st) != 0) return NULL;
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < (uint64_t)length) {
    errno = ERANGE;
    return NULL;
  }
  void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return NULL;
  /* A merge walks each tensor front to back once. */
  madvise(p, length, MADV_SEQUENTIAL);
  return p;
}

void tm_unmap_file(void *base, size_t length) {
  munmap(base, length);
}

void tm_release_pages(void *base, size_t offset, size_t length) {
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t begin = ((uintptr_t)base + offset + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)base + offset + length) & ~(page - 1);
  if (end > begin) madvise((void *)begin, end - begin, MADV_DONTNEED);
}

void tm_start_writeback(int fd, size_t offset, size_t length) {
#ifdef SYNC_FILE_RANGE_WRITE
  sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
  (void)offset;
  (void)length;
#endif
}
