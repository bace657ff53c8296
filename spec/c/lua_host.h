/* lua_host.h - how the C test hosts open the module: statically linked,
 * opened with luaL_requiref, the Lua front loaded from the source tree and
 * package.cpath emptied so that nothing can be dlopen'ed. */
#ifndef ALIGNBOUND_LUA_HOST_H
#define ALIGNBOUND_LUA_HOST_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

int luaopen_alignbound_core(lua_State *L);

/* A new state with alignbound ready to require, or NULL (the reason on
 * stderr, prefixed with who). */
static lua_State *host_open_state(const char *front, const char *who) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  luaL_requiref(L, "alignbound.core", luaopen_alignbound_core, 0);
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_getfield(L, -1, "preload");
  if (luaL_loadfile(L, front) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", who, lua_tostring(L, -1));
    lua_close(L);
    return NULL;
  }
  lua_setfield(L, -2, "alignbound");
  lua_pop(L, 2);
  return L;
}

#endif
