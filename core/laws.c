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
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_zeta.h>
#include <math.h>

#include "internal.h"

/* Sub-Gaussian class and Gaussian law: psi = s2 l^2 / 2 (also Hoeffding's
 * bound and the sub-exponential class inside |l| < 1/b). */
int ab_cgf_subgaussian(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double sd = t->aux[0], x = sd * l; /* (sd l)^2, not sd^2 l^2: no underflow */
  (void)gap;
  out->psi = 0.5 * x * x;
  out->dpsi = sd * x;
  out->d2psi = t->variance;
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
  if (!(v > 0.0)) { /* the gap underflowed: at the end of the domain */
    out->psi = out->dpsi = out->d2psi = out->kl = INFINITY;
    return AB_OK;
  }
  if (isinf(u)) { /* l theta below -DBL_MAX: the limits as u -> -inf */
    out->psi = INFINITY;
    out->dpsi = -k * theta; /* u / v -> -1 */
    out->d2psi = 0.0;
    out->kl = INFINITY;
    return AB_OK;
  }
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
  } else if (isinf(a)) { /* l w overflows: the limits as |h| -> inf */
    out->psi = INFINITY;
    langevin = 1.0;
    dlangevin = 0.0;
    out->kl = INFINITY;
  } else {
    double e = exp(-2.0 * a), om = -expm1(-2.0 * a);
    double lg2a = M_LN2 + log(a);
    out->psi = a - lg2a + log1p(-e);
    langevin = 1.0 + 2.0 * e / om - 1.0 / a;
    dlangevin = 1.0 / (a * a) - 4.0 * e / (om * om);
    out->kl = -1.0 + 2.0 * (a * e) / om + lg2a - log1p(-e);
  }
  out->dpsi = half * sgn * langevin;
  out->d2psi = half * (half * dlangevin); /* 0, not inf * 0, at h = inf */
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
  out->psi = lg.val - M_EULER * x;
  out->dpsi = beta * (-dg.val - M_EULER);
  out->d2psi = beta * beta * tg.val;
  /* kl = (y - 1) digamma(y) - lngamma(y): for large y (l -> -inf) the two
   * terms are ~ y log y each and overflow together; by Stirling,
   * kl = y - log(y)/2 - (1 + log 2 pi)/2 + 1/(3y) + O(1/y^2), inf once
   * beta l overflows (y = inf: inf - inf was NaN) */
  out->kl = isinf(y)  ? INFINITY
            : y > 1e8 ? y - 0.5 * log(y) - 0.5 * (1.0 + log(2.0 * M_PI)) +
                            1.0 / (3.0 * y)
                      : -x * dg.val - lg.val;
  return AB_OK;
}

/* ---- Beta(a, b) --------------------------------------------------------
 *
 * psi(l) = log 1F1(a; c; l) - l m, c = a + b, m = a / c, for a, b in
 * [1e-8, 1e15] and every real l, with psi', psi'' and kl = l psi' - psi, each
 * to 1e-10 relative or better (checked against 40- and 60-digit references
 * on a, b in {1e-8, 1e-6, 1e-5, 3e-5, 1e-3, 1, 300, 1e4, 1e8, 1e12}, |l|
 * from 1e-3 to 1e6: worst 1e-12; spec/laws_spec.lua).  Four regimes: the
 * series (1) while |l| sd <= 1.5 (sd^2 = m (1 - m) / (c + 1)), then the
 * small-parameter form (3) for a law with its mass at one end, the
 * quadrature form (2) otherwise, and the asymptotic form (4) for huge |l|:
 *
 * 1. Series, |l| sd <= s_max.  G(l) = E e^{l (X - m)} solves Kummer's
 *    equation shifted, so its Taylor coefficients g_k (central moments / k!)
 *    obey g_{k+1} = ((1 - 2m) k g_k + m (1 - m) g_{k-1}) / ((k + 1)(k + c)),
 *    g_0 = 1, g_1 = 0.  Both terms have the sign of g_{k+1} (induction on the
 *    sign pattern: all positive for m <= 1/2, alternating in k for m > 1/2),
 *    so the recurrence has no cancellation.  We keep q_k = g_k / sd^2
 *    (q_2 = 1/2), scaled as p_k = q_k L^(k-2) (below), so that nothing
 *    under- or overflows for c up to 1e15 or a down to 1e-8, and sum
 *    S = G - 1 = (sd l)^2 sum_{k>=2} q_k l^(k-2): psi = log1p(S).  The
 *    truncation after k = 39 is below 1e-17 S: the series is used up to the
 *    largest l with |q_k| l^(k-2) <= 1e-17 / 2 for the last three k (the
 *    terms decay
 *    geometrically past them: the ratio of successive terms is about
 *    s / k), capped at 1.5: then sum |h_k s^k| <= E e^{|s Z|} - 1 - E|s Z|
 *    (Z the standardised law) stays within a small factor of
 *    S = E e^{s Z} - 1 - s E Z, so the rounding of the sum is a few ulps
 *    of S.
 *
 * 2. Quadrature, |l| sd > s_max, where psi >= s_max^2 / 2 or the law is far
 *    from normal.  In the logit variable u = log(x / (1 - x)), dx = x y du
 *    (y = 1 - x), the tilted integrand x^a y^b e^{l x} is smooth and
 *    unimodal on the whole line, with its maximum at the root x^ of
 *    l x^2 - (l - c) x - a = 0 in (0, 1), and
 *      psi = Lx + l (x^ - m) + log(J_l / J_0),
 *      Lx  = a log(x^ / m) + b log(y^ / (1 - m)),
 *      J_l = int e^{E(v)} dv,  E(v) = a B(d / x^) + b B(-d / y^) <= 0,
 *    where v = u - u^, d = x - x^ = x^ y^ (e^v - 1) / (1 + x^ (e^v - 1)) and
 *    B(t) = log(1 + t) - t: E is the Bregman remainder of
 *    a log x + b log y + l x at its maximum in x, where the linear term l x
 *    drops out, so E is a sum of two non-positive terms and has no
 *    cancellation for any a, b, l.  J_0 is the same integral at l = 0
 *    (x^ = m), computed once.  The tilted moments are E_l X = x^ + E_l d, so
 *      psi' = (x^ - m) + E_l d,  psi'' = Var_l d,
 *      kl = l psi' - psi = l E_l d - Lx - log(J_l / J_0)
 *    (the large l (x^ - m) cancels exactly); Lx uses log1p(t) - t when both
 *    ratios are near 1, where its two terms cancel to first order.
 *    Error budget: E and d carry a few ulps relative each, so J_l, J_0 and
 *    the moments are exact to the quadrature error below (~1e-16 relative);
 *    psi and kl are then sums of terms each exact to a few ulps, so their
 *    absolute error is ~1e-16 (|Lx| + |l delta| + |log J_l| + |log J_0|).
 *    Relative to psi, that is small unless psi is tiny against log J_0 ~
 *    log(1 / min(a, b)): at the start of this regime psi >= s_max^2 / 2 for
 *    nearly normal laws, and psi ~ min(a, b) e^l / l (l >= 7) for laws
 *    with all their mass at one end, whence the bound a, b >= 1e-4
 *    (measured: 5e-11 at a = 1e-4, 4e-10 at a = 1e-5).
 *    Each half-line v > 0, v < 0 is integrated by the exp-sinh rule
 *    v = w exp((pi/2) sinh t), w = 1 / sqrt(a y^2 + b x^2) (the curvature of
 *    log g at its maximum), trapezoidal in t: the error of step h decays like
 *    exp(-const / h) for an integrand analytic in a strip around the half
 *    line that decays at least exponentially (Takahasi-Mori); the tails here
 *    decay like e^{a v} and e^{-b v}.  Halving h squares the relative error,
 *    so we halve until two levels agree to 1e-8 (error then ~1e-16), at
 *    most to h = 1/256.  The range of t is fixed at h = 1/2 (until a term
 *    falls below 1e-20 of the sum and v is past 50 / min(a, b), where the
 *    slowest tail has decayed; |t| < 8 since v grows like
 *    e^{(pi/2) sinh t}), so an evaluation costs at most ~8000 nodes and
 *    typically a few hundred (25-200 us).
 *
 * 3. Small parameter, min(a, b) < 0.01 (on the mirrored law X -> 1 - X,
 *    l -> -l, when b is the small one): psi ~ a is tiny against the logs
 *    of form 2, so the integrals are taken relative to their own size:
 *    G = E e^{lX} = 1 + l m + J with J = E[e^{lX} - 1 - lX] (see
 *    beta_small).  Used while it is well conditioned (l m >= -1/2, J below
 *    1e3 psi for l < 0, |l| <= 100 (c + 1)); psi'' comes from form 2 once
 *    the tilt has moved the mass to the other end.
 *
 * 4. Far tilts, |l| >= 1e20 (1 + a)(1 + b): 1F1(b; c; -l) for Y = 1 - X is
 *    Gamma(c) / Gamma(a) l^-b up to a relative 1e-20, so psi = l (1 - m) -
 *    b log l + log(Gamma(c) / Gamma(a)) (lnpoch, without cancellation).
 */

#define BETA_SERIES_TOL 1e-17
#define BETA_SMAX 1.5
#define BETA_SMALL 0.01

static int beta_integrals(double a, double b, double xh, double yh,
                          double *logj, double *m1, double *m2);

int ab_beta_setup(ab_tail *t) {
  double a = t->par[0], b = t->par[1], c = a + b, m = a / c, mc = b / c;
  double sd = sqrt(m) * sqrt(mc) / sqrt(c + 1.0), skew = (b - a) / c;
  double *p = t->coef, scale = fmin(c + 1.0, 1.0 / sd), xmax = INFINITY;
  if (!(sd > 0.0) || !isfinite(1.0 / sd)) return AB_EDOM;
  /* p_k = q_k L^(k-2), L = min(c + 1, 1 / sd): O(1) for nearly normal
   * laws (L = 1/sd), for one-sided ones (L = c + 1, the radius) and for
   * small c alike, so none under- or overflows */
  p[0] = p[1] = 0.0; /* unused: the sums start at k = 2 */
  p[2] = 0.5;
  p[3] = skew * 2.0 * p[2] * scale / (3.0 * (2.0 + c));
  for (int k = 3; k + 1 < AB_BETA_TERMS; k++)
    p[k + 1] = (skew * k * p[k] * scale + m * mc * p[k - 1] * scale * scale) /
               ((k + 1.0) * (k + c));
  for (int k = AB_BETA_TERMS - 3; k < AB_BETA_TERMS; k++)
    xmax = fmin(xmax, p[k] != 0.0
                          ? pow(0.5 * BETA_SERIES_TOL / fabs(p[k]), 1.0 / (k - 2))
                          : 1.0);
  double lmax = fmin(BETA_SMAX / sd, scale * xmax);
  if (!isfinite(lmax)) return AB_EDOM;
  t->aux[0] = sd;
  t->aux[1] = lmax;
  t->aux[3] = scale;
  double lj0, m1, m2;
  int st = beta_integrals(a, b, m, mc, &lj0, &m1, &m2);
  if (st) return st;
  t->aux[2] = lj0;
  return AB_OK;
}

/* The maximum of x^a y^b e^{l x} over x = 1 - y in (0, 1), l != 0: the
 * root there of l x^2 - (l - c) x - a = 0, equivalently of
 * l y^2 - (l + c) y + b = 0.  Both have the discriminant
 * D^2 = (l + a - b)^2 + 4 a b, a sum of squares; each of x^, y^ comes from
 * its own quadratic in the form without cancellation (for l > 0 the x root
 * is the positive one of two of opposite signs, the y root the smaller of
 * two positive ones; l < 0 mirrors x and y).  delta = x^ - m solves
 * l d^2 + (c - l (1 - 2m)) d - l m (1 - m) = 0, also without cancellation. */
static void beta_mode(double a, double b, double l, double m, double mc,
                      double *xh, double *yh, double *delta) {
  double c = a + b, ll = fabs(l);
  double disc = hypot((l + a) - b, 2.0 * sqrt(a) * sqrt(b));
  double near = 2.0 * (l > 0 ? b : a) / ((ll + c) + disc);
  double far = ll >= c ? ((ll - c) + disc) / (2.0 * ll)
                       : 2.0 * (l > 0 ? a : b) / (disc - (ll - c));
  *xh = l > 0 ? far : near;
  *yh = l > 0 ? near : far;
  double bq = c - l * ((b - a) / c), pq = l * m * mc;
  double dq = hypot(bq, 2.0 * l * sqrt(m * mc));
  *delta = bq >= 0.0 ? 2.0 * pq / (bq + dq) : (dq - bq) / (2.0 * l);
}

/* E(v) and d at v on one side of the maximum (see above). */
static inline void beta_node(double a, double b, double xh, double yh,
                             double v, double *e, double *d) {
  double lq, r;
  if (v >= 0.0) {
    if (v <= 700.0) {
      double em = expm1(v);
      lq = log1p(xh * em);
      r = 1.0 / (xh + 1.0 / em); /* em / (1 + xh em) */
    } else {
      lq = v + log(xh);
      r = 1.0 / xh;
    }
  } else {
    /* q = 1 + xh em = yh + xh e^v in (yh, 1), summed without cancellation */
    double em = expm1(v), q = xh <= 0.5 ? 1.0 + xh * em : yh + xh * exp(v);
    lq = xh <= 0.5 ? log1p(xh * em) : log(q);
    r = em / q;
  }
  double t1 = yh * r, t2 = -xh * r; /* x / xh - 1 and y / yh - 1 */
  double e1 = fabs(t1) <= 0.5 ? ab_log1pmx_fast(t1) : (v - lq) - t1;
  double e2 = fabs(t2) <= 0.5 ? ab_log1pmx_fast(t2) : -lq - t2;
  *e = a * e1 + b * e2;
  *d = xh * t1;
}

/* log J, J = int e^E dv, and the tilted moments E_l d = int d e^E dv / J,
 * E_l d^2, by the exp-sinh rule on each half line (see above), summed in
 * units of w so that J ~ 1/a for tiny a does not overflow. */
/* log phi1(z), phi1 = (e^z - 1 - z) e^{-z} / z^2, and log phi2(z),
 * phi2 = (1 - e^{-z}) / z: positive, 1/2 and 1 at z = 0 (small-a form). */
static void beta_log_phi(double z, double *l1, double *l2) {
  if (fabs(z) < 1e-4) {
    *l1 = log((0.5 + z * (1.0 / 6.0 + z / 24.0)) * exp(-z));
    *l2 = log1p(z * (-0.5 + z / 6.0));
  } else if (fabs(z) < 0.5) {
    *l1 = log(ab_em1x_series(z) / (z * z)) - z;
    *l2 = log(-expm1(-z) / z);
  } else if (z > 0) { /* (1 - (1 + z) e^{-z}) / z^2, (1 - e^{-z}) / z */
    *l1 = log1p(-(1.0 + z) * exp(-z)) - 2.0 * log(z);
    *l2 = log1p(-exp(-z)) - log(z);
  } else { /* e^{|z|} (|z| - 1 + e^{-|z|}) / z^2, e^{|z|} (1 - e^{-|z|}) / |z| */
    double u = -z, e = exp(-u);
    *l1 = u + log((u - 1.0) + e) - 2.0 * log(u);
    *l2 = u + log1p(-e) - log(u);
  }
}

/* The contributions of the node t (both half lines) to the three sums:
 * small = 0: int e^E [1, d, d^2] dv; small = 1 (l given):
 * int e^E [phi1(l x), phi2(l x), 1] dv. */
static void beta_quad_node(double a, double b, double xh, double yh, double w,
                           double t, int small, double l, double part[3]) {
  double es = exp(0.5 * M_PI * sinh(t)), v = w * es;
  double wt = es * 0.5 * M_PI * cosh(t);
  part[0] = part[1] = part[2] = 0.0;
  if (!isfinite(wt)) return;
  for (int sg = -1; sg <= 1; sg += 2) {
    double e, d;
    beta_node(a, b, xh, yh, sg * v, &e, &d);
    if (!small) {
      double f = e > -745.0 ? wt * exp(e) : 0.0;
      part[0] += f;
      part[1] += f * d;
      part[2] += f * d * d;
    } else {
      double l1, l2;
      beta_log_phi(l * (xh + d), &l1, &l2);
      part[0] += wt * exp(e + l1);
      part[1] += wt * exp(e + l2);
      part[2] += e > -745.0 ? wt * exp(e) : 0.0;
    }
  }
}

static int beta_quadrature(double a, double b, double xh, double yh,
                           int small, double l, double *logw,
                           double est[3]) {
  enum { LEVELS = 8, MAXNODE = 512 };
  double w = 1.0 / sqrt(a * yh * yh + b * xh * xh);
  double h = 0.5, part[3];
  ab_sum sum[3] = {{0, 0}, {0, 0}, {0, 0}};
  int kmin = 0, kmax = 0;
  est[0] = est[1] = est[2] = 0.0;
#define ADD_NODE(tt)                                                          \
  do {                                                                        \
    beta_quad_node(a, b, xh, yh, w, (tt), small, l, part);                    \
    for (int i = 0; i < 3; i++) ab_sum_add(&sum[i], part[i]);                 \
  } while (0)
  /* level 0: walk outward from t = 0 until the terms are negligible and
   * past the range where the tails e^{-a |v|}, e^{-b v} still carry mass
   * (with a = 1e-20 that tail is 1e20 wide and far below the peak, but
   * not negligible in the moments) */
  double vtail = 50.0 / fmin(a, b);
  ADD_NODE(0.0);
  for (int k = 1; k < MAXNODE; k++) {
    ADD_NODE(k * h);
    kmax = k;
    if (part[0] <= 1e-20 * ab_sum_value(&sum[0]) &&
        w * exp(0.5 * M_PI * sinh(k * h)) >= vtail)
      break;
  }
  for (int k = 1; k < MAXNODE; k++) {
    ADD_NODE(-k * h);
    kmin = -k;
    if (part[0] <= 1e-20 * ab_sum_value(&sum[0])) break;
  }
  for (int i = 0; i < 3; i++) est[i] = h * ab_sum_value(&sum[i]);
  for (int lev = 1; lev < LEVELS; lev++) {
    h *= 0.5;
    kmin *= 2;
    kmax *= 2;
    for (int k = kmin + 1; k < kmax; k += 2) ADD_NODE(k * h);
    double prev[3] = {est[0], est[1], est[2]};
    for (int i = 0; i < 3; i++) est[i] = h * ab_sum_value(&sum[i]);
    double scale1 = small ? fabs(est[1]) : sqrt(est[0] * est[2]);
    if (lev >= 2 && fabs(est[0] - prev[0]) <= 1e-8 * est[0] &&
        fabs(est[1] - prev[1]) <= 1e-8 * scale1 &&
        fabs(est[2] - prev[2]) <= 1e-8 * est[2])
      break;
  }
#undef ADD_NODE
  if (!(est[0] > 0.0) || !isfinite(est[0]) || !isfinite(est[1]) ||
      !isfinite(est[2]))
    return AB_EDOM;
  *logw = log(w); /* the sums are in units of w */
  return AB_OK;
}

static int beta_integrals(double a, double b, double xh, double yh,
                          double *logj, double *m1, double *m2) {
  double est[3], logw;
  int st = beta_quadrature(a, b, xh, yh, 0, 0.0, &logw, est);
  if (st) return st;
  *logj = log(est[0]) + logw;
  *m1 = est[1] / est[0]; /* E_l d and E_l d^2 */
  *m2 = est[2] / est[0];
  return AB_OK;
}

/* The small-parameter form: a law with its mass near 0 (a small), where
 * psi ~ a is tiny against log J_0 ~ log(1/a) and the difference of logs
 * of the quadrature form would lose digits.  With G = E e^{lX},
 *   G = 1 + l m + J,  J = E[e^{lX} - 1 - lX] >= 0,
 *   psi  = log(1 + l m) - l m + log1p(J / (1 + l m)),
 *   psi' = (S2 - m (l m + J)) / G,  S2 = E[X (e^{lX} - 1)],
 *   psi'' = S3 / G - (E_l X)^2,     S3 = E[X^2 e^{lX}],
 * each integral relative to its own size, as int x^(a+2) y^b e^{lx}
 * [l^2 phi1(lx), l phi2(lx), 1] du / B(a, b) over the maximum of
 * x^(a+2) y^b e^{lx} (the Bregman form above with a + 2).  Needs
 * 1 + l m >= 1/2; returns -1 (use the quadrature form) once J would
 * overflow, where psi is large and the quadrature form exact. */
static int beta_small(double a, double b, double l, ab_cgf *out,
                      double *ex_out, double *cond) {
  double c = a + b, m = a / c, ap = a + 2.0, cp = ap + b;
  double xh, yh, delta, est[3], logw;
  gsl_sf_result lnb;
  beta_mode(ap, b, l, ap / cp, b / cp, &xh, &yh, &delta);
  int st = beta_quadrature(ap, b, xh, yh, 1, l, &logw, est);
  if (st) return st;
  if (gsl_sf_lnbeta_e(a, b, &lnb) != GSL_SUCCESS) return AB_EGSL;
  /* log of the larger of x^, y^ from the smaller: b log y^ with y^ ~ 1
   * and b ~ 1e8 needs log1p(-x^), not the log of the rounded y^ */
  double lx = xh <= 0.5 ? log(xh) : log1p(-yh);
  double ly = xh <= 0.5 ? log1p(-xh) : log(yh);
  double lg = ap * lx + b * ly + l * xh - lnb.val + logw;
  double ll = log(fabs(l));
  if (2.0 * ll + lg + log(est[0]) > 600.0) return -1;
  double j = exp(2.0 * ll + lg + log(est[0]));
  double s2 = copysign(exp(ll + lg + log(est[1])), l);
  double s3 = exp(lg + log(est[2]));
  double lm = l * m, g = 1.0 + lm + j;
  out->psi = ab_log1pmx(lm) + log1p(j / (1.0 + lm));
  out->dpsi = (s2 - m * (lm + j)) / g;
  double ex = (m + s2) / g;
  out->d2psi = fmax(s3 / g - ex * ex, 0.0);
  *ex_out = ex;
  /* psi = log(1 + l m + J) - l m cancels when l < 0 and J ~ -l m >> psi
   * (for l > 0 both terms of psi grow together) */
  *cond = l < 0 ? j / out->psi : 1.0;
  out->kl = l * out->dpsi - out->psi;
  return AB_OK;
}

/* The quadrature form (regime 2 above). */
static int beta_tilted(const ab_tail *t, double l, ab_cgf *out) {
  double a = t->par[0], b = t->par[1], c = a + b, m = a / c, mc = b / c;
  double xh, yh, delta, lj, ed, ed2;
  beta_mode(a, b, l, m, mc, &xh, &yh, &delta);
  int st = beta_integrals(a, b, xh, yh, &lj, &ed, &ed2);
  if (st) return st;
  double var = fmax(ed2 - ed * ed, 0.0);
  double r1 = delta / m, r2 = -delta / mc, lx;
  if (fabs(r1) <= 0.5 && fabs(r2) <= 0.5) {
    lx = a * ab_log1pmx(r1) + b * ab_log1pmx(r2);
  } else {
    lx = a * (fabs(r1) <= 0.5 ? log1p(r1) : log(xh / m)) +
         b * (fabs(r2) <= 0.5 ? log1p(r2) : log(yh / mc));
  }
  lj -= t->aux[2];
  out->psi = lx + l * delta + lj;
  out->dpsi = delta + ed;
  out->d2psi = var;
  out->kl = l * ed - lx - lj;
  return AB_OK;
}

int ab_cgf_beta(const ab_tail *t, double l, double gap, ab_cgf *out) {
  double a = t->par[0], b = t->par[1], c = a + b, m = a / c, mc = b / c;
  double sd = t->aux[0];
  (void)gap;
  if (fabs(l) <= t->aux[1]) {
    /* S = G - 1 = var l^2 P0, G' = var l P1, G'' = var P2 with
     * P_j = sum_k k!/(k-j)! q_k l^(k-2) = sum_k k!/(k-j)! p_k (l/L)^(k-2);
     * var l^2 as (sd l)^2 */
    const double *q = t->coef;
    double p0 = 0, p1 = 0, p2 = 0, s = sd * l, x = l / t->aux[3];
    for (int k = AB_BETA_TERMS - 1; k >= 2; k--) {
      p0 = p0 * x + q[k];
      p1 = p1 * x + k * q[k];
      p2 = p2 * x + k * (k - 1.0) * q[k];
    }
    double sum = s * s * p0, gg = 1.0 + sum, r1 = s * p1 / gg; /* psi'/sd */
    out->psi = log1p(sum);
    out->dpsi = sd * r1;
    out->d2psi = sd * sd * fmax(p2 / gg - r1 * r1, 0.0);
    out->kl = s * r1 - out->psi;
    return AB_OK;
  }
  /* a law with its mass at one end: the small-parameter form, on the
   * mirrored law X -> 1 - X (l -> -l) when b is the small one */
  if (fmin(a, b) < BETA_SMALL) {
    int mirror = b < a;
    double s = mirror ? b : a, ls = mirror ? -l : l, ms = mirror ? mc : m;
    double ex, cond;
    /* (beyond l ~ 100 c the tilt has moved the mass: psi ~ l is large and
     * the quadrature form exact; a failure there falls back to it too) */
    int st = ls * ms >= -0.5 && ls <= 100.0 * (c + 1.0)
                 ? beta_small(s, mirror ? a : b, ls, out, &ex, &cond)
                 : -1;
    if (st == 0 && cond <= 1e3) {
      if (mirror) out->dpsi = -out->dpsi;
      if (ex > 0.5) {
        /* the tilt moved the mass to the far end: psi'' = E X^2 - (E X)^2
         * cancels there, the quadrature form has it without */
        ab_cgf q;
        int sq = beta_tilted(t, l, &q);
        if (sq) return sq;
        out->d2psi = q.d2psi;
      }
      return AB_OK;
    }
  }
  /* far tilts: 1F1(b; c; -l) ~ Gamma(c) / Gamma(a) l^-b (1 + O(b (1-a) / l))
   * for Y = 1 - X (l > 0; l < 0 mirrors), below 1e-20 relative here,
   * where the quadrature's x^ or y^ would leave the normal doubles */
  double big = 1e20 * (1.0 + a) * (1.0 + b);
  if (fabs(l) >= big) {
    double ll = fabs(l), s = l > 0 ? b : a, r = l > 0 ? a : b;
    double ms = l > 0 ? mc : m; /* the mean of the side the mass goes to */
    gsl_sf_result lp;
    if (gsl_sf_lnpoch_e(r, s, &lp) != GSL_SUCCESS) return AB_EGSL;
    out->psi = ll * ms - s * log(ll) + lp.val;
    out->dpsi = copysign(ms - s / ll, l);
    out->d2psi = (s / ll) / ll;
    out->kl = s * log(ll) - s - lp.val;
    return AB_OK;
  }
  return beta_tilted(t, l, out);
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
