/* status.c - the one path from a core status to a Lua error. */
#include <math.h>
#include <stdint.h>

#include "binding.h"

int abL_fail(lua_State *L, const abL_site *s, int st, int shape, size_t at,
             double value) {
  char desc[160] = "";
  /* worded as Lua's own allocation failures */
  if (st == AB_ENOMEM) return luaL_error(L, "%s: not enough memory", s->fname);
  if (st == AB_EFUNC && s->cb) abL_callback_raise(L, s->cb, s->fname);
  if (s->tail) ab_tail_describe(s->tail, desc, sizeof desc);
  if (st == AB_EUNDEF && (s->undef_arg || desc[0])) {
    if (s->undef_arg)
      return abL_argerror(L, s->fname, s->undef_arg, "%s, got %s",
                          s->undef ? s->undef : ab_strerror(st), desc);
    return luaL_error(L, "%s: not defined for %s%s%s%s", s->fname, desc,
                      s->undef ? " (" : "", s->undef ? s->undef : "",
                      s->undef ? ")" : "");
  }
  if (st == AB_EDOM && s->domain) {
    if (at == SIZE_MAX) /* no element to blame */
      return abL_argerror(L, s->fname, s->argn, "%s", s->domain);
    if (shape)
      return abL_argerror(L, s->fname, s->argn, "element %I: %s, got %f",
                          (lua_Integer)at + 1, s->domain, value);
    return abL_argerror(L, s->fname, s->argn, "%s, got %f", s->domain, value);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_where(L, 1); /* where the Lua caller is, as luaL_error says it */
  luaL_addvalue(&b);
  lua_pushfstring(L, "%s: %s", s->fname, ab_strerror(st));
  luaL_addvalue(&b);
  if (desc[0] || at != SIZE_MAX) {
    luaL_addstring(&b, " (");
    if (desc[0]) luaL_addstring(&b, desc);
    if (desc[0] && at != SIZE_MAX) luaL_addstring(&b, ", ");
    if (at != SIZE_MAX) {
      if (s->what)
        lua_pushfstring(L, "at %s = %f", s->what, value);
      else
        lua_pushfstring(L, "at %f", value);
      luaL_addvalue(&b);
    }
    luaL_addstring(&b, ")");
  }
  luaL_pushresult(&b);
  return lua_error(L);
}

int abL_status(lua_State *L, const char *fname, int st) {
  abL_site site = {fname, 0, NULL, NULL, NULL, 0, NULL, NULL};
  return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
}
