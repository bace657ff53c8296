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
#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_min.h>
#include <stdlib.h>

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
  gsl_min_fminimizer *s = ab_fminimizer_new(gsl_min_fminimizer_brent);
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
  ab_fminimizer_free(s);
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
  double abest_grid = 1.0 / (1.0 + exp(-zbest));
  if (d->kind == AB_RENYI_FUNCTION && bi == 0) {
    /* the infimum lies towards a -> 0, where the bound tends to its limit
     * 2 s_pi^2 lim (1 - a) D_a / a (+ 0): the grid's smallest order, 3.8e-11,
     * stops O(a) short of it (sqrt(2e-8 + 7.6e-11) for D_a = a, s_pi^2 =
     * 1e-8, s_ref^2 = 1).  Orders down to e^-700 take it to rounding.  Each
     * point is a bound, so the walk stops, keeping what it has, where the
     * function fails, or returns 0 after a positive value (an underflow:
     * D_a is nondecreasing in a, and 0 at one order means 0 at all). */
    static const double zs[] = {-48.0, -96.0, -192.0, -384.0, -700.0};
    double dprev = 0.0;
    if (divergence_at(d, abest_grid, &dprev)) dprev = 0.0;
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
      double a = 1.0 / (1.0 + exp(-zs[i]));
      if (divergence_at(d, a, &dv) != AB_OK || (dv == 0.0 && dprev > 0.0))
        break;
      dprev = dv;
      double v = squared_bound(s2_ref, s2_pi, a, dv);
      if (v < gbest) {
        gbest = v;
        abest_grid = a;
      }
    }
  }
  if (gbest < best) {
    best = gbest;
    abest = abest_grid;
  }
  *bound = sqrt(best);
  *alpha_at = abest;
  return AB_OK;
}

/* ---- the best-of-n law's left tail ---------------------------------------- */

/* The best of n has reward Q(V), V = U^{1/n} (Renyi representation).  Its
 * left-tail proxy sup_{l<0} 2 psi_n(l) / l^2 comes from the frontier engine
 * run on a private tail (AB_KIND_BON_LAW) whose cumulant is computed from
 * that representation: for an exact law by integrals over the quantile, for
 * a finite law on the groups of tied rewards with masses F<=^n - F<^n (ties
 * broken uniformly) kept in logs, log(F<=^n - F<^n) = A + log(-expm1(B - A)),
 * so that atoms whose mass is below the double range still weigh on the left
 * tail (their effect on the proxy decays only like 1 / log(1/mass)). */

/* Exact laws: Y(x) = Q(e^{-x/n}) - E Q(V) with x = -n log V ~ Exp(1), so
 * E f(Y) = int_0^inf f(Y(x)) e^{-x} dx.  Beyond x = 700 n, V < 1e-304 and
 * the quantile is out of reach: the integrals stop there (this drops mass
 * below e^{-700 n}, which matters only for |l| beyond the law's reach). */

typedef struct {
  const ab_tail *base;
  double n, mu, l, shift;
  int form; /* 0: e^{lY} - 1 - lY; 1: e^{lY - x - shift}; 2: Y^2 */
  int status;
  double seen; /* form 1: the largest exponent met */
} bon_integrand;

/* The reach 700 n, capped at 7e302: 700 n overflowed to inf for n above
 * 2.6e305 (the integrals then ran on [a, inf] with QAGS, on NaN abscissae,
 * without end); the weight e^{-x} is 0 in doubles long before x = 7e302, so
 * the cap drops nothing. */
static double bon_reach(double n) { return 700.0 * fmin(n, 1e300); }

static int bon_y(const bon_integrand *c, double x, double *y) {
  double p = exp(-x / c->n), q = -expm1(-x / c->n);
  if (p == 0.0 || q == 0.0 || x > 1.0000000001 * bon_reach(c->n))
    return -1; /* out of reach */
  int st = ab_quantile_centred(c->base, p, q, y);
  if (!st) *y -= c->mu;
  return st;
}

static double bon_density(double x, void *vctx) {
  bon_integrand *c = vctx;
  double y;
  if (c->status) return 0.0;
  int st = bon_y(c, x, &y);
  if (st < 0) return 0.0;
  if ((c->status = st)) return 0.0;
  if (c->form == 2) return y * y * exp(-x);
  double lx = c->l * y;
  if (c->form == 1) {
    if (lx - x > c->seen) c->seen = lx - x;
    return exp(lx - x - c->shift);
  }
  if (lx > 0.5 || lx < -0.5) return exp(lx - x) - (1.0 + lx) * exp(-x);
  double em1x, em1;
  ab_em1x(lx, &em1x, &em1);
  return em1x * exp(-x);
}

/* The integral over [0, inf) split at the given breakpoints (increasing):
 * QAGS on each finite piece, QAGIU beyond the last (the integrand is 0
 * where the quantile is out of reach), to relative accuracy `rel`.  Where
 * GSL reports that it could not reach `rel` (rounding in the integrand), the
 * sum still stands if its error estimate is within max(1e-6, rel) of it:
 * the caller sets `rel` no lower than the integrand's own rounding noise,
 * so that this never hinges on the last bits of the inputs. */
static int bon_integral(bon_integrand *c, const double *cuts, int ncuts,
                        double rel, double *out) {
  gsl_function F = {bon_density, c};
  gsl_integration_workspace *ws = ab_quad_new(1000);
  if (!ws) return AB_ENOMEM;
  double a = 0.0, total = 0.0, err = 0.0;
  int bad = 0;
  for (int i = 0; i <= ncuts && !c->status; i++) {
    double r = 0.0, e = 0.0;
    if (i == ncuts) {
      if (a >= bon_reach(c->n)) break; /* nothing within reach beyond */
      if (gsl_integration_qagiu(&F, a, 0.0, rel, 1000, ws, &r, &e)) bad = 1;
    } else {
      if (!(cuts[i] > a)) continue;
      if (gsl_integration_qags(&F, a, cuts[i], 0.0, rel, 1000, ws, &r, &e))
        bad = 1;
      a = cuts[i];
    }
    total += r;
    err += e;
  }
  ab_quad_free(ws);
  if (c->status) return c->status;
  if (bad && !(err <= fmax(1e-6, rel) * fabs(total))) return AB_ENOCONV;
  *out = total;
  return AB_OK;
}

typedef struct {
  const bon_integrand *c;
  int status;
} peak_ctx;

/* -(l Y(x) - x) at x = e^u; 1e300 where the quantile is out of reach */
static double peak_objective(double u, void *vctx) {
  peak_ctx *k = vctx;
  double y;
  if (k->status) return 1e300;
  int st = bon_y(k->c, exp(u), &y);
  if (st < 0) return 1e300;
  if ((k->status = st)) return 1e300;
  return -(k->c->l * y - exp(u));
}

/* Where e^{lY(x) - x} peaks (x*, and S its exponent there): a log grid of x
 * (steps of 2^(1/8), from 2^-30 to the reach 700 n, which is a node too),
 * then Brent's method between the grid neighbours of the best node, since
 * the peak can be far narrower than the grid. */
static int bon_peak(const bon_integrand *c, double *S, double *xs) {
  enum { MAXN = 1024 };
  const double h = 0.125 * M_LN2, u0 = -30.0 * M_LN2;
  const double ureach = log(bon_reach(c->n));
  double u[MAXN], f[MAXN] = {0}; /* {0}: gcc -O1 cannot see f[bk] is set */
  peak_ctx k = {c, AB_OK};
  int m = 0, bk = 0;
  for (; m < MAXN - 1 && u0 + h * m < ureach; m++) u[m] = u0 + h * m;
  u[m++] = ureach;
  for (int i = 0; i < m; i++) {
    f[i] = peak_objective(u[i], &k);
    if (k.status) return k.status;
    if (f[i] < f[bk]) bk = i;
  }
  double best = f[bk], ub = u[bk];
  if (bk > 0 && bk < m - 1 && f[bk - 1] > best && f[bk + 1] > best &&
      f[bk - 1] < 1e300 && f[bk + 1] < 1e300) {
    gsl_min_fminimizer *mn = ab_fminimizer_new(gsl_min_fminimizer_brent);
    gsl_function F = {peak_objective, &k};
    if (!mn) return AB_ENOMEM;
    int st = gsl_min_fminimizer_set_with_values(mn, &F, ub, best, u[bk - 1],
                                                f[bk - 1], u[bk + 1],
                                                f[bk + 1]);
    for (int it = 0; st == GSL_SUCCESS && it < 100; it++) {
      if (gsl_min_fminimizer_iterate(mn) != GSL_SUCCESS || k.status) break;
      if (gsl_min_fminimizer_f_minimum(mn) < best) {
        best = gsl_min_fminimizer_f_minimum(mn);
        ub = gsl_min_fminimizer_x_minimum(mn);
      }
      if (gsl_min_test_interval(gsl_min_fminimizer_x_lower(mn),
                                gsl_min_fminimizer_x_upper(mn), 1e-13,
                                0.0) == GSL_SUCCESS)
        break;
    }
    ab_fminimizer_free(mn);
    if (k.status) return k.status;
  }
  *S = -best;
  *xs = exp(ub);
  return AB_OK;
}

/* x between the peak and `end` where the exponent has dropped by `drop`
 * (bisection; beyond the reach the integrand is 0, i.e. dropped). */
static int bon_side(const bon_integrand *c, double S, double xs, double end,
                    double drop, double *out) {
  double lo = xs, hi = end, y;
  int st = bon_y(c, hi, &y);
  if (st > 0) return st;
  if (st == 0 && c->l * y - hi > S - drop) {
    *out = end;
    return AB_OK;
  }
  for (int it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    st = bon_y(c, mid, &y);
    if (st > 0) return st;
    if (st == 0 && c->l * y - mid > S - drop) lo = mid;
    else hi = mid;
  }
  *out = hi;
  return AB_OK;
}

static int cgf_bon_exact(const ab_tail *t, double l, ab_cgf *out) {
  bon_integrand c = {(const ab_tail *)t->user_ctx, t->par[0], t->coef[0], l,
                     0.0, 0, AB_OK, -INFINITY};
  double S, xs, s, cuts[3], reach = bon_reach(c.n);
  if (fabs(l) * sqrt(t->coef[1]) < 1e-4) {
    /* psi = var l^2 / 2 (1 + O(l)): 2 psi / l^2 is the variance, the limit
     * that the proxy takes anyway, and the integral would be all rounding
     * (the variance itself: t->variance is raised to the quantile floor,
     * whose plateau would hide a bump of r(l) within the scan's tolerance) */
    out->psi = 0.5 * t->coef[1] * l * l;
    return AB_OK;
  }
  int st = bon_peak(&c, &S, &xs);
  if (st) return st;
  if (S <= 30.0) {
    /* the e^x - 1 - x form: [0, 1] and [1, inf) */
    cuts[0] = 1.0;
    if ((st = bon_integral(&c, cuts, 1, 1e-11, &s))) return st;
    out->psi = log1p(fmax(s, 0.0));
    return AB_OK;
  }
  /* psi >> 1: psi = S + log int e^{lY - x - S} dx, with breakpoints at the
   * peak and where the integrand has fallen by e^-40 on each side */
  if ((st = bon_side(&c, S, xs, 0.0, 40.0, &cuts[0]))) return st;
  cuts[1] = xs;
  if ((st = bon_side(&c, S, xs, reach, 40.0, &cuts[2]))) return st;
  c.form = 1;
  /* the integration may meet a larger exponent than the search did: shift
   * by it and integrate again */
  for (int pass = 0; pass < 4; pass++) {
    c.shift = S;
    c.seen = S;
    /* psi = S + log s: a relative error e in s is an absolute error e in
     * psi, so 1e-11 S keeps psi to 1e-11 relative.  And the exponent
     * l Y - x - S is itself rounded: Y = Q - mu carries eps (|Q| + |mu|),
     * and where the integrand counts |l Y| <= |S| + x + 40, so s carries a
     * relative noise of about eps (2 |S| + 2 x + 2 |l mu| + 40), which at
     * |l| ~ 1e8 / sd (the end of the proxy scan) is ~1e-6: the tolerance
     * stays well above it, whatever the last bits of mu are. */
    double noise = DBL_EPSILON * (2.0 * fabs(S) + 2.0 * cuts[2] +
                                  2.0 * fabs(l * c.mu) + 40.0);
    st = bon_integral(&c, cuts, 3, fmax(1e-11 * fabs(S), 64.0 * noise), &s);
    if (c.seen <= S + 30.0 && !st) break;
    if (c.seen <= S + 30.0 || c.status) return st ? st : AB_ENOCONV;
    S = c.seen;
  }
  if (st) return st;
  out->psi = S + log(s);
  return AB_OK;
}

/* psi_n(l) = log sum_i e^{w_i + l x_i} (x_i centred values, w_i log-masses):
 * log-sum-exp where it is large, log1p of the e^x - 1 - x sum where it is
 * small (no cancellation as l -> 0).  Only psi is provided: the proxy scan
 * needs nothing else. */
static int cgf_bon_law(const ab_tail *t, double l, double gap, ab_cgf *out) {
  (void)gap;
  out->dpsi = out->kl = 0.0;
  out->d2psi = t->variance;
  if (l == 0.0) {
    out->psi = 0.0;
    return AB_OK;
  }
  if (!t->x) return cgf_bon_exact(t, l, out);
  double top = -INFINITY;
  for (size_t i = 0; i < t->n; i++)
    if (t->w[i] + l * t->x[i] > top) top = t->w[i] + l * t->x[i];
  ab_sum a = {0, 0};
  if (top > 0.0) {
    for (size_t i = 0; i < t->n; i++)
      ab_sum_add(&a, exp(t->w[i] + l * t->x[i] - top));
    out->psi = top + log(ab_sum_value(&a));
    return AB_OK;
  }
  for (size_t i = 0; i < t->n; i++) {
    double lx = l * t->x[i], em1x, em1;
    ab_em1x(lx, &em1x, &em1);
    ab_sum_add(&a, lx > 0.5 || lx < -0.5
                       ? exp(t->w[i] + lx) - exp(t->w[i]) * (1.0 + lx)
                       : exp(t->w[i]) * em1x);
  }
  out->psi = log1p(fmax(ab_sum_value(&a), 0.0));
  return AB_OK;
}

/* The best-of-n law of a finite law: groups of tied values from the top,
 * log-mass A + log(-expm1(B - A)) with A = n log1p(-above), B = n
 * log1p(-(above + q)); then centred on its mean. */
static int finite_bon_law(const ab_tail *t, double n, ab_tail *b) {
  size_t m = t->n, g = 0;
  ab_record *k = ab_alloc_large(m * sizeof *k);
  /* b's arrays hold m entries (the caller frees them so) */
  b->x = ab_malloc_n(m, sizeof *b->x);
  b->w = ab_malloc_n(m, sizeof *b->w);
  if (!k || !b->x || !b->w) {
    ab_free(k, m * sizeof *k);
    return AB_ENOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    k[i].key = ab_sort_key(t->x[i]);
    k[i].a = t->w ? t->w[i] : 1.0 / (double)m;
  }
  if (ab_sort_records(k, m)) {
    ab_free(k, m * sizeof *k);
    return AB_ENOMEM;
  }
  ab_sum above = {0, 0}, mean = {0, 0};
  double A = 0.0;
  for (size_t hi = m; hi > 0;) {
    size_t lo = hi - 1;
    double q = k[lo].a;
    while (lo > 0 && k[lo - 1].key == k[hi - 1].key) q += k[--lo].a;
    ab_sum_add(&above, q);
    double sb = ab_sum_value(&above);
    double B = (lo == 0 || sb >= 1.0) ? -INFINITY : n * log1p(-sb);
    if (q > 0.0) {
      b->x[g] = ab_sort_unkey(k[lo].key);
      /* A = -inf: this group's mass is below the doubles (n log1p(-above)
       * overflowed at n = DBL_MAX); -inf - -inf made it NaN, and the mean */
      b->w[g] = A == -INFINITY ? -INFINITY : A + log(-expm1(B - A));
      ab_sum_add(&mean, exp(b->w[g]) * b->x[g]);
      g++;
    }
    A = B;
    hi = lo;
  }
  ab_free(k, m * sizeof *k);
  b->n = g;
  double mu = ab_sum_value(&mean);
  ab_sum var = {0, 0};
  for (size_t i = 0; i < g; i++) {
    b->x[i] -= mu;
    ab_sum_add(&var, exp(b->w[i]) * b->x[i] * b->x[i]);
    if (b->x[i] < b->inf) b->inf = b->x[i];
  }
  b->variance = ab_sum_value(&var);
  return AB_OK;
}

/* The private tail of the best-of-n law of an exact law: its mean and
 * variance by the integrals, its lower end, and lmin = n lmin of the law (the
 * left tail of the best of n is the law's own raised to the power n). */
static int exact_bon_law(const ab_tail *t, double n, ab_tail *b) {
  double y;
  int st = ab_quantile_centred(t, 0.5, 0.5, &y);
  if (st) return st;
  b->lmin = n * t->lmin;
  b->par[0] = n;
  b->user_ctx = (void *)t;
  if ((st = ab_bon_expected_gain(t, n, AB_CLOSED, &b->coef[0]))) return st;
  bon_integrand c = {t, n, b->coef[0], 0.0, 0.0, 2, AB_OK, -INFINITY};
  double cuts[1] = {1.0};
  if ((st = bon_integral(&c, cuts, 1, 1e-11, &b->variance))) return st;
  b->inf = isfinite(t->inf) ? t->inf - b->coef[0] : -INFINITY;
  return AB_OK;
}

/* A lower bound of the best-of-n law's left-tail proxy from its quantiles:
 * Y <= y(x) = Q(e^{-x/n}) - mu with probability e^{-x}, so psi(l) >= l y - x
 * and 2 psi / l^2 >= y^2 / (2 x) at l = 2 x / y.  The largest over x on a
 * grid (steps of 2^(1/2) up to the reach).  The variance, which sets the
 * engine's scan, misses a left tail that is far but rare: Beta(1, 1e-6) at
 * n = 100 puts mass e^{-1418} at distance 1/2 below the mean (y^2 / (2 x)
 * = 8.8e-5, variance below 1e-40), and the Renyi certificate came out at
 * 1.3e-21 for an exact gain of 1.0e-6. */
static int exact_left_floor(const ab_tail *b, double *out) {
  bon_integrand c = {(const ab_tail *)b->user_ctx, b->par[0], b->coef[0], 0.0,
                     0.0, 0, AB_OK, -INFINITY};
  double reach = bon_reach(c.n), best = 0.0, y;
  for (double x = 0.0625; x <= reach; x *= M_SQRT2) {
    int st = bon_y(&c, x, &y);
    if (st > 0) return st;
    if (st == 0 && y < 0.0) best = fmax(best, y * y / (2.0 * x));
  }
  *out = best;
  return AB_OK;
}

int ab_bon_variance_proxy_left(const ab_tail *t, double n, double *out) {
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  ab_tail b = {0};
  b.kind = AB_KIND_BON_LAW;
  b.lmin = -INFINITY;
  b.lmax = INFINITY;
  b.sup = INFINITY;
  b.inf = INFINITY;
  b.two_sided = 1;
  b.cgf = cgf_bon_law;
  if (!ab_is_finite_law(t)) {
    double floor = 0.0;
    int st = exact_bon_law(t, n, &b);
    if (!st) st = exact_left_floor(&b, &floor);
    b.coef[1] = b.variance; /* for cgf_bon_exact's small-l form */
    b.variance = fmax(b.variance, floor);
    if (!st) st = ab_frontier_variance_proxy_side(&b, AB_LOSS, out);
    return st;
  }
  int st = finite_bon_law(t, n, &b);
  if (!st) {
    /* An atom of log-mass w at x < 0 weighs most on 2 psi / l^2 near
     * l = 2 w / x; the variance (which underflows when the masses do) sets
     * the engine's scan, so give it r(l) there, itself a lower bound of the
     * proxy, when that is larger. */
    double lneed = 0.0, floor = 0.0;
    for (size_t i = 0; i < b.n; i++) {
      /* psi(l) >= w + l x: 2 psi / l^2 >= x^2 / (2 (-w)), as for exact laws,
       * without the l^2 or 2 w that overflow */
      if (b.x[i] < 0.0 && b.w[i] < 0.0)
        floor = fmax(floor, -0.5 * b.x[i] * (b.x[i] / b.w[i]));
      double li = 2.0 * fmax(-b.w[i], 1.0) / -b.x[i]; /* inf: mass 0 */
      if (b.x[i] < 0.0 && isfinite(li)) lneed = fmax(lneed, li);
    }
    if (lneed > 0.0) {
      /* 2 psi / l / l: l^2 overflowed at l ~ 1e308 (Bernoulli(1/2) at n =
       * 1e308, mass 2^-n at 0: the proxy came out 0, and so did the gain) */
      ab_cgf c;
      cgf_bon_law(&b, -lneed, INFINITY, &c);
      if (isfinite(c.psi))
        b.variance = fmax(b.variance, 2.0 * c.psi / lneed / lneed);
    }
    b.variance = fmax(b.variance, floor);
    st = ab_frontier_variance_proxy_side(&b, AB_LOSS, out);
  }
  ab_free(b.x, t->n * sizeof *b.x);
  ab_free(b.w, t->n * sizeof *b.w);
  return st;
}

/* The Renyi certificate of ab_bon_gain for a reward in a range of width
 * `range`: s_ref^2 the reference's right-tail proxy, s_pi^2 the best-of-n
 * law's left-tail proxy (exact laws, and finite laws of at most 2^16 atoms,
 * where it costs a few passes over them), each capped by Hoeffding's
 * range^2 / 4, which holds for every law on the range.  If the best-of-n
 * proxy cannot be computed, Hoeffding's stands. */
int ab_bon_renyi_certificate(const ab_tail *t, double n, double range,
                             double *out) {
  double hoeffding = 0.25 * range * range, s2_ref, s2_pi = hoeffding, at;
  ab_renyi_divergence d = {AB_RENYI_BON, 0.0, n, NULL, NULL};
  /* a proxy that cannot be had falls back on Hoeffding's, but running out
   * of memory is reported (the result must not depend on the heap) */
  int st = ab_tail_variance_proxy_side(t, AB_GAIN, &s2_ref);
  if (st == AB_ENOMEM) return st;
  if (st != AB_OK) s2_ref = hoeffding;
  s2_ref = fmin(s2_ref, hoeffding);
  st = (!ab_is_finite_law(t) || t->n <= 65536)
           ? ab_bon_variance_proxy_left(t, n, &s2_pi)
           : AB_EUNDEF;
  if (st == AB_ENOMEM) return st;
  /* a proxy below DBL_MIN has lost its digits (the best of n = DBL_MAX
   * uniforms has s_pi^2 ~ range^2 / (2n): 0 in doubles, and the a -> 0
   * bound 2 s_pi^2 (n - 1 - log n) came out 0 for a gain of range / 2):
   * Hoeffding's then */
  if (st == AB_OK && s2_pi >= DBL_MIN) s2_pi = fmin(s2_pi, hoeffding);
  else s2_pi = hoeffding;
  return ab_renyi_gain(s2_ref, s2_pi, &d, NAN, out, &at);
}
