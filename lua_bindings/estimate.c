/* estimate.c - ab.estimate: estimators with standard errors (the logs they
 * read come from ab.read_csv and ab.read_jsonl, in table.c). */
#include <math.h>
#include <string.h>

#include "binding.h"

/* ab.estimate.mean(x) -> mean, se */
static int est_mean(lua_State *L) {
  size_t n;
  double m, se;
  const double *x = abL_todoubles(L, 1, "estimate.mean", 1, "x", &n);
  if (n == 0) return abL_argerror(L, "estimate.mean", 1, "x is empty");
  if (ab_estimate_mean(x, n, &m, &se))
    return abL_argerror(L, "estimate.mean", 1, "x must hold finite numbers");
  lua_pushnumber(L, m);
  lua_pushnumber(L, se);
  return 2;
}

static const double *pair(lua_State *L, const char *fname, size_t *n,
                          const double **lq) {
  size_t n2;
  const double *lp = abL_todoubles(L, 1, fname, 1, "logp_policy", n);
  *lq = abL_todoubles(L, 2, fname, 2, "logp_ref", &n2);
  if (*n == 0) abL_argerror(L, fname, 1, "logp_policy is empty");
  if (*n != n2)
    abL_argerror(L, fname, 2, "logp_policy and logp_ref differ in length "
                 "(%d and %d)", (int)*n, (int)n2);
  return lp;
}

/* ab.estimate.kl(logp_policy, logp_ref [, {estimator="k1"|"k2"|"k3"}]) */
static int est_kl(lua_State *L) {
  static const char *const fields[] = {"estimator", NULL};
  size_t n;
  const double *lq;
  double e, se;
  int which = AB_K3;
  lua_settop(L, 3);
  const double *lp = pair(L, "estimate.kl", &n, &lq);
  if (!lua_isnil(L, 3)) {
    if (!lua_istable(L, 3))
      return abL_argerror(L, "estimate.kl", 3,
                          "table of options expected, got %s",
                          luaL_typename(L, 3));
    abL_checkfields(L, 3, "estimate.kl", 3, fields);
    lua_getfield(L, 3, "estimator");
    if (!lua_isnil(L, -1)) {
      const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                     : NULL;
      if (s && strcmp(s, "k1") == 0) which = AB_K1;
      else if (s && strcmp(s, "k2") == 0) which = AB_K2;
      else if (s && strcmp(s, "k3") == 0) which = AB_K3;
      else return abL_argerror(L, "estimate.kl", 3, "estimator must be \"k1\", \"k2\" "
                               "or \"k3\"");
    }
  }
  if (ab_estimate_kl(lp, lq, n, which, &e, &se))
    return abL_argerror(L, "estimate.kl", 1, "log-probabilities must be finite");
  lua_pushnumber(L, e);
  lua_pushnumber(L, se);
  return 2;
}

/* ab.estimate.renyi(logp_policy, logp_ref, {alpha=}) */
static int est_renyi(lua_State *L) {
  static const char *const fields[] = {"alpha", NULL};
  size_t n;
  const double *lq;
  double e, se, a;
  lua_settop(L, 3);
  const double *lp = pair(L, "estimate.renyi", &n, &lq);
  if (!lua_istable(L, 3))
    return abL_argerror(L, "estimate.renyi", 3, "table {alpha=} expected, got %s",
                        luaL_typename(L, 3));
  abL_checkfields(L, 3, "estimate.renyi", 3, fields);
  a = abL_number(L, 3, "estimate.renyi", 3, "alpha");
  if (!(a > 0) || isinf(a))
    return abL_argerror(L, "estimate.renyi", 3, "alpha must be positive and finite, "
                        "got %f", a);
  if (ab_estimate_renyi(lp, lq, n, a, &e, &se))
    return abL_argerror(L, "estimate.renyi", 1, "log-probabilities must be finite");
  lua_pushnumber(L, e);
  lua_pushnumber(L, se);
  return 2;
}

/* ab.estimate.variance_proxy(samples [, {level=, resamples=, rng=}]) */
static int est_proxy(lua_State *L) {
  static const char *const fields[] = {"level", "resamples", "rng", NULL};
  size_t n;
  double level = 0.95, resamples = 200, est, upper;
  ab_rng *r = NULL;
  lua_settop(L, 2);
  const double *x = abL_todoubles(L, 1, "estimate.variance_proxy", 1, "samples", &n);
  if (n == 0) return abL_argerror(L, "estimate.variance_proxy", 1, "samples is empty");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return abL_argerror(L, "estimate.variance_proxy", 1, "samples[%d] must be "
                          "finite, got %f", (int)i + 1, x[i]);
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2))
      return abL_argerror(L, "estimate.variance_proxy", 2,
                          "table of options expected, got %s",
                          luaL_typename(L, 2));
    abL_checkfields(L, 2, "estimate.variance_proxy", 2, fields);
    abL_optnumber(L, 2, "estimate.variance_proxy", 2, "level", &level);
    abL_optnumber(L, 2, "estimate.variance_proxy", 2, "resamples", &resamples);
    lua_getfield(L, 2, "rng");
    if (!lua_isnil(L, -1)) r = abL_checkrng(L, lua_gettop(L), "estimate.variance_proxy", 2);
  }
  if (!(level > 0 && level < 1))
    return abL_argerror(L, "estimate.variance_proxy", 2, "level must lie in (0, 1), "
                        "got %f", level);
  if (!(resamples >= 1 && resamples == floor(resamples) && resamples < 1e9))
    return abL_argerror(L, "estimate.variance_proxy", 2, "resamples must be a positive "
                        "integer, got %f", resamples);
  int st = ab_estimate_variance_proxy(x, n, level, (size_t)resamples, r, &est,
                                      r ? &upper : NULL);
  if (st) {
    abL_site site = {"estimate.variance_proxy", 1, NULL, NULL, NULL, 0, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_pushnumber(L, est);
  if (r) lua_pushnumber(L, upper);
  else lua_pushnil(L);
  return 2;
}

void abL_open_estimate(lua_State *L) {
  static const luaL_Reg fns[] = {{"mean", est_mean},
                                 {"kl", est_kl},
                                 {"renyi", est_renyi},
                                 {"variance_proxy", est_proxy},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "estimate");
}
