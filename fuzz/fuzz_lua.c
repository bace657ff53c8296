/* fuzz_lua.c - libFuzzer target: the Lua API driven by the fuzz input.  Each
 * input gets a fresh Lua state with the module opened the way an embedding
 * host does (luaL_requiref, as spec/c/host.c), then fuzz/pool.lua makes calls
 * to the public functions and methods, every choice (function, arguments,
 * coroutine or not) read from the input bytes.  The input is never run as
 * Lua source.
 *
 * A finding is a memory error in the bindings or the core (ASan, UBSan), a
 * call that returns NaN or raises an error that does not name a public
 * function (the pool's judgement; its KNOWN list is skipped), or the driver
 * itself failing (a corrupted Lua stack).  An instruction budget bounds the
 * Lua work of an input. */
#define _DEFAULT_SOURCE /* mkstemp */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef AB_SOURCE_DIR
#define AB_SOURCE_DIR "."
#endif

int luaopen_alignbound_core(lua_State *L);

static char csv_path[64];

/* Lua 5.4 seeds its string hashes (and so the order pairs and lua_next walk
 * a table in, which the bindings' option checks follow) from time(NULL) and
 * a few addresses (luai_makeseed).  For a run that replays exactly from
 * -seed (make fuzz-ci runs it without address randomisation), time() is
 * pinned here: the executable's definition takes precedence over libc's for
 * liblua.  Nothing in the module or the pool reads the clock. */
time_t time(time_t *t) {
  if (t) *t = 0;
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  strcpy(csv_path, "/tmp/ab_fuzz_XXXXXX");
  int fd = mkstemp(csv_path);
  if (fd < 0 || write(fd, "a,b\n1,2\n3,4.5\n", 14) != 14) abort();
  close(fd);
  return 0;
}

/* Lua's allocator with a cap, so that a huge request (ab.vector(2^40))
 * is Lua's "not enough memory" error instead of an out-of-memory kill. */
enum { LUA_MEMORY_CAP = 256 << 20 };
static size_t lua_memory;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    lua_memory -= osize;
    return NULL;
  }
  if (nsize > osize && nsize - osize > LUA_MEMORY_CAP - lua_memory) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) lua_memory += nsize - osize;
  return p;
}

static const uint8_t *bytes;
static size_t nbytes;

/* draw(k): an integer in 1..k from the input (1 once it is used up) */
static int draw(lua_State *L) {
  lua_Integer k = luaL_checkinteger(L, 1), v = 0;
  if (k < 1) k = 1;
  for (lua_Integer span = 1; span < k && nbytes; span <<= 8) {
    v = v << 8 | *bytes++;
    nbytes--;
  }
  lua_pushinteger(L, 1 + v % k);
  return 1;
}

static int left(lua_State *L) {
  lua_pushboolean(L, nbytes > 0);
  return 1;
}

static void budget(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "fuzz-callback: instruction budget spent");
}

static const char *DRIVER =
    "local draw, left, csv = ...\n"
    "local ab = require 'alignbound'\n"
    "local fuzz = dofile(SOURCE .. '/fuzz/pool.lua')\n"
    "local trace = os.getenv('FUZZ_VERBOSE') and function(r) io.stderr:write(r, '\\n') end\n"
    "local f = fuzz.new(ab, draw, { csv = csv, trace = trace })\n"
    "for _ = 1, 16 do\n"
    "  if not left() then break end\n"
    "  local problem = f.step()\n"
    "  if problem then return problem end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bytes = data;
  nbytes = size;
  lua_memory = 0;
  lua_State *L = lua_newstate(capped_alloc, NULL);
  if (!L) return 0;
  luaL_openlibs(L);
  luaL_requiref(L, "alignbound.core", luaopen_alignbound_core, 0);
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_getfield(L, -1, "preload");
  if (luaL_loadfile(L, AB_SOURCE_DIR "/lua_bindings/alignbound/init.lua")) {
    fprintf(stderr, "fuzz_lua: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_setfield(L, -2, "alignbound");
  lua_pop(L, 2);
  lua_pushliteral(L, AB_SOURCE_DIR);
  lua_setglobal(L, "SOURCE");

  if (luaL_loadstring(L, DRIVER)) abort();
  lua_pushcfunction(L, draw);
  lua_pushcfunction(L, left);
  lua_pushstring(L, csv_path);
  lua_sethook(L, budget, LUA_MASKCOUNT, 2000000);
  int st = lua_pcall(L, 3, 1, 0);
  lua_sethook(L, NULL, 0, 0);
  if (st != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (!msg || !strstr(msg, "instruction budget")) {
      fprintf(stderr, "fuzz_lua: the driver failed: %s\n", msg ? msg : "?");
      __builtin_trap();
    }
  } else if (lua_isstring(L, -1)) {
    fprintf(stderr, "fuzz_lua: %s\n", lua_tostring(L, -1));
    __builtin_trap();
  }
  lua_close(L);
  return 0;
}
