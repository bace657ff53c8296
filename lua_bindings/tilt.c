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
  const double *p = abL_law(L, "policy", &r, &np);
  if (!lua_istable(L, 3))
    return abL_argerror(L, "policy", 3, "table {beta=} or {kl=} expected, got %s",
                        luaL_typename(L, 3));
  abL_checkfields(L, 3, "policy", 3, fields);
  int has_beta = abL_optnumber(L, 3, "policy", 3, "beta", &beta);
  int has_kl = abL_optnumber(L, 3, "policy", 3, "kl", &kl);
  if (has_beta == has_kl)
    return abL_argerror(L, "policy", 3, "give exactly one of beta and kl");
  if (has_beta && !(beta > 0))
    return abL_argerror(L, "policy", 3, "beta must be positive, got %f", beta);
  if (has_kl && !(kl >= 0))
    return abL_argerror(L, "policy", 3, "kl must be a number >= 0, got %f", kl);
  lua_createtable(L, 0, 6);
  abL_vector *v = abL_newvector(L, np);
  lua_setfield(L, -2, "policy");
  int st = ab_tilt_policy(p, r, np, has_beta ? AB_TILT_BETA : AB_TILT_KL,
                          has_beta ? beta : kl, v->data, &s);
  if (st) return luaL_error(L, "policy: %s", ab_strerror(st));
  lua_pushnumber(L, s.beta);
  lua_setfield(L, -2, "beta");
  lua_pushnumber(L, s.kl);
  lua_setfield(L, -2, "kl");
  lua_pushnumber(L, s.gain);
  lua_setfield(L, -2, "gain");
  lua_pushnumber(L, s.log_z);
  lua_setfield(L, -2, "log_z");
  return 1;
}

/* ab.tilt.kl(dist, beta): the KL budget a penalty beta buys */
static int tilt_kl(lua_State *L) {
  abL_tail *u = abL_checktail(L, 1, "kl", 1);
  double beta = luaL_checknumber(L, 2), kl;
  if (!(beta > 0))
    return abL_argerror(L, "kl", 2, "beta must be positive, got %f", beta);
  int st = ab_tail_tilt_kl(u->t, 1.0 / beta, &kl);
  if (st == AB_EUNDEF)
    return abL_argerror(L, "kl", 1, "needs a tail with a known cumulant and "
                        "its derivatives (not a user cumulant)");
  if (st) return luaL_error(L, "kl: %s", ab_strerror(st));
  lua_pushnumber(L, kl);
  return 1;
}

/* ab.tilt.beta(dist, kl): the penalty that spends a KL budget */
static int tilt_beta(lua_State *L) {
  abL_tail *u = abL_checktail(L, 1, "beta", 1);
  double kl = luaL_checknumber(L, 2), lambda;
  if (!(kl >= 0))
    return abL_argerror(L, "beta", 2, "kl must be a number >= 0, got %f", kl);
  abL_callback saved = abL_tail_prepare(L, 1, u);
  int st = ab_tail_tilt(u->t, AB_GAIN, kl, &lambda);
  if (st == AB_EFUNC) abL_callback_raise(L, &u->call);
  if (st) return luaL_error(L, "beta: %s", ab_strerror(st));
  u->call = saved;
  lua_pushnumber(L, 1.0 / lambda);
  return 1;
}

/* ab.tilt.compare_bon(dist, n) */
static int tilt_compare_bon(lua_State *L) {
  abL_tail *u = abL_checktail(L, 1, "compare_bon", 1);
  double n = luaL_checknumber(L, 2);
  ab_bon_tilt c;
  if (!(n >= 1 && isfinite(n)))
    return abL_argerror(L, "compare_bon", 2, "n must be a number >= 1, got %f",
                        n);
  int st = ab_tilt_compare_bon(u->t, n, &c);
  if (st == AB_EUNDEF)
    return abL_argerror(L, "compare_bon", 1, "needs an exact or finite law");
  if (st) return luaL_error(L, "compare_bon: %s", ab_strerror(st));
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, c.kl);
  lua_setfield(L, -2, "kl");
  lua_pushnumber(L, c.bon_gain);
  lua_setfield(L, -2, "bon_gain");
  lua_pushnumber(L, c.tilt_gain);
  lua_setfield(L, -2, "tilt_gain");
  lua_pushnumber(L, c.beta);
  lua_setfield(L, -2, "beta");
  lua_pushnumber(L, c.kl_bon_tilt);
  lua_setfield(L, -2, "kl_bon_tilt");
  return 1;
}

void abL_open_tilt(lua_State *L) {
  static const luaL_Reg fns[] = {{"policy", tilt_policy},
                                 {"kl", tilt_kl},
                                 {"beta", tilt_beta},
                                 {"compare_bon", tilt_compare_bon},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "tilt");
}
