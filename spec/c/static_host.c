/* static_host.c - a C host linked statically against an installed
 * alignbound (pkg-config --static alignbound-lua, see install_test.sh): it
 * opens the whole module, Lua front included, with no file on disk
 * (package.path and package.cpath empty, loadfile and dofile refused, run
 * from an empty directory in test-install; make test runs it against the
 * build tree), once through alignbound_preload and require,
 * once through luaL_requiref(L, "alignbound", luaopen_alignbound, 1). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "alignbound.h"
#include "alignbound_lua.h"
#include "check.h"

/* Every module of the front loads; a bound computed in Lua; where the front
 * says it comes from. */
static const char *SCRIPT =
    "local ab = require 'alignbound'\n"
    "assert(require 'alignbound.policy' == ab.policy)\n"
    "for _, m in ipairs { 'scenario', 'io', 'plot', 'core' } do\n"
    "  assert(type(require('alignbound.' .. m)) == 'table', m)\n"
    "end\n"
    "local g = ab.tail.gumbel { loc = 0, scale = 2 }:gain(0.3)\n"
    "local fam = ab.policy.kl_budget { kl = { 0.1, 0.4 } }\n"
    "return g, ab.version, debug.getinfo(ab.mc.mean, 'S').source, fam.name\n";

static int no_files(lua_State *L) {
  return luaL_error(L, "static_host: no file may be read (%s)",
                    luaL_optstring(L, 1, "stdin"));
}

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  lua_pushcfunction(L, no_files);
  lua_setglobal(L, "loadfile");
  lua_pushcfunction(L, no_files);
  lua_setglobal(L, "dofile");
  return L;
}

static void check_script(lua_State *L) {
  ab_tail *t;
  double g = 0;
  CHECK(ab_tail_gumbel(0, 2, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.3, &g) == AB_OK);
  ab_tail_free(t);
  int st = luaL_dostring(L, SCRIPT);
  CHECK(st == LUA_OK);
  if (st != LUA_OK) {
    fprintf(stderr, "static_host: %s\n", lua_tostring(L, -1));
    return;
  }
  CHECK(lua_tonumber(L, -4) == g);
  CHECK(strcmp(lua_tostring(L, -3), AB_VERSION) == 0);
  CHECK(strcmp(lua_tostring(L, -2), "@alignbound/init.lua") == 0);
  CHECK(strcmp(lua_tostring(L, -1), "kl_budget") == 0);
  lua_settop(L, 0);
}

int main(void) {
  lua_State *L = new_state();
  CHECK(L != NULL);
  if (!L) return check_report("static_host");
  alignbound_preload(L);
  check_script(L);
  /* an error inside the front names its chunk as a file of the module */
  CHECK(luaL_dostring(L, "return require('alignbound').mc.mean(1)") != LUA_OK);
  CHECK(strstr(lua_tostring(L, -1), "bad argument #1 to 'mc.mean'") != NULL);
  lua_close(L);

  L = new_state();
  CHECK(L != NULL);
  if (!L) return check_report("static_host");
  luaL_requiref(L, "alignbound", luaopen_alignbound, 1);
  CHECK(lua_istable(L, -1));
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return alignbound == require 'alignbound' and alignbound.tail ~= nil") == LUA_OK &&
        lua_toboolean(L, -1));
  lua_settop(L, 0);
  check_script(L);
  /* the module really needed the preload: without it require fails */
  lua_State *bare = new_state();
  CHECK(bare != NULL);
  if (bare) {
    CHECK(luaL_dostring(bare, "return require 'alignbound'") != LUA_OK);
    lua_close(bare);
  }
  lua_close(L);
  return check_report("static_host");
}
