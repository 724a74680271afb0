/*
 * Persistent worker threads, started on first use. One pass at a time (pass_mu serialises callers):
 * the caller publishes a job under the mutex, bumps the generation, runs part 0 itself and waits until
 * every worker has reported its part. Thread count: TIME_MERGE_THREADS, else the online CPUs (at most
 * TM_MAX_PARTS).
 */
#include "pool.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* One pass at a time: JS worker threads may call the addon concurrently, and the pool has one job slot. */
static pthread_mutex_t pass_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int threads = 0; /* 0: not started yet */
static unsigned long generation = 0;
static int pending = 0;
static struct {
  tm_range_fn fn;
  void *ctx;
  size_t n;
  int parts;
} job;

static void part_range(size_t n, int parts, int p, size_t *b, size_t *e) {
  size_t per = (n / (size_t)parts + 63) & ~(size_t)63;
  size_t lo = per * (size_t)p, hi = lo + per;
  if (lo > n) lo = n;
  if (hi > n || p == parts - 1) hi = n;
  *b = lo;
  *e = hi;
}

static void *worker(void *arg) {
  int id = (int)(size_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&start_cv, &mu);
    seen = generation;
    if (id >= job.parts) continue;
    tm_range_fn fn = job.fn;
    void *ctx = job.ctx;
    size_t b, e;
    part_range(job.n, job.parts, id, &b, &e);
    pthread_mutex_unlock(&mu);
    if (b < e) fn(ctx, b, e, id);
    pthread_mutex_lock(&mu);
    if (--pending == 0) pthread_cond_signal(&done_cv);
  }
  return NULL;
}

static int thread_count(void) {
  const char *env = getenv("TIME_MERGE_THREADS");
  long t = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
  if (t < 1) t = 1;
  if (t > TM_MAX_PARTS) t = TM_MAX_PARTS;
  return (int)t;
}

static void start_pool(void) {
  int want = thread_count();
  int started = 1;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int i = 1; i < want; i++) {
    pthread_t t;
    if (pthread_create(&t, &attr, worker, (void *)(size_t)i) != 0) break;
    started++;
  }
  pthread_attr_destroy(&attr);
  threads = started;
}

int tm_parts_for(size_t n) {
  if (n < TM_PARALLEL_MIN) return 1;
  if (threads == 0) {
    pthread_mutex_lock(&mu);
    if (threads == 0) start_pool();
    pthread_mutex_unlock(&mu);
  }
  return threads;
}

void tm_parallel(size_t n, tm_range_fn fn, void *ctx) {
  int parts = tm_parts_for(n);
  if (parts <= 1) {
    if (n > 0) fn(ctx, 0, n, 0);
    return;
  }
  pthread_mutex_lock(&pass_mu);
  pthread_mutex_lock(&mu);
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.parts = parts;
  pending = parts - 1;
  generation++;
  pthread_cond_broadcast(&start_cv);
  pthread_mutex_unlock(&mu);
  size_t b, e;
  part_range(n, parts, 0, &b, &e);
  if (b < e) fn(ctx, b, e, 0);
  pthread_mutex_lock(&mu);
  while (pending > 0) pthread_cond_wait(&done_cv, &mu);
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&pass_mu);
}
