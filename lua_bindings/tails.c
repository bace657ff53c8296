/* tails.c - alignbound.tail objects: constructors ab.tail.* and the methods
 * gain, loss, kl_needed, tilt, cumulant, variance_proxy, mean. */
#include <math.h>
#include <string.h>

#include "binding.h"

static int tail_gc(lua_State *L) {
  abL_tail *u = luaL_checkudata(L, 1, ABL_TAIL);
  ab_tail_free(u->t);
  u->t = NULL;
  return 0;
}

static abL_tail *checktail(lua_State *L, const char *fname) {
  abL_tail *u = luaL_testudata(L, 1, ABL_TAIL);
  if (!u || !u->t)
    luaL_error(L, "calling '%s' on bad self (" ABL_TAIL " expected, got %s)",
               fname, luaL_typename(L, 1));
  return u;
}

/* Before a core call on the tail at index 1: push the user function and an
 * error slot, remembering the previous call state (the function may call the
 * same tail again). */
abL_callback abL_tail_prepare(lua_State *L, int idx, abL_tail *u) {
  abL_callback saved = u->call;
  abL_callback_prepare(L, idx, &u->call, "cumulant function", "lambda");
  return saved;
}

static abL_callback prepare(lua_State *L, abL_tail *u) {
  return abL_tail_prepare(L, 1, u);
}

abL_tail *abL_checktail(lua_State *L, int idx, const char *fname, int argn) {
  abL_tail *u = luaL_testudata(L, idx, ABL_TAIL);
  if (!u || !u->t)
    abL_argerror(L, fname, argn, ABL_TAIL " expected, got %s",
                 luaL_typename(L, idx));
  return u;
}

static int fail(lua_State *L, abL_tail *u, const char *fname, int argn,
                const char *domain, int st, size_t at, double value,
                int shape) {
  char desc[160];
  if (st == AB_EFUNC) abL_callback_raise(L, &u->call);
  ab_tail_describe(u->t, desc, sizeof desc);
  if (st == AB_EUNDEF)
    return luaL_error(L, "%s: not defined for %s (its assumption bounds the "
                      "right tail only)", fname, desc);
  if (st == AB_EDOM) {
    if (shape)
      return abL_argerror(L, fname, argn, "element %d: %s, got %f",
                          (int)at + 1, domain, value);
    return abL_argerror(L, fname, argn, "%s, got %f", domain, value);
  }
  return luaL_error(L, "%s: %s (%s, at %f)", fname, ab_strerror(st), desc,
                    value);
}

/* ---- constructors ------------------------------------------------------- */

static void push_tail(lua_State *L, ab_tail *t) {
  abL_tail *u = lua_newuserdatauv(L, sizeof *u, 1);
  memset(u, 0, sizeof *u);
  u->t = t;
  luaL_setmetatable(L, ABL_TAIL);
}

/* Make the userdata first, then the tail, so nothing leaks if a Lua error
 * strikes in between. */
static abL_tail *new_slot(lua_State *L) {
  push_tail(L, NULL);
  return lua_touserdata(L, -1);
}

static void built(lua_State *L, const char *fname, int st) {
  if (st == AB_ENOMEM) luaL_error(L, "%s: out of memory", fname);
  if (st) luaL_error(L, "%s: %s", fname, ab_strerror(st));
}

static void opts_table(lua_State *L, const char *fname,
                       const char *const fields[]) {
  if (!lua_istable(L, 1))
    abL_argerror(L, fname, 1, "table of options expected, got %s",
                 luaL_typename(L, 1));
  abL_checkfields(L, 1, fname, 1, fields);
}

static double positive_field(lua_State *L, const char *fname, const char *key) {
  double x = abL_number(L, 1, fname, 1, key);
  if (!(x > 0 && isfinite(x)))
    abL_argerror(L, fname, 1, "%s must be positive and finite, got %f", key, x);
  return x;
}

static double finite_field(lua_State *L, const char *fname, const char *key,
                     int required, double dflt) {
  double x = dflt;
  if (required) x = abL_number(L, 1, fname, 1, key);
  else abL_optnumber(L, 1, fname, 1, key, &x);
  if (!isfinite(x))
    abL_argerror(L, fname, 1, "%s must be finite, got %f", key, x);
  return x;
}

static int tail_subgaussian(lua_State *L) {
  static const char *const f[] = {"sigma", "variance", NULL};
  double s2;
  opts_table(L, "subgaussian", f);
  lua_getfield(L, 1, "sigma");
  int has_sigma = !lua_isnil(L, -1);
  lua_getfield(L, 1, "variance");
  int has_var = !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (has_sigma == has_var)
    return abL_argerror(L, "subgaussian", 1,
                        "give exactly one of sigma and variance");
  if (has_sigma) {
    double s = positive_field(L, "subgaussian", "sigma");
    s2 = s * s;
  } else {
    s2 = positive_field(L, "subgaussian", "variance");
  }
  abL_tail *u = new_slot(L);
  built(L, "subgaussian", ab_tail_subgaussian(s2, &u->t));
  return 1;
}

static int tail_subgamma(lua_State *L) {
  static const char *const f[] = {"v", "c", NULL};
  opts_table(L, "subgamma", f);
  double v = positive_field(L, "subgamma", "v");
  double c = finite_field(L, "subgamma", "c", 1, 0);
  if (c < 0)
    return abL_argerror(L, "subgamma", 1, "c must be >= 0, got %f", c);
  abL_tail *u = new_slot(L);
  built(L, "subgamma", ab_tail_subgamma(v, c, &u->t));
  return 1;
}

static int tail_subexponential(lua_State *L) {
  static const char *const f[] = {"nu", "b", NULL};
  opts_table(L, "subexponential", f);
  double nu = positive_field(L, "subexponential", "nu");
  double b = positive_field(L, "subexponential", "b");
  abL_tail *u = new_slot(L);
  built(L, "subexponential", ab_tail_subexponential(nu, b, &u->t));
  return 1;
}

static int tail_bounded(lua_State *L) {
  static const char *const f[] = {"lo", "hi", "mean", NULL};
  double mean;
  opts_table(L, "bounded", f);
  double lo = finite_field(L, "bounded", "lo", 1, 0);
  double hi = finite_field(L, "bounded", "hi", 1, 0);
  if (!(hi > lo) || !isfinite(hi - lo))
    return abL_argerror(L, "bounded", 1, "hi must be above lo, got lo=%f hi=%f",
                        lo, hi);
  int has_mean = abL_optnumber(L, 1, "bounded", 1, "mean", &mean);
  if (has_mean && !(mean >= lo && mean <= hi))
    return abL_argerror(L, "bounded", 1, "mean must lie in [lo, hi], got %f",
                        mean);
  abL_tail *u = new_slot(L);
  built(L, "bounded", has_mean ? ab_tail_bounded_mean(lo, hi, mean, &u->t)
                               : ab_tail_bounded(lo, hi, &u->t));
  return 1;
}

static int tail_gaussian(lua_State *L) {
  static const char *const f[] = {"mean", "sd", NULL};
  opts_table(L, "gaussian", f);
  double m = finite_field(L, "gaussian", "mean", 0, 0.0);
  double sd = positive_field(L, "gaussian", "sd");
  abL_tail *u = new_slot(L);
  built(L, "gaussian", ab_tail_gaussian(m, sd, &u->t));
  return 1;
}

static int tail_uniform(lua_State *L) {
  static const char *const f[] = {"lo", "hi", NULL};
  opts_table(L, "uniform", f);
  double lo = finite_field(L, "uniform", "lo", 1, 0);
  double hi = finite_field(L, "uniform", "hi", 1, 0);
  if (!(hi > lo) || !isfinite(hi - lo))
    return abL_argerror(L, "uniform", 1, "hi must be above lo, got lo=%f hi=%f",
                        lo, hi);
  abL_tail *u = new_slot(L);
  built(L, "uniform", ab_tail_uniform(lo, hi, &u->t));
  return 1;
}

static int tail_bernoulli(lua_State *L) {
  static const char *const f[] = {"p", NULL};
  opts_table(L, "bernoulli", f);
  double p = abL_number(L, 1, "bernoulli", 1, "p");
  if (!(p >= 0 && p <= 1))
    return abL_argerror(L, "bernoulli", 1, "p must lie in [0, 1], got %f", p);
  abL_tail *u = new_slot(L);
  built(L, "bernoulli", ab_tail_bernoulli(p, &u->t));
  return 1;
}

static int tail_exponential(lua_State *L) {
  static const char *const f[] = {"rate", NULL};
  opts_table(L, "exponential", f);
  double r = positive_field(L, "exponential", "rate");
  abL_tail *u = new_slot(L);
  int st = ab_tail_exponential(r, &u->t);
  if (st == AB_EDOM)
    return abL_argerror(L, "exponential", 1, "rate is too extreme, got %f", r);
  built(L, "exponential", st);
  return 1;
}

/* Constructors of two-parameter laws whose core constructor says EDOM only
 * for overflowing combinations once each parameter has been checked. */
typedef int (*two_param)(double, double, ab_tail **);

static int law2(lua_State *L, const char *fname, const char *k1, int loc,
                const char *k2, two_param make) {
  const char *const f[] = {k1, k2, NULL};
  opts_table(L, fname, f);
  double a = loc ? finite_field(L, fname, k1, 0, 0.0) : positive_field(L, fname, k1);
  double b = positive_field(L, fname, k2);
  abL_tail *u = new_slot(L);
  int st = make(a, b, &u->t);
  if (st == AB_EDOM)
    return abL_argerror(L, fname, 1, "%s=%f and %s=%f are too extreme", k1, a,
                        k2, b);
  built(L, fname, st);
  return 1;
}

static int tail_gamma(lua_State *L) {
  return law2(L, "gamma", "shape", 0, "scale", ab_tail_gamma);
}
static int tail_gumbel(lua_State *L) {
  return law2(L, "gumbel", "loc", 1, "scale", ab_tail_gumbel);
}
static int tail_logistic(lua_State *L) {
  return law2(L, "logistic", "loc", 1, "scale", ab_tail_logistic);
}
static int tail_beta(lua_State *L) {
  return law2(L, "beta", "a", 0, "b", ab_tail_beta);
}
static int tail_student_t(lua_State *L) {
  return law2(L, "student_t", "df", 0, "scale", ab_tail_student_t);
}
static int tail_pareto(lua_State *L) {
  return law2(L, "pareto", "xm", 0, "alpha", ab_tail_pareto);
}

static void check_finite_all(lua_State *L, const char *fname, const char *what,
                             const double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      abL_argerror(L, fname, 1, "%s[%d] must be finite, got %f", what,
                   (int)i + 1, x[i]);
}

static int tail_discrete(lua_State *L) {
  static const char *const f[] = {"values", "probs", NULL};
  size_t nv, np;
  opts_table(L, "discrete", f);
  lua_getfield(L, 1, "values");
  int iv = lua_gettop(L);
  lua_getfield(L, 1, "probs");
  int ip = lua_gettop(L);
  if (lua_isnil(L, iv))
    return abL_argerror(L, "discrete", 1, "values is required");
  if (lua_isnil(L, ip))
    return abL_argerror(L, "discrete", 1, "probs is required");
  const double *v = abL_todoubles(L, iv, "discrete", 1, "values", &nv);
  const double *p = abL_todoubles(L, ip, "discrete", 1, "probs", &np);
  if (nv == 0) return abL_argerror(L, "discrete", 1, "values is empty");
  if (nv != np)
    return abL_argerror(L, "discrete", 1,
                        "values and probs differ in length (%d and %d)",
                        (int)nv, (int)np);
  check_finite_all(L, "discrete", "values", v, nv);
  double total = 0;
  for (size_t i = 0; i < np; i++) {
    if (!(p[i] >= 0) || !isfinite(p[i]))
      return abL_argerror(L, "discrete", 1,
                          "probs[%d] must be a probability, got %f", (int)i + 1,
                          p[i]);
    total += p[i];
  }
  abL_tail *u = new_slot(L);
  int st = ab_tail_discrete(v, p, nv, &u->t);
  if (st == AB_EDOM)
    return abL_argerror(L, "discrete", 1,
                        "probs must sum to 1 within 1e-9, got sum %f", total);
  built(L, "discrete", st);
  return 1;
}

static int tail_empirical(lua_State *L) {
  size_t n;
  const double *x = abL_todoubles(L, 1, "empirical", 1, "samples", &n);
  if (n == 0) return abL_argerror(L, "empirical", 1, "samples is empty");
  check_finite_all(L, "empirical", "samples", x, n);
  abL_tail *u = new_slot(L);
  built(L, "empirical", ab_tail_discrete(x, NULL, n, &u->t));
  return 1;
}

static int tail_cumulant(lua_State *L) {
  static const char *const f[] = {"lambda_max", NULL};
  double lmax = HUGE_VAL;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return abL_argerror(L, "cumulant", 2, "table of options expected, got %s",
                          luaL_typename(L, 2));
    abL_checkfields(L, 2, "cumulant", 2, f);
    abL_optnumber(L, 2, "cumulant", 2, "lambda_max", &lmax);
    if (!(lmax > 0))
      return abL_argerror(L, "cumulant", 2, "lambda_max must be positive, got %f",
                          lmax);
  }
  abL_tail *u = new_slot(L);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  built(L, "cumulant",
        ab_tail_cumulant(abL_callback_number, &u->call, lmax, &u->t));
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

typedef struct {
  const ab_tail *t;
  int side, method, order, out;
} map_args;

static int vec_bound(void *ud, const double *x, size_t n, double *y,
                     size_t *at) {
  map_args *a = ud;
  return ab_tail_bound_vec(a->t, a->side, a->method, x, n, y, at);
}

static int vec_kl_needed(void *ud, const double *x, size_t n, double *y,
                         size_t *at) {
  map_args *a = ud;
  return ab_tail_kl_needed_vec(a->t, a->side, a->method, x, n, y, at);
}

static int vec_tilt(void *ud, const double *x, size_t n, double *y,
                    size_t *at) {
  map_args *a = ud;
  for (size_t i = 0; i < n; i++) {
    int st = ab_tail_tilt(a->t, a->side, x[i], &y[i]);
    if (st) {
      *at = i;
      return st;
    }
  }
  return AB_OK;
}

static int vec_cumulant(void *ud, const double *x, size_t n, double *y,
                        size_t *at) {
  map_args *a = ud;
  return ab_tail_cumulant_vec(a->t, a->order, x, n, y, at);
}

/* Parse the method options at index 3: numeric, side, derivative. */
static void method_opts(lua_State *L, const char *fname, map_args *a,
                        const char *const fields[]) {
  if (lua_isnoneornil(L, 3)) return;
  if (!lua_istable(L, 3))
    abL_argerror(L, fname, 2, "table of options expected, got %s",
                 luaL_typename(L, 3));
  abL_checkfields(L, 3, fname, 2, fields);
  a->method = abL_optboolean(L, 3, fname, 2, "numeric", 0) ? AB_NUMERIC
                                                           : AB_CLOSED;
  lua_getfield(L, 3, "side");
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    if (s && strcmp(s, "gain") == 0) a->side = AB_GAIN;
    else if (s && strcmp(s, "loss") == 0) a->side = AB_LOSS;
    else abL_argerror(L, fname, 2, "side must be \"gain\" or \"loss\"");
  }
  lua_pop(L, 1);
  lua_getfield(L, 3, "out");
  if (!lua_isnil(L, -1)) {
    if (!abL_testvector(L, -1))
      abL_argerror(L, fname, 2, "out must be an " ABL_VECTOR ", got %s",
                   luaL_typename(L, -1));
    a->out = 1;
  }
  lua_pop(L, 1);
  double d;
  if (abL_optnumber(L, 3, fname, 2, "derivative", &d)) {
    if (!(d == 0 || d == 1 || d == 2))
      abL_argerror(L, fname, 2, "derivative must be 0, 1 or 2, got %f", d);
    a->order = (int)d;
  }
}

static int run(lua_State *L, const char *fname, const char *what,
               const char *domain, int side, abL_vecfn fn,
               const char *const fields[]) {
  abL_tail *u = checktail(L, fname);
  map_args a = {u->t, side, AB_CLOSED, 0, 0};
  size_t at;
  double value;
  method_opts(L, fname, &a, fields);
  lua_settop(L, 3);
  if (a.out) lua_getfield(L, 3, "out"); /* at index 4 */
  else lua_pushnil(L);
  abL_callback saved = prepare(L, u);
  int st = abL_map(L, 2, fname, 1, what, fn, &a, &at, &value, a.out ? 4 : 0);
  if (st) {
    int shape = lua_type(L, 2) != LUA_TNUMBER;
    fail(L, u, fname, 1, domain, st, at, value, shape);
  }
  u->call = saved;
  return 1;
}

#define KL_DOMAIN "kl must be a number >= 0"

static const char *const numeric_opts[] = {"numeric", "out", NULL};
static const char *const side_opts[] = {"numeric", "side", "out", NULL};
static const char *const proxy_opts[] = {"numeric", NULL};

static int tail_gain(lua_State *L) {
  return run(L, "gain", "kl", KL_DOMAIN, AB_GAIN, vec_bound, numeric_opts);
}

static int tail_loss(lua_State *L) {
  return run(L, "loss", "kl", KL_DOMAIN, AB_LOSS, vec_bound, numeric_opts);
}

static int tail_kl_needed(lua_State *L) {
  return run(L, "kl_needed", "gain", "gain must not be NaN", AB_GAIN,
             vec_kl_needed, side_opts);
}

static int tail_tilt(lua_State *L) {
  static const char *const f[] = {"side", "out", NULL};
  return run(L, "tilt", "kl", KL_DOMAIN, AB_GAIN, vec_tilt, f);
}

static int tail_cumulant_at(lua_State *L) {
  static const char *const f[] = {"derivative", "out", NULL};
  return run(L, "cumulant", "lambda", "lambda must not be NaN", AB_GAIN,
             vec_cumulant, f);
}

static int tail_variance_proxy(lua_State *L) {
  abL_tail *u = checktail(L, "variance_proxy");
  map_args a = {u->t, AB_GAIN, AB_CLOSED, 0, 0};
  double r;
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2); /* options move to index 3, as method_opts expects */
  method_opts(L, "variance_proxy", &a, proxy_opts);
  abL_callback saved = prepare(L, u);
  int st = ab_tail_variance_proxy(u->t, a.method, &r);
  if (st) fail(L, u, "variance_proxy", 1, "", st, 0, NAN, 0);
  u->call = saved;
  lua_pushnumber(L, r);
  return 1;
}

static int tail_mean(lua_State *L) {
  abL_tail *u = checktail(L, "mean");
  double m = ab_tail_mean(u->t);
  if (isnan(m)) lua_pushnil(L);
  else lua_pushnumber(L, m);
  return 1;
}

static int tail_tostring(lua_State *L) {
  abL_tail *u = checktail(L, "__tostring");
  char buf[160];
  ab_tail_describe(u->t, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

void abL_open_tail(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"gain", tail_gain},
      {"loss", tail_loss},
      {"kl_needed", tail_kl_needed},
      {"tilt", tail_tilt},
      {"cumulant", tail_cumulant_at},
      {"variance_proxy", tail_variance_proxy},
      {"mean", tail_mean},
      {"sample", abL_tail_sample},
      {NULL, NULL}};
  static const luaL_Reg ctors[] = {
      {"subgaussian", tail_subgaussian},
      {"subgamma", tail_subgamma},
      {"subexponential", tail_subexponential},
      {"bounded", tail_bounded},
      {"gaussian", tail_gaussian},
      {"uniform", tail_uniform},
      {"bernoulli", tail_bernoulli},
      {"exponential", tail_exponential},
      {"gamma", tail_gamma},
      {"gumbel", tail_gumbel},
      {"logistic", tail_logistic},
      {"beta", tail_beta},
      {"student_t", tail_student_t},
      {"pareto", tail_pareto},
      {"discrete", tail_discrete},
      {"empirical", tail_empirical},
      {"cumulant", tail_cumulant},
      {NULL, NULL}};
  luaL_newmetatable(L, ABL_TAIL);
  lua_pushcfunction(L, tail_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, tail_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, ctors);
  lua_setfield(L, -2, "tail");
}
