/*
 * estimate.c - estimators from samples, each with its standard error: the
 * mean, the KL estimators k1, k2, k3 from log-probabilities, Renyi
 * divergences, and the empirical sub-Gaussian variance proxy with a
 * bootstrap upper confidence bound.
 */
#include <gsl/gsl_sort.h>
#include <stdlib.h>

#include "internal.h"

/* Welford's running mean and sum of squared deviations: no cancellation
 * between E[x^2] and E[x]^2. */
typedef struct {
  size_t n;
  double mean, m2;
} welford;

static void welford_add(welford *w, double x) {
  double d = x - w->mean;
  w->n++;
  w->mean += d / (double)w->n;
  w->m2 += d * (x - w->mean);
}

static void welford_done(const welford *w, double *mean, double *se) {
  *mean = w->mean;
  if (se)
    *se = w->n > 1 ? sqrt(w->m2 / (double)(w->n - 1) / (double)w->n) : INFINITY;
}

/* The scale 2^k at which values up to 2^top are averaged: k = 0 (the plain
 * values) unless the values or their squared deviations could overflow. */
static int welford_scale(int top) { return top > 400 ? top : 0; }

int ab_estimate_mean(const double *x, size_t n, double *mean, double *se) {
  welford w = {0, 0.0, 0.0};
  int top = 0;
  if (n == 0 || !x) return AB_EDOM;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i])) return AB_EDOM;
    if (x[i] != 0.0 && ilogb(x[i]) > top) top = ilogb(x[i]);
  }
  int k = welford_scale(top);
  for (size_t i = 0; i < n; i++) welford_add(&w, ldexp(x[i], -k));
  welford_done(&w, mean, se);
  *mean = ldexp(*mean, k);
  if (se) *se = ldexp(*se, k);
  return AB_OK;
}

/* A k3 log-ratio above which e^{-r} is beyond any scaled double. */
#define K3_HOPELESS 1e6

/* The value an estimator averages at the log-ratio r, times 2^-k: k1 r,
 * k2 r^2 / 2, k3 (rho - 1) - log rho at rho = e^{-r}, i.e. e^{-r} - 1 + r
 * >= 0.  The scale keeps values and their squares finite where r^2 or
 * e^{-r} overflow; k = 0 is the plain value. */
static double kl_value(int which, double r, int k) {
  if (which == AB_K1) return ldexp(r, -k);
  if (which == AB_K2) return 0.5 * ldexp(r, -(k / 2)) * ldexp(r, -(k - k / 2));
  if (-r <= 700.0) {
    double em1x, em1;
    ab_em1x(-r, &em1x, &em1);
    return ldexp(em1x, -k);
  }
  /* e^{-r - k ln 2} - (1 - r) 2^-k; -r - k AB_LN2_HI is exact (Sterbenz) */
  return exp((-r - k * AB_LN2_HI) - k * AB_LN2_LO) - ldexp(1.0 - r, -k);
}

/* About log2 of the value kl_value(which, r, 0), without forming it. */
static int kl_value_log2(int which, double r) {
  if (r == 0.0) return 0;
  if (which == AB_K1) return ilogb(r);
  if (which == AB_K2) return 2 * ilogb(r);
  if (-r <= 700.0) {
    double em1x, em1;
    ab_em1x(-r, &em1x, &em1);
    return em1x > 0.0 ? ilogb(em1x) : 0;
  }
  return (int)(-r / M_LN2) + 1;
}

int ab_estimate_kl(const double *lp, const double *lq, size_t n, int which,
                   double *est, double *se) {
  welford w = {0, 0.0, 0.0};
  if (n == 0 || !lp || !lq || which < AB_K1 || which > AB_K3) return AB_EDOM;
  /* the scale: values are divided by 2^k, k = 0 unless the largest value or
   * its square would overflow (k1 and k2 at |r| > 1e150, k3 at r < -350) */
  int top = 0, hopeless = 0;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i];
    if (!isfinite(r)) return AB_EDOM;
    if (which == AB_K3 && -r > K3_HOPELESS) hopeless = 1;
    else {
      int e = kl_value_log2(which, r);
      if (e > top) top = e;
    }
  }
  if (hopeless) {
    /* a term e^{-r} with -r > 1e6: the mean and its error exceed any double */
    *est = INFINITY;
    if (se) *se = INFINITY;
    return AB_OK;
  }
  int k = welford_scale(top);
  for (size_t i = 0; i < n; i++) welford_add(&w, kl_value(which, lp[i] - lq[i], k));
  welford_done(&w, est, se);
  *est = ldexp(*est, k);
  if (se) *se = ldexp(*se, k);
  return AB_OK;
}

/* Renyi of order a from policy samples: D = log M / (a - 1), M = mean
 * e^{(a-1) r}.  Where M is far from 1, D = r* + log(mean e^{(a-1)(r - r*)})
 * / (a - 1) with r* the r of the largest exponent (no overflow, whatever the
 * order); near 1, M - 1 as the mean of expm1((a-1) r), so that D keeps its
 * digits when the laws nearly agree (as k1 does).  Standard error by the
 * delta method: se(M) / M / |a - 1|. */
int ab_estimate_renyi(const double *lp, const double *lq, size_t n, double a,
                      double *est, double *se) {
  if (n == 0 || !lp || !lq || !(a > 0.0) || isinf(a)) return AB_EDOM;
  if (a == 1.0) return ab_estimate_kl(lp, lq, n, AB_K1, est, se);
  double b = a - 1.0, star = 0.0;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i];
    if (!isfinite(r)) return AB_EDOM;
    if (i == 0 || (b > 0.0 ? r > star : r < star)) star = r;
  }
  welford w = {0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++)
    welford_add(&w, exp(b * (lp[i] - lq[i] - star)));
  double m, sm;
  welford_done(&w, &m, &sm);
  double log_m = b * star + log(m);
  if (fabs(log_m) < 0.5) {
    /* then every (a-1) r <= log n + 1/2: expm1 cannot overflow */
    welford w1 = {0, 0.0, 0.0};
    for (size_t i = 0; i < n; i++) welford_add(&w1, expm1(b * (lp[i] - lq[i])));
    welford_done(&w1, &m, &sm);
    *est = log1p(m) / b;
    if (se) *se = sm / (1.0 + m) / fabs(b);
    return AB_OK;
  }
  *est = star + log(m) / b;
  if (se) *se = sm / m / fabs(b);
  return AB_OK;
}

int ab_estimate_variance_proxy(const double *x, size_t n, double level,
                               size_t resamples, ab_rng *r, double *est,
                               double *upper) {
  ab_tail *t;
  if (n == 0 || !x || !(level > 0.0 && level < 1.0)) return AB_EDOM;
  int st = ab_tail_discrete(x, NULL, n, &t);
  if (st) return st;
  st = ab_tail_variance_proxy(t, AB_CLOSED, est);
  ab_tail_free(t);
  if (st || !upper) return st;
  if (resamples == 0 || !r) return AB_EDOM;
  double *boot = ab_malloc_n(resamples, sizeof *boot);
  double *y = ab_malloc_n(n, sizeof *y);
  if (!boot || !y) {
    ab_free(boot, resamples * sizeof *boot);
    ab_free(y, n * sizeof *y);
    return AB_ENOMEM;
  }
  gsl_rng *g = ab_rng_gsl(r);
  for (size_t b = 0; b < resamples && !st; b++) {
    for (size_t i = 0; i < n; i++) y[i] = x[gsl_rng_uniform_int(g, n)];
    if (!(st = ab_tail_discrete(y, NULL, n, &t))) {
      st = ab_tail_variance_proxy(t, AB_CLOSED, &boot[b]);
      ab_tail_free(t);
    }
  }
  if (!st) {
    /* the level quantile of the bootstrap law (percentile method) */
    gsl_sort(boot, 1, resamples);
    double pos = level * (double)(resamples - 1);
    size_t lo = (size_t)floor(pos);
    double frac = pos - (double)lo;
    double a = boot[lo], b = lo + 1 < resamples ? boot[lo + 1] : a;
    /* an infinite proxy (a variance beyond the doubles) stays infinite:
     * a + frac (b - a) would be inf - inf */
    *upper = (frac == 0.0 || a == b) ? a : isinf(b) ? b : a + frac * (b - a);
  }
  ab_free(boot, resamples * sizeof *boot);
  ab_free(y, n * sizeof *y);
  return st;
}
