/*
 * discrete.c - finite laws (discrete{values, probs}, empirical samples,
 * Bernoulli, the two-point law of bounded{lo, hi, mean}).
 *
 * One pass over the atoms gives psi, psi', psi'' and kl at a tilt l.  Two
 * forms keep every sum free of cancellation:
 *  - centred, while |l| max|x| <= 600: with w = l x_i,
 *      S = sum p (e^w - 1 - w) >= 0,      psi = log1p(S),
 *      A = sum p x (e^w - 1),             psi' = A / (1 + S)
 *    (the sum p x = 0 of the centred law is dropped exactly);
 *  - shifted by the largest exponent wmax, d = l x_i - wmax <= 0:
 *      S0 = sum p e^d,   psi = wmax + log S0,   kl = sum p d e^d / S0 - log S0.
 * Sums are accumulated in blocks so that rounding grows with the number of
 * blocks, not of atoms.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BLOCK 256

/* Neumaier-compensated sum, to centre the values accurately. */
static double mean_of(const double *v, const double *p, size_t n) {
  double s = 0.0, c = 0.0;
  for (size_t i = 0; i < n; i++) {
    double term = p ? p[i] * v[i] : v[i];
    double u = s + term;
    c += (fabs(s) >= fabs(term)) ? (s - u) + term : (term - u) + s;
    s = u;
  }
  s += c;
  return p ? s : s / (double)n;
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
  if (probs && !(fabs(total - 1.0) <= 1e-9)) return AB_EDOM;
  if (!probs) keep = n;
  t->x = malloc(keep * sizeof *t->x);
  if (!t->x) return AB_ENOMEM;
  if (probs) {
    t->w = malloc(keep * sizeof *t->w);
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
  double mx = -INFINITY, mn = INFINITY, var = 0.0, cvar = 0.0;
  for (size_t i = 0; i < keep; i++) {
    double x = t->x[i] - m;
    t->x[i] = x;
    if (x > mx) mx = x;
    if (x < mn) mn = x;
    double term = (t->w ? t->w[i] : 1.0) * x * x, u = var + term;
    cvar += (var >= term) ? (var - u) + term : (term - u) + var;
    var = u;
  }
  var += cvar;
  if (!t->w) var /= (double)keep;
  double psup = 0.0, pinf = 0.0;
  for (size_t i = 0; i < keep; i++) {
    double p = t->w ? t->w[i] : 1.0 / (double)keep;
    if (t->x[i] == mx) psup += p;
    if (t->x[i] == mn) pinf += p;
  }
  t->mean = m;
  t->variance = var;
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

int ab_cgf_discrete(const ab_tail *t, double l, double gap, ab_cgf *out) {
  const double *x = t->x, *w = t->w;
  size_t n = t->n;
  double u = w ? 1.0 : 1.0 / (double)n; /* weight of an atom when equal */
  (void)gap;
  if (fabs(l) * t->xabs <= 600.0) {
    double s = 0, a = 0, b2 = 0;
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
      size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
      double bs = 0, ba = 0, bb = 0;
      for (size_t i = i0; i < i1; i++) {
        double p = w ? w[i] : 1.0, em1x, em1;
        ab_em1x(l * x[i], &em1x, &em1);
        bs += p * em1x;
        ba += p * x[i] * em1;
        bb += p * x[i] * x[i] * (em1 + 1.0);
      }
      s += bs;
      a += ba;
      b2 += bb;
    }
    s *= u;
    a *= u;
    b2 *= u;
    double g = 1.0 + s;
    out->psi = log1p(s);
    out->dpsi = a / g;
    out->d2psi = fmax(b2 / g - out->dpsi * out->dpsi, 0.0);
    out->kl = l * out->dpsi - out->psi;
    if (out->kl < 0) out->kl = 0; /* rounding at l ~ 0 */
    return AB_OK;
  }
  double top = (l > 0) ? t->sup : t->inf, wmax = l * top;
  double s0 = 0, s1 = 0, s2 = 0, sd = 0;
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
    double b0 = 0, b1 = 0, b2 = 0, bd = 0;
    for (size_t i = i0; i < i1; i++) {
      double p = w ? w[i] : 1.0;
      double d = l * x[i] - wmax;
      double e = p * exp(d);
      double y = x[i] - top; /* moments about the top atom: no cancellation */
      b0 += e;
      b1 += y * e;
      b2 += y * y * e;
      bd += d * e;
    }
    s0 += b0;
    s1 += b1;
    s2 += b2;
    sd += bd;
  }
  s0 *= u;
  s1 *= u;
  s2 *= u;
  sd *= u;
  double ly = log(s0), ey = s1 / s0;
  out->psi = wmax + ly;
  out->dpsi = top + ey;
  out->d2psi = fmax(s2 / s0 - ey * ey, 0.0);
  out->kl = fmax(sd / s0 - ly, 0.0);
  return AB_OK;
}
