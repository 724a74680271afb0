/*
 * Mapping input files for zero-copy reads, and early writeback of output files. A merge reads every
 * input byte once: read() into a JS buffer copies it, a mapping reads the page cache in place.
 */
#define _GNU_SOURCE
#include "map.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A file truncated while mapped turns a read of its lost pages into SIGBUS, which kills the process with
 * no message. Every mapping is registered here, and a SIGBUS handler that finds the faulting address in
 * one replaces the rest of that mapping with zero pages (so the read completes) and marks it cut; the
 * reader then reports the file (tm_map_cut) before any value read from it reaches an output. A SIGBUS
 * outside every mapping goes to the previous handler, or kills the process as before.
 */
#define TM_MAX_MAPS 1024

static struct {
  uintptr_t base; /* 0: free slot */
  size_t length;
  volatile sig_atomic_t cut;
} maps[TM_MAX_MAPS];

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static struct sigaction previous;
static uintptr_t page_size;
static int handler_installed;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  const uintptr_t addr = (uintptr_t)info->si_addr;
  for (int i = 0; i < TM_MAX_MAPS; i++) {
    const uintptr_t base = __atomic_load_n(&maps[i].base, __ATOMIC_ACQUIRE);
    if (base == 0 || addr < base || addr >= base + maps[i].length) continue;
    const uintptr_t page = addr & ~(page_size - 1);
    /* mmap is a plain system call here; MAP_FIXED swaps the lost file pages for anonymous zero pages. */
    if (mmap((void *)page, base + maps[i].length - page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) == MAP_FAILED)
      break;
    maps[i].cut = 1;
    return;
  }
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction) previous.sa_sigaction(sig, info, context);
    return;
  }
  if (previous.sa_handler == SIG_IGN || previous.sa_handler == SIG_DFL) {
    /* Not ours: the default action, when the faulting instruction runs again. */
    signal(SIGBUS, SIG_DFL);
    return;
  }
  previous.sa_handler(sig);
}

static void install_handler(void) {
  page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  handler_installed = sigaction(SIGBUS, &sa, &previous) == 0;
}

static int register_map(void *p, size_t length) {
  int slot = -1;
  pthread_mutex_lock(&maps_lock);
  for (int i = 0; i < TM_MAX_MAPS && slot < 0; i++) {
    if (maps[i].base == 0) {
      slot = i;
      maps[i].length = length;
      maps[i].cut = 0;
      __atomic_store_n(&maps[i].base, (uintptr_t)p, __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&maps_lock);
  return slot;
}

static int slot_of(const void *base) {
  for (int i = 0; i < TM_MAX_MAPS; i++)
    if (__atomic_load_n(&maps[i].base, __ATOMIC_ACQUIRE) == (uintptr_t)base) return i;
  return -1;
}

void *tm_map_file(int fd, size_t length) {
  struct stat st;
  if (length == 0) {
    errno = EINVAL;
    return NULL;
  }
  pthread_once(&handler_once, install_handler);
  if (!handler_installed) {
    errno = ENOTSUP; /* no guard against truncation: the reader copies instead */
    return NULL;
  }
  if (fstat(fd, &st) != 0) return NULL;
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < (uint64_t)length) {
    errno = ERANGE;
    return NULL;
  }
  void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return NULL;
  if (register_map(p, length) < 0) {
    munmap(p, length);
    errno = EMFILE; /* too many mappings open: the reader copies instead */
    return NULL;
  }
  /* A merge walks each tensor front to back once. */
  madvise(p, length, MADV_SEQUENTIAL);
  return p;
}

int tm_map_cut(const void *base) {
  const int i = slot_of(base);
  return i >= 0 && maps[i].cut;
}

void tm_unmap_file(void *base, size_t length) {
  pthread_mutex_lock(&maps_lock);
  const int i = slot_of(base);
  if (i >= 0) __atomic_store_n(&maps[i].base, 0, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&maps_lock);
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
