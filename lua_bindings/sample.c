/* sample.c - ab.rng(seed [, stream]) and the samplers: t:sample(k, rng),
 * ab.bon.sample(dist, n, k, rng), ab.tilt.sample(dist, opts, k, rng). */
#include <math.h>
#include <string.h>

#include "binding.h"

#define ABL_RNG "alignbound.rng"

typedef struct {
  ab_rng *r;
  lua_Integer seed, stream;
} abL_rng;

/* the generator types by name, in the order of AB_RNG_... */
static const char *const rng_types[] = {"xoshiro256**", "mt19937", NULL};

static lua_Integer checkinteger(lua_State *L, int idx, const char *fname,
                                int argn, const char *what) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (lua_type(L, idx) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be an integer, got %s", what,
                 luaL_typename(L, idx));
  if (!ok)
    abL_argerror(L, fname, argn, "%s must be an integer, got %f", what,
                 lua_tonumber(L, idx));
  return v;
}

/* ab.rng(seed [, stream [, {type=}]]) */
static int rng_new(lua_State *L) {
  static const char *const fields[] = {"type", NULL};
  lua_Integer seed = checkinteger(L, 1, "rng", 1, "seed");
  lua_Integer stream =
      lua_isnoneornil(L, 2) ? 0 : checkinteger(L, 2, "rng", 2, "stream");
  int type = AB_RNG_XOSHIRO256SS;
  if (!lua_isnoneornil(L, 3)) {
    if (!lua_istable(L, 3))
      return abL_argerror(L, "rng", 3, "table {type=} expected, got %s",
                          luaL_typename(L, 3));
    abL_checkfields(L, 3, "rng", 3, fields);
    lua_getfield(L, 3, "type");
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return abL_argerror(L, "rng", 3, "type must be a string, got %s",
                            luaL_typename(L, -1));
      const char *name = lua_tostring(L, -1);
      for (type = 0; rng_types[type]; type++)
        if (strcmp(rng_types[type], name) == 0) break;
      if (!rng_types[type])
        return abL_argerror(L, "rng", 3, "type must be 'xoshiro256**' or "
                            "'mt19937', got '%s'", name);
    }
    lua_pop(L, 1);
  }
  abL_rng *u = (abL_rng *)lua_newuserdatauv(L, sizeof *u, 0);
  u->r = NULL;
  u->seed = seed;
  u->stream = stream;
  luaL_setmetatable(L, ABL_RNG);
  /* the generator's state comes from the state's allocator */
  ab_allocator a;
  a.alloc = lua_getallocf(L, &a.ud);
  if (ab_rng_new_type_a(&a, type, (unsigned long long)seed,
                        (unsigned long long)stream, &u->r))
    return luaL_error(L, "rng: not enough memory");
  return 1;
}

static ab_rng *checkrng(lua_State *L, int idx, const char *fname, int argn) {
  abL_rng *u = (abL_rng *)luaL_testudata(L, idx, ABL_RNG);
  if (!u || !u->r)
    abL_argerror(L, fname, argn, ABL_RNG " expected, got %s",
                 u ? "a closed generator" : luaL_typename(L, idx));
  return u->r;
}

/* __gc and __close: free once */
static int rng_close(lua_State *L) {
  abL_rng *u = (abL_rng *)abL_checkself(L, ABL_RNG, "rng:__close");
  ab_rng_free(u->r);
  u->r = NULL;
  return 0;
}

static int rng_tostring(lua_State *L) {
  abL_rng *u = (abL_rng *)abL_checkself(L, ABL_RNG, "rng:__tostring");
  if (!u->r)
    lua_pushfstring(L, "rng(seed=%I, stream=%I, closed)", u->seed, u->stream);
  else
    lua_pushfstring(L, "rng(seed=%I, stream=%I, type=%s)", u->seed, u->stream,
                    rng_types[ab_rng_type(u->r)]);
  return 1;
}

/* r:uniform([k]): one number, or a vector of k, uniform on (0, 1) */
static int rng_uniform(lua_State *L) {
  abL_rng *u = (abL_rng *)abL_checkself(L, ABL_RNG, "rng:uniform");
  if (!u->r)
    return luaL_error(L, "calling 'rng:uniform' on bad self (a closed "
                      ABL_RNG ")");
  if (lua_isnoneornil(L, 2)) {
    lua_pushnumber(L, ab_rng_uniform(u->r));
    return 1;
  }
  size_t k = abL_checkcount(L, 2, "rng:uniform", 1, "k");
  abL_vector *v = abL_newvector(L, k);
  for (size_t i = 0; i < k; i++) v->data[i] = ab_rng_uniform(u->r);
  return 1;
}

/* A sampler failed on the tail u (argument 1) */
static int sample_failed(lua_State *L, const char *fname, abL_tail *u,
                         const abL_callback *frame, int st) {
  abL_site site = {fname, 1, NULL, frame, u->t, 1,
                   "needs an exact or finite law to sample"};
  return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
}

/* t:sample(k, rng) */
int abL_tail_sample(lua_State *L) {
  abL_tail *u = abL_checktailself(L, "tail:sample");
  size_t k = abL_checkcount(L, 2, "tail:sample", 1, "k");
  ab_rng *r = checkrng(L, 3, "tail:sample", 2);
  abL_vector *v = abL_newvector(L, k);
  int st = ab_tail_sample(u->t, r, k, v->data);
  if (st) {
    abL_site site = {"tail:sample", 1, NULL, NULL, u->t, 0,
                     "needs an exact or finite law to sample"};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
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
  ab_rng *r = checkrng(L, 4, "bon.sample", 4);
  abL_vector *v = abL_newvector(L, k);
  int st = ab_bon_sample(u->t, n, r, k, v->data);
  if (st) sample_failed(L, "bon.sample", u, NULL, st);
  return 1;
}

typedef struct {
  const ab_tail *t;
  double kl, lambda;
} tilt_call;

static int tilt_run(void *arg) {
  tilt_call *c = (tilt_call *)arg;
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
                        "got %s", luaL_typename(L, 2));
  abL_checkfields(L, 2, fname, 2, fields);
  int has_kl = abL_optnumber(L, 2, fname, 2, "kl", &kl);
  int has_beta = abL_optnumber(L, 2, fname, 2, "beta", &beta);
  if (has_kl == has_beta)
    return abL_argerror(L, fname, 2, "give exactly one of kl and beta");
  size_t k = abL_checkcount(L, 3, fname, 3, "k");
  ab_rng *r = checkrng(L, 4, fname, 4);
  if (has_beta) {
    if (!(beta > 0))
      return abL_argerror(L, fname, 2, "beta must be positive, got %f", beta);
    lambda = 1.0 / beta;
  } else {
    if (!(kl >= 0))
      return abL_argerror(L, fname, 2, "kl must be a number >= 0, got %f", kl);
    abL_tail_prepare(L, 1, &frame);
    tilt_call c = {u->t, kl, NAN};
    int st = abL_tail_run(u, &frame, tilt_run, &c);
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

void abL_open_sample(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", rng_close},
                                  {"__close", rng_close},
                                  {"__tostring", rng_tostring},
                                  {NULL, NULL}};
  static const luaL_Reg methods[] = {{"uniform", rng_uniform}, {NULL, NULL}};
  luaL_newmetatable(L, ABL_RNG);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, rng_new);
  lua_setfield(L, -2, "rng");
  lua_getfield(L, -1, "bon");
  lua_pushcfunction(L, bon_sample);
  lua_setfield(L, -2, "sample");
  lua_pop(L, 1);
  lua_getfield(L, -1, "tilt");
  lua_pushcfunction(L, tilt_sample);
  lua_setfield(L, -2, "sample");
  lua_pop(L, 1);
}

/* the rng of an argument, for the other bindings */
ab_rng *abL_checkrng(lua_State *L, int idx, const char *fname, int argn) {
  return checkrng(L, idx, fname, argn);
}
