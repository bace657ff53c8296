/* fit.c - ab.goodhart.fit: least-squares Goodhart fits (core/fit.c). */
#include <math.h>
#include <string.h>

#include "binding.h"

#define FN "goodhart.fit"

/* ab.goodhart.fit(kl, gold, "bon" | "rl" [, {se=}]) */
static int goodhart_fit(lua_State *L) {
  static const char *const f[] = {"se", NULL};
  size_t n, ng, ns = 0;
  const double *se = NULL;
  ab_goodhart r;
  lua_settop(L, 4);
  const double *kl = abL_todoubles(L, 1, FN, 1, "kl", &n);
  const double *gold = abL_todoubles(L, 2, FN, 2, "gold", &ng);
  const char *form = lua_tostring(L, 3);
  int which = form && strcmp(form, "bon") == 0 ? AB_FIT_BON
              : form && strcmp(form, "rl") == 0 ? AB_FIT_RL : 0;
  if (!which || lua_type(L, 3) != LUA_TSTRING)
    return abL_argerror(L, FN, 3, "form must be \"bon\" or \"rl\", got %s",
                        lua_type(L, 3) == LUA_TSTRING ? form
                                                      : abL_typename(L, 3));
  if (!lua_isnil(L, 4)) {
    if (!lua_istable(L, 4))
      return abL_argerror(L, FN, 4, "table of options expected, got %s",
                          abL_typename(L, 4));
    abL_checkfields(L, 4, FN, 4, f);
    lua_getfield(L, 4, "se");
    if (!lua_isnil(L, -1)) se = abL_todoubles(L, -1, FN, 4, "se", &ns);
  }
  if (n != ng)
    return abL_argerror(L, FN, 2, "kl and gold differ in length (%d and %d)",
                        (int)n, (int)ng);
  if (se && ns != n)
    return abL_argerror(L, FN, 4, "se and kl differ in length (%d and %d)",
                        (int)ns, (int)n);
  if (n < 3)
    return abL_argerror(L, FN, 1, "needs at least 3 points, got %d", (int)n);
  for (size_t i = 0; i < n; i++) {
    if (!(kl[i] >= 0) || !isfinite(kl[i]))
      return abL_argerror(L, FN, 1, "kl[%d] must be >= 0 and finite, got %f",
                          (int)i + 1, kl[i]);
    if (!isfinite(gold[i]))
      return abL_argerror(L, FN, 2, "gold[%d] must be finite, got %f",
                          (int)i + 1, gold[i]);
    if (se && !(se[i] > 0 && isfinite(se[i])))
      return abL_argerror(L, FN, 4, "se[%d] must be positive and finite, got %f",
                          (int)i + 1, se[i]);
  }
  int st = ab_goodhart_fit(kl, gold, se, n, which, &r);
  if (st == AB_EDOM)
    return abL_argerror(L, FN, 1, "needs at least two distinct positive kl "
                        "values");
  if (st) return abL_status(L, FN, st);
  lua_createtable(L, 0, 8);
  abL_setnumber(L, "alpha", r.alpha);
  abL_setnumber(L, "beta", r.beta);
  abL_setnumber(L, "alpha_se", r.alpha_se);
  abL_setnumber(L, "beta_se", r.beta_se);
  abL_setnumber(L, "r2", r.r2);
  abL_setnumber(L, "peak_kl", r.peak_kl);
  if (!isnan(r.peak_gain)) abL_setnumber(L, "peak_gain", r.peak_gain);
  lua_pushstring(L, form);
  lua_setfield(L, -2, "form");
  return 1;
}

void abL_open_fit(lua_State *L) {
  static const luaL_Reg fns[] = {{"fit", goodhart_fit}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "goodhart");
}
