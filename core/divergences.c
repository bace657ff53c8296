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
  if (fabs(a - 1.0) < 0.5 && fabs((a - 1.0) * l) <= 1.0) {
    double t = fabs(d) < 0.5 ? 1.0 + d : exp(l);
    /* t^a = t e^{(a-1) l}: [kl~(t) + t l (E((a-1) l) - 1)] / a; where t l
     * overflows, t [l E((a-1) l) - d / t] / a (kl~ = t l - d there), which
     * overflows to +inf instead of inf - inf */
    if (l > 700.0) return t * (l * (1.0 + exprel_m1((a - 1.0) * l)) - d / t) / a;
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
    return (em1x + a * ab_log1pmx(d)) / a / (a - 1.0);
  }
  /* (t^a - a t - (1 - a)) / (a (a - 1)): grouped so, no cancellation near
   * a = 1 or a = 0 at t -> 0; divided twice, as a (a - 1) overflows for
   * |a| > 1e154; by logarithms where t^a overflows (then a > 1 or a < 0,
   * so a (a - 1) > 0) */
  double t = exp(l), e = exp(a * l);
  if (isfinite(e)) return (e - a * t - (1.0 - a)) / a / (a - 1.0);
  e = exp(a * l - log(fabs(a)) - log(fabs(a - 1.0)));
  return isinf(e) ? e : e - (a * t + (1.0 - a)) / a / (a - 1.0);
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
    if (t > DBL_MAX) t = DBL_MAX;
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
  if (f->kind == AB_REVERSE_KL) {
    /* -log t itself: f~ - (t - 1) would be inf - inf at t = inf */
    *out = -log(t);
    return AB_OK;
  }
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

/* A law's total as an unevaluated sum hi + lo (Neumaier), so that dividing
 * by it keeps the digits of p_i - q_i when P and Q are nearly equal: with
 * p = {0.5 + 1e-5, 0.5 - 1e-5} the rounded total 1 would cost 1e-11 of D. */
typedef struct {
  double hi, lo;
} law_total;

static int check_law(const double *p, size_t n, law_total *total) {
  ab_sum s = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    if (!(p[i] >= 0.0) || !isfinite(p[i])) return AB_EDOM;
    ab_sum_add(&s, p[i]);
  }
  double hi = ab_sum_value(&s);
  if (!ab_sums_to_one(hi)) return AB_EDOM;
  total->hi = hi;
  total->lo = (s.s - hi) + s.c; /* exact: |c| <= ulp(s) and hi = fl(s + c) */
  return AB_OK;
}

/* One outcome of the pair: the renormalised masses p and q, their ratio t
 * as a double (it may over- or underflow), and, to full relative precision,
 * diff = p - q, d = p/q - 1 and l = log(p/q) (l = -inf where p = 0, +inf
 * where q = 0).  The ratio is taken from the masses as given, never from the
 * renormalised ones, so that subnormal masses keep what digits they have. */
typedef struct {
  double p, q, t, diff, d, l;
} atom;

static void atom_make(double p, double q, const law_total *sp,
                      const law_total *sq, atom *a) {
  a->p = p / sp->hi;
  a->q = q / sq->hi;
  /* p sq - q sp by Kahan's fma form (about one ulp), plus the low parts */
  double w = q * sp->hi;
  double num = fma(p, sq->hi, -w) + fma(-q, sp->hi, w);
  num += p * sq->lo - q * sp->lo;
  a->diff = num / (sp->hi * sq->hi);
  if (p == 0.0 || q == 0.0) {
    a->t = q == 0.0 ? INFINITY : 0.0;
    a->d = q == 0.0 ? INFINITY : -1.0;
    a->l = q == 0.0 ? INFINITY : -INFINITY;
    return;
  }
  a->d = a->diff / a->q;
  a->t = p / q * (sq->hi / sp->hi);
  if (fabs(a->d) < 0.5) {
    a->t = 1.0 + a->d;
    a->l = log1p(a->d);
  } else if (a->t >= DBL_MIN && a->t <= DBL_MAX) {
    a->l = log(a->t);
  } else {
    /* log(p/q) + log(sq/sp) by logarithms where the ratio over- or
     * underflows */
    a->l = log(p) - log(q) +
           log1p((sq->hi - sp->hi + (sq->lo - sp->lo)) / sp->hi);
  }
}

/* q f~(p/q) for one outcome, far from p = q (|d| >= 0.5, both masses > 0),
 * in forms in p and q that neither overflow when p/q does nor cancel. */
static double kl_far(const atom *a) { return a->p * a->l - a->diff; }
static double reverse_kl_far(const atom *a) { return a->diff - a->q * a->l; }

/* q t^a = p^a q^(1-a) for one outcome with p, q > 0.  Near t = 1 as
 * e^{a l} with l = log1p(d) (t = 1 + d rounded would cost a ulps); farther
 * by pow from the ratio when it is a normal double (pow's error does not
 * grow with log t, as e^{a l}'s does); as p t^(a-1) where q t^a overflows;
 * from log q + a l where the ratio is not normal (inf if that overflows). */
static double q_pow_t(const atom *a, double al) {
  double x;
  if (fabs(a->d) < 0.5) {
    x = a->q * exp(al * a->l);
    return isfinite(x) ? x : a->p * exp((al - 1.0) * a->l);
  }
  if (a->t >= DBL_MIN && a->t <= DBL_MAX) {
    x = a->q * pow(a->t, al);
    if (isfinite(x)) return x;
    x = a->p * pow(a->t, al - 1.0);
    if (isfinite(x)) return x;
    /* t^a overflows where q t^a may not: q (t^(a/k))^k, k a power of 2
     * (a/k exact; k ulps, where log q + a l would cost |log q| ulps) */
    for (int k = 2; k <= 64; k *= 2) {
      double y = pow(a->t, al / k);
      if (!isfinite(y)) continue;
      x = a->q;
      for (int i = 0; i < k; i++) x *= y;
      if (isfinite(x) && x > 0.0) return x;
    }
  }
  return exp(log(a->q) + al * a->l);
}

static double alpha_far(double al, const atom *a) {
  double l = a->l;
  if (fabs(al - 1.0) < 0.5 && fabs((al - 1.0) * l) <= 1.0)
    return (kl_far(a) + a->p * l * exprel_m1((al - 1.0) * l)) / al;
  if (fabs(al) < 0.5 && fabs(al * l) <= 1.0)
    return (reverse_kl_far(a) - a->q * l * exprel_m1(al * l)) / (1.0 - al);
  /* (q t^a - a p - (1 - a) q) / (a (a - 1)), grouped so (no cancellation
   * near a = 1 or a = 0 as t -> 0), a (a - 1) never formed */
  double x = q_pow_t(a, al), rest = al * a->p + (1.0 - al) * a->q;
  if (isfinite(x)) return (x - rest) / al / (al - 1.0);
  /* t^a overflows: a > 1 or a < 0, where a (a - 1) > 0 */
  x = exp(log(a->q) + al * l - log(fabs(al)) - log(fabs(al - 1.0)));
  return isinf(x) ? x : x - rest / al / (al - 1.0);
}

/* q f~(p/q) for one outcome of a named family, or q f(p/q) for a user f;
 * where q = 0 the limit p f~(t)/t as t -> inf (slope: *slope, computed once
 * for a user f). */
static int atom_term(const ab_family *f, const atom *a, double *slope,
                     double *out) {
  double p = a->p, q = a->q;
  if (q == 0.0) {
    if (p == 0.0) {
      *out = 0.0;
      return AB_OK;
    }
    if (isnan(*slope)) {
      int st = slope_at_infinity(f, slope);
      if (st) return st;
    }
    *out = p * *slope;
    return AB_OK;
  }
  if (fabs(a->d) < 0.5 || f->kind == AB_USER) {
    double v;
    int st = ab_f_tilde(f, a->l, a->d, &v);
    *out = q * v;
    return st;
  }
  switch (f->kind) {
  case AB_KL:
    *out = p == 0.0 ? q : kl_far(a);
    break;
  case AB_REVERSE_KL:
    *out = p == 0.0 ? INFINITY : reverse_kl_far(a);
    break;
  case AB_CHI2:
    /* (p - q)^2 / q; through sqrt q where d = (p - q)/q overflows */
    *out = a->diff * a->d;
    if (isinf(*out)) {
      double s = a->diff / sqrt(q);
      *out = s * s;
    }
    break;
  case AB_TV:
    *out = 0.5 * fabs(a->diff);
    break;
  case AB_HELLINGER: {
    /* (sqrt p - sqrt q)^2 / 2 <= (p + q) / 2: the sum stays <= 1 */
    double s = sqrt(p) - sqrt(q);
    *out = 0.5 * s * s;
    break;
  }
  case AB_JS: {
    /* (p log(2p/(p+q)) + q log(2q/(p+q))) / 2, 0 log 0 = 0 */
    double m = p + q;
    *out = 0.5 * ((p > 0.0 ? p * log(2.0 * p / m) : 0.0) +
                  q * log(2.0 * q / m));
    break;
  }
  case AB_ALPHA: {
    double al = f->alpha;
    if (al == 1.0) *out = p == 0.0 ? q : kl_far(a);
    else if (al == 0.0) *out = p == 0.0 ? INFINITY : reverse_kl_far(a);
    else if (p == 0.0) *out = al > 0.0 ? q / al : INFINITY;
    else *out = alpha_far(al, a);
    break;
  }
  default:
    return AB_EDOM;
  }
  return AB_OK;
}

/* Renyi of order a (not 1, finite) from the moment M = sum q t^a summed
 * directly, for M far from 1.  M by pow, term by term, where it is a normal
 * double; otherwise by log-sum-exp of u = log(q t^a) / (a - 1) = l +
 * log(p) / (a - 1), which stays finite for every order:
 * D = u_max + log(sum e^{(a-1)(u - u_max)}) / (a - 1). */
static double renyi_direct(const double *p, const double *q, size_t n,
                           const law_total *sp, const law_total *sq,
                           double a) {
  atom at;
  ab_sum s = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0 || q[i] == 0.0) continue;
    atom_make(p[i], q[i], sp, sq, &at);
    ab_sum_add(&s, q_pow_t(&at, a));
  }
  double m = ab_sum_value(&s);
  if (m >= DBL_MIN && m <= DBL_MAX) return log(m) / (a - 1.0);
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0 || q[i] == 0.0) continue;
    atom_make(p[i], q[i], sp, sq, &at);
    double u = at.l + log(at.p) / (a - 1.0);
    if (a > 1.0 ? u > top : u < top || isinf(top)) top = u;
  }
  /* no common outcome: M = 0, D = +inf (a < 1) */
  if (isinf(top)) return INFINITY;
  ab_sum e = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0 || q[i] == 0.0) continue;
    atom_make(p[i], q[i], sp, sq, &at);
    ab_sum_add(&e, exp((a - 1.0) * (at.l + log(at.p) / (a - 1.0) - top)));
  }
  return top + log(ab_sum_value(&e)) / (a - 1.0);
}

/* Renyi between discrete laws.  The moment M = sum q t^a is 1 + a(a-1) A
 * with A the Amari alpha divergence, a sum of terms >= 0: D = log1p(a(a-1)
 * A) / (a - 1) keeps every digit when P is close to Q.  When M is far from 1
 * (a(1-a) A > 1/2 for a < 1, overflow for a > 1), log M is summed directly
 * (log-sum-exp where the terms over- or underflow).  a = inf: max log p/q. */
static int renyi_discrete(const double *p, const double *q, size_t n,
                          const law_total *sp, const law_total *sq, double a,
                          double *out) {
  atom at;
  if (isinf(a)) {
    double m = 0.0; /* max l >= 0: some p_i >= q_i */
    for (size_t i = 0; i < n; i++) {
      if (p[i] == 0.0) continue;
      atom_make(p[i], q[i], sp, sq, &at);
      if (at.l > m) m = at.l;
    }
    *out = m;
    return AB_OK;
  }
  ab_family alpha = {AB_ALPHA, a, NULL, NULL};
  double am;
  int st = ab_divergence(p, q, n, &alpha, &am);
  if (st) return st;
  if (a > 1.0 && isinf(am) && am > 0.0) {
    for (size_t i = 0; i < n; i++)
      if (q[i] == 0.0 && p[i] > 0.0) {
        *out = INFINITY; /* P is not << Q */
        return AB_OK;
      }
  }
  double x = a * am * (a - 1.0);
  if (a > 1.0 ? isfinite(x) : x >= -0.5) {
    *out = log1p(x) / (a - 1.0);
  } else {
    *out = renyi_direct(p, q, n, sp, sq, a);
  }
  if (!(*out >= 0.0)) *out = 0.0; /* rounding when P = Q */
  return AB_OK;
}

/* Total variation, sum (p - q)^+ = sum (q - p)^+: the side with the smaller
 * mass, as each p - q carries an error proportional to its masses (from the
 * renormalisation) and the other side may hold an outcome of mass ~1. */
static int tv_discrete(const double *p, const double *q, size_t n,
                       const law_total *sp, const law_total *sq, double *out) {
  ab_sum side[2] = {{0.0, 0.0}, {0.0, 0.0}};
  double mass[2] = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    atom at;
    if (p[i] == 0.0 && q[i] == 0.0) continue;
    atom_make(p[i], q[i], sp, sq, &at);
    int k = at.diff < 0.0;
    ab_sum_add(&side[k], fabs(at.diff));
    mass[k] += at.p + at.q;
  }
  double tv = ab_sum_value(&side[mass[1] < mass[0]]);
  *out = tv > 1.0 ? 1.0 : tv;
  return AB_OK;
}

/* Each named family is >= 0, and tv, hellinger and js are bounded (by 1, 1
 * and log 2): the clamp removes the last ulp of rounding of a sum or an
 * integral.  A user f is returned as it is. */
double ab_family_clamp(const ab_family *f, double v) {
  if (f->kind == AB_USER || isnan(v)) return v;
  double top = f->kind == AB_TV || f->kind == AB_HELLINGER ? 1.0
               : f->kind == AB_JS                          ? M_LN2
                                                           : INFINITY;
  return v < 0.0 ? 0.0 : v > top ? top : v;
}

int ab_divergence(const double *p, const double *q, size_t n,
                  const ab_family *f, double *out) {
  law_total sp, sq;
  int st = ab_family_check(f);
  if (st) return st;
  if (n == 0 || !p || !q) return AB_EDOM;
  if ((st = check_law(p, n, &sp)) || (st = check_law(q, n, &sq))) return st;
  ab_family kl = {AB_KL, 1.0, NULL, NULL};
  if (f->kind == AB_RENYI && f->alpha != 1.0)
    return renyi_discrete(p, q, n, &sp, &sq, f->alpha, out);
  if (f->kind == AB_RENYI) f = &kl;
  if (f->kind == AB_TV) return tv_discrete(p, q, n, &sp, &sq, out);
  double slope = NAN;
  ab_sum s = {0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    atom at;
    double term;
    if (p[i] == 0.0 && q[i] == 0.0) continue;
    atom_make(p[i], q[i], &sp, &sq, &at);
    st = atom_term(f, &at, &slope, &term);
    if (st) return st;
    ab_sum_add(&s, term);
  }
  double total = ab_sum_value(&s);
  if (isnan(total)) return f->kind == AB_USER ? AB_EFUNC : AB_EDOM;
  *out = ab_family_clamp(f, total);
  return AB_OK;
}
