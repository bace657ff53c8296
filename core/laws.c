/*
 * laws.c - centred cumulants psi(l) = log E exp(l (R - E R)) of the exact laws
 * and of the assumption classes, with psi', psi'' and kl = l psi' - psi.
 *
 * Each value is computed without catastrophic cancellation: Taylor series near
 * l = 0 (where psi ~ var l^2 / 2 would otherwise come out of a difference of
 * O(l) terms), and the boundary gap lambda_max - l where psi blows up.
 */
#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_hyperg.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_zeta.h>
#include <math.h>

#include "internal.h"

#define EULER_GAMMA 0.57721566490153286061

/* Sub-Gaussian class and Gaussian law: psi = s2 l^2 / 2 (also Hoeffding's
 * bound and the sub-exponential class inside |l| < 1/b). */
int ab_cgf_subgaussian(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double s2 = t->variance;
  (void)gap;
  out->psi = 0.5 * s2 * l * l;
  out->dpsi = s2 * l;
  out->d2psi = s2;
  out->kl = out->psi;
  return AB_OK;
}

/* Sub-gamma class (v, c), right tail: psi <= v l^2 / (2 (1 - c l)), l < 1/c.
 * kl = v l^2 / (2 (1 - c l)^2). */
int ab_cgf_subgamma(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double v = t->par[0], c = t->par[1];
  double one = (c * l > 0.5) ? c * gap : 1.0 - c * l;
  out->psi = 0.5 * v * l * l / one;
  out->dpsi = 0.5 * v * l * (1.0 + one) / (one * one);
  out->d2psi = v / (one * one * one);
  out->kl = 0.5 * v * l * l / (one * one);
  return AB_OK;
}

/* Gamma(k, theta) (and Exponential(rate) = Gamma(1, 1/rate)):
 * psi = -k (log(1 - u) + u), u = l theta < 1. */
int ab_cgf_gamma(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double k = t->par[0], theta = t->par[1];
  double u = l * theta;
  double v = (u > 0.5) ? theta * gap : 1.0 - u;
  if (fabs(u) < 0.5) {
    double lm = ab_log1pmx(-u);
    out->psi = -k * lm;
    out->kl = k * (u * u / v + lm);
  } else {
    double lv = log(v);
    out->psi = -k * (lv + u);
    out->kl = (u > 0) ? k * (u * u / v + lv + u) : k * (u / v + lv);
  }
  out->dpsi = k * theta * u / v;
  out->d2psi = k * theta * theta / (v * v);
  return AB_OK;
}

/* Uniform(lo, hi), w = hi - lo, h = l w / 2:
 * psi = log(sinh h / h); psi' = (w/2) L(h) with L = coth h - 1/h (Langevin). */
int ab_cgf_uniform(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double half = 0.5 * (t->par[1] - t->par[0]);
  double h = l * half, a = fabs(h), sgn = (h < 0) ? -1.0 : 1.0;
  double langevin, dlangevin;
  (void)gap;
  if (a < 1.0) {
    /* r = (sinh a / a - 1) / a^2 = sum a^(2k-2) / (2k+1)!,
     * q = L(a) / a * (1 + s) = sum 2k a^(2k-2) / (2k+1)! (k >= 1) */
    double a2 = a * a, r = 0.0, q = 0.0, fact = 6.0, pw = 1.0;
    for (int k = 1; k <= 11; k++) {
      r += pw / fact;
      q += 2.0 * k * pw / fact;
      pw *= a2;
      fact *= (2.0 * k + 2.0) * (2.0 * k + 3.0);
    }
    double s = r * a2;
    out->psi = log1p(s);
    langevin = a * q / (1.0 + s);
    dlangevin = r * (2.0 + s) / ((1.0 + s) * (1.0 + s));
    out->kl = a2 * q / (1.0 + s) - out->psi;
  } else {
    double e = exp(-2.0 * a), om = -expm1(-2.0 * a);
    double lg2a = M_LN2 + log(a);
    out->psi = a - lg2a + log1p(-e);
    langevin = 1.0 + 2.0 * e / om - 1.0 / a;
    dlangevin = 1.0 / (a * a) - 4.0 * e / (om * om);
    out->kl = -1.0 + 2.0 * a * e / om + lg2a - log1p(-e);
  }
  out->dpsi = half * sgn * langevin;
  out->d2psi = half * half * dlangevin;
  return AB_OK;
}

/* Logistic(loc, s), x = pi s l, |x| < pi: psi = log(x / sin x);
 * psi' = pi s (1/x - cot x). */
int ab_cgf_logistic(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double ps = M_PI * t->par[1];
  double x = ps * l, a = fabs(x), sgn = (x < 0) ? -1.0 : 1.0;
  double c, d2;
  if (a < 1.0) {
    /* sa = sin a / a - 1 = a^2 rr with rr = sum (-1)^k a^(2k-2) / (2k+1)!,
     * q = sum (-1)^(k+1) 2k a^(2k-2) / (2k+1)!, so 1/a - cot a = a q / (1+sa) */
    double a2 = a * a, rr = 0.0, q = 0.0, fact = 6.0, pw = 1.0, sg = -1.0;
    for (int k = 1; k <= 11; k++) {
      rr += sg * pw / fact;
      q -= sg * 2.0 * k * pw / fact;
      pw *= a2;
      sg = -sg;
      fact *= (2.0 * k + 2.0) * (2.0 * k + 3.0);
    }
    double sa = rr * a2;
    out->psi = -log1p(sa);
    c = a * q / (1.0 + sa);
    d2 = -rr * (2.0 + sa) / ((1.0 + sa) * (1.0 + sa));
    out->kl = a2 * q / (1.0 + sa) - out->psi;
  } else {
    double y = (a > 0.5 * M_PI) ? ps * gap : M_PI - a; /* pi - a, exactly */
    double sy = sin(y), cy = cos(y);
    out->psi = log(a / sy);
    c = 1.0 / a + cy / sy;
    d2 = 1.0 / (sy * sy) - 1.0 / (a * a);
    out->kl = a * c - out->psi;
  }
  out->dpsi = ps * sgn * c;
  out->d2psi = ps * ps * d2;
  return AB_OK;
}

/* Gumbel(loc, beta), x = beta l < 1: psi = log Gamma(1 - x) - gamma_E x.
 * Near 0: psi = sum_{k>=2} zeta(k) x^k / k (coef[k] = zeta(k)). */
int ab_gumbel_setup(ab_tail *t) {
  for (int k = 2; k < AB_BETA_TERMS; k++) {
    gsl_sf_result r;
    if (gsl_sf_zeta_int_e(k, &r) != GSL_SUCCESS) return AB_EGSL;
    t->coef[k] = r.val;
  }
  return AB_OK;
}

int ab_cgf_gumbel(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double beta = t->par[1], x = beta * l;
  if (fabs(x) < 0.25) {
    double psi = 0, dpsi = 0, d2 = 0, kl = 0, pw = 1.0; /* pw = x^(k-2) */
    for (int k = 2; k < AB_BETA_TERMS; k++) {
      double z = t->coef[k];
      d2 += (k - 1) * z * pw;
      dpsi += z * pw * x;
      psi += z * pw * x * x / k;
      kl += z * pw * x * x * (k - 1) / k;
      pw *= x;
    }
    out->psi = psi;
    out->dpsi = beta * dpsi;
    out->d2psi = beta * beta * d2;
    out->kl = kl;
    return AB_OK;
  }
  double y = (x > 0.5) ? beta * gap : 1.0 - x; /* 1 - x, exactly */
  gsl_sf_result lg, dg, tg;
  if (gsl_sf_lngamma_e(y, &lg) != GSL_SUCCESS ||
      gsl_sf_psi_e(y, &dg) != GSL_SUCCESS)
    return AB_EGSL;
  /* trigamma ~ 1/y^2 overflows next to the end of the domain; it only steers
   * Newton there */
  if (gsl_sf_psi_1_e(y, &tg) != GSL_SUCCESS) tg.val = INFINITY;
  out->psi = lg.val - EULER_GAMMA * x;
  out->dpsi = beta * (-dg.val - EULER_GAMMA);
  out->d2psi = beta * beta * tg.val;
  out->kl = -x * dg.val - lg.val;
  return AB_OK;
}

/* Beta(a, b), m = a / (a+b).  G(l) = E e^{l (X - m)} = e^{-l m} 1F1(a; a+b; l)
 * solves l G'' + (c + (2m - 1) l) G' + m (m - 1) l G = 0 (Kummer's equation
 * shifted), so its Taylor coefficients obey
 *   g_{k+1} = -((2m-1) k g_k + m (m-1) g_{k-1}) / ((k+1) (k+c)),
 * with g_0 = 1, g_1 = 0: the central moments over k!, without cancellation. */
int ab_beta_setup(ab_tail *t) {
  double a = t->par[0], b = t->par[1], c = a + b, m = a / c;
  double *g = t->coef;
  g[0] = 1.0;
  g[1] = 0.0;
  for (int k = 1; k + 1 < AB_BETA_TERMS; k++)
    g[k + 1] = -((2.0 * m - 1.0) * k * g[k] + m * (m - 1.0) * g[k - 1]) /
               ((k + 1.0) * (k + c));
  return AB_OK;
}

/* E Y and E Y^2 under e^{-t Y} / N, and log N, N = E e^{-t Y} = 1F1(al; c; -t),
 * Y ~ Beta(al, c - al).  Large t uses the asymptotic expansion
 * 1F1(al; c; -t) ~ Gamma(c) / Gamma(c - al) t^-al 2F0(al, al - c + 1;; -1/t). */
static int beta_tilt(double al, double c, double t, double *lognorm, double *ey,
                     double *ey2) {
  int asym = t > 700.0 && t > 4.0 * (al + 2.0) * (fabs(al - c) + 3.0);
  if (!asym) {
    gsl_sf_result m0, m1, m2;
    if (gsl_sf_hyperg_1F1_e(al, c, -t, &m0) == GSL_SUCCESS &&
        gsl_sf_hyperg_1F1_e(al + 1, c + 1, -t, &m1) == GSL_SUCCESS &&
        gsl_sf_hyperg_1F1_e(al + 2, c + 2, -t, &m2) == GSL_SUCCESS &&
        m0.val > 0 && isfinite(m0.val)) {
      *lognorm = log(m0.val);
      *ey = al / c * m1.val / m0.val;
      *ey2 = al * (al + 1) / (c * (c + 1)) * m2.val / m0.val;
      return AB_OK;
    }
    if (t < 50.0) return AB_EGSL;
  }
  /* 2F0 sums for (al, al-c+1), (al+1, al-c+1), (al+2, al-c+1), stopped at the
   * smallest term */
  double f[3];
  for (int j = 0; j < 3; j++) {
    double s = 1.0, term = 1.0, aa = al + j, bb = al - c + 1.0;
    for (int k = 0; k < 60; k++) {
      double next = -term * (aa + k) * (bb + k) / ((k + 1.0) * t);
      if (fabs(next) >= fabs(term)) break;
      term = next;
      s += term;
      if (fabs(term) < 1e-17 * fabs(s)) break;
    }
    f[j] = s;
  }
  gsl_sf_result lgc, lgca;
  if (gsl_sf_lngamma_e(c, &lgc) != GSL_SUCCESS ||
      gsl_sf_lngamma_e(c - al, &lgca) != GSL_SUCCESS || f[0] <= 0)
    return AB_EGSL;
  *lognorm = lgc.val - lgca.val - al * log(t) + log(f[0]);
  *ey = al / t * f[1] / f[0];
  *ey2 = al * (al + 1) / (t * t) * f[2] / f[0];
  return AB_OK;
}

int ab_cgf_beta(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double a = t->par[0], b = t->par[1], c = a + b, m = a / c;
  (void)gap;
  if (fabs(l) <= 1.0) {
    /* S = G - 1 = sum_{k>=2} g_k l^k >= 0, since G = E e^{l(X-m)} >= 1 */
    const double *g = t->coef;
    double s = 0, g1 = 0, g2 = 0;
    for (int k = AB_BETA_TERMS - 1; k >= 2; k--) {
      s = s * l + g[k];
      g1 = g1 * l + k * g[k];
      g2 = g2 * l + k * (k - 1.0) * g[k];
    }
    s *= l * l;
    g1 *= l;
    double gg = 1.0 + s;
    out->psi = log1p(s);
    out->dpsi = g1 / gg;
    out->d2psi = g2 / gg - out->dpsi * out->dpsi;
    out->kl = l * out->dpsi - out->psi;
    return AB_OK;
  }
  /* tilting by e^{l X}: for l > 0 write X = 1 - Y with Y ~ Beta(b, a), so the
   * tilt is e^{l} e^{-l Y} and nothing overflows; for l < 0, Y = X. */
  double tt = fabs(l), lognorm, ey, ey2;
  int st = beta_tilt(l > 0 ? b : a, c, tt, &lognorm, &ey, &ey2);
  if (st) return st;
  if (l > 0) {
    out->psi = tt * (1.0 - m) + lognorm;
    out->dpsi = (1.0 - m) - ey;
  } else {
    out->psi = tt * m + lognorm;
    out->dpsi = ey - m;
  }
  out->d2psi = fmax(ey2 - ey * ey, 0.0);
  out->kl = -tt * ey - lognorm;
  return AB_OK;
}

/* Student t and Pareto: E e^{l R} = +inf for every l > 0 (a polynomial tail),
 * and for l < 0 as well for the Student t; the engine only ever asks at
 * l = 0, where psi = 0, psi' = 0, psi'' = the variance (+inf if none). */
int ab_cgf_heavy(const ab_tail *t, double l, double gap, ab_cgf *out) {
  (void)gap;
  out->psi = l == 0.0 ? 0.0 : INFINITY;
  out->dpsi = l == 0.0 ? 0.0 : INFINITY;
  out->d2psi = l == 0.0 ? t->variance : INFINITY;
  out->kl = l == 0.0 ? 0.0 : INFINITY;
  return AB_OK;
}
