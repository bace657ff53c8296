/*
 * discrete.c - finite laws (discrete{values, probs}, empirical samples,
 * Bernoulli, the two-point law of bounded{lo, hi, mean}).
 *
 * One pass over the atoms gives psi, psi', psi'' and kl at a tilt l.  Two
 * forms keep every sum free of cancellation and overflow:
 *  - series, while |l| max|x| <= 0.5: with v = l x_i,
 *      S = sum p (e^v - 1 - v) >= 0,      psi = log1p(S),
 *      A = sum p x (e^v - 1),             psi' = A / (1 + S)
 *    (the sum p x = 0 of the centred law is dropped exactly), by a
 *    polynomial: no exp at all, so psi ~ var l^2 / 2 keeps full precision
 *    down to l ~ 1e-150;
 *  - shifted to the top atom (the bottom one for l < 0), d = l (x_i - top):
 *      S0 = sum p e^d,  psi = l top + log S0,  kl = l E_pi[x - top] - log S0,
 *    good while the tilted mass sits near the top atom; when it does not (a
 *    rare top atom: Bernoulli(1e-300), one 1 among 10^6 zeros) these
 *    differences lose digits, and the direct form of the series, now with
 *    exp, gives psi = log1p(S) and psi' = A / (1 + S) without cancellation
 *    (a second pass, taken only then).
 * Sums are accumulated in blocks so that rounding grows with the number of
 * blocks, not of atoms.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BLOCK 256

/* The mean by a Neumaier-compensated sum, to centre the values accurately.
 * The values are scaled by a power of two that brings the largest below 1
 * (exact), so that the sum of n values near DBL_MAX does not overflow. */
static double mean_of(const double *v, const double *p, size_t n) {
  ab_sum s = {0.0, 0.0}, mass = {0.0, 0.0};
  double big = 0.0, lo = v[0], hi = v[0];
  int e;
  for (size_t i = 0; i < n; i++) {
    big = fmax(big, fabs(v[i]));
    lo = fmin(lo, v[i]);
    hi = fmax(hi, v[i]);
  }
  /* a constant law is its value: a weighted sum would leave an ulp of
   * rounding that centring turns into a nonzero (negative) spread */
  if (lo == hi) return lo;
  frexp(big, &e); /* big < 2^e */
  double scale = ldexp(1.0, -e);
  for (size_t i = 0; i < n; i++) {
    ab_sum_add(&s, p ? p[i] * (v[i] * scale) : v[i] * scale);
    if (p) ab_sum_add(&mass, p[i]);
  }
  /* over the weights' own sum, which rounding keeps from being exactly 1 */
  double m = ab_sum_value(&s) / (p ? ab_sum_value(&mass) : (double)n);
  return fmin(fmax(ldexp(m, e), lo), hi);
}

int ab_discrete_setup(ab_tail *t, const double *values, const double *probs,
                      size_t n) {
  size_t keep = 0;
  double total = 0.0;
  if (n == 0 || !values) return AB_EDOM;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(values[i])) return AB_EDOM;
    if (probs) {
      if (!(probs[i] >= 0.0) || !isfinite(probs[i])) return AB_EDOM;
      total += probs[i];
      if (probs[i] > 0.0) keep++;
    }
  }
  if (probs && !ab_sums_to_one(total)) return AB_EDOM;
  if (!probs) keep = n;
  if (keep > SIZE_MAX / sizeof *t->x) return AB_ENOMEM;
  /* t->n sizes the arrays for ab_tail_free from here on; arrays the caller
   * placed (ab_tail_discrete_in) are used as they are */
  t->n = keep;
  if (!t->x) t->x = ab_malloc_a(&t->alloc, keep * sizeof *t->x);
  if (!t->x) return AB_ENOMEM;
  if (probs) {
    if (!t->w) t->w = ab_malloc_a(&t->alloc, keep * sizeof *t->w);
    if (!t->w) return AB_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
      if (probs[i] > 0.0) {
        t->x[j] = values[i];
        t->w[j++] = probs[i] / total;
      }
  } else {
    memcpy(t->x, values, n * sizeof *t->x);
  }
  t->n = keep;
  double m = mean_of(t->x, t->w, keep);
  double mx = -INFINITY, mn = INFINITY;
  ab_sum var = {0, 0};
  for (size_t i = 0; i < keep; i++) {
    double x = t->x[i] - m;
    if (!isfinite(x)) return AB_ERANGE; /* spread beyond DBL_MAX */
    t->x[i] = x;
    if (x > mx) mx = x;
    if (x < mn) mn = x;
    ab_sum_add(&var, (t->w ? t->w[i] : 1.0) * x * x);
  }
  double psup = 0.0, pinf = 0.0;
  ab_sum rsup = {0, 0}, rinf = {0, 0}; /* the mass off each atom */
  for (size_t i = 0; i < keep; i++) {
    double p = t->w ? t->w[i] : 1.0 / (double)keep;
    if (t->x[i] == mx) psup += p;
    else ab_sum_add(&rsup, p);
    if (t->x[i] == mn) pinf += p;
    else ab_sum_add(&rinf, p);
  }
  double qsup = ab_sum_value(&rsup), qinf = ab_sum_value(&rinf);
  t->ksup = qsup < 0.5 ? -log1p(-qsup) : -log(psup);
  t->kinf = qinf < 0.5 ? -log1p(-qinf) : -log(pinf);
  t->mean = m;
  t->variance = t->w ? ab_sum_value(&var) : ab_sum_value(&var) / (double)keep;
  t->sup = mx;
  t->inf = mn;
  t->psup = psup;
  t->pinf = pinf;
  t->xabs = fmax(mx, -mn);
  t->lmin = -INFINITY;
  t->lmax = INFINITY;
  t->two_sided = 1;
  t->cgf = ab_cgf_discrete;
  return AB_OK;
}

/* The passes, specialised by the compiler for weighted (w != NULL) and
 * equal weights.  sums[] receives, per form:
 *  direct:  S = sum p em1x(l x), A = sum p x (e^{lx} - 1), B = sum p x^2 e^{lx}
 *  shifted: S0 = sum p e^d, S1 = sum p y e^d, S2 = sum p y^2 e^d with
 *           y = x - top, d = l y <= 0.
 * Blocks are summed plainly and their totals with Neumaier's sum, so the
 * rounding grows with the size of a block, not with n. */
static inline void pass_direct(const double *x, const double *w, size_t n,
                               double l, int series, double sums[3]) {
  ab_sum s = {0, 0}, a = {0, 0}, b = {0, 0};
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
    double bs = 0, ba = 0, bb = 0;
    for (size_t i = i0; i < i1; i++) {
      double v = l * x[i], em1x, em1;
      if (series) { /* |l x| <= 0.5: a polynomial, no exp */
        em1x = ab_em1x_series(v);
        em1 = em1x + v;
      } else if (v > 700.0) {
        /* p e^v from logs: e^v alone overflows, and a subnormal p (1 bit
         * at 5e-324) is exact only in its log; inf when p e^v itself
         * overflows, and the caller keeps the shifted form */
        double p = w ? w[i] : 1.0, e = p > 0.0 ? exp(v + log(p)) : 0.0;
        bs += e - p * (1.0 + v);
        ba += x[i] * (e - p);
        bb += x[i] * x[i] * e;
        continue;
      } else {
        ab_em1x(v, &em1x, &em1);
      }
      double p = w ? w[i] : 1.0, px = p * x[i];
      bs += p * em1x;
      ba += px * em1;
      bb += px * x[i] * (em1 + 1.0);
    }
    ab_sum_add(&s, bs);
    ab_sum_add(&a, ba);
    ab_sum_add(&b, bb);
  }
  sums[0] = ab_sum_value(&s);
  sums[1] = ab_sum_value(&a);
  sums[2] = ab_sum_value(&b);
}

static inline void pass_shifted(const double *x, const double *w, size_t n,
                                double l, double top, double sums[3]) {
  ab_sum s0 = {0, 0}, s1 = {0, 0}, s2 = {0, 0};
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
    double b0 = 0, b1 = 0, b2 = 0;
    for (size_t i = i0; i < i1; i++) {
      double y = x[i] - top; /* moments about the top atom: no cancellation */
      double e = exp(l * y);
      if (w) e *= w[i];
      if (e == 0.0) continue; /* y = -inf (atoms at -+DBL_MAX): 0, not NaN */
      b0 += e;
      b1 += y * e;
      b2 += y * y * e;
    }
    ab_sum_add(&s0, b0);
    ab_sum_add(&s1, b1);
    ab_sum_add(&s2, b2);
  }
  sums[0] = ab_sum_value(&s0);
  sums[1] = ab_sum_value(&s1);
  sums[2] = ab_sum_value(&s2);
}

/* psi, psi', psi'', kl from the direct sums (see the file comment). */
static void from_direct(const double sums[3], double u, double l,
                        ab_cgf *out) {
  double s = sums[0] * u, g = 1.0 + s;
  out->psi = log1p(s);
  out->dpsi = sums[1] * u / g;
  out->d2psi = fmax(sums[2] * u / g - out->dpsi * out->dpsi, 0.0);
  out->kl = fmax(l * out->dpsi - out->psi, 0.0);
}

int ab_cgf_discrete(const ab_tail *t, double l, double gap, ab_cgf *out) {
  const double *x = t->x, *w = t->w;
  size_t n = t->n;
  double u = w ? 1.0 : 1.0 / (double)n; /* weight of an atom when equal */
  double sums[3], direct[3];
  (void)gap;
  if (fabs(l) * t->xabs <= 0.5) {
    if (w) pass_direct(x, w, n, l, 1, direct);
    else pass_direct(x, NULL, n, l, 1, direct);
    from_direct(direct, u, l, out);
    return AB_OK;
  }
  double top = (l > 0) ? t->sup : t->inf;
  if (w) pass_shifted(x, w, n, l, top, sums);
  else pass_shifted(x, NULL, n, l, top, sums);
  /* kl = E_pi[d] - log S0 with d = l y, and sum p d e^d = l S1 */
  double s0 = sums[0] * u, ey = sums[1] / sums[0], ly = log(s0);
  out->psi = l * top + ly;
  out->dpsi = top + ey;
  out->d2psi = fmax(sums[2] / sums[0] - ey * ey, 0.0);
  out->kl = fmax(l * ey - ly, 0.0);
  /* psi and kl above are differences of terms of size l |top|, l |ey| and
   * |log S0| (the last with an absolute error of a few ulps even when it is
   * tiny): when the tilted mass sits far from the top atom (a rare top atom,
   * or psi tiny) they lose digits.  The direct form then has none in psi
   * (log1p of a sum of non-negative terms); its kl = l psi' - psi is taken
   * when it is the better conditioned of the two, if its sums are finite.
   * psi' = top + E_pi[x - top] is accurate
   * unless the direct form is taken: without it, |top| + |E_pi y| <=
   * 100 (psi + kl) / l = 100 psi'. */
  double cpsi = fabs(l * top) + fabs(ly) + 1.0;
  double ckl = fabs(l * ey) + fabs(ly) + 1.0;
  if (cpsi > 100.0 * out->psi || ckl > 100.0 * out->kl) {
    ab_cgf d;
    if (w) pass_direct(x, w, n, l, 0, direct);
    else pass_direct(x, NULL, n, l, 0, direct);
    /* beyond |l x| = 700 the terms p e^{lx} can overflow: keep the
     * shifted form then (Bernoulli(5e-324) at kl = 1e-16 needs l = 702.6,
     * where the old bound |l| max|x| <= 700 lost 1% of the gain).  B may
     * overflow alone (x^2 for |x| = 1e300): psi and psi' stand, and the
     * variance below stays the shifted one. */
    if (!(isfinite(direct[0]) && isfinite(direct[1])))
      return AB_OK;
    from_direct(direct, u, l, &d);
    double ckl_direct = fabs(l * d.dpsi) + d.psi;
    out->psi = d.psi;
    out->dpsi = d.dpsi; /* sum p x e^{lx} / sum p e^{lx}: no cancellation */
    if (ckl_direct < ckl) out->kl = d.kl;
    /* the variance from the form whose second moment is the smaller */
    if (direct[2] * u / (1.0 + direct[0] * u) < sums[2] / sums[0])
      out->d2psi = d.d2psi;
  }
  return AB_OK;
}
