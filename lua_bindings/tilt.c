/* tilt.c - ab.tilt: the exact KL-regularised optimum (exponential tilt). */
#include <math.h>
#include <string.h>

#include "binding.h"

/* ab.tilt.policy(probs, rewards, {beta= | kl=}) */
static int tilt_policy(lua_State *L) {
  static const char *const fields[] = {"beta", "kl", NULL};
  size_t np;
  const double *r;
  double beta, kl;
  ab_tilt_summary s;
  lua_settop(L, 3);
  const double *p = abL_law(L, "tilt.policy", &r, &np);
  if (!lua_istable(L, 3))
    return abL_argerror(L, "tilt.policy", 3,
                        "table {beta=} or {kl=} expected, got %s",
                        abL_typename(L, 3));
  abL_checkfields(L, 3, "tilt.policy", 3, fields);
  int has_beta = abL_optnumber(L, 3, "tilt.policy", 3, "beta", &beta);
  int has_kl = abL_optnumber(L, 3, "tilt.policy", 3, "kl", &kl);
  if (has_beta == has_kl)
    return abL_argerror(L, "tilt.policy", 3, "give exactly one of beta and kl");
  if (has_beta && !(beta > 0))
    return abL_argerror(L, "tilt.policy", 3, "beta must be positive, got %f",
                        beta);
  if (has_kl && !(kl >= 0))
    return abL_argerror(L, "tilt.policy", 3,
                        "kl must be a number >= 0, got %f", kl);
  lua_createtable(L, 0, 6);
  abL_vector *v = abL_newvector(L, np);
  lua_setfield(L, -2, "policy");
  int st = ab_tilt_policy(p, r, np, has_beta ? AB_TILT_BETA : AB_TILT_KL,
                          has_beta ? beta : kl, v->data, &s);
  if (st) {
    abL_site site = {"tilt.policy", 3, NULL, NULL, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  abL_setnumber(L, "beta", s.beta);
  abL_setnumber(L, "kl", s.kl);
  abL_setnumber(L, "gain", s.gain);
  abL_setnumber(L, "log_z", s.log_z);
  return 1;
}

static int vec_kl_of_beta(void *ud, const double *x, size_t n, double *y,
                          size_t *at) {
  return ab_tilt_kl_vec((const ab_tail *)ud, x, n, y, at);
}

static int vec_beta_of_kl(void *ud, const double *x, size_t n, double *y,
                          size_t *at) {
  return ab_tilt_beta_vec((const ab_tail *)ud, x, n, y, at);
}

/* Shared by tilt.kl and tilt.beta: map over argument 2, explain failures. */
static int convert(lua_State *L, const char *fname, const char *what,
                   const char *domain, abL_vecfn fn) {
  size_t at;
  double value;
  abL_callback frame;
  lua_settop(L, 2);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  abL_tail_prepare(L, 1, &frame);
  abL_tailmap tm = {u, &frame, fn, (void *)u->t};
  int st = abL_map(L, 2, fname, 2, what, abL_tailmap_fn, &tm, &at, &value, 0);
  if (st) {
    abL_site site = {fname, 2, domain, &frame, u->t, 1,
                     "needs a tail with a known cumulant and its derivatives "
                     "(not a user cumulant)", NULL};
    abL_fail(L, &site, st, lua_type(L, 2) != LUA_TNUMBER, at, value);
  }
  return 1;
}

/* ab.tilt.kl(dist, beta): the KL budget a penalty beta spends */
static int tilt_kl(lua_State *L) {
  return convert(L, "tilt.kl", "beta", "beta must be positive",
                 vec_kl_of_beta);
}

/* ab.tilt.beta(dist, kl): the penalty that spends a KL budget */
static int tilt_beta(lua_State *L) {
  return convert(L, "tilt.beta", "kl", "kl must be a number >= 0",
                 vec_beta_of_kl);
}

typedef struct {
  const ab_tail *t;
  double lambda, r;
  ab_family f;
} divergence_call;

static int divergence_run(void *arg) {
  divergence_call *c = (divergence_call *)arg;
  return ab_tail_tilt_divergence(c->t, c->lambda, &c->f, &c->r);
}

/* ab.tilt.divergence(dist, lambda, family [, {alpha=}]): D_f of the tilt
 * ref e^{lambda r} / Z from ref */
static int tilt_divergence(lua_State *L) {
  const char *fn = "tilt.divergence";
  abL_callback frame, cb;
  divergence_call c;
  lua_settop(L, 4);
  abL_tail *u = abL_checktail(L, 1, fn, 1);
  c.t = u->t;
  c.lambda = abL_checknumber(L, 2, fn, 2, "lambda");
  abL_family(L, 3, 4, fn, 3, &c.f, &cb);
  if (c.f.kind == AB_USER)
    return abL_argerror(L, fn, 3, "a user f has no closed form on a tilt; "
                        "give a named family");
  abL_tail_prepare(L, 1, &frame);
  int st = abL_tail_run(u, &frame, divergence_run, &c);
  if (st) {
    abL_site site = {fn, 2, "lambda must lie inside the domain of the cumulant",
                     &frame, u->t, 1,
                     "needs an exact or finite law, and a family of power "
                     "form (kl, reverse_kl, chi2, hellinger, renyi or alpha "
                     "of finite order)", NULL};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_pushnumber(L, c.r);
  return 1;
}

typedef struct {
  const ab_tail *t;
  double n;
  ab_bon_tilt c;
} compare_call;

static int compare_run(void *arg) {
  compare_call *c = (compare_call *)arg;
  return ab_tilt_compare_bon(c->t, c->n, &c->c);
}

/* ab.tilt.compare_bon(dist, n) */
static int tilt_compare_bon(lua_State *L) {
  abL_callback frame;
  lua_settop(L, 2);
  abL_tail *u = abL_checktail(L, 1, "tilt.compare_bon", 1);
  double n = abL_checknumber(L, 2, "tilt.compare_bon", 2, "n");
  if (!(n >= 1 && isfinite(n)))
    return abL_argerror(L, "tilt.compare_bon", 2,
                        "n must be a number >= 1, got %f", n);
  abL_tail_prepare(L, 1, &frame);
  compare_call c;
  memset(&c, 0, sizeof c);
  c.t = u->t;
  c.n = n;
  int st = abL_tail_run(u, &frame, compare_run, &c);
  if (st) {
    abL_site site = {"tilt.compare_bon", 2, "n must be a number >= 1", &frame,
                     u->t, 1, "needs an exact or finite law", NULL};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_createtable(L, 0, 5);
  abL_setnumber(L, "kl", c.c.kl);
  abL_setnumber(L, "bon_gain", c.c.bon_gain);
  abL_setnumber(L, "tilt_gain", c.c.tilt_gain);
  abL_setnumber(L, "beta", c.c.beta);
  abL_setnumber(L, "kl_bon_tilt", c.c.kl_bon_tilt);
  return 1;
}

/* A sampler failed on the tail u (argument 1) */
static int sample_failed(lua_State *L, const char *fname, abL_tail *u,
                         const abL_callback *frame, int st) {
  abL_site site = {fname, 1, NULL, frame, u->t, 1,
                   "needs an exact or finite law to sample", NULL};
  return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
}

typedef struct {
  const ab_tail *t;
  double kl, lambda;
} sample_call;

static int sample_tilt_run(void *arg) {
  sample_call *c = (sample_call *)arg;
  return ab_tail_tilt(c->t, AB_GAIN, c->kl, &c->lambda);
}

/* ab.tilt.sample(dist, {kl= | beta=}, k, rng) */
static int tilt_sample(lua_State *L) {
  static const char *const fields[] = {"kl", "beta", NULL};
  const char *fname = "tilt.sample";
  abL_callback frame;
  double kl, beta, lambda;
  lua_settop(L, 4);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  if (!lua_istable(L, 2))
    return abL_argerror(L, fname, 2, "table {kl=} or {beta=} expected, "
                        "got %s", abL_typename(L, 2));
  abL_checkfields(L, 2, fname, 2, fields);
  int has_kl = abL_optnumber(L, 2, fname, 2, "kl", &kl);
  int has_beta = abL_optnumber(L, 2, fname, 2, "beta", &beta);
  if (has_kl == has_beta)
    return abL_argerror(L, fname, 2, "give exactly one of kl and beta");
  size_t k = abL_checkcount(L, 3, fname, 3, "k");
  ab_rng *r = abL_checkrng(L, 4, fname, 4);
  if (has_beta) {
    if (!(beta > 0))
      return abL_argerror(L, fname, 2, "beta must be positive, got %f", beta);
    lambda = 1.0 / beta;
  } else {
    if (!(kl >= 0))
      return abL_argerror(L, fname, 2, "kl must be a number >= 0, got %f", kl);
    abL_tail_prepare(L, 1, &frame);
    sample_call c = {u->t, kl, NAN};
    int st = abL_tail_run(u, &frame, sample_tilt_run, &c);
    if (st) sample_failed(L, fname, u, &frame, st);
    lambda = c.lambda;
  }
  abL_vector *v = abL_newvector(L, k);
  int st = ab_tilt_sample(u->t, lambda, r, k, v->data);
  if (st == AB_EDOM)
    return abL_argerror(L, fname, 2, "no tilt of this law at that budget "
                        "(its cumulant is infinite there)");
  if (st) sample_failed(L, fname, u, NULL, st);
  return 1;
}

void abL_open_tilt(lua_State *L) {
  static const luaL_Reg fns[] = {{"policy", tilt_policy},
                                 {"kl", tilt_kl},
                                 {"divergence", tilt_divergence},
                                 {"beta", tilt_beta},
                                 {"compare_bon", tilt_compare_bon},
                                 {"sample", tilt_sample},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "tilt");
}
