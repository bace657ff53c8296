/*
 * fit.c - Goodhart fits of the golden gain against d = sqrt(KL) (DESIGN 3.4):
 * gold = alpha d - beta d^2 for best-of-n (Gao, Schulman and Hilton 2023),
 * gold = alpha d - beta d log d for RL, both linear in (alpha, beta), solved
 * by GSL's SVD least squares (gsl_multifit_linear / _wlinear).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>

#include "internal.h"

/* The second regressor: -d^2 or -d log d (0 at d = 0). */
static double shape(int form, double d) {
  if (form == AB_FIT_BON) return -d * d;
  return d == 0.0 ? 0.0 : -d * log(d);
}

static int check(const double *kl, const double *gold, const double *se,
                 size_t n, int form) {
  if (form != AB_FIT_BON && form != AB_FIT_RL) return AB_EDOM;
  if (n < 3 || !kl || !gold) return AB_EDOM;
  double first = NAN;
  int distinct = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(kl[i] >= 0.0) || !isfinite(kl[i]) || !isfinite(gold[i]))
      return AB_EDOM;
    if (se && !(se[i] > 0.0 && isfinite(se[i]))) return AB_EDOM;
    if (kl[i] > 0.0) {
      if (isnan(first)) first = kl[i];
      else if (kl[i] != first) distinct = 1;
    }
  }
  return distinct ? AB_OK : AB_EDOM;
}

int ab_goodhart_fit(const double *kl, const double *gold, const double *se,
                    size_t n, int form, ab_goodhart *out) {
  int st = check(kl, gold, se, n, form);
  if (st) return st;
  gsl_matrix *X = gsl_matrix_alloc(n, 2), *cov = gsl_matrix_alloc(2, 2);
  gsl_vector *y = gsl_vector_alloc(n), *w = gsl_vector_alloc(n);
  gsl_vector *c = gsl_vector_alloc(2);
  gsl_multifit_linear_workspace *work = gsl_multifit_linear_alloc(n, 2);
  double chisq;
  if (!X || !cov || !y || !w || !c || !work) {
    st = AB_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    double d = sqrt(kl[i]);
    gsl_matrix_set(X, i, 0, d);
    gsl_matrix_set(X, i, 1, shape(form, d));
    gsl_vector_set(y, i, gold[i]);
    gsl_vector_set(w, i, se ? 1.0 / (se[i] * se[i]) : 1.0);
  }
  /* weighted: cov = (X^T W X)^-1 from the given errors; unweighted: GSL
   * scales (X^T X)^-1 by the residual variance chisq / (n - 2) */
  st = se ? gsl_multifit_wlinear(X, w, y, c, cov, &chisq, work)
          : gsl_multifit_linear(X, y, c, cov, &chisq, work);
  if (st != GSL_SUCCESS) {
    st = AB_EGSL;
    goto done;
  }
  ab_goodhart r;
  r.alpha = gsl_vector_get(c, 0);
  r.beta = gsl_vector_get(c, 1);
  r.alpha_se = sqrt(fmax(gsl_matrix_get(cov, 0, 0), 0.0));
  r.beta_se = sqrt(fmax(gsl_matrix_get(cov, 1, 1), 0.0));
  /* R^2 about the weighted mean */
  ab_sum sw = {0, 0}, swy = {0, 0}, tot = {0, 0};
  for (size_t i = 0; i < n; i++) {
    ab_sum_add(&sw, gsl_vector_get(w, i));
    ab_sum_add(&swy, gsl_vector_get(w, i) * gold[i]);
  }
  double mean = ab_sum_value(&swy) / ab_sum_value(&sw);
  for (size_t i = 0; i < n; i++) {
    double e = gold[i] - mean;
    ab_sum_add(&tot, gsl_vector_get(w, i) * e * e);
  }
  double sst = ab_sum_value(&tot);
  r.r2 = sst > 0.0 ? 1.0 - chisq / sst : (chisq == 0.0 ? 1.0 : 0.0);
  if (!(r.beta > 0.0)) {
    r.peak_kl = INFINITY;
    r.peak_gain = NAN;
  } else {
    double ds = form == AB_FIT_BON ? fmax(r.alpha, 0.0) / (2.0 * r.beta)
                                   : exp(r.alpha / r.beta - 1.0);
    r.peak_kl = ds * ds;
    /* bon: alpha^2 / (4 beta) (0 when alpha <= 0); rl: beta d* */
    r.peak_gain = form == AB_FIT_BON ? ds * (r.alpha - r.beta * ds) : r.beta * ds;
  }
  *out = r;
  st = AB_OK;
done:
  gsl_matrix_free(X);
  gsl_matrix_free(cov);
  gsl_vector_free(y);
  gsl_vector_free(w);
  gsl_vector_free(c);
  if (work) gsl_multifit_linear_free(work);
  return st;
}
