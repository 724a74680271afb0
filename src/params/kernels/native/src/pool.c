/*
 * Persistent worker threads, started on first use. One pass at a time (pass_mu serialises callers): the
 * caller publishes a job, bumps the generation, runs part 0 itself and waits until every worker has
 * reported its part. Thread count: TIME_MERGE_THREADS, else the online CPUs (at most TM_MAX_PARTS).
 *
 * Workers spin on the generation for SPIN_NS after a part before they sleep, and the caller spins while
 * it waits for the rest of its pass: a merge runs its passes a fraction of a millisecond apart, and on a
 * VM waking a sleeping thread (a halted vCPU, through the hypervisor) can cost more than a whole pass
 * (docs/benchmarks.md, "Threads").
 */
#include "pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 1000000L /* how long an idle worker keeps spinning before it sleeps */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* One pass at a time: JS worker threads may call the addon concurrently, and the pool has one job slot. */
static pthread_mutex_t pass_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static atomic_int threads = 0; /* 0: not started yet */
static atomic_ulong generation = 0;
static atomic_int pending = 0;
static atomic_int sleepers = 0;
static struct {
  tm_range_fn fn;
  void *ctx;
  size_t n;
  int parts;
  int tasks; /* n tasks, task t run by part t mod parts (tm_parallel_tasks) */
} job;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static long elapsed_ns(const struct timespec *since) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - since->tv_sec) * 1000000000L + (t.tv_nsec - since->tv_nsec);
}

static void part_range(size_t n, int parts, int p, size_t *b, size_t *e) {
  size_t per = (n / (size_t)parts + 63) & ~(size_t)63;
  size_t lo = per * (size_t)p, hi = lo + per;
  if (lo > n) lo = n;
  if (hi > n || p == parts - 1) hi = n;
  *b = lo;
  *e = hi;
}

static void run_part(int id) {
  if (job.tasks) {
    for (size_t t = (size_t)id; t < job.n; t += (size_t)job.parts) job.fn(job.ctx, t, t + 1, id);
    return;
  }
  size_t b, e;
  part_range(job.n, job.parts, id, &b, &e);
  if (b < e) job.fn(job.ctx, b, e, id);
}

/* Waits until the generation moves past `seen`: spinning first, then asleep. */
static unsigned long next_generation(unsigned long seen) {
  struct timespec since;
  clock_gettime(CLOCK_MONOTONIC, &since);
  for (unsigned i = 1;; i++) {
    unsigned long g = atomic_load_explicit(&generation, memory_order_acquire);
    if (g != seen) return g;
    cpu_relax();
    if (i % 256 == 0) {
      if (elapsed_ns(&since) > SPIN_NS) break;
      sched_yield(); /* with more threads than free cores, a spinner must not hold a core a part needs */
    }
  }
  pthread_mutex_lock(&mu);
  atomic_fetch_add(&sleepers, 1); /* seq_cst, paired with the caller's bump then sleepers load */
  unsigned long g;
  while ((g = atomic_load(&generation)) == seen) pthread_cond_wait(&start_cv, &mu);
  atomic_fetch_sub(&sleepers, 1);
  pthread_mutex_unlock(&mu);
  return g;
}

static void *worker(void *arg) {
  const int id = (int)(size_t)arg;
  unsigned long seen = 0;
  for (;;) {
    seen = next_generation(seen);
    if (id < job.parts) run_part(id);
    /* Every worker reports, even one with no part: none may still read `job` when the next is published. */
    atomic_fetch_sub_explicit(&pending, 1, memory_order_release);
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
  atomic_store(&threads, started);
}

/* The pool's thread count (the caller included), starting the pool on first use. */
static int pool_threads(void) {
  int t = atomic_load_explicit(&threads, memory_order_acquire);
  if (t == 0) {
    pthread_mutex_lock(&mu);
    if (atomic_load(&threads) == 0) start_pool();
    pthread_mutex_unlock(&mu);
    t = atomic_load(&threads);
  }
  return t;
}

int tm_parts_for(size_t n) {
  return n < TM_PARALLEL_MIN ? 1 : pool_threads();
}

/* Publishes a job to the workers, runs part 0 here and waits for the other parts. */
static void run_job(size_t n, int parts, int tasks, tm_range_fn fn, void *ctx) {
  pthread_mutex_lock(&pass_mu);
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.parts = parts;
  job.tasks = tasks;
  atomic_store(&pending, atomic_load(&threads) - 1);
  atomic_fetch_add(&generation, 1); /* seq_cst: a worker going to sleep either sees it or is seen below */
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&start_cv);
    pthread_mutex_unlock(&mu);
  }
  run_part(0);
  for (unsigned i = 1; atomic_load_explicit(&pending, memory_order_acquire) > 0; i++) {
    cpu_relax();
    if (i % 4096 == 0) sched_yield(); /* a worker descheduled mid-part: let it run */
  }
  pthread_mutex_unlock(&pass_mu);
}

void tm_parallel(size_t n, tm_range_fn fn, void *ctx) {
  int parts = tm_parts_for(n);
  if (parts <= 1) {
    if (n > 0) fn(ctx, 0, n, 0);
    return;
  }
  run_job(n, parts, 0, fn, ctx);
}

void tm_parallel_tasks(size_t count, tm_range_fn fn, void *ctx) {
  int parts = pool_threads();
  if ((size_t)parts > count) parts = (int)count;
  if (parts <= 1) {
    for (size_t t = 0; t < count; t++) fn(ctx, t, t + 1, 0);
    return;
  }
  run_job(count, parts, 1, fn, ctx);
}
