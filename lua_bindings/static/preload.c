/* preload.c - alignbound_preload and luaopen_alignbound: the Lua front,
 * compiled in by lua_bindings/static/embed.sh (front.c, generated at build
 * time), registered as package.preload loaders next to alignbound.core.
 * Only in libalignbound_lua.a: the shared module core.so reads the front
 * from package.path. */
#include <lauxlib.h>
#include <lua.h>

#include "alignbound_lua.h"
#include "front.h"

/* package.preload loader of one front module (upvalue 1): loads its source
 * and runs it with require's arguments (name, ":preload:"). */
static int load_front(lua_State *L) {
  const abL_front_module *m =
      (const abL_front_module *)lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbufferx(L, (const char *)m->source, m->size, m->chunkname,
                       "t") != LUA_OK)
    return lua_error(L);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

void alignbound_preload(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_alignbound_core);
  lua_setfield(L, -2, "alignbound.core");
  for (const abL_front_module *m = abL_front; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, load_front, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

int luaopen_alignbound(lua_State *L) {
  alignbound_preload(L);
  lua_settop(L, 0);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "alignbound");
  lua_call(L, 1, 1);
  return 1;
}
