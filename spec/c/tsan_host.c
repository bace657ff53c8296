/* tsan_host.c - threads for ThreadSanitizer (make test-tsan): THREADS POSIX
 * threads start at once, each opens its own Lua state with the module
 * (luaL_requiref, as spec/c/host.c) and runs a script, while tails built
 * once by the main thread are shared read-only by all threads through the
 * C API.  Every shared result must equal the single-threaded one, bit for
 * bit.  TSan reports any data race (TSAN_OPTIONS=halt_on_error=1 makes it
 * fatal). */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <string.h>

#include "alignbound.h"
#include "check.h"
#include "lua_host.h"


enum { THREADS = 4, NTAILS = 6, NKL = 5, ROUNDS = 20 };

static const char *front = "lua_bindings/alignbound/init.lua";
static ab_tail *tails[NTAILS];
static const double KL[NKL] = {1e-6, 0.01, 0.5, 3, 40};
static double expected[NTAILS][NKL][3];
static pthread_barrier_t start;

/* Lua work for each thread: tails, best-of-n, tilts, divergences, a user
 * cumulant (the callback path), sampling with the thread's own generator. */
static const char *SCRIPT =
    "local ab = require 'alignbound'\n"
    "local seed = ...\n"
    "local s = 0\n"
    "for i = 1, 20 do\n"
    "  local t = ab.tail.gumbel{loc = 0, scale = 1 + i / 10}\n"
    "  s = s + t:gain(0.3) + ab.tail.empirical{1, 2, 3, i}:gain(0.1)\n"
    "  s = s + ab.bon.policy({0.2, 0.3, 0.5}, {0, 1, 2}, i).kl\n"
    "  s = s + ab.tilt.policy({0.2, 0.3, 0.5}, {0, 1, 2}, {beta = i}).gain\n"
    "  s = s + ab.divergence({0.5, 0.5}, {0.25, 0.75}, 'js')\n"
    "  s = s + ab.tail.cumulant(function(l) return l * l / 2 end):gain(i / 20)\n"
    "  s = s + ab.mc.bon_gain(t, 4, 16, ab.rng(seed, i))\n"
    "end\n"
    "return s\n";

static lua_State *open_state(void) { return host_open_state(front, "tsan_host"); }

/* The shared-tail computations: bound, KL needed, cumulant. */
static int shared(const ab_tail *t, double kl, double out[3]) {
  int st = ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl, &out[0]);
  if (!st) st = ab_tail_kl_needed(t, AB_GAIN, AB_NUMERIC, out[0] / 2, &out[1]);
  if (!st) st = ab_tail_cumulant_eval(t, 0, kl / 10, &out[2]);
  return st;
}

typedef struct {
  int id, ok_lua, ok_shared;
  double lua_result;
} job;

static void *worker(void *arg) {
  job *j = arg;
  pthread_barrier_wait(&start); /* every thread opens its state at once */
  lua_State *L = open_state();
  j->ok_lua = L != NULL;
  if (L) {
    j->ok_lua = luaL_loadstring(L, SCRIPT) == LUA_OK;
    lua_pushinteger(L, 7); /* the same seed in every thread */
    if (j->ok_lua && lua_pcall(L, 1, 1, 0) == LUA_OK)
      j->lua_result = lua_tonumber(L, -1);
    else {
      fprintf(stderr, "tsan_host: thread %d: %s\n", j->id, lua_tostring(L, -1));
      j->ok_lua = 0;
    }
    lua_close(L);
  }
  j->ok_shared = 1;
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < NTAILS; k++)
      for (int i = 0; i < NKL; i++) {
        double out[3];
        int idx = (i + j->id + r) % NKL; /* threads interleave differently */
        if (shared(tails[k], KL[idx], out) != AB_OK ||
            memcmp(out, expected[k][idx], sizeof out) != 0)
          j->ok_shared = 0;
      }
  return NULL;
}

static int cumulant_fn(void *ctx, double l, double *psi) {
  *psi = *(const double *)ctx * l * l / 2;
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) front = argv[1];
  static const double values[] = {0, 1, 1, 2, 5, 8}, s2 = 1.5;
  ab_init();
  CHECK(ab_tail_gaussian(0, 2, &tails[0]) == AB_OK);
  CHECK(ab_tail_beta(2, 3, &tails[1]) == AB_OK);
  CHECK(ab_tail_discrete(values, NULL, 6, &tails[2]) == AB_OK);
  CHECK(ab_tail_gamma(2, 1, &tails[3]) == AB_OK);
  CHECK(ab_tail_bounded_mean(0, 1, 0.2, &tails[4]) == AB_OK);
  CHECK(ab_tail_cumulant(cumulant_fn, (void *)&s2, 10, &tails[5]) == AB_OK);
  for (int k = 0; k < NTAILS; k++)
    for (int i = 0; i < NKL; i++)
      CHECK(shared(tails[k], KL[i], expected[k][i]) == AB_OK);

  /* the Lua script's result in a single thread, for comparison */
  lua_State *L = open_state();
  double alone = 0;
  CHECK(L != NULL);
  if (L) {
    CHECK(luaL_loadstring(L, SCRIPT) == LUA_OK);
    lua_pushinteger(L, 7);
    CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK);
    alone = lua_tonumber(L, -1);
    lua_close(L);
  }

  pthread_t th[THREADS];
  job jobs[THREADS];
  pthread_barrier_init(&start, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){i, 0, 0, 0};
    CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(jobs[i].ok_lua);
    CHECK(jobs[i].ok_shared);
    CHECK(jobs[i].lua_result == alone);
  }
  pthread_barrier_destroy(&start);
  for (int k = 0; k < NTAILS; k++) ab_tail_free(tails[k]);
  return check_report("tsan_host");
}
