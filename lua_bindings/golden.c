/* golden.c - ab.error (error models e = proxy - gold) and ab.joint (joint
 * models of proxy and gold under the reference): argument checks and result
 * tables around core/golden.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

#define ABL_ERROR "alignbound.error"
#define ABL_JOINT "alignbound.joint"

/* ---- error models -------------------------------------------------------- */

typedef struct {
  ab_error_model m;
} abL_error;

static const char *error_kind(int kind) {
  switch (kind) {
  case AB_ERROR_BOUNDED: return "bounded";
  case AB_ERROR_SUBGAUSSIAN: return "subgaussian";
  case AB_ERROR_VARIANCE: return "variance";
  default: return "overestimation";
  }
}

static void opts_table(lua_State *L, int idx, const char *fname, int argn,
                       const char *const fields[]) {
  if (!lua_istable(L, idx))
    abL_argerror(L, fname, argn, "table of options expected, got %s",
                 abL_typename(L, idx));
  abL_checkfields(L, idx, fname, argn, fields);
}

static double positive_field(lua_State *L, int idx, const char *fname,
                             int argn, const char *key) {
  double x = abL_number(L, idx, fname, argn, key);
  if (!(x > 0 && isfinite(x)))
    abL_argerror(L, fname, argn, "%s must be positive and finite, got %f", key,
                 x);
  return x;
}

static int push_error(lua_State *L, int kind, double par) {
  abL_error *u = (abL_error *)lua_newuserdatauv(L, sizeof *u, 0);
  u->m.kind = kind;
  u->m.par = par;
  luaL_setmetatable(L, ABL_ERROR);
  return 1;
}

/* ab.error.bounded{eps=} */
static int error_bounded(lua_State *L) {
  static const char *const f[] = {"eps", NULL};
  opts_table(L, 1, "error.bounded", 1, f);
  return push_error(L, AB_ERROR_BOUNDED,
                    positive_field(L, 1, "error.bounded", 1, "eps"));
}

/* ab.error.subgaussian{sigma= | variance=} */
static int error_subgaussian(lua_State *L) {
  static const char *const f[] = {"sigma", "variance", NULL};
  const char *fn = "error.subgaussian";
  opts_table(L, 1, fn, 1, f);
  lua_getfield(L, 1, "sigma");
  int has_sigma = !lua_isnil(L, -1);
  lua_getfield(L, 1, "variance");
  int has_var = !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (has_sigma == has_var)
    return abL_argerror(L, fn, 1, "give exactly one of sigma and variance");
  double s2;
  if (has_sigma) {
    double s = positive_field(L, 1, fn, 1, "sigma");
    s2 = s * s;
    if (!(s2 > 0 && isfinite(s2)))
      return abL_argerror(L, fn, 1, "sigma is too extreme, got %f", s);
  } else {
    s2 = positive_field(L, 1, fn, 1, "variance");
  }
  return push_error(L, AB_ERROR_SUBGAUSSIAN, s2);
}

/* ab.error.variance{var=} */
static int error_variance(lua_State *L) {
  static const char *const f[] = {"var", NULL};
  opts_table(L, 1, "error.variance", 1, f);
  return push_error(L, AB_ERROR_VARIANCE,
                    positive_field(L, 1, "error.variance", 1, "var"));
}

/* ab.error.overestimation{rate=} */
static int error_overestimation(lua_State *L) {
  static const char *const f[] = {"rate", NULL};
  const char *fn = "error.overestimation";
  opts_table(L, 1, fn, 1, f);
  double r = abL_number(L, 1, fn, 1, "rate");
  if (!(r >= 0 && isfinite(r)))
    return abL_argerror(L, fn, 1, "rate must be >= 0 and finite, got %f", r);
  return push_error(L, AB_ERROR_OVERESTIMATION, r);
}

static abL_error *check_error(lua_State *L, const char *fname) {
  return (abL_error *)abL_checkself(L, ABL_ERROR, fname);
}

/* e:golden(proxy_gain, {kl=, chi2=, tv=}) -> lo, hi, route */
static int error_golden(lua_State *L) {
  static const char *const f[] = {"kl", "chi2", "tv", NULL};
  const char *fn = "error:golden";
  abL_error *u = check_error(L, fn);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fn, 1, "proxy_gain must be a number, got %s",
                        abL_typename(L, 2));
  double g = lua_tonumber(L, 2), lo, hi;
  ab_divergences d = {NAN, NAN, NAN};
  int route;
  if (isnan(g)) return abL_argerror(L, fn, 1, "proxy_gain must not be NaN");
  opts_table(L, 3, fn, 2, f);
  const char *names[] = {"kl", "chi2", "tv"};
  double *slots[] = {&d.kl, &d.chi2, &d.tv};
  for (int i = 0; i < 3; i++)
    if (abL_optnumber(L, 3, fn, 2, names[i], slots[i]) && isnan(*slots[i]))
      return abL_argerror(L, fn, 2, "%s must not be NaN", names[i]);
  if (!isnan(d.kl) && d.kl < 0)
    return abL_argerror(L, fn, 2, "kl must be >= 0, got %f", d.kl);
  if (!isnan(d.chi2) && d.chi2 < 0)
    return abL_argerror(L, fn, 2, "chi2 must be >= 0, got %f", d.chi2);
  if (!isnan(d.tv) && !(d.tv >= 0 && d.tv <= 1))
    return abL_argerror(L, fn, 2, "tv must lie in [0, 1], got %f", d.tv);
  int st = ab_error_golden(&u->m, g, &d, &lo, &hi, &route);
  if (st == AB_EUNDEF) {
    int routes[3], k = ab_error_routes(&u->m, routes);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < k; i++) {
      const char *nm = routes[i] == AB_ROUTE_RATE ? "kl" : ab_route_name(routes[i]);
      if (i) luaL_addstring(&b, " or ");
      luaL_addstring(&b, nm);
    }
    luaL_pushresult(&b);
    return abL_argerror(L, fn, 2, "error.%s needs %s among the divergences",
                        error_kind(u->m.kind), lua_tostring(L, -1));
  }
  if (st) return abL_status(L, fn, st);
  lua_pushnumber(L, lo);
  lua_pushnumber(L, hi);
  lua_pushstring(L, ab_route_name(route));
  return 3;
}

static const char *error_par_name(int kind) {
  switch (kind) {
  case AB_ERROR_BOUNDED: return "eps";
  case AB_ERROR_SUBGAUSSIAN: return "variance";
  case AB_ERROR_VARIANCE: return "var";
  default: return "rate";
  }
}

/* e.uses, e.kind, e.<parameter>, e:golden */
static int error_index(lua_State *L) {
  abL_error *u = check_error(L, "error.__index");
  const char *k = lua_tostring(L, 2);
  if (!k) return 0;
  if (strcmp(k, "golden") == 0) {
    lua_pushcfunction(L, error_golden);
  } else if (strcmp(k, "uses") == 0) {
    int routes[3], n = ab_error_routes(&u->m, routes);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
      lua_pushstring(L, routes[i] == AB_ROUTE_RATE ? "kl" : ab_route_name(routes[i]));
      lua_rawseti(L, -2, i + 1);
    }
  } else if (strcmp(k, "kind") == 0) {
    lua_pushstring(L, error_kind(u->m.kind));
  } else if (strcmp(k, error_par_name(u->m.kind)) == 0) {
    lua_pushnumber(L, u->m.par);
  } else {
    return 0;
  }
  return 1;
}

static int error_tostring(lua_State *L) {
  abL_error *u = check_error(L, "error.__tostring");
  char buf[64];
  snprintf(buf, sizeof buf, "%.15g", u->m.kind == AB_ERROR_SUBGAUSSIAN
                                         ? sqrt(u->m.par) : u->m.par);
  lua_pushfstring(L, "error.%s(%s=%s)", error_kind(u->m.kind),
                  u->m.kind == AB_ERROR_SUBGAUSSIAN ? "sigma"
                                                    : error_par_name(u->m.kind),
                  buf);
  return 1;
}

/* ---- joint models -------------------------------------------------------- */

enum { JOINT_GAUSSIAN = 1, JOINT_ADDITIVE, JOINT_SAMPLES };

/* User values: additive: 1 gold tail, 2 error tail; samples: 1 proxy
 * vector, 2 gold vector (copies). */
typedef struct {
  int kind;
  ab_joint_gaussian g;
  double mean_proxy, mean_gold;
} abL_joint;

static abL_joint *new_joint(lua_State *L, int kind) {
  abL_joint *j = (abL_joint *)lua_newuserdatauv(L, sizeof *j, 2);
  memset(j, 0, sizeof *j);
  j->kind = kind;
  luaL_setmetatable(L, ABL_JOINT);
  return j;
}

/* ab.joint.gaussian{rho=, sd_proxy=, sd_gold= [, mean_proxy=0, mean_gold=0]} */
static int joint_gaussian(lua_State *L) {
  static const char *const f[] = {"rho", "sd_proxy", "sd_gold", "mean_proxy",
                                  "mean_gold", NULL};
  const char *fn = "joint.gaussian";
  opts_table(L, 1, fn, 1, f);
  double rho = abL_number(L, 1, fn, 1, "rho");
  if (!(rho >= -1 && rho <= 1))
    return abL_argerror(L, fn, 1, "rho must lie in [-1, 1], got %f", rho);
  double sp = positive_field(L, 1, fn, 1, "sd_proxy");
  double sg = positive_field(L, 1, fn, 1, "sd_gold");
  double mp = 0, mg = 0;
  abL_optnumber(L, 1, fn, 1, "mean_proxy", &mp);
  abL_optnumber(L, 1, fn, 1, "mean_gold", &mg);
  if (!isfinite(mp))
    return abL_argerror(L, fn, 1, "mean_proxy must be finite, got %f", mp);
  if (!isfinite(mg))
    return abL_argerror(L, fn, 1, "mean_gold must be finite, got %f", mg);
  abL_joint *j = new_joint(L, JOINT_GAUSSIAN);
  j->g.rho = rho;
  j->g.sd_proxy = sp;
  j->g.sd_gold = sg;
  j->mean_proxy = mp;
  j->mean_gold = mg;
  return 1;
}

/* A tail field of the options that can be sampled and has a finite mean. */
static void law_field(lua_State *L, const char *fn, const char *key) {
  lua_getfield(L, 1, key);
  if (lua_isnil(L, -1)) abL_argerror(L, fn, 1, "%s is required", key);
  abL_tail *u = (abL_tail *)luaL_testudata(L, -1, ABL_TAIL);
  if (!u || !u->t)
    abL_argerror(L, fn, 1, "%s must be an " ABL_TAIL ", got %s", key,
                 u ? "a closed tail" : abL_typename(L, -1));
  double m = ab_tail_mean(u->t);
  if (!isfinite(m)) {
    char desc[160];
    ab_tail_describe(u->t, desc, sizeof desc);
    abL_argerror(L, fn, 1, "%s must be an exact or finite law with a finite "
                 "mean, got %s", key, desc);
  }
}

/* ab.joint.additive{gold=, error=} */
static int joint_additive(lua_State *L) {
  static const char *const f[] = {"gold", "error", NULL};
  const char *fn = "joint.additive";
  opts_table(L, 1, fn, 1, f);
  law_field(L, fn, "gold");
  law_field(L, fn, "error");
  new_joint(L, JOINT_ADDITIVE);
  lua_insert(L, -3);
  lua_setiuservalue(L, -3, 2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* A copy of a table, vector or CSV column as a new vector on the stack. */
static size_t vector_field(lua_State *L, const char *fn, const char *key) {
  size_t n;
  lua_getfield(L, 1, key);
  if (lua_isnil(L, -1)) abL_argerror(L, fn, 1, "%s is required", key);
  const double *x = abL_todoubles(L, -1, fn, 1, key, &n);
  if (n == 0) abL_argerror(L, fn, 1, "%s is empty", key);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      abL_argerror(L, fn, 1, "%s[%d] must be finite, got %f", key, (int)i + 1,
                   x[i]);
  abL_vector *v = abL_newvector(L, n);
  memcpy(v->data, x, n * sizeof *x);
  return n;
}

/* ab.joint.samples{proxy=, gold=} */
static int joint_samples(lua_State *L) {
  static const char *const f[] = {"proxy", "gold", NULL};
  const char *fn = "joint.samples";
  opts_table(L, 1, fn, 1, f);
  size_t np = vector_field(L, fn, "proxy");
  int ip = lua_gettop(L);
  size_t ng = vector_field(L, fn, "gold");
  int ig = lua_gettop(L);
  if (np != ng)
    return abL_argerror(L, fn, 1, "proxy and gold differ in length (%d and %d)",
                        (int)np, (int)ng);
  new_joint(L, JOINT_SAMPLES);
  lua_pushvalue(L, ip);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, ig);
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static abL_joint *check_joint(lua_State *L, const char *fname) {
  return (abL_joint *)abL_checkself(L, ABL_JOINT, fname);
}

/* Monte Carlo options {draws=10000, seed=1} at idx (accepted by every model,
 * used by the additive one). */
static void mc_opts(lua_State *L, int idx, const char *fn, size_t *draws,
                    unsigned long long *seed) {
  static const char *const f[] = {"draws", "seed", NULL};
  double d;
  *draws = 10000;
  *seed = 1;
  if (lua_isnoneornil(L, idx)) return;
  opts_table(L, idx, fn, idx - 1, f);
  if (abL_optnumber(L, idx, fn, idx - 1, "draws", &d)) {
    if (!(d >= 2 && d <= 1e12 && d == floor(d)))
      abL_argerror(L, fn, idx - 1, "draws must be an integer >= 2, got %f", d);
    *draws = (size_t)d;
  }
  if (abL_optnumber(L, idx, fn, idx - 1, "seed", &d)) {
    if (!(d >= 0 && d < 18446744073709551616.0 && d == floor(d)))
      abL_argerror(L, fn, idx - 1, "seed must be an integer >= 0, got %f", d);
    *seed = (unsigned long long)d;
  }
}

/* The gold (n = 1) or error (2) tail of the additive joint at 1; a tail the
 * user closed since is an error of fname, or NULL when fname is NULL (it
 * segfaulted in tostring). */
static ab_tail *uservalue_tail(lua_State *L, int n, const char *fname) {
  lua_getiuservalue(L, 1, n);
  ab_tail *t = ((abL_tail *)lua_touserdata(L, -1))->t;
  lua_pop(L, 1);
  if (!t && fname)
    luaL_error(L, "%s: the joint's %s tail is closed", fname,
               n == 1 ? "gold" : "error");
  return t;
}

static const abL_vector *uservalue_vector(lua_State *L, int n) {
  lua_getiuservalue(L, 1, n);
  const abL_vector *v = (const abL_vector *)lua_touserdata(L, -1);
  lua_pop(L, 1); /* the joint userdata keeps it alive */
  return v;
}

/* The result table; lambda is NAN for best-of-n. */
static int push_result(lua_State *L, const ab_joint_result *r, int tilt,
                       double lambda) {
  lua_createtable(L, 0, 8);
  abL_setnumber(L, "proxy_gain", r->proxy_gain);
  abL_setnumber(L, "gold_gain", r->gold_gain);
  abL_setnumber(L, "kl", r->kl);
  abL_setnumber(L, "proxy_se", r->proxy_se);
  abL_setnumber(L, "gold_se", r->gold_se);
  if (tilt) abL_setnumber(L, "kl_se", r->kl_se);
  if (tilt) abL_setnumber(L, "lambda", lambda);
  lua_pushboolean(L, r->exact);
  lua_setfield(L, -2, "exact");
  return 1;
}

static void joint_fail(lua_State *L, const char *fn, int st) {
  if (st == AB_EUNDEF)
    abL_argerror(L, fn, 1, "E e^{lambda proxy} is infinite for these laws (a "
                 "heavy or exponential tail): the tilt does not exist");
  abL_status(L, fn, st);
}

/* j:bon(n [, {draws=, seed=}]) */
static int joint_bon(lua_State *L) {
  const char *fn = "joint:bon";
  abL_joint *j = check_joint(L, fn);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fn, 1, "n must be a number, got %s",
                        abL_typename(L, 2));
  double n = lua_tonumber(L, 2);
  size_t draws;
  unsigned long long seed;
  ab_joint_result r;
  int st;
  mc_opts(L, 3, fn, &draws, &seed);
  if (!(n >= 1 && isfinite(n)))
    return abL_argerror(L, fn, 1, "n must be a number >= 1, got %f", n);
  if (j->kind == JOINT_GAUSSIAN) {
    st = ab_joint_gaussian_bon(&j->g, n, &r);
  } else if (j->kind == JOINT_ADDITIVE) {
    if (n != floor(n) || n > 1e7)
      return abL_argerror(L, fn, 1, "n must be an integer up to 1e7 for the "
                          "Monte Carlo of an additive model (n pairs per "
                          "selection), got %f", n);
    st = ab_joint_additive_bon(uservalue_tail(L, 1, fn),
                               uservalue_tail(L, 2, fn), n, draws, seed, &r);
  } else {
    const abL_vector *p = uservalue_vector(L, 1), *g = uservalue_vector(L, 2);
    st = ab_joint_samples_bon(p->data, g->data, p->n, n, &r);
  }
  if (st) joint_fail(L, fn, st);
  return push_result(L, &r, 0, NAN);
}

/* j:tilt(lambda [, {draws=, seed=}]) */
static int joint_tilt(lua_State *L) {
  const char *fn = "joint:tilt";
  abL_joint *j = check_joint(L, fn);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fn, 1, "lambda must be a number, got %s",
                        abL_typename(L, 2));
  double l = lua_tonumber(L, 2);
  size_t draws;
  unsigned long long seed;
  ab_joint_result r;
  int st;
  mc_opts(L, 3, fn, &draws, &seed);
  if (!(l >= 0 && (isfinite(l) || j->kind == JOINT_SAMPLES)))
    return abL_argerror(L, fn, 1, "lambda must be a number >= 0%s, got %f",
                        j->kind == JOINT_SAMPLES ? "" : " and finite", l);
  if (j->kind == JOINT_GAUSSIAN) {
    st = ab_joint_gaussian_tilt(&j->g, l, &r);
  } else if (j->kind == JOINT_ADDITIVE) {
    st = ab_joint_additive_tilt(uservalue_tail(L, 1, fn),
                                uservalue_tail(L, 2, fn), l, draws, seed, &r);
  } else {
    const abL_vector *p = uservalue_vector(L, 1), *g = uservalue_vector(L, 2);
    st = ab_joint_samples_tilt(p->data, g->data, p->n, l, &r);
  }
  if (st) joint_fail(L, fn, st);
  return push_result(L, &r, 1, l);
}

/* j:tilt_kl(kl [, {draws=, seed=}]) */
static int joint_tilt_kl(lua_State *L) {
  const char *fn = "joint:tilt_kl";
  abL_joint *j = check_joint(L, fn);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fn, 1, "kl must be a number, got %s",
                        abL_typename(L, 2));
  double kl = lua_tonumber(L, 2), lambda;
  size_t draws;
  unsigned long long seed;
  ab_joint_result r;
  int st;
  mc_opts(L, 3, fn, &draws, &seed);
  if (!(kl >= 0 && (isfinite(kl) || j->kind == JOINT_SAMPLES)))
    return abL_argerror(L, fn, 1, "kl must be a number >= 0%s, got %f",
                        j->kind == JOINT_SAMPLES ? "" : " and finite", kl);
  if (j->kind == JOINT_GAUSSIAN) {
    st = ab_joint_gaussian_tilt_kl(&j->g, kl, &r, &lambda);
  } else if (j->kind == JOINT_ADDITIVE) {
    if (!(kl < log((double)draws)))
      return abL_argerror(L, fn, 1, "kl must be below log(draws) = %f for a "
                          "tilt of %d draws, got %f", log((double)draws),
                          (int)draws, kl);
    st = ab_joint_additive_tilt_kl(uservalue_tail(L, 1, fn),
                                   uservalue_tail(L, 2, fn), kl, draws, seed,
                                   &r, &lambda);
  } else {
    const abL_vector *p = uservalue_vector(L, 1), *g = uservalue_vector(L, 2);
    st = ab_joint_samples_tilt_kl(p->data, g->data, p->n, kl, &r, &lambda);
  }
  if (st == AB_EUNDEF)
    return abL_argerror(L, fn, 1, "kl=%f needs a tilt beyond where E e^{lambda "
                        "proxy} is finite for these laws", kl);
  if (st) joint_fail(L, fn, st);
  return push_result(L, &r, 1, lambda);
}

/* j:proxy_law([{draws=, seed=}]): the proxy's law under the reference, built
 * by the tail constructors. */
static int joint_proxy_law(lua_State *L) {
  const char *fn = "joint:proxy_law";
  abL_joint *j = check_joint(L, fn);
  size_t draws;
  unsigned long long seed;
  mc_opts(L, 2, fn, &draws, &seed);
  if (j->kind == JOINT_GAUSSIAN) {
    lua_pushcfunction(L, abL_tail_gaussian);
    lua_createtable(L, 0, 2);
    abL_setnumber(L, "mean", j->mean_proxy);
    abL_setnumber(L, "sd", j->g.sd_proxy);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_pushcfunction(L, abL_tail_empirical);
  if (j->kind == JOINT_SAMPLES) {
    lua_getiuservalue(L, 1, 1);
  } else {
    abL_vector *v = abL_newvector(L, draws);
    int st = ab_joint_additive_sample(uservalue_tail(L, 1, fn),
                                      uservalue_tail(L, 2, fn), draws, seed,
                                      v->data);
    if (st) joint_fail(L, fn, st);
  }
  lua_call(L, 1, 1);
  return 1;
}

static void tail_text(lua_State *L, int uv) {
  char desc[160] = "tail (closed)";
  const ab_tail *t = uservalue_tail(L, uv, NULL);
  if (t) ab_tail_describe(t, desc, sizeof desc);
  lua_pushstring(L, desc);
}

static int joint_tostring(lua_State *L) {
  abL_joint *j = check_joint(L, "joint.__tostring");
  if (j->kind == JOINT_GAUSSIAN) {
    char buf[200];
    snprintf(buf, sizeof buf,
             "joint.gaussian(rho=%.15g, sd_proxy=%.15g, sd_gold=%.15g, "
             "mean_proxy=%.15g, mean_gold=%.15g)",
             j->g.rho, j->g.sd_proxy, j->g.sd_gold, j->mean_proxy,
             j->mean_gold);
    lua_pushstring(L, buf);
  } else if (j->kind == JOINT_ADDITIVE) {
    tail_text(L, 1);
    tail_text(L, 2);
    lua_pushfstring(L, "joint.additive(gold=%s, error=%s)", lua_tostring(L, -2),
                    lua_tostring(L, -1));
  } else {
    lua_pushfstring(L, "joint.samples(%d pairs)",
                    (int)uservalue_vector(L, 1)->n);
  }
  return 1;
}

void abL_open_golden(lua_State *L) {
  static const luaL_Reg errors[] = {{"bounded", error_bounded},
                                    {"subgaussian", error_subgaussian},
                                    {"variance", error_variance},
                                    {"overestimation", error_overestimation},
                                    {NULL, NULL}};
  static const luaL_Reg joints[] = {{"gaussian", joint_gaussian},
                                    {"additive", joint_additive},
                                    {"samples", joint_samples},
                                    {NULL, NULL}};
  luaL_newmetatable(L, ABL_ERROR);
  lua_pushcfunction(L, error_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newlib(L, errors);
  lua_setfield(L, -2, "error");

  luaL_newmetatable(L, ABL_JOINT);
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, joint_bon);
  lua_setfield(L, -2, "bon");
  lua_pushcfunction(L, joint_tilt);
  lua_setfield(L, -2, "tilt");
  lua_pushcfunction(L, joint_tilt_kl);
  lua_setfield(L, -2, "tilt_kl");
  lua_pushcfunction(L, joint_proxy_law);
  lua_setfield(L, -2, "proxy_law");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, joint_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newlib(L, joints);
  lua_setfield(L, -2, "joint");
}
