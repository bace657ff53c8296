/*
 * tilt.c - the exact optimum of KL-regularised RL: the exponential tilt
 * pi(y) = ref(y) e^{lambda r(y)} / Z, lambda = 1/beta (DESIGN 3.1).
 *
 * A KL budget is turned into lambda by the frontier engine (frontier.c) on
 * the reference's finite law, the very solver behind tail:gain, so the tilt
 * and the frontier cannot disagree.  The policy itself is one log-sum-exp
 * pass shifted to the top reward.
 */
#include <stdlib.h>

#include "internal.h"

/* The tilt of a finite law, pi_i = p_i e^{x_i} / S, x_i = lambda (r_i - top)
 * <= 0 with top the largest reward of positive mass, S = sum p_j e^{x_j}:
 *  - x_i is a double-double (exact difference, fma for the product): for a
 *    policy entry near e^-700 the rounding of x alone would cost 700 ulps;
 *  - pi_i is the ratio p_i e^{x_i} / S, with the binary exponents of p_i and
 *    S moved into the exponential where a factor would underflow, so every
 *    entry whose value is a normal double keeps its digits.
 * The KL and the gain need l_i = log(pi_i / ref_i) to absolute accuracy
 * even where it is tiny, above all for the heaviest atom D (whose term
 * ref_D l_D^2 / 2 may carry the KL of a tilt that barely moves the law).
 * So l_i = y_i - log(S'/T) with y_i = lambda (r_i - r_D) (y_D = 0 exactly)
 * and log(S'/T) = log1p(U), U = sum ref_i expm1(y_i): l_D = -log1p(U) keeps
 * its digits however small.  Where U is not moderate, log(S'/T) =
 * lambda (top - r_D) + log(S/T), with log(S/T) = log1p(-W), W = sum ref_i
 * (1 - e^{x_i}) while W < 1/2; each l_i is taken from the shift nearer to
 * r_i (x_i - log(S/T) near the top).  Then the KL is the sum of the nonnegative
 * terms ref_i (t log t - t + 1), t = e^l, and the gain E_pi r - E_ref r =
 * sum ref_i expm1(l_i) (r_i - m) for any m (here the reference mean): no
 * two means are subtracted. */
typedef struct {
  const double *p, *r; /* p NULL: equal weights */
  size_t m;
  double lambda, lambda_lo, top, heavy, mean; /* heavy: r_D */
  int use_heavy; /* D holds at least a quarter of the mass */
  double total;   /* T = sum p */
  double sum;     /* S, scaled by 2^-scale */
  int scale;
  double log_s;   /* log(S / T) */
  double log_sd;  /* log(S' / T) */
  double variance; /* Var_pi r, from the second pass */
} tilt_law;

/* x = (lambda + lambda_lo) (r - s) as xh + xl; xh = +-inf where it
 * overflows.  lambda_lo carries the rounding of lambda = 1/beta. */
static void tilt_exponent(const tilt_law *L, double r, double s, double *xh,
                          double *xl) {
  double lambda = L->lambda, dh = r - s, h;
  *xl = 0.0;
  if (!isfinite(dh)) { /* r - s overflowed: halve both (exactly) */
    *xh = (2.0 * lambda) * (0.5 * r - 0.5 * s);
    return;
  }
  double bb = dh - r, dl = (r - (dh - bb)) + (-s - bb); /* TwoSum */
  h = lambda * dh;
  *xh = h;
  if (!(fabs(h) < 3000.0)) return; /* e^x is 0 or inf: no low part */
  *xl = lambda * dl + L->lambda_lo * dh;
  /* the rounding of the product costs |x| ulps of e^x: kept beyond |x| = 4 */
  if (fabs(h) > 4.0) *xl += fma(lambda, dh, -h);
}

/* p e^{x} 2^k without intermediate underflow: p = mp 2^kp, and e^x 2^(kp+k)
 * = e^{x + (kp + k) ln 2} with the argument kept as a double-double.  The
 * low part c = err + xl + j ln2_lo reaches 2e-7 for |j| ~ 1000 (ln2_lo is
 * 2e-10): e^c, not 1 + c, whose missing c^2 / 2 cost 1e-14 (a policy entry
 * 1 + 2.4e-15 when S and the entry were scaled by different j). */
static double scaled_weight(double p, double xh, double xl, int k) {
  int kp;
  double mp = frexp(p, &kp);
  int j = kp + k;
  if (!(xh > -1e4)) return 0.0; /* far below the smallest double */
  double jh = j * AB_LN2_HI, s = xh + jh;
  double err = fabs(xh) >= fabs(jh) ? (xh - s) + jh : (jh - s) + xh;
  if (s > 709.0) return INFINITY;
  double e = exp(s);
  return mp * (e + e * expm1(err + xl + j * AB_LN2_LO));
}

#define BLOCK 256

/* e^x and e^x - 1 for x = xh + xl (the second to 32 ulps at most). */
static void tilt_exp(double xh, double xl, double *e, double *em1) {
  if (xh > -AB_EM1X_SHORT && xh < AB_EM1X_SHORT) {
    double m = ab_em1x_series_short(xh) + xh;
    m += (1.0 + m) * xl;
    *em1 = m;
    *e = 1.0 + m;
  } else {
    *e = exp(xh) * (1.0 + xl);
    *em1 = *e - 1.0;
  }
}

/* First pass: S, log(S/T), log(S'/T); weights p e^x into w (if not NULL). */
static void tilt_sum(tilt_law *L, double *w) {
  ab_sum s = {0.0, 0.0}, loss = {0.0, 0.0};
  ab_sum u = {0.0, 0.0};
  double ptop = 0.0;
  int heavy = L->use_heavy;
  /* plain sums within blocks, compensated across them */
  for (size_t i0 = 0; i0 < L->m; i0 += BLOCK) {
    size_t i1 = i0 + BLOCK < L->m ? i0 + BLOCK : L->m;
    double bs = 0.0, bl = 0.0, bu = 0.0;
    for (size_t i = i0; i < i1; i++) {
      double p = L->p ? L->p[i] : 1.0, xh, xl, e, em1;
      if (p == 0.0) {
        if (w) w[i] = 0.0;
        continue;
      }
      if (L->r[i] == L->top) ptop += p;
      tilt_exponent(L, L->r[i], L->top, &xh, &xl);
      tilt_exp(xh, xl, &e, &em1);
      if (w) w[i] = p * e;
      bs += p * e;
      bl -= p * em1;
      if (heavy) {
        tilt_exponent(L, L->r[i], L->heavy, &xh, &xl);
        tilt_exp(xh, xl, &e, &em1);
        bu += p * em1;
      }
    }
    ab_sum_add(&s, bs);
    ab_sum_add(&loss, bl);
    ab_sum_add(&u, bu);
  }
  L->sum = ab_sum_value(&s);
  L->scale = 0;
  if (L->sum < 0x1p-900) {
    /* the top atoms are tiny: S again, scaled so that they weigh about 1 */
    int kt;
    frexp(ptop, &kt);
    L->scale = kt;
    s = (ab_sum){0.0, 0.0};
    for (size_t i = 0; i < L->m; i++) {
      double p = L->p ? L->p[i] : 1.0, xh, xl;
      if (p == 0.0) continue;
      tilt_exponent(L, L->r[i], L->top, &xh, &xl);
      ab_sum_add(&s, scaled_weight(p, xh, xl, -kt));
    }
    L->sum = ab_sum_value(&s);
  }
  double lossv = ab_sum_value(&loss) / L->total;
  if (lossv < 0.5)
    L->log_s = log1p(-lossv);
  else
    L->log_s = log(L->sum / L->total) + L->scale * AB_LN2_HI + L->scale * AB_LN2_LO;
  double uv = heavy ? ab_sum_value(&u) / L->total : NAN;
  if (uv >= -0.5 && uv < 1e300) {
    L->log_sd = log1p(uv);
  } else {
    L->use_heavy = 0;
    double xh, xl;
    tilt_exponent(L, L->top, L->heavy, &xh, &xl);
    L->log_sd = (xh + L->log_s) + xl;
  }
}

/* Second pass: the policy (from the weights w, if not NULL), the KL and
 * the gain. */
static void tilt_finish(tilt_law *L, double *w, double *kl, double *gain) {
  ab_sum k = {0.0, 0.0}, g = {0.0, 0.0}, v = {0.0, 0.0};
  int ks;
  double ms = frexp(L->sum, &ks), inv = 1.0 / L->sum, it = 1.0 / L->total;
  ks += L->scale; /* S = ms 2^ks */
  int fast = L->scale == 0 && L->sum >= 0x1p-900;
  for (size_t i0 = 0; i0 < L->m; i0 += BLOCK) {
    size_t i1 = i0 + BLOCK < L->m ? i0 + BLOCK : L->m;
    double bk = 0.0, bg = 0.0, bv = 0.0;
    for (size_t i = i0; i < i1; i++) {
      double p = L->p ? L->p[i] : 1.0, xh, xl, yh, yl, em1x, em1, t, term;
      if (p == 0.0) continue;
      tilt_exponent(L, L->r[i], L->top, &xh, &xl);
      if (w) {
        if (fast && w[i] >= 0x1p-969) w[i] *= inv;
        else w[i] = scaled_weight(p, xh, xl, -ks) / ms;
        /* an entry of a probability vector is at most 1: the weight and S
         * are rounded apart (scaled by different powers of 2), which may put
         * a lone top atom an ulp above */
        w[i] = fmin(w[i], 1.0);
      }
      /* log(pi_i / ref_i) from the nearer of the two shifts: the rounding of
       * the difference is relative to the shifted exponent */
      double l = (xh - L->log_s) + xl;
      if (L->use_heavy) {
        tilt_exponent(L, L->r[i], L->heavy, &yh, &yl);
        if (fabs(yh) < fabs(xh)) l = (yh - L->log_sd) + yl;
      }
      if (l == -INFINITY) { /* never drawn: t = 0 */
        em1 = -1.0;
        term = 1.0;
      } else if (fabs(l) < AB_EM1X_SHORT) {
        /* t log t - t + 1 = d^2 - t (e^l - 1 - l), d = t - 1: no cancellation */
        em1x = ab_em1x_series_short(l);
        em1 = em1x + l;
        t = 1.0 + em1;
        term = em1 * em1 - t * em1x;
      } else if (fabs(l) < 0.5) {
        ab_em1x(l, &em1x, &em1);
        t = 1.0 + em1;
        term = em1 * em1 - t * em1x;
      } else {
        /* t = pi / ref without an exp where the policy is at hand */
        t = w ? w[i] * L->total / p : exp(l);
        em1 = t - 1.0;
        term = t * l - em1;
      }
      double c = L->r[i] - L->mean;
      bk += p * term;
      bg += p * em1 * c;
      bv += p * (1.0 + em1) * c * c;
    }
    ab_sum_add(&k, bk * it);
    ab_sum_add(&g, bg * it);
    ab_sum_add(&v, bv * it);
  }
  *kl = fmax(ab_sum_value(&k), 0.0);
  *gain = ab_sum_value(&g);
  /* Var_pi r = E_pi (r - m)^2 - gain^2: the slope of KL in lambda */
  L->variance = fmax(ab_sum_value(&v) - *gain * *gain, 0.0);
}

/* log E_ref e^{lambda r} = lambda top + log(S/T) = lambda r_D + log(S'/T):
 * the form that cancels least, and where both cancel (the log near 0) the
 * unshifted log1p(sum ref expm1(lambda r)), if it cannot overflow. */
static double tilt_log_z(const tilt_law *L) {
  double a = L->lambda * L->top, b = L->lambda * L->heavy;
  double za = a + L->log_s, zb = b + L->log_sd;
  double ea = fabs(a) + fabs(L->log_s), eb = fabs(b) + fabs(L->log_sd);
  if (isnan(zb)) eb = INFINITY; /* inf - inf: the heavy shift overflowed */
  double z = ea <= eb ? za : zb, e = fmin(ea, eb), rmax = 0.0;
  if (e <= 4.0 * fabs(z)) return z;
  for (size_t i = 0; i < L->m; i++) rmax = fmax(rmax, fabs(L->r[i]));
  if (!(L->lambda * rmax < 700.0)) return z;
  ab_sum u = {0.0, 0.0};
  for (size_t i = 0; i < L->m; i++) {
    double p = L->p ? L->p[i] : 1.0, xh, xl, ex, em1;
    if (p == 0.0) continue;
    tilt_exponent(L, L->r[i], 0.0, &xh, &xl);
    tilt_exp(xh, xl, &ex, &em1);
    ab_sum_add(&u, p * em1);
  }
  double uv = ab_sum_value(&u) / L->total;
  return uv > -0.5 ? log1p(uv) : z;
}

/* The tilt at a finite lambda > 0 of the law p (NULL: equal weights) with
 * total T, mean m, top reward and heaviest atom (reward r_D, mass p_D):
 * policy (may be NULL), KL, gain, log Z; returns Var_pi r. */
typedef struct {
  double total, mean, top, heavy, heavy_mass;
} law_facts;

static double finite_tilt(const double *p, const double *r, size_t m,
                          const law_facts *f, double lambda, double lambda_lo,
                          double *policy, double *kl, double *gain,
                          double *log_z) {
  tilt_law L = {p, r, m, lambda, lambda_lo, f->top, f->heavy, f->mean, 0,
                f->total, 0.0, 0, 0.0, 0.0, 0.0};
  L.use_heavy = f->heavy_mass >= 0.25 * f->total;
  tilt_sum(&L, policy);
  tilt_finish(&L, policy, kl, gain);
  if (log_z) *log_z = tilt_log_z(&L);
  return L.variance;
}

/* The checks of a discrete law (as ab_tail_discrete makes them) and its
 * facts; ptop: the mass of the top reward, as a fraction. */
static int check_law(const double *p, const double *r, size_t m,
                     law_facts *f, double *ptop) {
  ab_sum total = {0.0, 0.0}, s = {0.0, 0.0}, at = {0.0, 0.0};
  double low = INFINITY, big = 0.0;
  int e;
  if (m == 0 || !r) return AB_EDOM;
  f->top = -INFINITY;
  f->heavy_mass = -1.0;
  for (size_t i = 0; i < m; i++) {
    double w = p ? p[i] : 1.0;
    if (!(w >= 0.0) || !isfinite(w) || !isfinite(r[i])) return AB_EDOM;
    ab_sum_add(&total, w);
    big = fmax(big, fabs(r[i]));
    if (w > 0.0 && r[i] > f->top) f->top = r[i];
    if (w > 0.0 && r[i] < low) low = r[i];
    if (w > f->heavy_mass) {
      f->heavy_mass = w;
      f->heavy = r[i];
    }
  }
  f->total = ab_sum_value(&total);
  if (p && !ab_sums_to_one(f->total)) return AB_EDOM;
  /* the mean with the rewards scaled by a power of two (no overflow near
   * DBL_MAX), kept inside the range of the atoms (a constant law is its
   * value, not that value rounded) */
  frexp(big, &e);
  for (size_t i = 0; i < m; i++)
    ab_sum_add(&s, (p ? p[i] : 1.0) * ldexp(r[i], -e));
  f->mean = low == f->top ? low
                          : fmin(fmax(ldexp(ab_sum_value(&s) / f->total, e),
                                      low), f->top);
  if (ptop) {
    for (size_t i = 0; i < m; i++)
      if (r[i] == f->top) ab_sum_add(&at, p ? p[i] : 1.0);
    *ptop = ab_sum_value(&at) / f->total;
  }
  return AB_OK;
}

/* The tilt at a finite lambda > 0 of m equally weighted rewards (one
 * prompt's empirical law, DESIGN 3.7): KL, gain and, if w is not NULL, the
 * policy; returns Var_pi r (the slope dKL/dlambda over lambda).  The same
 * passes as ab_tilt_policy's; AB_EDOM for a reward that is not finite. */
int ab_tilt_equal(const double *r, size_t m, double lambda, double *w,
                  double *kl, double *gain, double *variance) {
  law_facts f;
  int st = check_law(NULL, r, m, &f, NULL);
  if (st) return st;
  *variance = finite_tilt(NULL, r, m, &f, lambda, 0.0, w, kl, gain, NULL);
  return AB_OK;
}

/* The top atoms (lambda = inf) with the mass in proportion to the
 * reference; or the reference itself (lambda = 0). */
static void limit_weights(const double *p, const double *r, size_t m,
                          double lambda, double top, double *policy) {
  ab_sum s = {0.0, 0.0};
  for (size_t i = 0; i < m; i++) {
    double pi = p ? p[i] : 1.0;
    policy[i] = (lambda == 0.0 || r[i] == top) ? pi : 0.0;
    ab_sum_add(&s, policy[i]);
  }
  double total = ab_sum_value(&s);
  for (size_t i = 0; i < m; i++) policy[i] /= total;
}

/* The frontier engine solves KL(lambda) = budget on the law's cumulant;
 * where that KL has lost digits (a tilt that barely moves a skewed law,
 * e.g. probs {1 - 1e-12, 1e-12}), the tilt's own KL is off the budget.
 * Newton steps in log lambda on the tilt's own KL bring it back to 1e-13
 * where it is off by more than the engine's 1e-10. */
static void refine_lambda(const double *p, const double *r, size_t m,
                          const law_facts *f, double budget, double var,
                          double *policy, ab_tilt_summary *out) {
  double l0 = out->lambda, h0 = log(out->kl / budget);
  /* the engine's own tolerance is 1e-10: within it, no extra passes */
  if (!(budget > 0.0) || !isfinite(h0) || fabs(h0) <= 1e-10) return;
  for (int k = 0; k < 12 && fabs(h0) > 1e-13; k++) {
    /* d log KL / d log lambda = lambda^2 Var_pi r / KL (dKL = lambda
     * Var_pi dlambda): Newton in log lambda */
    double slope = l0 * l0 * var / out->kl;
    if (!(slope > 0.0) || !isfinite(slope)) slope = 2.0;
    double l1 = l0 * exp(-h0 / slope);
    ab_tilt_summary t = *out;
    var = finite_tilt(p, r, m, f, l1, 0.0, policy, &t.kl, &t.gain, &t.log_z);
    double h1 = log(t.kl / budget);
    if (!isfinite(h1) || fabs(h1) >= fabs(h0)) break;
    t.lambda = l1;
    t.beta = 1.0 / l1;
    *out = t;
    l0 = l1;
    h0 = h1;
  }
}

int ab_tilt_policy(const double *probs, const double *rewards, size_t m,
                   int mode, double value, double *policy,
                   ab_tilt_summary *s) {
  return ab_tilt_policy_ws(NULL, probs, rewards, m, mode, value, policy, s);
}

int ab_tilt_policy_ws(ab_workspace *ws, const double *probs,
                      const double *rewards, size_t m, int mode, double value,
                      double *policy, ab_tilt_summary *s) {
  double lambda, ptop;
  law_facts f;
  if (mode == AB_TILT_BETA ? !(value > 0.0) : !(value >= 0.0)) return AB_EDOM;
  if (mode != AB_TILT_BETA && mode != AB_TILT_KL) return AB_EDOM;
  if (!probs) return AB_EDOM;
  int st = check_law(probs, rewards, m, &f, &ptop);
  if (st) return st;
  if (mode == AB_TILT_BETA) {
    lambda = 1.0 / value;
  } else { /* the frontier engine turns the budget into lambda */
    /* the law as a tail on the stack, its arrays in scratch */
    ab_tail t;
    size_t bytes = 2 * m * sizeof(double);
    double *x = m <= SIZE_MAX / 16 ? ab_ws_buffer(ws, bytes) : NULL;
    if (!x) return AB_ENOMEM;
    st = ab_tail_discrete_in(&t, rewards, probs, m, x, x + m);
    if (!st) st = ab_tail_tilt(&t, AB_GAIN, value, &lambda);
    ab_ws_buffer_done(ws, x, bytes);
    if (st) return st;
  }
  ab_tilt_summary out = {1.0 / lambda, lambda, 0.0, 0.0, 0.0};
  if (isinf(lambda)) {
    limit_weights(probs, rewards, m, lambda, f.top, policy);
    out.kl = -log(ptop);
    /* the mean is at most the top reward: a rounded mean is not above it */
    out.gain = fmax(f.top - f.mean, 0.0);
    out.log_z = INFINITY;
  } else if (lambda > 0.0) {
    /* lambda = 1/beta carries its rounding along: x = lambda (r - top)
     * reaches -700 for entries that are still normal doubles */
    double lo = mode == AB_TILT_BETA ? fma(-lambda, value, 1.0) / value : 0.0;
    double var = finite_tilt(probs, rewards, m, &f, lambda, lo, policy,
                             &out.kl, &out.gain, &out.log_z);
    if (mode == AB_TILT_KL)
      refine_lambda(probs, rewards, m, &f, value, var, policy, &out);
  } else { /* beta = inf: no tilt, the reference itself */
    limit_weights(probs, rewards, m, 0.0, f.top, policy);
  }
  if (s) *s = out;
  return AB_OK;
}

/* The tilt of a tail's finite law (values x: its centred atoms, or their
 * mirror image) at a finite lambda > 0. */
static void tail_tilt(const ab_tail *t, const double *x, double lambda,
                      double *policy, double *kl) {
  law_facts f;
  double gain;
  check_law(t->w, x, t->n, &f, NULL); /* the tail's law was checked */
  finite_tilt(t->w, x, t->n, &f, lambda, 0.0, policy, kl, &gain, NULL);
}

int ab_tail_tilt_kl(const ab_tail *t, double lambda, double *kl) {
  ab_cgf c;
  if (isnan(lambda) || !t->cgf) return t->cgf ? AB_EDOM : AB_EUNDEF;
  if (lambda < 0.0 && !t->two_sided) return AB_EUNDEF;
  if (isinf(lambda)) {
    *kl = ab_saturation_kl(t, lambda > 0 ? 1 : -1);
    return AB_OK;
  }
  if (lambda >= t->lmax || lambda <= t->lmin) {
    *kl = INFINITY; /* beyond the domain no tilt exists: no finite penalty */
    return AB_OK;
  }
  if (ab_is_finite_law(t) && lambda != 0.0) {
    /* the tilt's own pass: log Z and the KL terms without cancellation */
    if (lambda > 0.0) {
      tail_tilt(t, t->x, lambda, NULL, kl);
    } else { /* the lower tilt: rewards mirrored */
      double *neg = ab_malloc_n(t->n, sizeof *neg);
      if (!neg) return AB_ENOMEM;
      for (size_t i = 0; i < t->n; i++) neg[i] = -t->x[i];
      tail_tilt(t, neg, -lambda, NULL, kl);
      ab_free(neg, t->n * sizeof *neg);
    }
    return AB_OK;
  }
  int st = t->cgf(t, lambda, lambda >= 0 ? t->lmax - lambda : lambda - t->lmin,
                  &c);
  if (st) return st;
  *kl = c.kl;
  return AB_OK;
}

/* An assumption class: its cumulant is a bound, not a law's. */
static int is_class(const ab_tail *t) {
  return t->kind == AB_KIND_SUBGAUSSIAN || t->kind == AB_KIND_SUBGAMMA ||
         t->kind == AB_KIND_SUBEXPONENTIAL || t->kind == AB_KIND_BOUNDED;
}

/* psi(x) - a psi(l), +inf where x leaves the domain of psi */
static int tilt_log_moment(const ab_tail *t, double x, double a, double pl,
                           double *out) {
  double px;
  if (!(x < t->lmax && x > t->lmin)) {
    *out = INFINITY;
    return AB_OK;
  }
  int st = ab_tail_cumulant_eval(t, 0, x, &px);
  if (st) return st;
  *out = px - a * pl;
  return AB_OK;
}

int ab_tail_tilt_divergence(const ab_tail *t, double lambda,
                            const ab_family *f, double *out) {
  int st = ab_family_check(f);
  if (st) return st;
  if (!t->cgf || is_class(t)) return AB_EUNDEF;
  if (isnan(lambda)) return AB_EDOM;
  if (!(lambda < t->lmax && lambda > t->lmin)) return AB_EDOM;
  if (lambda == 0.0) {
    *out = 0.0;
    return AB_OK;
  }
  double pl, v;
  if ((st = ab_tail_cumulant_eval(t, 0, lambda, &pl))) return st;
  double a = f->alpha;
  switch (f->kind) {
  case AB_KL:
    return ab_tail_tilt_kl(t, lambda, out);
  case AB_REVERSE_KL: /* E_ref[-log g] = psi(l) */
    *out = pl;
    return AB_OK;
  case AB_CHI2: /* E g^2 - 1 */
    if ((st = tilt_log_moment(t, 2.0 * lambda, 2.0, pl, &v))) return st;
    *out = expm1(v);
    return AB_OK;
  case AB_HELLINGER: /* 1 - E sqrt g */
    if ((st = tilt_log_moment(t, 0.5 * lambda, 0.5, pl, &v))) return st;
    *out = -expm1(v);
    return AB_OK;
  case AB_RENYI:
  case AB_ALPHA:
    if (a == 1.0) return ab_tail_tilt_kl(t, lambda, out);
    if (f->kind == AB_ALPHA && a == 0.0) {
      *out = pl;
      return AB_OK;
    }
    if (isinf(a)) return AB_EUNDEF; /* log ess sup g: unbounded for most laws */
    if ((st = tilt_log_moment(t, a * lambda, a, pl, &v))) return st;
    *out = f->kind == AB_RENYI ? v / (a - 1.0)
                               : expm1(v) / a / (a - 1.0);
    if (*out < 0.0) *out = 0.0; /* a rounding below 0 of a tiny divergence */
    return AB_OK;
  default:
    return AB_EUNDEF;
  }
}

int ab_tilt_compare_bon(const ab_tail *t, double n, ab_bon_tilt *out) {
  ab_family kl = {AB_KL, 1.0, NULL, NULL};
  double lambda;
  int st;
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  if (!t->cgf || is_class(t)) return AB_EUNDEF;
  if (ab_is_finite_law(t)) {
    /* exact with ties: both laws on the atoms, their KL by summation */
    size_t m = t->n;
    double *w = ab_malloc_n(m, sizeof *w), *bon = ab_malloc_n(m, sizeof *bon);
    double *tilt = ab_malloc_n(m, sizeof *tilt);
    ab_bon_summary bs;
    double tilt_kl;
    if (!w || !bon || !tilt) {
      st = AB_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < m; i++) w[i] = t->w ? t->w[i] : 1.0 / (double)m;
    if ((st = ab_bon_policy(w, t->x, m, n, bon, &bs))) goto done;
    out->kl = bs.kl;
    out->bon_gain = bs.mean; /* the atoms are centred */
    if ((st = ab_frontier_bound(t, AB_GAIN, bs.kl, &out->tilt_gain, &lambda,
                                NULL)))
      goto done;
    if (isinf(lambda) || lambda == 0.0)
      limit_weights(w, t->x, m, lambda, t->sup, tilt);
    else
      tail_tilt(t, t->x, lambda, tilt, &tilt_kl);
    out->beta = 1.0 / lambda;
    st = ab_divergence(bon, tilt, m, &kl, &out->kl_bon_tilt);
  done:
    ab_free(w, m * sizeof *w);
    ab_free(bon, m * sizeof *bon);
    ab_free(tilt, m * sizeof *tilt);
    return st;
  }
  /* a continuous law: KL(bon || tilt) = KL - lambda E_bon[R - E R] + psi */
  if ((st = ab_bon_divergence(n, &kl, AB_CLOSED, &out->kl, NULL))) return st;
  if ((st = ab_bon_expected_gain(t, n, AB_CLOSED, &out->bon_gain))) return st;
  if ((st = ab_frontier_bound(t, AB_GAIN, out->kl, &out->tilt_gain, &lambda,
                              NULL)))
    return st;
  out->beta = 1.0 / lambda;
  if (lambda == 0.0) {
    out->kl_bon_tilt = 0.0;
    return AB_OK;
  }
  ab_cgf c;
  if ((st = t->cgf(t, lambda, t->lmax - lambda, &c))) return st;
  out->tilt_gain = c.dpsi;
  /* KL - lambda bon_gain + psi with KL = lambda psi' - psi: the difference
   * of the two gains times lambda, without the cancellation of KL against
   * psi (both huge once lambda is); >= 0, as the tilt is the optimum, so a
   * negative rounding of two equal gains is 0 */
  out->kl_bon_tilt = fmax(0.0, lambda * (c.dpsi - out->bon_gain));
  return AB_OK;
}

/* ---- penalty and budget, element by element ------------------------------ */

int ab_tilt_kl_vec(const ab_tail *t, const double *beta, size_t n, double *kl,
                   size_t *failed_at) {
  for (size_t i = 0; i < n; i++) {
    int st =
        beta[i] > 0.0 ? ab_tail_tilt_kl(t, 1.0 / beta[i], &kl[i]) : AB_EDOM;
    if (st) {
      if (failed_at) *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

int ab_tilt_beta_vec(const ab_tail *t, const double *kl, size_t n, double *beta,
                     size_t *failed_at) {
  int st = ab_tail_tilt_vec(t, AB_GAIN, kl, n, beta, failed_at);
  if (st) return st;
  for (size_t i = 0; i < n; i++)
    beta[i] = 1.0 / beta[i];
  return AB_OK;
}
