/*
 * tails.c - constructors of the tail objects, their closed forms, and the
 * dispatch to the generic engine of frontier.c.
 *
 * Closed forms (DESIGN 3.1), each the infimum inf_l (kl + phi(l)) / l:
 *   sub-Gaussian s2:         sqrt(2 s2 kl)
 *   sub-gamma (v, c):        sqrt(2 v kl) + c kl
 *   sub-exponential (nu, b): sqrt(2 nu^2 kl) if kl <= nu^2/(2 b^2),
 *                            else b kl + nu^2/(2 b)
 *   bounded [lo, hi]:        (hi - lo) sqrt(kl / 2) (Hoeffding), capped at
 *                            hi - lo, which it reaches at kl = 2
 * Exact laws go through the engine: their bound is the tilting frontier.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"

static int positive(double x) { return isfinite(x) && x > 0.0; }

/* A tail allocated through a (NULL: the process allocator), which it keeps
 * for its arrays and its own release. */
static void init_tail(ab_tail *t, int kind) {
  memset(t, 0, sizeof *t);
  t->kind = kind;
  t->mean = NAN;
  t->variance = NAN;
  t->lmin = -INFINITY;
  t->lmax = INFINITY;
  t->sup = INFINITY;
  t->inf = -INFINITY;
  t->two_sided = 1;
}

static ab_tail *new_tail_a(const ab_allocator *a, int kind) {
  a = ab_allocator_or_process(a);
  ab_tail *t = ab_malloc_a(a, sizeof *t);
  if (!t) return NULL;
  init_tail(t, kind);
  t->alloc = *a;
  return t;
}

static ab_tail *new_tail(int kind) { return new_tail_a(NULL, kind); }

int ab_tail_discrete_in(ab_tail *t, const double *values, const double *probs,
                        size_t n, double *x, double *w) {
  init_tail(t, probs ? AB_KIND_DISCRETE : AB_KIND_EMPIRICAL);
  t->x = x;
  t->w = probs ? w : NULL;
  return ab_discrete_setup(t, values, probs, n);
}

void ab_tail_free(ab_tail *t) {
  if (!t) return;
  ab_allocator a = t->alloc;
  ab_free_a(&a, t->x, t->n * sizeof *t->x);
  ab_free_a(&a, t->w, t->n * sizeof *t->w);
  ab_free_a(&a, t, sizeof *t);
}

/* A law or class whose cumulant is sd^2 l^2 / 2 on (lmin, lmax).  sd is kept
 * (aux[0]) as well as the variance, which may underflow for sd < 1e-154. */
static int quadratic(int kind, double sd, ab_tail **out) {
  ab_tail *t = new_tail(kind);
  if (!t) return AB_ENOMEM;
  t->variance = sd * sd;
  t->aux[0] = sd;
  t->cgf = ab_cgf_subgaussian;
  *out = t;
  return AB_OK;
}

int ab_tail_subgaussian(double variance, ab_tail **out) {
  if (!positive(variance)) return AB_EDOM;
  int st = quadratic(AB_KIND_SUBGAUSSIAN, sqrt(variance), out);
  if (!st) (*out)->par[0] = variance;
  return st;
}

int ab_tail_gaussian(double mean, double sd, ab_tail **out) {
  if (!isfinite(mean) || !positive(sd) || !isfinite(sd * sd)) return AB_EDOM;
  int st = quadratic(AB_KIND_GAUSSIAN, sd, out);
  if (st) return st;
  (*out)->par[0] = mean;
  (*out)->par[1] = sd;
  (*out)->mean = mean;
  return AB_OK;
}

int ab_tail_subexponential(double nu, double b, ab_tail **out) {
  if (!positive(nu) || !positive(b) || !isfinite(nu * nu)) return AB_EDOM;
  int st = quadratic(AB_KIND_SUBEXPONENTIAL, nu, out);
  if (st) return st;
  ab_tail *t = *out;
  t->par[0] = nu;
  t->par[1] = b;
  t->lmax = 1.0 / b;
  t->lmin = -1.0 / b;
  t->closed_max = t->closed_min = 1;
  return AB_OK;
}

int ab_tail_bounded(double lo, double hi, ab_tail **out) {
  double w = hi - lo;
  if (!isfinite(lo) || !isfinite(hi) || !positive(w)) return AB_EDOM;
  int st = quadratic(AB_KIND_BOUNDED, 0.5 * w, out);
  if (st) return st;
  ab_tail *t = *out;
  t->par[0] = lo;
  t->par[1] = hi;
  /* no policy gains more than hi - lo; Hoeffding's bound reaches it at
   * kl = 2, where the bound saturates (psup = e^-2) */
  t->sup = w;
  t->inf = -w;
  t->psup = t->pinf = exp(-2.0);
  t->ksup = t->kinf = 2.0;
  return AB_OK;
}

int ab_tail_subgamma(double v, double c, ab_tail **out) {
  if (!positive(v) || !isfinite(c) || c < 0.0) return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_SUBGAMMA);
  if (!t) return AB_ENOMEM;
  t->par[0] = v;
  t->par[1] = c;
  t->variance = v;
  t->lmax = c > 0.0 ? 1.0 / c : INFINITY;
  t->lmin = 0.0;
  t->two_sided = 0;
  t->cgf = ab_cgf_subgamma;
  *out = t;
  return AB_OK;
}

int ab_tail_uniform(double lo, double hi, ab_tail **out) {
  double w = hi - lo;
  if (!isfinite(lo) || !isfinite(hi) || !positive(w)) return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_UNIFORM);
  if (!t) return AB_ENOMEM;
  t->par[0] = lo;
  t->par[1] = hi;
  t->mean = lo + 0.5 * w;
  t->variance = w * w / 12.0;
  t->sup = 0.5 * w;
  t->inf = -0.5 * w;
  t->cgf = ab_cgf_uniform;
  *out = t;
  return AB_OK;
}

static int gamma_like(int kind, double shape, double scale, ab_tail **out) {
  ab_tail *t = new_tail(kind);
  if (!t) return AB_ENOMEM;
  t->par[0] = shape;
  t->par[1] = scale;
  t->mean = shape * scale;
  t->variance = shape * scale * scale;
  t->lmax = 1.0 / scale;
  t->inf = -shape * scale; /* R >= 0 */
  t->cgf = ab_cgf_gamma;
  *out = t;
  return AB_OK;
}

int ab_tail_gamma(double shape, double scale, ab_tail **out) {
  /* a subnormal scale has too few digits, and 1/scale (lambda_max) none */
  if (!positive(shape) || !positive(scale) || scale < DBL_MIN ||
      !positive(shape * scale * scale) || !isfinite(shape * scale * scale))
    return AB_EDOM;
  return gamma_like(AB_KIND_GAMMA, shape, scale, out);
}

int ab_tail_exponential(double rate, ab_tail **out) {
  /* the scale 1/rate must be a normal double (see gamma) */
  if (!positive(rate) || !(1.0 / rate >= DBL_MIN) ||
      !isfinite(1.0 / (rate * rate)))
    return AB_EDOM;
  int st = gamma_like(AB_KIND_EXPONENTIAL, 1.0, 1.0 / rate, out);
  if (!st) (*out)->par[2] = rate;
  return st;
}

int ab_tail_gumbel(double loc, double scale, ab_tail **out) {
  /* a subnormal scale has no reciprocal: lambda_max = 1/scale = inf */
  if (!isfinite(loc) || !positive(scale) || !isfinite(scale * scale) ||
      scale < DBL_MIN)
    return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_GUMBEL);
  if (!t) return AB_ENOMEM;
  t->par[0] = loc;
  t->par[1] = scale;
  t->mean = loc + M_EULER * scale;
  t->variance = M_PI * M_PI * scale * scale / 6.0;
  t->lmax = 1.0 / scale;
  t->cgf = ab_cgf_gumbel;
  int st = ab_gumbel_setup(t);
  if (st) {
    ab_tail_free(t);
    return st;
  }
  *out = t;
  return AB_OK;
}

int ab_tail_logistic(double loc, double scale, ab_tail **out) {
  /* a subnormal scale has no reciprocal: lambda_max = 1/scale = inf */
  if (!isfinite(loc) || !positive(scale) || !isfinite(scale * scale) ||
      scale < DBL_MIN)
    return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_LOGISTIC);
  if (!t) return AB_ENOMEM;
  t->par[0] = loc;
  t->par[1] = scale;
  t->mean = loc;
  t->variance = M_PI * M_PI * scale * scale / 3.0;
  t->lmax = 1.0 / scale;
  t->lmin = -1.0 / scale;
  t->cgf = ab_cgf_logistic;
  *out = t;
  return AB_OK;
}

int ab_tail_beta(double a, double b, ab_tail **out) {
  /* below 1e-8 the methods of laws.c are not checked: refused rather than
   * answered to unknown accuracy */
  if (!positive(a) || !positive(b) || !isfinite(a + b) || a < AB_BETA_MIN ||
      b < AB_BETA_MIN || a > AB_BETA_MAX || b > AB_BETA_MAX)
    return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_BETA);
  if (!t) return AB_ENOMEM;
  double c = a + b;
  t->par[0] = a;
  t->par[1] = b;
  t->mean = a / c;
  t->variance = (a / c) * (b / c) / (c + 1.0);
  t->sup = b / c;
  t->inf = -a / c;
  t->cgf = ab_cgf_beta;
  int st = ab_beta_setup(t);
  if (st) {
    ab_tail_free(t);
    return st;
  }
  *out = t;
  return AB_OK;
}

/* A heavy-tailed law: the cumulant is finite only at l = 0 on the heavy
 * side (lmax = 0, closed there so that psi(0) = 0 is defined). */
static ab_tail *heavy_tail(int kind, double a, double b) {
  ab_tail *t = new_tail(kind);
  if (!t) return NULL;
  t->par[0] = a;
  t->par[1] = b;
  t->lmax = 0.0;
  t->closed_max = 1;
  t->cgf = ab_cgf_heavy;
  return t;
}

int ab_tail_student_t(double df, double scale, ab_tail **out) {
  if (!positive(df) || !positive(scale) || !isfinite(scale * scale))
    return AB_EDOM;
  ab_tail *t = heavy_tail(AB_KIND_STUDENT_T, df, scale);
  if (!t) return AB_ENOMEM;
  t->lmin = 0.0;
  t->closed_min = 1;
  t->mean = df > 1.0 ? 0.0 : NAN;
  t->variance = df > 2.0 ? scale * scale * (df / (df - 2.0)) : INFINITY;
  *out = t;
  return AB_OK;
}

int ab_tail_pareto(double xm, double alpha, ab_tail **out) {
  if (!positive(xm) || !positive(alpha)) return AB_EDOM;
  ab_tail *t = heavy_tail(AB_KIND_PARETO, xm, alpha);
  if (!t) return AB_ENOMEM;
  t->two_sided = 0; /* the left tail is bounded (R >= xm); not modelled */
  t->lmin = 0.0;
  t->closed_min = 1;
  if (alpha > 1.0) {
    double a1 = alpha - 1.0;
    t->mean = xm * (alpha / a1);
    t->inf = xm - t->mean; /* -xm / (alpha - 1) */
    t->variance = alpha > 2.0 ? (xm / a1) * (xm / a1) * (alpha / (alpha - 2.0))
                              : INFINITY;
  } else {
    t->mean = INFINITY;
    t->variance = INFINITY;
  }
  if (!isfinite(t->mean) && alpha > 1.0) {
    ab_tail_free(t);
    return AB_EDOM;
  }
  *out = t;
  return AB_OK;
}

static int heavy(const ab_tail *t) {
  return t->kind == AB_KIND_STUDENT_T || t->kind == AB_KIND_PARETO;
}

static int finite_law(const ab_allocator *a, int kind, const double *v,
                      const double *p, size_t n, ab_tail **out) {
  ab_tail *t = new_tail_a(a, kind);
  if (!t) return AB_ENOMEM;
  int st = ab_discrete_setup(t, v, p, n);
  if (st) {
    ab_tail_free(t);
    return st;
  }
  *out = t;
  return AB_OK;
}

int ab_tail_discrete_a(const ab_allocator *a, const double *values,
                       const double *probs, size_t n, ab_tail **out) {
  return finite_law(a, probs ? AB_KIND_DISCRETE : AB_KIND_EMPIRICAL, values,
                    probs, n, out);
}

int ab_tail_discrete(const double *values, const double *probs, size_t n,
                     ab_tail **out) {
  return ab_tail_discrete_a(NULL, values, probs, n, out);
}

int ab_tail_bernoulli(double p, ab_tail **out) {
  if (!(p >= 0.0 && p <= 1.0)) return AB_EDOM;
  double v[2] = {0.0, 1.0}, q[2] = {1.0 - p, p};
  int st = finite_law(NULL, AB_KIND_BERNOULLI, v, q, 2, out);
  if (!st) (*out)->par[0] = p;
  return st;
}

/* The two-point law on {lo, hi} with the given mean has the largest
 * cumulant of all laws on [lo, hi] with that mean (DESIGN 3.1). */
int ab_tail_bounded_mean(double lo, double hi, double mean, ab_tail **out) {
  double w = hi - lo;
  if (!isfinite(lo) || !isfinite(hi) || !positive(w) || !isfinite(mean) ||
      mean < lo || mean > hi)
    return AB_EDOM;
  double p = (mean - lo) / w;
  double v[2] = {lo, hi}, q[2] = {1.0 - p, p};
  int st = finite_law(NULL, AB_KIND_BOUNDED_MEAN, v, q, 2, out);
  if (st) return st;
  (*out)->par[0] = lo;
  (*out)->par[1] = hi;
  (*out)->par[2] = mean;
  (*out)->mean = mean;
  return AB_OK;
}

int ab_tail_cumulant(ab_cumulant_fn fn, void *ctx, double lambda_max,
                     ab_tail **out) {
  if (!fn || !(lambda_max > 0.0)) return AB_EDOM;
  ab_tail *t = new_tail(AB_KIND_CUMULANT);
  if (!t) return AB_ENOMEM;
  t->user = fn;
  t->user_ctx = ctx;
  t->par[0] = lambda_max;
  t->lmax = lambda_max;
  t->lmin = 0.0;
  t->two_sided = 0;
  *out = t;
  return AB_OK;
}

double ab_tail_mean(const ab_tail *t) { return t->mean; }

int ab_tail_describe(const ab_tail *t, char *buf, size_t len) {
  const double *p = t->par;
  switch (t->kind) {
  case AB_KIND_SUBGAUSSIAN:
    return snprintf(buf, len, "subgaussian(sigma=%.15g)", sqrt(p[0]));
  case AB_KIND_SUBGAMMA:
    return snprintf(buf, len, "subgamma(v=%.15g, c=%.15g)", p[0], p[1]);
  case AB_KIND_SUBEXPONENTIAL:
    return snprintf(buf, len, "subexponential(nu=%.15g, b=%.15g)", p[0], p[1]);
  case AB_KIND_BOUNDED:
    return snprintf(buf, len, "bounded(lo=%.15g, hi=%.15g)", p[0], p[1]);
  case AB_KIND_BOUNDED_MEAN:
    return snprintf(buf, len, "bounded(lo=%.15g, hi=%.15g, mean=%.15g)", p[0],
                    p[1], p[2]);
  case AB_KIND_GAUSSIAN:
    return snprintf(buf, len, "gaussian(mean=%.15g, sd=%.15g)", p[0], p[1]);
  case AB_KIND_UNIFORM:
    return snprintf(buf, len, "uniform(lo=%.15g, hi=%.15g)", p[0], p[1]);
  case AB_KIND_BERNOULLI:
    return snprintf(buf, len, "bernoulli(p=%.15g)", p[0]);
  case AB_KIND_EXPONENTIAL:
    return snprintf(buf, len, "exponential(rate=%.15g)", p[2]);
  case AB_KIND_GAMMA:
    return snprintf(buf, len, "gamma(shape=%.15g, scale=%.15g)", p[0], p[1]);
  case AB_KIND_GUMBEL:
    return snprintf(buf, len, "gumbel(loc=%.15g, scale=%.15g)", p[0], p[1]);
  case AB_KIND_LOGISTIC:
    return snprintf(buf, len, "logistic(loc=%.15g, scale=%.15g)", p[0], p[1]);
  case AB_KIND_BETA:
    return snprintf(buf, len, "beta(a=%.15g, b=%.15g)", p[0], p[1]);
  case AB_KIND_DISCRETE:
    return snprintf(buf, len, "discrete(%zu atoms, mean=%.15g)", t->n, t->mean);
  case AB_KIND_EMPIRICAL:
    return snprintf(buf, len, "empirical(%zu samples, mean=%.15g)", t->n,
                    t->mean);
  case AB_KIND_STUDENT_T:
    return snprintf(buf, len, "student_t(df=%.15g, scale=%.15g)", p[0], p[1]);
  case AB_KIND_PARETO:
    return snprintf(buf, len, "pareto(xm=%.15g, alpha=%.15g)", p[0], p[1]);
  default:
    return snprintf(buf, len, "cumulant(lambda_max=%.15g)", p[0]);
  }
}

/* ---- bounds ------------------------------------------------------------- */

/* sqrt(2 x), also for x > DBL_MAX / 2 where 2 x overflows (sqrt(2) sqrt(x)
 * there: the direct form elsewhere keeps sqrt(2 * 0.5) exactly 1). */
static double sqrt2x(double x) {
  return x <= 0.5 * DBL_MAX ? sqrt(2.0 * x) : M_SQRT2 * sqrt(x);
}

/* Closed form of the bound, or -1 if the tail has none. */
static int closed_bound(const ab_tail *t, double kl, double *out) {
  const double *p = t->par;
  switch (t->kind) {
  case AB_KIND_SUBGAUSSIAN:
  case AB_KIND_GAUSSIAN:
    *out = kl == 0.0 ? 0.0 : t->aux[0] * sqrt2x(kl);
    return AB_OK;
  case AB_KIND_BOUNDED:
    *out = kl >= 2.0 ? p[1] - p[0] : (p[1] - p[0]) * sqrt(0.5 * kl);
    return AB_OK;
  case AB_KIND_SUBGAMMA: /* one-sided: check_side refused the loss */
    /* (kl = 0 and c = 0 must not meet an infinite factor) */
    *out = kl == 0.0 ? 0.0
                     : sqrt(p[0]) * sqrt2x(kl) + (p[1] > 0.0 ? p[1] * kl : 0.0);
    return AB_OK;
  case AB_KIND_SUBEXPONENTIAL: {
    double nu = p[0], b = p[1];
    *out = kl <= 0.5 * (nu / b) * (nu / b) ? nu * sqrt2x(kl)
                                           : b * kl + 0.5 * nu * (nu / b);
    return AB_OK;
  }
  case AB_KIND_STUDENT_T:
  case AB_KIND_PARETO:
    /* no exponential moment: inf_l (kl + psi(l)) / l over no l at all */
    *out = kl > 0.0 ? INFINITY : 0.0;
    return AB_OK;
  default:
    return -1;
  }
}

static int closed_kl_needed(const ab_tail *t, double g, double *out) {
  const double *p = t->par;
  switch (t->kind) {
  case AB_KIND_SUBGAUSSIAN:
  case AB_KIND_GAUSSIAN: {
    double r = g / t->aux[0];
    *out = 0.5 * r * r;
    return AB_OK;
  }
  case AB_KIND_BOUNDED: {
    double r = g / (p[1] - p[0]);
    *out = r > 1.0 ? INFINITY : 2.0 * r * r;
    return AB_OK;
  }
  case AB_KIND_SUBGAMMA: {
    /* sqrt(kl) = 2 g / (sqrt(2v) (1 + sqrt(1 + 2 c g / v))), rationalised:
     * kl = 2 (g / D)^2 with D = sqrt(v) + sqrt(v + 2 c g) (the limit v -> 0
     * is g / c); one-sided, so only the gain comes here */
    /* divided through by sqrt(g): kl = 2 r^2, r = sqrt(g) / (a + hypot(a,
     * sqrt(2c))), a = sqrt(v / g) (sqrt(c g) alone overflows at c, g ~ 1e308;
     * a overflows only where kl underflows) */
    double v = p[0], c = p[1], s = sqrt(g), a = sqrt(v) / s;
    double r = s / (a + hypot(a, c > 0.0 ? M_SQRT2 * sqrt(c) : 0.0));
    *out = 2.0 * r * r;
    return AB_OK;
  }
  case AB_KIND_SUBEXPONENTIAL: {
    double nu = p[0], b = p[1];
    if (g <= nu * (nu / b)) {
      double r = g / nu;
      *out = 0.5 * r * r;
    } else {
      *out = (g - 0.5 * nu * (nu / b)) / b;
    }
    return AB_OK;
  }
  case AB_KIND_STUDENT_T:
  case AB_KIND_PARETO:
    *out = 0.0; /* any kl > 0 allows every gain: the infimum is 0 */
    return AB_OK;
  default:
    return -1;
  }
}

static int check_side(const ab_tail *t, int side) {
  if (side != AB_GAIN && side != AB_LOSS) return AB_EDOM;
  if (side == AB_LOSS && !t->two_sided) return AB_EUNDEF;
  return AB_OK;
}

/* A finite law whose centred atoms reach beyond 2^960 (~1e289): the
 * engine's sums and brackets lose their digits there (atoms at +-1e307 gave
 * a gain 31% high), but the frontier is scale-equivariant (the same KL buys
 * 2^-k the gain on the atoms times 2^-k), so it runs on the atoms scaled by
 * a power of two, exactly, and the caller scales back by 2^k.  *k = 0 and
 * *s = NULL when no scaling is needed. */
static int finite_scaled(const ab_tail *t, int *k, ab_tail **s) {
  double big = 0.0;
  *k = 0;
  *s = NULL;
  if (!ab_is_finite_law(t)) return AB_OK;
  for (size_t i = 0; i < t->n; i++) big = fmax(big, fabs(t->x[i]));
  if (!(big > 0x1p960)) return AB_OK;
  *k = ilogb(big) - 900;
  double *x = ab_malloc_n(t->n, sizeof *x);
  if (!x) return AB_ENOMEM;
  for (size_t i = 0; i < t->n; i++) x[i] = ldexp(t->x[i], -*k);
  int st = ab_tail_discrete(x, t->w, t->n, s);
  ab_free(x, t->n * sizeof *x);
  return st;
}

int ab_tail_bound(const ab_tail *t, int side, int method, double kl,
                  double *out) {
  int st = check_side(t, side);
  if (st) return st;
  if (!(kl >= 0.0)) return AB_EDOM;
  if ((method == AB_CLOSED || heavy(t)) && closed_bound(t, kl, out) != -1)
    return AB_OK;
  ab_tail *s;
  int k;
  if ((st = finite_scaled(t, &k, &s))) return st;
  if (!s) return ab_frontier_bound(t, side, kl, out, NULL, NULL);
  st = ab_frontier_bound(s, side, kl, out, NULL, NULL);
  ab_tail_free(s);
  if (!st) *out = ldexp(*out, k);
  return st;
}

int ab_tail_kl_needed(const ab_tail *t, int side, int method, double gain,
                      double *out) {
  int st = check_side(t, side);
  if (st) return st;
  if (isnan(gain)) return AB_EDOM;
  if (gain <= 0.0 || isinf(gain)) { /* no finite KL gains +inf */
    *out = gain <= 0.0 ? 0.0 : INFINITY;
    return AB_OK;
  }
  if ((method == AB_CLOSED || heavy(t)) && closed_kl_needed(t, gain, out) != -1)
    return AB_OK;
  ab_tail *s;
  int k;
  if ((st = finite_scaled(t, &k, &s))) return st;
  if (!s) return ab_frontier_kl_needed(t, side, gain, out);
  st = ab_frontier_kl_needed(s, side, ldexp(gain, -k), out);
  ab_tail_free(s);
  return st;
}

int ab_tail_tilt(const ab_tail *t, int side, double kl, double *lambda) {
  double g;
  int st = check_side(t, side);
  if (st) return st;
  if (!(kl >= 0.0)) return AB_EDOM;
  if (heavy(t)) {
    /* the bound is saturated at the essential supremum, +inf, once kl > 0 */
    *lambda = kl > 0.0 ? INFINITY : 0.0;
    return AB_OK;
  }
  return ab_frontier_bound(t, side, kl, &g, lambda, NULL);
}

int ab_tail_cumulant_eval(const ab_tail *t, int order, double l, double *out) {
  if (isnan(l) || order < 0 || order > 2) return AB_EDOM;
  if (l < 0.0 && !t->two_sided) return AB_EUNDEF;
  if (!t->cgf) {
    if (order != 0) return AB_EUNDEF;
    if (l >= t->lmax) {
      *out = INFINITY;
      return AB_OK;
    }
    if (t->user(t->user_ctx, l, out) != 0 || isnan(*out)) return AB_EFUNC;
    return *out < 0.0 ? AB_ENEGCUM : AB_OK;
  }
  if (l == 0.0) { /* psi(0) = psi'(0) = 0 and psi''(0) is the variance */
    *out = order == 2 ? t->variance : 0.0;
    return AB_OK;
  }
  int inside = (l < t->lmax || (l == t->lmax && t->closed_max)) &&
               (l > t->lmin || (l == t->lmin && t->closed_min));
  if (!inside) {
    *out = INFINITY;
    return AB_OK;
  }
  ab_cgf c;
  int st = t->cgf(t, l, l >= 0 ? t->lmax - l : l - t->lmin, &c);
  if (st) return st;
  *out = order == 0 ? c.psi : order == 1 ? c.dpsi : c.d2psi;
  return AB_OK;
}

int ab_tail_variance_proxy(const ab_tail *t, int method, double *out) {
  const double *p = t->par;
  if (method == AB_CLOSED) {
    switch (t->kind) {
    case AB_KIND_SUBGAUSSIAN:
    case AB_KIND_GAUSSIAN:
    case AB_KIND_BOUNDED:
    case AB_KIND_UNIFORM:
      *out = t->variance;
      return AB_OK;
    case AB_KIND_BERNOULLI:
    case AB_KIND_BOUNDED_MEAN: {
      /* Kearns-Saul: (1-2p) / (2 log((1-p)/p)) = d / (4 atanh d), d = 1-2p */
      double q = t->kind == AB_KIND_BERNOULLI ? p[0] : (p[2] - p[0]) / (p[1] - p[0]);
      double w = t->kind == AB_KIND_BERNOULLI ? 1.0 : p[1] - p[0];
      /* near the ends by (1 - 2q) / (2 log((1 - q)/q)) on the smaller of
       * q, 1 - q: d = 1 - 2q rounds to 1 for q < 1e-17, where the atanh
       * form gave 0 (Bernoulli(1e-300): 7.24e-4) */
      double d = 1.0 - 2.0 * q, qs = q < 0.5 ? q : 1.0 - q;
      double r = d == 0.0               ? 0.25
                 : fabs(d) < 0.5        ? d / (4.0 * atanh(d))
                 : qs > 0.0             ? (1.0 - 2.0 * qs) / (2.0 * (log1p(-qs) - log(qs)))
                                        : 0.0;
      *out = r * w * w;
      return AB_OK;
    }
    default:
      break; /* the rest from the frontier: +inf unless c = 0, ... */
    }
  }
  return ab_frontier_variance_proxy(t, out);
}

/* ---- vector forms --------------------------------------------------------- */

/* One block of a vector call: the solver warm-starts from the previous
 * budget of the same block only, so that each value depends on its block of
 * budgets (ab_pool_vec), never on the threads. */
typedef struct {
  const ab_tail *t;
  int side, method;
  int e; /* bounds are of t's atoms times 2^-e: scaled back by 2^e */
} vec_args;

static int bound_block(void *ctx, const double *kl, size_t n, double *out,
                       size_t *failed_at) {
  const vec_args *a = ctx;
  const ab_tail *t = a->t;
  ab_hint hint = {0, 0, 0.0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    double k = kl[i];
    int st;
    if (!(k >= 0.0)) st = AB_EDOM;
    else if ((a->method == AB_CLOSED || heavy(t)) &&
             closed_bound(t, k, &out[i]) != -1)
      st = AB_OK;
    else {
      st = ab_frontier_bound(t, a->side, k, &out[i], NULL, &hint);
      if (!st && a->e) out[i] = ldexp(out[i], a->e);
    }
    if (st) {
      *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

static int kl_needed_block(void *ctx, const double *gain, size_t n,
                           double *out, size_t *failed_at) {
  const vec_args *a = ctx;
  for (size_t i = 0; i < n; i++) {
    int st = ab_tail_kl_needed(a->t, a->side, a->method, gain[i], &out[i]);
    if (st) {
      *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

int ab_tail_bound_vec(const ab_tail *t, int side, int method, const double *kl,
                      size_t n, double *out, size_t *failed_at) {
  ab_work one = {1, NULL, NULL};
  return ab_tail_bound_vec_work(t, side, method, kl, n, &one, out, failed_at);
}

int ab_tail_bound_vec_work(const ab_tail *t, int side, int method,
                           const double *kl, size_t n, const ab_work *work,
                           double *out, size_t *failed_at) {
  ab_hint hint = {0, 0, 0.0, 0.0, 0.0};
  int st = check_side(t, side);
  if (st) {
    if (failed_at) *failed_at = 0;
    return st;
  }
  if (method == AB_CLOSED &&
      (t->kind == AB_KIND_SUBGAUSSIAN || t->kind == AB_KIND_GAUSSIAN)) {
    /* the hot path: sd sqrt(2 kl), streamed in chunks: a chunk whose
     * values are all in [0, DBL_MAX / 2] is computed two at a time (SSE2's
     * sqrtpd, correctly rounded like sqrt, which the compiler does not
     * vectorise while libm's sqrt may set errno); any other chunk element
     * by element (the failing index, sqrt2x beyond DBL_MAX / 2) */
    double sd = t->aux[0];
    for (size_t lo = 0; lo < n; lo += 1024) {
      size_t hi = n - lo > 1024 ? lo + 1024 : n, i = lo;
      int plain = 1;
      for (size_t j = lo; j < hi; j++)
        plain &= kl[j] >= 0.0 && kl[j] <= 0.5 * DBL_MAX;
#if defined(__SSE2__)
      if (plain) {
        const __m128d two = _mm_set1_pd(2.0), s = _mm_set1_pd(sd);
        for (; i + 2 <= hi; i += 2)
          _mm_storeu_pd(out + i, _mm_mul_pd(s, _mm_sqrt_pd(_mm_mul_pd(
                                                   two, _mm_loadu_pd(kl + i)))));
      }
#endif
      for (; i < hi; i++) {
        double k = kl[i];
        if (!(k >= 0.0)) {
          if (failed_at) *failed_at = i;
          return AB_EDOM;
        }
        out[i] = sd * sqrt2x(k);
      }
    }
    return AB_OK;
  }
  if (ab_is_finite_law(t)) { /* blocks on the pool (no user code to call) */
    /* atoms beyond 2^960: on the atoms scaled by 2^-e (finite_scaled) */
    ab_tail *scaled;
    int e;
    if ((st = finite_scaled(t, &e, &scaled))) {
      if (failed_at) *failed_at = 0;
      return st;
    }
    vec_args a = {scaled ? scaled : t, side, method, e};
    st = ab_pool_vec(work, (double)t->n, bound_block, &a, kl, n, out,
                     failed_at);
    ab_tail_free(scaled);
    return st;
  }
  /* any other law runs on the calling thread (a user cumulant may call
   * back into its host), warm-starting across the whole vector */
  for (size_t i = 0; i < n; i++) {
    double k = kl[i];
    if (!(k >= 0.0)) st = AB_EDOM;
    else if ((method == AB_CLOSED || heavy(t)) &&
             closed_bound(t, k, &out[i]) != -1)
      st = AB_OK;
    else st = ab_frontier_bound(t, side, k, &out[i], NULL, &hint);
    if (st) {
      if (failed_at) *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

int ab_tail_kl_needed_vec(const ab_tail *t, int side, int method,
                          const double *gain, size_t n, double *out,
                          size_t *failed_at) {
  ab_work one = {1, NULL, NULL};
  return ab_tail_kl_needed_vec_work(t, side, method, gain, n, &one, out,
                                    failed_at);
}

int ab_tail_kl_needed_vec_work(const ab_tail *t, int side, int method,
                               const double *gain, size_t n,
                               const ab_work *work, double *out,
                               size_t *failed_at) {
  if (ab_is_finite_law(t)) {
    vec_args a = {t, side, method, 0};
    return ab_pool_vec(work, (double)t->n, kl_needed_block, &a, gain, n, out,
                       failed_at);
  }
  for (size_t i = 0; i < n; i++) {
    int st = ab_tail_kl_needed(t, side, method, gain[i], &out[i]);
    if (st) {
      if (failed_at) *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

int ab_tail_cumulant_vec(const ab_tail *t, int order, const double *lambda,
                         size_t n, double *out, size_t *failed_at) {
  for (size_t i = 0; i < n; i++) {
    int st = ab_tail_cumulant_eval(t, order, lambda[i], &out[i]);
    if (st) {
      if (failed_at) *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

int ab_tail_tilt_vec(const ab_tail *t, int side, const double *kl, size_t n,
                     double *lambda, size_t *failed_at) {
  for (size_t i = 0; i < n; i++) {
    int st = ab_tail_tilt(t, side, kl[i], &lambda[i]);
    if (st) {
      if (failed_at) *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}
