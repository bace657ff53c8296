/* internal.h - shared between the core's files; not installed. */
#ifndef ALIGNBOUND_INTERNAL_H
#define ALIGNBOUND_INTERNAL_H

#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h> /* M_PI, M_LN2 */
#include <gsl/gsl_min.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdint.h>

#include "alignbound.h"

/* alloc.c: every allocation of the core goes through these (never through
 * malloc, calloc, realloc or free): the process allocator of
 * ab_set_allocator, or with the _a forms an object's own (a NULL or empty
 * allocator means the process one).  Frees and resizes take the block's size
 * as it was allocated (lua_Alloc's contract); a NULL pointer is freed as a
 * no-op.  ab_malloc_n and ab_calloc return NULL when count * size
 * overflows.  ab_alloc_large: a big scratch buffer (huge pages under libc's
 * allocator), freed with ab_free. */
void *ab_malloc(size_t bytes);
void *ab_malloc_n(size_t count, size_t size);
void *ab_calloc(size_t count, size_t size);
void *ab_realloc(void *p, size_t osize, size_t nsize);
void ab_free(void *p, size_t bytes);
void *ab_alloc_large(size_t bytes);
void *ab_malloc_a(const ab_allocator *a, size_t bytes);
void *ab_calloc_a(const ab_allocator *a, size_t count, size_t size);
void *ab_realloc_a(const ab_allocator *a, void *p, size_t osize,
                   size_t nsize);
void ab_free_a(const ab_allocator *a, void *p, size_t bytes);
const ab_allocator *ab_allocator_or_process(const ab_allocator *a);
/* GSL's workspaces, minimisers and root solvers in one block each from the
 * process allocator (never gsl_*_alloc, which mallocs): NULL when memory
 * runs out; the _free forms take NULL. */
gsl_integration_workspace *ab_quad_new(size_t limit);
void ab_quad_free(gsl_integration_workspace *w);
gsl_min_fminimizer *ab_fminimizer_new(const gsl_min_fminimizer_type *type);
void ab_fminimizer_free(gsl_min_fminimizer *s);
gsl_root_fsolver *ab_root_fsolver_new(const gsl_root_fsolver_type *type);
void ab_root_fsolver_free(gsl_root_fsolver *s);
/* Scratch of a call from a workspace (w NULL: allocated for this call and
 * freed by the _done form): a quadrature workspace of limit intervals (w's
 * own up to AB_QUAD_LIMIT), a buffer of bytes (w's, grown if needed: one
 * user at a time). */
#define AB_QUAD_LIMIT 1000
gsl_integration_workspace *ab_ws_quad(ab_workspace *w, size_t limit);
void ab_ws_quad_done(ab_workspace *w, gsl_integration_workspace *q);
void *ab_ws_buffer(ab_workspace *w, size_t bytes);
void ab_ws_buffer_done(ab_workspace *w, void *p, size_t bytes);

/* The centred cumulant and what the tilting frontier needs at one l:
 * psi(l), psi'(l), psi''(l) and kl = l psi'(l) - psi(l), the KL divergence of
 * the tilted law ref e^{l r} / Z from ref.  Each is computed without
 * cancellation (series near l = 0, the boundary gap near lambda_max). */
typedef struct {
  double psi, dpsi, d2psi, kl;
} ab_cgf;

/* gap is the distance from l to the end of the domain in l's direction
 * (lambda_max - l for l > 0, l - lambda_min for l < 0), passed separately so
 * that laws whose cumulant blows up there keep full precision. */
typedef int (*ab_cgf_fn)(const ab_tail *t, double l, double gap, ab_cgf *out);

enum {
  AB_KIND_SUBGAUSSIAN,
  AB_KIND_SUBGAMMA,
  AB_KIND_SUBEXPONENTIAL,
  AB_KIND_BOUNDED,
  AB_KIND_BOUNDED_MEAN,
  AB_KIND_GAUSSIAN,
  AB_KIND_UNIFORM,
  AB_KIND_BERNOULLI,
  AB_KIND_EXPONENTIAL,
  AB_KIND_GAMMA,
  AB_KIND_GUMBEL,
  AB_KIND_LOGISTIC,
  AB_KIND_BETA,
  AB_KIND_DISCRETE,
  AB_KIND_EMPIRICAL,
  AB_KIND_CUMULANT,
  /* heavy-tailed laws: psi(l) = +inf for every l > 0 */
  AB_KIND_STUDENT_T,
  AB_KIND_PARETO,
  /* renyi.c's private law of the best of n (never handed out) */
  AB_KIND_BON_LAW
};

#define AB_BETA_TERMS 40
#define AB_BETA_MIN 1e-8 /* smallest Beta parameter (laws.c) */
#define AB_BETA_MAX 1e15 /* largest: the range laws.c is checked on */

struct ab_tail {
  int kind;
  double par[3];      /* parameters as the user gave them */
  double mean;        /* E_ref R (NaN for classes) */
  double variance;    /* psi''(0) */
  double lmin, lmax;  /* psi is finite on (lmin, lmax), lmin <= 0 <= lmax */
  int closed_max;     /* psi(lmax) is finite and the bound may sit there */
  int closed_min;
  double sup, inf;    /* ess sup and ess inf of R - E R (+-inf if unbounded) */
  double psup, pinf;  /* probability of the atoms at sup and inf (0: none) */
  double ksup, kinf;  /* -log psup, -log pinf, the KL at which the bound
                         saturates (from the other atoms' mass when it is
                         small, so that psup = 1 - 1e-300 keeps its digits) */
  int two_sided;      /* the left tail (loss) is defined */
  ab_cgf_fn cgf;      /* NULL for a user cumulant */
  /* a user cumulant */
  ab_cumulant_fn user;
  void *user_ctx;
  /* a finite law: centred values, weights (NULL: equal), max |x| */
  size_t n;
  double *x;
  double *w;
  double xabs;
  /* series coefficients (Beta: standardised Taylor coefficients of
   * E e^{l(X-m)}; Gumbel: zeta(k)) */
  double coef[AB_BETA_TERMS];
  /* Beta: sd, the largest |l| of the series, log of the untilted
   * integral, the scale of the series variable */
  double aux[4];
  ab_allocator alloc; /* the allocator of the object and its arrays */
};

/* A finite law: atoms in x (and weights in w), tilted and walked exactly. */
static inline int ab_is_finite_law(const ab_tail *t) {
  return t->kind == AB_KIND_DISCRETE || t->kind == AB_KIND_EMPIRICAL ||
         t->kind == AB_KIND_BERNOULLI || t->kind == AB_KIND_BOUNDED_MEAN;
}

/* Probabilities summing to total are accepted (AB_PROB_TOL). */
static inline int ab_sums_to_one(double total) {
  return fabs(total - 1.0) <= AB_PROB_TOL;
}

/* The KL at which the bound on one side (side > 0: gain) saturates at the
 * extreme atom, -log of its mass (inf: no atom there). */
static inline double ab_saturation_kl(const ab_tail *t, int side) {
  double atom = side > 0 ? t->psup : t->pinf;
  return atom > 0.0 ? (side > 0 ? t->ksup : t->kinf) : INFINITY;
}

/* laws.c: the cumulant of each exact law and class. */
int ab_cgf_subgaussian(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_subgamma(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_gamma(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_uniform(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_gumbel(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_logistic(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_cgf_beta(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_beta_setup(ab_tail *t);
/* Heavy-tailed laws (Student t, Pareto): psi(0) = 0, +inf elsewhere on the
 * heavy side. */
int ab_cgf_heavy(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_gumbel_setup(ab_tail *t);

/* discrete.c: finite laws. */
int ab_cgf_discrete(const ab_tail *t, double l, double gap, ab_cgf *out);
int ab_discrete_setup(ab_tail *t, const double *values, const double *probs,
                      size_t n);
/* tails.c: a finite law in caller memory: *t, and x, w of n entries each
 * (w unused for probs == NULL); nothing to free. */
int ab_tail_discrete_in(ab_tail *t, const double *values, const double *probs,
                        size_t n, double *x, double *w);

/* frontier.c: the generic engine on one side of a tail. */
/* A warm start for a run of solves (the vector forms): the last solution and
 * the local slope d log KL / d log l there. */
typedef struct {
  int valid, side;
  double kl, lambda, slope;
} ab_hint;

int ab_frontier_bound(const ab_tail *t, int side, double kl, double *out,
                      double *lambda, ab_hint *hint);
int ab_frontier_kl_needed(const ab_tail *t, int side, double gain,
                          double *out);
int ab_frontier_variance_proxy(const ab_tail *t, double *out);
int ab_frontier_variance_proxy_side(const ab_tail *t, int side, double *out);

/* divergences.c: the normalised generator f(t) - f'(1)(t - 1) >= 0 of a
 * named family (the raw f for AB_USER), given l = log t and d = t - 1, both
 * to full precision. */
int ab_f_tilde(const ab_family *f, double l, double d, double *out);
/* v clamped to the range of a named family ([0, 1] for tv and hellinger,
 * [0, log 2] for js, [0, inf] otherwise); a user f's value unchanged. */
double ab_family_clamp(const ab_family *f, double v);
/* An internal family kind: the integrand t^alpha of the Renyi moment. */
#define AB_MOMENT 100

/* bon.c: the centred quantile Q(u) - E R of an exact law, given p = u and
 * q = 1 - u each to full precision (AB_EUNDEF for laws without one). */
int ab_quantile_centred(const ab_tail *t, double p, double q, double *out);

/* renyi.c: the Renyi certificate of ab_bon_gain for a reward whose range
 * has the given finite width (DESIGN 3.3). */
int ab_bon_renyi_certificate(const ab_tail *t, double n, double range,
                             double *out);

/* sort.c: records sorted by a double key (see ab_sort_key). */
typedef struct {
  uint64_t key;
  double a, b; /* payload */
} ab_record;
uint64_t ab_sort_key(double x);
double ab_sort_unkey(uint64_t k);
int ab_sort_records(ab_record *r, size_t n);
/* The same in caller scratch of ab_sort_scratch_bytes(n) bytes (16-byte
 * aligned): no allocation. */
size_t ab_sort_scratch_bytes(size_t n);
void ab_sort_records_in(ab_record *r, size_t n, void *scratch);
/* probs and rewards as records (key reward, a probability, b index), sorted
 * by reward; AB_ENOMEM if the sort's scratch cannot be had */
int ab_sort_law(const double *probs, const double *rewards, size_t m,
                ab_record *k);
void ab_sort_law_in(const double *probs, const double *rewards, size_t m,
                    ab_record *k, void *scratch);


/* e^x - 1 - x for |x| <= 0.5 by its Taylor series to x^17 (remainder below
 * 2e-19 of x^2/2): no exp, no branch, for the hot loops. */
static inline double ab_em1x_series(double x) {
  double q = 1.0 / 355687428096000.0;
  q = q * x + 1.0 / 20922789888000.0;
  q = q * x + 1.0 / 1307674368000.0;
  q = q * x + 1.0 / 87178291200.0;
  q = q * x + 1.0 / 6227020800.0;
  q = q * x + 1.0 / 479001600.0;
  q = q * x + 1.0 / 39916800.0;
  q = q * x + 1.0 / 3628800.0;
  q = q * x + 1.0 / 362880.0;
  q = q * x + 1.0 / 40320.0;
  q = q * x + 1.0 / 5040.0;
  q = q * x + 1.0 / 720.0;
  q = q * x + 1.0 / 120.0;
  q = q * x + 1.0 / 24.0;
  q = q * x + 1.0 / 6.0;
  q = q * x + 0.5;
  return q * x * x;
}

/* e^x - 1 - x for |x| < 1/32 by its series to x^9 (remainder below 3e-18
 * of x^2/2): half the terms of ab_em1x_series, for the tilt's passes. */
#define AB_EM1X_SHORT (1.0 / 32.0)
static inline double ab_em1x_series_short(double x) {
  double q = 1.0 / 362880.0;
  q = q * x + 1.0 / 40320.0;
  q = q * x + 1.0 / 5040.0;
  q = q * x + 1.0 / 720.0;
  q = q * x + 1.0 / 120.0;
  q = q * x + 1.0 / 24.0;
  q = q * x + 1.0 / 6.0;
  q = q * x + 0.5;
  return q * x * x;
}

/* ln 2 in two parts (fdlibm's split): the first has its low 32 bits zero,
 * so k * AB_LN2_HI is exact for |k| < 2^20. */
#define AB_LN2_HI 0x1.62e42fee00000p-1
#define AB_LN2_LO 0x1.a39ef35793c76p-33

/* e^x - 1 - x and e^x - 1 together, without cancellation for small |x|. */
static inline void ab_em1x(double x, double *em1x, double *em1) {
  if (x > -0.5 && x < 0.5) {
    *em1x = ab_em1x_series(x);
    *em1 = *em1x + x;
  } else {
    /* exp is about twice as fast as expm1 here, and for |x| >= 0.5 the
     * subtractions lose at most a few bits */
    double e = exp(x) - 1.0;
    *em1 = e;
    *em1x = e - x;
  }
}

/* Neumaier's compensated sum: value() is the sum of the terms to about one
 * ulp whatever the cancellation.  An infinite term (or an overflow) makes the
 * sum infinite: the correction is dropped once the running sum is not finite,
 * where (s - u) + term would be inf - inf = NaN. */
typedef struct {
  double s, c;
} ab_sum;

static inline void ab_sum_add(ab_sum *a, double term) {
  double u = a->s + term;
  if (isfinite(u))
    a->c += (fabs(a->s) >= fabs(term)) ? (a->s - u) + term : (term - u) + a->s;
  a->s = u;
}

static inline double ab_sum_value(const ab_sum *a) {
  return isfinite(a->s) ? a->s + a->c : a->s;
}

/* splitmix64 (Steele, Lea and Flood 2014): a bijection of 64-bit words
 * whose outputs for consecutive inputs are unrelated. */
static inline uint64_t ab_splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* xoshiro256** 1.0 (Blackman and Vigna 2018, prng.di.unimi.it): 256 bits
 * of state, period 2^256 - 1, 64-bit outputs that pass BigCrush.  The
 * generator behind ab_rng (sample.c) and the bootstrap's per-resample
 * streams (estimate.c). */
typedef struct {
  uint64_t s[4];
} ab_xoshiro;

static inline uint64_t ab_rotl64(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static inline uint64_t ab_xoshiro_next(ab_xoshiro *st) {
  uint64_t *s = st->s;
  uint64_t result = ab_rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ab_rotl64(s[3], 45);
  return result;
}

/* The state of (seed, stream): s0 = f(seed) and s1 = f(f(seed) ^ g(stream))
 * with f, g bijections, so distinct pairs give distinct states (no two
 * pairs share a sequence, unlike a 32-bit seed); s1 alone makes the first
 * output, and it depends on all 128 bits.  The states are spread over the
 * 2^256 - 1 cycle: two sequences of 2^64 draws from 2^32 pairs overlap with
 * probability below 2^-100. */
static inline void ab_xoshiro_seed(ab_xoshiro *st, uint64_t seed,
                                   uint64_t stream) {
  uint64_t a = ab_splitmix64(seed);
  uint64_t b = ab_splitmix64(stream ^ 0x6a09e667f3bcc909ull);
  st->s[0] = a;
  st->s[1] = ab_splitmix64(a ^ b);
  st->s[2] = ab_splitmix64(st->s[1] + a);
  st->s[3] = ab_splitmix64(st->s[2] + b);
  if (!(st->s[0] | st->s[1] | st->s[2] | st->s[3])) st->s[3] = 1; /* never all 0 */
}

/* pool.c: a worker pool for one call.  job(ctx, worker, item) computes item
 * (0 <= item < count) on worker (0 <= worker < threads, 0 the calling
 * thread), writing only its own results; see pool.c for progress and
 * cancellation. */
typedef int (*ab_pool_job)(void *ctx, size_t worker, size_t item);
/* the threads to use: requested (0: online cores), at most count */
unsigned ab_pool_threads(unsigned requested, size_t count);
int ab_pool_run(unsigned threads, size_t count, ab_pool_job job, void *ctx,
                ab_progress_fn progress, void *ud);
/* A vector of independent values out[i] = f(x[i]) on the pool, in blocks
 * (one item each) of ceil(n / 8) values clamped to [16, 64]: a short sweep
 * still splits into 8 items for the threads, a long one keeps a solver's
 * warm start along 64 values.  The blocks depend on n only, so a value
 * never depends on the thread count (fn must start each block afresh).
 * fn(ctx, x, len, out, &at) computes one block (at: its failing index).  Threads are started
 * only when cost * n, cost an estimate of one value's work (e.g. the atoms
 * of a finite law), reaches AB_VEC_THREADED; work NULL: one thread.
 * Progress counts values.  On failure *failed_at is the smallest failing
 * index (n on AB_ECANCEL). */
#define AB_VEC_THREADED 2e5
typedef int (*ab_vec_block)(void *ctx, const double *x, size_t n, double *out,
                            size_t *failed_at);
int ab_pool_vec(const ab_work *work, double cost, ab_vec_block fn, void *ctx,
                const double *x, size_t n, double *out, size_t *failed_at);

/* sample.c: ab_rng_gsl (alignbound.h) gives the gsl_rng behind an ab_rng. */
/* sample.c: k draws Q(V) of a quantile rule; draw(ctx, r, &v, &w) gives V
 * and 1 - V to full precision. */
typedef void (*ab_quantile_draw)(void *ctx, ab_rng *r, double *v, double *w);
int ab_sample_quantile(const ab_tail *t, ab_quantile_draw draw, void *ctx,
                       ab_rng *r, size_t k, double *out);

/* numeric.c: log(1 + x) - x to full precision (GSL), -inf at x = -1. */
double ab_log1pmx(double x);

/* log(1 + x) - x for the hot loops: the series to x^19 below |x| = 0.1
 * (remainder < 1e-17 of x^2/2), log1p(x) - x above (a few ulps). */
static inline double ab_log1pmx_fast(double x) {
  if (x > -0.1 && x < 0.1) {
    /* sum_{k>=2} (-1)^(k+1) x^k / k */
    double s = 1.0 / 19.0;
    for (int k = 18; k >= 2; k--) s = s * x + ((k & 1) ? 1.0 : -1.0) / k;
    return s * x * x;
  }
  return log1p(x) - x;
}

/* bon.c: ab_bon_policy's walk on records already sorted by reward (a: the
 * probability, b: the index into policy), total their summed mass; n > 1. */
void ab_bon_sorted(const ab_record *k, size_t m, double n, const ab_sum *total,
                   double *policy, ab_bon_summary *s);
/* tilt.c: the tilt at a finite lambda > 0 of m equally weighted rewards:
 * KL, gain, the policy (w, may be NULL) and Var_pi r. */
int ab_tilt_equal(const double *r, size_t m, double lambda, double *w,
                  double *kl, double *gain, double *variance);

#endif
