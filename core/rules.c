/*
 * rules.c - selection rules in quantile space (DESIGN 3.6): best-of-Poisson,
 * top fraction and the win-rate tilt beside best-of-n (whose maths stays in
 * bon.c and is delegated to), n for a KL budget, and the win-rate frontier.
 *
 * A rule that keeps a reference sample according to its reward quantile
 * u = F(r) has a density q(u) on [0, 1] with CDF G.  For a continuous reward
 * dpi/dref = q(F(r)), D_f = int_0^1 f(q(u)) du, win rate = int u q(u) du,
 * exact gain = int Q(u) (q(u) - 1) du, a draw is Q(V) with V ~ q; on a
 * discrete reference with ties pi(y) = ref(y)/q(y) (G(F<=) - G(F<)).
 */
#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_lambert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int ab_rule_check(int rule, double p) {
  switch (rule) {
  case AB_RULE_BEST_OF_N:
    return (p >= 1.0 && isfinite(p)) ? AB_OK : AB_EDOM;
  case AB_RULE_BEST_OF_POISSON:
  case AB_RULE_WIN_RATE_TILT:
    return (p >= 0.0 && isfinite(p)) ? AB_OK : AB_EDOM;
  case AB_RULE_TOP_FRACTION:
    return (p > 0.0 && p <= 1.0) ? AB_OK : AB_EDOM;
  default:
    return AB_EDOM;
  }
}

/* ---- the win-rate tilt: closed forms --------------------------------------- */

/* log(c / (1 - e^{-c})) = -log1p(-(e^{-c} - 1 + c)/c): the log of the largest
 * density q(1), without the cancellation of log c - log(1 - e^{-c}). */
static double tilt_log_top(double c) {
  double em1x, em1;
  if (c == 0.0) return 0.0;
  if (c > 40.0) return log(c) - log1p(-exp(-c));
  ab_em1x(-c, &em1x, &em1);
  return -log1p(-em1x / c);
}

/* Win rate 1/(1 - e^{-c}) - 1/c = (e^{-c} - 1 + c) / (c (1 - e^{-c})). */
static double tilt_win(double c) {
  double em1x, em1;
  if (c == 0.0) return 0.5;
  if (isinf(c)) return 1.0;
  ab_em1x(-c, &em1x, &em1);
  return em1x / (c * -em1);
}

/* Bernoulli series of s coth s - 1 - log(sinh s / s) in s^2 (coefficients
 * 2^{2k} B_{2k} (1 - 1/(2k)) / (2k)!, mpmath), for s <= 1/2. */
static const double TILT_KL_SERIES[] = {
    1.66666666666666657415e-01,  -1.66666666666666664354e-02,
    1.76366843033509690386e-03,  -1.85185185185185175990e-04,
    1.92400192400192411319e-05,  -1.98403725740586422689e-06,
    2.03598087195970805629e-07,  -2.08261957406059506945e-08,
    2.12574105992084947497e-09,  -2.16648936443625727951e-10,
    2.20561402081388698376e-11,  -2.24362190356655154959e-12,
    2.28086705771477436805e-13};

/* KL of the win-rate tilt from log c: log(c/(e^c - 1)) + c win, which with
 * s = c/2 is s coth s - 1 - log(sinh s / s) (both terms O(s^2) at 0). */
static double tilt_kl_log(double lc) {
  /* beyond c = e^5, s coth s - s and log1p(-e^{-2s}) are below 1e-60 */
  if (lc > 5.0) return lc - 1.0;
  double c = exp(lc), s = 0.5 * c;
  if (s <= 0.5) {
    double z = s * s, v = 0.0;
    for (int k = (int)(sizeof TILT_KL_SERIES / sizeof *TILT_KL_SERIES) - 1;
         k >= 0; k--)
      v = v * z + TILT_KL_SERIES[k];
    return v * z;
  }
  /* log(sinh s / s) = s - log 2 + log1p(-e^{-2s}) - log s */
  double e2 = exp(-2.0 * s);
  return s * (1.0 + e2) / (1.0 - e2) - 1.0 -
         (s - M_LN2 + log1p(-e2) - log(s));
}

static double tilt_kl(double c) {
  if (c == 0.0) return 0.0;
  if (isinf(c)) return INFINITY;
  return tilt_kl_log(log(c));
}

/* ---- q(u) of each rule ------------------------------------------------------ */

/* log q(u) at u = 1 - x (x given exactly: the mass of every rule but the
 * reference sits near u = 1). */
static double rule_log_q(int rule, double p, double x) {
  switch (rule) {
  case AB_RULE_BEST_OF_POISSON: /* (1 + mu u) e^{-mu (1 - u)} */
    return log1p(p * (1.0 - x)) - p * x;
  case AB_RULE_WIN_RATE_TILT: /* c e^{-c (1-u)} / (1 - e^{-c}) */
    return tilt_log_top(p) - p * x;
  case AB_RULE_TOP_FRACTION:
    return x <= p ? -log(p) : -INFINITY;
  default: /* best-of-n: n u^{n-1} */
    return log(p) + (p - 1.0) * log1p(-x);
  }
}

/* The scale of the layer near u = 1 where the rule's mass sits. */
static double rule_scale(int rule, double p) {
  switch (rule) {
  case AB_RULE_TOP_FRACTION:
    return 1.0 / p;
  default:
    return p > 1.0 ? p : 1.0;
  }
}

/* ---- divergences ------------------------------------------------------------ */

typedef struct {
  int rule;
  double p;
  const ab_family *f;
  int status;
} div_ctx;

/* f~(q(1 - x)) */
static double div_integrand(double x, void *vctx) {
  div_ctx *c = vctx;
  double g;
  if (c->status) return 0.0;
  double l = rule_log_q(c->rule, c->p, x);
  int st = ab_f_tilde(c->f, l, expm1(l), &g);
  if (st) {
    c->status = st;
    return 0.0;
  }
  return g;
}

#define QUAD_LIMIT 1000

/* The x = 1 - u where q = 1 (q increases): the kink of |q - 1| (tv).  The
 * tilt's is closed, u* = log(expm1(c)/c)/c; best-of-Poisson's by Newton on
 * log q = log1p(mu u) - mu (1 - u) (concave in u). */
static double rule_crossing(int rule, double p) {
  if (rule == AB_RULE_WIN_RATE_TILT) {
    /* 1 - u* = 1 - log1p((e^c - 1 - c)/c)/c: near c = 0 the log keeps the
     * digits of its small argument (u* -> 1/2) */
    double em1x, em1;
    if (p > 700.0) return log(p) / p;
    ab_em1x(p, &em1x, &em1);
    return 1.0 - log1p(em1x / p) / p;
  }
  if (rule == AB_RULE_BEST_OF_POISSON) {
    double x = fmin(0.5, log1p(p) / p); /* log q(1 - x) = log1p(p(1-x)) - p x */
    for (int i = 0; i < 60; i++) {
      double f = log1p(p * (1.0 - x)) - p * x, df = -p / (1.0 + p * (1.0 - x)) - p;
      double dx = f / df;
      x -= dx;
      if (fabs(dx) <= 1e-15 * x) break;
    }
    return x;
  }
  return rule == AB_RULE_TOP_FRACTION ? p : NAN;
}

/* int_0^1 f~(q(u)) du in x = 1 - u, cut at x = 10^k / scale where the
 * density changes and where q crosses 1. */
static int rule_integral(int rule, double p, const ab_family *f, double *out) {
  div_ctx c = {rule, p, f, AB_OK};
  gsl_function F = {div_integrand, &c};
  double pts[40], s = rule_scale(rule, p), r, e;
  size_t np = 0;
  pts[np++] = 0.0;
  double xc = rule_crossing(rule, p);
  int put = !(xc > 0.0 && xc < 1.0);
  for (double x = 1.0 / s; x < 1.0 && np < 37; x *= 10.0) {
    if (!put && xc <= x) {
      if (xc < x * (1.0 - 1e-9) && xc > pts[np - 1] * (1.0 + 1e-9)) pts[np++] = xc;
      put = 1;
    }
    pts[np++] = x;
  }
  if (!put && xc > pts[np - 1] * (1.0 + 1e-9)) pts[np++] = xc;
  pts[np++] = 1.0;
  gsl_integration_workspace *ws = ab_quad_new(QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  int st = gsl_integration_qagp(&F, pts, np, 0.0, 1e-13, QUAD_LIMIT, ws, &r,
                                &e);
  ab_quad_free(ws);
  if (c.status) return c.status;
  if (isinf(r) || isnan(r) || st == GSL_EDIVERGE) {
    *out = INFINITY;
    return AB_OK;
  }
  if (st && !(e <= 1e-10 * fabs(r))) return AB_ENOCONV;
  *out = r;
  return AB_OK;
}

/* The top fraction has q in {0, 1/eps}: D_f = eps f~(1/eps) + (1-eps) f~(0). */
static int top_divergence(double eps, const ab_family *f, double *out) {
  double a, b = 0.0;
  int st = ab_f_tilde(f, -log(eps), 1.0 / eps - 1.0, &a);
  if (!st && eps < 1.0) st = ab_f_tilde(f, -INFINITY, -1.0, &b);
  if (st) return st;
  *out = eps * a + (1.0 - eps) * b;
  return AB_OK;
}

int ab_rule_divergence(int rule, double p, const ab_family *f, double *out) {
  int st = ab_family_check(f);
  if (st || (st = ab_rule_check(rule, p))) return st;
  if (rule == AB_RULE_BEST_OF_N)
    return ab_bon_divergence(p, f, AB_CLOSED, out, NULL);
  int renyi = f->kind == AB_RENYI;
  if (f->kind == AB_KL || (renyi && f->alpha == 1.0))
    return ab_rule_kl(rule, p, out);
  if (rule == AB_RULE_TOP_FRACTION) {
    if (renyi) { /* the ratio is 1/eps on its support: every order gives -log eps */
      *out = -log(p);
      return AB_OK;
    }
    if ((st = top_divergence(p, f, out))) return st;
    *out = ab_family_clamp(f, *out);
    return AB_OK;
  }
  if (p == 0.0) { /* the reference itself */
    *out = 0.0;
    return AB_OK;
  }
  if (renyi) {
    double a = f->alpha, m;
    if (isinf(a)) { /* log sup q = log q(1) */
      *out = rule_log_q(rule, p, 0.0);
      return AB_OK;
    }
    /* as in bon.c: log of the moment int q^a, or, where it is near 1, from
     * the Amari divergence A: int q^a = 1 + a (a-1) A */
    ab_family moment = {AB_MOMENT, a, NULL, NULL};
    if ((st = rule_integral(rule, p, &moment, &m))) return st;
    if (fabs(m - 1.0) > 0.25 || isinf(m)) {
      *out = log(m) / (a - 1.0);
      return AB_OK;
    }
    ab_family alpha = {AB_ALPHA, a, NULL, NULL};
    if ((st = rule_integral(rule, p, &alpha, &m))) return st;
    *out = log1p(a * (a - 1.0) * m) / (a - 1.0);
    return AB_OK;
  }
  if ((st = rule_integral(rule, p, f, out))) return st;
  *out = ab_family_clamp(f, *out);
  return AB_OK;
}

int ab_rule_kl(int rule, double p, double *out) {
  int st = ab_rule_check(rule, p);
  if (st) return st;
  switch (rule) {
  case AB_RULE_BEST_OF_N: {
    ab_family kl = {AB_KL, 1.0, NULL, NULL};
    return ab_bon_divergence(p, &kl, AB_CLOSED, out, NULL);
  }
  case AB_RULE_TOP_FRACTION:
    *out = p == 1.0 ? 0.0 : -log(p);
    return AB_OK;
  case AB_RULE_WIN_RATE_TILT:
    *out = tilt_kl(p);
    return AB_OK;
  default: {
    if (p == 0.0) {
      *out = 0.0;
      return AB_OK;
    }
    ab_family kl = {AB_KL, 1.0, NULL, NULL};
    return rule_integral(rule, p, &kl, out);
  }
  }
}

int ab_rule_win_rate(int rule, double p, double *out) {
  int st = ab_rule_check(rule, p);
  if (st) return st;
  switch (rule) {
  case AB_RULE_BEST_OF_N:
    return ab_bon_win_rate(p, out);
  case AB_RULE_TOP_FRACTION:
    *out = 1.0 - 0.5 * p;
    return AB_OK;
  case AB_RULE_WIN_RATE_TILT:
    *out = tilt_win(p);
    return AB_OK;
  default: {
    /* 1 - int_0^1 u e^{mu (u-1)} du = 1 - (e^{-mu} - 1 + mu) / mu^2 */
    double em1x, em1;
    if (p == 0.0) {
      *out = 0.5;
      return AB_OK;
    }
    ab_em1x(-p, &em1x, &em1);
    *out = 1.0 - em1x / (p * p);
    return AB_OK;
  }
  }
}

/* ---- n for a KL budget, the win-rate frontier ----------------------------- */

/* log n - (n-1)/n = K: n = -1 / W0(-e^{-(K+1)}) (GSL) as the start, then
 * Newton on x = log n for x - 1 + e^{-x} = K, whose left side is computed
 * without cancellation (ab_em1x): near K = 0 the branch point of W0 loses
 * half the digits, which the polish restores. */
int ab_bon_n_for_kl(double kl, double *out) {
  if (!(kl >= 0.0)) return AB_EDOM;
  if (kl == 0.0) {
    *out = 1.0;
    return AB_OK;
  }
  if (isinf(kl) || kl > 800.0) { /* n = e^{K+1} (1 + O(e^{-K})) overflows */
    *out = INFINITY;
    return AB_OK;
  }
  double x;
  if (kl < 1e-3) {
    double r = sqrt(2.0 * kl);
    x = r * (1.0 + r / 6.0); /* K = x^2/2 - x^3/6 + ... */
  } else if (kl > 30.0) { /* W0(x) = x (1 + O(x)): n = e^{K+1} */
    x = kl + 1.0;
  } else {
    gsl_sf_result w;
    if (gsl_sf_lambert_W0_e(-exp(-(kl + 1.0)), &w) != GSL_SUCCESS || !(w.val < 0.0))
      return AB_EGSL;
    x = -log(-w.val);
  }
  for (int i = 0; i < 100; i++) {
    double em1x, em1;
    ab_em1x(-x, &em1x, &em1); /* e^{-x} - 1 + x and e^{-x} - 1 */
    double dx = (em1x - kl) / -em1;
    x -= dx;
    /* quadratic convergence ends in a wobble of an ulp or two */
    if (fabs(dx) <= (i < 50 ? 1e-16 : 1e-15) * x) {
      *out = exp(x);
      return AB_OK;
    }
  }
  return AB_ENOCONV;
}

static double tilt_kl_root(double lc, void *vkl) {
  double kl = *(double *)vkl;
  return log(tilt_kl_log(lc)) - log(kl);
}

int ab_frontier_win_rate(double kl, double *win, double *c) {
  if (!(kl >= 0.0)) return AB_EDOM;
  if (kl == 0.0 || isinf(kl)) {
    if (win) *win = kl == 0.0 ? 0.5 : 1.0;
    if (c) *c = kl == 0.0 ? 0.0 : INFINITY;
    return AB_OK;
  }
  double lc;
  if (kl >= 6.0) {
    lc = kl + 1.0; /* KL = log c - 1 up to c e^{-c} */
  } else {
    /* KL ~ c^2/24 at 0 and log c - 1 at infinity: bracket in log c */
    double lo = 0.5 * log(24.0 * kl) - 1.0, hi = fmax(kl + 2.0, lo + 2.0);
    if (lo > hi - 1.0) lo = hi - 10.0;
    gsl_function F = {tilt_kl_root, &kl};
    gsl_root_fsolver *s = ab_root_fsolver_new(gsl_root_fsolver_brent);
    if (!s) return AB_ENOMEM;
    if (gsl_root_fsolver_set(s, &F, lo, hi) != GSL_SUCCESS) {
      ab_root_fsolver_free(s);
      return AB_ENOCONV;
    }
    int st = GSL_CONTINUE;
    for (int i = 0; i < 200 && st == GSL_CONTINUE; i++) {
      if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS) break;
      st = gsl_root_test_interval(gsl_root_fsolver_x_lower(s),
                                  gsl_root_fsolver_x_upper(s), 1e-300, 4e-16);
    }
    lc = gsl_root_fsolver_root(s);
    ab_root_fsolver_free(s);
    if (st != GSL_SUCCESS) return AB_ENOCONV;
  }
  double cc = exp(lc);
  if (c) *c = cc;
  if (win) *win = lc > 40.0 ? 1.0 - exp(-lc) : tilt_win(cc);
  return AB_OK;
}

/* ---- the exact law on a discrete reference --------------------------------- */

/* G(b) - G(a) of a group of normalised mass qn, with a = F< = below and
 * 1 - b = above (each to full relative precision). */
static double rule_group(int rule, double p, double qn, double below,
                         double above) {
  switch (rule) {
  case AB_RULE_BEST_OF_POISSON:
    /* b e^{-mu (1-b)} - a e^{-mu (1-a)} = e^{-mu (1-b)} (qn - a expm1(-mu qn)) */
    return exp(-p * above) * (qn - below * expm1(-p * qn));
  case AB_RULE_WIN_RATE_TILT:
    /* (e^{cb} - e^{ca}) / (e^c - 1) = e^{-c (1-b)} (1 - e^{-c qn}) / (1 - e^{-c}) */
    if (p == 0.0) return qn;
    return exp(-p * above) * (expm1(-p * qn) / expm1(-p));
  default: /* top fraction: |[a, b] with [1 - eps, 1]| / eps */
    return fmax(0.0, fmin(above + qn, p) - fmin(above, p)) / p;
  }
}

int ab_rule_policy(const double *probs, const double *rewards, size_t m,
                   int rule, double p, double *policy, ab_bon_summary *s) {
  if (ab_rule_check(rule, p) || m == 0 || !probs || !rewards) return AB_EDOM;
  if (rule == AB_RULE_BEST_OF_N)
    return ab_bon_policy(probs, rewards, m, p, policy, s);
  ab_sum total = {0.0, 0.0};
  for (size_t i = 0; i < m; i++) {
    if (!(probs[i] >= 0.0) || !isfinite(probs[i]) || !isfinite(rewards[i]))
      return AB_EDOM;
    ab_sum_add(&total, probs[i]);
  }
  double T = ab_sum_value(&total);
  if (!ab_sums_to_one(T)) return AB_EDOM;
  ab_record *k = ab_alloc_large(m * sizeof *k);
  double *above = ab_malloc_n(m, sizeof *above); /* per group start index */
  if (!k || !above) {
    ab_free(k, m * sizeof *k);
    ab_free(above, m * sizeof *above);
    return AB_ENOMEM;
  }
  if (ab_sort_law(probs, rewards, m, k)) {
    ab_free(k, m * sizeof *k);
    ab_free(above, m * sizeof *above);
    return AB_ENOMEM;
  }
  /* the mass strictly above each group, summed from the top, so that a
   * small 1 - F<= keeps its digits; the mass below from the bottom */
  ab_sum acc = {0.0, 0.0};
  for (size_t hi = m; hi > 0;) {
    size_t lo = hi - 1;
    while (lo > 0 && k[lo - 1].key == k[hi - 1].key) lo--;
    above[lo] = ab_sum_value(&acc);
    for (size_t j = lo; j < hi; j++) ab_sum_add(&acc, k[j].a);
    hi = lo;
  }
  ab_family klf = {AB_KL, 1.0, NULL, NULL};
  ab_sum below = {0.0, 0.0}, kl = {0.0, 0.0}, win = {0.0, 0.0},
         mean = {0.0, 0.0};
  double iT = 1.0 / T;
  for (size_t lo = 0, hi; lo < m; lo = hi) {
    ab_sum q = {0.0, 0.0};
    for (hi = lo; hi < m && k[hi].key == k[lo].key; hi++) ab_sum_add(&q, k[hi].a);
    double qm = ab_sum_value(&q), qn = qm * iT, a = ab_sum_value(&below) * iT;
    double g = qm > 0.0 ? rule_group(rule, p, qn, a, above[lo] * iT) : 0.0;
    if (policy)
      for (size_t j = lo; j < hi; j++)
        policy[(size_t)k[j].b] = qm > 0.0 ? g * (k[j].a / qm) : 0.0;
    if (qm > 0.0) {
      double d = (g - qn) / qn, term;
      double l = g > 0.0 ? (fabs(d) < 0.5 ? log1p(d) : log(g / qn)) : -INFINITY;
      ab_f_tilde(&klf, l, d, &term);
      ab_sum_add(&kl, qn * term);
      ab_sum_add(&win, g * (a + 0.5 * qn));
      ab_sum_add(&mean, g * ab_sort_unkey(k[lo].key));
    }
    for (size_t j = lo; j < hi; j++) ab_sum_add(&below, k[j].a);
  }
  ab_free(k, m * sizeof *k);
  ab_free(above, m * sizeof *above);
  if (s) {
    ab_rule_kl(rule, p, &s->kl_bound);
    s->kl = fmax(0.0, fmin(ab_sum_value(&kl), s->kl_bound));
    s->win_rate = fmin(ab_sum_value(&win), 1.0);
    s->mean = ab_sum_value(&mean);
  }
  return AB_OK;
}

/* ---- exact gains ------------------------------------------------------------- */

typedef struct {
  const ab_tail *t;
  int rule, upper;
  double p;
  int status;
} gain_ctx;

/* Qc(u) (q(u) - 1) at u = e^{-x} (lower half) or 1 - u = e^{-x} (upper),
 * times the Jacobian e^{-x}; Qc is centred, so int Qc = 0 and q - 1 keeps
 * the integrand O(p) for a rule near the reference. */
static double gain_integrand(double x, void *vctx) {
  gain_ctx *c = vctx;
  double v, e = exp(-x), o = -expm1(-x);
  if (c->status || e == 0.0) return 0.0;
  double u = c->upper ? o : e, w = c->upper ? e : o;
  c->status = ab_quantile_centred(c->t, u, w, &v);
  if (c->status) return 0.0;
  return v * expm1(rule_log_q(c->rule, c->p, w)) * e;
}

int ab_rule_expected_gain(const ab_tail *t, int rule, double p, double *out) {
  int st = ab_rule_check(rule, p);
  if (st) return st;
  if (rule == AB_RULE_BEST_OF_N) return ab_bon_expected_gain(t, p, AB_CLOSED, out);
  if (ab_is_finite_law(t)) {
    size_t m = t->n;
    double *w = ab_malloc_n(m, sizeof *w), *pol = ab_malloc_n(m, sizeof *pol);
    if (!w || !pol) {
      ab_free(w, m * sizeof *w);
      ab_free(pol, m * sizeof *pol);
      return AB_ENOMEM;
    }
    for (size_t i = 0; i < m; i++) w[i] = t->w ? t->w[i] : 1.0 / (double)m;
    st = ab_rule_policy(w, t->x, m, rule, p, pol, NULL);
    ab_sum g = {0.0, 0.0};
    for (size_t i = 0; !st && i < m; i++) ab_sum_add(&g, (pol[i] - w[i]) * t->x[i]);
    ab_free(w, m * sizeof *w);
    ab_free(pol, m * sizeof *pol);
    if (!st) *out = ab_sum_value(&g);
    return st;
  }
  double v;
  if ((st = ab_quantile_centred(t, 0.5, 0.5, &v))) return st;
  if (p == 0.0 || (rule == AB_RULE_TOP_FRACTION && p == 1.0)) {
    *out = 0.0;
    return AB_OK;
  }
  gsl_integration_workspace *ws = ab_quad_new(QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  double sum = 0.0, ls = log(rule_scale(rule, p));
  for (int upper = 0; upper < 2 && !st; upper++) {
    gain_ctx c = {t, rule, upper, p, AB_OK};
    gsl_function F = {gain_integrand, &c};
    double pts[8], r, e;
    size_t np = 0;
    pts[np++] = M_LN2;
    /* the density's features: the layer at 1 - u ~ 1/scale, the top
     * fraction's step at 1 - u = eps */
    double cut = upper ? ls : -log1p(-1.0 / rule_scale(rule, p));
    if (cut > M_LN2 + 1e-3 && cut < 80.0) pts[np++] = cut;
    if (upper && ls + 5.0 < 80.0 && ls + 5.0 > pts[np - 1]) pts[np++] = ls + 5.0;
    pts[np++] = 80.0 + (upper ? ls : 0.0);
    int s = gsl_integration_qagp(&F, pts, np, 0.0, 1e-12, QUAD_LIMIT, ws, &r, &e);
    if (c.status) st = c.status;
    else if (s && !(e <= 1e-10 * fabs(r) + 1e-15 * sqrt(t->variance)))
      st = AB_ENOCONV;
    sum += r;
  }
  ab_quad_free(ws);
  if (st) return st;
  *out = sum > 0.0 ? sum : 0.0; /* every rule here favours higher rewards */
  return AB_OK;
}

/* ---- sampling ---------------------------------------------------------------- */

/* One V ~ q as (p, 1 - p), each to full precision: best-of-Poisson as
 * U^{1/N} with N = 1 + Poisson(mu) (the mixture it is), the top fraction as
 * 1 - eps U, the win-rate tilt by the inverse of G. */
static void rule_draw(int rule, double p, ab_rng *r, double *v, double *w) {
  double U = ab_rng_uniform(r);
  switch (rule) {
  case AB_RULE_BEST_OF_N: {
    double lu = log(U) / p;
    *v = exp(lu), *w = -expm1(lu);
    return;
  }
  case AB_RULE_BEST_OF_POISSON: {
    double n = 1.0 + (double)gsl_ran_poisson(ab_rng_gsl(r), p), lu = log(U) / n;
    *v = exp(lu), *w = -expm1(lu);
    return;
  }
  case AB_RULE_TOP_FRACTION:
    *w = p * U;
    *v = (1.0 - p) + p * (1.0 - U);
    return;
  default: /* 1 - V = -log(1 - U (1 - e^{-c})) / c */
    if (p == 0.0) {
      *v = U, *w = 1.0 - U;
      return;
    }
    *w = -log1p(U * expm1(-p)) / p;
    *v = (*w > 0.5 && p < 700.0) ? log1p((1.0 - U) * expm1(p)) / p : 1.0 - *w;
  }
}

typedef struct {
  int rule;
  double p;
} rule_ctx;

static void rule_draw_ctx(void *ctx, ab_rng *r, double *v, double *w) {
  const rule_ctx *c = ctx;
  rule_draw(c->rule, c->p, r, v, w);
}

int ab_rule_sample(const ab_tail *t, int rule, double p, ab_rng *r, size_t k,
                   double *out) {
  int st = ab_rule_check(rule, p);
  if (st) return st;
  if (rule == AB_RULE_BEST_OF_N) return ab_bon_sample(t, p, r, k, out);
  rule_ctx c = {rule, p};
  return ab_sample_quantile(t, rule_draw_ctx, &c, r, k, out);
}

/* ---- soft best-of-n ---------------------------------------------------------- */

/* Soft best-of-n on a discrete reference (DESIGN 3.6): of n reference draws
 * keep one with probability proportional to w = e^{r/tau}.  With the
 * weights shifted so that the top one is 1,
 *   pi(y) = n ref(y) w(y) int_0^inf e^{-t w(y)} M(t)^{n-1} dt,
 *   M(t) = E_ref e^{-t w}
 * (1/(w + S) = int e^{-t (w + S)} dt with S the other n-1 weights).  The
 * integral is the trapezoid rule in x = log t, whose integrand
 * t e^{-t w} M^{n-1} is analytic in the strip |Im x| < pi/2 and decays
 * doubly exponentially at both ends: step 0.2 leaves an error near
 * e^{-2 pi 1.2 / 0.2} ~ 1e-16.  The range runs from t = 1e-18/n (below it
 * the integrand is < t, while every integral is >= 1/n) to 80 / w_min
 * (where every e^{-t w} has vanished).  Cost: O(nodes * K) for K distinct
 * rewards; nodes ~ 230 + 5 log(1/w_min).  Weights below e^{-700} (rewards
 * more than 700 tau below the top) are a level of their own: they are kept
 * only when all n draws fall among them (probability q0^n), and then by the
 * same rule. */
#define SOFT_STEP 0.2
#define SOFT_SMALL 1e-3
#define SOFT_TERMS 7

int ab_soft_bon_policy(const double *probs, const double *rewards, size_t m,
                       double n, double tau, double *policy,
                       ab_bon_summary *s) {
  if (!(n >= 1.0 && n == floor(n) && n < 1e15) || !(tau > 0.0) || m == 0 ||
      !probs || !rewards)
    return AB_EDOM;
  ab_sum total = {0.0, 0.0};
  for (size_t i = 0; i < m; i++) {
    if (!(probs[i] >= 0.0) || !isfinite(probs[i]) || !isfinite(rewards[i]))
      return AB_EDOM;
    ab_sum_add(&total, probs[i]);
  }
  double T = ab_sum_value(&total), iT = 1.0 / T;
  if (!ab_sums_to_one(T)) return AB_EDOM;
  ab_record *k = ab_alloc_large(m * sizeof *k);
  /* per group: its mass, weight, reward and integral */
  double *gq = m <= SIZE_MAX / 4 ? ab_malloc_n(4 * m, sizeof *gq) : NULL;
  if (!k || !gq) {
    ab_free(k, m * sizeof *k);
    ab_free(gq, 4 * m * sizeof *gq);
    return AB_ENOMEM;
  }
  double *gw = gq + m, *gr = gw + m, *gi = gr + m;
  if (ab_sort_law(probs, rewards, m, k)) {
    ab_free(k, m * sizeof *k);
    ab_free(gq, 4 * m * sizeof *gq);
    return AB_ENOMEM;
  }
  size_t K = 0;
  for (size_t lo = 0, hi; lo < m; lo = hi) {
    ab_sum q = {0.0, 0.0};
    for (hi = lo; hi < m && k[hi].key == k[lo].key; hi++) ab_sum_add(&q, k[hi].a);
    gq[K] = ab_sum_value(&q) * iT;
    gr[K] = ab_sort_unkey(k[lo].key);
    gi[K] = n == 1.0 ? gq[K] : 0.0;
    K++;
  }
  /* level by level: the groups whose weight relative to the top one is
   * representable; those below (all n draws among them, probability
   * q0^n) form the next level, with the same rule inside */
  double scale = 1.0, mass = 1.0;
  for (size_t end = K; n > 1.0 && end > 0;) {
    size_t top = end;
    while (top > 0 && gq[top - 1] == 0.0) top--;
    if (top == 0) break;
    double rmax = gr[top - 1], wmin = 1.0, q0 = 0.0;
    size_t z = 0;
    for (size_t j = 0; j < end; j++) {
      gw[j] = isinf(tau) ? 1.0 : exp((gr[j] - rmax) / tau);
      /* a weight below e^-700 (subnormal ones included, whose 80/w would
       * overflow the range of t) goes to the next level */
      if (gw[j] < 9.86e-305) gw[j] = 0.0;
      if (gw[j] == 0.0) {
        z = j + 1;
        q0 += gq[j] / mass;
      } else if (gq[j] > 0.0 && gw[j] < wmin) {
        wmin = gw[j];
      }
    }
    /* below t = SOFT_SMALL (t w <= 1e-3 for every w <= 1) e^{-t w} is its
     * Taylor series to (t w)^SOFT_TERMS: 1 - M(t) from the moments
     * m_k = E w^k, and the nodes enter the integrals only through
     * S_k = sum_nodes A t^k, so they cost O(1) each instead of O(K) */
    double mk[SOFT_TERMS + 1] = {0.0}, Sk[SOFT_TERMS + 1] = {0.0};
    for (size_t j = z; j < end; j++) {
      double wk = 1.0;
      for (int i = 1; i <= SOFT_TERMS; i++) mk[i] += gq[j] / mass * (wk *= gw[j]);
    }
    double xlo = log(1e-18 / n), xhi = log(80.0 / wmin);
    for (double x = xlo; x <= xhi; x += SOFT_STEP) {
      double t = exp(x), A;
      if (t < SOFT_SMALL) {
        /* 1 - M = sum_k (-1)^(k+1) t^k m_k / k! */
        double om = 0.0, tk = 1.0, f = 1.0;
        for (int i = 1; i <= SOFT_TERMS; i++) {
          tk *= t;
          f /= i;
          om += (i & 1 ? 1.0 : -1.0) * tk * mk[i] * f;
        }
        A = t * exp((n - 1.0) * log1p(-om));
        tk = 1.0;
        for (int i = 0; i <= SOFT_TERMS; i++, tk *= t) Sk[i] += A * tk;
        continue;
      }
      ab_sum om = {0.0, 0.0}; /* 1 - M(t), without cancellation near t = 0 */
      for (size_t j = z; j < end; j++)
        ab_sum_add(&om, gq[j] / mass * -expm1(-t * gw[j]));
      A = t * exp((n - 1.0) * log1p(-fmin(ab_sum_value(&om), 1.0)));
      if (A == 0.0) continue;
      for (size_t j = z; j < end; j++) {
        double e = t * gw[j];
        if (e < 745.0) gi[j] += A * exp(-e);
      }
    }
    for (size_t j = z; j < end; j++) { /* sum_k S_k (-w)^k / k! */
      double v = 0.0, wk = 1.0, f = 1.0;
      for (int i = 0; i <= SOFT_TERMS; i++) {
        if (i) {
          wk *= -gw[j];
          f /= i;
        }
        v += Sk[i] * wk * f;
      }
      gi[j] += v;
    }
    for (size_t j = z; j < end; j++)
      gi[j] = scale * (gq[j] / mass) * n * gw[j] * gi[j] * SOFT_STEP;
    scale *= pow(q0, n);
    mass *= q0;
    end = z;
    if (scale == 0.0) break;
  }
  ab_family klf = {AB_KL, 1.0, NULL, NULL};
  ab_sum kl = {0.0, 0.0}, win = {0.0, 0.0}, mean = {0.0, 0.0},
         below = {0.0, 0.0};
  size_t lo = 0;
  for (size_t j = 0; j < K; j++) {
    size_t hi = lo;
    while (hi < m && k[hi].key == k[lo].key) hi++;
    double qn = gq[j], g = gi[j];
    if (policy)
      for (size_t i = lo; i < hi; i++)
        policy[(size_t)k[i].b] = qn > 0.0 ? g * (k[i].a * iT / qn) : 0.0;
    if (qn > 0.0) {
      double d = (g - qn) / qn, term;
      double l = g > 0.0 ? (fabs(d) < 0.5 ? log1p(d) : log(g / qn)) : -INFINITY;
      ab_f_tilde(&klf, l, d, &term);
      ab_sum_add(&kl, qn * term);
      ab_sum_add(&win, g * (ab_sum_value(&below) + 0.5 * qn));
      ab_sum_add(&mean, g * gr[j]);
    }
    ab_sum_add(&below, qn);
    lo = hi;
  }
  ab_free(k, m * sizeof *k);
  ab_free(gq, 4 * m * sizeof *gq);
  if (s) {
    ab_family f = {AB_KL, 1.0, NULL, NULL};
    ab_bon_divergence(n, &f, AB_CLOSED, &s->kl_bound, NULL);
    s->kl = fmax(0.0, ab_sum_value(&kl));
    s->win_rate = fmin(ab_sum_value(&win), 1.0);
    s->mean = ab_sum_value(&mean);
  }
  return AB_OK;
}

/* The exact gain of soft best-of-n on a finite law (its atoms). */
int ab_soft_bon_expected_gain(const ab_tail *t, double n, double tau,
                              double *out) {
  if (!ab_is_finite_law(t)) {
    ab_soft_summary s;
    int st = ab_soft_bon_exact(t, n, tau, NULL, &s);
    if (!st) *out = s.gain;
    return st;
  }
  size_t m = t->n;
  if (m == 0) return AB_EDOM;
  double *w = m <= SIZE_MAX / 2 ? ab_malloc_n(2 * m, sizeof *w) : NULL;
  if (!w) return AB_ENOMEM;
  double *pol = w + m;
  for (size_t i = 0; i < m; i++) w[i] = t->w ? t->w[i] : 1.0 / (double)m;
  int st = ab_soft_bon_policy(w, t->x, m, n, tau, pol, NULL);
  ab_sum g = {0.0, 0.0};
  for (size_t i = 0; !st && i < m; i++) ab_sum_add(&g, (pol[i] - w[i]) * t->x[i]);
  ab_free(w, 2 * m * sizeof *w);
  if (!st) *out = ab_sum_value(&g);
  return st;
}

/* k draws of soft best-of-n from any exact or finite law, by its
 * definition: n reference draws, one kept by the Gumbel-max trick
 * (argmax r/tau + Gumbel is the softmax choice).  O(n) per draw: the rule
 * has no quantile form. */
int ab_soft_bon_sample(const ab_tail *t, double n, double tau, ab_rng *r,
                       size_t k, double *out) {
  if (!(n >= 1.0 && n == floor(n) && n <= 1e7) || !(tau > 0.0)) return AB_EDOM;
  size_t nn = (size_t)n;
  double *buf = ab_malloc_n(nn, sizeof *buf);
  if (!buf) return AB_ENOMEM;
  int st = AB_OK;
  for (size_t i = 0; i < k && !st; i++) {
    if ((st = ab_tail_sample(t, r, nn, buf))) break;
    double best = -INFINITY;
    for (size_t j = 0; j < nn; j++) {
      double v = (isinf(tau) ? 0.0 : buf[j] / tau) - log(-log(ab_rng_uniform(r)));
      if (v > best) {
        best = v;
        out[i] = buf[j];
      }
    }
  }
  ab_free(buf, nn * sizeof *buf);
  return st;
}

/* ---- soft best-of-n on an exact law ----------------------------------------- */

/* The quantile u in (0, 1) is discretised by the tanh-sinh rule,
 * u = 1 / (1 + e^{-2 s}), s = (pi/2) sinh x, x = j h, |x| <= 6 (down to
 * 1 - u ~ 3e-23, a mass that no integral here sees; both u and 1 - u to
 * full precision, and the weights w of the nodes within e^{-600} of each
 * other up to 60 temperatures of spread), node mass
 * h (pi/4) cosh x / cosh^2 s.  On those nodes as a discrete law,
 * ab_soft_bon_policy gives pi_j = mass_j q(u_j) with the Laplace form's
 * M(t) = sum_j mass_j e^{-t w_j} (a quadrature of int_0^1 e^{-t w(u)} du);
 * then gain = int Q (q - 1) du, D_f = int f(q) du, win rate = int u q du
 * are the same sums.  Every integrand is analytic inside (0, 1), so the rule
 * converges exponentially in 1/h: h is halved from 1/8 until two levels
 * agree to 1e-12 (at most h = 1/512). */
#define SOFT_XMAX 3.5

static int soft_level(const ab_tail *t, double n, double tau,
                      const ab_family *f, double h, double out[5]) {
  size_t m = 2 * (size_t)(SOFT_XMAX / h) + 1, j = 0, m0 = m;
  double *buf = ab_malloc_n(5 * m, sizeof *buf);
  if (!buf) return AB_ENOMEM;
  double *p = buf, *r = p + m, *u = r + m, *pol = u + m, *lo = pol + m;
  ab_sum mass = {0.0, 0.0};
  int st = AB_OK;
  for (double x = -SOFT_XMAX; x <= SOFT_XMAX + 0.5 * h && !st; x += h) {
    double s = M_PI_2 * sinh(x), c = cosh(s);
    double w = h * M_PI_4 * cosh(x) / (c * c);
    if (!(w > 0.0)) continue;
    double ul = 1.0 / (1.0 + exp(-2.0 * s)), uh = 1.0 / (1.0 + exp(2.0 * s));
    st = ab_quantile_centred(t, ul, uh, &r[j]);
    p[j] = w;
    u[j] = ul;
    lo[j] = uh;
    ab_sum_add(&mass, w);
    j++;
  }
  m = j;
  double total = ab_sum_value(&mass);
  for (j = 0; j < m; j++) p[j] /= total;
  if (!st) st = ab_soft_bon_policy(p, r, m, n, tau, pol, NULL);
  ab_sum g = {0, 0}, d = {0, 0}, k = {0, 0}, wr = {0, 0};
  ab_family klf = {AB_KL, 1.0, NULL, NULL};
  double lqmax = -INFINITY; /* log sup q: q increases with u */
  for (j = 0; j < m && !st; j++) {
    double qd = (pol[j] - p[j]) / p[j], q = qd + 1.0, term;
    double l = q > 0.0 ? (fabs(qd) < 0.5 ? log1p(qd) : log(q)) : -INFINITY;
    ab_sum_add(&g, (pol[j] - p[j]) * r[j]);
    ab_sum_add(&wr, pol[j] * u[j]);
    lqmax = fmax(lqmax, l);
    if ((st = ab_f_tilde(&klf, l, qd, &term))) break;
    ab_sum_add(&k, p[j] * term);
    if (f) {
      if ((st = ab_f_tilde(f, l, qd, &term))) break;
      ab_sum_add(&d, p[j] * term);
    }
  }
  ab_free(buf, 5 * m0 * sizeof *buf);
  out[0] = ab_sum_value(&g);
  out[1] = fmax(ab_sum_value(&k), 0.0);
  out[2] = fmin(ab_sum_value(&wr), 1.0);
  out[3] = f ? ab_sum_value(&d) : 0.0;
  out[4] = lqmax;
  return st;
}

int ab_soft_bon_exact(const ab_tail *t, double n, double tau,
                      const ab_family *f, ab_soft_summary *s) {
  if (!(n >= 1.0 && n == floor(n) && n < 1e15) || !(tau > 0.0))
    return AB_EDOM;
  int st = f ? ab_family_check(f) : AB_OK;
  if (st) return st;
  if (ab_is_finite_law(t)) {
    /* the atoms themselves (ties share their group's probability) */
    size_t m = t->n;
    double *w = ab_malloc_n(2 * m, sizeof *w), *pol;
    ab_bon_summary b;
    if (!w) return AB_ENOMEM;
    pol = w + m;
    for (size_t i = 0; i < m; i++) w[i] = t->w ? t->w[i] : 1.0 / (double)m;
    st = ab_soft_bon_policy(w, t->x, m, n, tau, pol, &b);
    ab_sum g = {0.0, 0.0};
    for (size_t i = 0; !st && i < m; i++) ab_sum_add(&g, (pol[i] - w[i]) * t->x[i]);
    s->gain = ab_sum_value(&g);
    s->kl = b.kl;
    s->win_rate = b.win_rate;
    s->divergence = 0.0;
    if (!st && f) st = ab_divergence(pol, w, m, f, &s->divergence);
    ab_free(w, 2 * m * sizeof *w);
    return st;
  }
  /* tv's |q - 1| has a kink, which the rule would resolve only as h^2 */
  if (f && f->kind == AB_TV) return AB_EUNDEF;
  /* Renyi of order a from the Amari divergence A of the same order:
   * D_a = log1p(a (a-1) A) / (a - 1); order 1 is KL, order inf log q(1) */
  int renyi = f && f->kind == AB_RENYI;
  ab_family amari = {AB_ALPHA, renyi ? f->alpha : 1.0, NULL, NULL};
  if (renyi && (f->alpha == 1.0 || isinf(f->alpha))) f = NULL;
  else if (renyi) f = &amari;
  if (n == 1.0) { /* the reference itself */
    s->gain = s->kl = s->divergence = 0.0;
    s->win_rate = 0.5;
    return AB_OK;
  }
  /* the absolute floor of each comparison: rounding of sums of size sd */
  double sd = sqrt(t->variance), floor_of[5] = {1e-15 * sd, 1e-16, 1e-16, 1e-16, 1e-16};
  double prev[5], cur[5];
  st = soft_level(t, n, tau, f, 0.125, prev);
  for (double h = 0.0625; !st && h >= 1.0 / 512.0; h *= 0.5) {
    if ((st = soft_level(t, n, tau, f, h, cur))) break;
    int same = 1;
    for (int i = 0; i < 5; i++)
      if (!(fabs(cur[i] - prev[i]) <= 1e-12 * fabs(cur[i]) + floor_of[i])) same = 0;
    memcpy(prev, cur, sizeof cur);
    if (same) {
      s->gain = cur[0];
      s->kl = cur[1];
      s->win_rate = cur[2];
      s->divergence = cur[3];
      if (renyi) {
        double al = amari.alpha;
        s->divergence = al == 1.0 ? cur[1]
                        : isinf(al) ? cur[4]
                                    : log1p(al * (al - 1.0) * cur[3]) / (al - 1.0);
      }
      if (f && !renyi) s->divergence = ab_family_clamp(f, s->divergence);
      return AB_OK;
    }
  }
  return st ? st : AB_ENOCONV;
}

/* ---- rules on pairs (proxy, gold): joint.samples and joint.additive --------- */

int ab_pair_gains(const double *pi, const double *proxy, const double *gold,
                  size_t m, ab_pair_summary *s) {
  if (m == 0 || !pi || !proxy || !gold) return AB_EDOM;
  double im = 1.0 / (double)m;
  ab_sum sp = {0, 0}, sg = {0, 0}, mp = {0, 0}, mg = {0, 0};
  for (size_t i = 0; i < m; i++) {
    if (!isfinite(pi[i]) || !isfinite(proxy[i]) || !isfinite(gold[i])) return AB_EDOM;
    ab_sum_add(&mp, proxy[i] * im);
    ab_sum_add(&mg, gold[i] * im);
  }
  double pbar = ab_sum_value(&mp), gbar = ab_sum_value(&mg);
  /* sum (pi_i - 1/m) x_i = sum (pi_i - 1/m)(x_i - xbar): no cancellation
   * against the mean */
  for (size_t i = 0; i < m; i++) {
    ab_sum_add(&sp, (pi[i] - im) * (proxy[i] - pbar));
    ab_sum_add(&sg, (pi[i] - im) * (gold[i] - gbar));
  }
  s->proxy_gain = ab_sum_value(&sp);
  s->gold_gain = ab_sum_value(&sg);
  /* the gain as the mean of the m terms (m pi_i - 1)(x_i - xbar): its
   * standard error when the pairs are draws (the ranks taken as given) */
  ab_sum vp = {0, 0}, vg = {0, 0};
  for (size_t i = 0; i < m && m > 1; i++) {
    double w = pi[i] * (double)m - 1.0;
    double dp = w * (proxy[i] - pbar) - s->proxy_gain;
    double dg = w * (gold[i] - gbar) - s->gold_gain;
    ab_sum_add(&vp, dp * dp);
    ab_sum_add(&vg, dg * dg);
  }
  double dn = m > 1 ? (double)m * (double)(m - 1) : 1.0;
  s->proxy_se = sqrt(ab_sum_value(&vp) / dn);
  s->gold_se = sqrt(ab_sum_value(&vg) / dn);
  return AB_OK;
}

int ab_additive_draws(const ab_tail *gold, const ab_tail *error, ab_rng *r,
                      size_t m, double *proxy, double *g) {
  double *e = ab_malloc_n(m, sizeof *e);
  if (!e) return AB_ENOMEM;
  int st = ab_tail_sample(gold, r, m, g);
  if (!st) st = ab_tail_sample(error, r, m, e);
  for (size_t i = 0; !st && i < m; i++) proxy[i] = g[i] + e[i];
  ab_free(e, m * sizeof *e);
  return st;
}
