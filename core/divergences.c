/*
 * divergences.c - the f-divergence families and Renyi divergences, and exact
 * divergences between two discrete laws.
 *
 * Sums and integrals use the normalised generator
 *   f~(t) = f(t) - f'(1) (t - 1) >= 0,
 * which integrates to the same divergence (E_Q[t - 1] = 0) but has no
 * cancellation between terms when P is close to Q.  Each f~ is evaluated
 * without cancellation near t = 1 (log1p, expm1 and their remainders).
 */
#include <float.h>
#include <stdlib.h>

#include "internal.h"

/* (e^x - 1) / x - 1, without cancellation near 0. */
static double exprel_m1(double x) {
  if (x == 0.0) return 0.0;
  double em1x, em1;
  ab_em1x(x, &em1x, &em1);
  return em1x / x;
}

int ab_family_check(const ab_family *f) {
  if (!f) return AB_EDOM;
  switch (f->kind) {
  case AB_KL:
  case AB_REVERSE_KL:
  case AB_CHI2:
  case AB_HELLINGER:
  case AB_TV:
  case AB_JS:
    return AB_OK;
  case AB_ALPHA:
    return isfinite(f->alpha) ? AB_OK : AB_EDOM;
  case AB_RENYI:
    return f->alpha > 0.0 ? AB_OK : AB_EDOM; /* +inf allowed */
  case AB_USER:
    return f->fn ? AB_OK : AB_EDOM;
  default:
    return AB_EDOM;
  }
}

/* Each generator below takes the log-ratio l = log t and d = t - 1, both to
 * full precision (t = 0 is l = -inf, d = -1): near t = 1 every f~ is O(d^2),
 * and near t = 0 some grow like -l. */

/* t log t - (t - 1) */
static double kl_tilde(double l, double d) {
  if (isinf(l)) return l < 0 ? 1.0 : INFINITY;
  double t = 1.0 + d;
  if (fabs(d) < 0.5) return t * ab_log1pmx(d) + d * d;
  return exp(l) * l - d;
}

/* -log t + (t - 1) */
static double reverse_kl_tilde(double l, double d) {
  if (isinf(l)) return INFINITY;
  if (fabs(d) < 0.5) return -ab_log1pmx(d);
  return -l + d;
}

/* Amari alpha: (t^a - a t - (1 - a)) / (a (a - 1)), and its limits a -> 1
 * (KL) and a -> 0 (reverse KL), each without cancellation. */
static double alpha_tilde(double a, double l, double d) {
  if (a == 1.0) return kl_tilde(l, d);
  if (a == 0.0) return reverse_kl_tilde(l, d);
  if (l == -INFINITY) return a > 0.0 ? 1.0 / a : INFINITY;
  if (l == INFINITY) return a > 1.0 ? INFINITY : 1.0 / (1.0 - a) * INFINITY;
  double t = fabs(d) < 0.5 ? 1.0 + d : exp(l);
  if (fabs(a - 1.0) < 0.5 && fabs((a - 1.0) * l) <= 1.0) {
    /* t^a = t e^{(a-1) l}: [kl~(t) + t l (E((a-1) l) - 1)] / a */
    return (kl_tilde(l, d) + t * l * exprel_m1((a - 1.0) * l)) / a;
  }
  if (fabs(a) < 0.5 && fabs(a * l) <= 1.0) {
    /* t^a - 1 = a l E(a l): [(t - 1 - l) - l (E(a l) - 1)] / (1 - a) */
    return (reverse_kl_tilde(l, d) - l * exprel_m1(a * l)) / (1.0 - a);
  }
  if (fabs(d) < 0.5 && fabs(a - 1.0) >= 0.5 && fabs(a) >= 0.5) {
    /* t^a - 1 - a d = em1x(a l) + a ab_log1pmx(d) */
    double em1x, em1;
    ab_em1x(a * l, &em1x, &em1);
    return (em1x + a * ab_log1pmx(d)) / (a * (a - 1.0));
  }
  return (exp(a * l) - a * t - (1.0 - a)) / (a * (a - 1.0));
}

/* Jensen-Shannon: f(t) = (t log t - (1+t) log((1+t)/2)) / 2, f'(1) = 0.
 * Near 1, with e = (t-1)/(t+1): f = (t L(e) + L(-e) + e (t-1)) / 2, L =
 * log1pmx; below, directly; above, with log(1+t) = l + log1p(1/t). */
static double js_tilde(double l, double d) {
  if (l == -INFINITY) return 0.5 * M_LN2;
  if (l == INFINITY) return INFINITY;
  double t = fabs(d) < 0.5 ? 1.0 + d : exp(l);
  if (fabs(d) < 0.5) {
    double e = d / (t + 1.0);
    return 0.5 * (t * ab_log1pmx(e) + ab_log1pmx(-e) + e * d);
  }
  if (t < 1.0) return 0.5 * (t * l - (1.0 + t) * (log1p(t) - M_LN2));
  return 0.5 * (-l - (1.0 + t) * log1p(1.0 / t) + (1.0 + t) * M_LN2);
}

/* The normalised generator f~ of a named family (not Renyi) at the ratio t
 * with l = log t and d = t - 1; the raw f(t) for a user f. */
int ab_f_tilde(const ab_family *f, double l, double d, double *out) {
  switch (f->kind) {
  case AB_KL:
    *out = kl_tilde(l, d);
    return AB_OK;
  case AB_REVERSE_KL:
    *out = reverse_kl_tilde(l, d);
    return AB_OK;
  case AB_CHI2:
    *out = d * d;
    return AB_OK;
  case AB_HELLINGER: {
    double r = expm1(0.5 * l); /* sqrt t - 1 */
    *out = 0.5 * r * r;
    return AB_OK;
  }
  case AB_TV:
    *out = 0.5 * fabs(d);
    return AB_OK;
  case AB_JS:
    *out = js_tilde(l, d);
    return AB_OK;
  case AB_ALPHA:
    *out = alpha_tilde(f->alpha, l, d);
    return AB_OK;
  case AB_MOMENT:
    *out = exp(f->alpha * l);
    return AB_OK;
  case AB_USER: {
    /* a user f is evaluated on (0, inf): t = 0 becomes the smallest normal
     * double, so that f(t) = t log t written naively gives its limit */
    double t = fabs(d) < 0.5 ? 1.0 + d : exp(l);
    if (t < DBL_MIN) t = DBL_MIN;
    if (f->fn(f->ctx, t, out) != 0 || isnan(*out)) return AB_EFUNC;
    return AB_OK;
  }
  default:
    return AB_EDOM;
  }
}

int ab_f_eval(const ab_family *f, double t, double *out) {
  int st = ab_family_check(f);
  if (st) return st;
  if (!(t >= 0.0) || f->kind == AB_RENYI) return AB_EDOM;
  st = ab_f_tilde(f, log(t), t - 1.0, out);
  if (f->kind == AB_USER) return st;
  /* add back f'(1) (t - 1) */
  if (f->kind == AB_KL) *out += t - 1.0;
  else if (f->kind == AB_REVERSE_KL) *out -= t - 1.0;
  return st;
}

/* lim_{t -> inf} f~(t) / t: what a unit of P-mass outside the support of Q
 * contributes (the "f*(0)" term). */
static int slope_at_infinity(const ab_family *f, double *out) {
  switch (f->kind) {
  case AB_TV:
    *out = 0.5;
    return AB_OK;
  case AB_HELLINGER:
    *out = 0.5;
    return AB_OK;
  case AB_JS:
    *out = 0.5 * M_LN2;
    return AB_OK;
  case AB_REVERSE_KL:
    *out = 1.0; /* -log t + t - 1 over t */
    return AB_OK;
  case AB_ALPHA:
    *out = f->alpha < 1.0 ? 1.0 / (1.0 - f->alpha) : INFINITY;
    return AB_OK;
  case AB_USER: {
    /* f(t)/t is nondecreasing for convex f: read it at two large t */
    double a, b;
    int st = ab_f_tilde(f, log(1e150), 1e150, &a);
    if (st) return st;
    st = ab_f_tilde(f, log(1e300), 1e300, &b);
    if (st) return st;
    a /= 1e150;
    b /= 1e300;
    *out = (fabs(b - a) <= 1e-6 * fabs(b)) ? b : INFINITY;
    return AB_OK;
  }
  default:
    *out = INFINITY;
    return AB_OK;
  }
}

static int check_law(const double *p, size_t n, double *total) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!(p[i] >= 0.0) || !isfinite(p[i])) return AB_EDOM;
    s += p[i];
  }
  if (!(fabs(s - 1.0) <= 1e-9)) return AB_EDOM;
  *total = s;
  return AB_OK;
}

/* Renyi between discrete laws: log sum p^a q^(1-a) / (a - 1) by log-sum-exp;
 * a = 1 is KL, a = inf is log max p/q. */
static int renyi_discrete(const double *p, const double *q, size_t n,
                          double sp, double sq, double a, double *out) {
  if (isinf(a)) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
      if (p[i] == 0.0) continue;
      if (q[i] == 0.0) {
        *out = INFINITY;
        return AB_OK;
      }
      double r = (p[i] / sp) / (q[i] / sq);
      if (r > m) m = r;
    }
    *out = log(m);
    return AB_OK;
  }
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0 || (q[i] == 0.0 && a < 1.0)) continue;
    if (q[i] == 0.0) {
      *out = INFINITY; /* a > 1 and P not << Q */
      return AB_OK;
    }
    double e = a * log(p[i] / sp) + (1.0 - a) * log(q[i] / sq);
    if (e > top) top = e;
  }
  if (isinf(top)) {
    *out = INFINITY; /* disjoint supports, a < 1 */
    return AB_OK;
  }
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0 || q[i] == 0.0) continue;
    s += exp(a * log(p[i] / sp) + (1.0 - a) * log(q[i] / sq) - top);
  }
  *out = (top + log(s)) / (a - 1.0);
  if (*out < 0.0) *out = 0.0; /* rounding when P = Q */
  return AB_OK;
}

int ab_divergence(const double *p, const double *q, size_t n,
                  const ab_family *f, double *out) {
  double sp, sq;
  int st = ab_family_check(f);
  if (st) return st;
  if (n == 0 || !p || !q) return AB_EDOM;
  if ((st = check_law(p, n, &sp)) || (st = check_law(q, n, &sq))) return st;
  if (f->kind == AB_RENYI && fabs(f->alpha - 1.0) >= 0.25)
    return renyi_discrete(p, q, n, sp, sq, f->alpha, out);
  if (f->kind == AB_RENYI && f->alpha != 1.0) {
    /* near a = 1 the moment M = sum p^a q^(1-a) is 1 - O(a-1): take it from
     * the Amari-alpha divergence A (a sum of terms >= 0), M = 1 + a(a-1)A */
    double a = f->alpha, am;
    ab_family alpha = {AB_ALPHA, a, NULL, NULL};
    st = ab_divergence(p, q, n, &alpha, &am);
    if (st) return st;
    *out = log1p(a * (a - 1.0) * am) / (a - 1.0);
    return AB_OK;
  }
  ab_family kl = {AB_KL, 1.0, NULL, NULL};
  if (f->kind == AB_RENYI) f = &kl;
  double outside = 0.0;
  ab_sum s = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    double pi = p[i] / sp, qi = q[i] / sq, term;
    if (qi == 0.0) {
      outside += pi;
      continue;
    }
    double d = (pi - qi) / qi;
    st = ab_f_tilde(f, pi == 0.0 ? -INFINITY : log1p(d), d, &term);
    if (st) return st;
    term *= qi;
    ab_sum_add(&s, term);
  }
  double total = ab_sum_value(&s);
  if (outside > 0.0) {
    double slope;
    st = slope_at_infinity(f, &slope);
    if (st) return st;
    total += outside * slope;
  }
  *out = total;
  return AB_OK;
}
