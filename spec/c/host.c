/* host.c - an embedding host: links the core and the Lua module statically,
 * opens them with luaL_requiref into its own lua_State (no dlopen), runs a
 * script that computes a bound, and checks it against the core API. */
#include <gsl/gsl_errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alignbound.h"
#include "check.h"
#include "lua_host.h"


static const char *SCRIPT =
    "local ab = require 'alignbound'\n"
    "local t = ab.tail.gumbel{loc = 0, scale = 2}\n"
    "local s = ab.tail.subgaussian{sigma = 1.5}\n"
    "return t:gain(0.3), s:gain(ab.vector{0.5, 2})[2], ab.version\n";

static lua_State *open_state(const char *front) {
  return host_open_state(front, "host");
}

/* A host's own GSL handler: it must survive later requires of the module. */
static int host_handler_calls;
static void host_handler(const char *reason, const char *file, int line,
                         int gsl_errno) {
  (void)reason, (void)file, (void)line, (void)gsl_errno;
  host_handler_calls++;
}

/* Each thread opens its own Lua state at the same moment (luaopen runs
 * ab_init), computes a bound and checks it. */
#define THREADS 4
typedef struct {
  const char *front;
  int ok;
} thread_job;

static void *thread_main(void *arg) {
  thread_job *job = arg;
  lua_State *L = open_state(job->front);
  if (!L) return NULL;
  job->ok = luaL_dostring(L, "local ab = require 'alignbound'\n"
                             "local s = 0\n"
                             "for i = 1, 200 do s = s + ab.tail.bernoulli{p = 0.5}:gain(i / 100) end\n"
                             "return ab.tail.subgaussian{sigma = 2}:gain(0.5), s") == LUA_OK &&
            lua_tonumber(L, -2) == 2.0 && lua_tonumber(L, -1) > 0;
  lua_close(L);
  return NULL;
}

/* POSIX threads, not C11 ones: ThreadSanitizer intercepts these. */
static void check_threads(const char *front) {
  pthread_t th[THREADS];
  thread_job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i].front = front;
    jobs[i].ok = 0;
    CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(th[i], NULL) == 0);
    CHECK(jobs[i].ok);
  }
}

/* A host that caps its state's memory with its own lua_Alloc: the core's
 * arrays of a finite law come from that allocator, so a 200,000-sample tail
 * (1.6 MB) does not fit 64 KB above what the state holds, and the refusal
 * is a clean "not enough memory"; without the cap the same tail is built,
 * the host's allocator sees its bytes, and collecting it returns them. */
typedef struct {
  size_t used, limit; /* limit 0: none */
} capped_heap;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  capped_heap *h = ud;
  if (!ptr) osize = 0; /* Lua passes a type tag there */
  if (nsize == 0) {
    free(ptr);
    h->used -= osize;
    return NULL;
  }
  if (h->limit && nsize > osize && h->used + (nsize - osize) > h->limit)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p) h->used += nsize - osize;
  return p;
}

static void check_capped_state(const char *front) {
  capped_heap h = {0, 0};
  lua_State *L = lua_newstate(capped_alloc, &h);
  CHECK(L != NULL);
  if (!L) return;
  luaL_openlibs(L);
  luaL_requiref(L, "alignbound.core", luaopen_alignbound_core, 0);
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  CHECK(luaL_loadfile(L, front) == LUA_OK);
  lua_setfield(L, -2, "alignbound");
  lua_pop(L, 2);
  /* the front wraps core.tail.empirical: the core's constructor runs first
   * and fails with its own message (the front's copies of the samples in
   * Lua vectors would be refused next, with Lua's) */
  CHECK(luaL_dostring(L, "ab = require 'alignbound'\n"
                         "core = require 'alignbound.core'\n"
                         "x = ab.vector(200000)\n"
                         "for i = 1, #x do x[i] = math.sin(i) end\n"
                         "collectgarbage()") == LUA_OK);
  h.limit = h.used + (64 << 10);
  CHECK(luaL_loadstring(L, "return core.tail.empirical(x)") == LUA_OK);
  int st = lua_pcall(L, 0, 1, 0);
  CHECK(st != LUA_OK);
  const char *msg = lua_tostring(L, -1);
  CHECK(msg && strstr(msg, "tail.empirical: not enough memory") != NULL);
  if (!msg || !strstr(msg, "not enough memory"))
    fprintf(stderr, "host: capped state: %s\n", msg ? msg : "(no message)");
  lua_settop(L, 0);
  CHECK(luaL_dostring(L, "return ab.tail.empirical(x)") != LUA_OK);
  CHECK(strstr(lua_tostring(L, -1), "not enough memory") != NULL);
  lua_settop(L, 0);
  /* a small tail still fits */
  CHECK(luaL_dostring(L, "return ab.tail.empirical{1, 2, 3}:gain(0.1)") ==
        LUA_OK);
  lua_settop(L, 0);
  CHECK(lua_gc(L, LUA_GCCOLLECT) == 0);
  h.limit = 0;
  size_t before = h.used;
  CHECK(luaL_dostring(L, "t = core.tail.empirical(x); return t:gain(0.1)") ==
        LUA_OK);
  lua_settop(L, 0);
  /* the core's 1.6 MB, besides the two vectors the front keeps */
  CHECK(h.used >= before + 3 * 200000 * sizeof(double));
  CHECK(luaL_dostring(L, "t = nil; collectgarbage(); collectgarbage()") ==
        LUA_OK);
  CHECK(h.used < before + (64 << 10));
  lua_close(L);
  CHECK(h.used == 0);
}

/* Resident memory of this process in bytes (Linux; 0 elsewhere). */
static size_t resident_bytes(void) {
  long pages = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  fclose(f);
  return (size_t)rss * 4096;
}

/* The loop of issue 11 on the bare module (no front, whose copies of the
 * samples are Lua vectors the collector sees anyway): 400 tails of 10^5
 * samples each.  The core's 0.8 MB per tail is announced to the collector,
 * which collects the old tails as it goes: before, resident memory grew by
 * the whole 320 MB. */
static void check_big_tails_collected(void) {
#if defined(__SANITIZE_ADDRESS__)
  return; /* ASan's quarantine holds freed memory resident */
#endif
  const char *pre = getenv("LD_PRELOAD");
  if (pre && strstr(pre, "vgpreload")) return; /* valgrind: too slow */
  lua_State *L = luaL_newstate();
  CHECK(L != NULL);
  if (!L) return;
  luaL_openlibs(L);
  luaL_requiref(L, "alignbound.core", luaopen_alignbound_core, 0);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "local core = require 'alignbound.core'\n"
                         "x = core.vector(100000)\n"
                         "for i = 1, #x do x[i] = math.sin(i) end\n") ==
        LUA_OK);
  size_t before = resident_bytes();
  CHECK(luaL_dostring(L, "local core = require 'alignbound.core'\n"
                         "for i = 1, 400 do core.tail.empirical(x) end\n") ==
        LUA_OK);
  size_t after = resident_bytes();
  if (before && after) {
    CHECK(after < before + ((size_t)64 << 20));
    if (after >= before + ((size_t)64 << 20))
      fprintf(stderr, "host: 400 big tails: resident %zu MB -> %zu MB\n",
              before >> 20, after >> 20);
  }
  lua_close(L);
}

int main(int argc, char **argv) {
  const char *front = argc > 1 ? argv[1] : "lua_bindings/alignbound/init.lua";
  lua_State *L = open_state(front), *L2 = open_state(front);
  CHECK(L != NULL && L2 != NULL);
  if (!L || !L2) return check_report("host");

  CHECK(luaL_loadstring(L, SCRIPT) == LUA_OK);
  int st = lua_pcall(L, 0, 3, 0);
  CHECK(st == LUA_OK);
  if (st != LUA_OK) fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
  else {
    ab_tail *t;
    double g;
    CHECK(ab_tail_gumbel(0, 2, &t) == AB_OK);
    CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.3, &g) == AB_OK);
    CHECK(lua_tonumber(L, -3) == g);
    CHECK_CLOSE(lua_tonumber(L, -2), 1.5 * sqrt(2 * 2.0), 1e-15);
    CHECK(strcmp(lua_tostring(L, -1), AB_VERSION) == 0);
    ab_tail_free(t);
  }
  lua_settop(L, 0);

  /* a misuse in the script is a catchable Lua error with a clear message */
  CHECK(luaL_loadstring(L, "return require('alignbound').tail.gaussian{sd=-1}") ==
        LUA_OK);
  CHECK(lua_pcall(L, 0, 1, 0) == LUA_ERRRUN);
  CHECK(strstr(lua_tostring(L, -1), "bad argument #1 to 'tail.gaussian'") != NULL);
  lua_settop(L, 0);

  /* a second state is independent of the first */
  CHECK(luaL_dostring(L2, "return require('alignbound').tail.bernoulli{p=0.5}:gain(100)") ==
        LUA_OK);
  CHECK(lua_tonumber(L2, -1) == 0.5);

  lua_close(L);
  lua_close(L2);

  /* ab_init runs once per process: a handler the host installs after the
   * first require is not overwritten by the requires of later states */
  gsl_error_handler_t *before = gsl_set_error_handler(host_handler);
  check_threads(front);
  lua_State *L3 = open_state(front);
  CHECK(L3 != NULL);
  if (L3) {
    CHECK(luaL_dostring(L3, "return require('alignbound').version") == LUA_OK);
    lua_close(L3);
  }
  ab_init();
  CHECK(gsl_set_error_handler(before) == host_handler);
  CHECK(host_handler_calls == 0);
  check_capped_state(front);
  check_big_tails_collected();
  return check_report("host");
}
