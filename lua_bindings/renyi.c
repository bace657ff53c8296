/* renyi.c - ab.renyi.gain: the Renyi refinement of the transport bound
 * (core/renyi.c). */
#include <math.h>

#include "binding.h"

#define FN "renyi.gain"

typedef struct {
  const ab_tail *t;
  int side;
  double r;
} proxy_call;

static int proxy_run(void *arg) {
  proxy_call *c = (proxy_call *)arg;
  return ab_tail_variance_proxy_side(c->t, c->side, &c->r);
}

/* The variance proxy of field `key` of the options: a tail (its right-tail
 * proxy for the reference, side AB_GAIN; its left-tail proxy for the aligned
 * policy, AB_LOSS) or {variance=}. */
static double proxy_field(lua_State *L, const char *key, int side) {
  static const char *const f[] = {"variance", NULL};
  double v = NAN;
  lua_getfield(L, 1, key);
  int idx = lua_gettop(L);
  if (lua_isnil(L, idx)) abL_argerror(L, FN, 1, "%s is required", key);
  abL_tail *u = (abL_tail *)luaL_testudata(L, idx, ABL_TAIL);
  if (u && u->t) {
    abL_callback frame;
    abL_tail_prepare(L, idx, &frame);
    proxy_call c = {u->t, side, NAN};
    int st = abL_tail_run(u, &frame, proxy_run, &c);
    if (st == AB_EFUNC) abL_callback_raise(L, &frame, FN);
    v = c.r;
    if (st == AB_EUNDEF) {
      char desc[160];
      ab_tail_describe(u->t, desc, sizeof desc);
      abL_argerror(L, FN, 1, "%s needs a left tail, and %s bounds the right "
                   "tail only", key, desc);
    }
    if (st) {
      abL_site site = {FN, 1, NULL, NULL, u->t, 0, NULL, NULL};
      abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
    }
  } else if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "variance");
    int missing = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (missing)
      abL_argerror(L, FN, 1, "%s must be a tail or {variance=}", key);
    abL_checkfields(L, idx, FN, 1, f);
    if (!abL_optnumber(L, idx, FN, 1, "variance", &v) || !(v >= 0))
      abL_argerror(L, FN, 1, "%s.variance must be >= 0, got %f", key, v);
  } else {
    abL_argerror(L, FN, 1, "%s must be an " ABL_TAIL " or {variance=}, got %s",
                 key, abL_typename(L, idx));
  }
  lua_settop(L, idx - 1);
  return v;
}

/* ab.renyi.gain{reference=, aligned=, divergence= [, alpha=]} -> bound, a */
static int renyi_gain(lua_State *L) {
  static const char *const f[] = {"reference", "aligned", "divergence",
                                  "alpha", NULL};
  static const char *const bonf[] = {"bon", NULL};
  double alpha = NAN, bound, at;
  ab_renyi_divergence d = {0, 0.0, 0.0, NULL, NULL};
  abL_callback cb = {NULL, 0, 0, NULL, NULL};
  lua_settop(L, 1);
  if (!lua_istable(L, 1))
    return abL_argerror(L, FN, 1, "table of options expected, got %s",
                        abL_typename(L, 1));
  abL_checkfields(L, 1, FN, 1, f);
  if (abL_optnumber(L, 1, FN, 1, "alpha", &alpha) &&
      !(alpha > 0 && alpha <= 1))
    return abL_argerror(L, FN, 1, "alpha must lie in (0, 1], got %f", alpha);
  double s2_ref = proxy_field(L, "reference", AB_GAIN);
  double s2_pi = proxy_field(L, "aligned", AB_LOSS);
  lua_getfield(L, 1, "divergence"); /* index 2 */
  switch (lua_type(L, 2)) {
  case LUA_TNUMBER:
    d.kind = AB_RENYI_FIXED;
    d.value = lua_tonumber(L, 2);
    if (isnan(alpha))
      return abL_argerror(L, FN, 1, "a number divergence is D_alpha: give "
                          "alpha= too");
    if (!(d.value >= 0))
      return abL_argerror(L, FN, 1, "divergence must be >= 0, got %f", d.value);
    break;
  case LUA_TFUNCTION:
    d.kind = AB_RENYI_FUNCTION;
    cb.L = L;
    cb.fn = 2;
    lua_pushnil(L);
    cb.err = 3;
    cb.what = "divergence function";
    cb.arg = "a";
    d.fn = abL_callback_number;
    d.ctx = &cb;
    break;
  case LUA_TTABLE: {
    abL_checkfields(L, 2, FN, 1, bonf);
    double n;
    if (!abL_optnumber(L, 2, FN, 1, "bon", &n))
      return abL_argerror(L, FN, 1, "divergence table must be {bon=n}");
    if (!(n >= 1 && isfinite(n)))
      return abL_argerror(L, FN, 1, "divergence.bon must be a number >= 1, "
                          "got %f", n);
    d.kind = AB_RENYI_BON;
    d.n = n;
    break;
  }
  case LUA_TNIL:
    return abL_argerror(L, FN, 1, "divergence is required");
  default:
    return abL_argerror(L, FN, 1, "divergence must be a number, a function of "
                        "the order or {bon=n}, got %s", abL_typename(L, 2));
  }
  int st = ab_renyi_gain(s2_ref, s2_pi, &d, alpha, &bound, &at);
  if (st == AB_EFUNC) abL_callback_raise(L, &cb, FN);
  if (st == AB_EDOM && d.kind == AB_RENYI_FUNCTION)
    return luaL_error(L, FN ": the divergence function must return D_a >= 0");
  if (st) return abL_status(L, FN, st);
  lua_pushnumber(L, bound);
  lua_pushnumber(L, at);
  return 2;
}

/* ab.renyi.bon_proxy(dist, n): the best-of-n law's left-tail proxy */
static int renyi_bon_proxy(lua_State *L) {
  const char *fn = "renyi.bon_proxy";
  abL_tail *u = abL_checktail(L, 1, fn, 1);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fn, 2, "n must be a number, got %s",
                        abL_typename(L, 2));
  double n = lua_tonumber(L, 2), v;
  if (!(n >= 1 && isfinite(n)))
    return abL_argerror(L, fn, 2, "n must be a number >= 1, got %f", n);
  int st = ab_bon_variance_proxy_left(u->t, n, &v);
  if (st) { /* a failure names the law (argument 1) and n (argument 2) */
    abL_site site = {fn, 2, NULL, NULL, u->t, 1, "needs an exact or finite law",
                     "n"};
    return abL_fail(L, &site, st, 0, 0, n);
  }
  lua_pushnumber(L, v);
  return 1;
}

void abL_open_renyi(lua_State *L) {
  static const luaL_Reg fns[] = {{"gain", renyi_gain},
                                 {"bon_proxy", renyi_bon_proxy},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "renyi");
}
