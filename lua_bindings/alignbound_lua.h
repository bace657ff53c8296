/*
 * alignbound_lua.h - the Lua openers of alignbound, for hosts that embed Lua
 * and link the module statically (libalignbound_lua.a, pkg-config
 * alignbound-lua).  It needs no Lua header: lua_State is only named.
 *
 *   luaL_requiref(L, "alignbound", luaopen_alignbound, 0);  the whole module
 *   alignbound_preload(L);  or only make require "alignbound" work
 *
 * Both need the base and package libraries open (luaL_openlibs) and read
 * no file: the Lua front (the .lua files of lua_bindings/alignbound) is compiled into
 * libalignbound_lua.a as source text at build time.  See README.md,
 * "Embed from C".
 */
#ifndef ALIGNBOUND_LUA_H
#define ALIGNBOUND_LUA_H

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

/* The C module alignbound.core alone (what require "alignbound.core" loads
 * from core.so); runs ab_init(). */
int luaopen_alignbound_core(struct lua_State *L);

/* Sets package.preload entries for alignbound.core and for every module of
 * the Lua front (alignbound, alignbound.policy, .scenario, .io, .plot), so
 * that require finds them with package.path and package.cpath empty.
 * Entries already in package.preload are replaced. */
void alignbound_preload(struct lua_State *L);

/* alignbound_preload, then require "alignbound": returns the whole module
 * (for luaL_requiref; errors of the front are raised). */
int luaopen_alignbound(struct lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
