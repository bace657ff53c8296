/*
 * renyi.c - the Renyi refinement of the transport bound (DESIGN 3.3): tail
 * information on the aligned policy as well as on the reference.
 *
 * The Renyi variational formula (Birrell, Dupuis, Katsoulakis, Rey-Bellet and
 * Wang 2021) at g = lambda r, with the left tail of pi and the right tail of
 * ref sub-Gaussian, gives for a in (0, 1)
 *   D_a / a >= lambda gain - lambda^2 ((1 - a) s_pi^2 + a s_ref^2) / 2,
 * and the best lambda gives gain <= sqrt(2 V_a D_a / a),
 * V_a = (1 - a) s_pi^2 + a s_ref^2.  At a = 1 it is the KL bound; as a -> 0,
 * (1 - a) D_a(pi || ref) / a = D_{1-a}(ref || pi) -> KL(ref || pi).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

#include "internal.h"

int ab_tail_variance_proxy_side(const ab_tail *t, int side, double *out) {
  if (side != AB_GAIN && side != AB_LOSS) return AB_EDOM;
  switch (t->kind) {
  case AB_KIND_SUBGAUSSIAN:
  case AB_KIND_GAUSSIAN:
  case AB_KIND_BOUNDED:
    *out = t->variance; /* psi = s2 l^2 / 2 on both sides */
    return AB_OK;
  default:
    return ab_frontier_variance_proxy_side(t, side, out);
  }
}

/* 2 V_a D_a / a with 0 * inf = 0 (an infinite proxy costs nothing where its
 * weight or the divergence vanishes). */
static double squared_bound(double s2_ref, double s2_pi, double a, double d) {
  if (d == 0.0) return 0.0;
  double left = (a >= 1.0 || s2_pi == 0.0) ? 0.0 : (1.0 - a) * s2_pi * (d / a);
  double right = s2_ref == 0.0 ? 0.0 : s2_ref * d;
  return 2.0 * (left + right);
}

int ab_renyi_bound(double s2_ref, double s2_pi, double a, double d,
                   double *out) {
  if (!(s2_ref >= 0.0) || !(s2_pi >= 0.0) || !(a > 0.0 && a <= 1.0) ||
      !(d >= 0.0))
    return AB_EDOM;
  *out = sqrt(squared_bound(s2_ref, s2_pi, a, d));
  return AB_OK;
}

/* D_a of the divergence at a in (0, 1]. */
static int divergence_at(const ab_renyi_divergence *d, double a, double *out) {
  if (d->kind == AB_RENYI_BON) {
    ab_family f = {AB_RENYI, a, NULL, NULL};
    return ab_bon_divergence(d->n, &f, AB_CLOSED, out, NULL);
  }
  if (d->fn(d->ctx, a, out) != 0 || isnan(*out)) return AB_EFUNC;
  if (!(*out >= 0.0)) return AB_EDOM;
  return AB_OK;
}

typedef struct {
  const ab_renyi_divergence *d;
  double s2_ref, s2_pi;
  int status;
} objective_ctx;

/* the squared bound at a = 1 / (1 + e^-z) */
static double objective(double z, void *vctx) {
  objective_ctx *c = vctx;
  double a = 1.0 / (1.0 + exp(-z)), d;
  if (c->status) return INFINITY;
  c->status = divergence_at(c->d, a, &d);
  if (c->status) return INFINITY;
  return squared_bound(c->s2_ref, c->s2_pi, a, d);
}

/* Brent's method on the bracket (zb - h, zb, zb + h) with fb below both
 * ends; returns the best value seen and its z. */
static int refine(objective_ctx *c, double zb, double h, double fl, double fb,
                  double fr, double *best, double *zbest) {
  gsl_min_fminimizer *s = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
  gsl_function F = {objective, c};
  if (!s) return AB_ENOMEM;
  int st = gsl_min_fminimizer_set_with_values(s, &F, zb, fb, zb - h, fl,
                                              zb + h, fr);
  for (int it = 0; st == GSL_SUCCESS && it < 100; it++) {
    if (gsl_min_fminimizer_iterate(s) != GSL_SUCCESS || c->status) break;
    double fm = gsl_min_fminimizer_f_minimum(s);
    if (fm < *best) {
      *best = fm;
      *zbest = gsl_min_fminimizer_x_minimum(s);
    }
    if (gsl_min_test_interval(gsl_min_fminimizer_x_lower(s),
                              gsl_min_fminimizer_x_upper(s), 1e-12,
                              0.0) == GSL_SUCCESS)
      break;
  }
  gsl_min_fminimizer_free(s);
  return c->status;
}

int ab_renyi_gain(double s2_ref, double s2_pi, const ab_renyi_divergence *d,
                  double alpha, double *bound, double *alpha_at) {
  if (!d || !(s2_ref >= 0.0) || !(s2_pi >= 0.0)) return AB_EDOM;
  if (!isnan(alpha) && !(alpha > 0.0 && alpha <= 1.0)) return AB_EDOM;
  switch (d->kind) {
  case AB_RENYI_FIXED:
    if (isnan(alpha) || !(d->value >= 0.0)) return AB_EDOM;
    *alpha_at = alpha;
    return ab_renyi_bound(s2_ref, s2_pi, alpha, d->value, bound);
  case AB_RENYI_BON:
    if (!(d->n >= 1.0 && isfinite(d->n))) return AB_EDOM;
    break;
  case AB_RENYI_FUNCTION:
    if (!d->fn) return AB_EDOM;
    break;
  default:
    return AB_EDOM;
  }
  double dv;
  int st;
  if (!isnan(alpha)) {
    if ((st = divergence_at(d, alpha, &dv))) return st;
    *alpha_at = alpha;
    return ab_renyi_bound(s2_ref, s2_pi, alpha, dv, bound);
  }
  /* a = 1: the KL bound */
  if ((st = divergence_at(d, 1.0, &dv))) return st;
  double best = squared_bound(s2_ref, s2_pi, 1.0, dv), abest = 1.0;
  /* a -> 0 for best-of-n: D_a -> 0 and (1 - a) D_a / a -> n - 1 - log n */
  if (d->kind == AB_RENYI_BON) {
    ab_family rk = {AB_REVERSE_KL, 0.0, NULL, NULL};
    double rkl;
    if ((st = ab_bon_divergence(d->n, &rk, AB_CLOSED, &rkl, NULL))) return st;
    double v = rkl == 0.0 || s2_pi == 0.0 ? 0.0 : 2.0 * s2_pi * rkl;
    if (v < best) {
      best = v;
      abest = 0.0;
    }
  }
  /* the grid: D_a / a need not be unimodal for a user D_a */
  enum { GRID = 121 };
  const double z0 = -24.0, z1 = 24.0, h = (z1 - z0) / (GRID - 1);
  objective_ctx c = {d, s2_ref, s2_pi, AB_OK};
  double f[GRID], gbest = INFINITY;
  int bi = -1;
  for (int i = 0; i < GRID; i++) {
    f[i] = objective(z0 + h * i, &c);
    if (c.status) return c.status;
    if (bi < 0 || f[i] < gbest) {
      gbest = f[i];
      bi = i;
    }
  }
  double zbest = z0 + h * bi;
  if (bi > 0 && bi < GRID - 1 && f[bi] < f[bi - 1] && f[bi] < f[bi + 1] &&
      isfinite(f[bi])) {
    if ((st = refine(&c, zbest, h, f[bi - 1], f[bi], f[bi + 1], &gbest,
                     &zbest)))
      return st;
  }
  if (gbest < best) {
    best = gbest;
    abest = 1.0 / (1.0 + exp(-zbest));
  }
  *bound = sqrt(best);
  *alpha_at = abest;
  return AB_OK;
}
