/* bon.c - ab.bon: best-of-n divergences, win rate, gains, the exact law of a
 * discrete reference, and the estimators. */
#include <math.h>
#include <string.h>

#include "binding.h"

#define N_DOMAIN "n must be a number >= 1"
#define P_DOMAIN "p must lie in [0, 1]"

typedef struct {
  const ab_family *f;
  int method;
  const ab_tail *t;
  double n;
  int *certs;
} bon_args;

static int vec_divergence(void *ud, const double *x, size_t n, double *y,
                          size_t *at) {
  bon_args *a = (bon_args *)ud;
  return ab_bon_divergence_vec(a->f, a->method, x, n, y, at);
}

static int win_rate_at(void *ud, size_t i, double x, double *y) {
  (void)ud;
  (void)i;
  return ab_bon_win_rate(x, y);
}

static int kl_estimate_at(void *ud, size_t i, double x, double *y) {
  (void)i;
  return ab_bon_kl_estimate(x, ((bon_args *)ud)->n, y);
}

static int expected_gain_at(void *ud, size_t i, double x, double *y) {
  bon_args *a = (bon_args *)ud;
  (void)i;
  return ab_bon_expected_gain(a->t, x, a->method, y);
}

static int gain_at(void *ud, size_t i, double x, double *y) {
  bon_args *a = (bon_args *)ud;
  return ab_bon_gain(a->t, x, y, &a->certs[i]);
}

/* Raise the error for a failed map over n (or eps) at argument argn. */
static int map_failed(lua_State *L, const char *fname, int argn,
                      const char *domain, int st, size_t at, double value,
                      const abL_callback *cb, const ab_tail *t) {
  abL_site site = {fname, argn, domain, cb, t, 1,
                   "needs an exact or finite law", NULL};
  return abL_fail(L, &site, st, lua_type(L, argn) != LUA_TNUMBER, at, value);
}

static int method_of(lua_State *L, int opts, const char *fname, int argn) {
  if (lua_isnoneornil(L, opts)) return AB_CLOSED;
  return abL_optboolean(L, opts, fname, argn, "numeric", 0) ? AB_NUMERIC
                                                            : AB_CLOSED;
}

static int out_index(lua_State *L, int opts) {
  if (lua_isnoneornil(L, opts)) return 0;
  lua_getfield(L, opts, "out");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return lua_gettop(L);
}

/* ab.bon.divergence(n, family [, {alpha=, numeric=, out=}]) */
static int bon_divergence(lua_State *L) {
  ab_family f;
  abL_callback cb;
  size_t at;
  double value;
  lua_settop(L, 3);
  abL_family(L, 2, 3, "bon.divergence", 2, &f, &cb);
  bon_args a = {&f, method_of(L, 3, "bon.divergence", 3), NULL, 0, NULL};
  int st = abL_map(L, 1, "bon.divergence", 1, "n", vec_divergence, &a, &at,
                   &value, out_index(L, 3));
  if (st) map_failed(L, "bon.divergence", 1, N_DOMAIN, st, at, value, &cb, NULL);
  return 1;
}

/* ab.bon.kl(n) = log n - (n-1)/n */
static int bon_kl(lua_State *L) {
  ab_family f = {AB_KL, 1.0, NULL, NULL};
  bon_args a = {&f, AB_CLOSED, NULL, 0, NULL};
  size_t at;
  double value;
  int st = abL_map(L, 1, "bon.kl", 1, "n", vec_divergence, &a, &at, &value,
                   0);
  if (st) map_failed(L, "bon.kl", 1, N_DOMAIN, st, at, value, NULL, NULL);
  return 1;
}

static int bon_win_rate(lua_State *L) {
  return abL_map_each(L, "bon.win_rate", "n", N_DOMAIN, win_rate_at, NULL);
}

/* ab.bon.kl_estimate(eps, n): eps of any shape, n a number */
static int bon_kl_estimate(lua_State *L) {
  bon_args a = {NULL, AB_CLOSED, NULL, 0, NULL};
  a.n = abL_checknumber(L, 2, "bon.kl_estimate", 2, "n");
  if (!(a.n >= 1 && isfinite(a.n)))
    return abL_argerror(L, "bon.kl_estimate", 2, N_DOMAIN ", got %f", a.n);
  lua_settop(L, 2);
  return abL_map_each(L, "bon.kl_estimate", "eps", "eps must lie in [0, 1]",
                      kl_estimate_at, &a);
}

/* ab.bon.expected_gain(dist, n [, {numeric=}]) */
static int bon_expected_gain(lua_State *L) {
  size_t at;
  double value;
  abL_callback frame;
  lua_settop(L, 3);
  abL_tail *u = abL_checktail(L, 1, "bon.expected_gain", 1);
  if (!lua_isnil(L, 3)) {
    static const char *const fields[] = {"numeric", NULL};
    if (!lua_istable(L, 3))
      return abL_argerror(L, "bon.expected_gain", 3,
                          "table of options expected, got %s",
                          abL_typename(L, 3));
    abL_checkfields(L, 3, "bon.expected_gain", 3, fields);
  }
  bon_args a = {NULL, method_of(L, 3, "bon.expected_gain", 3), u->t, 0, NULL};
  abL_tail_prepare(L, 1, &frame);
  abL_each each = {expected_gain_at, &a};
  abL_tailmap tm = {u, &frame, abL_each_fn, &each};
  int st = abL_map(L, 2, "bon.expected_gain", 2, "n", abL_tailmap_fn, &tm,
                   &at, &value, 0);
  if (st) {
    abL_site site = {"bon.expected_gain", 2, N_DOMAIN, &frame, u->t, 1,
                     "needs an exact law (gaussian, uniform, bernoulli, "
                     "exponential, gamma, gumbel, logistic, beta, discrete, "
                     "empirical)", NULL};
    abL_fail(L, &site, st, lua_type(L, 2) != LUA_TNUMBER, at, value);
  }
  return 1;
}

/* ab.bon.gain(tail, n): the bound and the certificate(s) that gave it */
static int bon_gain(lua_State *L) {
  size_t at, n = 1;
  double value;
  abL_callback frame;
  lua_settop(L, 2);
  abL_tail *u = abL_checktail(L, 1, "bon.gain", 1);
  if (lua_type(L, 2) == LUA_TTABLE) n = lua_rawlen(L, 2);
  else if (abL_testvector(L, 2)) n = abL_testvector(L, 2)->n;
  if (n >= ABL_MAX_VECTOR)
    return abL_argerror(L, "bon.gain", 2, "n has too many elements");
  int *certs = (int *)lua_newuserdatauv(L, (n + 1) * sizeof(int), 0);
  abL_tail_prepare(L, 1, &frame);
  bon_args a = {NULL, AB_CLOSED, u->t, 0, certs};
  abL_each each = {gain_at, &a};
  abL_tailmap tm = {u, &frame, abL_each_fn, &each};
  int st = abL_map(L, 2, "bon.gain", 2, "n", abL_tailmap_fn, &tm, &at, &value,
                   0);
  if (st) map_failed(L, "bon.gain", 2, N_DOMAIN, st, at, value, &frame, u->t);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_pushstring(L, ab_certificate_name(certs[0]));
  } else {
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
      lua_pushstring(L, ab_certificate_name(certs[i]));
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  }
  return 2;
}

static double check_n_number(lua_State *L, int idx, const char *fname,
                             int integer) {
  double n = abL_checknumber(L, idx, fname, idx, "n");
  if (!(n >= 1 && isfinite(n)))
    abL_argerror(L, fname, idx, N_DOMAIN ", got %f", n);
  if (integer && n != floor(n))
    abL_argerror(L, fname, idx, "n must be an integer, got %f", n);
  return n;
}

/* ab.bon.policy(probs, rewards, n) */
static int bon_policy(lua_State *L) {
  size_t np;
  const double *r;
  ab_bon_summary s;
  lua_settop(L, 3);
  const double *p = abL_law(L, "bon.policy", &r, &np);
  double n = check_n_number(L, 3, "bon.policy", 0);
  lua_createtable(L, 0, 5);
  abL_vector *v = abL_newvector(L, np);
  lua_setfield(L, -2, "policy");
  int st = ab_bon_policy(p, r, np, n, v->data, &s);
  if (st) {
    abL_site site = {"bon.policy", 3, N_DOMAIN, NULL, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  abL_setnumber(L, "kl", s.kl);
  abL_setnumber(L, "win_rate", s.win_rate);
  abL_setnumber(L, "mean", s.mean);
  abL_setnumber(L, "kl_bound", s.kl_bound);
  return 1;
}

/* ab.bon.from_samples(scores, values [, n [, opts]]); with opts (n given)
 * the estimate, its bootstrap se and report, as ab.estimate.bon */
static int bon_from_samples(lua_State *L) {
  size_t ns, nv;
  if (!lua_isnoneornil(L, 4)) {
    if (lua_isnoneornil(L, 3))
      return abL_argerror(L, "bon.from_samples", 3, "n is needed with options "
                          "(the standard error is of one best-of-n)");
    return abL_bon_boot(L, "bon.from_samples");
  }
  lua_settop(L, 3);
  const double *s = abL_todoubles(L, 1, "bon.from_samples", 1, "ranking_scores",
                                  &ns);
  const double *v = abL_todoubles(L, 2, "bon.from_samples", 2, "values", &nv);
  if (ns == 0)
    return abL_argerror(L, "bon.from_samples", 1, "ranking_scores is empty");
  if (ns != nv)
    return abL_argerror(L, "bon.from_samples", 2, "ranking_scores and values "
                        "differ in length (%d and %d)", (int)ns, (int)nv);
  for (size_t i = 0; i < ns; i++) {
    if (!isfinite(s[i]))
      return abL_argerror(L, "bon.from_samples", 1, "ranking_scores[%d] must be "
                          "finite, got %f", (int)i + 1, s[i]);
    if (!isfinite(v[i]))
      return abL_argerror(L, "bon.from_samples", 2, "values[%d] must be finite, "
                          "got %f", (int)i + 1, v[i]);
  }
  size_t n = 0;
  if (!lua_isnil(L, 3)) {
    double dn = check_n_number(L, 3, "bon.from_samples", 1);
    if (dn > (double)ns)
      return abL_argerror(L, "bon.from_samples", 3, "n must be at most the number "
                          "of samples (%d), got %f", (int)ns, dn);
    n = (size_t)dn;
  }
  double one;
  abL_vector *out = n ? NULL : abL_newvector(L, ns);
  int st = ab_bon_from_samples(s, v, ns, n, n ? &one : out->data);
  if (st) {
    abL_site site = {"bon.from_samples", 1, NULL, NULL, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  if (n) lua_pushnumber(L, one);
  return 1;
}

static int n_for_kl_at(void *ud, size_t i, double x, double *y) {
  (void)ud;
  (void)i;
  return ab_bon_n_for_kl(x, y);
}

/* ab.bon.n_for_kl(kl) */
static int bon_n_for_kl(lua_State *L) {
  lua_settop(L, 1);
  return abL_map_each(L, "bon.n_for_kl", "kl", "kl must be a number >= 0",
                      n_for_kl_at, NULL);
}

/* ab.bon.binary(p, n): {pass=, kl=, win_rate=, tilt=, fail=}, each in the
 * shape of p */
static int bon_binary(lua_State *L) {
  const char *fname = "bon.binary";
  size_t m;
  lua_settop(L, 2);
  double n = abL_checknumber(L, 2, fname, 2, "n");
  if (!(n >= 1 && isfinite(n)))
    abL_argerror(L, fname, 2, "n must be a finite number >= 1, got %f", n);
  int number = lua_type(L, 1) == LUA_TNUMBER;
  abL_vector *vin = number ? NULL : abL_testvector(L, 1);
  double one;
  const double *p;
  if (number) {
    one = lua_tonumber(L, 1);
    p = &one;
    m = 1;
  } else if (vin) {
    p = vin->data;
    m = vin->n;
  } else {
    if (!lua_istable(L, 1))
      abL_argerror(L, fname, 1, "p must be a number, table or " ABL_VECTOR
                   ", got %s", abL_typename(L, 1));
    p = abL_todoubles(L, 1, fname, 1, "p", &m);
  }
  static const char *const keys[] = {"pass", "fail", "kl", "win_rate",
                                     "tilt"};
  lua_createtable(L, 0, 5);
  int tab = lua_gettop(L);
  double *col[5];
  for (int k = 0; k < 5; k++) {
    if (number) {
      col[k] = NULL;
      continue;
    }
    if (vin) col[k] = abL_newvector(L, m)->data;
    else {
      lua_createtable(L, (int)m, 0);
      col[k] = NULL;
    }
    lua_setfield(L, tab, keys[k]);
  }
  for (size_t i = 0; i < m; i++) {
    ab_bon_binary_result r;
    if (ab_bon_binary(p[i], n, &r)) {
      if (number)
        return abL_argerror(L, fname, 1, P_DOMAIN ", got %f", p[i]);
      return abL_argerror(L, fname, 1, "element %I: " P_DOMAIN ", got %f",
                          (lua_Integer)i + 1, p[i]);
    }
    double v[5] = {r.pass, r.fail, r.kl, r.win_rate, r.tilt};
    for (int k = 0; k < 5; k++) {
      if (number) abL_setnumber(L, keys[k], v[k]);
      else if (vin) col[k][i] = v[k];
      else {
        lua_getfield(L, tab, keys[k]);
        lua_pushnumber(L, v[k]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        lua_pop(L, 1);
      }
    }
  }
  return 1;
}

/* ab.bon.sample(dist, n, k, rng) */
static int bon_sample(lua_State *L) {
  abL_tail *u = abL_checktail(L, 1, "bon.sample", 1);
  double n = abL_checknumber(L, 2, "bon.sample", 2, "n");
  if (!(n >= 1 && isfinite(n)))
    return abL_argerror(L, "bon.sample", 2, "n must be a number >= 1, got %f",
                        n);
  size_t k = abL_checkcount(L, 3, "bon.sample", 3, "k");
  ab_rng *r = abL_checkrng(L, 4, "bon.sample", 4);
  abL_vector *v = abL_newvector(L, k);
  int st = ab_bon_sample(u->t, n, r, k, v->data);
  if (st) {
    abL_site site = {"bon.sample", 1, NULL, NULL, u->t, 1,
                     "needs an exact or finite law to sample", NULL};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  return 1;
}

void abL_open_bon(lua_State *L) {
  static const luaL_Reg fns[] = {{"divergence", bon_divergence},
                                 {"kl", bon_kl},
                                 {"win_rate", bon_win_rate},
                                 {"kl_estimate", bon_kl_estimate},
                                 {"expected_gain", bon_expected_gain},
                                 {"gain", bon_gain},
                                 {"policy", bon_policy},
                                 {"from_samples", bon_from_samples},
                                 {"n_for_kl", bon_n_for_kl},
                                 {"binary", bon_binary},
                                 {"sample", bon_sample},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "bon");
}
