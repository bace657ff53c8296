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
#include <gsl/gsl_sf_psi.h>
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

/* Renyi D_a(Beta(n,1) || U) = (a log n - log(1 + a (n-1))) / (a - 1), for any
 * real a with 1 + a (n-1) > 0 (negative orders serve the alpha family). */
static double bon_renyi(double a, double n) {
  double e = n - 1.0;
  if (e == 0.0) return 0.0;
  if (isinf(a)) return log1p(e);
  if (a == 1.0) return bon_kl(n);
  if (!(1.0 + a * e > 0.0)) return INFINITY;
  if (fabs(a - 1.0) < 0.5) {
    /* log n - log1p(d c) / d, d = a - 1, c = (n-1)/n */
    double d = a - 1.0, c = e / n;
    if (n < 2.0) return -ab_log1pmx(-c) - ab_log1pmx(d * c) / d;
    double y = d * c;
    return log(n) - c * (y == 0.0 ? 1.0 : log1p(y) / y);
  }
  if (e < 1.0) return (a * ab_log1pmx(e) - ab_log1pmx(a * e)) / (a - 1.0);
  double ln = log1p(e), ae = a * e;
  double lae = ae > 1e300 ? log(a) + log(e) : log1p(ae);
  if (a > 1.0) return ln + (ln - lae) / (a - 1.0);
  return (a * ln - lae) / (a - 1.0);
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
    *out = e * e / (1.0 + 2.0 * e);
    return AB_OK;
  case AB_HELLINGER: {
    double r = e / (sqrt(n) + 1.0);
    *out = r * r / (n + 1.0);
    return AB_OK;
  }
  case AB_TV:
    *out = e == 0.0 ? 0.0 : (e / n) * exp(-log1p(e) / e);
    return AB_OK;
  case AB_RENYI:
    *out = bon_renyi(f->alpha, n);
    return AB_OK;
  case AB_ALPHA: {
    double a = f->alpha;
    if (a == 1.0) *out = bon_kl(n);
    else if (a == 0.0) *out = -ab_log1pmx(e);
    else {
      /* int t^a = n^a / (1 + a(n-1)) = exp((a-1) D_a) */
      double r = bon_renyi(a, n);
      *out = isinf(r) ? INFINITY : expm1((a - 1.0) * r) / (a * (a - 1.0));
    }
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
static int integral(double n, const ab_family *f, double *out, double *abserr) {
  double e = n - 1.0, sum = 0.0, err = 0.0;
  integrand_ctx c = {f, n, e, log1p(e), 0, AB_OK};
  if (e == 0.0) {
    *out = 0.0;
    if (abserr) *abserr = 0.0;
    return AB_OK;
  }
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(QUAD_LIMIT);
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
  gsl_integration_workspace_free(ws);
  if (st) return st;
  if (!(err <= 1e-10 * fabs(sum)) && isfinite(sum) && sum > 1e-300)
    return AB_ENOCONV;
  *out = sum;
  if (abserr) *abserr = err;
  return AB_OK;
}

int ab_bon_divergence(double n, const ab_family *f, int method, double *out,
                      double *abserr) {
  int st = ab_family_check(f);
  if (st) return st;
  if ((st = check_n(n))) return st;
  if (abserr) *abserr = 0.0;
  if (method == AB_CLOSED && closed_divergence(n, f, out) != -1) return AB_OK;
  if (f->kind == AB_RENYI) {
    double a = f->alpha, am;
    if (isinf(a)) {
      *out = log(n); /* ess sup of the ratio; no integral */
      return AB_OK;
    }
    if (a == 1.0) {
      ab_family kl = {AB_KL, 1.0, NULL, NULL};
      return integral(n, &kl, out, abserr);
    }
    /* D_a = log M / (a-1) with M = int t^a; where M is near 1, from the
     * Amari-alpha divergence A instead, M = 1 + a (a-1) A, which keeps the
     * digits that 1 + (M - 1) would lose */
    ab_family moment = {AB_MOMENT, a, NULL, NULL};
    st = integral(n, &moment, &am, abserr);
    if (st) return st;
    if (fabs(am - 1.0) > 0.25 || isinf(am)) {
      *out = log(am) / (a - 1.0);
      return AB_OK;
    }
    ab_family alpha = {AB_ALPHA, a, NULL, NULL};
    st = integral(n, &alpha, &am, abserr);
    if (st) return st;
    *out = log1p(a * (a - 1.0) * am) / (a - 1.0);
    return AB_OK;
  }
  return integral(n, f, out, abserr);
}

int ab_bon_win_rate(double n, double *out) {
  if (check_n(n)) return AB_EDOM;
  *out = n / (n + 1.0);
  return AB_OK;
}

/* (1-e)^n (log n + (n-1) log(1-e) - (n-1)/n) + (1 - (1-e)^n) log((1-(1-e)^n)/e) */
int ab_bon_kl_estimate(double eps, double n, double *out) {
  if (check_n(n) || !(eps >= 0.0 && eps <= 1.0)) return AB_EDOM;
  if (eps == 0.0) {
    *out = bon_kl(n);
    return AB_OK;
  }
  if (eps == 1.0 || n == 1.0) {
    *out = 0.0;
    return AB_OK;
  }
  double l1e = log1p(-eps);        /* log(1 - eps) */
  double c = exp(n * l1e);         /* (1 - eps)^n */
  double omc = -expm1(n * l1e);    /* 1 - (1 - eps)^n */
  double first = c == 0.0 ? 0.0 : c * (bon_kl(n) + (n - 1.0) * l1e);
  *out = first + omc * (log(omc) - log(eps));
  return AB_OK;
}

/* ---- a discrete reference: groups of tied rewards ------------------------- */

/* Walking the groups of tied rewards from the top: with the upper-tail mass
 * above the group sa = P(R > r) and including it sb = P(R >= r), its
 * best-of-n mass is F<=^n - F<^n = e^A (1 - e^{B-A}), A = n log1p(-sa),
 * B = n log1p(-sb), with no 1 - (1-x)^n cancellation; the next group down
 * has A = this B, so each group costs one log1p and one expm1. */
typedef struct {
  double n, above, cabove; /* sa, Neumaier-compensated */
  double A, eA;            /* A and e^A of the current group */
  unsigned step;
} walker;

static void walk_start(walker *w, double n) {
  w->n = n;
  w->above = w->cabove = 0.0;
  w->A = 0.0;
  w->eA = 1.0;
  w->step = 0;
}

/* The mass of the next group (probability q) down; advances the walker. */
static double walk_group(walker *w, double q) {
  double sb = w->above + w->cabove + q, em1x, em1;
  double B = sb >= 1.0 ? -INFINITY : w->n * log1p(-sb);
  ab_em1x(B - w->A, &em1x, &em1); /* inline expm1: B - A is mostly small */
  double g = w->eA * -em1;
  double u = w->above + q;
  w->cabove += (w->above >= q) ? (w->above - u) + q : (q - u) + w->above;
  w->above = u;
  w->A = B;
  /* e^B = e^A (1 + expm1(B - A)) costs no exp; a fresh exp every 64 groups
   * keeps the drift of the products below 64 ulps */
  w->eA = (++w->step & 63) ? w->eA * (1.0 + em1) : exp(B);
  return g;
}

/* q (t log t - t + 1) at t = g / q, the KL term in its nonnegative form */
static double kl_term(double q, double g) {
  if (g == 0.0) return q;
  double iq = 1.0 / q, d = (g - q) * iq, t = g * iq;
  if (fabs(d) < 0.5) return q * (t * ab_log1pmx_fast(d) + d * d);
  return q * (t * log(t) - d);
}

int ab_bon_policy(const double *probs, const double *rewards, size_t m,
                  double n, double *policy, ab_bon_summary *s) {
  double total = 0.0;
  if (check_n(n) || m == 0 || !probs || !rewards) return AB_EDOM;
  /* records (reward, probability, index), checked as they are filled, then
   * sorted by reward */
  ab_record *k = ab_alloc_large(m * sizeof *k);
  if (!k) return AB_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    if (!(probs[i] >= 0.0) || !isfinite(probs[i]) || !isfinite(rewards[i])) {
      free(k);
      return AB_EDOM;
    }
    total += probs[i];
    k[i].key = ab_sort_key(rewards[i]);
    k[i].a = probs[i];
    k[i].b = (double)i;
  }
  if (!(fabs(total - 1.0) <= 1e-9)) {
    free(k);
    return AB_EDOM;
  }
  if (total != 1.0)
    for (size_t i = 0; i < m; i++) k[i].a /= total;
  if (n == 1.0) { /* no selection: the reference itself, exactly */
    double mean = 0.0;
    for (size_t i = 0; i < m; i++) {
      policy[i] = k[i].a;
      mean += k[i].a * rewards[i];
    }
    free(k);
    if (s) {
      s->kl = 0.0;
      s->win_rate = 0.5;
      s->mean = mean;
      s->kl_bound = 0.0;
    }
    return AB_OK;
  }
  if (ab_sort_records(k, m)) {
    free(k);
    return AB_ENOMEM;
  }
  walker w;
  walk_start(&w, n);
  double kl = 0.0, win = 0.0, mean = 0.0;
  size_t hi = m;
  while (hi > 0) {
    size_t lo = hi - 1;
    double q = k[lo].a;
    while (lo > 0 && k[lo - 1].key == k[hi - 1].key) q += k[--lo].a;
    /* P(a reference sample is below the group) = 1 - sb: its absolute
     * error is a rounding of 1, harmless in a sum of terms <= the mass */
    double below = 1.0 - (w.above + w.cabove + q);
    double g = walk_group(&w, q);
    if (lo + 1 == hi) {
      policy[(size_t)k[lo].b] = g; /* no tie: the outcome is its group */
    } else {
      /* the share of the outcome in its group first: g p / q underflows */
      double iq = q > 0.0 ? 1.0 / q : 0.0;
      for (size_t j = lo; j < hi; j++) policy[(size_t)k[j].b] = g * (k[j].a * iq);
    }
    if (q > 0.0) kl += kl_term(q, g);
    mean += g * ab_sort_unkey(k[lo].key);
    win += g * (fmax(below, 0.0) + 0.5 * q);
    hi = lo;
  }
  free(k);
  if (s) {
    s->kl = kl;
    s->win_rate = win;
    s->mean = mean;
    s->kl_bound = bon_kl(n);
  }
  return AB_OK;
}

/* Exact gain of best-of-n for a finite law: sum_g (v_g - mean) bon(g). */
static int finite_gain(const ab_tail *t, double n, double *out) {
  size_t m = t->n;
  ab_record *k = ab_alloc_large(m * sizeof *k);
  if (!k) return AB_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    k[i].key = ab_sort_key(t->x[i]);
    k[i].a = t->w ? t->w[i] : 1.0 / (double)m;
  }
  if (ab_sort_records(k, m)) {
    free(k);
    return AB_ENOMEM;
  }
  walker w;
  walk_start(&w, n);
  ab_sum sum = {0.0, 0.0};
  size_t hi = m;
  while (hi > 0) {
    size_t lo = hi - 1;
    double q = 0.0;
    while (lo > 0 && k[lo - 1].key == k[hi - 1].key) lo--;
    for (size_t j = lo; j < hi; j++) q += k[j].a;
    ab_sum_add(&sum, walk_group(&w, q) * ab_sort_unkey(k[lo].key));
    hi = lo;
  }
  free(k);
  *out = ab_sum_value(&sum);
  return AB_OK;
}

/* ---- exact laws: quantile integration ------------------------------------- */

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
    v = (p < 0.5 ? gsl_cdf_gamma_Pinv(p, a[0], a[1])
                 : gsl_cdf_gamma_Qinv(q, a[0], a[1])) - t->mean;
    break;
  case AB_KIND_GUMBEL: {
    double mlp = p < 0.5 ? -log(p) : -log1p(-q); /* -log u */
    v = -a[1] * log(mlp) - (t->mean - a[0]);
    break;
  }
  case AB_KIND_LOGISTIC:
    v = a[1] * (log(p) - log(q));
    break;
  case AB_KIND_BETA:
    v = (p < 0.5 ? gsl_cdf_beta_Pinv(p, a[0], a[1])
                 : gsl_cdf_beta_Qinv(q, a[0], a[1])) - t->mean;
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
  double n;
  int status;
} quantile_ctx;

/* E Q(U^{1/n}) = int_0^inf Q(e^{-x/n}) e^{-x} dx, with U = e^{-x} */
static double quantile_integrand(double x, void *vctx) {
  quantile_ctx *c = vctx;
  double v;
  if (c->status) return 0.0;
  double p = exp(-x / c->n), q = -expm1(-x / c->n);
  if (p == 0.0 || q == 0.0) return 0.0;
  c->status = centred_quantile(c->t, p, q, &v);
  return c->status ? 0.0 : v * exp(-x);
}

static int quantile_gain(const ab_tail *t, double n, double *out) {
  quantile_ctx c = {t, n, AB_OK};
  gsl_function F = {quantile_integrand, &c};
  double r1, e1, r2, e2;
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  int s1 = gsl_integration_qags(&F, 0.0, 1.0, 1e-300, 1e-12, QUAD_LIMIT, ws,
                                &r1, &e1);
  int s2 = c.status ? GSL_SUCCESS
                    : gsl_integration_qagiu(&F, 1.0, 1e-300, 1e-12, QUAD_LIMIT,
                                            ws, &r2, &e2);
  gsl_integration_workspace_free(ws);
  if (c.status) return c.status;
  double r = r1 + r2, e = e1 + e2;
  if ((s1 || s2) && !(e <= 1e-10 * fabs(r) + 1e-15)) return AB_ENOCONV;
  *out = r;
  return AB_OK;
}

int ab_bon_expected_gain(const ab_tail *t, double n, int method, double *out) {
  const double *a = t->par;
  if (check_n(n)) return AB_EDOM;
  if (n == 1.0) {
    *out = 0.0;
    return AB_OK;
  }
  switch (t->kind) {
  case AB_KIND_DISCRETE:
  case AB_KIND_EMPIRICAL:
  case AB_KIND_BERNOULLI:
  case AB_KIND_BOUNDED_MEAN:
    return finite_gain(t, n, out);
  case AB_KIND_UNIFORM:
    if (method == AB_CLOSED) {
      *out = (a[1] - a[0]) * (n - 1.0) / (2.0 * (n + 1.0)); /* n/(n+1) - 1/2 */
      return AB_OK;
    }
    break;
  case AB_KIND_EXPONENTIAL:
    if (method == AB_CLOSED) {
      /* H_n - 1 = psi(n + 1) + gamma_E - 1 */
      gsl_sf_result r;
      if (gsl_sf_psi_e(n + 1.0, &r) != GSL_SUCCESS) return AB_EGSL;
      *out = a[1] * (r.val + 0.57721566490153286061 - 1.0);
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
  return quantile_gain(t, n, out);
}

/* ---- sampling the best of n ------------------------------------------------ */

int ab_bon_sample(const ab_tail *t, double n, ab_rng *r, size_t k,
                  double *out) {
  if (check_n(n)) return AB_EDOM;
  int finite = t->kind == AB_KIND_DISCRETE || t->kind == AB_KIND_EMPIRICAL ||
               t->kind == AB_KIND_BERNOULLI || t->kind == AB_KIND_BOUNDED_MEAN;
  if (!finite) {
    double v;
    /* probe once: classes and user cumulants have no quantile */
    int st = centred_quantile(t, 0.5, 0.5, &v);
    if (st) return st;
    for (size_t i = 0; i < k; i++) {
      /* U^{1/n} and its complement, each to full precision */
      double lu = log(ab_rng_uniform(r)) / n;
      double p = exp(lu), q = -expm1(lu);
      if ((st = centred_quantile(t, p, q, &v))) return st;
      out[i] = v + t->mean;
    }
    return AB_OK;
  }
  /* a finite law: atoms from the top with the mass above each, T[j] =
   * P(R > v_j); the best of n is v_j for the last j with T[j] <= q */
  size_t m = t->n;
  ab_record *a = ab_alloc_large(m * sizeof *a);
  double *T = malloc(m * sizeof *T);
  if (!a || !T) {
    free(a);
    free(T);
    return AB_ENOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    a[i].key = ab_sort_key(-t->x[i]); /* descending */
    a[i].a = t->w ? t->w[i] : 1.0 / (double)m;
  }
  int st = ab_sort_records(a, m);
  if (!st) {
    double s = 0.0, c = 0.0;
    for (size_t j = 0; j < m; j++) {
      T[j] = s + c;
      double u = s + a[j].a;
      c += (s >= a[j].a) ? (s - u) + a[j].a : (a[j].a - u) + s;
      s = u;
    }
    for (size_t i = 0; i < k; i++) {
      double q = -expm1(log(ab_rng_uniform(r)) / n);
      size_t lo = 0, hi = m; /* T[lo] <= q; find the last such index */
      while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (T[mid] <= q) lo = mid;
        else hi = mid;
      }
      out[i] = -ab_sort_unkey(a[lo].key) + t->mean;
    }
  }
  free(a);
  free(T);
  return st;
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
  if (t->kind != AB_KIND_CUMULANT && isfinite(t->variance)) {
    double e = n - 1.0;
    v = sqrt(t->variance * (e * e / (1.0 + 2.0 * e)));
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
    if (ab_bon_renyi_certificate(t, n, range, &v) == AB_OK && v < best) {
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
 * leaves an error below 2^-60 max|v|: O(N / n) terms, O(N log N) for all n. */
static double estimate(const ab_record *a, size_t N, size_t n) {
  double w = (double)n / (double)N, mass = 1.0;
  ab_sum s = {0.0, 0.0};
  for (size_t i = N; i >= n; i--) {
    ab_sum_add(&s, w * a[i - 1].a);
    mass *= (double)(i - n) / (double)i;
    if (mass < 0x1p-60 || i == n) break;
    w *= (double)(i - n) / (double)(i - 1);
  }
  return ab_sum_value(&s);
}

int ab_bon_from_samples(const double *scores, const double *values, size_t N,
                        size_t n, double *out) {
  if (N == 0 || !scores || !values || n > N) return AB_EDOM;
  for (size_t i = 0; i < N; i++)
    if (!isfinite(scores[i]) || !isfinite(values[i])) return AB_EDOM;
  ab_record *a = ab_alloc_large(N * sizeof *a);
  if (!a) return AB_ENOMEM;
  for (size_t i = 0; i < N; i++) {
    a[i].key = ab_sort_key(scores[i]);
    a[i].a = values[i];
  }
  if (ab_sort_records(a, N)) {
    free(a);
    return AB_ENOMEM;
  }
  /* ties in the ranking are broken at random: tied samples share the mean
   * of their values */
  for (size_t lo = 0; lo < N;) {
    size_t hi = lo + 1;
    double sum = a[lo].a;
    while (hi < N && a[hi].key == a[lo].key) sum += a[hi++].a;
    if (hi - lo > 1)
      for (size_t j = lo; j < hi; j++) a[j].a = sum / (double)(hi - lo);
    lo = hi;
  }
  if (n > 0) *out = estimate(a, N, n);
  else
    for (size_t k = 1; k <= N; k++) out[k - 1] = estimate(a, N, k);
  free(a);
  return AB_OK;
}
