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

int ab_estimate_mean(const double *x, size_t n, double *mean, double *se) {
  welford w = {0, 0.0, 0.0};
  if (n == 0 || !x) return AB_EDOM;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i])) return AB_EDOM;
    welford_add(&w, x[i]);
  }
  welford_done(&w, mean, se);
  return AB_OK;
}

int ab_estimate_kl(const double *lp, const double *lq, size_t n, int which,
                   double *est, double *se) {
  welford w = {0, 0.0, 0.0};
  if (n == 0 || !lp || !lq || which < AB_K1 || which > AB_K3) return AB_EDOM;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i], v, em1x, em1;
    if (!isfinite(r)) return AB_EDOM;
    if (which == AB_K1) v = r;
    else if (which == AB_K2) v = 0.5 * r * r;
    else {
      /* (rho - 1) - log rho at rho = e^{-r}: e^{-r} - 1 + r >= 0 */
      ab_em1x(-r, &em1x, &em1);
      v = em1x;
    }
    welford_add(&w, v);
  }
  welford_done(&w, est, se);
  return AB_OK;
}

int ab_estimate_renyi(const double *lp, const double *lq, size_t n, double a,
                      double *est, double *se) {
  if (n == 0 || !lp || !lq || !(a > 0.0) || isinf(a)) return AB_EDOM;
  if (a == 1.0) return ab_estimate_kl(lp, lq, n, AB_K1, est, se);
  /* M = mean e^{(a-1) r}, shifted by the largest exponent */
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i];
    if (!isfinite(r)) return AB_EDOM;
    if ((a - 1.0) * r > top) top = (a - 1.0) * r;
  }
  welford w = {0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++)
    welford_add(&w, exp((a - 1.0) * (lp[i] - lq[i]) - top));
  double m, sm;
  welford_done(&w, &m, &sm);
  *est = (top + log(m)) / (a - 1.0);
  /* delta method: se(log M) = se(M) / M */
  if (se) *se = sm / m / fabs(a - 1.0);
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
  double *boot = malloc(resamples * sizeof *boot), *y = malloc(n * sizeof *y);
  if (!boot || !y) {
    free(boot);
    free(y);
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
    *upper = lo + 1 < resamples ? boot[lo] + frac * (boot[lo + 1] - boot[lo])
                                : boot[lo];
  }
  free(boot);
  free(y);
  return st;
}
