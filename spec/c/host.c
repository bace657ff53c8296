/* host.c - an embedding host: links the core and the Lua module statically,
 * opens them with luaL_requiref into its own lua_State (no dlopen), runs a
 * script that computes a bound, and checks it against the core API. */
#include <gsl/gsl_errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>
#include <pthread.h>

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
  return check_report("host");
}
