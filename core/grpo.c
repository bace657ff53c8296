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

/* h(h(x)) - x */
static double cycle_fn(double x, void *v) {
  const grpo_ctx *c = v;
  double y, z;
  step(c, x, &y);
  step(c, y, &z);
  return z - x;
}

/* A two-cycle's point near x (|x - a| about err), its partner at distance
 * gap: Brent on h(h(x)) - x over a bracket grown from err but kept well
 * inside gap, so that it catches neither the fixed point between the two
 * nor the partner. */
static int polish_cycle(const grpo_ctx *c, double x, double err, double gap,
                        double *a) {
  double w = fmax(4.0 * err, 16.0 * DBL_EPSILON * (1.0 + fabs(x)));
  gsl_function F = {cycle_fn, (void *)c};
  for (; w < 0.25 * gap; w *= 4.0) {
    double lo = x - w, hi = x + w, flo = cycle_fn(lo, (void *)c),
           fhi = cycle_fn(hi, (void *)c);
    if (flo == 0.0 || fhi == 0.0) {
      *a = flo == 0.0 ? lo : hi;
      return AB_OK;
    }
    if ((flo > 0) == (fhi > 0)) continue;
    gsl_root_fsolver *s = ab_root_fsolver_new(gsl_root_fsolver_brent);
    if (!s) return AB_ENOMEM;
    int st = gsl_root_fsolver_set(s, &F, lo, hi);
    for (int it = 0; !st && it < 200; it++) {
      st = gsl_root_fsolver_iterate(s);
      if (st) break;
      lo = gsl_root_fsolver_x_lower(s);
      hi = gsl_root_fsolver_x_upper(s);
      if (gsl_root_test_interval(lo, hi, 0.0, 2.0 * DBL_EPSILON) ==
          GSL_SUCCESS)
        break;
    }
    *a = gsl_root_fsolver_root(s);
    ab_root_fsolver_free(s);
    return st ? AB_ENOCONV : AB_OK;
  }
  *a = x; /* the iterate itself: converged to the last bits already */
  return AB_OK;
}

static void limit_single(ab_grpo_limit_result *out, int kind, const ab_grpo_point *pt,
                         size_t steps) {
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
  double x0 = c.xr, x1 = c.xr, x2, q;
  enum { RING = 128, LYAP_FROM = 10000 };
  double ring[RING], lyap = 0.0;
  double lo = INFINITY, hi = -INFINITY;
  size_t n;
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
    /* the rounding of one step: x2 = xr + Omega/beta (+ (1-alpha) x1)
     * carries errors of a few ulps of each term */
    double scale = 1.0 + fabs(x2) + fabs(c.xr) + fabs(x2 - c.xr);
    double tol = 16.0 * DBL_EPSILON * scale;
    /* at (or within 1e-10 of) an attracting fixed point found above */
    size_t best = 0;
    for (size_t i = 1; i < r.n; i++)
      if (fabs(fixed[i].logit - x2) < fabs(fixed[best].logit - x2)) best = i;
    int near = 0;
    if (r.n) {
      pt = fixed[best];
      near = fabs(pt.logit - x2) <= 1e-10 * (1.0 + fabs(x2)) && pt.attracting;
    }
    if (near || fabs(x2 - x1) <= tol) {
      if (!near && !(r.n && fabs(pt.logit - x2) <= 1e-6 * scale))
        make_point(&c, x2 - c.xr, &pt); /* (not found above: its own) */
      limit_single(out, AB_GRPO_FIXED, &pt, n);
      return AB_OK;
    }
    if (n >= 2 && fabs(x2 - x0) <= 1e-10 * scale &&
        fabs(x2 - x1) > 1e-6 * scale) {
      double a, b;
      if ((st = polish_cycle(&c, x2, fabs(x2 - x0), fabs(x2 - x1), &a)))
        return st;
      step(&c, a, &b);
      if (a > b) {
        double t = a;
        a = b;
        b = t;
      }
      out->kind = AB_GRPO_CYCLE;
      out->npoints = 2;
      make_point(&c, a - c.xr, &out->point[0]);
      make_point(&c, b - c.xr, &out->point[1]);
      out->multiplier = out->point[0].slope * out->point[1].slope;
      out->p = 0.5 * (out->point[0].p + out->point[1].p);
      out->kl = 0.5 * (out->point[0].kl + out->point[1].kl);
      out->gain = 0.5 * (out->point[0].gain + out->point[1].gain);
      out->p_min = out->point[0].p;
      out->p_max = out->point[1].p;
      out->period = 2;
      out->steps = n;
      return AB_OK;
    }
    ring[n % RING] = x2;
    if (n % 256 == 0 && n >= 2 * RING) {
      /* a longer cycle (period doubling goes on to chaos): the last k
       * iterates repeat the k before them */
      for (size_t k = 3; k <= RING / 2; k++) {
        size_t j = 0;
        for (; j < k; j++) {
          double a = ring[(n - j) % RING], b = ring[(n - j - k) % RING];
          if (!(fabs(a - b) <= 1e-10 * (1.0 + fabs(a)))) break;
        }
        if (j < k) continue;
        ab_sum ps = {0, 0}, ks = {0, 0}, gs = {0, 0};
        lo = INFINITY;
        hi = -INFINITY;
        for (j = 0; j < k; j++) {
          double x = ring[(n - j) % RING];
          make_point(&c, x - c.xr, &pt);
          ab_sum_add(&ps, pt.p);
          ab_sum_add(&ks, pt.kl);
          ab_sum_add(&gs, pt.gain);
          lo = fmin(lo, x);
          hi = fmax(hi, x);
        }
        out->kind = AB_GRPO_PERIODIC;
        out->npoints = 0;
        out->period = k;
        out->p = ab_sum_value(&ps) / (double)k;
        out->kl = ab_sum_value(&ks) / (double)k;
        out->gain = ab_sum_value(&gs) / (double)k;
        ab_logistic(lo, &out->p_min, &q);
        ab_logistic(hi, &out->p_max, &q);
        out->multiplier = NAN;
        out->steps = n;
        return AB_OK;
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
  limit_single(out, AB_GRPO_IRREGULAR, &pt, n > AB_GRPO_MAX_STEPS ? AB_GRPO_MAX_STEPS : n);
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
