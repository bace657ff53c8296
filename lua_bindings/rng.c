/* rng.c - ab.rng(seed [, stream [, {type=}]]): the generators the samplers
 * (t:sample, bon.sample, tilt.sample, the rules) draw from. */
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

/* ab.rng(seed [, stream [, {type=}]]) */
static int rng_new(lua_State *L) {
  static const char *const fields[] = {"type", NULL};
  lua_Integer seed = abL_checkinteger(L, 1, "rng", 1, "seed");
  lua_Integer stream =
      lua_isnoneornil(L, 2) ? 0 : abL_checkinteger(L, 2, "rng", 2, "stream");
  int type = AB_RNG_XOSHIRO256SS;
  if (!lua_isnoneornil(L, 3)) {
    if (!lua_istable(L, 3))
      return abL_argerror(L, "rng", 3, "table {type=} expected, got %s",
                          abL_typename(L, 3));
    abL_checkfields(L, 3, "rng", 3, fields);
    lua_getfield(L, 3, "type");
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return abL_argerror(L, "rng", 3, "type must be a string, got %s",
                            abL_typename(L, -1));
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
    return abL_status(L, "rng", AB_ENOMEM);
  return 1;
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
  if (!u->r) return luaL_error(L, "rng:uniform: rng is closed");
  if (lua_isnoneornil(L, 2)) {
    lua_pushnumber(L, ab_rng_uniform(u->r));
    return 1;
  }
  size_t k = abL_checkcount(L, 2, "rng:uniform", 1, "k");
  abL_vector *v = abL_newvector(L, k);
  for (size_t i = 0; i < k; i++) v->data[i] = ab_rng_uniform(u->r);
  return 1;
}

void abL_open_rng(lua_State *L) {
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
}

/* the rng of an argument, for the other bindings */
ab_rng *abL_checkrng(lua_State *L, int idx, const char *fname, int argn) {
  abL_rng *u = (abL_rng *)abL_checkudata(L, idx, ABL_RNG, fname, argn);
  if (!u->r) abL_argerror(L, fname, argn, "rng is closed");
  return u->r;
}
