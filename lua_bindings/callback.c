/* callback.c - calling back into Lua from the core (user cumulants, user
 * f): protected, so the core never sees a Lua error (binding.h). */
#include <math.h>

#include "binding.h"

void abL_callback_prepare(lua_State *L, int ud, abL_callback *c,
                          const char *what, const char *arg) {
  ud = lua_absindex(L, ud);
  lua_getiuservalue(L, ud, 1);
  c->fn = lua_gettop(L);
  lua_pushnil(L);
  c->err = lua_gettop(L);
  c->L = L;
  c->what = what;
  c->arg = arg;
}

/* What the protected part of a callback reads and writes. */
typedef struct {
  const abL_callback *c;
  double x, y;
  int failed;
} callback_args;

/* fn(x) in protected mode, with fn at index 1 and the callback_args at 2:
 * returns nothing on success (y set), else the message.  Formatting the
 * message allocates, so it too must run protected. */
static int callback_protected(lua_State *L) {
  callback_args *a = (callback_args *)lua_touserdata(L, 2);
  const abL_callback *c = a->c;
  lua_pushvalue(L, 1);
  lua_pushnumber(L, a->x);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    a->failed = 1;
    if (lua_type(L, -1) == LUA_TSTRING)
      lua_pushfstring(L, "%s failed at %s=%f: %s", c->what, c->arg, a->x,
                      lua_tostring(L, -1));
    return 1;
  }
  if (lua_type(L, -1) != LUA_TNUMBER || isnan(lua_tonumber(L, -1))) {
    a->failed = 1;
    lua_pushfstring(L, "%s must return a number, got %s at %s=%f", c->what,
                    lua_type(L, -1) == LUA_TNUMBER ? "nan"
                                                   : abL_typename(L, -1),
                    c->arg, a->x);
    return 1;
  }
  a->y = lua_tonumber(L, -1);
  return 0;
}

int abL_callback_number(void *ctx, double x, double *y) {
  const abL_callback *c = (const abL_callback *)ctx;
  lua_State *L = c->L;
  callback_args a = {c, x, NAN, 0};
  /* nothing here may raise: the core is on the C stack between us and the
   * binding; pushing a light C function or userdata does not allocate */
  if (!lua_checkstack(L, 4)) return 1;
  lua_pushcfunction(L, callback_protected);
  lua_pushvalue(L, c->fn);
  lua_pushlightuserdata(L, &a);
  int st = lua_pcall(L, 2, 1, 0);
  if (st != LUA_OK || a.failed) {
    lua_replace(L, c->err); /* the message (or a memory error) */
    return 1;
  }
  lua_pop(L, 1);
  *y = a.y;
  return 0;
}

void abL_callback_raise(lua_State *L, const abL_callback *c,
                        const char *fname) {
  if (c->L && !lua_isnil(L, c->err)) {
    /* a message says which public call it failed in; another error
     * object goes through unchanged */
    if (lua_type(L, c->err) == LUA_TSTRING)
      lua_pushfstring(L, "%s: %s", fname, lua_tostring(L, c->err));
    else
      lua_pushvalue(L, c->err);
    lua_error(L);
  }
}

