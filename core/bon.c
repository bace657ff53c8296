/*
 * bon.c - best-of-n: divergences of bon_n from ref for every family, exact
 * gains, the exact law of a discrete reference with ties, certificates for
 * the gain, and the estimators of Beirami et al. and from logged samples.
 *
 * Renyi representation: the best of n has reward F^{-1}(U^{1/n}), so bon_n is
 * to ref what Beta(n, 1) is to Uniform(0, 1), and for continuous rewards
 * D_f(bon_n || ref) = int_0^1 f(n u^(n-1)) du (DESIGN 3.2).
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_zeta.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int check_n(double n) { return (n >= 1.0 && isfinite(n)) ? AB_OK : AB_EDOM; }

/* ---- closed forms --------------------------------------------------------- */

/* log n - (n-1)/n: near n = 1 as -ab_log1pmx(-c), c = (n-1)/n, where the two
 * terms cancel; above 2, directly (1 - c would lose digits at large n). */
static double bon_kl(double n) {
  double c = (n - 1.0) / n;
  return n < 2.0 ? -ab_log1pmx(-c) : log(n) - c;
}

/* log(1 + a e) and log(1 + a e) - a e; near 1 + a e = 0 (negative orders)
 * 1 + a e comes from one fma, so that its few significant digits are right. */
static double log1p_product(double a, double e) {
  double x = a * e;
  return x < -0.5 ? log(fma(a, e, 1.0)) : log1p(x);
}
static double log1pmx_product(double a, double e) {
  double x = a * e;
  return x < -0.5 ? log(fma(a, e, 1.0)) - x : ab_log1pmx(x);
}

/* Renyi D_a(Beta(n,1) || U) = (a log n - log(1 + a (n-1))) / (a - 1), for any
 * real a with 1 + a (n-1) > 0 (negative orders serve the alpha family). */
static double bon_renyi(double a, double n) {
  double e = n - 1.0;
  if (e == 0.0) return 0.0;
  if (isinf(a)) return log1p(e);
  if (a == 1.0) return bon_kl(n);
  if (!(fma(a, e, 1.0) > 0.0)) return INFINITY;
  if (fabs(a - 1.0) < 0.5) {
    /* log n - log1p(d c) / d, d = a - 1, c = (n-1)/n */
    double d = a - 1.0, c = e / n;
    if (n < 2.0) return -ab_log1pmx(-c) - ab_log1pmx(d * c) / d;
    double y = d * c;
    return log(n) - c * (y == 0.0 ? 1.0 : log1p(y) / y);
  }
  if (e < 1.0) return (a * ab_log1pmx(e) - log1pmx_product(a, e)) / (a - 1.0);
  double ln = log1p(e), ae = a * e;
  double lae = ae > 1e300 ? log(a) + log(e) : log1p_product(a, e);
  if (a > 1.0) return ln + (ln - lae) / (a - 1.0);
  return (a * ln - lae) / (a - 1.0);
}

/* (n-1)^2 / (2n-1); above n = 2 as e / (2 + 1/e): e^2 overflows from
 * n = 1e154 and 2n - 1 at n = 1e308. */
static double bon_chi2(double n) {
  double e = n - 1.0;
  return e < 1.0 ? e * e / (1.0 + 2.0 * e) : e / (2.0 + 1.0 / e);
}

/* Amari alpha divergence of Beta(n, 1) from U(0, 1):
 * (M - 1) / (a (a-1)) with the moment M = n^a / (1 + a(n-1)) = e^x,
 * x = (a-1) D_a.  Written as expm1(x)/x * D_a/a, so that tiny orders (where
 * D_a underflows but D_a/a tends to the reverse KL) and huge orders (where
 * a (a-1) overflows) keep their digits. */
static double bon_alpha(double a, double n) {
  double e = n - 1.0, q, x;
  if (e == 0.0) return 0.0;
  if (fabs(a) < 1e-3) {
    /* q = D_a / a without forming D_a */
    if (!(fma(a, e, 1.0) > 0.0)) return INFINITY;
    if (e < 1.0) q = (ab_log1pmx(e) - log1pmx_product(a, e) / a) / (a - 1.0);
    else q = (log1p(e) - log1p_product(a, e) / a) / (a - 1.0);
    x = a * (a - 1.0) * q;
    return (x == 0.0 ? 1.0 : expm1(x) / x) * q;
  }
  double r = bon_renyi(a, n);
  if (isinf(r)) return INFINITY;
  x = (a - 1.0) * r;
  if (isfinite(a * (a - 1.0))) return expm1(x) / (a * (a - 1.0));
  /* a huge: divide in steps, or in logs once e^x is large */
  if (x > 700.0) return exp(x - log(a) - log(a - 1.0));
  return expm1(x) / a / (a - 1.0);
}

static int closed_divergence(double n, const ab_family *f, double *out) {
  double e = n - 1.0;
  switch (f->kind) {
  case AB_KL:
    *out = bon_kl(n);
    return AB_OK;
  case AB_REVERSE_KL:
    *out = -ab_log1pmx(e);
    return AB_OK;
  case AB_CHI2:
    *out = bon_chi2(n);
    return AB_OK;
  case AB_HELLINGER: {
    double r = e / (sqrt(n) + 1.0);
    *out = r * r / (n + 1.0);
    return AB_OK;
  }
  case AB_TV:
    *out = e == 0.0 ? 0.0 : (e / n) * exp(-log1p(e) / e);
    return AB_OK;
  case AB_RENYI: {
    double r = bon_renyi(f->alpha, n);
    *out = r > 0.0 ? r : 0.0; /* no -0 from rounding at n = 1 */
    return AB_OK;
  }
  case AB_ALPHA: {
    double a = f->alpha;
    if (a == 1.0) *out = bon_kl(n);
    else if (a == 0.0) *out = -ab_log1pmx(e);
    else *out = bon_alpha(a, n);
    if (!(*out > 0.0)) *out = 0.0;
    return AB_OK;
  }
  default:
    return -1; /* JS and user f: no closed form */
  }
}

/* ---- the integral --------------------------------------------------------- */

typedef struct {
  const ab_family *f;
  double n, e, ln; /* n, n - 1, log n */
  int sform;       /* 0: x-form, 1: s-form */
  int status;
} integrand_ctx;

/* x-form: int_0^inf f~(n e^{-(n-1) x}) e^{-x} dx (u = e^{-x});
 * s-form: s = (n-1) x, which resolves the layer near u = 1 where t >= 1. */
static double integrand(double v, void *vctx) {
  integrand_ctx *c = vctx;
  double l, w, g;
  if (c->status) return 0.0;
  /* the log-ratio l = log t, from which t - 1 = expm1(l) keeps its digits */
  if (c->sform) {
    l = c->ln - v;
    w = exp(-v / c->e) / c->e;
  } else {
    l = c->ln - c->e * v;
    w = exp(-v);
  }
  if (w == 0.0) return 0.0;
  int st = ab_f_tilde(c->f, l, expm1(l), &g);
  if (st) {
    c->status = st;
    return 0.0;
  }
  return g * w;
}

#define QUAD_LIMIT 1000

/* Add a piece's result r (error e, GSL status st) to the sums. */
static int accept(const integrand_ctx *c, int st, double r, double e,
                  double *sum, double *err) {
  if (c->status) return c->status;
  if (isinf(r) || isnan(r) || st == GSL_EDIVERGE) {
    /* the generator is >= 0, so a non-finite or divergent piece means the
     * divergence is infinite (e.g. alpha < 0 with 1 + a(n-1) <= 0) */
    *sum = INFINITY;
    return AB_OK;
  }
  /* roundoff or the iteration limit are judged by the error estimate, at
   * the end, against the whole integral (a piece may be tiny) */
  if (st != GSL_SUCCESS && st != GSL_EROUND && st != GSL_EMAXITER &&
      st != GSL_ESING)
    return AB_ENOCONV;
  *sum += r;
  *err += e;
  return AB_OK;
}

/* One piece of the integral over [a, b] in the x- or s-form.  A piece of
 * the x-form that starts far below 1 has features on every scale from a
 * (where t leaves 1) up to 1 (the weight e^-x), so [a, 1] is cut at
 * powers of ten before the rest goes to QAGIU. */
static int piece(gsl_integration_workspace *ws, integrand_ctx *c, int sform,
                 double a, double b, double *sum, double *err) {
  gsl_function F = {integrand, c};
  double r, e;
  int st;
  c->sform = sform;
  if (isinf(b) && a < 0.1) {
    double pts[40];
    size_t np = 0;
    for (double x = a; x < 1.0 && np < 39; x *= 10.0) pts[np++] = x;
    pts[np++] = 1.0;
    if (np >= 2) {
      st = gsl_integration_qagp(&F, pts, np, 0.0, 1e-12, QUAD_LIMIT, ws, &r,
                                &e);
      if ((st = accept(c, st, r, e, sum, err)) != AB_OK || isinf(*sum))
        return st;
    }
    a = 1.0;
  }
  if (isinf(b))
    st = gsl_integration_qagiu(&F, a, 0.0, 1e-12, QUAD_LIMIT, ws, &r, &e);
  else
    st = gsl_integration_qag(&F, a, b, 0.0, 1e-12, QUAD_LIMIT,
                             GSL_INTEG_GAUSS31, ws, &r, &e);
  return accept(c, st, r, e, sum, err);
}

/* int_0^1 f~(n u^(n-1)) du for the family's normalised generator. */
static int integral(ab_workspace *w, double n, const ab_family *f, double *out,
                    double *abserr) {
  double e = n - 1.0, sum = 0.0, err = 0.0;
  integrand_ctx c = {f, n, e, log1p(e), 0, AB_OK};
  if (e == 0.0) {
    *out = 0.0;
    if (abserr) *abserr = 0.0;
    return AB_OK;
  }
  gsl_integration_workspace *ws = ab_ws_quad(w, QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  int st;
  if (e <= 1.0) {
    double xs = log1p(e) / e; /* where t = 1 */
    st = piece(ws, &c, 0, 0.0, xs, &sum, &err);
    if (!st) st = piece(ws, &c, 0, xs, INFINITY, &sum, &err);
  } else {
    double ln = log(n);
    st = piece(ws, &c, 1, 0.0, ln, &sum, &err);
    if (!st) st = piece(ws, &c, 1, ln, ln + 50.0, &sum, &err);
    if (!st) st = piece(ws, &c, 0, (ln + 50.0) / e, INFINITY, &sum, &err);
  }
  ab_ws_quad_done(w, ws);
  if (st) return st;
  if (!(err <= 1e-10 * fabs(sum)) && isfinite(sum) && sum > 1e-300)
    return AB_ENOCONV;
  *out = sum;
  if (abserr) *abserr = err;
  return AB_OK;
}

int ab_bon_divergence(double n, const ab_family *f, int method, double *out,
                      double *abserr) {
  return ab_bon_divergence_ws(NULL, n, f, method, out, abserr);
}

int ab_bon_divergence_ws(ab_workspace *w, double n, const ab_family *f,
                         int method, double *out, double *abserr) {
  int st = ab_family_check(f);
  if (st) return st;
  if ((st = check_n(n))) return st;
  if (abserr) *abserr = 0.0;
  if (method == AB_CLOSED && closed_divergence(n, f, out) != -1) return AB_OK;
  /* the integral's checked range (beyond it, n = 1e200 gave renyi(1e-100)
   * 29% off and kl +inf at 1e307, found by fuzzing) */
  if (method == AB_NUMERIC && n > 1e15) return AB_ENOCONV;
  if (f->kind == AB_RENYI) {
    double a = f->alpha, am;
    if (n == 1.0) { /* bon_1 = ref */
      *out = 0.0;
      return AB_OK;
    }
    if (isinf(a)) {
      *out = log(n); /* ess sup of the ratio; no integral */
      return AB_OK;
    }
    if (a == 1.0) {
      ab_family kl = {AB_KL, 1.0, NULL, NULL};
      return integral(w, n, &kl, out, abserr);
    }
    /* D_a = log M / (a-1) with M = int t^a; where M is near 1, from the
     * Amari-alpha divergence A instead, M = 1 + a (a-1) A, which keeps the
     * digits that 1 + (M - 1) would lose */
    ab_family moment = {AB_MOMENT, a, NULL, NULL};
    st = integral(w, n, &moment, &am, abserr);
    if (st) return st;
    /* the moment overflows (order 50 at n = 1e9), its log does not */
    if (isinf(am)) return AB_ENOCONV;
    if (fabs(am - 1.0) > 0.25) {
      *out = log(am) / (a - 1.0);
      return AB_OK;
    }
    ab_family alpha = {AB_ALPHA, a, NULL, NULL};
    st = integral(w, n, &alpha, &am, abserr);
    if (st) return st;
    *out = log1p(a * (a - 1.0) * am) / (a - 1.0);
    return AB_OK;
  }
  if ((st = integral(w, n, f, out, abserr))) return st;
  *out = ab_family_clamp(f, *out);
  return AB_OK;
}

int ab_bon_divergence_vec(const ab_family *f, int method, const double *n,
                          size_t len, double *out, size_t *failed_at) {
  /* one workspace for the integrals of the whole vector, made at the first
   * element that needs one */
  ab_workspace *w = NULL;
  int st = ab_family_check(f);
  size_t i = len; /* a bad family fails before any element */
  if (!st)
    for (i = 0; i < len; i++) {
      if (method == AB_CLOSED && !check_n(n[i]) &&
          closed_divergence(n[i], f, &out[i]) != -1)
        continue;
      if (!w && (st = ab_workspace_new(&w))) break;
      if ((st = ab_bon_divergence_ws(w, n[i], f, method, &out[i], NULL))) break;
    }
  ab_workspace_free(w);
  if (st && failed_at) *failed_at = i;
  return st;
}

int ab_bon_win_rate(double n, double *out) {
  if (check_n(n)) return AB_EDOM;
  *out = n / (n + 1.0);
  return AB_OK;
}

/* Beirami et al. (2024): with c = (1-e)^n and s = 1 - c,
 *   c (log n + (n-1) log(1-e) - (n-1)/n) + s log(s/e)
 * = c K + kl_bin(s || e),  K = log n - (n-1)/n,
 * since c (n-1) log(1-e) = c log(c/(1-e)).  Both terms are >= 0 and the
 * binary KL is summed in its nonnegative form e h(s/e) + (1-e) h(c/(1-e)),
 * h(t) = t log t - t + 1, with c/(1-e) = e^x, x = (n-1) log(1-e), and
 * s/e - 1 = -(1-e) expm1(x) / e: near n = 1, where the plain formula loses
 * every digit to cancellation (and went negative), each term keeps them. */
int ab_bon_kl_estimate(double eps, double n, double *out) {
  if (check_n(n) || !(eps >= 0.0 && eps <= 1.0)) return AB_EDOM;
  double K = bon_kl(n);
  if (eps == 0.0) {
    *out = K;
    return AB_OK;
  }
  if (eps == 1.0 || n == 1.0) {
    *out = 0.0;
    return AB_OK;
  }
  double l = log1p(-eps), x = (n - 1.0) * l, em1x, em1;
  double c = exp(n * l);
  ab_em1x(x, &em1x, &em1);
  /* h(e^x) = x e^x - (e^x - 1) = x expm1(x) - (expm1(x) - x) */
  double hx = fabs(x) < 0.5 ? x * em1 - em1x : x * (1.0 + em1) - em1;
  double d = -(1.0 - eps) * em1 / eps; /* s/e - 1 */
  double ht = d < 0.5 && d > -0.5 ? (1.0 + d) * ab_log1pmx(d) + d * d
                                  : (1.0 + d) * log1p(d) - d;
  double v = c * K + eps * ht + (1.0 - eps) * hx;
  *out = v > 0.0 ? fmin(v, K) : 0.0; /* the estimate's true range */
  return AB_OK;
}

/* ---- a discrete reference: groups of tied rewards ------------------------- */

/* A double-double hi + lo.  F^n with n up to 1e15 needs F to more than a
 * double: an error d in F becomes a relative error n d / F in F^n. */
typedef struct {
  double hi, lo;
} dd;

/* The running value of a compensated sum as a double-double. */
static dd dd_of_sum(const ab_sum *s) {
  double h = s->s + s->c;
  return (dd){h, s->c - (h - s->s)};
}

/* x / t, both double-doubles (t > 0). */
static dd dd_ratio(dd x, dd t) {
  double h = x.hi / t.hi;
  return (dd){h, (fma(-h, t.hi, x.hi) + x.lo - h * t.lo) / t.hi};
}

/* 1 - x for 0 <= x <= 1 (Fast2Sum: 1 >= x). */
static dd dd_one_minus(dd x) {
  double h = 1.0 - x.hi, l = ((1.0 - h) - x.hi) - x.lo, s = h + l;
  return (dd){s, l - (s - h)};
}

/* b^n = pow(hi, n) (1 + lo/hi)^n: glibc's pow is within an ulp whatever n,
 * and n lo / hi stays below n 2^-53, so the correction is e^{n lo / hi}. */
static double dd_pow(dd b, double n) {
  double p = pow(b.hi, n), x;
  if (p == 0.0 || b.lo == 0.0) return p;
  x = n * (b.lo / b.hi);
  return p * (fabs(x) < 0.5 ? 1.0 + (x + ab_em1x_series(x)) : exp(x));
}

/* log b (b > 0); above 1/2, b.hi - 1 is exact (Sterbenz). */
static double dd_log(dd b) {
  if (b.hi > 0.5) return log1p((b.hi - 1.0) + b.lo);
  return log(b.hi) + b.lo / b.hi;
}

/* The best-of-n law group by group, with its KL, win rate and means.
 * A group of tied rewards with mass q has F< = a and F<= = b and gets
 *   g = b^n - a^n = b^n (1 - e^{-n D}),  D = log(b / a) = log1p(q / below),
 * where below = a T is the mass strictly below it: b^n from a double-double
 * b, D from q and the mass below, so g keeps its relative accuracy down to
 * the smallest normal double, for every n.  a and b are cumulative sums
 * from whichever end is nearer: from the top while F< >= 1/2, from the
 * bottom for the rest, so no 1 - x loses the digits of a small x. */
typedef struct {
  double n, eps; /* n and n - 1 */
  dd total;      /* T, the total mass (probabilities are not renormalised) */
  double inv_total;
  double *policy;          /* NULL: only the sums */
  ab_sum kl, win, mean, gain; /* gain: sum (g - q/T) r */
} bon_walk;

/* q (t log t - t + 1) with t = e^lt, the KL term in its nonnegative form */
static double kl_term_log(double q, double lt) {
  double em1x, d;
  ab_em1x(lt, &em1x, &d);
  if (fabs(lt) < 0.5) return q * (d * d - (1.0 + d) * em1x);
  return q * ((1.0 + d) * lt - d);
}

/* q (t log t - t + 1) at t = g / q */
static double kl_term(double q, double g) {
  if (g == 0.0) return q;
  double iq = 1.0 / q, d = (g - q) * iq, t = g * iq;
  if (fabs(d) < 0.5) return q * (t * ab_log1pmx_fast(d) + d * d);
  return q * (t * log(t) - d);
}

/* e^{-x} and 1 - e^{-x} for x = n D >= 0, each to full relative precision
 * (the series below 1/2: no exp, no expm1 in the hot loop). */
static void decay(double x, double *e, double *c) {
  if (x < 0.5) {
    double em1 = ab_em1x_series(-x) - x;
    *e = 1.0 + em1;
    *c = -em1;
  } else {
    *e = exp(-x);
    *c = 1.0 - *e;
  }
}

/* One group: records k[lo..hi) with mass q, the mass below it, a = F<,
 * b = F<= (a double-double), bn = b^n, D = log(b/a) and c = 1 - e^{-nD}. */
static void bon_group(bon_walk *w, const ab_record *k, size_t lo, size_t hi,
                      double q, double below, double a, dd b, double bn,
                      double D, double c) {
  double qn = q * w->inv_total, r = ab_sort_unkey(k[lo].key);
  double g = bn * c, dg, term;
  if (w->eps < 1.0 && g > 0.0) {
    /* n near 1: t = g / (q/T) is near 1 and t - 1 must keep its digits:
     * t = b^(n-1) (1 - e^{-nD}) / (1 - e^{-D})
     *   = b^(n-1) (1 + e^{-D} (1 - e^{-(n-1)D}) / (1 - e^{-D})) */
    double lt = w->eps * dd_log(b);
    if (below > 0.0)
      lt += log1p(below / (below + q) * (expm1(-w->eps * D) / expm1(-D)));
    term = kl_term_log(qn, lt);
    dg = qn * expm1(lt);
  } else {
    term = kl_term(qn, g);
    dg = g - qn;
  }
  if (w->policy) {
    if (lo + 1 == hi) {
      w->policy[(size_t)k[lo].b] = g; /* no tie: the outcome is its group */
    } else {
      /* the share of the outcome in its group first: g p / q underflows;
       * and p / q itself where 1 / q overflows (a subnormal q) */
      double iq = 1.0 / q;
      if (isinf(iq))
        for (size_t j = lo; j < hi; j++)
          w->policy[(size_t)k[j].b] = g * (k[j].a / q);
      else
        for (size_t j = lo; j < hi; j++)
          w->policy[(size_t)k[j].b] = g * (k[j].a * iq);
    }
  }
  ab_sum_add(&w->kl, term);
  ab_sum_add(&w->win, g * (a + 0.5 * qn));
  ab_sum_add(&w->mean, g * r);
  ab_sum_add(&w->gain, dg * r);
}

/* Outcomes of probability 0 are never drawn. */
static void bon_null_group(bon_walk *w, const ab_record *k, size_t lo,
                           size_t hi) {
  if (w->policy)
    for (size_t j = lo; j < hi; j++) w->policy[(size_t)k[j].b] = 0.0;
}

/* The mass of the group of tied records k[lo..hi), compensated: a group may
 * hold 10^7 ties. */
static double group_mass(const ab_record *k, size_t lo, size_t hi) {
  if (hi == lo + 1) return k[lo].a;
  ab_sum s = {0.0, 0.0};
  for (size_t j = lo; j < hi; j++) ab_sum_add(&s, k[j].a);
  return ab_sum_value(&s);
}

/* Add the records' probabilities one by one: the cumulative sums must stay
 * double-double accurate, which the rounded group mass would spoil. */
static void add_group(ab_sum *s, const ab_record *k, size_t lo, size_t hi) {
  for (size_t j = lo; j < hi; j++) ab_sum_add(s, k[j].a);
}

/* b^n of neighbouring groups differ by the factor e^{-nD} the walk computes
 * anyway (a^n of a group is b^n of the group below); b^n is recomputed with
 * pow after 32 groups or once the factors reach e^{-4}, so the products
 * drift by less than about 50 ulps. */
#define REFRESH_STEPS 32
#define REFRESH_DECAY 4.0

/* Walk the records k[0..m) sorted by reward (a: probability, b: index). */
static void bon_walk_groups(bon_walk *w, const ab_record *k, size_t m) {
  double n = w->n, half = 0.5 * w->total.hi, bn = 1.0, acc = 0.0;
  ab_sum above = {0.0, 0.0}, below = {0.0, 0.0};
  size_t hi = m, lo;
  int steps = 0;
  /* from the top while F< >= 1/2: F<= = 1 - U/T (1 at the top), F< = 1 -
   * (U + q)/T; going down, b^n of a group is a^n of the one above */
  while (hi > 0) {
    lo = hi - 1;
    while (lo > 0 && k[lo - 1].key == k[hi - 1].key) lo--;
    double q = group_mass(k, lo, hi), u = ab_sum_value(&above);
    if (u + q > half) break;
    if (q > 0.0) {
      double rest = (w->total.hi - u - q) + w->total.lo; /* >= T/2 */
      double D = log1p(q / rest), e, c;
      int refresh = steps >= REFRESH_STEPS || acc > REFRESH_DECAY;
      dd b = {1.0, 0.0}; /* needed for a refresh and near n = 1 only */
      if (refresh || w->eps < 1.0)
        b = dd_one_minus(dd_ratio(dd_of_sum(&above), w->total));
      decay(n * D, &e, &c);
      if (refresh) {
        bn = dd_pow(b, n);
        steps = 0;
        acc = 0.0;
      }
      bon_group(w, k, lo, hi, q, rest, rest * w->inv_total, b, bn, D, c);
      bn *= e;
      acc += n * D;
      steps++;
      add_group(&above, k, lo, hi);
    } else {
      bon_null_group(w, k, lo, hi);
    }
    hi = lo;
  }
  /* the rest from the bottom, F< < 1/2: F< = L/T, F<= = (L + q)/T, but for
   * the last group, which straddles 1/2, F<= = 1 - U/T; going up, b^n =
   * a^n e^{nD}, from pow at the bottom and wherever a^n is tiny */
  size_t top = hi;
  double an = 0.0;
  steps = 0;
  acc = 0.0;
  for (lo = 0; lo < top; lo = hi) {
    hi = lo + 1;
    while (hi < top && k[hi].key == k[lo].key) hi++;
    double q = group_mass(k, lo, hi), l = ab_sum_value(&below);
    if (q == 0.0) {
      bon_null_group(w, k, lo, hi);
      continue;
    }
    double D = INFINITY, e = 0.0, c = 1.0;
    if (l > 0.0) {
      D = log1p(q / l);
      decay(n * D, &e, &c);
      acc += n * D;
    }
    int refresh = hi == top || !(an > 0x1p-960) || steps >= REFRESH_STEPS ||
                  acc > REFRESH_DECAY;
    dd b = {1.0, 0.0};
    if (hi == top) {
      b = dd_one_minus(dd_ratio(dd_of_sum(&above), w->total));
    } else if (refresh || w->eps < 1.0) {
      ab_sum lq = below;
      add_group(&lq, k, lo, hi);
      b = dd_ratio(dd_of_sum(&lq), w->total);
    }
    if (refresh) {
      bn = dd_pow(b, n);
      steps = 0;
      acc = 0.0;
    } else {
      bn = an / e;
    }
    bon_group(w, k, lo, hi, q, l, l * w->inv_total, b, bn, D, c);
    an = bn;
    steps++;
    add_group(&below, k, lo, hi);
  }
}

static void bon_walk_start(bon_walk *w, double n, const ab_sum *total,
                           double *policy) {
  memset(w, 0, sizeof *w);
  w->n = n;
  w->eps = n - 1.0;
  w->total = dd_of_sum(total);
  w->inv_total = 1.0 / w->total.hi;
  w->policy = policy;
}

int ab_bon_policy(const double *probs, const double *rewards, size_t m,
                  double n, double *policy, ab_bon_summary *s) {
  return ab_bon_policy_ws(NULL, probs, rewards, m, n, policy, s);
}

/* Records and their sort's scratch in one block from w (or allocated):
 * *k gets the records, *sort the scratch after them. */
static size_t records_bytes(size_t m) {
  return (m * sizeof(ab_record) + 15) / 16 * 16;
}

static void *records_get(ab_workspace *w, size_t m, size_t *bytes) {
  if (m > SIZE_MAX / (2 * sizeof(ab_record)) - 1) return NULL;
  *bytes = records_bytes(m) + ab_sort_scratch_bytes(m);
  return w ? ab_ws_buffer(w, *bytes) : ab_alloc_large(*bytes);
}

int ab_bon_policy_ws(ab_workspace *ws, const double *probs,
                     const double *rewards, size_t m, double n, double *policy,
                     ab_bon_summary *s) {
  ab_sum total = {0.0, 0.0};
  if (check_n(n) || m == 0 || !probs || !rewards) return AB_EDOM;
  for (size_t i = 0; i < m; i++) {
    if (!(probs[i] >= 0.0) || !isfinite(probs[i]) || !isfinite(rewards[i]))
      return AB_EDOM;
    ab_sum_add(&total, probs[i]);
  }
  double t = ab_sum_value(&total);
  if (!ab_sums_to_one(t)) return AB_EDOM;
  if (n == 1.0) { /* no selection: the reference itself, exactly */
    ab_sum mean = {0.0, 0.0};
    for (size_t i = 0; i < m; i++) {
      policy[i] = t == 1.0 ? probs[i] : probs[i] / t;
      ab_sum_add(&mean, policy[i] * rewards[i]);
    }
    if (s) {
      s->kl = 0.0;
      s->win_rate = 0.5;
      s->mean = ab_sum_value(&mean);
      s->kl_bound = 0.0;
    }
    return AB_OK;
  }
  /* records (reward, probability, index) sorted by reward; the
   * probabilities stay as given and the walk divides by their total */
  size_t bytes;
  ab_record *k = records_get(ws, m, &bytes);
  if (!k) return AB_ENOMEM;
  ab_sort_law_in(probs, rewards, m, k, (char *)k + records_bytes(m));
  ab_bon_sorted(k, m, n, &total, policy, s);
  ab_ws_buffer_done(ws, k, bytes);
  return AB_OK;
}

void ab_bon_sorted(const ab_record *k, size_t m, double n, const ab_sum *total,
                   double *policy, ab_bon_summary *s) {
  bon_walk w;
  bon_walk_start(&w, n, total, policy);
  bon_walk_groups(&w, k, m);
  if (s) {
    s->kl_bound = bon_kl(n);
    /* the exact KL is at most the continuous value; rounding may not push
     * it above */
    s->kl = fmin(ab_sum_value(&w.kl), s->kl_bound);
    s->win_rate = fmin(ab_sum_value(&w.win), 1.0);
    s->mean = ab_sum_value(&w.mean);
  }
}

/* Exact gain of best-of-n for a finite law: sum_g (bon(g) - ref(g)) v_g. */
static int finite_gain(ab_workspace *ws, const ab_tail *t, double n,
                       double *out) {
  size_t m = t->n, bytes;
  ab_sum total = {0.0, 0.0};
  ab_record *k = records_get(ws, m, &bytes);
  if (!k) return AB_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    k[i].key = ab_sort_key(t->x[i]);
    k[i].a = t->w ? t->w[i] : 1.0 / (double)m;
    k[i].b = 0.0;
    ab_sum_add(&total, k[i].a);
  }
  ab_sort_records_in(k, m, (char *)k + records_bytes(m));
  bon_walk w;
  bon_walk_start(&w, n, &total, NULL);
  bon_walk_groups(&w, k, m);
  ab_ws_buffer_done(ws, k, bytes);
  *out = ab_sum_value(&w.gain);
  return AB_OK;
}

/* ---- exact laws: quantile integration ------------------------------------- */

/* The lower (P) or upper (Q) tail of a gamma or beta law at x. */
static double law_cdf(int kind, double x, double a, double b, int upper) {
  if (kind == AB_KIND_BETA)
    return upper ? gsl_cdf_beta_Q(x, a, b) : gsl_cdf_beta_P(x, a, b);
  return upper ? gsl_cdf_gamma_Q(x, a, b) : gsl_cdf_gamma_P(x, a, b);
}

/* The x >= 0 with P(X <= x) = target (upper: P(X > x) = target) by
 * bisection on the CDF, in log x where the bracket spans decades.  GSL's
 * inverses fail or return garbage in the tails of extreme shapes
 * (gamma_Pinv for shape 1e-3, gamma_Qinv(1e-20, 1e6) = 578003,
 * beta_Pinv(1e-200, 0.5, 0.5)); the CDFs themselves hold. */
static double solve_quantile(int kind, double a, double b, int upper,
                             double target, double guess) {
  double top = kind == AB_KIND_BETA ? 1.0 : INFINITY;
  double lo = 0.0, hi = guess > 0.0 && guess < top ? guess : 0.5 * fmin(top, 2.0 * a * b);
  /* below the root P < target (Q > target) */
#define BELOW(x) (upper ? law_cdf(kind, x, a, b, 1) > target \
                        : law_cdf(kind, x, a, b, 0) < target)
  for (int k = 0; k < 4000 && BELOW(hi); k++) {
    lo = hi;
    hi = fmin(2.0 * hi, top);
    if (hi == top) break;
  }
  if (lo == 0.0) { /* find a lower end above 0, or the quantile is 0 */
    double x = hi;
    for (int k = 0; k < 400; k++) {
      x *= 0x1p-10;
      if (x < 1e-300) return 0.0;
      if (BELOW(x)) {
        lo = x;
        break;
      }
      hi = x;
    }
    if (lo == 0.0) return 0.0;
  }
  for (int k = 0; k < 400 && hi - lo > 1e-15 * hi; k++) {
    double mid = hi > 4.0 * lo ? sqrt(lo) * sqrt(hi) : 0.5 * (lo + hi);
    if (BELOW(mid)) lo = mid;
    else hi = mid;
  }
#undef BELOW
  return 0.5 * (lo + hi);
}

/* Newton steps on log CDF from x (log-concave in the tails, where plain
 * Newton crawls), while the residual shrinks; the result, or NaN unless
 * the CDF reaches the target to 1e-12 relative (1e-9 where it stalls). */
static double polish_quantile(int kind, double a, double b, int upper,
                              double target, double x) {
  double top = kind == AB_KIND_BETA ? 1.0 : INFINITY, prev = INFINITY;
  for (int k = 0; k < 12; k++) {
    if (!(x > 0.0 && x < top)) return NAN;
    double c = law_cdf(kind, x, a, b, upper), r = log(c / target);
    if (fabs(r) <= 1e-12) return x;
    /* stalled at the CDF's own accuracy (1e-10 for gamma shapes ~1e6) */
    if (!(fabs(r) < prev)) return prev <= 1e-9 ? x : NAN;
    prev = fabs(r);
    double f = kind == AB_KIND_BETA ? gsl_ran_beta_pdf(x, a, b)
                                    : gsl_ran_gamma_pdf(x, a, b);
    if (!(f > 0.0) || !isfinite(f)) return NAN;
    x += upper ? r * c / f : -r * c / f;
  }
  return NAN;
}

/* GSL's inverse, polished by Newton on the CDF; else Newton from the
 * Wilson-Hilferty start (gamma); else bisection.  p < 1/2: the lower tail
 * at p; else the upper at q. */
static double gamma_beta_quantile(const ab_tail *t, double p, double q,
                                  int *solved) {
  const double *a = t->par;
  *solved = 0;
  int upper = !(p < 0.5);
  double target = upper ? q : p, x, y;
  if (t->kind == AB_KIND_BETA) {
    /* the upper tail of Beta(a, b) at 1 - y is the lower of Beta(b, a) at
     * y: y resolves what 1 - y cannot */
    double s = upper ? a[1] : a[0], r = upper ? a[0] : a[1];
    /* closed forms: Beta(s, 1) has P = x^s, Beta(1, r) has 1 - P = (1 -
     * x)^r (GSL's inverse took milliseconds at r = 1e-6) */
    if (r == 1.0 || s == 1.0) {
      y = r == 1.0 ? exp(log(target) / s) : -expm1(log1p(-target) / r);
      return upper ? 1.0 - y : y;
    }
    x = gsl_cdf_beta_Pinv(target, s, r);
    y = polish_quantile(AB_KIND_BETA, s, r, 0, target, x);
    if (isnan(y)) {
      *solved = 1;
      y = solve_quantile(AB_KIND_BETA, s, r, 0, target, x);
    }
    return upper ? 1.0 - y : y;
  }
  x = upper ? gsl_cdf_gamma_Qinv(q, a[0], a[1]) : gsl_cdf_gamma_Pinv(p, a[0], a[1]);
  y = polish_quantile(AB_KIND_GAMMA, a[0], a[1], upper, target, x);
  if (isnan(y)) {
    /* X/(k th) ~ (1 - c + z sqrt(c))^3, c = 1/(9k) */
    double z = upper ? gsl_cdf_ugaussian_Qinv(q) : gsl_cdf_ugaussian_Pinv(p);
    double c = 1.0 / (9.0 * a[0]), g = 1.0 - c + z * sqrt(c);
    if (g > 0.0)
      y = polish_quantile(AB_KIND_GAMMA, a[0], a[1], upper, target,
                          a[0] * a[1] * g * g * g);
  }
  if (isnan(y)) {
    *solved = 1;
    y = solve_quantile(AB_KIND_GAMMA, a[0], a[1], upper, target, x);
  }
  return y;
}

/* Whether GSL's CDF of a gamma or beta law holds together in the bulk:
 * nondecreasing, in steps no larger than the density allows, on a grid of
 * 0.02 standard deviations over +-2.  It does not for gamma shapes near
 * 1e6 (gamma_P jumps between 0.06 and 0.23 within 0.02 sd), where no
 * quantile integral can reach 1e-10: a clear error beats a wrong gain.
 * A step may be 0.05, or the step times the larger density at its ends:
 * a shape below 1 has a density unbounded at 0 (or 1), decreasing
 * (increasing) there, so that the CDF of Beta(0.3, 1) rises by 0.2 over the
 * first 0.02 sd and only the density bounds it honestly. */
static int cdf_holds(const ab_tail *t) {
  const double *a = t->par;
  int kind = t->kind == AB_KIND_BETA ? AB_KIND_BETA : AB_KIND_GAMMA;
  if (t->kind != AB_KIND_GAMMA && t->kind != AB_KIND_BETA &&
      t->kind != AB_KIND_EXPONENTIAL)
    return 1;
  double sd = sqrt(t->variance), prev = -1.0, xprev = 0.0, fprev = 0.0;
  for (int i = -100; i <= 100; i++) {
    double x = t->mean + 0.02 * i * sd;
    if (!(x > 0.0) || (kind == AB_KIND_BETA && !(x < 1.0))) continue;
    double c = law_cdf(kind, x, a[0], a[1], 0);
    double f = kind == AB_KIND_BETA ? gsl_ran_beta_pdf(x, a[0], a[1])
                                    : gsl_ran_gamma_pdf(x, a[0], a[1]);
    if (!(c >= 0.0 && c <= 1.0)) return 0;
    double step = fmax(0.05, 1.000001 * (x - xprev) * fmax(f, fprev));
    if (prev >= 0.0 && (c < prev - 1e-12 || !(c <= prev + step))) return 0;
    prev = c;
    xprev = x;
    fprev = isfinite(f) ? f : 0.0;
  }
  return 1;
}

/* The centred quantile Q(u) - E R at u, given both p = u and q = 1 - u to full
 * precision (the tails of the best of n live at q ~ 1/n). */
static int centred_quantile(const ab_tail *t, double p, double q, double *out) {
  const double *a = t->par;
  double v;
  switch (t->kind) {
  case AB_KIND_GAUSSIAN:
    v = a[1] * (p < 0.5 ? gsl_cdf_ugaussian_Pinv(p) : gsl_cdf_ugaussian_Qinv(q));
    break;
  case AB_KIND_UNIFORM:
    v = (a[1] - a[0]) * (p < 0.5 ? p - 0.5 : 0.5 - q);
    break;
  case AB_KIND_EXPONENTIAL:
  case AB_KIND_GAMMA:
  case AB_KIND_BETA: {
    int solved;
    v = gamma_beta_quantile(t, p, q, &solved) - t->mean;
    break;
  }
  case AB_KIND_GUMBEL: {
    double mlp = p < 0.5 ? -log(p) : -log1p(-q); /* -log u */
    v = -a[1] * log(mlp) - (t->mean - a[0]);
    break;
  }
  case AB_KIND_LOGISTIC:
    v = a[1] * (log(p) - log(q));
    break;
  default:
    return AB_EUNDEF;
  }
  if (isnan(v)) return AB_EGSL;
  *out = v;
  return AB_OK;
}

/* For renyi.c: the best-of-n law's left tail from the quantiles. */
int ab_quantile_centred(const ab_tail *t, double p, double q, double *out) {
  return centred_quantile(t, p, q, out);
}

typedef struct {
  const ab_tail *t;
  double n, ln; /* n and log n */
  int near_one;
  int status;
} quantile_ctx;

/* E Q(U^{1/n}) - E R = int_0^inf Qc(e^{-x/n}) e^{-x} dx, with U = e^{-x}
 * and Qc the centred quantile.  Near n = 1 that integral is a small
 * difference of O(1) parts, so there (near_one) the gain is
 * int_0^1 Qc(u) (n u^(n-1) - 1) du = int_0^inf Qc(e^{-x}) expm1(log n -
 * (n-1) x) e^{-x} dx, whose integrand is itself O(n - 1). */
static double quantile_integrand(double x, void *vctx) {
  quantile_ctx *c = vctx;
  double v, s = c->near_one ? x : x / c->n;
  if (c->status) return 0.0;
  double p = exp(-s), q = -expm1(-s);
  if (p == 0.0 || q == 0.0) return 0.0;
  c->status = centred_quantile(c->t, p, q, &v);
  if (c->status) return 0.0;
  if (c->near_one) return v * expm1(c->ln - (c->n - 1.0) * x) * exp(-x);
  return v * exp(-x);
}

static int quantile_gain(ab_workspace *w, const ab_tail *t, double n,
                         double *out) {
  quantile_ctx c = {t, n, log(n), n < 2.0, AB_OK};
  if (!cdf_holds(t)) return AB_ENOCONV;
  gsl_function F = {quantile_integrand, &c};
  double r1, e1, r2 = 0.0, e2 = 0.0;
  gsl_integration_workspace *ws = ab_ws_quad(w, QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  /* [0, 1] in pieces of three decades: a law with a rare upper region has
   * its whole gain in a spike at x < n q (Beta(1e-6, 100): Q(1 - q) is
   * 1e-305 down to q = 1e-3, 0.015 at q = 1e-7), which QAGS's first rule on
   * [0, 1] sees as flat: the gain came out 0 for 9.0e-8 at n = 10 */
  double pts[] = {0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0};
  int s1 = gsl_integration_qagp(&F, pts, sizeof pts / sizeof pts[0], 0.0,
                                1e-12, QUAD_LIMIT, ws, &r1, &e1);
  /* the weight e^{-x} is below 1e-34 beyond x = 78: the quantile's far
   * tail (where the CDFs of extreme shapes are slow) adds nothing */
  int s2 = c.status ? GSL_SUCCESS
                    : gsl_integration_qags(&F, 1.0, 78.0, 0.0, 1e-12,
                                           QUAD_LIMIT, ws, &r2, &e2);
  ab_ws_quad_done(w, ws);
  if (c.status) return c.status;
  double r = r1 + r2, e = e1 + e2;
  if ((s1 || s2) && !(e <= 1e-10 * fabs(r) + 1e-15 * t->variance))
    return AB_ENOCONV;
  /* best-of-n never loses reward: a rounding below 0 is 0 */
  *out = r > 0.0 ? r : 0.0;
  return AB_OK;
}

int ab_bon_expected_gain(const ab_tail *t, double n, int method, double *out) {
  return ab_bon_expected_gain_ws(NULL, t, n, method, out);
}

int ab_bon_expected_gain_ws(ab_workspace *w, const ab_tail *t, double n,
                            int method, double *out) {
  const double *a = t->par;
  if (check_n(n)) return AB_EDOM;
  if (n == 1.0) {
    *out = 0.0;
    return AB_OK;
  }
  if (ab_is_finite_law(t)) return finite_gain(w, t, n, out);
  switch (t->kind) {
  case AB_KIND_UNIFORM:
    if (method == AB_CLOSED) {
      /* n/(n+1) - 1/2, the ratio first: w (n - 1) overflows at n = 1e308 */
      *out = 0.5 * (a[1] - a[0]) * ((n - 1.0) / (n + 1.0));
      return AB_OK;
    }
    break;
  case AB_KIND_EXPONENTIAL:
    if (method == AB_CLOSED) {
      /* H_n - 1 = psi(n + 1) + gamma_E - 1 = psi(n + 1) - psi(2) */
      gsl_sf_result r;
      double d = n - 1.0;
      if (d < 0.25) {
        /* the difference cancels near n = 1 (3.7e-7 relative at n - 1 =
         * 1e-9): Taylor at 2, psi(2 + d) - psi(2) = sum_k (-1)^(k+1)
         * zeta(k + 1, 2) d^k, terms below (d/2)^k, 1e-36 by k = 40 */
        ab_sum s = {0, 0};
        double dk = 1.0;
        for (int k = 1; k <= 40; k++) {
          dk *= d;
          if (gsl_sf_hzeta_e(k + 1.0, 2.0, &r) != GSL_SUCCESS) return AB_EGSL;
          ab_sum_add(&s, (k % 2 ? 1.0 : -1.0) * r.val * dk);
        }
        *out = a[1] * ab_sum_value(&s);
        return AB_OK;
      }
      if (gsl_sf_psi_e(n + 1.0, &r) != GSL_SUCCESS) return AB_EGSL;
      *out = a[1] * (r.val + M_EULER - 1.0);
      return AB_OK;
    }
    break;
  case AB_KIND_GUMBEL:
    if (method == AB_CLOSED) {
      *out = a[1] * log(n);
      return AB_OK;
    }
    break;
  case AB_KIND_GAUSSIAN:
  case AB_KIND_GAMMA:
  case AB_KIND_LOGISTIC:
  case AB_KIND_BETA:
    break;
  default:
    return AB_EUNDEF;
  }
  return quantile_gain(w, t, n, out);
}

/* ---- certificates for the gain ------------------------------------------- */

const char *ab_certificate_name(int cert) {
  switch (cert) {
  case AB_CERT_KL: return "kl";
  case AB_CERT_CHI2: return "chi2";
  case AB_CERT_TV: return "tv";
  case AB_CERT_RENYI: return "renyi";
  default: return "none";
  }
}

/* The range sup R - inf R when finite (NaN otherwise). */
static double tail_range(const ab_tail *t) {
  if (t->kind == AB_KIND_BOUNDED) return t->par[1] - t->par[0];
  double r = t->sup - t->inf;
  return (t->kind != AB_KIND_CUMULANT && isfinite(r)) ? r : NAN;
}

int ab_bon_gain(const ab_tail *t, double n, double *out, int *certificate) {
  if (check_n(n)) return AB_EDOM;
  double best, v;
  int cert = AB_CERT_KL;
  int st = ab_tail_bound(t, AB_GAIN, AB_CLOSED, bon_kl(n), &best);
  if (st) return st;
  if (best == 0.0) { /* n = 1: no certificate goes lower (the Renyi one took
                      * seconds on Beta(1e-6, 100), found by fuzz_tail) */
    *out = 0.0;
    if (certificate) *certificate = cert;
    return AB_OK;
  }
  /* a variance below DBL_MIN has lost digits, or underflowed to 0 with a
   * standard deviation that did not (exponential{rate = 1e300}: the chi2
   * certificate was 0 for a gain of 4.2e-300) */
  if (t->kind != AB_KIND_CUMULANT && isfinite(t->variance) &&
      t->variance >= DBL_MIN) {
    v = sqrt(t->variance) * sqrt(bon_chi2(n));
    if (v < best) {
      best = v;
      cert = AB_CERT_CHI2;
    }
  }
  double range = tail_range(t);
  if (isfinite(range)) {
    ab_family tv = {AB_TV, 0.0, NULL, NULL};
    closed_divergence(n, &tv, &v);
    v *= range;
    if (v < best) {
      best = v;
      cert = AB_CERT_TV;
    }
    /* a certificate that does not apply is skipped, but running out of
     * memory is reported: the result must not depend on the heap */
    st = ab_bon_renyi_certificate(t, n, range, &v);
    if (st == AB_ENOMEM) return st;
    if (st == AB_OK && v < best) {
      best = v;
      cert = AB_CERT_RENYI;
    }
  }
  *out = best;
  if (certificate) *certificate = cert;
  return AB_OK;
}

/* ---- the estimate from logged samples ------------------------------------- */

/* sum_i C(i-1, n-1) / C(N, n) v_(i), from the top: w_N = n/N,
 * w_{i-1} = w_i (i - n)/(i - 1); the mass left below i is
 * M_i = C(i, n) / C(N, n), M_{i-1} = M_i (i - n)/i.  Stopping once M < 2^-60
 * leaves an error below 2^-60 max|v|: O(N / n) terms, O(N log N) for all n.
 * The recurrence drifts by an ulp a step (7e-14 over 10^5 steps), smoothly:
 * dividing by the sum of the same weights (1 but for the mass left) takes
 * the drift out, and a constant stays exactly itself. */
static double estimate(const ab_record *a, size_t N, size_t n) {
  double w = (double)n / (double)N, mass = 1.0;
  ab_sum s = {0.0, 0.0}, ws = {0.0, 0.0};
  for (size_t i = N; i >= n; i--) {
    ab_sum_add(&s, w * a[i - 1].a);
    ab_sum_add(&ws, w);
    mass *= (double)(i - n) / (double)i;
    if (mass < 0x1p-60 || i == n) break;
    w *= (double)(i - n) / (double)(i - 1);
  }
  return ab_sum_value(&s) / ab_sum_value(&ws);
}

int ab_bon_from_samples(const double *scores, const double *values, size_t N,
                        size_t n, double *out) {
  return ab_bon_from_samples_ws(NULL, scores, values, N, n, out);
}

int ab_bon_from_samples_ws(ab_workspace *ws, const double *scores,
                           const double *values, size_t N, size_t n,
                           double *out) {
  if (N == 0 || !scores || !values || n > N) return AB_EDOM;
  for (size_t i = 0; i < N; i++)
    if (!isfinite(scores[i]) || !isfinite(values[i])) return AB_EDOM;
  size_t bytes;
  ab_record *a = records_get(ws, N, &bytes);
  if (!a) return AB_ENOMEM;
  for (size_t i = 0; i < N; i++) {
    a[i].key = ab_sort_key(scores[i]);
    a[i].a = values[i];
  }
  ab_sort_records_in(a, N, (char *)a + records_bytes(N));
  /* ties in the ranking are broken at random: tied samples share the mean
   * of their values, summed as v / k (the plain sum of 1e308s overflows) */
  for (size_t lo = 0; lo < N;) {
    size_t hi = lo + 1;
    while (hi < N && a[hi].key == a[lo].key) hi++;
    if (hi - lo > 1) {
      ab_sum sum = {0.0, 0.0};
      double k = (double)(hi - lo);
      for (size_t j = lo; j < hi; j++) ab_sum_add(&sum, a[j].a / k);
      double mean = ab_sum_value(&sum);
      for (size_t j = lo; j < hi; j++) a[j].a = mean;
    }
    lo = hi;
  }
  if (n > 0) *out = estimate(a, N, n);
  else
    for (size_t k = 1; k <= N; k++) out[k - 1] = estimate(a, N, k);
  ab_ws_buffer_done(ws, a, bytes);
  return AB_OK;
}
