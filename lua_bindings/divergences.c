/* divergences.c - divergence families for Lua: family names, ab.fdiv(fn)
 * for a user f, and ab.divergence(p, q, family [, opts]). */
#include <math.h>
#include <string.h>

#include "binding.h"

#define ABL_FDIV "alignbound.fdiv"

static const char *const FAMILIES[] = {"kl",  "reverse_kl", "chi2",
                                       "hellinger", "tv", "js",
                                       "alpha", "renyi", NULL};
static const int KINDS[] = {AB_KL, AB_REVERSE_KL, AB_CHI2, AB_HELLINGER,
                            AB_TV, AB_JS, AB_ALPHA, AB_RENYI};

void abL_family(lua_State *L, int idx, int opts, const char *fname, int argn,
                ab_family *f, abL_callback *cb) {
  memset(f, 0, sizeof *f);
  memset(cb, 0, sizeof *cb);
  idx = lua_absindex(L, idx);
  if (opts) opts = lua_absindex(L, opts);
  double alpha = NAN;
  int has_alpha = 0;
  if (opts && !lua_isnoneornil(L, opts)) {
    static const char *const fields[] = {"alpha", "numeric", "out", NULL};
    if (!lua_istable(L, opts))
      abL_argerror(L, fname, argn + 1, "table of options expected, got %s",
                   abL_typename(L, opts));
    abL_checkfields(L, opts, fname, argn + 1, fields);
    has_alpha = abL_optnumber(L, opts, fname, argn + 1, "alpha", &alpha);
  }
  if (luaL_testudata(L, idx, ABL_FDIV)) {
    if (has_alpha)
      abL_argerror(L, fname, argn + 1, "alpha is for the alpha and renyi "
                   "families, not for a user f");
    f->kind = AB_USER;
    f->fn = abL_callback_number;
    f->ctx = cb;
    abL_callback_prepare(L, idx, cb, "f", "t");
    return;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    abL_argerror(L, fname, argn, "family must be a name (kl, reverse_kl, chi2, "
                 "hellinger, tv, js, alpha, renyi) or an " ABL_FDIV ", got %s",
                 abL_typename(L, idx));
  const char *name = lua_tostring(L, idx);
  int k = -1;
  for (int i = 0; FAMILIES[i]; i++)
    if (strcmp(name, FAMILIES[i]) == 0) k = i;
  if (k < 0)
    abL_argerror(L, fname, argn, "unknown family '%s' (expected kl, reverse_kl, "
                 "chi2, hellinger, tv, js, alpha, renyi or ab.fdiv(fn))", name);
  f->kind = KINDS[k];
  if (f->kind == AB_ALPHA || f->kind == AB_RENYI) {
    if (!has_alpha)
      abL_argerror(L, fname, argn + 1, "the %s family needs {alpha=}", name);
    f->alpha = alpha;
    if (ab_family_check(f) != AB_OK)
      abL_argerror(L, fname, argn + 1, "alpha must be %s, got %f",
                   f->kind == AB_RENYI ? "positive (math.huge allowed)"
                                       : "a finite number",
                   alpha);
  } else if (has_alpha) {
    abL_argerror(L, fname, argn + 1, "the %s family takes no alpha", name);
  }
}

/* ab.fdiv(fn): a user f-divergence, f convex with f(1) = 0. */
static int fdiv_new(lua_State *L) {
  abL_checkfunction(L, 1, "fdiv", 1, "fn");
  lua_newuserdatauv(L, 1, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, ABL_FDIV);
  return 1;
}

static int fdiv_tostring(lua_State *L) {
  abL_checkself(L, ABL_FDIV, "fdiv:__tostring");
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "fdiv(%p)", lua_topointer(L, -1));
  return 1;
}

/* ab.generator(family, t [, opts]): f(t) of an f-divergence family. */
static int fdiv_eval(lua_State *L) {
  ab_family f;
  abL_callback cb;
  lua_settop(L, 3);
  abL_family(L, 1, 3, "generator", 1, &f, &cb);
  double t = abL_checknumber(L, 2, "generator", 2, "t"), y;
  int st = ab_f_eval(&f, t, &y);
  if (st) {
    abL_site site = {"generator", 2, "t must be >= 0 (and the family an "
                     "f-divergence)", &cb, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, 0, t);
  }
  lua_pushnumber(L, y);
  return 1;
}

/* ab.divergence(p, q, family [, opts]) */
static int divergence(lua_State *L) {
  size_t np, nq;
  ab_family f;
  abL_callback cb;
  double out;
  lua_settop(L, 4);
  const double *p = abL_todoubles(L, 1, "divergence", 1, "p", &np);
  const double *q = abL_todoubles(L, 2, "divergence", 2, "q", &nq);
  if (np == 0) return abL_argerror(L, "divergence", 1, "p is empty");
  if (np != nq)
    return abL_argerror(L, "divergence", 2, "p and q differ in length "
                        "(%d and %d)", (int)np, (int)nq);
  abL_checkprobs(L, "divergence", 1, "p", p, np);
  abL_checkprobs(L, "divergence", 2, "q", q, nq);
  abL_family(L, 3, 4, "divergence", 3, &f, &cb);
  int st = ab_divergence(p, q, np, &f, &out);
  if (st) {
    abL_site site = {"divergence", 3, NULL, &cb, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_pushnumber(L, out);
  return 1;
}

void abL_open_divergences(lua_State *L) {
  static const luaL_Reg meta[] = {{"__tostring", fdiv_tostring}, {NULL, NULL}};
  luaL_newmetatable(L, ABL_FDIV);
  luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, fdiv_new);
  lua_setfield(L, -2, "fdiv");
  lua_pushcfunction(L, divergence);
  lua_setfield(L, -2, "divergence");
  lua_pushcfunction(L, fdiv_eval);
  lua_setfield(L, -2, "generator");
}
