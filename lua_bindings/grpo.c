/* grpo.c - ab.grpo: GRPO dynamics on a binary reward, and ab.bon.binary
 * (core/grpo.c). */
#include <math.h>
#include <string.h>

#include "binding.h"

#define P_DOMAIN "p must lie in [0, 1]"

/* The options {beta=, eps=1e-5, variant="grpo", alpha=0.5} at idx,
 * checked field by field; extra names the fields a function adds (p_ref and
 * logit for step, steps for trajectory).  need_ref: p_ref is a field,
 * required but for the mirror variant (its step ignores it). */
static void check_opts(lua_State *L, int idx, const char *fname, int argn,
                       const char *const extra[], int need_ref, ab_grpo *g) {
  const char *fields[10] = {"beta", "eps", "variant", "alpha"};
  int k = 4;
  for (int i = 0; extra && extra[i]; i++) fields[k++] = extra[i];
  fields[k] = NULL;
  if (!lua_istable(L, idx))
    abL_argerror(L, fname, argn, "table of options {p_ref=, beta=, eps=, "
                 "variant=, alpha=} expected, got %s", abL_typename(L, idx));
  abL_checkfields(L, idx, fname, argn, fields);
  g->variant = AB_GRPO_STANDARD;
  lua_getfield(L, idx, "variant");
  if (!lua_isnil(L, -1)) {
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    g->variant = ab_grpo_variant(v);
    if (!g->variant)
      abL_argerror(L, fname, argn, "variant must be \"grpo\", \"dr_grpo\", "
                   "\"mirror\" or \"two_kl\", got %s",
                   v ? v : abL_typename(L, -1));
  }
  lua_pop(L, 1);
  g->beta = abL_number(L, idx, fname, argn, "beta");
  if (!(g->beta > 0 && isfinite(g->beta)))
    abL_argerror(L, fname, argn, "beta must be a finite number > 0, got %f",
                 g->beta);
  g->eps = 1e-5;
  abL_optnumber(L, idx, fname, argn, "eps", &g->eps);
  if (!(g->eps >= 0 && isfinite(g->eps)))
    abL_argerror(L, fname, argn, "eps must be a finite number >= 0, got %f",
                 g->eps);
  g->alpha = 0.5;
  if (abL_optnumber(L, idx, fname, argn, "alpha", &g->alpha) &&
      g->variant != AB_GRPO_TWO_KL)
    abL_argerror(L, fname, argn, "alpha is for variant \"two_kl\" only");
  if (!(g->alpha >= 0 && g->alpha <= 1))
    abL_argerror(L, fname, argn, "alpha must lie in [0, 1], got %f",
                 g->alpha);
  g->p_ref = 0.5;
  if (!need_ref) return;
  int has_ref = abL_optnumber(L, idx, fname, argn, "p_ref", &g->p_ref);
  if (!has_ref && g->variant != AB_GRPO_MIRROR)
    abL_argerror(L, fname, argn, "p_ref is required");
  if (!(g->p_ref >= 0 && g->p_ref <= 1))
    abL_argerror(L, fname, argn, "p_ref must lie in [0, 1], got %f",
                 g->p_ref);
}

/* p_ref as argument 1 (a number) for trajectory, fixed_points, limit. */
static double check_ref(lua_State *L, const char *fname) {
  double p = abL_checknumber(L, 1, fname, 1, "p_ref");
  if (!(p >= 0 && p <= 1))
    abL_argerror(L, fname, 1, "p_ref must lie in [0, 1], got %f", p);
  return p;
}

/* A point {p=, logit=, slope=, attracting=, kl=, gain=}; a cycle's point
 * has no attracting of its own (the cycle's multiplier decides). */
static void push_point(lua_State *L, const ab_grpo_point *pt, int in_cycle) {
  lua_createtable(L, 0, 6);
  abL_setnumber(L, "p", pt->p);
  abL_setnumber(L, "logit", pt->logit);
  abL_setnumber(L, "slope", pt->slope);
  if (!in_cycle) {
    lua_pushboolean(L, pt->attracting);
    lua_setfield(L, -2, "attracting");
  }
  abL_setnumber(L, "kl", pt->kl);
  abL_setnumber(L, "gain", pt->gain);
}

/* A step failed at element at (SIZE_MAX: p was a number) of value x: a
 * p outside [0, 1] (a NaN log-odds), or else the two_kl step between laws
 * with opposite supports. */
static int step_failed(lua_State *L, const char *fname, int logit, size_t at,
                       double x) {
  const char *what = logit ? "log-odds must not be NaN" : P_DOMAIN;
  if (logit ? isnan(x) : !(x >= 0 && x <= 1)) {
    if (at == SIZE_MAX) return abL_argerror(L, fname, 1, "%s, got %f", what, x);
    return abL_argerror(L, fname, 1, "element %I: %s, got %f",
                        (lua_Integer)at + 1, what, x);
  }
  return luaL_error(L, "%s: the reference and the previous policy put all "
                    "their mass on opposite outcomes: the two_kl step is "
                    "undefined", fname);
}

/* ab.grpo.step(p, opts): p_next, logit_next in the shape of p */
static int grpo_step(lua_State *L) {
  static const char *const extra[] = {"p_ref", "logit", NULL};
  const char *fname = "grpo.step";
  ab_grpo g;
  size_t n;
  lua_settop(L, 2);
  check_opts(L, 2, fname, 2, extra, 1, &g);
  int logit = abL_optboolean(L, 2, fname, 2, "logit", 0);
  int number = lua_type(L, 1) == LUA_TNUMBER;
  abL_vector *vin = number ? NULL : abL_testvector(L, 1);
  double one;
  const double *x;
  if (number) {
    one = lua_tonumber(L, 1);
    x = &one;
    n = 1;
  } else if (vin) {
    x = vin->data;
    n = vin->n;
  } else {
    if (!lua_istable(L, 1))
      abL_argerror(L, fname, 1, "p must be a number, table or " ABL_VECTOR
                   ", got %s", abL_typename(L, 1));
    x = abL_todoubles(L, 1, fname, 1, "p", &n);
  }
  double *pn, *xn;
  if (vin) {
    pn = abL_newvector(L, n)->data;
    xn = abL_newvector(L, n)->data;
  } else {
    pn = (double *)lua_newuserdatauv(L, 2 * n * sizeof(double) + 1, 0);
    xn = pn + n;
  }
  for (size_t i = 0; i < n; i++) {
    int st = logit ? (isnan(x[i]) ? AB_EDOM : ab_grpo_step(&g, x[i], &xn[i]))
                   : ab_grpo_step_p(&g, x[i], &pn[i], &xn[i]);
    if (st) return step_failed(L, fname, logit, number ? SIZE_MAX : i, x[i]);
    if (logit) {
      double q;
      ab_logistic(xn[i], &pn[i], &q);
    }
  }
  if (number) {
    lua_pushnumber(L, pn[0]);
    lua_pushnumber(L, xn[0]);
    return 2;
  }
  if (vin) return 2;
  for (int k = 0; k < 2; k++) {
    const double *y = k ? xn : pn;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
      lua_pushnumber(L, y[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  }
  return 2;
}

/* ab.grpo.trajectory(p_ref, {steps=, ...}): vector p_1..p_steps, and the
 * vector of their log-odds */
static int grpo_trajectory(lua_State *L) {
  static const char *const extra[] = {"steps", NULL};
  const char *fname = "grpo.trajectory";
  ab_grpo g;
  lua_settop(L, 2);
  double p_ref = check_ref(L, fname);
  check_opts(L, 2, fname, 2, extra, 0, &g);
  g.p_ref = p_ref;
  lua_getfield(L, 2, "steps");
  if (lua_isnil(L, -1)) abL_argerror(L, fname, 2, "steps is required");
  size_t steps = abL_checkcount(L, -1, fname, 2, "steps");
  abL_vector *p = abL_newvector(L, steps), *x = abL_newvector(L, steps);
  int st = ab_grpo_trajectory(&g, steps, p->data, x->data);
  if (st)
    return luaL_error(L, "%s: the reference and the previous policy put all "
                      "their mass on opposite outcomes: the two_kl step is "
                      "undefined", fname);
  return 2;
}

static void no_fail(lua_State *L, const char *fname, int st) {
  if (st == AB_ERANGE)
    luaL_error(L, "%s: a fixed point's log-odds overflow a double (beta too "
               "small for eps)", fname);
  if (st) abL_status(L, fname, st);
}

/* ab.grpo.fixed_points(p_ref, opts): a list of {p=, logit=, slope=,
 * attracting=, kl=, gain=} */
static int grpo_fixed_points(lua_State *L) {
  const char *fname = "grpo.fixed_points";
  ab_grpo g;
  ab_grpo_point pts[AB_GRPO_MAX_POINTS];
  size_t n;
  lua_settop(L, 2);
  double p_ref = check_ref(L, fname);
  check_opts(L, 2, fname, 2, NULL, 0, &g);
  g.p_ref = p_ref;
  no_fail(L, fname, ab_grpo_fixed_points(&g, pts, &n));
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    push_point(L, &pts[i], 0);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static const char *const KINDS[] = {NULL,        "absorbing", "fixed_point",
                                    "cycle",     "certainty", "irregular",
                                    "periodic"};

/* ab.grpo.limit(p_ref, opts) */
static int grpo_limit(lua_State *L) {
  const char *fname = "grpo.limit";
  ab_grpo g;
  ab_grpo_limit_result r;
  lua_settop(L, 2);
  double p_ref = check_ref(L, fname);
  check_opts(L, 2, fname, 2, NULL, 0, &g);
  g.p_ref = p_ref;
  no_fail(L, fname, ab_grpo_limit(&g, &r));
  lua_createtable(L, 0, 10);
  lua_pushstring(L, KINDS[r.kind]);
  lua_setfield(L, -2, "kind");
  abL_setnumber(L, "p", r.p);
  int cycle = r.kind == AB_GRPO_CYCLE || r.kind == AB_GRPO_PERIODIC;
  if (!cycle) abL_setnumber(L, "logit", r.point[0].logit);
  abL_setnumber(L, "kl", r.kl);
  abL_setnumber(L, "gain", r.gain);
  if (!isnan(r.multiplier)) {
    abL_setnumber(L, "slope", r.multiplier);
    lua_pushboolean(L, fabs(r.multiplier) < 1 ||
                           r.kind == AB_GRPO_CERTAINTY ||
                           r.kind == AB_GRPO_ABSORBING);
    lua_setfield(L, -2, "attracting");
  }
  lua_pushinteger(L, (lua_Integer)r.steps);
  lua_setfield(L, -2, "steps");
  if (r.kind == AB_GRPO_IRREGULAR || cycle) {
    abL_setnumber(L, "p_min", r.p_min);
    abL_setnumber(L, "p_max", r.p_max);
  }
  lua_pushinteger(L, (lua_Integer)r.period);
  lua_setfield(L, -2, "period");
  lua_createtable(L, (int)r.npoints, 0);
  for (size_t i = 0; i < r.npoints; i++) {
    push_point(L, &r.point[i], cycle);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "points");
  return 1;
}

void abL_open_grpo(lua_State *L) {
  static const luaL_Reg fns[] = {{"step", grpo_step},
                                 {"trajectory", grpo_trajectory},
                                 {"fixed_points", grpo_fixed_points},
                                 {"limit", grpo_limit},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "grpo");
}
