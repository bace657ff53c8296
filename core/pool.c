/*
 * pool.c - a small worker pool for one call: items 0..count-1 of a job run
 * on `threads` POSIX threads (the calling thread is one of them), each item
 * exactly once, taken in turn from a shared counter.  The pool lives for the
 * call only (no global state).  A job writes item i's result to its own
 * slot, so results do not depend on which thread ran which item: callers
 * that reduce them do so afterwards in item order, and get bit-identical
 * answers for any number of threads.
 *
 * Progress and cancellation: only the calling thread calls the progress
 * callback (the host's I/O then never runs on a worker), after each item it
 * finishes and once more with done == total at the end; a non-zero return
 * stops the workers taking new items and the run returns AB_ECANCEL.  A
 * failing item stops the run too; the status returned is that of the
 * failing item with the smallest index, so that it does not depend on the
 * threads' timing.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* More threads than this are never useful here, and a bound keeps a wild
 * request from exhausting the process. */
#define POOL_MAX_THREADS 256

typedef struct {
  ab_pool_job job;
  void *ctx;
  size_t count;
  atomic_size_t next, done;
  atomic_int stop;          /* cancelled or failed: take no new items */
  pthread_mutex_t lock;     /* guards the first failure below */
  size_t fail_item;
  int fail_status;
} pool;

typedef struct {
  pool *p;
  size_t worker;
} worker_arg;

static void record_failure(pool *p, size_t item, int st) {
  pthread_mutex_lock(&p->lock);
  if (p->fail_status == AB_OK || item < p->fail_item) {
    p->fail_item = item;
    p->fail_status = st;
  }
  pthread_mutex_unlock(&p->lock);
  atomic_store(&p->stop, 1);
}

/* Take and run items until none is left or the run stops; returns 1 when an
 * item was run (so that the caller may report progress). */
static int run_one(pool *p, size_t worker) {
  if (atomic_load(&p->stop)) return 0;
  size_t i = atomic_fetch_add(&p->next, 1);
  if (i >= p->count) return 0;
  int st = p->job(p->ctx, worker, i);
  if (st) record_failure(p, i, st);
  atomic_fetch_add(&p->done, 1);
  return 1;
}

static void *worker_main(void *varg) {
  worker_arg *a = varg;
  while (run_one(a->p, a->worker)) {}
  return NULL;
}

unsigned ab_pool_threads(unsigned requested, size_t count) {
  unsigned t = requested;
  if (t == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    t = c > 0 ? (unsigned)c : 1u;
  }
  if (t > POOL_MAX_THREADS) t = POOL_MAX_THREADS;
  if (count < t) t = count > 0 ? (unsigned)count : 1u;
  return t;
}

int ab_pool_run(unsigned threads, size_t count, ab_pool_job job, void *ctx,
                ab_progress_fn progress, void *ud) {
  pool p;
  p.job = job;
  p.ctx = ctx;
  p.count = count;
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  atomic_init(&p.stop, 0);
  p.fail_item = 0;
  p.fail_status = AB_OK;
  if (pthread_mutex_init(&p.lock, NULL)) return AB_ENOMEM;
  if (threads == 0) threads = 1;
  pthread_t *tid = NULL;
  worker_arg *args = NULL;
  unsigned started = 0;
  if (threads > 1) {
    tid = ab_malloc_n(threads - 1, sizeof *tid);
    args = ab_malloc_n(threads - 1, sizeof *args);
    if (!tid || !args) {
      /* no pool: the calling thread does every item */
      ab_free(tid, (threads - 1) * sizeof *tid);
      ab_free(args, (threads - 1) * sizeof *args);
      tid = NULL;
      args = NULL;
    } else {
      for (unsigned w = 1; w < threads; w++) {
        args[started] = (worker_arg){&p, w};
        /* a thread that cannot start leaves its share to the others */
        if (pthread_create(&tid[started], NULL, worker_main, &args[started]))
          break;
        started++;
      }
    }
  }
  int cancelled = 0;
  while (run_one(&p, 0)) {
    if (progress && !cancelled &&
        progress(ud, (double)atomic_load(&p.done), (double)count)) {
      cancelled = 1;
      atomic_store(&p.stop, 1);
    }
  }
  for (unsigned w = 0; w < started; w++) pthread_join(tid[w], NULL);
  ab_free(tid, (threads - 1) * sizeof *tid);
  ab_free(args, (threads - 1) * sizeof *args);
  pthread_mutex_destroy(&p.lock);
  if (p.fail_status) return p.fail_status;
  if (cancelled) return AB_ECANCEL;
  if (progress && progress(ud, (double)count, (double)count)) return AB_ECANCEL;
  return AB_OK;
}

/* ---- a vector of independent values in blocks --------------------------- */

typedef struct {
  ab_vec_block fn;
  void *ctx;
  const double *x;
  double *out;
  size_t n, block;
  atomic_size_t first_fail; /* smallest failing index, SIZE_MAX: none */
  ab_progress_fn progress;
  void *ud;
} vec_run;

static int vec_job(void *vctx, size_t worker, size_t item) {
  vec_run *v = vctx;
  (void)worker;
  size_t lo = item * v->block;
  size_t len = v->n - lo < v->block ? v->n - lo : v->block, at = 0;
  int st = v->fn(v->ctx, v->x + lo, len, v->out + lo, &at);
  if (st) {
    size_t i = lo + at, cur = atomic_load(&v->first_fail);
    while (i < cur && !atomic_compare_exchange_weak(&v->first_fail, &cur, i)) {}
  }
  return st;
}

/* blocks done -> values done, the unit the caller's progress counts in */
static int vec_progress(void *ud, double done, double total) {
  vec_run *v = ud;
  double n = (double)v->n, d = done >= total ? n : done * (double)v->block;
  return v->progress(v->ud, d < n ? d : n, n);
}

int ab_pool_vec(const ab_work *work, double cost, ab_vec_block fn, void *ctx,
                const double *x, size_t n, double *out, size_t *failed_at) {
  vec_run v;
  v.fn = fn;
  v.ctx = ctx;
  v.x = x;
  v.out = out;
  v.n = n;
  v.block = n / 8 + (n % 8 != 0);
  if (v.block < 16) v.block = 16;
  if (v.block > 64) v.block = 64;
  size_t blocks = n / v.block + (n % v.block != 0);
  unsigned threads = ab_pool_threads(work ? work->threads : 1, blocks);
  /* a small call is not worth starting threads for (the values are the same) */
  if (cost * (double)n < AB_VEC_THREADED) threads = 1;
  v.progress = work ? work->progress : NULL;
  v.ud = work ? work->progress_ud : NULL;
  atomic_init(&v.first_fail, SIZE_MAX);
  int st = ab_pool_run(threads, blocks, vec_job, &v,
                       v.progress ? vec_progress : NULL, &v);
  if (st && failed_at)
    *failed_at = st == AB_ECANCEL ? n : atomic_load(&v.first_fail);
  return st;
}
