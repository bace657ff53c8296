/* grpo.c - verifiable (binary) rewards: the exact GRPO dynamics and
 * best-of-n on a binary reward (DESIGN 3.8).
 *
 * Mroueh (2025, arXiv 2503.06639): without clipping, the optimum of each
 * GRPO iteration over all policies is a tilt of the reference by the
 * standardised advantages w+ = (1-p)/sqrt(p(1-p)+eps) on a success and
 * -w- = -p/sqrt(p(1-p)+eps) on a failure, so only the log-odds of success
 * move: logit p_n = logit p_ref + Omega(p_{n-1}) / beta with
 * Omega = w+ + w- = (p(1-p)+eps)^(-1/2).  Everything here is carried in
 * log-odds x, with p and 1 - p each computed from x to full relative
 * precision, so that success probabilities within e^-700 of 1 keep their
 * digits. */
#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <string.h>

#include "internal.h"

/* ---- log-odds ---------------------------------------------------------- */

void ab_logistic(double x, double *p, double *one_minus_p) {
  /* e = e^{-|x|} <= 1: no overflow, and the small side keeps its digits */
  double e = exp(-fabs(x)), big = 1.0 / (1.0 + e), small = e / (1.0 + e);
  *p = x >= 0 ? big : small;
  *one_minus_p = x >= 0 ? small : big;
}

/* log p = -log(1 + e^{-x}) without overflow */
static double log_sigmoid(double x) {
  return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

int ab_logit(double p, double *x) {
  if (!(p >= 0.0 && p <= 1.0)) return AB_EDOM;
  /* 1 - p is exact for p >= 1/2 (Sterbenz), and log p loses nothing */
  *x = p < 0.5 ? log(p) - log1p(-p) : log(p) - log(1.0 - p);
  return AB_OK;
}

/* log(e^a + e^b) */
static double log_add(double a, double b) {
  double hi = a > b ? a : b, lo = a > b ? b : a;
  if (hi == -INFINITY) return -INFINITY;
  return hi + log1p(exp(lo - hi));
}

/* ---- the map ----------------------------------------------------------- */

typedef struct {
  int variant;
  double xr;    /* logit p_ref */
  double beta, eps, alpha;
  double b;     /* the fixed-point scale: beta (standard), alpha beta (two_kl) */
  double log_eps;
} grpo_ctx;

int ab_grpo_variant(const char *name) {
  if (!name) return 0;
  if (strcmp(name, "grpo") == 0) return AB_GRPO_STANDARD;
  if (strcmp(name, "dr_grpo") == 0) return AB_GRPO_DR;
  if (strcmp(name, "mirror") == 0) return AB_GRPO_MIRROR;
  if (strcmp(name, "two_kl") == 0) return AB_GRPO_TWO_KL;
  return 0;
}

const char *ab_grpo_variant_name(int variant) {
  switch (variant) {
  case AB_GRPO_STANDARD: return "grpo";
  case AB_GRPO_DR: return "dr_grpo";
  case AB_GRPO_MIRROR: return "mirror";
  case AB_GRPO_TWO_KL: return "two_kl";
  default: return NULL;
  }
}

int ab_grpo_check(const ab_grpo *g) {
  if (!g || !ab_grpo_variant_name(g->variant)) return AB_EDOM;
  if (!(g->p_ref >= 0.0 && g->p_ref <= 1.0)) return AB_EDOM;
  if (!(g->beta > 0.0 && isfinite(g->beta))) return AB_EDOM;
  if (!(g->eps >= 0.0 && isfinite(g->eps))) return AB_EDOM;
  if (g->variant == AB_GRPO_TWO_KL && !(g->alpha >= 0.0 && g->alpha <= 1.0))
    return AB_EDOM;
  return AB_OK;
}

/* The context of a checked ab_grpo; two_kl at alpha 0 and 1 is the mirror
 * and the standard map exactly (no 0 * inf). */
static int setup(const ab_grpo *g, grpo_ctx *c) {
  if (ab_grpo_check(g)) return AB_EDOM;
  c->variant = g->variant;
  c->alpha = g->variant == AB_GRPO_TWO_KL ? g->alpha : 1.0;
  if (g->variant == AB_GRPO_TWO_KL && g->alpha == 0.0)
    c->variant = AB_GRPO_MIRROR;
  if (g->variant == AB_GRPO_TWO_KL && g->alpha == 1.0)
    c->variant = AB_GRPO_STANDARD;
  ab_logit(g->p_ref, &c->xr);
  c->beta = g->beta;
  c->eps = g->eps;
  c->b = c->alpha * g->beta;
  c->log_eps = g->eps > 0.0 ? log(g->eps) : -INFINITY;
  return AB_OK;
}

/* Omega(x) = (u + eps)^(-1/2) with u = p(1-p) = e^{-|x|}/(1 + e^{-|x|})^2,
 * and what its derivative needs: dOmega/dx = tanh(x/2) phi / 2 with
 * phi = u (u + eps)^(-3/2) = ratio Omega, ratio = u / (u + eps).  Far out
 * (u below 1e-300) in logarithms, where u itself would underflow. */
typedef struct {
  double omega, ratio, th, lu; /* th = tanh(|x|/2) >= 0, lu = log u */
  double lom;                  /* log Omega, finite where Omega overflows */
} omega_t;

static void omega_at(const grpo_ctx *c, double x, omega_t *o) {
  double a = fabs(x), e = exp(-a);
  o->th = (1.0 - e) / (1.0 + e);
  if (a < 690.0) {
    double u = e / ((1.0 + e) * (1.0 + e)), s = u + c->eps;
    o->omega = 1.0 / sqrt(s);
    o->ratio = u / s;
    o->lu = log(u);
    o->lom = -0.5 * log(s);
    return;
  }
  o->lu = -a - 2.0 * log1p(e);
  double ls = log_add(o->lu, c->log_eps);
  o->lom = -0.5 * ls;
  o->omega = exp(o->lom); /* +inf at x = +-inf with eps = 0 */
  o->ratio = isfinite(ls) ? exp(o->lu - ls) : 1.0;
}

static double omega(const grpo_ctx *c, double x) {
  omega_t o;
  omega_at(c, x, &o);
  return o.omega;
}

/* dOmega/dx, odd in x */
static double omega_slope(const grpo_ctx *c, double x) {
  omega_t o;
  omega_at(c, x, &o);
  double v = 0.5 * o.th * o.ratio * o.omega;
  if (o.th == 0.0) v = 0.0; /* x = 0 (and no inf * 0 at eps = 0) */
  return x >= 0 ? v : -v;
}

/* One step in log-odds, with the support rules at +-inf. */
static int step(const grpo_ctx *c, double x, double *out) {
  double xr = c->xr;
  switch (c->variant) {
  case AB_GRPO_DR:
    *out = isfinite(xr) ? xr + 1.0 / c->beta : xr;
    return AB_OK;
  case AB_GRPO_STANDARD:
    *out = isfinite(xr) ? xr + omega(c, x) / c->beta : xr;
    return AB_OK;
  case AB_GRPO_MIRROR:
    *out = isfinite(x) ? x + omega(c, x) / c->beta : x;
    return AB_OK;
  default: /* two_kl, 0 < alpha < 1: ref^alpha prev^(1-alpha) e^{...} / Z */
    if (!isfinite(x) && !isfinite(xr) && (x > 0) != (xr > 0)) return AB_EDOM;
    if (!isfinite(x)) *out = x;
    else if (!isfinite(xr)) *out = xr;
    else *out = c->alpha * xr + (1.0 - c->alpha) * x + omega(c, x) / c->beta;
    return AB_OK;
  }
}

/* d step / dx at a finite x */
static double step_slope(const grpo_ctx *c, double x) {
  switch (c->variant) {
  case AB_GRPO_DR: return 0.0;
  case AB_GRPO_STANDARD: return omega_slope(c, x) / c->beta;
  case AB_GRPO_MIRROR: return 1.0 + omega_slope(c, x) / c->beta;
  default: return (1.0 - c->alpha) + omega_slope(c, x) / c->beta;
  }
}

int ab_grpo_step(const ab_grpo *g, double x, double *next) {
  grpo_ctx c;
  if (setup(g, &c) || isnan(x)) return AB_EDOM;
  return step(&c, x, next);
}

int ab_grpo_step_p(const ab_grpo *g, double p, double *p_next,
                   double *x_next) {
  double x, q;
  if (ab_logit(p, &x)) return AB_EDOM;
  int st = ab_grpo_step(g, x, x_next);
  if (st) return st;
  ab_logistic(*x_next, p_next, &q);
  return AB_OK;
}

int ab_grpo_trajectory(const ab_grpo *g, size_t steps, double *p, double *x) {
  grpo_ctx c;
  double cur, q;
  if (setup(g, &c)) return AB_EDOM;
  cur = c.xr;
  for (size_t i = 0; i < steps; i++) {
    int st = step(&c, cur, &cur);
    if (st) return st;
    if (p) ab_logistic(cur, &p[i], &q);
    if (x) x[i] = cur;
  }
  return AB_OK;
}

/* ---- KL and gain of a tilt in log-odds --------------------------------- */

/* w h(e^L) with h(t) = t log t - t + 1 >= 0 and v = w e^L: the series form
 * near L = 0 (where it is about w L^2 / 2), else v (L - 1) + w. */
static double h_term(double w, double v, double L) {
  if (w == 0.0) return 0.0;
  if (v == 0.0) return w; /* L = -inf */
  if (fabs(L) < 0.5) {
    double em1x, em1;
    ab_em1x(L, &em1x, &em1);
    return w * (L * em1 - em1x);
  }
  return v * (L - 1.0) + w;
}

/* KL and gain of the tilt logit q = logit p_ref + d (d >= 0 finite):
 * kl_bin(q || p) = p h(q/p) + (1-p) h((1-q)/(1-p)), two terms >= 0 (no
 * cancellation near q = p), with L1 = log(q/p) = -log(p + (1-p) e^{-d})
 * and L2 = log((1-q)/(1-p)) = -log(1-p + p e^d): by log1p for |d| < 1,
 * by log-sum-exp of log p and log(1-p) beyond. */
static void tilt_kl_gain(double xr, double d, double *kl, double *gain) {
  double p, pc, q, qc, L1, L2;
  ab_logistic(xr, &p, &pc);
  ab_logistic(xr + d, &q, &qc);
  if (fabs(d) < 1.0) {
    L1 = -log1p(pc * expm1(-d));
    L2 = -log1p(p * expm1(d));
  } else {
    double lp = log_sigmoid(xr), lpc = log_sigmoid(-xr);
    L1 = -log_add(lpc - d, lp);
    L2 = -log_add(lpc, lp + d);
  }
  *kl = h_term(p, q, L1) + h_term(pc, qc, L2);
  /* q - p = q (1 - p) (1 - e^{-d}) */
  *gain = q * pc * -expm1(-d);
}

/* The point at log-odds xr + d. */
static void make_point(const grpo_ctx *c, double d, ab_grpo_point *pt) {
  double q;
  pt->logit = c->xr + d;
  ab_logistic(pt->logit, &pt->p, &q);
  pt->slope = step_slope(c, pt->logit);
  pt->attracting = fabs(pt->slope) < 1.0;
  tilt_kl_gain(c->xr, d, &pt->kl, &pt->gain);
}

/* ---- fixed points ------------------------------------------------------ */

/* Omega / b, through logarithms where it overflows (eps = 0 far out with a
 * huge b), capped at DBL_MAX so that the root finder sees finite values. */
static double over_b(const grpo_ctx *c, double omega_value, double lom) {
  double q = omega_value / c->b;
  if (isfinite(q)) return q;
  return fmin(exp(lom - log(c->b)), DBL_MAX);
}

/* G(d) = Omega(xr + d) / b - d: its roots d > 0 are the fixed points
 * xr + d (standard: b = beta; two_kl: alpha x = alpha xr + Omega / beta). */
static double G(const grpo_ctx *c, double d) {
  omega_t o;
  omega_at(c, c->xr + d, &o);
  double g = over_b(c, o.omega, o.lom) - d;
  return fmax(fmin(g, DBL_MAX), -DBL_MAX);
}

static double G_gsl(double d, void *c) { return G(c, d); }

/* Brent (GSL) on [lo, hi] where G changes sign. */
static int brent(const grpo_ctx *c, gsl_root_fsolver *s, double lo,
                 double hi, double *root) {
  gsl_function F = {G_gsl, (void *)c};
  int st = gsl_root_fsolver_set(s, &F, lo, hi);
  for (int it = 0; !st && it < 200; it++) {
    st = gsl_root_fsolver_iterate(s);
    if (st) break;
    lo = gsl_root_fsolver_x_lower(s);
    hi = gsl_root_fsolver_x_upper(s);
    if (gsl_root_test_interval(lo, hi, 0.0, 2.0 * DBL_EPSILON) == GSL_SUCCESS)
      break;
  }
  *root = gsl_root_fsolver_root(s);
  return st ? AB_ENOCONV : AB_OK;
}

typedef struct {
  double d[AB_GRPO_MAX_POINTS];
  size_t n;
  int overflow;
} roots_t;

static int add_root(roots_t *r, double d) {
  for (size_t i = 0; i < r->n; i++)
    if (fabs(r->d[i] - d) <= 4.0 * DBL_EPSILON * fabs(d)) return AB_OK;
  if (r->n == AB_GRPO_MAX_POINTS) return AB_ERANGE;
  r->d[r->n++] = d;
  return AB_OK;
}

/* A cell [a, c] of d with G(a), G(c) known: a root at an end, or a sign
 * change to refine. */
static int settle(const grpo_ctx *c, gsl_root_fsolver *s, roots_t *r,
                  double a, double ga, double b, double gb) {
  double root;
  if (ga == 0.0) return add_root(r, a);
  if (gb == 0.0) return add_root(r, b);
  if ((ga > 0) == (gb > 0)) return AB_OK;
  int st = brent(c, s, a, b, &root);
  return st ? st : add_root(r, root);
}

#define MAX_CELLS 20000

/* The side x >= 0 of [lo, hi] (in d): a cell is dropped when bounds of G
 * over it exclude 0 (Omega increases with x there, so
 * Omega(xa)/b - dc <= G <= Omega(xc)/b - da), settled when bounds of G'
 * exclude 0 (G monotone: one root at most, where the ends differ in sign),
 * and split otherwise.  G' = Omega'/b - 1 with Omega' = tanh(x/2) phi(u)/2,
 * tanh increasing in x, u decreasing, phi(u) = u (u+eps)^(-3/2) increasing
 * for u < 2 eps and decreasing above. */
static int search_right(const grpo_ctx *c, gsl_root_fsolver *s, roots_t *r,
                        double lo, double hi) {
  struct {
    double a, ga, b, gb;
  } stack[512];
  int top = 0, cells = 0;
  double l2e = log(2.0) + c->log_eps;
  double phi_peak = c->eps > 0 ? 2.0 / (3.0 * sqrt(3.0) * sqrt(c->eps)) : 0;
  stack[top].a = lo;
  stack[top].ga = G(c, lo);
  stack[top].b = hi;
  stack[top].gb = G(c, hi);
  top++;
  while (top > 0) {
    top--;
    double a = stack[top].a, ga = stack[top].ga, b = stack[top].b,
           gb = stack[top].gb;
    if (++cells > MAX_CELLS) return AB_ENOCONV;
    omega_t oa, ob;
    double xa = c->xr + a, xb = c->xr + b;
    omega_at(c, xa, &oa);
    omega_at(c, xb, &ob);
    double qa = over_b(c, oa.omega, oa.lom), qb = over_b(c, ob.omega, ob.lom);
    double slack = 8.0 * DBL_EPSILON *
                   ((qa + qb) * (2.0 + fabs(xb)) + fabs(a) + fabs(b));
    double gmin = qa - b, gmax = qb - a;
    if (gmin > slack || gmax < -slack) continue; /* no root in the cell */
    /* phi over the cell: u runs from u(xb) (small) to u(xa) */
    /* phi / b = ratio Omega / b */
    double phia = oa.ratio * qa, phib = ob.ratio * qb;
    double phimin = fmin(phia, phib), phimax = fmax(phia, phib);
    if (c->eps > 0 && ob.lu <= l2e && l2e <= oa.lu) phimax = phi_peak / c->b;
    if (c->eps == 0.0) phimax = phib; /* phi = u^(-1/2), largest at xb */
    double dmin = 0.5 * oa.th * phimin - 1.0;
    double dmax = 0.5 * ob.th * phimax - 1.0;
    if (dmin > 1e-9 || dmax < -1e-9 ||
        b - a <= 8.0 * DBL_EPSILON * (fabs(a) + fabs(b) + fabs(xa))) {
      int st = settle(c, s, r, a, ga, b, gb);
      if (st) return st;
      continue;
    }
    if (top + 2 > 512) return AB_ENOCONV;
    /* geometric halves over a long cell (dhi can be eps^(-1/2)/b) */
    double m = a > 0 && b > 4.0 * a ? sqrt(a) * sqrt(b) : 0.5 * (a + b);
    double gm = G(c, m);
    /* right half first on the stack: the left is taken next */
    stack[top].a = m;
    stack[top].ga = gm;
    stack[top].b = b;
    stack[top].gb = gb;
    top++;
    stack[top].a = a;
    stack[top].ga = ga;
    stack[top].b = m;
    stack[top].gb = gm;
    top++;
  }
  return AB_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Every root d of G, ascending.  Where they can be: Omega >= Omega(1/2) =
 * (1/4 + eps)^(-1/2), so d >= dlo = that / b and G(dlo) >= 0; with eps > 0,
 * Omega <= eps^(-1/2), so d <= dhi = eps^(-1/2) / b and G <= 0 beyond; with
 * eps = 0, Omega >= e^{|x|/2} (u <= e^{-|x|}), so past the dhi found below
 * G(d) >= e^{(xr+d)/2}/b - d > 0 and grows.  On x <= 0 Omega decreases, so
 * G' <= -1 and one sign change at most. */
static int find_roots(const grpo_ctx *c, roots_t *r) {
  /* the ends are moved out by a few ulps so that G's signs there hold
   * under rounding (G can be flat at dhi: Omega = eps^(-1/2) in doubles) */
  double dlo = 1.0 / sqrt(0.25 + c->eps) / c->b * (1.0 - 64.0 * DBL_EPSILON);
  double dhi;
  r->n = 0;
  if (!isfinite(dlo)) return c->eps > 0 ? AB_ERANGE : AB_OK;
  if (c->eps > 0) {
    dhi = 1.0 / sqrt(c->eps) / c->b * (1.0 + 64.0 * DBL_EPSILON);
    if (!isfinite(dhi) || !isfinite(c->xr + dhi)) return AB_ERANGE;
  } else {
    /* K(D) = e^{(xr+D)/2}/b - D is increasing once e^{(xr+D)/2} >= 2b */
    dhi = fmax(fmax(dlo, -c->xr), 2.0 * log(2.0 * c->b) - c->xr);
    if (dhi < 1.0) dhi = 1.0;
    while (!(0.5 * (c->xr + dhi) - log(c->b) > log(dhi))) {
      dhi *= 2.0;
      if (!isfinite(dhi)) return AB_ERANGE;
    }
  }
  if (dhi <= dlo) {
    /* eps > 0 so large that Omega is flat: G(dlo) >= 0 >= G(dhi) meet */
    if (c->eps > 0) r->d[r->n++] = dlo;
    return AB_OK;
  }
  gsl_root_fsolver *s = ab_root_fsolver_new(gsl_root_fsolver_brent);
  if (!s) return AB_ENOMEM;
  int st = AB_OK;
  double d0 = -c->xr; /* x = 0 */
  if (dlo < d0) {
    double b = fmin(d0, dhi);
    st = settle(c, s, r, dlo, G(c, dlo), b, G(c, b));
  }
  if (!st && dhi > d0) st = search_right(c, s, r, fmax(dlo, d0), dhi);
  ab_root_fsolver_free(s);
  if (st) return st;
  qsort(r->d, r->n, sizeof(double), cmp_double);
  return AB_OK;
}

int ab_grpo_fixed_points(const ab_grpo *g, ab_grpo_point *pts,
                         size_t *count) {
  grpo_ctx c;
  roots_t r;
  if (setup(g, &c) || !pts || !count) return AB_EDOM;
  *count = 0;
  if (!isfinite(c.xr) || c.variant == AB_GRPO_MIRROR) return AB_OK;
  if (c.variant == AB_GRPO_DR) {
    make_point(&c, 1.0 / c.beta, &pts[0]);
    *count = 1;
    return AB_OK;
  }
  int st = find_roots(&c, &r);
  if (st) return st;
  for (size_t i = 0; i < r.n; i++) make_point(&c, r.d[i], &pts[i]);
  *count = r.n;
  return AB_OK;
}

/* ---- the limit from p_ref ---------------------------------------------- */

/* sup |h'| over [xa, xb] (xa <= xb), +inf when no finite bound holds.
 * h' = (1 - alpha) + Omega'/beta (alpha = 1 but for two_kl) with Omega' =
 * sgn(x) tanh(|x|/2) phi(u) / 2, phi = u (u + eps)^(-3/2) = ratio Omega:
 * with |x| in [m, M] on the interval, tanh(|x|/2) lies in [th(m), th(M)]
 * and u in [u(M), u(m)], and phi (increasing in u below 2 eps, decreasing
 * above) between its values at the ends, or up to its peak
 * 2 / (3 sqrt(3 eps)) when u = 2 eps is inside (eps = 0: phi = u^(-1/2),
 * largest at M). */
static double slope_sup(const grpo_ctx *c, double xa, double xb) {
  if (!(isfinite(xa) && isfinite(xb))) return INFINITY;
  double m = xa >= 0 ? xa : xb <= 0 ? -xb : 0.0;
  double M = fmax(fabs(xa), fabs(xb));
  omega_t om, oM;
  omega_at(c, m, &om);
  omega_at(c, M, &oM);
  double phim = om.ratio * om.omega, phiM = oM.ratio * oM.omega;
  double phimin = fmin(phim, phiM), phimax = fmax(phim, phiM);
  double l2e = log(2.0) + c->log_eps;
  if (c->eps > 0 && oM.lu <= l2e && l2e <= om.lu)
    phimax = 2.0 / (3.0 * sqrt(3.0) * sqrt(c->eps));
  /* |Omega'| / beta in [lo, hi], widened by 1e-12 over the rounding */
  double lo = 0.5 * om.th * phimin / c->beta * (1.0 - 1e-12);
  double hi = 0.5 * oM.th * phimax / c->beta * (1.0 + 1e-12);
  double k = 1.0 - c->alpha;
  if (isnan(lo) || isnan(hi)) return INFINITY;
  /* x <= 0: h' = k - |Omega'|/beta; otherwise h' <= k + hi and
   * h' >= k - hi >= -(k + hi) */
  return xb <= 0 ? fmax(fabs(k - lo), fabs(k - hi)) : k + hi;
}

/* Whether the orbit from x provably converges to the cycle a[0..k-1]
 * (h(a[i]) = a[i+1 mod k]; k = 1: a fixed point) of multiplier mult, a[j]
 * the point nearest x.  With J_i = [a_i - r_i, a_i + r_i], L_i = sup |h'|
 * on J_i and delta >= |h(a_i) - a_{i+1}| (the cycle's residual and a
 * step's rounding), h maps J_i into J_{i+1} when r_{i+1} = L_i r_i +
 * delta; if after k such steps r is back within r_j and prod L_i < 1, h^k
 * is a contraction of J_j into itself, so the iterates from x converge to
 * a cycle point in J_j (Banach's fixed-point theorem).  r_j starts at
 * |x - a_j| and grows (twice at most) to absorb the deltas: r_k = L r_j +
 * D needs r_j >= D / (1 - L). */
static int certify(const grpo_ctx *c, const double *a, size_t k, size_t j,
                   double x, double mult) {
  double delta = 0.0, y;
  if (!(fabs(mult) < 1.0)) return 0;
  for (size_t i = 0; i < k; i++) {
    if (step(c, a[i], &y)) return 0;
    double next = a[(i + 1) % k];
    delta = fmax(delta, fabs(y - next) + 16.0 * DBL_EPSILON *
                 (1.0 + fabs(y) + fabs(a[i]) + fabs(c->xr)));
  }
  double r0 = fabs(x - a[j]) + delta;
  for (int pass = 0; pass < 3; pass++) {
    double r = r0, L = 1.0;
    for (size_t i = 0; i < k; i++) {
      double ai = a[(j + i) % k], s = slope_sup(c, ai - r, ai + r);
      L *= s;
      r = s * r + delta;
    }
    if (!(L < 1.0)) return 0;
    if (r <= r0) return 1;
    r0 = fmax(r0, 2.0 * (r - L * r0) / (1.0 - L));
  }
  return 0;
}

/* The iterations after the current one until the orbit, at distance d from
 * the cycle point a (k steps shrinking it by |mult|), is within
 * 1e-12 (1 + |a|) of it in log-odds: k ceil(log(tol / d) / log |mult|). */
static size_t more_steps(double d, double a, size_t k, double mult) {
  double tol = 1e-12 * (1.0 + fabs(a));
  if (d <= tol || mult == 0.0) return 0;
  double more = ceil(log(tol / d) / log(fabs(mult))) * (double)k;
  return more < 1e15 ? (size_t)more : (size_t)1e15;
}

/* A cycle of period k through a point near x: Newton's method on
 * F(y) = h^k(y) - y, F'(y) = prod h'(h^i(y)) - 1 (away from 0 near an
 * attracting cycle, where the product lies in (-1, 1)), until its step
 * reaches the rounding.  a[0..k-1]: the orbit from the point found, *mult
 * its multiplier.  0 when Newton fails, the cycle repels, or its points are
 * not pairwise apart far beyond the rounding (a fixed point, or a shorter
 * cycle seen k times: then the period is not k). */
static int find_cycle(const grpo_ctx *c, double x, size_t k, double *a,
                      double *mult) {
  double y = x, prev = INFINITY;
  for (int it = 0;; it++) {
    double z = y, m = 1.0;
    if (it == 60) return 0;
    for (size_t i = 0; i < k; i++) {
      m *= step_slope(c, z);
      if (step(c, z, &z)) return 0;
    }
    double dy = (z - y) / (1.0 - m);
    if (!isfinite(dy) || !isfinite(z)) return 0;
    y += dy;
    /* quadratic convergence ends where rounding takes over: the step no
     * longer halves */
    if (fabs(dy) <= 4.0 * DBL_EPSILON * (1.0 + fabs(y)) ||
        (fabs(dy) > 0.5 * prev && fabs(dy) <= 1e-9 * (1.0 + fabs(y))))
      break;
    prev = fabs(dy);
  }
  double m = 1.0, top = fabs(c->xr), res = 0.0;
  a[0] = y;
  for (size_t i = 0; i < k; i++) {
    double z;
    m *= step_slope(c, a[i]);
    if (step(c, a[i], &z) || !isfinite(z)) return 0;
    if (i + 1 < k) a[i + 1] = z;
    else res = fabs(z - a[0]);
    top = fmax(top, fabs(z));
  }
  *mult = m;
  if (!(fabs(m) < 1.0)) return 0;
  double noise = res + 16.0 * DBL_EPSILON * (double)k * (1.0 + top);
  for (size_t i = 0; i < k; i++)
    for (size_t l = i + 1; l < k; l++)
      if (!(fabs(a[i] - a[l]) > 1e4 * noise)) return 0;
  return 1;
}

/* log(p (1 - p)) at log-odds x */
static double log_pq(double x) {
  return -fabs(x) - 2.0 * log1p(exp(-fabs(x)));
}

/* The limit a k-cycle a[0..k-1] (k >= 2), proved attracting with
 * multiplier mult: its points in orbit order from the lowest, each slope
 * h'(p) = dp_next/dp = (dx_next/dx) p_next (1 - p_next) / (p (1 - p)) (the
 * product over the cycle is the multiplier), p, kl and gain averaged. */
static void limit_cycle(const grpo_ctx *c, ab_grpo_limit_result *out,
                        const double *a, size_t k, double mult,
                        size_t steps) {
  size_t low = 0;
  for (size_t i = 1; i < k; i++)
    if (a[i] < a[low]) low = i;
  ab_sum ps = {0, 0}, ks = {0, 0}, gs = {0, 0};
  out->kind = k == 2 ? AB_GRPO_CYCLE : AB_GRPO_PERIODIC;
  out->npoints = k;
  out->p_min = 1.0;
  out->p_max = 0.0;
  for (size_t i = 0; i < k; i++) {
    ab_grpo_point *pt = &out->point[i];
    double x = a[(low + i) % k], next = a[(low + i + 1) % k];
    make_point(c, x - c->xr, pt);
    pt->slope *= exp(log_pq(next) - log_pq(x));
    pt->attracting = 1;
    ab_sum_add(&ps, pt->p);
    ab_sum_add(&ks, pt->kl);
    ab_sum_add(&gs, pt->gain);
    out->p_min = fmin(out->p_min, pt->p);
    out->p_max = fmax(out->p_max, pt->p);
  }
  out->p = ab_sum_value(&ps) / (double)k;
  out->kl = ab_sum_value(&ks) / (double)k;
  out->gain = ab_sum_value(&gs) / (double)k;
  out->multiplier = mult;
  out->period = k;
  out->steps = steps;
}

static void limit_single(ab_grpo_limit_result *out, int kind,
                         const ab_grpo_point *pt, size_t steps) {
  out->kind = kind;
  out->npoints = 1;
  out->point[0] = *pt;
  out->p = pt->p;
  out->kl = pt->kl;
  out->gain = pt->gain;
  out->multiplier = pt->slope;
  out->p_min = out->p_max = pt->p;
  out->period = 1;
  out->steps = steps;
}

enum { RING = 128 };

/* The lag k in 2..RING/2 at which the last iterate nearly returns (within
 * 1e-3 of its distance to every iterate of a shorter lag, itself far above
 * the rounding noise): a candidate period; 0 if none. */
static size_t lag_candidate(const double *ring, size_t n, double noise) {
  double x = ring[n % RING], nearest = INFINITY;
  for (size_t k = 1; k <= RING / 2; k++) {
    double d = fabs(x - ring[(n - k) % RING]);
    if (k >= 2 && d <= 1e-3 * nearest && nearest > 1e3 * noise) return k;
    nearest = fmin(nearest, d);
  }
  return 0;
}

/* Where the orbit from p_ref goes, told apart in log-odds.  A fixed point
 * (found by find_roots) is the limit once a contraction about it is proved
 * (certify), a cycle of period k once the orbit nearly repeats at lag k,
 * Newton's method finds the cycle exactly with pairwise distinct points,
 * and a contraction about it is proved; the steps still needed are then
 * predicted from the multiplier. */
int ab_grpo_limit(const ab_grpo *g, ab_grpo_limit_result *out) {
  grpo_ctx c;
  roots_t r;
  ab_grpo_point pt;
  if (setup(g, &c) || !out) return AB_EDOM;
  memset(out, 0, sizeof *out);
  if (!isfinite(c.xr)) {
    /* p_ref = 0 or 1: every variant keeps it (mirror starts there) */
    pt.p = g->p_ref;
    pt.logit = c.xr;
    pt.slope = 0.0;
    pt.attracting = 1;
    pt.kl = pt.gain = 0.0;
    limit_single(out, AB_GRPO_ABSORBING, &pt, 0);
    return AB_OK;
  }
  if (c.variant == AB_GRPO_MIRROR) {
    /* logit rises by at least Omega(1/2)/beta > 0 per step, for ever */
    pt.p = 1.0;
    pt.logit = INFINITY;
    pt.slope = 1.0;
    pt.attracting = 1;
    pt.kl = -log_sigmoid(c.xr); /* kl_bin(1 || p_ref) = -log p_ref */
    ab_logistic(-c.xr, &pt.gain, &pt.p); /* gain = 1 - p_ref */
    pt.p = 1.0;
    limit_single(out, AB_GRPO_CERTAINTY, &pt, 0);
    return AB_OK;
  }
  if (c.variant == AB_GRPO_DR) {
    make_point(&c, 1.0 / c.beta, &pt);
    limit_single(out, AB_GRPO_FIXED, &pt, 1);
    return AB_OK;
  }
  int st = find_roots(&c, &r);
  if (st) return st;
  double top = r.n ? c.xr + r.d[r.n - 1] : -INFINITY;
  ab_grpo_point fixed[AB_GRPO_MAX_POINTS];
  for (size_t i = 0; i < r.n; i++) make_point(&c, r.d[i], &fixed[i]);
  double x0 = c.xr, x1 = c.xr, x2 = c.xr, q;
  enum { LYAP_FROM = 10000 };
  double ring[RING], lyap = 0.0, cyc[AB_GRPO_MAX_PERIOD], mult;
  double lo = INFINITY, hi = -INFINITY, tested = INFINITY;
  size_t n, cycle_next = 2, cycle_wait = 1;
  for (n = 1; n <= AB_GRPO_MAX_STEPS; n++) {
    if ((st = step(&c, x1, &x2))) return st;
    if (x2 == INFINITY || (c.eps == 0.0 && x2 >= 0.0 && x2 > top && x2 > x1)) {
      /* eps = 0 past the largest fixed point: G > 0 there and the map
       * increases, so the orbit climbs for ever */
      pt.p = 1.0;
      pt.logit = INFINITY;
      pt.slope = INFINITY;
      pt.attracting = 1;
      pt.kl = -log_sigmoid(c.xr);
      ab_logistic(-c.xr, &pt.gain, &q);
      limit_single(out, AB_GRPO_CERTAINTY, &pt, n);
      return AB_OK;
    }
    ring[n % RING] = x2;
    /* the rounding of one step: x2 = xr + Omega/beta (+ (1-alpha) x1)
     * carries errors of a few ulps of each term */
    double scale = 1.0 + fabs(x2) + fabs(c.xr) + fabs(x2 - c.xr);
    double tol = 16.0 * DBL_EPSILON * scale;
    /* the nearest attracting fixed point: try to prove convergence to it
     * each time the distance has halved */
    size_t best = r.n;
    for (size_t i = 0; i < r.n; i++)
      if (fixed[i].attracting &&
          (best == r.n || fabs(fixed[i].logit - x2) <
                              fabs(fixed[best].logit - x2)))
        best = i;
    if (best < r.n) {
      double d = fabs(fixed[best].logit - x2);
      if (d <= 0.5 * tested) {
        tested = d;
        if (certify(&c, &fixed[best].logit, 1, 0, x2, fixed[best].slope)) {
          limit_single(out, AB_GRPO_FIXED, &fixed[best],
                       n + more_steps(d, fixed[best].logit, 1,
                                      fixed[best].slope));
          return AB_OK;
        }
      }
    }
    if (fabs(x2 - x1) <= tol) {
      /* a fixed point in doubles (a neutral one, which no contraction
       * proves): the one found above, else its own */
      size_t near = 0;
      for (size_t i = 1; i < r.n; i++)
        if (fabs(fixed[i].logit - x2) < fabs(fixed[near].logit - x2))
          near = i;
      if (r.n && fabs(fixed[near].logit - x2) <= 1e-6 * scale)
        pt = fixed[near];
      else
        make_point(&c, x2 - c.xr, &pt);
      limit_single(out, AB_GRPO_FIXED, &pt, n);
      return AB_OK;
    }
    if (n >= cycle_next) {
      /* a cycle: lag 2 at every step, lags up to RING/2 now and then */
      size_t k = 0;
      if (n >= 2 && fabs(x2 - x0) <= 1e-3 * fabs(x2 - x1) &&
          fabs(x2 - x1) > 1e3 * tol)
        k = 2;
      else if (n % 64 == 0 && n >= RING)
        k = lag_candidate(ring, n, tol);
      if (k) {
        if (find_cycle(&c, x2, k, cyc, &mult)) {
          size_t j = 0;
          for (size_t i = 1; i < k; i++)
            if (fabs(cyc[i] - x2) < fabs(cyc[j] - x2)) j = i;
          if (certify(&c, cyc, k, j, x2, mult)) {
            limit_cycle(&c, out, cyc, k, mult,
                        n + more_steps(fabs(cyc[j] - x2), cyc[j], k, mult));
            return AB_OK;
          }
        }
        /* not yet (or not a cycle): wait twice as long each time */
        cycle_next = n + cycle_wait;
        cycle_wait *= 2;
      }
    }
    if (n > LYAP_FROM) {
      /* chaos: a positive Lyapunov exponent, the mean of log |h'| over
       * 10^4 iterates (an attracting cycle has a negative one); checked
       * once, then the range of the iterates is kept for the report */
      if (n <= 2 * LYAP_FROM) lyap += log(fabs(step_slope(&c, x2)));
      lo = fmin(lo, x2);
      hi = fmax(hi, x2);
      if (n == 2 * LYAP_FROM && lyap > 0.01 * LYAP_FROM) break;
    }
    x0 = x1;
    x1 = x2;
  }
  /* neither: report where it wanders (over the last stretch of iterates
   * that the Lyapunov exponent was taken on) */
  make_point(&c, x2 - c.xr, &pt);
  limit_single(out, AB_GRPO_IRREGULAR, &pt,
               n > AB_GRPO_MAX_STEPS ? AB_GRPO_MAX_STEPS : n);
  out->period = 0;
  out->multiplier = NAN;
  ab_logistic(lo, &out->p_min, &q);
  ab_logistic(hi, &out->p_max, &q);
  return AB_OK;
}

/* ---- best-of-n on a binary reward -------------------------------------- */

/* expm1(z)/z, 1 at z = 0 */
static double expm1_over(double z) {
  if (fabs(z) < 1e-5) return 1.0 + z * (0.5 + z / 6.0);
  return expm1(z) / z;
}

/* log1p(-p)/p, -1 at p = 0 (series below 1e-4: -(1 + p/2 + p^2/3 + p^3/4)) */
static double log1m_over(double p) {
  if (p < 1e-4) return -(1.0 + p * (0.5 + p * (1.0 / 3.0 + p * 0.25)));
  return log1p(-p) / p;
}

/* With l = log(1-p): q = 1 - e^{n l}, 1 - q = e^{n l}; log((1-q)/(1-p)) =
 * (n-1) l exactly, and q/p - 1 = -(1-p) expm1((n-1) l) / p, written as
 * -(1-p) (n-1) (l/p) expm1(z)/z with z = (n-1) l: no division by p, so
 * p = 1e-300 and n near 1 lose nothing.  kl_bin(q || p) = p h(q/p) +
 * (1-p) h((1-q)/(1-p)) by h_term. */
int ab_bon_binary(double p, double n, ab_bon_binary_result *out) {
  if (!(p >= 0.0 && p <= 1.0) || !(n >= 1.0 && isfinite(n)) || !out)
    return AB_EDOM;
  if (p == 0.0 || p == 1.0 || n == 1.0) {
    out->pass = p;
    out->fail = 1.0 - p;
    out->kl = 0.0;
    out->win_rate = 0.5;
    out->tilt = 0.0;
    return AB_OK;
  }
  double pc = 1.0 - p; /* exact for p >= 1/2; below, 1 - p holds no more */
  double l = log1p(-p), z = (n - 1.0) * l;
  out->fail = exp(n * l);
  out->pass = -expm1(n * l);
  double delta = -pc * (n - 1.0) * log1m_over(p) * expm1_over(z); /* q/p - 1 */
  double L1 = log1p(delta), L2 = z;
  out->kl = h_term(p, out->pass, L1) + h_term(pc, out->fail, L2);
  out->win_rate = 0.5 + 0.5 * (p * delta); /* (1 + q - p) / 2 */
  out->tilt = L1 - L2;
  return AB_OK;
}
