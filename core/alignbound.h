/*
 * alignbound.h - the public C API of libalignbound.
 *
 * Information-theoretic limits of policy alignment: how much reward an aligned
 * policy can gain over its reference policy for a given KL budget, under a tail
 * assumption on the reward.  Conventions (see README.md):
 *   - logarithms are natural, divergences are in nats;
 *   - gain(pi) = E_pi[r] - E_ref[r]; divergences are D(aligned || reference);
 *   - psi(l) = log E_ref exp(l (R - E_ref R)) is the centred cumulant.
 *
 * Every function returns AB_OK or an AB_E... status; ab_strerror() names it.
 * No function aborts, and the library holds no global mutable state: objects
 * may be shared read-only between threads.  Call ab_init() once per process
 * before anything else (it turns GSL's abort-on-error handler off), and
 * ab_set_allocator() next if the host wants the core's memory (see Memory
 * below; both are process-wide configuration, set once).
 *
 * The header works from C and C++ (extern "C").  Link with pkg-config
 * alignbound (add --static for libalignbound.a); a host that embeds Lua
 * opens the module with alignbound_lua.h (pkg-config alignbound-lua).
 * README.md, "Embed from C", shows both.
 */
#ifndef ALIGNBOUND_H
#define ALIGNBOUND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version: ab.version in Lua, pkg-config --modversion alignbound; the
 * shared library is libalignbound.so.VERSION with the SONAME
 * libalignbound.so.MAJOR.  The numbers spell AB_VERSION. */
#define AB_VERSION "0.1.0"
#define ALIGNBOUND_VERSION AB_VERSION
#define ALIGNBOUND_VERSION_MAJOR 0
#define ALIGNBOUND_VERSION_MINOR 1
#define ALIGNBOUND_VERSION_PATCH 0

/* Status codes. */
enum {
  AB_OK = 0,
  AB_EDOM,     /* an argument is outside its domain (NaN, negative, ...) */
  AB_ENOMEM,   /* out of memory */
  AB_ENOCONV,  /* a numerical solve did not converge */
  AB_EFUNC,    /* a user-supplied function failed or returned NaN */
  AB_EGSL,     /* a GSL special function reported an error */
  AB_EUNDEF,   /* the quantity is not defined for this tail (e.g. the loss of
                  a right-tail-only class) */
  AB_EIO,      /* a file could not be opened or read */
  AB_EPARSE,   /* a file could not be parsed */
  AB_ENEGCUM,  /* a user cumulant returned a negative value (a centred
                  cumulant is >= 0) */
  AB_ERANGE,   /* values too large: their spread or variance overflows */
  AB_ECANCEL   /* the progress callback asked the run to stop */
};

/* Progress of a long computation: called with the work done so far and the
 * total (same units, done == total at the end); returning non-zero cancels
 * the run, which then frees what it holds and returns AB_ECANCEL.  Called
 * on the calling thread only. */
typedef int (*ab_progress_fn)(void *ud, double done, double total);

/* How a long computation runs: `threads` POSIX threads (0: every online
 * core), and a progress callback (NULL: none) with its user data.  Results
 * are bit-identical for any number of threads (each item is computed by one
 * thread, and reductions run in item order). */
typedef struct {
  unsigned threads;
  ab_progress_fn progress;
  void *progress_ud;
} ab_work;

/* Human-readable name of a status code (static string). */
const char *ab_strerror(int status);

/* Library version string, AB_VERSION. */
const char *ab_version(void);

/* Process-wide setup: turns GSL's error handler off so that GSL reports
 * statuses instead of aborting.  Runs once per process (later calls do
 * nothing, so a handler the host installs afterwards stays); safe to call
 * from several threads at once.  luaopen_alignbound_core calls it. */
void ab_init(void);

/* ------------------------------------------------------------------------ */
/* Memory.  Every allocation the core makes itself goes through an allocator
 * with the contract of Lua's lua_Alloc (a lua_Alloc can be passed as it is):
 *   alloc(ud, NULL, tag, n)       allocates n > 0 bytes (tag: any value);
 *   alloc(ud, p, osize, n)        resizes the block p of osize bytes to n;
 *   alloc(ud, p, osize, 0)        frees it and returns NULL.
 * A NULL return for n > 0 is a failure: the call returns AB_ENOMEM having
 * freed everything it had taken.  The core never asks for 0 bytes and always
 * passes a block's true size back.
 * GSL allocates a few objects itself with malloc, which no hook reaches: the
 * quadrature workspaces, root finders and minimisers of the numerical
 * routines, Walker tables for weighted sampling and the fit's matrices
 * (README.md, "Embedding", lists which calls). */
typedef void *(*ab_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* An allocator and its user data.  alloc == NULL means the process
 * allocator. */
typedef struct {
  ab_alloc_fn alloc;
  void *ud;
} ab_allocator;

/* A workspace: scratch that outlives a call, for hot loops.  The _ws forms
 * below (w NULL: the plain form) take from it what they would otherwise
 * allocate per call: a quadrature workspace (made with the workspace) and a
 * buffer that grows to the largest law seen; ab_workspace_reserve sizes it
 * in advance (AB_WORKSPACE_BYTES(m) covers every _ws form on m outcomes),
 * so that a frame loop allocates nothing after setup.  A workspace is used
 * by one call at a time (one per thread). */
typedef struct ab_workspace ab_workspace;
int ab_workspace_new(ab_workspace **out);
void ab_workspace_free(ab_workspace *w);
int ab_workspace_reserve(ab_workspace *w, size_t bytes);
#define AB_WORKSPACE_BYTES(m) ((size_t)(m) * 48u + ((size_t)1 << 21) + 64u)

/* Process-wide configuration, like ab_init: set the allocator of every later
 * allocation (NULL: back to libc's malloc, realloc and free).  Call it once,
 * before any other call of the library and before any thread uses it; it is
 * not meant to change while objects made with the previous allocator are
 * alive (objects remember the allocator that made them and free themselves
 * through it, but scratch memory of a running call would not). */
void ab_set_allocator(ab_alloc_fn alloc, void *ud);
/* The process allocator in effect. */
void ab_get_allocator(ab_allocator *out);
/* A hint for a big block that is about to be written for the first time
 * (a result array): on Linux, its 2 MiB-aligned interior is marked for
 * transparent huge pages (madvise MADV_HUGEPAGE, as numpy does), so that
 * first writes fault 2 MiB at a time instead of 4 KiB; blocks under 4 MiB
 * and other systems: nothing. */
void ab_advise_huge_pages(void *p, size_t bytes);

/* ------------------------------------------------------------------------ */
/* Tails: the law (or an assumption on the law) of the reward under the
 * reference policy.  A tail is immutable once built. */

typedef struct ab_tail ab_tail;

/* Which side of the reward distribution a bound concerns. */
enum { AB_GAIN = 1, AB_LOSS = -1 };

/* A user-supplied upper bound phi(l) >= psi(l) on the centred cumulant, for
 * 0 <= l < lambda_max.  Return 0 and set *psi on success (+inf is allowed and
 * means "no bound at this l"); any non-zero return aborts the computation
 * with AB_EFUNC.  The callback may be called many times. */
typedef int (*ab_cumulant_fn)(void *ctx, double lambda, double *psi);

/* Assumption classes (psi bounded above, right tail unless stated). */
int ab_tail_subgaussian(double variance, ab_tail **out);      /* l^2 s2/2, both tails */
int ab_tail_subgamma(double v, double c, ab_tail **out);       /* v l^2/(2(1-cl)), right */
int ab_tail_subexponential(double nu, double b, ab_tail **out);/* nu^2 l^2/2, |l|<1/b */
int ab_tail_bounded(double lo, double hi, ab_tail **out);      /* Hoeffding */
int ab_tail_bounded_mean(double lo, double hi, double mean, ab_tail **out);
/* Exact laws: their gain is the exact KL-constrained optimum. */
int ab_tail_gaussian(double mean, double sd, ab_tail **out);
int ab_tail_uniform(double lo, double hi, ab_tail **out);
int ab_tail_bernoulli(double p, ab_tail **out);
int ab_tail_exponential(double rate, ab_tail **out);
int ab_tail_gamma(double shape, double scale, ab_tail **out);
int ab_tail_gumbel(double loc, double scale, ab_tail **out);
int ab_tail_logistic(double loc, double scale, ab_tail **out);
int ab_tail_beta(double a, double b, ab_tail **out);
/* Heavy-tailed laws: no exponential moment on the right, so the gain bound
 * is +inf for every kl > 0 (0 at kl = 0), the tilt at kl > 0 is +inf (the
 * bound is saturated at the essential supremum +inf) and the variance proxy
 * is +inf; they can be sampled.  Student t with df > 0 degrees of freedom
 * times scale > 0 (both tails heavy; mean 0 if df > 1, NaN otherwise);
 * Pareto with minimum xm > 0 and index alpha > 0 (density alpha xm^alpha /
 * x^(alpha+1) on [xm, inf); mean alpha xm / (alpha - 1), +inf if alpha <= 1;
 * right tail only). */
int ab_tail_student_t(double df, double scale, ab_tail **out);
int ab_tail_pareto(double xm, double alpha, ab_tail **out);
/* Probabilities passed to the library (a finite law's probs, the p and q of
 * a divergence, a policy) must each be finite and >= 0 and sum to 1 within
 * AB_PROB_TOL (else AB_EDOM); they are then renormalised. */
#define AB_PROB_TOL 1e-9

/* A finite law: values[i] with probability probs[i].  probs == NULL means
 * equal weights (an empirical law of n samples).  probs must be >= 0 and sum
 * to 1 within AB_PROB_TOL; they are renormalised.  The arrays are copied. */
int ab_tail_discrete(const double *values, const double *probs, size_t n,
                     ab_tail **out);
/* ab_tail_discrete with an allocator of its own for this one object (NULL:
 * the process allocator): the tail and its arrays are allocated and freed
 * through a, which must stay valid until ab_tail_free.  A Lua binding passes
 * its state's lua_Alloc, so that the state's limits apply to the law. */
int ab_tail_discrete_a(const ab_allocator *a, const double *values,
                       const double *probs, size_t n, ab_tail **out);
/* A user cumulant bound, solved numerically (right tail only). */
int ab_tail_cumulant(ab_cumulant_fn fn, void *ctx, double lambda_max,
                     ab_tail **out);

void ab_tail_free(ab_tail *t);

/* Short description such as "subgaussian(sigma=1)"; always NUL-terminated.
 * Returns the length it wanted (like snprintf). */
int ab_tail_describe(const ab_tail *t, char *buf, size_t len);

/* Mean of the reward under the reference law (NaN for assumption classes
 * that do not fix it). */
double ab_tail_mean(const ab_tail *t);

/* Options for the bound computations. */
enum {
  AB_CLOSED = 0,  /* closed form where one exists (default) */
  AB_NUMERIC = 1  /* force the generic cumulant engine (for checks) */
};

/* Upper bound on the reward gain (side AB_GAIN) or decrease (AB_LOSS) of any
 * policy pi with KL(pi || ref) <= kl: inf_{0<l<lmax} (kl + psi(+-l)) / l.
 * kl in [0, +inf]; kl = +inf gives the essential supremum. */
int ab_tail_bound(const ab_tail *t, int side, int method, double kl,
                  double *out);
/* The KL needed for a gain g: sup_l (l g - psi(l)).  g <= 0 needs 0. */
int ab_tail_kl_needed(const ab_tail *t, int side, int method, double gain,
                      double *out);
/* The optimal tilting parameter l* at a budget (KL(l*) = kl), +inf when the
 * bound saturates.  Needs a tail with derivatives (not ab_tail_cumulant). */
int ab_tail_tilt(const ab_tail *t, int side, double kl, double *lambda);
/* psi(l) (order 0), psi'(l) (1) or psi''(l) (2); +inf outside the domain. */
int ab_tail_cumulant_eval(const ab_tail *t, int order, double lambda,
                          double *out);
/* Optimal two-sided sub-Gaussian variance proxy sup_{l != 0} 2 psi(l) / l^2
 * (right tail only for ab_tail_cumulant); +inf when it does not exist. */
int ab_tail_variance_proxy(const ab_tail *t, int method, double *out);

/* Vector forms: out[i] = f(x[i]).  On failure *failed_at (if not NULL) is the
 * index of the element that failed. */
int ab_tail_bound_vec(const ab_tail *t, int side, int method, const double *kl,
                      size_t n, double *out, size_t *failed_at);
int ab_tail_kl_needed_vec(const ab_tail *t, int side, int method,
                          const double *gain, size_t n, double *out,
                          size_t *failed_at);
int ab_tail_cumulant_vec(const ab_tail *t, int order, const double *lambda,
                         size_t n, double *out, size_t *failed_at);
int ab_tail_tilt_vec(const ab_tail *t, int side, const double *kl, size_t n,
                     double *lambda, size_t *failed_at);
/* The same on the worker pool (work NULL: one thread).  A finite law's
 * budgets go in blocks of 16 to 64 to `work->threads` threads when the call
 * is large enough (atoms x budgets >= 2e5; smaller calls run inline), with
 * progress counted in budgets; other laws run on the calling thread.  The
 * values are bit-identical for any thread count.  A cancelled run returns
 * AB_ECANCEL with *failed_at = n. */
int ab_tail_bound_vec_work(const ab_tail *t, int side, int method,
                           const double *kl, size_t n, const ab_work *work,
                           double *out, size_t *failed_at);
int ab_tail_kl_needed_vec_work(const ab_tail *t, int side, int method,
                               const double *gain, size_t n,
                               const ab_work *work, double *out,
                               size_t *failed_at);

/* ------------------------------------------------------------------------ */
/* Divergence families (conventions in README.md).  An f-divergence is
 * D_f(P||Q) = E_Q[f(dP/dQ)]; Renyi is log E_Q[(dP/dQ)^a] / (a - 1). */

enum {
  AB_KL,          /* t log t */
  AB_REVERSE_KL,  /* -log t */
  AB_CHI2,        /* (t - 1)^2 */
  AB_HELLINGER,   /* (sqrt t - 1)^2 / 2 */
  AB_TV,          /* |t - 1| / 2 */
  AB_JS,          /* Jensen-Shannon, in nats */
  AB_ALPHA,       /* Amari: (t^a - a t - (1 - a)) / (a (a - 1)), any real a */
  AB_RENYI,       /* order a in (0, inf]; a = 1 is KL */
  AB_USER         /* a user-supplied convex f with f(1) = 0 */
};

/* A user f: return 0 and set *f; non-zero aborts with AB_EFUNC. */
typedef int (*ab_f_fn)(void *ctx, double t, double *f);

typedef struct {
  int kind;      /* AB_KL ... AB_USER */
  double alpha;  /* the order, for AB_ALPHA and AB_RENYI */
  ab_f_fn fn;    /* for AB_USER */
  void *ctx;
} ab_family;

/* AB_OK if the family and its order are valid (AB_EDOM otherwise). */
int ab_family_check(const ab_family *f);

/* f(t) for t >= 0 (not for Renyi), +inf where infinite. */
int ab_f_eval(const ab_family *f, double t, double *out);

/* D(P || Q) between two laws on the same n outcomes, exactly by summation:
 * 0 log 0 = 0, and the mass of P where Q = 0 counts f(t)/t as t -> inf
 * (+inf for KL, chi2, ...).  p and q must be >= 0 and sum to 1 within
 * AB_PROB_TOL (they are renormalised). */
int ab_divergence(const double *p, const double *q, size_t n,
                  const ab_family *f, double *out);

/* ------------------------------------------------------------------------ */
/* Best-of-n: the best of n independent reference samples by reward.  With a
 * continuous reward, bon_n relates to ref as Beta(n, 1) to Uniform(0, 1)
 * (Renyi representation), so D(bon_n || ref) = int_0^1 f(n u^(n-1)) du for
 * every f (data processing gives <= when the reward has ties).  n is a real
 * number >= 1 (the formulas hold for the Beta(n, 1) law at real n). */

/* D(bon_n || ref): closed form where one exists (AB_CLOSED), else or with
 * AB_NUMERIC the integral, computed with substitutions that resolve the mass
 * near u = 1 for n up to 1e15.  *abserr (if not NULL) gets the estimated
 * absolute error (0 for closed forms).  AB_NUMERIC (a check of the closed
 * forms) gives AB_ENOCONV for n > 1e15 and for a Renyi order whose moment
 * E t^alpha overflows. */
int ab_bon_divergence(double n, const ab_family *f, int method, double *out,
                      double *abserr);
int ab_bon_divergence_ws(ab_workspace *w, double n, const ab_family *f,
                         int method, double *out, double *abserr);
/* out[i] = D(bon_n[i] || ref), as ab_bon_divergence (the integrals share
 * one workspace).  On failure *failed_at (if not NULL) is the failing index,
 * or len when the family itself is invalid. */
int ab_bon_divergence_vec(const ab_family *f, int method, const double *n,
                          size_t len, double *out, size_t *failed_at);
/* P(best of n beats an independent reference sample) = n / (n + 1). */
int ab_bon_win_rate(double n, double *out);
/* Beirami et al. (2024) KL estimate from the reference probability eps of
 * the selected sample, eps in [0, 1]. */
int ab_bon_kl_estimate(double eps, double n, double *out);
/* The exact gain E R_(n) - E R of best-of-n for an exact law or a finite
 * law (ties broken uniformly); AB_EUNDEF for assumption classes. */
int ab_bon_expected_gain(const ab_tail *t, double n, int method, double *out);
int ab_bon_expected_gain_ws(ab_workspace *w, const ab_tail *t, double n,
                            int method, double *out);

/* Certificates for a bound on the best-of-n gain. */
enum {
  AB_CERT_KL = 1,   /* the transport bound at KL(bon_n || ref) */
  AB_CERT_CHI2,     /* sd sqrt(chi2(bon_n || ref)) */
  AB_CERT_TV,       /* (sup - inf) tv(bon_n, ref) */
  AB_CERT_RENYI     /* min_a sqrt(2 s2 D_a / a), s2 = (range)^2/4 (the
                       Renyi refinement below) */
};
const char *ab_certificate_name(int cert);
/* The tightest of the certificates that apply to the tail. */
int ab_bon_gain(const ab_tail *t, double n, double *out, int *certificate);

/* The exact best-of-n law of a discrete reference with m outcomes
 * (probabilities probs, rewards rewards, any order), ties broken uniformly:
 * bon(y) = ref(y) / q(y) (F<=(y)^n - F<(y)^n), with q(y) = P(R = r(y)). */
typedef struct {
  double kl;        /* KL(bon_n || ref), exact */
  double win_rate;  /* P(bon beats a reference sample), ties count 1/2 */
  double mean;      /* E_bon[R] */
  double kl_bound;  /* log n - (n - 1)/n */
} ab_bon_summary;
int ab_bon_policy(const double *probs, const double *rewards, size_t m,
                  double n, double *policy, ab_bon_summary *summary);
int ab_bon_policy_ws(ab_workspace *w, const double *probs,
                     const double *rewards, size_t m, double n, double *policy,
                     ab_bon_summary *summary);

/* Unbiased estimate of the best-of-n average of values when selecting on
 * scores, from N logged samples (n <= N): sort by score; the i-th (1-based)
 * weighs C(i-1, n-1) / C(N, n); tied scores share their values' mean.
 * With n = 0, out[k-1] gets the estimate for every k = 1..N. */
int ab_bon_from_samples(const double *scores, const double *values, size_t N,
                        size_t n, double *out);
int ab_bon_from_samples_ws(ab_workspace *w, const double *scores,
                           const double *values, size_t N, size_t n,
                           double *out);

/* ------------------------------------------------------------------------ */
/* Exponential tilting: the exact optimum of KL-regularised RL,
 * pi_beta(y) = ref(y) e^{r(y)/beta} / Z, i.e. lambda = 1/beta. */

enum { AB_TILT_BETA = 0, AB_TILT_KL = 1 };

typedef struct {
  double beta;   /* the KL penalty (0 once saturated, inf for ref itself) */
  double lambda; /* 1 / beta */
  double kl;     /* KL(pi || ref) */
  double gain;   /* E_pi r - E_ref r */
  double log_z;  /* log E_ref e^{lambda r} */
} ab_tilt_summary;

/* The tilt of a discrete reference (m outcomes, any order), given the penalty
 * (mode AB_TILT_BETA, value = beta > 0, inf allowed) or a KL budget (mode
 * AB_TILT_KL, value >= 0, solved for beta).  A budget beyond -log P(top
 * reward) saturates: all the mass on the top reward(s), beta = 0. */
int ab_tilt_policy(const double *probs, const double *rewards, size_t m,
                   int mode, double value, double *policy,
                   ab_tilt_summary *summary);
int ab_tilt_policy_ws(ab_workspace *w, const double *probs,
                      const double *rewards, size_t m, int mode, double value,
                      double *policy, ab_tilt_summary *summary);

/* KL of the tilt at lambda for a tail with derivatives:
 * lambda psi'(lambda) - psi(lambda) (the penalty-to-budget conversion). */
int ab_tail_tilt_kl(const ab_tail *t, double lambda, double *kl);
/* The same between penalties and budgets, element by element: kl[i] the
 * budget the penalty beta[i] > 0 spends (lambda = 1 / beta), and beta[i] the
 * penalty that spends kl[i] (1 / ab_tail_tilt on the gain side; 0 when the
 * bound saturates).  *failed_at (if not NULL): the failing index. */
int ab_tilt_kl_vec(const ab_tail *t, const double *beta, size_t n, double *kl,
                   size_t *failed_at);
int ab_tilt_beta_vec(const ab_tail *t, const double *kl, size_t n, double *beta,
                     size_t *failed_at);

/* D_f(pi_l || ref) of the tilt pi_l = ref e^{l r} / Z of a law with a
 * cumulant: the likelihood ratio is g = e^{l (R - m) - psi(l)}, so
 * E_ref g^a = e^{psi(a l) - a psi(l)} gives every power-type family (kl,
 * reverse_kl = psi(l), chi2, hellinger, renyi, alpha); tv, js and a user f
 * have no such form (AB_EUNDEF).  +inf where a l leaves the domain. */
int ab_tail_tilt_divergence(const ab_tail *t, double lambda,
                            const ab_family *f, double *out);

/* Best-of-n against the tilt at the same KL (README, "The mathematics":
 * best-of-n). */
typedef struct {
  double kl;          /* KL(bon_n || ref): log n - (n-1)/n, exact with ties */
  double bon_gain;    /* E R_(n) - E R */
  double tilt_gain;   /* the tilt's gain at that KL, the limit */
  double beta;        /* the tilt's penalty */
  double kl_bon_tilt; /* KL(bon_n || tilt) = (tilt_gain - bon_gain) / beta */
} ab_bon_tilt;
int ab_tilt_compare_bon(const ab_tail *t, double n, ab_bon_tilt *out);

/* ------------------------------------------------------------------------ */
/* Sampling: a generator per (seed, stream), both full 64-bit words.  The
 * default is xoshiro256** (Blackman and Vigna 2018; period 2^256 - 1) run
 * as a GSL generator type, so every GSL sampler draws from it: distinct
 * pairs start from distinct 256-bit states, so no two share a sequence.
 * AB_RNG_MT19937 is GSL's mt19937 (the default of earlier versions): the
 * pair is mixed (splitmix64) into its 32-bit seed, so among 2^16 pairs two
 * share a sequence with probability about 1/2 (the birthday bound).
 * A generator is not shared between threads. */

enum { AB_RNG_XOSHIRO256SS = 0, AB_RNG_MT19937 = 1 };

typedef struct ab_rng ab_rng;
/* ab_rng_new_type(AB_RNG_XOSHIRO256SS, seed, stream, out); */
int ab_rng_new(unsigned long long seed, unsigned long long stream,
               ab_rng **out);
/* A generator of the given type (AB_EDOM for an unknown one). */
int ab_rng_new_type(int type, unsigned long long seed,
                    unsigned long long stream, ab_rng **out);
/* The type of r (AB_RNG_...). */
int ab_rng_type(const ab_rng *r);
/* ab_rng_new with an allocator for this generator and its state (NULL: the
 * process allocator); a must stay valid until ab_rng_free. */
int ab_rng_new_a(const ab_allocator *a, unsigned long long seed,
                 unsigned long long stream, ab_rng **out);
/* ab_rng_new_type with an allocator, likewise. */
int ab_rng_new_type_a(const ab_allocator *a, int type, unsigned long long seed,
                      unsigned long long stream, ab_rng **out);
void ab_rng_free(ab_rng *r);
/* For GSL's own samplers (this header does not include GSL's): the
 * generator inside r, a gsl_rng * that r owns, e.g.
 * gsl_ran_beta((gsl_rng *)ab_rng_gsl(r), 2, 3); and xoshiro256** as a
 * const gsl_rng_type *, for gsl_rng_alloc (gsl_rng_set(g, s) then seeds it
 * as the pair (s, stream 0), the same draws as ab_rng_new(s, 0)). */
void *ab_rng_gsl(ab_rng *r);
const void *ab_rng_xoshiro256ss(void);
/* Uniform on (0, 1), never 0 or 1. */
double ab_rng_uniform(ab_rng *r);

/* k draws from an exact or finite law (AB_EUNDEF for assumption classes). */
int ab_tail_sample(const ab_tail *t, ab_rng *r, size_t k, double *out);
/* k draws of the best-of-n reward in O(1) each (O(log m) for a finite law):
 * F^{-1}(U^{1/n}), with the upper tail 1 - U^{1/n} = -expm1(log U / n) kept
 * to full precision, for n up to 1e15. */
int ab_bon_sample(const ab_tail *t, double n, ab_rng *r, size_t k,
                  double *out);
/* k draws from the tilted law ref e^{lambda r} / Z of an exact or finite law
 * (lambda may be +inf for a finite law: its top atom). */
int ab_tilt_sample(const ab_tail *t, double lambda, ab_rng *r, size_t k,
                   double *out);

/* ------------------------------------------------------------------------ */
/* Estimators from samples, each with its standard error. */

/* The mean and its standard error sd / sqrt(n). */
int ab_estimate_mean(const double *x, size_t n, double *mean, double *se);
/* KL(pi || ref) from log pi(y_i) and log ref(y_i) on policy samples y_i:
 * k1 = mean(r), k2 = mean(r^2 / 2), k3 = mean((e^{-r} - 1) + r), r the
 * log-ratio (k1, k3 unbiased; k3 never negative). */
enum { AB_K1 = 1, AB_K2 = 2, AB_K3 = 3 };
int ab_estimate_kl(const double *logp_policy, const double *logp_ref,
                   size_t n, int which, double *est, double *se);
/* Renyi D_a(pi || ref) = log mean(e^{(a-1) r}) / (a - 1), a > 0 (a = 1: k1),
 * the error by the delta method. */
int ab_estimate_renyi(const double *logp_policy, const double *logp_ref,
                      size_t n, double a, double *est, double *se);
/* The empirical optimal sub-Gaussian variance proxy of the samples, and a
 * bootstrap upper confidence bound at the level (e.g. 0.95) from the given
 * number of resamples, on one thread, the run seeded by one 32-bit draw of r
 * (ab_estimate_variance_proxy_report gives the error and the heavy-tail
 * checks too). */
int ab_estimate_variance_proxy(const double *x, size_t n, double level,
                               size_t resamples, ab_rng *r, double *est,
                               double *upper);
/* A bootstrap run: `resamples` resamples numbered first .. first +
 * resamples - 1 (a shard of a larger run starts at its own first).  Resample
 * r draws with replacement with its own generator (xoshiro256** seeded from
 * (seed, r) by splitmix64), so any slice of a run reproduces exactly its part
 * of the full run, whatever the threads.  Without groups it draws n samples;
 * with groups (ngroups + 1 increasing offsets 0 = groups[0] < ... <
 * groups[ngroups] = n, group g holding rows groups[g] .. groups[g+1] - 1,
 * e.g. the responses of one prompt; AB_EDOM for an empty group) it draws
 * ngroups groups and keeps each drawn group's rows whole (the bootstrap over
 * prompts), so a resample may hold more or fewer than n rows. */
typedef struct {
  size_t resamples;
  unsigned long long seed;
  size_t first;
  const size_t *groups;
  size_t ngroups;
} ab_boot;
/* The number of resamples a bootstrap takes when none is asked for (the Lua
 * functions' `resamples=` default). */
#define AB_BOOT_RESAMPLES 200

/* The counts of resample r (absolute index) over n rows: how many times each
 * row is drawn (with groups, each row of a group drawn k times counts k).
 * Without groups the proxy applies them to the samples in sorted order, the
 * other bootstraps to the rows in their given order. */
int ab_estimate_resample_counts(const ab_boot *b, size_t n, size_t r,
                                uint32_t *count);

/* Bootstrap values of the empirical variance proxy: out[i] is the proxy of
 * resample first + i.  Each agrees with the exact proxy of its resample
 * (ab_tail_variance_proxy of the resampled law) to about 1e-12 relative. */
int ab_estimate_variance_proxy_boot(const double *x, size_t n,
                                    const ab_boot *b, const ab_work *work,
                                    double *out);

/* The empirical variance proxy with its bootstrap error and the checks that
 * say when it cannot be trusted (heavy tails: the proxy of a law without a
 * sub-Gaussian tail grows without bound with the sample size, so the
 * estimate and its bootstrap only describe the samples at hand). */
enum {
  AB_PROXY_TOP = 1,       /* dropping the AB_PROXY_DROP largest and smallest
                             samples lowers it by more than 1.5 se */
  AB_PROXY_GROWS = 2,     /* the mean proxy of four random quarters of the
                             samples is below it by more than se */
  AB_PROXY_FEW_SAMPLES = 4 /* fewer than AB_PROXY_FEW samples: unchecked */
};
#define AB_PROXY_DROP 3
#define AB_PROXY_FEW 32
typedef struct {
  double est;     /* the proxy of the samples */
  double se;      /* bootstrap standard error: sd of the resample values */
  double upper;   /* the level quantile of the resample values */
  double drop;    /* the proxy without the AB_PROXY_DROP extreme samples
                     on each side (NaN with AB_PROXY_FEW_SAMPLES) */
  double quarter; /* the mean proxy of four random quarters (likewise) */
  int flags;      /* AB_PROXY_* above; 0: no reason for doubt found */
} ab_proxy_report;
/* values[0 .. b->resamples - 1] receives the resample values, or, with
 * given != 0, holds them already (the merged values of sharded runs). */
int ab_estimate_variance_proxy_report(const double *x, size_t n, double level,
                                      const ab_boot *b, const ab_work *work,
                                      double *values, int given,
                                      ab_proxy_report *out);

/* Bootstrap values of ab_bon_from_samples(scores, values, N, n) (n >= 1):
 * out[i] from resample first + i of the rows (AB_EDOM if a resample of
 * groups has fewer than n rows). */
int ab_estimate_bon_boot(const double *scores, const double *values, size_t N,
                         size_t n, const ab_boot *b, const ab_work *work,
                         double *out);
/* Bootstrap values of the empirical frontier at kl: the exact gain bound
 * (ab_tail_bound, AB_GAIN) of each resample's empirical law. */
int ab_estimate_frontier_boot(const double *x, size_t n, double kl,
                              const ab_boot *b, const ab_work *work,
                              double *out);
/* The standard deviation (n - 1) of m values; +inf if one is infinite. */
int ab_estimate_spread(const double *v, size_t m, double *sd);
/* The p-quantile (0 <= p <= 1) of m values, interpolated linearly between
 * order statistics (the percentile bootstrap). */
int ab_estimate_percentile(const double *v, size_t m, double p, double *q);

/* ------------------------------------------------------------------------ */
/* Logs as columns: CSV (RFC 4180) and JSON Lines, read in chunks (the file
 * is never held whole) into numeric columns and text columns.
 *
 * CSV: a header line of column names, then one record per line; commas or
 * tabs (a tab in the header line and no comma means tabs).  A field may be
 * quoted ("..."), and then holds commas, line breaks and doubled quotes ("");
 * spaces around an unquoted field are dropped; blank lines, CRLF and a
 * leading UTF-8 byte order mark are accepted.  Columns that are not read are
 * skipped whatever they hold.  A numeric value must be a finite number (inf,
 * nan, overflow, an empty field and a nonzero value that underflows to 0 are
 * AB_EPARSE).
 *
 * JSON Lines: one JSON object per line (json-c parses each line; blank
 * lines, CRLF and a leading byte order mark are accepted); a field is
 * named by its key or, for nested objects, by a dotted path ("meta.id": the
 * whole name is tried as a key first).  Numbers must be finite (NaN and
 * Infinity, which some writers emit, are AB_EPARSE naming the field). */

/* A text column, interned: each distinct string is stored once and every
 * row holds the index of its string, so that a prompt id repeated over 16
 * responses costs 4 bytes a row. */
typedef struct {
  size_t count;    /* distinct strings */
  char *chars;     /* the strings one after another, each NUL-terminated */
  size_t *start;   /* count + 1 offsets: string k is chars + start[k], of
                      length start[k + 1] - start[k] - 1 (it may hold NULs) */
  unsigned *index; /* rows entries in [0, count) (NULL for a numeric column) */
} ab_text;

/* Every array of a table is exactly as long as its comment says (a name is
 * its length + 1): ab_table_free gives those sizes back to the allocator
 * (lua_Alloc's contract), so a caller reads a table but does not resize its
 * arrays or change rows and count. */
typedef struct {
  size_t rows, cols;
  char **names;   /* cols names */
  double **data;  /* cols arrays of rows values; NULL for a text column */
  ab_text *text;  /* cols entries (NULL when no column is text) */
} ab_table;

/* Which columns to read: numbers (NULL with nnumbers == 0 means, for CSV,
 * every column that is not text) and text columns, by name.  The table
 * holds the numeric columns first, in the order given, then the text ones. */
typedef struct {
  const char *const *numbers;
  size_t nnumbers;
  const char *const *text;
  size_t ntext;
} ab_columns;

/* Read the columns of a CSV file.  On failure, err (if not NULL) gets a
 * message naming the file, the line and the column; AB_EIO when the file
 * cannot be read, AB_ENOMEM when memory runs out, AB_EPARSE when its
 * contents are wrong (a ragged row, a bad value, an unclosed quote, a column
 * name the header repeats if that column is read), AB_EDOM for a requested
 * column the header lacks (the message lists those it has) or a column
 * requested twice, AB_ERANGE for a text column of more than 2^32 - 1
 * distinct strings.  out is left empty on failure. */
int ab_csv_read_columns(const char *path, const ab_columns *want,
                        ab_table *out, char *err, size_t errlen);
/* ab_csv_read_columns with numeric columns only: those named in `columns`
 * (all of them if ncols == 0). */
int ab_csv_read(const char *path, const char *const *columns, size_t ncols,
                ab_table *out, char *err, size_t errlen);
/* Read fields of a JSON Lines file; statuses as ab_csv_read_columns, with
 * AB_EPARSE for a line that is not a JSON object, a missing field (the
 * message lists the keys there are), a value of the wrong type (a text
 * field takes a string or an integer) and a number that is not finite;
 * AB_EDOM when no field is requested or one twice. */
int ab_jsonl_read(const char *path, const ab_columns *want, ab_table *out,
                  char *err, size_t errlen);
/* ab_csv_read_columns and ab_jsonl_read with work's progress callback (work
 * may be NULL): it hears (bytes read, file size) after every 1 MiB chunk, on
 * the calling thread, and a non-zero return stops the read: AB_ECANCEL,
 * nothing returned, everything freed.  work->threads is not used. */
int ab_csv_read_work(const char *path, const ab_columns *want,
                     const ab_work *work, ab_table *out, char *err,
                     size_t errlen);
int ab_jsonl_read_work(const char *path, const ab_columns *want,
                       const ab_work *work, ab_table *out, char *err,
                       size_t errlen);
void ab_table_free(ab_table *t);
/* Free column j's values (its name stays), e.g. once they are copied out,
 * so that a caller copying a table column by column never holds it twice. */
void ab_table_drop(ab_table *t, size_t j);

/* ------------------------------------------------------------------------ */
/* The Renyi refinement (README, "Proxy and golden rewards"): with the
 * reward s_ref^2-sub-Gaussian on its right tail under the reference and
 * s_pi^2-sub-Gaussian on its left tail under the aligned policy pi, for
 * every order a in (0, 1]
 *   gain <= sqrt(2 ((1 - a) s_pi^2 + a s_ref^2) D_a(pi || ref) / a)
 * (the Renyi variational formula at g = lambda r), the KL bound at a = 1; as
 * a -> 0, (1 - a) D_a / a -> KL(ref || pi). */

/* One-sided optimal sub-Gaussian variance proxy: sup_{l > 0} 2 psi(l) / l^2
 * (side AB_GAIN, the right tail) or sup_{l < 0} (AB_LOSS, the left tail),
 * from the exact cumulant for exact and finite laws; +inf when it does not
 * exist; AB_EUNDEF for the left tail of a right-tail-only tail. */
int ab_tail_variance_proxy_side(const ab_tail *t, int side, double *out);

/* D_a at order a in (0, 1]: return 0 and set *d (>= 0, +inf allowed); a
 * non-zero return aborts with AB_EFUNC. */
typedef int (*ab_renyi_fn)(void *ctx, double a, double *d);

enum {
  AB_RENYI_FIXED = 1, /* value = D_alpha at the given alpha */
  AB_RENYI_FUNCTION,  /* fn(ctx, a) = D_a */
  AB_RENYI_BON        /* best-of-n: the closed form D_a(Beta(n,1) || U) */
};

typedef struct {
  int kind;
  double value;   /* AB_RENYI_FIXED */
  double n;       /* AB_RENYI_BON, n >= 1 */
  ab_renyi_fn fn; /* AB_RENYI_FUNCTION */
  void *ctx;
} ab_renyi_divergence;

/* The left-tail variance proxy sup_{l<0} 2 psi_n(l) / l^2 of the best-of-n
 * law, from its quantile representation Q(U^{1/n}): exact laws by
 * quadrature (psi_n is taken where V = U^{1/n} > 1e-304, i.e. the quantile
 * is representable; AB_ENOCONV where the integrals cannot reach 1e-6, e.g.
 * a bounded law at n ~ 1e12, where Q(V) - E Q(V) cancels), finite laws by
 * their exact law with ties (masses kept in logs); AB_EUNDEF for
 * assumption classes and user cumulants. */
int ab_bon_variance_proxy_left(const ab_tail *t, double n, double *out);

/* The bound at one order a in (0, 1] given D_a. */
int ab_renyi_bound(double s2_ref, double s2_pi, double a, double d,
                   double *out);
/* The bound at alpha (in (0, 1]), or with alpha = NAN its minimum over
 * a in (0, 1]: a grid in logit(a), Brent's method around the best grid
 * point, a = 1 exactly, and for best-of-n the limit a -> 0 exactly
 * (sqrt(2 s_pi^2 (n - 1 - log n))).  *alpha_at gets the order (0 for the
 * limit).  s2_ref, s2_pi >= 0 (+inf allowed). */
int ab_renyi_gain(double s2_ref, double s2_pi, const ab_renyi_divergence *d,
                  double alpha, double *bound, double *alpha_at);

/* ------------------------------------------------------------------------ */
/* Proxy to golden reward (README, "Proxy and golden rewards").  The proxy
 * reward r_p is what a policy is optimised against, the golden reward r_g
 * what is wanted; e = r_p - r_g.  gold_gain = proxy_gain - (E_pi e -
 * E_ref e), so a bound D on |E_pi e - E_ref e| turns a proxy gain into
 * [proxy_gain - D, proxy_gain + D]. */

/* Error models for e under the reference. */
enum {
  AB_ERROR_BOUNDED = 1,   /* |e| <= par (eps) */
  AB_ERROR_SUBGAUSSIAN,   /* e sub-Gaussian with variance proxy par, both tails */
  AB_ERROR_VARIANCE,      /* Var_ref(e) = par, nothing else */
  AB_ERROR_OVERESTIMATION /* E_pi e - E_ref e = par * KL(pi || ref) */
};

/* The routes from a divergence to D. */
enum {
  AB_ROUTE_TV = 1, /* bounded: 2 eps TV */
  AB_ROUTE_KL,     /* bounded: 2 eps min(1, sqrt(KL/2)); subgaussian: sqrt(2 s2 KL) */
  AB_ROUTE_CHI2,   /* sqrt(Var chi2) (Cauchy-Schwarz); bounded: min(2, sqrt chi2) eps */
  AB_ROUTE_RATE    /* overestimation: gold = proxy - rate KL */
};
const char *ab_route_name(int route);

typedef struct {
  int kind;   /* AB_ERROR_... */
  double par; /* eps, s2, var or rate: positive and finite (rate >= 0) */
} ab_error_model;

/* The divergences of a policy from the reference that are known; NAN marks
 * one that is not. */
typedef struct {
  double kl, chi2, tv;
} ab_divergences;

/* AB_OK if the model is valid. */
int ab_error_check(const ab_error_model *e);
/* The routes the model can use, in the order tried; returns their number
 * (at most 3) and fills routes. */
int ab_error_routes(const ab_error_model *e, int routes[3]);
/* [lo, hi] for the golden gain given the proxy gain, by the tightest route
 * among the known divergences (AB_EUNDEF if none of them is usable). */
int ab_error_golden(const ab_error_model *e, double proxy_gain,
                    const ab_divergences *d, double *lo, double *hi,
                    int *route);

/* What a policy does to a joint model of (proxy, gold) under the reference:
 * gains over the reference, KL(pi || ref), and standard errors (0 when
 * exact). */
typedef struct {
  double proxy_gain, gold_gain, kl;
  double proxy_se, gold_se, kl_se;
  int exact;
} ab_joint_result;

/* Jointly Gaussian proxy and gold: correlation rho in [-1, 1], standard
 * deviations > 0.  Selecting on the proxy moves the gold by
 * rho sd_gold / sd_proxy times the proxy's move, exactly. */
typedef struct {
  double rho, sd_proxy, sd_gold;
} ab_joint_gaussian;
int ab_joint_gaussian_check(const ab_joint_gaussian *j);
/* Best-of-n on the proxy (n >= 1 real): proxy gain sd_proxy E max of n
 * standard normals, KL = log n - (n-1)/n. */
int ab_joint_gaussian_bon(const ab_joint_gaussian *j, double n,
                          ab_joint_result *out);
/* The tilt ref e^{lambda proxy} / Z (lambda >= 0 finite): proxy gain
 * lambda sd_proxy^2, KL = (lambda sd_proxy)^2 / 2. */
int ab_joint_gaussian_tilt(const ab_joint_gaussian *j, double lambda,
                           ab_joint_result *out);

/* proxy = gold + error with gold and error independent, each an exact or
 * finite law with a finite mean: Monte Carlo over `draws` draws (>= 2) from
 * the generator (seed, stream 0).  Best-of-n (integer n in [1, 1e7]; n = 1
 * is the reference, exactly): n pairs per
 * draw, the gold of the one with the largest proxy; KL is log n - (n-1)/n
 * (exact for a continuous proxy, an upper bound with ties).  Tilt: self-
 * normalised weights e^{lambda proxy} over the draws (log-sum-exp), standard
 * errors by the delta method; AB_EUNDEF when E e^{lambda proxy} is infinite
 * (heavy tails). */
int ab_joint_additive_bon(const ab_tail *gold, const ab_tail *error, double n,
                          size_t draws, unsigned long long seed,
                          ab_joint_result *out);
int ab_joint_additive_tilt(const ab_tail *gold, const ab_tail *error,
                           double lambda, size_t draws,
                           unsigned long long seed, ab_joint_result *out);
/* The tilt at a KL budget instead of lambda (*lambda gets it): Gaussian
 * lambda = sqrt(2 kl) / sd_proxy; additive: on the fixed draws, the lambda
 * whose estimated KL is kl (it increases with lambda up to log(draws), so kl
 * must lie below that: AB_EDOM otherwise; AB_EUNDEF when the law's reach
 * ends first); logged pairs: ab_tilt_policy's solve (+inf once saturated). */
int ab_joint_gaussian_tilt_kl(const ab_joint_gaussian *j, double kl,
                              ab_joint_result *out, double *lambda);
int ab_joint_additive_tilt_kl(const ab_tail *gold, const ab_tail *error,
                              double kl, size_t draws, unsigned long long seed,
                              ab_joint_result *out, double *lambda);
int ab_joint_samples_tilt_kl(const double *proxy, const double *gold, size_t N,
                             double kl, ab_joint_result *out, double *lambda);
/* k draws of the proxy gold + error under the reference. */
int ab_joint_additive_sample(const ab_tail *gold, const ab_tail *error,
                             size_t k, unsigned long long seed, double *out);

/* N logged pairs (proxy[i], gold[i]) as an empirical law (each 1/N): the
 * exact best-of-n law on the proxy (with replacement, ties broken uniformly,
 * n >= 1 real) and the exact tilt (lambda >= 0, +inf: the top proxy). */
int ab_joint_samples_bon(const double *proxy, const double *gold, size_t N,
                         double n, ab_joint_result *out);
int ab_joint_samples_tilt(const double *proxy, const double *gold, size_t N,
                          double lambda, ab_joint_result *out);

/* ------------------------------------------------------------------------ */
/* Selection rules in quantile space (README, "Selection rules").  A rule
 * keeps a reference sample by its reward quantile u = F(r) with density
 * q(u), CDF G:
 *   best-of-n (n >= 1):             q = n u^{n-1}, G = u^n (bon.c);
 *   best-of-Poisson (mu >= 0):      N = 1 + Poisson(mu) candidates,
 *                                   q = (1 + mu u) e^{mu (u-1)}, G = u e^{mu (u-1)};
 *   top fraction (0 < eps <= 1):    q = 1/eps on [1 - eps, 1];
 *   win-rate tilt (c >= 0):         q = c e^{c u} / (e^c - 1), the largest win
 *                                   rate at its KL.
 * For a continuous reward D_f(pi || ref) = int_0^1 f(q(u)) du (an upper
 * bound with ties, by data processing). */
enum {
  AB_RULE_BEST_OF_N = 1,
  AB_RULE_BEST_OF_POISSON,
  AB_RULE_TOP_FRACTION,
  AB_RULE_WIN_RATE_TILT
};
/* AB_OK if p is a valid parameter of the rule. */
int ab_rule_check(int rule, double p);
/* D_f(rule || ref) for a continuous reward: closed forms (KL of the tilt
 * and the top fraction, every family of the top fraction), else the
 * integral to 1e-10 relative. */
int ab_rule_divergence(int rule, double p, const ab_family *f, double *out);
int ab_rule_kl(int rule, double p, double *out);
/* P(the rule's sample beats an independent reference sample), continuous. */
int ab_rule_win_rate(int rule, double p, double *out);
/* The exact gain int Q(u) (q(u) - 1) du of an exact law, or the exact sum
 * over the atoms of a finite law (ties broken uniformly). */
int ab_rule_expected_gain(const ab_tail *t, int rule, double p, double *out);
/* The exact law on a discrete reference with ties:
 * pi(y) = ref(y)/q(y) (G(F<=(y)) - G(F<(y))); summary as for best-of-n
 * (kl_bound: the continuous-reward KL). */
int ab_rule_policy(const double *probs, const double *rewards, size_t m,
                   int rule, double p, double *policy, ab_bon_summary *s);
/* k draws Q(V), V ~ q, O(1) each (O(log m) for a finite law). */
int ab_rule_sample(const ab_tail *t, int rule, double p, ab_rng *r, size_t k,
                   double *out);
/* The real n whose best-of-n has KL kl: n = -1 / W0(-e^{-(kl+1)}) (GSL's
 * Lambert W, polished by Newton in log n); +inf beyond kl = 800. */
int ab_bon_n_for_kl(double kl, double *n);
/* The largest win rate against the reference at KL <= kl, attained by the
 * win-rate tilt; *c (if not NULL) gets its parameter (+inf above kl ~ 708). */
int ab_frontier_win_rate(double kl, double *win, double *c);

/* Soft best-of-n (integer n >= 1, temperature tau > 0, +inf: the
 * reference): of n reference draws keep one with probability proportional to
 * e^{r/tau}.  It depends on the law, not only on the quantile.  The exact
 * law on a discrete reference by the Laplace-transform form
 * pi(y) = n ref(y) w(y) int_0^inf e^{-t w(y)} M(t)^{n-1} dt, M(t) = E e^{-t w}
 * (w = e^{(r - max r)/tau}); its exact gain on a finite or exact law (see
 * ab_soft_bon_exact); k draws by simulation (n <= 1e7 draws each). */
int ab_soft_bon_policy(const double *probs, const double *rewards, size_t m,
                       double n, double tau, double *policy,
                       ab_bon_summary *s);
int ab_soft_bon_expected_gain(const ab_tail *t, double n, double tau,
                              double *out);
int ab_soft_bon_sample(const ab_tail *t, double n, double tau, ab_rng *r,
                       size_t k, double *out);
/* Soft best-of-n against an exact or finite reference law t: its expected
 * reward gain, KL, win rate against an independent reference draw, and
 * (f not NULL) its divergence D_f(pi || ref).  A continuous law by the
 * Laplace form on the tanh-sinh discretisation of its quantile, refined
 * until two levels agree to 1e-12 (AB_ENOCONV otherwise); total variation
 * is AB_EUNDEF there (its kink).  A finite law over its atoms (ties share
 * their group). */
typedef struct {
  double gain, kl, win_rate, divergence;
} ab_soft_summary;
int ab_soft_bon_exact(const ab_tail *t, double n, double tau,
                      const ab_family *f, ab_soft_summary *s);

/* A policy pi over m pairs (proxy_i, gold_i) of equal reference weight 1/m
 * (logged pairs, or Monte Carlo draws of a joint model): its proxy and gold
 * gains sum_i (pi_i - 1/m) x_i, and their standard errors as means of the
 * m terms (m pi_i - 1)(x_i - mean x) when the pairs are draws. */
typedef struct {
  double proxy_gain, gold_gain, proxy_se, gold_se;
} ab_pair_summary;
int ab_pair_gains(const double *pi, const double *proxy, const double *gold,
                  size_t m, ab_pair_summary *s);
/* m draws of proxy = gold + error, gold and error independent draws of
 * their laws (joint.additive): proxy[] and g[] receive them. */
int ab_additive_draws(const ab_tail *gold, const ab_tail *error, ab_rng *r,
                      size_t m, double *proxy, double *g);

/* ------------------------------------------------------------------------ */
/* Goodhart fits (README, "Proxy and golden rewards"): the golden gain
 * against d = sqrt(KL), by least squares (GSL multifit) without intercept:
 *   AB_FIT_BON: gold = alpha d - beta d^2      (best-of-n overoptimisation)
 *   AB_FIT_RL:  gold = alpha d - beta d log d  (RL runs; d log d = 0 at 0)
 * With standard errors se (NULL: none) the fit is weighted by 1 / se^2 and
 * the parameter errors come from them; without, from the residual
 * variance chisq / (n - 2).  The peak over d >= 0 (beta > 0):
 * bon d* = max(alpha, 0) / (2 beta), rl d* = exp(alpha / beta - 1);
 * peak_kl = d*^2, peak_gain = gold(d*).  With beta <= 0 there is no peak:
 * peak_kl = +inf, peak_gain = NAN. */
enum { AB_FIT_BON = 1, AB_FIT_RL };

typedef struct {
  double alpha, beta, alpha_se, beta_se;
  double r2; /* 1 - SS_res / SS_tot about the (weighted) mean */
  double peak_kl, peak_gain;
} ab_goodhart;

/* n >= 3 points with kl >= 0 finite, gold finite, se > 0 finite, and at
 * least two distinct positive kl (AB_EDOM otherwise). */
int ab_goodhart_fit(const double *kl, const double *gold, const double *se,
                    size_t n, int form, ab_goodhart *out);

/* ------------------------------------------------------------------------ */
/* Every divergence budget (README, "The mathematics"): the largest gain
 *   sup { E_pi r - E_ref r : D(pi || ref) <= budget }
 * for the families kl, chi2, tv, hellinger, reverse_kl, renyi (order in
 * (0, inf], 1 = kl) and alpha (any real order) of ab_family (not js or a
 * user f: AB_EUNDEF).  KL takes ab_tail_bound / ab_tail_kl_needed.  Renyi
 * of order inf caps the ratio at e^c: the top mass e^-c of the reference.
 *  - finite laws: the exact frontier, by the dual solution (the optimal
 *    ratio g ~ (1 + u x)_+^{1/(a-1)}, one monotone 1-D solve on u, a pass over
 *    the atoms per step, ties share g); chi2 in closed form after one sort
 *    (O(log n) per budget); tv by moving mass from the lowest atoms to the
 *    top.  Past the divergence of the law given the top atom the value is
 *    sup r - E r.  Accuracy: about 1e-13 relative (the solves stop at 4e-16
 *    in their parameter).
 *  - exact laws: the same solve with integrals over the quantile v in
 *    (0, 1), r = Q(v) (GSL qags, split at the kinks; about 1e-12 relative,
 *    an estimate); +inf for tv, hellinger, reverse_kl and orders below 1
 *    when the reward is not bounded above; tv and order inf by quadrature of
 *    the quantile.  AB_EUNDEF for Student t and Pareto (power families) and,
 *    on a continuous law bounded above, past the budget where the optimum
 *    of an order below 1 gets a singular part at the top.
 *  - assumption classes (and bounded{mean=}): the tightest certified route
 *    (ab_budget_route_name); +inf where the class admits an unbounded gain.
 * routes (NULL allowed) gets each element's AB_BUDGET_... route; on failure
 * *failed_at (NULL allowed) is the index that failed. */
enum {
  AB_BUDGET_EXACT = 1,    /* the exact frontier of the law */
  AB_BUDGET_KL,           /* the family is KL: the transport bound */
  AB_BUDGET_KL_CHI2,      /* the KL bound at KL <= log(1 + chi2) */
  AB_BUDGET_KL_RENYI,     /* the KL bound at KL <= D_a (a >= 1) */
  AB_BUDGET_SD_CHI2,      /* sd sqrt(chi2), sd^2 the variance proxy (chi2 <=
                             e^{D_a} - 1 for Renyi a >= 2) */
  AB_BUDGET_TV,           /* (hi - lo) tv */
  AB_BUDGET_TV_HELLINGER, /* tv <= sqrt(H2 (2 - H2)) */
  AB_BUDGET_TV_PINSKER,   /* tv <= sqrt(KL / 2) or sqrt(D_a / (2 a)), a < 1 */
  AB_BUDGET_UNBOUNDED     /* the class admits an unbounded gain */
};
const char *ab_budget_route_name(int route);
int ab_budget_gain(const ab_tail *t, const ab_family *f, const double *budget,
                   size_t n, double *out, int *routes, size_t *failed_at);
/* The inverse: the smallest budget whose frontier reaches gain (0 for a
 * gain <= 0, +inf beyond reach; 0 where every positive budget gains +inf). */
int ab_budget_needed(const ab_tail *t, const ab_family *f, const double *gain,
                     size_t n, double *out, int *routes, size_t *failed_at);
/* The same on the worker pool (work NULL: one thread): a finite law's
 * budgets in blocks of 16 to 64, threads only for atoms x budgets >= 2e5,
 * progress in budgets, values bit-identical for any thread count (each budget is
 * solved on its own); AB_ECANCEL with *failed_at = n when cancelled. */
int ab_budget_gain_work(const ab_tail *t, const ab_family *f,
                        const double *budget, size_t n, const ab_work *work,
                        double *out, int *routes, size_t *failed_at);
int ab_budget_needed_work(const ab_tail *t, const ab_family *f,
                          const double *gain, size_t n, const ab_work *work,
                          double *out, int *routes, size_t *failed_at);
/* The number of atoms of a finite law (those of positive probability, in
 * the order given), 0 for other tails. */
size_t ab_tail_atoms(const ab_tail *t);
/* The optimal policy of a finite law at a budget: policy[i] (ab_tail_atoms
 * entries) is its probability of atom i; for tv the mass moves from the
 * lowest atoms to the top ones (in proportion to their mass).  AB_EUNDEF
 * for other tails. */
int ab_budget_policy(const ab_tail *t, const ab_family *f, double budget,
                     double *policy);

/* ------------------------------------------------------------------------ */
/* Verifiable (binary) rewards: GRPO dynamics (README.md, "Verifiable
 * rewards"; Mroueh 2025, arXiv 2503.06639) and best-of-n on a binary
 * reward.  Success probabilities are carried in log-odds
 * x = log(p / (1 - p)), so that p within e^-700 of 1 (or of 0) keeps its
 * digits. */

/* Variants of the recurrence (Omega(p) = (p (1 - p) + eps)^(-1/2)):
 *   AB_GRPO_STANDARD  logit p_n = logit p_ref + Omega(p_{n-1}) / beta
 *   AB_GRPO_DR        logit p_n = logit p_ref + 1 / beta   (Dr. GRPO)
 *   AB_GRPO_MIRROR    logit p_n = logit p_{n-1} + Omega(p_{n-1}) / beta
 *   AB_GRPO_TWO_KL    logit p_n = alpha logit p_ref + (1 - alpha) logit p_{n-1}
 *                                 + Omega(p_{n-1}) / beta */
enum { AB_GRPO_STANDARD = 1, AB_GRPO_DR, AB_GRPO_MIRROR, AB_GRPO_TWO_KL };

typedef struct {
  int variant;  /* AB_GRPO_... */
  double p_ref; /* in [0, 1]; 0 and 1 are absorbing */
  double beta;  /* > 0, finite */
  double eps;   /* >= 0, finite */
  double alpha; /* in [0, 1], two_kl only (0: mirror, 1: standard) */
} ab_grpo;

/* The variant named "grpo", "dr_grpo", "mirror" or "two_kl" (0: unknown),
 * and the name of a variant (NULL: unknown). */
int ab_grpo_variant(const char *name);
const char *ab_grpo_variant_name(int variant);
/* AB_OK if every field is in its domain, else AB_EDOM. */
int ab_grpo_check(const ab_grpo *g);
/* The log-odds log(p / (1 - p)) of p in [0, 1] (+-inf at 1 and 0), and p
 * and 1 - p from log-odds x, each to full relative precision. */
int ab_logit(double p, double *x);
void ab_logistic(double x, double *p, double *one_minus_p);

/* One step of the recurrence from log-odds x (+-inf allowed: a previous
 * policy that never or always succeeds keeps that support where the variant
 * keeps a KL to it).  AB_EDOM for two_kl with 0 < alpha < 1 when the
 * reference and the previous policy put all their mass on opposite
 * outcomes (the geometric mixture is then zero). */
int ab_grpo_step(const ab_grpo *g, double x, double *next);
/* The same from a probability: *p_next and its log-odds *x_next. */
int ab_grpo_step_p(const ab_grpo *g, double p, double *p_next,
                   double *x_next);
/* p_1 .. p_steps from p_0 = p_ref, with their log-odds (x may be NULL). */
int ab_grpo_trajectory(const ab_grpo *g, size_t steps, double *p, double *x);

/* A fixed point (or a point of a cycle) of the recurrence. */
typedef struct {
  double p;          /* the success probability */
  double logit;      /* its log-odds */
  double slope;      /* h'(p) = dp_next / dp there.  At a fixed
                        point the same as d logit p_next / d logit p; at a
                        cycle's point a -> b it is (d logit b / d logit a)
                        b (1 - b) / (a (1 - a)), and the product over the
                        cycle is its multiplier */
  int attracting;    /* a fixed point: |slope| < 1; a cycle's point: whether
                        the cycle attracts (|multiplier| < 1; always, as
                        ab_grpo_limit reports only proven attractors) */
  double kl;         /* kl_bin(p* || p_ref), the KL of the policy to ref */
  double gain;       /* p* - p_ref */
} ab_grpo_point;

#define AB_GRPO_MAX_POINTS 8
/* Every fixed point in (0, 1), ascending (at most AB_GRPO_MAX_POINTS;
 * AB_ERANGE beyond, or when a fixed point's log-odds overflow a double).
 * Bracketed in log-odds by a subdivision that excludes a cell only when a
 * bound on the map over the cell proves it holds no root (Omega is monotone
 * on each side of p = 1/2) or proves the map monotone there (a bound on its
 * derivative), then Brent's method (GSL).  A double root (a tangency, at
 * a bifurcation) counts only where h(x) - x changes sign in floating point.
 * dr_grpo has its single point logit p_ref + 1/beta; mirror none (Omega > 0:
 * it only climbs), nor p_ref = 0 or 1 (absorbing). */
int ab_grpo_fixed_points(const ab_grpo *g, ab_grpo_point *pts,
                         size_t *count);

/* Where the iteration from p_0 = p_ref goes.  Told apart in log-odds
 * (p rounding to 1 neither merges distinct log-odds nor splits equal
 * ones): a fixed point once a contraction of an interval about it is
 * proved (bounds on h' over the interval), a cycle of period k once the
 * orbit nearly repeats at lag k, Newton's method on h^k(x) = x finds the
 * cycle with its k points pairwise apart far beyond the rounding, and a
 * contraction about it is proved likewise. */
enum {
  AB_GRPO_ABSORBING = 1, /* p_ref = 0 or 1: it stays there */
  AB_GRPO_FIXED,         /* to a fixed point */
  AB_GRPO_CYCLE,         /* to a two-cycle h(a) = b, h(b) = a */
  AB_GRPO_CERTAINTY,     /* p_n -> 1 (mirror; eps = 0 without a fixed point
                            in reach) */
  AB_GRPO_IRREGULAR,     /* none of these: chaos (the standard map can be
                            chaotic), found by a positive Lyapunov exponent
                            over steps 10^4..2 10^4, or no limit proved
                            within AB_GRPO_MAX_STEPS steps */
  AB_GRPO_PERIODIC       /* to a cycle of period 3 to AB_GRPO_MAX_PERIOD */
};
#define AB_GRPO_MAX_STEPS 100000
#define AB_GRPO_MAX_PERIOD 64
typedef struct {
  int kind;                    /* AB_GRPO_ABSORBING ... */
  size_t npoints;              /* 1 (fixed, absorbing, certainty,
                                  irregular: the last iterate), k (a cycle
                                  of period k) */
  ab_grpo_point point[AB_GRPO_MAX_PERIOD]; /* the limit; a cycle's points
                                  in the order of the orbit from the lowest
                                  (h maps point[i] to point[i+1 mod k]),
                                  slopes h'(p) */
  double p, kl, gain;          /* the limit; for a cycle the averages over
                                  its k points; irregular: the last iterate */
  double multiplier;           /* the fixed point's slope, or the cycle's
                                  multiplier prod h'(point[i]) (the same in
                                  p and in log-odds); NaN for irregular */
  double p_min, p_max;         /* the range of a cycle's points; irregular:
                                  of the iterates after the first 10^4 */
  size_t period;               /* 1, k >= 2 for a cycle, 0 (irregular) */
  size_t steps;                /* iterations until the orbit is within
                                  1e-12 (1 + |logit|) in log-odds of the
                                  limit (of a cycle's point): counted until
                                  the proof, then predicted from the rate
                                  |multiplier| per period */
} ab_grpo_limit_result;
int ab_grpo_limit(const ab_grpo *g, ab_grpo_limit_result *out);

/* Best-of-n on a binary reward with success probability p in [0, 1], real
 * n >= 1 (up to 1e15; p down to 1e-300): pass@n q = 1 - (1-p)^n =
 * -expm1(n log1p(-p)); the law is ref q/p on successes and ref (1-p)^(n-1)
 * on failures, so its KL is kl_bin(q || p), on the tilt frontier; the win
 * rate against a reference sample (ties count one half) (1 + q - p)/2; the
 * matching tilt logit q - logit p (0 when p is 0 or 1). */
typedef struct {
  double pass;     /* q */
  double fail;     /* 1 - q = (1 - p)^n */
  double kl;       /* kl_bin(q || p) */
  double win_rate; /* (1 + q - p) / 2 */
  double tilt;     /* logit q - logit p */
} ab_bon_binary_result;
int ab_bon_binary(double p, double n, ab_bon_binary_result *out);

/* Logged runs per prompt (README.md, "Per prompt").  Rows are grouped by prompt id; each
 * prompt's responses, equally weighted, are its empirical reference law. */

/* A grouping of n rows into P prompts, in the order of first appearance:
 * first[g] is the row (0-based) where prompt g first appears, the grouped
 * rows offsets[g] .. offsets[g+1] - 1 belong to it, and order[j] is the
 * original row of grouped row j (rows keep their order within a prompt). */
/* As with ab_table, the arrays are exactly as long as said, the sizes
 * ab_grouping_free gives back. */
typedef struct {
  size_t rows, prompts;
  size_t *first;   /* prompts entries */
  size_t *offsets; /* prompts + 1 entries */
  size_t *order;   /* rows entries */
} ab_grouping;
/* Group by string ids (s[i] of len[i] bytes, compared bytewise) or by
 * numeric ids (NaN refused; -0 is 0), by hashing: O(n).  Free with
 * ab_grouping_free (also after a failure). */
int ab_group_strings(const char *const *s, const size_t *len, size_t n,
                     ab_grouping *g);
int ab_group_numbers(const double *ids, size_t n, ab_grouping *g);
void ab_grouping_free(ab_grouping *g);
/* A running 64-bit hash of byte strings (not cryptographic): the
 * fingerprint that keeps partial results of different runs apart. */
uint64_t ab_hash_bytes(uint64_t h, const void *p, size_t len);
/* out[j] = x[order[j]]: a column into grouped order. */
void ab_group_permute(const ab_grouping *g, const double *x, double *out);

/* Aggregates over prompts (each prompt weighs 1/P); NaN where not asked. */
typedef struct {
  double lambda;    /* the common tilt (tilts) */
  double kl;        /* E_x KL_x */
  double gain;      /* E_x gain_x on the reward */
  double gold_gain; /* E_x gain_x on the gold column */
  double win_rate;  /* E_x win rate (best-of-n) */
} ab_prompts_result;

/* The mean over P prompts of x, summed in prompt order (compensated): the
 * one reduction of every aggregate, so that merged shards reduce alike. */
double ab_prompts_mean(const double *x, size_t P);
/* AB_EDOM (and *bad = the prompt) for a prompt with fewer than
 * min_responses rows or a reward that is not finite. */
int ab_prompts_check(const size_t *off, size_t P, const double *r,
                     size_t min_responses, size_t *bad);
/* One common tilt pi_x = ref_x e^{lambda r} / Z_x for every prompt: given
 * lambda = 1/value (mode AB_TILT_BETA) or solved so that E_x KL_x = value
 * (AB_TILT_KL; the optimum of max E_x gain_x s.t. E_x KL_x <= value, lambda
 * = inf beyond saturation).  Per prompt: KL, gain, gold gain (gold may be
 * NULL). */
int ab_prompts_tilt(const size_t *off, size_t P, const double *r,
                    const double *gold, int mode, double value, double *kl_x,
                    double *gain_x, double *gold_x, ab_prompts_result *out);
/* Exact best-of-n (n >= 1 real, ties broken uniformly) of every prompt's
 * empirical law: KL, gain, gold gain, win rate per prompt. */
int ab_prompts_bon(const size_t *off, size_t P, const double *r,
                   const double *gold, double n, double *kl_x, double *gain_x,
                   double *gold_x, double *win_x, ab_prompts_result *out);
/* The bound on the common tilt's gain at prompt-averaged KL kl: sqrt(2
 * E_x[s2(x)] kl) (Cauchy-Schwarz over prompts), and E_x s2(x); computed on
 * the rewards rescaled by a power of two, so that a bound that is a double
 * does not underflow with s2 (rewards near 1e-300). */
int ab_prompts_bound(const size_t *off, size_t P, const double *r, double kl,
                     double *bound, double *s2);
/* The same with the per-prompt proxies on `work` (threads, progress), as
 * ab_prompts_variance_proxy_work. */
int ab_prompts_bound_work(const size_t *off, size_t P, const double *r,
                          double kl, const ab_work *work, double *bound,
                          double *s2);
/* Each prompt's sub-Gaussian variance proxy sup_l 2 psi_x(l) / l^2 of its
 * empirical law (as ab_tail_variance_proxy on ab_tail_discrete). */
int ab_prompts_variance_proxy(const size_t *off, size_t P, const double *r,
                              double *s2_x);
/* The same on work->threads threads (0: every core; work NULL: one thread),
 * the prompts in blocks of 256, each value computed by one thread: the
 * values are bit-identical for any number of threads.  Progress in prompts
 * done; a cancel gives AB_ECANCEL. */
int ab_prompts_variance_proxy_work(const size_t *off, size_t P,
                                   const double *r, const ab_work *work,
                                   double *s2_x);
/* The policy given by logged log-probabilities of reference responses:
 * pi_x(j) proportional to e^{logp_policy - logp_ref} on prompt x's
 * responses; its KL(pi||ref), KL(ref||pi) and gain per prompt.  At least two
 * responses per prompt (else AB_EDOM with *bad the prompt). */
int ab_prompts_reweight(const size_t *off, size_t P, const double *r,
                        const double *logp_policy, const double *logp_ref,
                        double *kl_x, double *rkl_x, double *gain_x,
                        size_t *bad);
/* The delta-method standard error over prompts of an aggregate whose
 * influence on prompt q is phi_q = sum_t c[t] x[t][q], t < terms:
 * sd_q(phi) / sqrt(P) (0 for one prompt).  AB_EDOM for a phi that is not
 * finite. */
int ab_prompts_se(const double *const *x, const double *c, size_t terms,
                  size_t P, double *se);
/* Each prompt's own exact frontier at its own budget kl_x[q]. */
int ab_prompts_frontier(const size_t *off, size_t P, const double *r,
                        const double *kl_x, double *frontier_x);

#ifdef __cplusplus
}
#endif

#endif
