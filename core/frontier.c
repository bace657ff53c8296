/*
 * frontier.c - the generic engine behind every tail: the transport bound
 *   gain <= inf_{0<l<L} (kl + phi(l)) / l,   phi(l) = psi(side * l),
 * its inverse sup_l (l g - phi(l)), and the optimal sub-Gaussian variance
 * proxy sup_l 2 phi(l) / l^2.
 *
 * With derivatives (every built-in tail): h(l) = (kl + phi)/l has
 * h' = (l phi' - phi - kl) / l^2 and l phi' - phi is increasing (its
 * derivative is l phi'' >= 0), so the infimum sits at the root of
 * KL(l) = l phi'(l) - phi(l) = kl: the tilting identity.  We solve it by a
 * bracketed Newton iteration on z, where l = e^z (L infinite) or
 * l = L / (1 + e^-z) (L finite, so that both l -> 0 and the gap L - l -> 0 keep
 * full precision), on log KL(l) - log kl, which is close to linear in z (a
 * Newton step that fails to halve it, as across the bend of a law whose tilt
 * jumps between two bumps, gives way to bisection of the bracket).  The
 * answer is h(l*), which errs upward only to second order in the error of l*,
 * and is a valid bound at any l.  The inverse solves phi'(l) = g the same way.
 *
 * Without derivatives (a user cumulant), h is still unimodal in z and we
 * minimise it with GSL's Brent minimiser after bracketing.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

#include "internal.h"

#define ZMIN (-700.0)
#define ZMAX 700.0

enum { SOLVE_KL, SOLVE_DPSI };

typedef struct {
  double l, gap;
  ab_cgf c;
} point;

static double side_end(const ab_tail *t, int side) {
  return side > 0 ? t->lmax : -t->lmin;
}

static double side_sup(const ab_tail *t, int side) {
  return side > 0 ? t->sup : -t->inf;
}


static int side_closed(const ab_tail *t, int side) {
  return side > 0 ? t->closed_max : t->closed_min;
}

/* phi and its derivatives at l > 0 on the given side. */
static int eval_side(const ab_tail *t, int side, double l, double gap,
                     ab_cgf *c) {
  int st = t->cgf(t, side * l, gap, c);
  if (st) return st;
  c->dpsi *= side;
  if (isnan(c->psi) || isnan(c->dpsi) || isnan(c->kl)) return AB_EGSL;
  return AB_OK;
}

/* The odds o = e^z give l = o (infinite end) or l = end o / (1 + o) with
 * gap = end / (1 + o), each to full relative precision. */
static void odds_to_l(double end, double o, double *l, double *gap) {
  if (isinf(end)) {
    *l = o;
    *gap = INFINITY;
  } else if (isinf(o)) {
    *l = end;
    *gap = 0.0;
  } else {
    *l = end * (o / (1.0 + o));
    *gap = end / (1.0 + o);
  }
}

static void z_to_l(double end, double z, double *l, double *gap) {
  odds_to_l(end, exp(z), l, gap);
}

static double l_to_z(double end, double l) {
  /* a first guess beyond a finite end starts near the end instead */
  double z = isinf(end) ? log(l) : (l >= end ? 5.0 : log(l) - log(end - l));
  if (!(z > ZMIN)) z = ZMIN; /* also NaN */
  return z < ZMAX ? z : ZMAX;
}

static int at(const ab_tail *t, int side, double o, point *p) {
  odds_to_l(side_end(t, side), o, &p->l, &p->gap);
  return eval_side(t, side, p->l, p->gap, &p->c);
}

/* Solve F(l) = target for F = KL(l) or phi'(l), both increasing from 0, by
 * Newton's method on f(z) = log F - log target in z = log o, kept inside a
 * bracket (bisection when a step leaves it, doubling steps until one is
 * found).  The iterate is o itself, updated by factors e^dz, so l keeps full
 * relative precision even at l ~ 1e-150.  *edge is +1 (-1) if the root lies
 * beyond the largest (smallest) odds; p holds the last point evaluated. */
static int solve(const ab_tail *t, int side, int which, double target,
                 double z0, int polish, point *p, int *edge) {
  double end = side_end(t, side), ltarget = log(target);
  double o = exp(z0), olo = 0.0, ohi = INFINITY, step = 1.0;
  double fprev = INFINITY;
  const double omin = exp(ZMIN), omax = exp(ZMAX);
  int final = 0;
  *edge = 0;
  for (int it = 0; it < 400; it++) {
    int st = at(t, side, o, p);
    if (st) return st;
    if (final) return AB_OK;
    double F = which == SOLVE_KL ? p->c.kl : p->c.dpsi;
    if (F == target) return AB_OK;
    /* log of the ratio, not a difference of logs: at F ~ 1e-300 each log
     * would carry an absolute error of 1e-13 */
    double ratio = F / target;
    double f = !(F > 0) ? -INFINITY
               : (ratio > 0 && isfinite(ratio)) ? log(ratio)
                                                 : log(F) - ltarget;
    if (f < 0) olo = o;
    else ohi = o;
    double dF = which == SOLVE_KL ? p->l * p->c.d2psi : p->c.d2psi;
    double dldz = isinf(end) ? p->l : p->l * p->gap / end;
    double df = dF * dldz / F;
    double dz = (isfinite(f) && df > 0 && isfinite(df)) ? -f / df : NAN;
    double on = o * exp(dz);
    int bracketed = olo > 0.0 && isfinite(ohi);
    int newton = on > olo && on < ohi;
    /* a Newton step inside the bracket that did not halve |f| may be
     * ping-ponging across a bend of log KL(z): bisect instead (from the
     * fourth step: Newton needs fewer on every built-in law) */
    if (newton && it >= 3 && bracketed && fabs(f) > 0.5 * fprev) newton = 0;
    fprev = fabs(f);
    if (!newton) {
      if (bracketed) {
        on = exp(0.5 * (log(olo) + log(ohi)));
      } else {
        on = olo > 0.0 ? o * exp(step) : o * exp(-step);
        step *= 2.0;
      }
    }
    if (on >= omax) {
      if (o >= omax) {
        *edge = 1;
        return AB_OK;
      }
      on = omax;
    }
    if (on <= omin) {
      if (o <= omin) {
        *edge = -1;
        return AB_OK;
      }
      on = omin;
    }
    if (on == o) return AB_OK;
    if (olo > 0.0 && isfinite(ohi) && ohi - olo <= 4e-16 * olo) return AB_OK;
    /* Newton converges quadratically: after a step below 1e-8 the next
     * point is exact to rounding, so evaluate it and stop.  Without polish
     * the caller only needs h(l) = (kl + phi)/l, which is flat at the root:
     * the current point already gives it to (1e-8)^2, and a pass is saved. */
    if (newton && fabs(dz) < 1e-8) {
      if (!polish) return AB_OK;
      final = 1;
    }
    o = on;
  }
  return AB_ENOCONV;
}

/* ---- derivative-free path (user cumulants, variance proxy) ------------ */

typedef struct {
  const ab_tail *t;
  int side;
  int mode; /* 0: h(l) = (kl + phi)/l; 1: phi - l g; 2: -2 phi / l^2 */
  double arg;
  int status;
} objective_ctx;

/* phi at l(z), from the law's cgf or the user's function; errors are kept in
 * the context, never raised through GSL. */
static double objective(double z, void *vctx) {
  objective_ctx *u = vctx;
  const ab_tail *t = u->t;
  double l, gap, psi = 0.0, v;
  if (u->status) return 0.0;
  z_to_l(side_end(t, u->side), z, &l, &gap);
  if (t->cgf) {
    ab_cgf c;
    u->status = eval_side(t, u->side, l, gap, &c);
    psi = c.psi;
  } else if (t->user(t->user_ctx, l, &psi) != 0 || isnan(psi)) {
    u->status = AB_EFUNC;
  } else if (psi < 0.0) {
    /* a bound phi >= psi >= 0 can never be negative: a negative value
     * would give negative "bounds" */
    u->status = AB_ENEGCUM;
  }
  if (u->status) return 0.0;
  if (u->mode == 0) v = (u->arg + psi) / l;
  else if (u->mode == 1) v = psi - l * u->arg;
  else v = -2.0 * psi / (l * l);
  /* (h is flat at its minimum: an error dz in z moves the value by
   * O(dz^2), so z to 1e-8 gives the bound to ~1e-16.)
   * Brent needs finite values; +inf means "no bound here" */
  if (v > 1e300 || isnan(v)) v = 1e300;
  if (v < -1e300) v = -1e300;
  return v;
}

/* Brent's method from the bracket a < b < c with f(b) below both ends.
 * Every evaluated point gives a valid bound, so if Brent stalls (a user
 * cumulant computed without care can be flat or noisy) the best point found
 * is returned rather than an error. */
static int brent(objective_ctx *u, double a, double fa, double b, double fb,
                 double c, double fc, double *fmin, double *zmin) {
  *zmin = b;
  *fmin = fb;
  if (fa < *fmin) { *zmin = a; *fmin = fa; }
  if (fc < *fmin) { *zmin = c; *fmin = fc; }
  gsl_min_fminimizer *s = ab_fminimizer_new(gsl_min_fminimizer_brent);
  if (!s) return AB_ENOMEM;
  gsl_function F = {objective, u};
  int st = gsl_min_fminimizer_set_with_values(s, &F, b, fb, a, fa, c, fc);
  for (int it = 0; st == GSL_SUCCESS && it < 200; it++) {
    st = gsl_min_fminimizer_iterate(s);
    if (u->status) break;
    double fz = gsl_min_fminimizer_f_minimum(s);
    if (fz < *fmin) {
      *fmin = fz;
      *zmin = gsl_min_fminimizer_x_minimum(s);
    }
    double lo = gsl_min_fminimizer_x_lower(s);
    double hi = gsl_min_fminimizer_x_upper(s);
    if (gsl_min_test_interval(lo, hi, 1e-8, 1e-8) == GSL_SUCCESS) break;
  }
  ab_fminimizer_free(s);
  return u->status;
}

/* Minimise a unimodal objective over z in [ZMIN, ZMAX] starting near z0:
 * golden-ratio walk downhill until it turns, then Brent. */
static int minimise(objective_ctx *u, double z0, double *fmin, double *zmin) {
  double a = z0, fa, b, fb, c, fc, step = 1.0;
  fa = objective(a, u);
  b = a + step;
  fb = objective(b, u);
  if (u->status) return u->status;
  if (fb > fa) { /* walk the other way */
    double tz = a, tf = fa;
    a = b;
    fa = fb;
    b = tz;
    fb = tf;
    step = -step;
  }
  for (;;) {
    step *= 1.618;
    c = b + step;
    if (c > ZMAX) c = ZMAX;
    if (c < ZMIN) c = ZMIN;
    fc = objective(c, u);
    if (u->status) return u->status;
    if (fc > fb) break;
    if (c == ZMAX || c == ZMIN) { /* the infimum is at the edge */
      *fmin = fc;
      *zmin = c;
      return AB_OK;
    }
    a = b;
    fa = fb;
    b = c;
    fb = fc;
  }
  if (a > c) {
    double tz = a, tf = fa;
    a = c;
    fa = fc;
    c = tz;
    fc = tf;
  }
  return brent(u, a, fa, b, fb, c, fc, fmin, zmin);
}

/* ---- the bound ---------------------------------------------------------- */

int ab_frontier_bound(const ab_tail *t, int side, double kl, double *out,
                      double *lambda, ab_hint *hint) {
  double sup = side_sup(t, side), sat = ab_saturation_kl(t, side);
  double end = side_end(t, side), lam = 0.0;
  if (side < 0 && !t->two_sided) return AB_EUNDEF;
  if (kl == 0.0 || sup == 0.0) {
    *out = 0.0;
    if (lambda) *lambda = 0.0;
    return AB_OK;
  }
  /* saturation: the tilt puts all its mass on the top atom once
   * kl >= -log P(R = sup) */
  if (isinf(kl) || kl >= sat) {
    *out = sup;
    if (lambda) *lambda = INFINITY;
    return AB_OK;
  }
  if (kl < DBL_MIN && t->cgf) {
    /* A subnormal kl: KL(l) = var l^2 / 2 + ... is subnormal at the
     * solution and carries few digits (gumbel(0, 0.1), loss at 5e-324 was
     * 4.0248e-163 for 4.0316e-163).  In the quadratic regime the bound is
     * sqrt(2 var kl) (1 + O(sqrt kl)): scale kl up by 2^200 (exactly), and
     * the bound and lambda down by 2^100, once bound(4 k0) = 2 bound(k0)
     * confirms the regime at k0 = kl 2^200 (<= 2^-822). */
    double k0 = ldexp(kl, 200), b0, b1, l0;
    int st = ab_frontier_bound(t, side, k0, &b0, &l0, NULL);
    if (!st) st = ab_frontier_bound(t, side, 4.0 * k0, &b1, NULL, NULL);
    if (st) return st;
    if (fabs(b1 - 2.0 * b0) <= 8.0 * DBL_EPSILON * b1 && isfinite(l0)) {
      *out = ldexp(b0, -100);
      if (lambda) *lambda = ldexp(l0, -100);
      return AB_OK;
    }
  }
  if (!t->cgf) {
    objective_ctx u = {t, side, 0, kl, AB_OK};
    double f, z, gap;
    int st = minimise(&u, l_to_z(end, sqrt(2.0 * kl)), &f, &z);
    if (st) return st;
    z_to_l(end, z, &lam, &gap);
    *out = fmin(f, sup);
    if (lambda) *lambda = lam;
    return AB_OK;
  }
  point p;
  int st, edge;
  if (side_closed(t, side) && isfinite(end)) {
    /* the infimum sits on the boundary once KL(end) <= kl */
    ab_cgf c;
    st = eval_side(t, side, end, 0.0, &c);
    if (st) return st;
    if (c.kl <= kl) {
      *out = fmin((kl + c.psi) / end, sup);
      if (lambda) *lambda = end;
      return AB_OK;
    }
  }
  double z0 = l_to_z(end, sqrt(2.0 * kl / t->variance));
  if (hint && hint->valid && hint->side == side) {
    /* KL(l) ~ KL(l0) (l / l0)^slope near the previous solution */
    z0 = l_to_z(end, hint->lambda * exp(log(kl / hint->kl) / hint->slope));
  }
  st = solve(t, side, SOLVE_KL, kl, z0, lambda != NULL, &p, &edge);
  /* a variance beyond DBL_MAX (a spread near DBL_MAX) starts the search at
   * l = 0, where it may fail: say why rather than GSL's failure */
  if (st == AB_EGSL && isinf(t->variance)) return AB_ERANGE;
  if (st) return st;
  if (hint) {
    double slope = p.l * p.l * p.c.d2psi / p.c.kl;
    hint->valid = edge == 0 && isinf(end) && slope > 0 && isfinite(slope);
    hint->side = side;
    hint->kl = p.c.kl;
    hint->lambda = p.l;
    hint->slope = slope;
  }
  *out = fmin((kl + p.c.psi) / p.l, sup);
  if (lambda) *lambda = edge > 0 ? INFINITY : p.l;
  return AB_OK;
}

int ab_frontier_kl_needed(const ab_tail *t, int side, double g, double *out) {
  double sup = side_sup(t, side), sat = ab_saturation_kl(t, side);
  double end = side_end(t, side);
  if (side < 0 && !t->two_sided) return AB_EUNDEF;
  if (g <= 0.0) {
    *out = 0.0;
    return AB_OK;
  }
  if (g > sup) {
    *out = INFINITY;
    return AB_OK;
  }
  if (g == sup) {
    *out = sat;
    return AB_OK;
  }
  if (!t->cgf) {
    objective_ctx u = {t, side, 1, g, AB_OK};
    double f, z;
    int st = minimise(&u, l_to_z(end, g), &f, &z);
    if (st) return st;
    *out = (f <= -1e300) ? INFINITY : fmax(-f, 0.0);
    return AB_OK;
  }
  int st, edge;
  if (side_closed(t, side) && isfinite(end)) {
    ab_cgf c;
    st = eval_side(t, side, end, 0.0, &c);
    if (st) return st;
    if (c.dpsi <= g) {
      /* end g - psi(end) = end (g - psi'(end)) + KL(end): two terms >= 0,
       * so no inf - inf when end g and psi(end) both overflow */
      *out = end * (g - c.dpsi) + c.kl;
      return AB_OK;
    }
  }
  point p;
  st = solve(t, side, SOLVE_DPSI, g, l_to_z(end, g / t->variance), 1, &p,
             &edge);
  if (st) return st;
  *out = edge > 0 ? INFINITY : p.c.kl;
  return AB_OK;
}

/* ---- optimal sub-Gaussian variance proxy ------------------------------- */

/* r(l) = 2 phi(l) / l^2 on one side, its supremum over l > 0 by branch and
 * bound in z = log l.  r need not be unimodal (a discrete law can have an
 * interior maximum well away from l -> 0), so no local search alone will do.
 *
 * The bound: phi is convex on l > 0 (a cgf), so on a cell [l0, l1] it lies
 * below its chord A + s l, s = (phi1 - phi0)/(l1 - l0), A = phi0 - s l0, and
 *   r(l) <= q(l) = 2 (A + s l) / l^2,
 * whose maximum over the cell is -s^2 / (2 A) at l* = -2 A / s if l* falls
 * inside, else max(r0, r1).  The chord errs by O(phi'' (l1 - l0)^2), second
 * order in the cell width (relative excess cosh^2(w/2) - 1 ~ w^2/4 for a
 * quadratic phi: 2.1% on the grid cells, w = ln 10 / 8), so bisecting every
 * cell whose chord bound exceeds the best value found by more than 2.5%
 * leaves O(1) live cells per level and excludes any maximum higher than
 * that; Brent then polishes the best point, and any other strict grid
 * maximum within 2.5% of it, to full precision.  (A tighter branch and bound
 * would bisect everywhere for a flat r, as of near-Gaussian laws.)  The
 * cells come from a log grid of 8 per decade
 * over 14 decades from 1e-6 standard deviations; below it r tends to the
 * variance (the caller takes that limit), and for a law bounded above by sup,
 * phi(l) <= l sup gives r <= 2 sup / l, so the grid stops once that ceiling
 * falls below the best value (beyond the last grid point of an unbounded
 * side, r of a sub-Gaussian law has settled onto its limit).  A user
 * cumulant need not be convex: the same search is then a careful heuristic. */
typedef struct {
  double z0, z1, p0, p1; /* cell ends in z and phi there */
} proxy_cell;

static double cell_l(double z) { return exp(z); }

/* phi = r l^2 / 2 and r at z; the objective gives -r clipped at 1e300. */
static int proxy_eval(objective_ctx *u, double z, double *r, double *phi) {
  double v = objective(z, u);
  if (u->status) return u->status;
  double l = cell_l(z);
  *r = -v;
  *phi = 0.5 * *r * l * l;
  return AB_OK;
}

static double cell_bound(const proxy_cell *c) {
  double l0 = cell_l(c->z0), l1 = cell_l(c->z1);
  double r0 = 2.0 * c->p0 / (l0 * l0), r1 = 2.0 * c->p1 / (l1 * l1);
  double ub = fmax(r0, r1);
  double s = (c->p1 - c->p0) / (l1 - l0), A = c->p0 - s * l0;
  if (s > 0.0 && A < 0.0) {
    double ls = -2.0 * A / s;
    if (ls > l0 && ls < l1) ub = fmax(ub, -s * s / (2.0 * A));
  }
  return isnan(ub) ? INFINITY : ub;
}

/* Brent on -r from the bracket z -+ w around a point where r = rz; raises
 * *best to the maximum found. */
static int proxy_polish(objective_ctx *u, double z, double w, double rz,
                        double *best) {
  double fa = objective(z - w, u), fc = objective(z + w, u);
  if (u->status) return u->status;
  *best = fmax(*best, fmax(-fa, -fc));
  if (!(-rz < fa && -rz < fc)) return AB_OK;
  double fz, zz;
  int st = brent(u, z - w, fa, z, -rz, z + w, fc, &fz, &zz);
  if (st) return st;
  *best = fmax(*best, -fz);
  return AB_OK;
}

static int proxy_side(const ab_tail *t, int side, double *out) {
  enum { PER_DECADE = 8, MAX = 14 * PER_DECADE + 1, DEPTH = 64,
         EVALS = 2000 };
  const double tol = 2.5e-2, wmin = 1e-7;
  double scale = t->cgf ? sqrt(t->variance) : 1.0;
  double zlo = log(1e-6 / scale), h = M_LN10 / PER_DECADE;
  if (ab_is_finite_law(t)) {
    /* an atom of mass p at centred x on this side weighs most on
     * 2 psi / l^2 near l = 2 log(1/p) / x, which the variance can put far
     * below the scan (Bernoulli(1e-300): l ~ 1400, 1e-6 / sd = 1e144, and
     * the right-tail proxy came out 2.7e-144 for about 7e-4) */
    for (size_t i = 0; i < t->n; i++) {
      double x = side * t->x[i], p = t->w ? t->w[i] : 1.0 / (double)t->n;
      double li = 2.0 * fmax(-log(p), 1.0) / x;
      if (x > 0.0 && p > 0.0 && isfinite(li)) zlo = fmin(zlo, log(1e-2 * li));
    }
  }
  double z[MAX], r[MAX], phi[MAX];
  double sup = side_sup(t, side), best = -INFINITY, result, zb = 0.0, wb = h;
  int n = 0, evals = 0;
  objective_ctx u = {t, side, 2, 0.0, AB_OK};
  for (; n < MAX; n++) {
    z[n] = zlo + h * n;
    int st = proxy_eval(&u, z[n], &r[n], &phi[n]);
    if (st) return st;
    if (r[n] > best) {
      best = r[n];
      zb = z[n];
    }
    if (isfinite(sup) && 2.0 * sup / exp(z[n]) < best * (1.0 - 1e-12)) {
      n++;
      break;
    }
  }
  result = best;
  for (int i = 0; i + 1 < n; i++) {
    proxy_cell stack[DEPTH];
    int top = 0;
    stack[top++] = (proxy_cell){z[i], z[i + 1], phi[i], phi[i + 1]};
    while (top > 0) {
      proxy_cell c = stack[--top];
      double ub = cell_bound(&c);
      if (ub <= best * (1.0 + tol)) continue;
      if (c.z1 - c.z0 < wmin || top + 2 > DEPTH || evals >= EVALS) {
        /* a cell left open (the budget spent) counts with its bound: the
         * answer stays an upper bound on the supremum */
        result = fmax(result, ub);
        continue;
      }
      double zm = 0.5 * (c.z0 + c.z1), rm, pm;
      int st = proxy_eval(&u, zm, &rm, &pm);
      evals++;
      if (st) return st;
      if (rm > best) {
        best = rm;
        zb = zm;
        wb = 0.5 * (c.z1 - c.z0);
      }
      proxy_cell a = {c.z0, zm, c.p0, pm}, b = {zm, c.z1, pm, c.p1};
      /* the more promising half is bisected first */
      if (cell_bound(&a) > cell_bound(&b)) {
        stack[top++] = b;
        stack[top++] = a;
      } else {
        stack[top++] = a;
        stack[top++] = b;
      }
    }
  }
  /* polish: Brent on -r from the bracket zb -+ wb around the best point,
   * and around up to two other strict grid maxima within tol of it (a second
   * bump the branch and bound could not rank) */
  int st = proxy_polish(&u, zb, wb, best, &best);
  if (st) return st;
  for (int i = 1, k = 0; i + 1 < n && k < 2; i++) {
    if (z[i] == zb || !(r[i] > r[i - 1] && r[i] > r[i + 1]) ||
        r[i] * (1.0 + tol) < best)
      continue;
    k++;
    st = proxy_polish(&u, z[i], h, r[i], &best);
    if (st) return st;
  }
  *out = fmax(result, best);
  return AB_OK;
}

int ab_frontier_variance_proxy(const ab_tail *t, double *out) {
  double r;
  if (isfinite(t->lmax) || (t->two_sided && isfinite(t->lmin))) {
    *out = INFINITY;
    return AB_OK;
  }
  if (t->cgf && (t->variance == 0.0 || isinf(t->variance))) {
    *out = t->variance; /* a point mass, or a variance beyond DBL_MAX */
    return AB_OK;
  }
  int st = proxy_side(t, 1, &r);
  if (st) return st;
  if (t->two_sided) {
    double rl;
    st = proxy_side(t, -1, &rl);
    if (st) return st;
    r = fmax(r, rl);
  }
  /* the limit l -> 0 is the variance */
  if (t->cgf) r = fmax(r, t->variance);
  *out = r;
  return AB_OK;
}

/* One side only: sup_{l > 0} 2 psi(side l) / l^2 (the right-tail proxy for
 * side > 0, the left-tail proxy for side < 0), with the limit l -> 0. */
int ab_frontier_variance_proxy_side(const ab_tail *t, int side, double *out) {
  double r;
  if (side < 0 && !t->two_sided) return AB_EUNDEF;
  if (isfinite(side_end(t, side))) {
    *out = INFINITY;
    return AB_OK;
  }
  if (t->cgf && t->variance == 0.0) {
    *out = 0.0;
    return AB_OK;
  }
  int st = proxy_side(t, side, &r);
  if (st) return st;
  *out = t->cgf ? fmax(r, t->variance) : r;
  return AB_OK;
}
