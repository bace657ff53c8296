/* estimate.c - ab.estimate: estimators with standard errors, and
 * ab.read_csv for the logs they read. */
#include <math.h>
#include <string.h>

#include "binding.h"

#define ABL_TABLE "alignbound.csv_table"

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

/* ab.read_csv(path [, {columns={...}}]) -> {name = vector, ...}, rows;
 * nil, message if the file cannot be read (as io.open) */
static int read_csv(lua_State *L) {
  static const char *const fields[] = {"columns", NULL};
  if (lua_type(L, 1) != LUA_TSTRING)
    return abL_argerror(L, "read_csv", 1, "path must be a string, got %s",
                        luaL_typename(L, 1));
  const char *path = lua_tostring(L, 1);
  const char **cols = NULL;
  size_t ncols = 0;
  char err[512];
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2))
      return abL_argerror(L, "read_csv", 2, "table of options expected, got %s",
                          luaL_typename(L, 2));
    abL_checkfields(L, 2, "read_csv", 2, fields);
    lua_getfield(L, 2, "columns");
    if (!lua_isnil(L, -1)) {
      if (!lua_istable(L, -1))
        return abL_argerror(L, "read_csv", 2, "columns must be a table of "
                            "names");
      int names = lua_gettop(L);
      ncols = lua_rawlen(L, names);
      cols = (const char **)lua_newuserdatauv(L, (ncols + 1) * sizeof *cols, 0);
      for (size_t i = 0; i < ncols; i++) {
        /* the strings stay alive in the table, which stays on the stack */
        lua_rawgeti(L, names, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
          return abL_argerror(L, "read_csv", 2, "columns[%d] must be a name",
                              (int)i + 1);
        cols[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
      }
      if (ncols == 0)
        return abL_argerror(L, "read_csv", 2, "columns is empty");
    }
  }
  /* the table lives in a userdata whose __gc frees it, so that a memory
   * error while the vectors are made cannot leak it */
  ab_table *t = (ab_table *)lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, ABL_TABLE);
  int st = ab_csv_read(path, cols, ncols, t, err, sizeof err);
  if (st == AB_EIO) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  if (st == AB_EDOM) return abL_argerror(L, "read_csv", 2, "%s", err);
  if (st) return luaL_error(L, "read_csv: %s", err);
  lua_createtable(L, 0, (int)t->cols);
  for (size_t j = 0; j < t->cols; j++) {
    abL_vector *v = abL_newvector(L, t->rows);
    memcpy(v->data, t->data[j], t->rows * sizeof(double));
    lua_setfield(L, -2, t->names[j]);
  }
  lua_pushinteger(L, (lua_Integer)t->rows);
  ab_table_free(t);
  return 2;
}

static int table_gc(lua_State *L) {
  ab_table_free((ab_table *)abL_checkself(L, ABL_TABLE, "csv_table:__gc"));
  return 0;
}

void abL_open_estimate(lua_State *L) {
  luaL_newmetatable(L, ABL_TABLE);
  lua_pushcfunction(L, table_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"mean", est_mean},
                                 {"kl", est_kl},
                                 {"renyi", est_renyi},
                                 {"variance_proxy", est_proxy},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "estimate");
  lua_pushcfunction(L, read_csv);
  lua_setfield(L, -2, "read_csv");
}
