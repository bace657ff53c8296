/*
 * budgets.c - the frontier under every divergence budget (DESIGN 3.5):
 *   G(c) = sup { E_pi r - E_ref r : D(pi || ref) <= c }.
 *
 * By Lagrange duality the optimal likelihood ratio is g = (f')^{-1}((r - nu)
 * / beta) clipped at 0.  Every family here except KL and total variation is
 * an Amari alpha-divergence of some order a (chi2 = 2 A_2, Hellinger with
 * the 1/2 convention = A_{1/2} / 4, reverse KL = A_0, Renyi D_a =
 * log(1 + a(a-1) A_a) / (a - 1)), and for A_a, f'(t) = (t^{a-1} - 1)/(a - 1),
 * so the optimum is the one-parameter family
 *   g  proportional to  (1 + u x)_+^p,   p = 1 / (a - 1),  x = r - E r,
 * with u p > 0 (g increases with r); E g = 1 fixes the constant, and the
 * budget fixes u by one monotone 1-D solve.  Every budget is carried as
 *   T = log E g^a / (a (a - 1))    (T = -E log g for reverse KL),
 * which is >= 0 and increases with u for every order.  For a > 1 the atoms
 * with 1 + u x <= 0 are clipped to 0; past u = inf the family continues as
 * g ~ (x - m)_+^p, m in [0, sup x).  For a < 1, u runs up to -1/sup x, where
 * the mass concentrates on the top atom.  Small u is evaluated with the
 * linear terms removed (sum p x = 0 of the centred law), so that T ~ u^2 is
 * computed without cancellation: (1+v)^e - 1 - e v = em1x(e log1p v) +
 * e log1pmx(v) (a clipped atom adds -1 - e v).
 *
 * chi2 on a finite law is solved in closed form: with the atoms sorted and
 * the kept (top) atoms' mass S, mean mu and variance V, g = (x - m)_+ /
 * (S d), d = mu - m = sqrt(V / ((1 + c) S - 1)), gain = mu - E x + V / d
 * (E x: 0 but for the centring's rounding): a binary search over the
 * clipping index, O(log n) per budget after one sort.
 *
 * The other families on a finite law of BK_MIN_ATOMS atoms or more: the
 * atoms are sorted once per vector call and cut into buckets whose moments
 * give each kernel sum by a local Taylor series (see bucket_add), so that a
 * point costs O(buckets) instead of O(atoms): 100 budgets on 10^6 atoms
 * cost a fraction of the KL frontier's time (make bench).
 *
 * Total variation moves mass c from the lowest rewards to the top one:
 * G(c) = c sup x - int_0^c Q(v) dv.
 *
 * Assumption classes only constrain the cumulant: their bound is the
 * tightest of the certified routes (see ab_budget_route_name).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_roots.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define QUAD_LIMIT 400
#define LOG_W_MIN (-690.7755278982137) /* log 1e-300 */

enum { SH_KL, SH_TV, SH_POWER, SH_RKL, SH_RINF };

/* A family reduced to its shape: the order a and p = 1/(a - 1). */
typedef struct {
  int kind;
  double a, p;
} shape;

static int shape_of(const ab_family *f, shape *s) {
  int st = ab_family_check(f);
  if (st) return st;
  s->a = NAN;
  s->p = NAN;
  switch (f->kind) {
  case AB_KL: s->kind = SH_KL; return AB_OK;
  case AB_TV: s->kind = SH_TV; return AB_OK;
  case AB_REVERSE_KL: s->kind = SH_RKL; s->a = 0.0; s->p = -1.0; return AB_OK;
  case AB_CHI2: s->a = 2.0; break;
  case AB_HELLINGER: s->a = 0.5; break;
  case AB_ALPHA:
  case AB_RENYI:
    if (isinf(f->alpha)) { /* Renyi of order inf: log sup g <= c */
      s->kind = SH_RINF;
      s->a = INFINITY;
      return AB_OK;
    }
    if (f->alpha == 1.0) { s->kind = SH_KL; return AB_OK; }
    if (f->alpha == 0.0) { s->kind = SH_RKL; s->a = 0.0; s->p = -1.0; return AB_OK; }
    s->a = f->alpha;
    break;
  default:
    return AB_EUNDEF; /* js and user f have no closed dual here */
  }
  s->kind = SH_POWER;
  s->p = 1.0 / (s->a - 1.0);
  return AB_OK;
}

/* The budget c of the family as T (see the top), and back.  T may be +inf:
 * a budget past everything the family can measure. */
static double budget_to_t(const ab_family *f, const shape *s, double c) {
  double a = s->a;
  if (s->kind == SH_RKL) return c;
  switch (f->kind) {
  case AB_CHI2: return 0.5 * log1p(c);
  case AB_HELLINGER: return c >= 1.0 ? INFINITY : -4.0 * log1p(-c);
  case AB_RENYI: return c / a;
  default: { /* Amari */
    double z = a * (a - 1.0) * c;
    return z <= -1.0 ? INFINITY : log1p(z) / (a * (a - 1.0));
  }
  }
}

static double t_to_budget(const ab_family *f, const shape *s, double T) {
  double a = s->a;
  if (s->kind == SH_RKL) return T;
  switch (f->kind) {
  case AB_CHI2: return expm1(2.0 * T);
  case AB_HELLINGER: return -expm1(-0.25 * T);
  case AB_RENYI: return a * T;
  default: return expm1(a * (a - 1.0) * T) / (a * (a - 1.0));
  }
}

/* ---- one point of the family: a pass over the atoms or a quadrature ---- */

typedef struct {
  double T, gain;
} point;

static double weight(const ab_tail *t, size_t i) {
  return t->w ? t->w[i] : 1.0 / (double)t->n;
}

/* A kernel gives, for one reward x (centred), the NK terms whose
 * expectations make a point. */
#define NK 4
typedef struct bucket_table bucket_table;
typedef struct {
  const shape *s;
  int regime;      /* 0: u, 1: m (a > 1) or w (a < 1), 2: w as u */
  double par, top; /* u, m or w; sup x */
  const bucket_table *bt; /* a large finite law in buckets, or NULL */
  double lw;              /* regime w: log w, which may be below log 1e-300 */
  double shift;           /* regime w below 1e-300: log r is taken less this */
  double anchor;          /* regime 3: m = anchor - par */
} kernel;

/* regime u, linear terms removed: k0 = (1+v)_+^p - 1 - p v, k1 the same at
 * q = p + 1, k2 = x ((1+v)_+^p - 1), k3 = log1pmx(v); a clipped atom (a > 1,
 * 1 + v <= 0) gives -1 - e v, -1 - e v, -x, 0.
 * regime m: k0 = r^p, k1 = r^(p+1), k2 = x r^p with r = (x - m)_+ / (top - m).
 * regime w: the same with r = ((top - x) + w x) / (top w) >= 1, k3 = log r.
 * regime 2: regime w as regime u (u = -(1 - w) / top), the terms of u. */
/* log r of regime w, r = ((top - x) + w x) / (top w), from log w = lw (w
 * may be below the doubles' range): with A = (top - x) / top,
 * log r = la + log1p((x / top) e^-la), la = log A - lw; 0 at the top. */
static double log_r_w(double top, double x, double lw) {
  if (!(x < top)) return 0.0;
  double la = log((top - x) / top) - lw;
  return la + log1p((x / top) * exp(-la));
}

static void kernel_eval(const kernel *k, double x, double out[NK]) {
  double p = k->s->p, q = p + 1.0;
  if (k->regime == 0 || k->regime == 2) {
    /* regime 2 is regime w (a < 1) written as regime u, u = -(1 - w)/top:
     * 1 + v = ((top - x) + w x) / top keeps its digits as w -> 0, where
     * 1 + u x would lose them, and T comes from sums of size T instead of
     * a difference of logs of size |log w| */
    double v, y = NAN;
    if (k->regime == 0) v = k->par * x;
    else {
      v = -((1.0 - k->par) * x) / k->top;
      y = ((k->top - x) + k->par * x) / k->top;
    }
    if (!(1.0 + v > 0.0) && isnan(y)) {
      out[0] = -1.0 - p * v;
      out[1] = -1.0 - q * v;
      out[2] = -x;
      out[3] = 0.0;
      return;
    }
    double L, lm, e1, d1, e2, d2;
    if (v < -0.5 && !isnan(y)) {
      L = log(y);
      lm = L - v;
    } else {
      L = log1p(v);
      lm = ab_log1pmx_fast(v);
    }
    if (fabs(v) > 0.5) { /* no small difference to protect: the direct form */
      d1 = expm1(p * L);
      d2 = expm1(q * L);
      out[0] = d1 - p * v;
      out[1] = d2 - q * v;
      out[2] = x * d1;
      out[3] = lm;
      return;
    }
    ab_em1x(p * L, &e1, &d1);
    ab_em1x(q * L, &e2, &d2);
    out[0] = e1 + p * lm;
    out[1] = e2 + q * lm;
    out[2] = x * d1;
    out[3] = lm;
    return;
  }
  double r;
  if (k->regime == 3) { /* m = anchor - d, d = par > 0: x - m = (x - anchor) + d */
    if (!(x >= k->anchor)) {
      out[0] = out[1] = out[2] = out[3] = 0.0;
      return;
    }
    r = ((x - k->anchor) + k->par) / ((k->top - k->anchor) + k->par);
  } else if (k->s->a > 1.0) {
    if (!(x > k->par)) {
      out[0] = out[1] = out[2] = out[3] = 0.0;
      return;
    }
    r = (x - k->par) / (isinf(k->top) ? 1.0 : k->top - k->par);
  } else if (k->par > 1e-300) {
    r = ((k->top - x) + k->par * x) / (k->top * k->par);
  } else {
    /* w below the doubles' range (a top atom of tiny mass with an order
     * a < 1 far from 1): r carried by its log, r^p may still be normal */
    double lr = log_r_w(k->top, x, k->lw) - k->shift;
    out[0] = exp(p * lr);
    out[1] = exp(q * lr);
    out[2] = x * out[0];
    out[3] = lr;
    return;
  }
  double rp = p == 1.0 ? r : pow(r, p);
  out[0] = rp;
  out[1] = rp * r;
  out[2] = x * rp;
  out[3] = k->s->a > 1.0 ? 0.0 : log(r);
}

/* ---- a large finite law in buckets: the kernel's sums by local series ---- */

/* A pass over 10^6 atoms costs a log1p and an exp per atom, and a solve
 * takes tens of passes per budget.  Instead the atoms, sorted once, are cut
 * into buckets of nearby values (at most BK_COUNT atoms and 1/BK_WIDTHS of
 * the range each) that keep the moments mu_k = sum w (x - c)^k about their
 * centre c.  Every kernel term is an affine power y^e, y = y0 + B (x - c)
 * (y0 = 1 + u c in regime u, the r of regimes m and w), whose Taylor series
 * about c, sum_k binom(e, k) y0^e (B/y0)^k (x - c)^k, makes the bucket's sum
 * sum_k C_k mu_k: O(terms) per bucket instead of O(atoms).  It is used
 * where it converges fast, (|p| + 2) |B/y0| h <= BK_RHO with h the half
 * width (so that the terms of both signs shrink from the start), and is cut
 * when the next term is below 1e-18 of the terms' absolute sum; a bucket
 * that is clipped in part, or too close to the singular point, is summed
 * atom by atom; a bucket clipped entirely adds its closed contribution.  In
 * regime u the linear terms are removed from the k = 0 and k = 1
 * coefficients (computed with expm1 / em1x at c), as in kernel_eval, so
 * that small budgets keep their relative precision. */
#define BK_MIN_ATOMS 4096
#define BK_COUNT 4096
#define BK_WIDTHS 512
#define BK_MOM 34
#define BK_RHO 0.25

typedef struct {
  size_t lo, hi; /* atoms [lo, hi) of the sorted arrays */
  double c, h, xmin, xmax, X; /* centre, half width, range, sum w x */
  const double *mu;           /* BK_MOM moments */
} bucket;

struct bucket_table {
  size_t n, nb;
  double *x, *w; /* ascending values and their weights */
  bucket *b;
  double *mom;
};

static void bucket_free(bucket_table *bt) {
  ab_free(bt->x, bt->n * sizeof *bt->x);
  ab_free(bt->w, bt->n * sizeof *bt->w);
  ab_free(bt->b, bt->nb * sizeof *bt->b);
  ab_free(bt->mom, bt->nb * BK_MOM * sizeof *bt->mom);
  memset(bt, 0, sizeof *bt);
}

static int bucket_setup(const ab_tail *t, bucket_table *bt) {
  size_t n = t->n;
  memset(bt, 0, sizeof *bt);
  bt->n = n; /* the sizes bucket_free gives back */
  ab_record *r = ab_alloc_large(n * sizeof *r);
  if (!r) return AB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    r[i].key = ab_sort_key(t->x[i]);
    r[i].a = t->x[i];
    r[i].b = weight(t, i);
  }
  int st = ab_sort_records(r, n);
  bt->x = ab_malloc_n(n, sizeof *bt->x);
  bt->w = ab_malloc_n(n, sizeof *bt->w);
  if (st || !bt->x || !bt->w) {
    ab_free(r, n * sizeof *r);
    bucket_free(bt);
    return st ? st : AB_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    bt->x[i] = r[i].a;
    bt->w[i] = r[i].b;
  }
  ab_free(r, n * sizeof *r);
  double width = (bt->x[n - 1] - bt->x[0]) / BK_WIDTHS;
  size_t nb = 0;
  for (size_t lo = 0, hi; lo < n; lo = hi, nb++)
    for (hi = lo + 1; hi < n && hi - lo < BK_COUNT && bt->x[hi] - bt->x[lo] <= width;) hi++;
  bt->nb = nb;
  bt->b = ab_malloc_n(nb, sizeof *bt->b);
  bt->mom = ab_calloc(nb * BK_MOM, sizeof *bt->mom);
  if (!bt->b || !bt->mom) {
    bucket_free(bt);
    return AB_ENOMEM;
  }
  nb = 0;
  for (size_t lo = 0, hi; lo < n; lo = hi, nb++) {
    for (hi = lo + 1; hi < n && hi - lo < BK_COUNT && bt->x[hi] - bt->x[lo] <= width;) hi++;
    bucket *b = &bt->b[nb];
    double *mu = bt->mom + nb * BK_MOM;
    b->lo = lo;
    b->hi = hi;
    b->xmin = bt->x[lo];
    b->xmax = bt->x[hi - 1];
    b->c = 0.5 * (b->xmin + b->xmax);
    b->h = 0.5 * (b->xmax - b->xmin);
    b->mu = mu;
    /* plain sums over blocks of 16 atoms, compensated across the blocks:
     * the mass mu_0 enters T as -(its rounding)/a, which small budgets
     * would see */
    ab_sum acc[BK_MOM];
    memset(acc, 0, sizeof acc);
    for (size_t i0 = lo; i0 < hi; i0 += 16) {
      double blk[BK_MOM] = {0.0};
      for (size_t i = i0; i < hi && i < i0 + 16; i++) {
        double d = bt->x[i] - b->c, pk = bt->w[i];
        for (int k = 0; k < BK_MOM; k++, pk *= d) blk[k] += pk;
      }
      for (int k = 0; k < BK_MOM; k++) ab_sum_add(&acc[k], blk[k]);
    }
    for (int k = 0; k < BK_MOM; k++) mu[k] = ab_sum_value(&acc[k]);
    b->X = b->c * mu[0] + mu[1];
  }
  bt->n = n;
  bt->nb = nb;
  return AB_OK;
}

/* The series of one bucket: the coefficient sequences C_k of y^p and y^q
 * (q = p + 1) and D_k of log y, from k = 2 on (k = 0, 1 are given), summed
 * against mu_k (and mu_{k+1} for the x-weighted term).  Returns 0 when the
 * series did not converge within the moments kept. */
static int bucket_series(const bucket *b, double p, double z, double cp1,
                         double cq1, int want_log, double s[4]) {
  const double *mu = b->mu;
  double cp = cp1, cq = cq1, dz = z, hk = b->h, mag = 0.0;
  s[0] = s[1] = s[2] = s[3] = 0.0;
  for (int k = 2; k + 1 < BK_MOM; k++) {
    cp *= (p - k + 1) / k * z;
    cq *= (p + 2 - k) / k * z;
    dz *= -z;
    double d = want_log ? dz / k : 0.0;
    hk *= b->h;
    s[0] += cp * mu[k];
    s[1] += cq * mu[k];
    s[2] += cp * mu[k + 1];
    s[3] += d * mu[k];
    double big = (fabs(cp) + fabs(cq) + fabs(d)) * hk * mu[0];
    mag += big;
    if (big <= 1e-18 * mag || big == 0.0) return 1;
  }
  return 0;
}

/* Adds to acc[] the kernel's sums over bucket b, by its series or, where
 * that does not apply, atom by atom. */
static void bucket_add(const bucket_table *bt, const bucket *b,
                       const kernel *k, ab_sum acc[NK]) {
  const shape *sh = k->s;
  double p = sh->p, q = p + 1.0, c = b->c, mu0 = b->mu[0], mu1 = b->mu[1];
  int rkl = sh->kind == SH_RKL, ok = 0;
  double e[4], s[4];
  if (k->regime == 0) {
    double u = k->par;
    if (1.0 + u * b->xmax <= 0.0) { /* clipped: -1 - e v, -x, 0 */
      ab_sum_add(&acc[0], -mu0 - p * u * b->X);
      ab_sum_add(&acc[1], -mu0 - q * u * b->X);
      ab_sum_add(&acc[2], -b->X);
      return;
    }
    double v0 = u * c, y0 = 1.0 + v0, z = u / y0;
    if (1.0 + u * b->xmin > 0.0 && (fabs(p) + 2.0) * fabs(z) * b->h <= BK_RHO) {
      double out[NK], L = log1p(v0);
      kernel_eval(k, c, out); /* the k = 0 terms, linear parts removed */
      double ep = expm1(p * L), yp = ep + 1.0, yq = yp * y0;
      double cp1 = p * z * yp, cq1 = q * z * yq;
      if (bucket_series(b, p, z, cp1, cq1, rkl, s)) {
        /* k = 1 with the linear part removed: e u ((1 + v0)^(e-1) - 1) */
        double lp1 = p * u * expm1((p - 1.0) * L), lq1 = q * u * ep;
        e[0] = out[0] * mu0 + lp1 * mu1 + s[0];
        e[1] = out[1] * mu0 + lq1 * mu1 + s[1];
        /* sum w x (y^p - 1) = c sum w (y^p - 1) + sum w d (y^p - 1) */
        e[2] = c * (ep * mu0 + cp1 * mu1 + s[0]) +
               (ep * mu1 + cp1 * b->mu[2] + s[2]);
        /* log1pmx(u x): log1pmx(v0) + (z - u) d + sum (-1)^(k-1) z^k d^k / k */
        e[3] = rkl ? out[3] * mu0 + (-u * v0 / y0) * mu1 + s[3] : 0.0;
        ok = 1;
      }
    }
  } else {
    double y0, B;
    if (sh->a > 1.0) {
      double m = k->par, span = k->top - m;
      if (b->xmax <= m) return; /* nothing above m */
      y0 = (c - m) / span;
      B = 1.0 / span;
      ok = b->xmin > m;
    } else {
      double w = k->par;
      y0 = ((k->top - c) + w * c) / (k->top * w);
      B = (w - 1.0) / (k->top * w);
      ok = 1;
    }
    double z = B / y0;
    if (ok && (fabs(p) + 2.0) * fabs(z) * b->h <= BK_RHO) {
      double yp = pow(y0, p), yq = yp * y0, ly = rkl ? log(y0) : 0.0;
      double cp1 = p * z * yp, cq1 = q * z * yq;
      ok = bucket_series(b, p, z, cp1, cq1, rkl, s);
      if (ok) {
        e[0] = yp * mu0 + cp1 * mu1 + s[0];
        e[1] = yq * mu0 + cq1 * mu1 + s[1];
        e[2] = c * e[0] + (yp * mu1 + cp1 * b->mu[2] + s[2]);
        e[3] = rkl ? ly * mu0 + z * mu1 + s[3] : 0.0;
      }
    } else {
      ok = 0;
    }
  }
  if (ok) {
    for (int j = 0; j < NK; j++) ab_sum_add(&acc[j], e[j]);
    return;
  }
  double part[NK] = {0.0, 0.0, 0.0, 0.0}, out[NK];
  for (size_t i = b->lo; i < b->hi; i++) {
    kernel_eval(k, bt->x[i], out);
    for (int j = 0; j < NK; j++) part[j] += bt->w[i] * out[j];
  }
  for (int j = 0; j < NK; j++) ab_sum_add(&acc[j], part[j]);
}

typedef struct {
  const ab_tail *t;
  const kernel *k;
  int j, status;
} quad_ctx;

static double quad_fn(double v, void *vctx) {
  quad_ctx *c = vctx;
  double x, out[NK];
  if (c->status || v <= 0.0 || v >= 1.0) return 0.0;
  c->status = ab_quantile_centred(c->t, v, 1.0 - v, &x);
  if (c->status) return 0.0;
  kernel_eval(c->k, x, out);
  return out[c->j];
}

/* E[kernel]: a compensated pass over the atoms of a finite law, or for an
 * exact law NK integrals over the quantile v in (0, 1), r = Q(v) (split at
 * 1/2 so that each end's singularity has its own interval). */
static int expect(const ab_tail *t, const kernel *k, double e[NK]) {
  if (k->bt) {
    ab_sum acc[NK];
    memset(acc, 0, sizeof acc);
    for (size_t b = 0; b < k->bt->nb; b++) bucket_add(k->bt, &k->bt->b[b], k, acc);
    for (int j = 0; j < NK; j++) e[j] = ab_sum_value(&acc[j]);
    return AB_OK;
  }
  if (ab_is_finite_law(t)) {
    ab_sum acc[NK];
    double out[NK];
    memset(acc, 0, sizeof acc);
    for (size_t i = 0; i < t->n; i++) {
      double w = weight(t, i);
      kernel_eval(k, t->x[i], out);
      for (int j = 0; j < NK; j++) ab_sum_add(&acc[j], w * out[j]);
    }
    for (int j = 0; j < NK; j++) e[j] = ab_sum_value(&acc[j]);
    return AB_OK;
  }
  gsl_integration_workspace *ws = ab_quad_new(QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  quad_ctx c = {t, k, 0, AB_OK};
  gsl_function F = {quad_fn, &c};
  int st = AB_OK;
  /* the size of each term (regime u: O(u^2 V) and O(u V)), so that a term
   * that cancels to ~0 (M_1 of chi2) is resolved in absolute terms */
  double u2 = k->regime == 0 ? k->par * k->par * t->variance : 1.0;
  double scale[NK] = {u2, u2, k->regime == 0 ? fabs(k->par) * t->variance
                                             : 1.0, u2};
  /* breakpoints: where the kernel has a kink (the clipping point of regime
   * u) or starts (m of regime m), or, for a < 1, where its peak at the top
   * begins (x = top (1 - w)); each found by bisection on the quantile */
  double edge = NAN, pts[5] = {0.0, 0.5, 1.0, 1.0, 1.0};
  int np = 3;
  if (k->s->a > 1.0) edge = k->regime == 0 ? -1.0 / k->par : k->par;
  else if (k->regime == 1) edge = k->top * (1.0 - k->par);
  if (!isnan(edge) && edge > t->inf && edge < k->top) {
    double lo = 0.0, hi = 1.0, x;
    for (int it = 0; it < 200 && hi - lo > 1e-17; it++) {
      double mid = 0.5 * (lo + hi);
      if ((st = ab_quantile_centred(t, mid, 1.0 - mid, &x))) break;
      if (x < edge) lo = mid;
      else hi = mid;
    }
    if (k->regime == 1 && k->s->a > 1.0) { /* nothing below m */
      pts[0] = lo;
      pts[1] = lo + 0.5 * (1.0 - lo);
    } else if (lo != 0.5 && lo > 0.0 && lo < 1.0) {
      pts[1] = fmin(lo, 0.5);
      pts[2] = fmax(lo, 0.5);
      np = 4;
    }
  }
  for (int j = 0; j < NK && !st; j++) {
    c.j = j;
    if ((j == 3 && k->regime == 1 && k->s->a > 1.0) ||
        (j == 3 && k->s->kind != SH_RKL)) {
      e[j] = 0.0;
      continue;
    }
    double abs = 1e-15 * scale[j], sum = 0.0, err[4] = {0, 0, 0, 0};
    int bad[4] = {0, 0, 0, 0};
    for (int i = 0; i + 1 < np; i++) {
      double r;
      bad[i] = gsl_integration_qags(&F, pts[i], pts[i + 1], abs, 1e-12,
                                    QUAD_LIMIT, ws, &r, &err[i]);
      sum += r;
    }
    /* a roundoff report with an error estimate below 1e-8 is accepted
     * (qags' estimates are pessimistic; the specs check 1e-10) */
    double ok = fmax(1e-8 * fabs(sum), 1e-12 * scale[j]);
    if (c.status) st = c.status;
    for (int i = 0; !st && i + 1 < np; i++)
      if (bad[i] && !(err[i] <= ok)) st = AB_ENOCONV;
    e[j] = sum;
  }
  ab_quad_free(ws);
  return st;
}

/* The point at the kernel's parameter. */
static int eval_kernel(const ab_tail *t, const kernel *k, point *pt) {
  const shape *s = k->s;
  double e[NK];
  if (k->regime == 1 && s->a > 1.0 && k->par >= k->top) {
    /* m at the top: the law given the top atom (-log P(top) / a) */
    pt->T = t->psup > 0.0 ? t->ksup / s->a : INFINITY;
    pt->gain = k->top;
    return AB_OK;
  }
  int st = expect(t, k, e);
  if (st) return st;
  if (k->regime == 0 || k->regime == 2) {
    double M1 = e[0], Mq = e[1];
    /* -E log g = log E (1+v)^-1 + E log(1+v), E log(1+v) = E log1pmx(v) */
    if (s->kind == SH_RKL) pt->T = log1p(M1) + e[3];
    else pt->T = (log1p(Mq) - s->a * log1p(M1)) / (s->a * (s->a - 1.0));
    pt->gain = e[2] / (1.0 + M1);
  } else {
    /* the scale of r cancels in T */
    if (s->kind == SH_RKL) pt->T = log(e[0]) + e[3];
    else pt->T = (log(e[1]) - s->a * log(e[0])) / (s->a * (s->a - 1.0));
    pt->gain = e[2] / e[0];
  }
  return AB_OK;
}

/* The parameter of a point: regime 0 is u (s = log |u|), regime 1 is m
 * (a > 1, s = m) or w (a < 1, s = log w), regime 3 is m = anchor - e^s
 * (a > 1 on the atoms of a finite law: m within an ulp of an atom, which a
 * top atom of tiny mass asks for, keeps its digits). */
typedef struct {
  int regime;
  double s, anchor;
} param;

static int eval_param(const ab_tail *t, const shape *sh,
                      const bucket_table *bt, const param *q, point *pt) {
  /* w below 1e-300 leaves the buckets' series: the atoms themselves */
  if (q->regime == 1 && sh->a < 1.0 && q->s < LOG_W_MIN) bt = NULL;
  if (q->regime == 3) bt = NULL;
  kernel k = {sh, q->regime, 0.0, t->sup, bt, q->s, 0.0, q->anchor};
  /* T and the gain do not see the scale of r; for a < 0 (p + 1 > 0) the
   * terms r^p <= 1 and r^(p+1) <= r_max^(p+1) are balanced by the scale
   * r_max^(p+1), so that neither overflows: exponents <= log(r_max) / 4 */
  if (q->regime == 1 && sh->a < 0.0 && q->s < LOG_W_MIN && isfinite(t->inf))
    k.shift = (sh->p + 1.0) * log_r_w(t->sup, t->inf, q->s);
  if (q->regime == 0) k.par = sh->a > 1.0 ? exp(q->s) : -exp(q->s);
  else if (q->regime == 3) k.par = exp(q->s);
  else k.par = sh->a > 1.0 ? q->s : exp(q->s);
  /* regime w on the atoms of a finite law: the form without the log
   * cancellation (see kernel_eval), while the top atom's w^p stays far
   * from overflow (the form with r >= 1 never overflows) */
  if (q->regime == 1 && sh->a < 1.0 && !bt && ab_is_finite_law(t) &&
      q->s >= LOG_W_MIN && sh->p * q->s < 700.0)
    k.regime = 2;
  return eval_kernel(t, &k, pt);
}

typedef struct {
  const ab_tail *t;
  const shape *sh;
  const bucket_table *bt;
  int regime, on_gain, status;
  double target, anchor;
} solve_ctx;

/* The point at s, signed so that it increases with s (T increases with u
 * and m, and decreases with w); a failed evaluation is parked in status. */
static double solve_fn(double s, void *vctx) {
  solve_ctx *c = vctx;
  param q = {c->regime, s, c->anchor};
  point pt;
  if (c->status) return 0.0;
  c->status = eval_param(c->t, c->sh, c->bt, &q, &pt);
  if (c->status) return 0.0;
  double v = c->on_gain ? pt.gain : pt.T;
  if ((c->regime == 1 && c->sh->a < 1.0) || c->regime == 3) return c->target - v;
  return v - c->target;
}

static int brent(solve_ctx *c, double lo, double hi, double *root) {
  gsl_function F = {solve_fn, c};
  double flo = solve_fn(lo, c), fhi = solve_fn(hi, c);
  if (c->status) return c->status;
  if (flo == 0.0) { *root = lo; return AB_OK; }
  if (fhi == 0.0) { *root = hi; return AB_OK; }
  if (!(flo < 0.0 && fhi > 0.0)) return AB_ENOCONV;
  gsl_root_fsolver *s = ab_root_fsolver_new(gsl_root_fsolver_brent);
  if (!s) return AB_ENOMEM;
  int st = gsl_root_fsolver_set(s, &F, lo, hi);
  for (int it = 0; !st && !c->status && it < 300; it++) {
    st = gsl_root_fsolver_iterate(s);
    if (st) break;
    lo = gsl_root_fsolver_x_lower(s);
    hi = gsl_root_fsolver_x_upper(s);
    if (gsl_root_test_interval(lo, hi, 1e-300, 4e-16) == GSL_SUCCESS) break;
  }
  *root = gsl_root_fsolver_root(s);
  ab_root_fsolver_free(s);
  if (c->status) return c->status;
  return st ? AB_ENOCONV : AB_OK;
}

/* value of the point at q: T or gain */
static int value_at(solve_ctx *c, int regime, double s, double *v) {
  param q = {regime, s, c->anchor};
  point pt;
  int st = eval_param(c->t, c->sh, c->bt, &q, &pt);
  *v = c->on_gain ? pt.gain : pt.T;
  return st;
}

/* Regime m on a finite law, m0 = q->s solved: again as m = anchor - d with
 * anchor the lowest atom >= m0 (or, m0 having rounded past the atom it sits
 * on, the highest atom below m0) and d in (0, anchor - max(0, the atom
 * below)], a solve in log d; q is left as it is where neither brackets. */
static int refine_m(solve_ctx *c, param *q) {
  const ab_tail *t = c->t;
  double m0 = q->s, cand[2] = {INFINITY, -INFINITY}, v;
  int st;
  for (size_t i = 0; i < t->n; i++) {
    double x = t->x[i];
    if (x >= m0 && x < cand[0]) cand[0] = x;
    if (x < m0 && x > cand[1]) cand[1] = x;
  }
  for (int k = 0; k < 2; k++) {
    double anchor = cand[k], below = 0.0;
    for (size_t i = 0; i < t->n; i++)
      if (t->x[i] < anchor && t->x[i] > below) below = t->x[i];
    if (!(anchor < t->sup) || !(anchor > below)) continue;
    c->regime = 3;
    c->anchor = anchor;
    double hi = log(anchor - below), lo = hi, step = 2.0;
    if ((st = value_at(c, 3, hi, &v))) return st;
    if (v > c->target) continue;
    for (;;) {
      lo -= step;
      step *= 2.0;
      if (lo < -1e5) break;
      if ((st = value_at(c, 3, lo, &v))) return st;
      if (v >= c->target) break;
      hi = lo;
    }
    if (lo < -1e5) continue;
    double sr;
    if ((st = brent(c, lo, hi, &sr))) return st;
    q->regime = 3;
    q->s = sr;
    q->anchor = anchor;
    return AB_OK;
  }
  return AB_OK;
}

/* The parameter whose T (on_gain = 0) or gain (1) is target, which lies
 * strictly between 0 and the saturation value.  *sat is set when the
 * target is out of reach in floating point (w below 1e-300: the point is
 * the saturation itself to double precision). */
static int solve_param(const ab_tail *t, const shape *sh,
                       const bucket_table *bt, int on_gain, double target,
                       param *q, int *sat) {
  solve_ctx c = {t, sh, bt, 0, on_gain, AB_OK, target, 0.0};
  double var = t->variance, top = t->sup, edge, v;
  int st, k;
  *sat = 0;
  /* the switch between the regimes: u = inf (m = 0) for a > 1,
   * u = -1/(2 top) (w = 1/2) for a < 1 */
  double zmax = sh->a > 1.0 ? INFINITY : 0.5 / top;
  st = sh->a > 1.0 ? value_at(&c, 1, 0.0, &edge)
                   : value_at(&c, 0, log(zmax), &edge);
  if (st) return st;
  if (target <= edge) {
    /* regime u: T ~ u^2 V / (2 (a-1)^2), gain ~ u V / |a - 1| */
    double am1 = fabs(sh->a - 1.0);
    double z = on_gain ? target * am1 / var : sqrt(2.0 * target / var) * am1;
    if (!(z > 0.0) || !isfinite(z)) z = 1.0;
    z = fmin(z, 0.5 * zmax);
    double lo = log(z), hi = lo;
    for (k = 0; k < 2000; k++, lo -= 2.0) {
      if ((st = value_at(&c, 0, lo, &v))) return st;
      if (v < target) break;
    }
    for (k = 0; k < 2000; k++, hi += 2.0) {
      if (hi >= log(zmax)) {
        hi = log(zmax);
        break;
      }
      if ((st = value_at(&c, 0, hi, &v))) return st;
      if (v >= target) break;
    }
    q->regime = 0;
    return brent(&c, lo, hi, &q->s);
  }
  c.regime = 1;
  q->regime = 1;
  if (sh->a > 1.0) {
    double hi = top;
    if (isinf(top)) { /* an exact law not bounded above: T grows with m */
      for (hi = 1.0, k = 0;; hi *= 2.0, k++) {
        if ((st = value_at(&c, 1, hi, &v))) return st;
        if (v >= target) break;
        if (k > 2000) return AB_ENOCONV;
      }
    } else if (!(t->psup > 0.0)) { /* no top atom: T -> inf as m -> top */
      for (k = 1;; k++) {
        hi = top * (1.0 - ldexp(1.0, -k));
        if ((st = value_at(&c, 1, hi, &v))) return st;
        if (v >= target) break;
        if (k > 60) return AB_EUNDEF;
      }
    }
    st = brent(&c, 0.0, hi, &q->s);
    if (st || bt || !ab_is_finite_law(t)) return st;
    return refine_m(&c, q);
  }
  /* w from 1/2 down to 1e-300 (an exact law), or to e^-1e6 (a finite law,
   * in steps that double below 1e-300: a top atom of mass P needs w near
   * P^(1/|p|), which for P small and |p| < 1 is far below 1e-300) */
  double hi = log(0.5), lo = hi, step = 8.0;
  int fin = ab_is_finite_law(t);
  while (1) {
    lo -= step;
    if (lo < LOG_W_MIN) {
      if (!fin || lo < -1e6) {
        *sat = 1;
        return AB_OK;
      }
      step *= 2.0;
    }
    if ((st = value_at(&c, 1, lo, &v))) return st;
    if (v >= target) break;
    hi = lo;
  }
  return brent(&c, lo, hi, &q->s);
}

/* ---- chi2 on a finite law in closed form --------------------------------- */

/* Distinct atoms sorted from the top, with for the top k groups their mass
 * S_k, mean mu_k and variance V_k (Welford, no cancellation) and the mass
 * below them (a suffix sum, so that 1 - S_k keeps its digits). */
typedef struct {
  size_t k, cap; /* cap: the arrays' length */
  double *x, *S, *mu, *V, *below;
  double mean; /* the mean of the centred atoms: 0 up to the centring's
                * rounding, which matters when the top mass is below 1e-16 */
} chi2_table;

static void chi2_free(chi2_table *c) {
  size_t bytes = c->cap * sizeof(double);
  ab_free(c->x, bytes);
  ab_free(c->S, bytes);
  ab_free(c->mu, bytes);
  ab_free(c->V, bytes);
  ab_free(c->below, bytes);
}

static int chi2_setup(const ab_tail *t, chi2_table *c) {
  size_t n = t->n;
  memset(c, 0, sizeof *c);
  ab_record *r = ab_alloc_large(n * sizeof *r);
  if (!r) return AB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    r[i].key = ab_sort_key(-t->x[i]);
    r[i].a = t->x[i];
    r[i].b = weight(t, i);
  }
  int st = ab_sort_records(r, n);
  c->cap = n;
  c->x = ab_malloc_n(n, sizeof *c->x);
  c->S = ab_malloc_n(n, sizeof *c->S);
  c->mu = ab_malloc_n(n, sizeof *c->mu);
  c->V = ab_malloc_n(n, sizeof *c->V);
  c->below = ab_malloc_n(n, sizeof *c->below);
  if (st || !c->x || !c->S || !c->mu || !c->V || !c->below) {
    ab_free(r, n * sizeof *r);
    chi2_free(c);
    return st ? st : AB_ENOMEM;
  }
  size_t k = 0;
  double S = 0, mu = 0, M2 = 0;
  for (size_t i = 0; i < n; i++) {
    double x = r[i].a, w = r[i].b;
    if (k == 0 || x != c->x[k - 1]) {
      c->x[k] = x;
      k++;
    }
    /* Welford in the forms without cancellation: x - mu_new = d S / S1
     * exactly, so M2 grows by d^2 w S / S1 >= 0 (the form w d (x - mu_new)
     * loses everything when the mass above is tiny: mu_new ~ x); and mu_new
     * moves from whichever of mu and x carries the larger mass. */
    double S1 = S + w, d = x - mu;
    M2 += d * d * (w * (S / S1));
    mu = w >= S ? x - d * (S / S1) : mu + d * (w / S1);
    S = S1;
    c->S[k - 1] = S;
    c->mu[k - 1] = mu;
    c->V[k - 1] = M2 / S;
  }
  ab_sum below = {0, 0};
  for (size_t j = k; j-- > 0;) {
    c->below[j] = ab_sum_value(&below);
    /* the mass of group j is S_j - S_{j-1} */
    ab_sum_add(&below, c->S[j] - (j ? c->S[j - 1] : 0.0));
  }
  ab_free(r, n * sizeof *r);
  c->k = k;
  c->mean = c->mu[k - 1];
  return AB_OK;
}

/* chi2 and gain when the top j+1 groups are kept and the threshold is m
 * (m below group j): d = mu - m, 1 + chi2 = (V + d^2) / (S d^2). */
static double chi2_at(const chi2_table *c, size_t j, double m) {
  double d = c->mu[j] - m;
  return (c->V[j] / (d * d) + c->below[j]) / c->S[j];
}

/* The frontier at budget cb (on_gain = 0) or the budget of gain value
 * (on_gain = 1); threshold and kept groups in *m and *jk (for the policy). */
static void chi2_solve(const chi2_table *c, int on_gain, double value,
                       double *out, double *m, size_t *jk) {
  /* group j is kept down to threshold m = x_{j+1} (the next atom clipped);
   * the quantity increases as fewer groups are kept: find the largest j
   * whose quantity at its lower end (m = x_{j+1}, or m = -inf for the last)
   * is below value */
  size_t lo = 0, hi = c->k - 1; /* answer in [lo, hi] */
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    /* at m = x_mid (group mid just clipped, groups < mid kept) */
    double q, xm = c->x[mid];
    size_t j = mid - 1;
    if (on_gain) q = (c->mu[j] - c->mean) + c->V[j] / (c->mu[j] - xm);
    else q = chi2_at(c, j, xm);
    if (q < value) hi = mid - 1;
    else lo = mid;
  }
  size_t j = lo;
  double d;
  if (j == 0) { /* the top atom alone (a budget at saturation, rounded) */
    *out = on_gain ? 1.0 / c->S[0] - 1.0 : c->mu[0] - c->mean;
    *m = c->x[0];
    *jk = 0;
    return;
  }
  if (on_gain) {
    d = c->V[j] / (value - (c->mu[j] - c->mean));
    *out = chi2_at(c, j, c->mu[j] - d);
  } else {
    /* (1 + c) S - 1 = c S - below */
    d = sqrt(c->V[j] / (value * c->S[j] - c->below[j]));
    *out = (c->mu[j] - c->mean) + c->V[j] / d;
  }
  *m = c->mu[j] - d;
  *jk = j;
}

/* ---- total variation on a finite law -------------------------------------- */

/* G(c) = c top - (the sum of the lowest mass c of x), walking up; the
 * inverse walks the same segments, whose slopes are top - x. */
typedef struct {
  size_t n;
  ab_record *r; /* ascending x (a), weight (b) */
} tv_table;

static int tv_setup(const ab_tail *t, tv_table *v) {
  v->n = t->n;
  v->r = ab_alloc_large(t->n * sizeof *v->r);
  if (!v->r) return AB_ENOMEM;
  for (size_t i = 0; i < t->n; i++) {
    v->r[i].key = ab_sort_key(t->x[i]);
    v->r[i].a = t->x[i];
    v->r[i].b = weight(t, i);
  }
  int st = ab_sort_records(v->r, t->n);
  if (st) ab_free(v->r, v->n * sizeof *v->r);
  return st;
}

static double tv_gain(const ab_tail *t, const tv_table *v, double c) {
  ab_sum low = {0, 0};
  double left = c, top = t->sup;
  for (size_t i = 0; i < v->n && left > 0.0 && v->r[i].a < top; i++) {
    double take = fmin(left, v->r[i].b);
    ab_sum_add(&low, take * (top - v->r[i].a));
    left -= take;
  }
  return ab_sum_value(&low);
}

static double tv_needed(const ab_tail *t, const tv_table *v, double g) {
  ab_sum used = {0, 0};
  double left = g, top = t->sup;
  for (size_t i = 0; i < v->n && v->r[i].a < top; i++) {
    double slope = top - v->r[i].a, full = v->r[i].b * slope;
    if (full >= left) {
      ab_sum_add(&used, left / slope);
      return ab_sum_value(&used);
    }
    ab_sum_add(&used, v->r[i].b);
    left -= full;
  }
  return INFINITY;
}

/* ---- exact laws ----------------------------------------------------------- */

typedef struct {
  const ab_tail *t;
  int status;
} quantile_ctx;

static double quantile_fn(double v, void *vctx) {
  quantile_ctx *c = vctx;
  double q;
  if (c->status || v <= 0.0 || v >= 1.0) return 0.0;
  c->status = ab_quantile_centred(c->t, v, 1.0 - v, &q);
  return c->status ? 0.0 : q;
}

/* Total variation on an exact law bounded above: c top - int_0^c Q. */
static int tv_exact(const ab_tail *t, double c, double *out) {
  if (c >= 1.0) {
    *out = t->sup;
    return AB_OK;
  }
  quantile_ctx q = {t, AB_OK};
  gsl_function F = {quantile_fn, &q};
  gsl_integration_workspace *ws = ab_quad_new(200);
  if (!ws) return AB_ENOMEM;
  double r, e;
  int st = gsl_integration_qags(&F, 0.0, c, 0.0, 1e-12, 200, ws, &r, &e);
  ab_quad_free(ws);
  if (q.status) return q.status;
  if (st) return AB_ENOCONV;
  *out = c * t->sup - r;
  return AB_OK;
}

/* ---- Renyi of order inf: the top fraction ------------------------------- */

/* log sup g <= c caps g at e^c, so the optimum keeps the top mass m = e^-c
 * of the reference at ratio 1/m: gain = (1/m) (the sum of x over the top
 * mass m).  A walk down from the top atom. */
static double rinf_gain(const tv_table *v, double c) {
  double m = exp(-c), left = m;
  ab_sum top = {0, 0};
  for (size_t i = v->n; i-- > 0 && left > 0.0;) {
    double take = fmin(left, v->r[i].b);
    ab_sum_add(&top, take * v->r[i].a);
    left -= take;
  }
  return ab_sum_value(&top) / (m - fmax(left, 0.0));
}

/* The inverse: the average of the top mass m is g, solved on the atom where
 * it crosses: (S + (m - M) x) / m = g. */
static double rinf_needed(const tv_table *v, double g) {
  ab_sum S = {0, 0}, M = {0, 0};
  for (size_t i = v->n; i-- > 0;) {
    double x = v->r[i].a, w = v->r[i].b, s0 = ab_sum_value(&S),
           m0 = ab_sum_value(&M);
    if ((s0 + w * x) <= g * (m0 + w)) {
      if (m0 == 0.0) return -log(w); /* g is the top: its atom alone */
      return -log((s0 - m0 * x) / (g - x));
    }
    ab_sum_add(&S, w * x);
    ab_sum_add(&M, w);
  }
  return 0.0;
}

static double quantile_upper_fn(double s, void *vctx) {
  quantile_ctx *c = vctx;
  double q;
  if (c->status || s <= 0.0 || s >= 1.0) return 0.0;
  c->status = ab_quantile_centred(c->t, 1.0 - s, s, &q);
  return c->status ? 0.0 : q;
}

/* An exact law: (1/m) int_0^m Q(1 - s) ds. */
static int rinf_exact(const ab_tail *t, double c, double *out) {
  double m = exp(-c), r, e;
  if (m >= 1.0) {
    *out = 0.0;
    return AB_OK;
  }
  /* the law is centred (int_0^1 Q = 0): for m > 1/2 integrate the bottom
   * mass 1 - m = -expm1(-c) instead, -(1/m) int_0^{1-m} Q, so that small
   * budgets keep their digits */
  int bottom = m > 0.5;
  quantile_ctx q = {t, AB_OK};
  gsl_function F = {bottom ? quantile_fn : quantile_upper_fn, &q};
  gsl_integration_workspace *ws = ab_quad_new(QUAD_LIMIT);
  if (!ws) return AB_ENOMEM;
  int st = gsl_integration_qags(&F, 0.0, bottom ? -expm1(-c) : m, 0.0, 1e-12,
                                QUAD_LIMIT, ws, &r, &e);
  ab_quad_free(ws);
  if (q.status) return q.status;
  if (st && !(e <= 1e-9 * fabs(r))) return AB_ENOCONV;
  *out = (bottom ? -r : r) / m;
  return AB_OK;
}

/* Student t and Pareto: the power families need moments of the reward that
 * these laws may lack (not done yet). */
static int heavy(const ab_tail *t) {
  return t->kind == AB_KIND_STUDENT_T || t->kind == AB_KIND_PARETO;
}

static int is_class(const ab_tail *t) {
  return t->kind == AB_KIND_SUBGAUSSIAN || t->kind == AB_KIND_SUBGAMMA ||
         t->kind == AB_KIND_SUBEXPONENTIAL || t->kind == AB_KIND_BOUNDED ||
         t->kind == AB_KIND_BOUNDED_MEAN || t->kind == AB_KIND_CUMULANT;
}

/* The families that reach any far atom at a finite cost: +inf on a reward
 * that is not bounded above. */
static int reaches_far(const shape *s) {
  return s->kind == SH_TV || s->kind == SH_RKL ||
         (s->kind == SH_POWER && s->a < 1.0);
}

/* ---- assumption classes: the certified routes ------------------------------ */

const char *ab_budget_route_name(int route) {
  switch (route) {
  case AB_BUDGET_EXACT: return "exact";
  case AB_BUDGET_KL: return "kl";
  case AB_BUDGET_KL_CHI2: return "kl via log(1 + chi2)";
  case AB_BUDGET_KL_RENYI: return "kl via kl <= renyi";
  case AB_BUDGET_SD_CHI2: return "sd sqrt(chi2)";
  case AB_BUDGET_TV: return "(hi - lo) tv";
  case AB_BUDGET_TV_HELLINGER: return "(hi - lo) tv, tv from hellinger";
  case AB_BUDGET_TV_PINSKER: return "(hi - lo) tv, tv by pinsker";
  case AB_BUDGET_UNBOUNDED: return "unbounded";
  default: return "unknown route";
  }
}

static void take(double v, int route, double *best, int *broute) {
  if (v < *best) {
    *best = v;
    *broute = route;
  }
}

/* The class bound at budget c: each route gives a KL, a chi2 or a TV. */
static int class_gain(const ab_tail *t, const ab_family *f, const shape *s,
                      double c, double *out, int *route) {
  int bounded = isfinite(t->sup);
  double width = (t->kind == AB_KIND_BOUNDED || t->kind == AB_KIND_BOUNDED_MEAN)
                     ? t->par[1] - t->par[0]
                     : t->sup - t->inf;
  double best = INFINITY, v, s2 = INFINITY;
  int st, br = AB_BUDGET_UNBOUNDED;
  if (c == 0.0) {
    *out = 0.0;
    *route = AB_BUDGET_EXACT;
    return AB_OK;
  }
  if (!bounded && reaches_far(s)) {
    *out = INFINITY;
    *route = AB_BUDGET_UNBOUNDED;
    return AB_OK;
  }
  if (t->kind != AB_KIND_CUMULANT) {
    st = ab_tail_variance_proxy(t, AB_CLOSED, &s2);
    if (st) return st;
  }
  double kl = NAN, chi2 = NAN, tv = NAN;
  int klroute = AB_BUDGET_KL_RENYI;
  if (s->kind == SH_TV) {
    tv = c;
  } else if (s->kind == SH_RKL) {
    tv = sqrt(0.5 * c); /* Pinsker holds for either order */
  } else if (f->kind == AB_HELLINGER) {
    tv = c >= 1.0 ? 1.0 : sqrt(c * (2.0 - c));
  } else {
    /* Renyi of order a: D_a = a T */
    double a = s->a, T = s->kind == SH_RINF ? c : budget_to_t(f, s, c);
    double D = s->kind == SH_RINF ? c : a * T;
    if (f->kind == AB_CHI2) klroute = AB_BUDGET_KL_CHI2;
    if (a >= 1.0) kl = D;             /* KL <= D_a */
    if (a >= 2.0) chi2 = f->kind == AB_CHI2 ? c : expm1(D); /* D_2 <= D_a */
    /* Renyi-Pinsker (van Erven and Harremoes 2014, Thm 31): D_a >= 2 a tv^2 */
    if (a > 0.0 && a < 1.0) tv = sqrt(D / (2.0 * a));
    /* A_a(P||Q) = A_{1-a}(Q||P), so KL(Q||P) <= D_{1-a}(Q||P) = (1 - a) T,
     * then Pinsker */
    if (a < 0.0) tv = sqrt(0.5 * (1.0 - a) * T);
  }
  if (!isnan(kl)) {
    st = ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl, &v);
    if (st) return st;
    take(v, klroute, &best, &br);
  }
  if (!isnan(chi2) && isfinite(s2)) take(sqrt(s2 * chi2), AB_BUDGET_SD_CHI2, &best, &br);
  if (!isnan(tv) && bounded) {
    int r = s->kind == SH_TV ? AB_BUDGET_TV
            : f->kind == AB_HELLINGER ? AB_BUDGET_TV_HELLINGER
                                      : AB_BUDGET_TV_PINSKER;
    take(width * fmin(1.0, tv), r, &best, &br);
  }
  /* no policy gains more than the top of the range */
  if (bounded && t->sup < best) {
    best = t->sup;
    if (br == AB_BUDGET_UNBOUNDED) br = AB_BUDGET_TV;
  }
  *out = best;
  *route = br;
  return AB_OK;
}

/* ---- the public functions ---------------------------------------------- */

/* What a vector call prepares once: the sorted tables of a finite law. */
typedef struct {
  const ab_tail *t;
  const ab_family *f;
  shape sh;
  int finite, has_chi2, has_tv;
  chi2_table chi2;
  tv_table tv;
  bucket_table buckets;
  const bucket_table *bt; /* &buckets once built */
} prep;

static void prep_free(prep *p) {
  if (p->has_chi2) chi2_free(&p->chi2);
  if (p->has_tv) ab_free(p->tv.r, p->tv.n * sizeof *p->tv.r);
  if (p->bt) bucket_free(&p->buckets);
}

static int prep_init(const ab_tail *t, const ab_family *f, prep *p) {
  memset(p, 0, sizeof *p);
  p->t = t;
  p->f = f;
  int st = shape_of(f, &p->sh);
  if (st) return st;
  p->finite = ab_is_finite_law(t) && !is_class(t);
  if (!p->finite || !(t->sup > 0.0)) return AB_OK;
  if (f->kind == AB_CHI2) {
    st = chi2_setup(t, &p->chi2);
    p->has_chi2 = !st;
  } else if (p->sh.kind == SH_TV || p->sh.kind == SH_RINF) {
    st = tv_setup(t, &p->tv);
    p->has_tv = !st;
  } else if ((p->sh.kind == SH_POWER || p->sh.kind == SH_RKL) &&
             t->n >= BK_MIN_ATOMS) {
    st = bucket_setup(t, &p->buckets);
    if (!st) p->bt = &p->buckets;
  }
  return st;
}

/* The saturation budget in T: the law given the top atom (a > 0), or never
 * (a <= 0: g = 0 somewhere costs +inf). */
static double t_saturation(const ab_tail *t, const shape *s) {
  return s->a > 0.0 && t->psup > 0.0 ? t->ksup / s->a : INFINITY;
}

static int gain_one(const prep *p, double c, double *out, int *route) {
  const ab_tail *t = p->t;
  const shape *sh = &p->sh;
  int st;
  if (!(c >= 0.0)) return AB_EDOM;
  *route = is_class(t) ? AB_BUDGET_KL : AB_BUDGET_EXACT;
  if (sh->kind == SH_KL) return ab_tail_bound(t, AB_GAIN, AB_CLOSED, c, out);
  if (is_class(t)) return class_gain(t, p->f, sh, c, out, route);
  if (c == 0.0 || !(t->sup > 0.0)) {
    *out = 0.0;
    return AB_OK;
  }
  if (isinf(t->sup) && reaches_far(sh)) {
    *out = INFINITY;
    return AB_OK;
  }
  if (sh->kind == SH_TV && !p->finite) return tv_exact(t, c, out);
  if (heavy(t)) return AB_EUNDEF;
  if (sh->kind == SH_RINF) {
    if (!p->finite) return rinf_exact(t, c, out);
    *out = c >= t->ksup ? t->sup : fmin(rinf_gain(&p->tv, c), t->sup);
    return AB_OK;
  }
  if (sh->kind == SH_TV) {
    *out = fmin(tv_gain(t, &p->tv, c), t->sup);
    return AB_OK;
  }
  double T = budget_to_t(p->f, sh, c);
  if (T >= t_saturation(t, sh)) {
    *out = t->sup;
    return AB_OK;
  }
  if (p->has_chi2) {
    double m;
    size_t j;
    chi2_solve(&p->chi2, 0, c, out, &m, &j);
    *out = fmin(*out, t->sup);
    return AB_OK;
  }
  param q;
  point pt;
  int sat;
  st = solve_param(t, sh, p->bt, 0, T, &q, &sat);
  if (st) return st;
  if (sat && !p->finite) return AB_EUNDEF; /* a singular part at the top */
  if (sat) {
    *out = t->sup;
    return AB_OK;
  }
  st = eval_param(t, sh, p->bt, &q, &pt);
  if (st) return st;
  *out = fmin(pt.gain, t->sup);
  return AB_OK;
}

/* Classes: the budget at which the (monotone) class bound reaches g, by
 * bisection; 0 where any positive budget gives +inf. */
static int class_needed(const prep *p, double g, double *out, int *route) {
  double lo = 0.0, hi = 1.0, v;
  int st, r;
  for (int k = 0;; k++) {
    st = class_gain(p->t, p->f, &p->sh, hi, &v, &r);
    if (st) return st;
    if (v >= g) break;
    if (k > 2100) { /* the bound saturates below g */
      *out = INFINITY;
      *route = r;
      return AB_OK;
    }
    lo = hi;
    hi *= 2.0;
  }
  if (isinf(v) && lo == 0.0) {
    *out = 0.0;
    *route = r;
    return AB_OK;
  }
  for (int k = 0; k < 2200 && hi - lo > 4e-16 * hi; k++) {
    double mid = 0.5 * (lo + hi);
    st = class_gain(p->t, p->f, &p->sh, mid, &v, &r);
    if (st) return st;
    if (v >= g) hi = mid;
    else lo = mid;
  }
  *out = hi;
  return class_gain(p->t, p->f, &p->sh, hi, &v, route);
}

static int needed_one(const prep *p, double g, double *out, int *route) {
  const ab_tail *t = p->t;
  const shape *sh = &p->sh;
  int st;
  if (isnan(g)) return AB_EDOM;
  *route = is_class(t) ? AB_BUDGET_KL : AB_BUDGET_EXACT;
  if (sh->kind == SH_KL) return ab_tail_kl_needed(t, AB_GAIN, AB_CLOSED, g, out);
  if (g <= 0.0) {
    *out = 0.0;
    return AB_OK;
  }
  if (is_class(t)) return class_needed(p, g, out, route);
  if (g > t->sup) {
    *out = INFINITY;
    return AB_OK;
  }
  if (isinf(t->sup) && reaches_far(sh)) {
    *out = 0.0; /* every positive budget gains +inf */
    return AB_OK;
  }
  if (heavy(t)) return AB_EUNDEF;
  if (sh->kind == SH_RINF && p->finite) {
    *out = g == t->sup ? t->ksup : rinf_needed(&p->tv, g);
    return AB_OK;
  }
  if (sh->kind == SH_RINF) { /* increasing in c: bisection on log c */
    double lo = -40.0, hi = 0.0, v;
    for (int k = 0;; k++, hi += 2.0) {
      if ((st = rinf_exact(t, exp(hi), &v))) return st;
      if (v >= g) break;
      if (k > 400) {
        *out = INFINITY;
        return AB_OK;
      }
    }
    for (int k = 0; k < 200 && hi - lo > 1e-15; k++) {
      double mid = 0.5 * (lo + hi);
      if ((st = rinf_exact(t, exp(mid), &v))) return st;
      if (v >= g) hi = mid;
      else lo = mid;
    }
    *out = exp(hi);
    return AB_OK;
  }
  if (!p->finite && sh->kind == SH_TV) {
    if (g == t->sup) {
      *out = 1.0;
      return AB_OK;
    }
    double lo = 0.0, hi = 1.0, v;
    for (int k = 0; k < 200 && hi - lo > 4e-16 * hi; k++) {
      double mid = 0.5 * (lo + hi);
      st = tv_exact(t, mid, &v);
      if (st) return st;
      if (v >= g) hi = mid;
      else lo = mid;
    }
    *out = hi;
    return AB_OK;
  }
  if (g == t->sup) { /* the law given the top atom */
    *out = sh->kind == SH_TV ? 1.0 - t->psup
                             : t_to_budget(p->f, sh, t_saturation(t, sh));
    return AB_OK;
  }
  if (sh->kind == SH_TV) {
    *out = tv_needed(t, &p->tv, g);
    return AB_OK;
  }
  if (p->has_chi2) {
    double m;
    size_t j;
    chi2_solve(&p->chi2, 1, g, out, &m, &j);
    return AB_OK;
  }
  param q;
  point pt;
  int sat;
  st = solve_param(t, sh, p->bt, 1, g, &q, &sat);
  if (st) return st;
  if (sat && !p->finite) return AB_EUNDEF;
  if (sat) {
    *out = t_to_budget(p->f, sh, t_saturation(t, sh));
    return AB_OK;
  }
  st = eval_param(t, sh, p->bt, &q, &pt);
  if (st) return st;
  *out = t_to_budget(p->f, sh, pt.T);
  return AB_OK;
}

typedef int (*one_fn)(const prep *p, double x, double *out, int *route);

/* One block of a vector call (each budget on its own: the prep is only
 * read, so the blocks may run on any threads). */
typedef struct {
  const prep *p;
  one_fn one;
  int *routes; /* of the whole vector, or NULL */
  const double *x0;
} vec_block_args;

static int run_block(void *ctx, const double *x, size_t n, double *out,
                     size_t *failed_at) {
  const vec_block_args *a = ctx;
  int *routes = a->routes ? a->routes + (x - a->x0) : NULL;
  for (size_t i = 0; i < n; i++) {
    int r = 0, st = a->one(a->p, x[i], &out[i], &r);
    if (routes) routes[i] = r;
    if (st) {
      *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}

static int run_vec(const ab_tail *t, const ab_family *f, one_fn one,
                   const double *x, size_t n, const ab_work *work, double *out,
                   int *routes, size_t *failed_at) {
  prep p;
  if (failed_at) *failed_at = 0;
  int st = prep_init(t, f, &p);
  if (!st && p.finite) {
    /* a finite law calls no user code: its budgets go to the pool */
    vec_block_args a = {&p, one, routes, x};
    st = ab_pool_vec(work, (double)t->n, run_block, &a, x, n, out, failed_at);
  } else {
    for (size_t i = 0; !st && i < n; i++) {
      int r = 0;
      st = one(&p, x[i], &out[i], &r);
      if (st && failed_at) *failed_at = i;
      if (routes) routes[i] = r;
    }
  }
  prep_free(&p);
  return st;
}

int ab_budget_gain(const ab_tail *t, const ab_family *f, const double *budget,
                   size_t n, double *out, int *routes, size_t *failed_at) {
  return run_vec(t, f, gain_one, budget, n, NULL, out, routes, failed_at);
}

int ab_budget_needed(const ab_tail *t, const ab_family *f, const double *gain,
                     size_t n, double *out, int *routes, size_t *failed_at) {
  return run_vec(t, f, needed_one, gain, n, NULL, out, routes, failed_at);
}

int ab_budget_gain_work(const ab_tail *t, const ab_family *f,
                        const double *budget, size_t n, const ab_work *work,
                        double *out, int *routes, size_t *failed_at) {
  return run_vec(t, f, gain_one, budget, n, work, out, routes, failed_at);
}

int ab_budget_needed_work(const ab_tail *t, const ab_family *f,
                          const double *gain, size_t n, const ab_work *work,
                          double *out, int *routes, size_t *failed_at) {
  return run_vec(t, f, needed_one, gain, n, work, out, routes, failed_at);
}

size_t ab_tail_atoms(const ab_tail *t) {
  return ab_is_finite_law(t) && !is_class(t) ? t->n : 0;
}

/* The unnormalised ratio h_i of the optimum (the policy is w_i h_i / sum). */
static int policy_ratios(const prep *p, double c, double *h) {
  const ab_tail *t = p->t;
  const shape *sh = &p->sh;
  size_t n = t->n;
  double top = t->sup;
  int saturated = 0, st;
  if (c == 0.0 || !(top > 0.0)) {
    for (size_t i = 0; i < n; i++) h[i] = 1.0;
    return AB_OK;
  }
  if (sh->kind == SH_TV) {
    /* remove the lowest mass c (values below xs emptied, the value xs keeps
     * the fraction keep) and give it to the top atoms in proportion to
     * their mass */
    double psup = t->psup, moved = fmin(c, 1.0 - psup), left = moved;
    double xs = -INFINITY, keep = 1.0;
    for (size_t k = 0; k < p->tv.n && left > 0.0;) {
      double x = p->tv.r[k].a, mass = 0.0;
      if (!(x < top)) break;
      for (; k < p->tv.n && p->tv.r[k].a == x; k++) mass += p->tv.r[k].b;
      xs = x;
      keep = mass > left ? (mass - left) / mass : 0.0;
      left -= mass;
    }
    for (size_t i = 0; i < n; i++) {
      double x = t->x[i];
      h[i] = x == top ? 1.0 + moved / psup : x < xs ? 0.0 : x == xs ? keep : 1.0;
    }
    return AB_OK;
  }
  if (sh->kind == SH_RINF) {
    /* ratio 1/m on the top mass m = e^-c (the boundary value in part) */
    double m = exp(-c), left = m, xs = INFINITY, keep = 1.0;
    if (c >= t->ksup) m = left = t->psup;
    for (size_t k = p->tv.n; k-- > 0 && left > 0.0;) {
      double x = p->tv.r[k].a, mass = 0.0;
      for (;; k--) {
        mass += p->tv.r[k].b;
        if (k == 0 || p->tv.r[k - 1].a != x) break;
      }
      xs = x;
      keep = mass > left ? left / mass : 1.0;
      left -= mass;
    }
    for (size_t i = 0; i < n; i++) {
      double x = t->x[i];
      h[i] = x > xs ? 1.0 : x == xs ? keep : 0.0;
    }
    return AB_OK;
  }
  double T = budget_to_t(p->f, sh, c);
  if (T >= t_saturation(t, sh)) saturated = 1;
  if (!saturated && p->has_chi2) {
    double m, g;
    size_t j;
    chi2_solve(&p->chi2, 0, c, &g, &m, &j);
    for (size_t i = 0; i < n; i++)
      h[i] = m >= top ? (t->x[i] == top ? 1.0 : 0.0) : fmax(t->x[i] - m, 0.0);
    return AB_OK;
  }
  param q = {0, 0, 0};
  if (!saturated) {
    st = solve_param(t, sh, p->bt, 0, T, &q, &saturated);
    if (st) return st;
  }
  for (size_t i = 0; i < n; i++) {
    double x = t->x[i];
    if (saturated) h[i] = x == top ? 1.0 : 0.0;
    else if (q.regime == 3) {
      double d = exp(q.s);
      h[i] = x >= q.anchor ? pow(((x - q.anchor) + d) / ((top - q.anchor) + d), sh->p) : 0.0;
    } else if (q.regime == 0) {
      double u = sh->a > 1.0 ? exp(q.s) : -exp(q.s);
      h[i] = 1.0 + u * x > 0.0 ? exp(sh->p * log1p(u * x)) : 0.0;
    } else if (sh->a > 1.0) {
      h[i] = x > q.s ? pow((x - q.s) / (top - q.s), sh->p) : 0.0;
    } else {
      double w = exp(q.s);
      if (w > 1e-300) h[i] = pow(((top - x) + w * x) / (top * w), sh->p);
      else h[i] = exp(sh->p * log_r_w(top, x, q.s));
    }
  }
  return AB_OK;
}

int ab_budget_policy(const ab_tail *t, const ab_family *f, double budget,
                     double *policy) {
  prep p;
  if (!ab_tail_atoms(t)) return AB_EUNDEF;
  if (!(budget >= 0.0)) return AB_EDOM;
  int st = prep_init(t, f, &p);
  if (!st && p.sh.kind == SH_KL) {
    /* the tilt: ab_tilt_policy on the atoms */
    double *w = ab_malloc_n(t->n, sizeof *w);
    ab_tilt_summary s;
    if (!w) st = AB_ENOMEM;
    for (size_t i = 0; !st && i < t->n; i++) w[i] = weight(t, i);
    if (!st) st = ab_tilt_policy(w, t->x, t->n, AB_TILT_KL, budget, policy, &s);
    ab_free(w, t->n * sizeof *w);
  } else if (!st) {
    st = policy_ratios(&p, budget, policy);
    ab_sum z = {0, 0};
    for (size_t i = 0; !st && i < t->n; i++) {
      policy[i] *= weight(t, i);
      ab_sum_add(&z, policy[i]);
    }
    double Z = ab_sum_value(&z);
    for (size_t i = 0; !st && i < t->n; i++) policy[i] /= Z;
  }
  prep_free(&p);
  return st;
}
