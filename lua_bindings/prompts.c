/* prompts.c - ab.group and the alignbound.prompts object (DESIGN 3.7): the
 * rows of a logged run grouped by prompt id, each prompt's responses its
 * empirical reference law.  The maths is in core/prompts.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

#define ABL_PROMPTS "alignbound.prompts"

/* The grouped columns live inside the userdata (the collector sees their
 * size): offsets, then reward, gold, logp_policy, logp_ref (NULL when not
 * given).  User value 1: the ids of the prompts in order; 2: the cached
 * variance proxies (a vector) or nil; 3: the run's fingerprint. */
typedef struct {
  size_t rows, prompts;
  unsigned threads; /* for the per-prompt work (0: every core) */
  int progress;     /* a progress line on a terminal */
  size_t *off;
  double *reward, *gold, *lp, *lr;
  double data[];
} abL_prompts;

/* ---- the ids ------------------------------------------------------------- */

/* A grouping held by a userdata whose __gc frees it: a Lua error (out of
 * memory while the results are pushed) cannot leak it. */
#define ABL_GROUPING "alignbound_internal.grouping"

static int grouping_gc(lua_State *L) {
  ab_grouping *g = (ab_grouping *)luaL_testudata(L, 1, ABL_GROUPING);
  if (g) ab_grouping_free(g);
  return 0;
}

static ab_grouping *new_grouping(lua_State *L) {
  ab_grouping *g = (ab_grouping *)lua_newuserdatauv(L, sizeof *g, 0);
  memset(g, 0, sizeof *g);
  if (luaL_newmetatable(L, ABL_GROUPING)) {
    lua_pushcfunction(L, grouping_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return g;
}

/* Group the ids at idx (a table of strings or of numbers, or a vector). */
static void group_ids(lua_State *L, int idx, const char *fname, int argn,
                      ab_grouping *g, uint64_t *hash) {
  int st;
  abL_vector *v = abL_testvector(L, idx);
  if (v) {
    *hash = ab_hash_bytes(*hash, v->data, v->n * sizeof *v->data);
    st = ab_group_numbers(v->data, v->n, g);
  } else {
    if (!lua_istable(L, idx))
      abL_argerror(L, fname, argn, "ids must be a table of strings or numbers "
                   "or a vector, got %s", abL_typename(L, idx));
    size_t n = lua_rawlen(L, idx);
    int strings = n > 0 && lua_rawgeti(L, idx, 1) == LUA_TSTRING;
    if (n > 0) lua_pop(L, 1);
    /* scratch: pointers and lengths, or doubles; freed by the collector */
    size_t each = strings ? sizeof(const char *) + sizeof(size_t) : sizeof(double);
    if (n > (SIZE_MAX - 64) / each)
      abL_argerror(L, fname, argn, "too many ids");
    void *scratch = lua_newuserdatauv(L, n * each + 1, 0);
    const char **s = (const char **)scratch;
    size_t *len = (size_t *)(s + n);
    double *x = (double *)scratch;
    for (size_t i = 0; i < n; i++) {
      int t = lua_rawgeti(L, idx, (lua_Integer)i + 1);
      if (strings ? t != LUA_TSTRING : t != LUA_TNUMBER)
        abL_argerror(L, fname, argn, "ids must be all strings or all numbers "
                     "(element %I is %s)", (lua_Integer)i + 1, abL_typename(L, -1));
      if (strings) {
        s[i] = lua_tolstring(L, -1, &len[i]); /* kept by the table */
        *hash = ab_hash_bytes(*hash, s[i], len[i]);
      } else {
        x[i] = lua_tonumber(L, -1);
        /* ids are grouped as doubles: an integer a double cannot hold
         * exactly (beyond 2^53) would fall together with its neighbours */
        if (lua_isinteger(L, -1)) {
          lua_Integer k = lua_tointeger(L, -1);
          if (!(x[i] < 0x1p63 && (lua_Integer)x[i] == k))
            abL_argerror(L, fname, argn, "ids: element %I is the integer %I, "
                         "beyond 2^53 and not exactly a double (give such ids "
                         "as strings)", (lua_Integer)i + 1, k);
        }
      }
      lua_pop(L, 1);
    }
    if (!strings) *hash = ab_hash_bytes(*hash, x, n * sizeof *x);
    st = strings ? ab_group_strings(s, len, n, g) : ab_group_numbers(x, n, g);
    lua_pop(L, 1);
  }
  if (st == AB_EDOM)
    abL_argerror(L, fname, argn, "ids must not be NaN");
  if (st) abL_status(L, fname, st);
}

/* Push a table of the ids of prompts lo..hi-1, in order of first
 * appearance. */
static void push_prompt_ids(lua_State *L, int idx, const ab_grouping *g,
                            size_t lo, size_t hi) {
  abL_vector *v = abL_testvector(L, idx);
  lua_createtable(L, (int)(hi - lo), 0);
  for (size_t q = lo; q < hi; q++) {
    if (v) lua_pushnumber(L, v->data[g->first[q]]);
    else lua_rawgeti(L, idx, (lua_Integer)g->first[q] + 1);
    lua_rawseti(L, -2, (lua_Integer)(q - lo) + 1);
  }
}

/* The doubles of a column argument with n entries, or a "bad argument". */
static const double *column(lua_State *L, int idx, const char *fname, int argn,
                            const char *what, size_t n) {
  size_t m;
  const double *x = abL_todoubles(L, idx, fname, argn, what, &m);
  if (m != n)
    abL_argerror(L, fname, argn, "%s has %I entries, ids has %I", what,
                 (lua_Integer)m, (lua_Integer)n);
  return x;
}

/* ab.group(ids, columns...) -> grouping, the columns grouped */
static int group(lua_State *L) {
  const char *fname = "group";
  if (lua_gettop(L) < 1) lua_settop(L, 1);
  int nargs = lua_gettop(L);
  if (!abL_testvector(L, 1) && !lua_istable(L, 1))
    return abL_argerror(L, fname, 1, "ids must be a table of strings or "
                        "numbers or a vector, got %s", abL_typename(L, 1));
  size_t n = abL_testvector(L, 1) ? abL_testvector(L, 1)->n : lua_rawlen(L, 1);
  luaL_checkstack(L, nargs + 8, "group: too many columns");
  const double **cols =
      (const double **)lua_newuserdatauv(L, (nargs + 1) * sizeof *cols, 0);
  for (int a = 2; a <= nargs; a++)
    cols[a - 2] = column(L, a, fname, a, "column", n);
  uint64_t hash = 0;
  ab_grouping *gp = new_grouping(L), g;
  group_ids(L, 1, fname, 1, gp, &hash);
  g = *gp;
  /* {prompts=, rows=, ids=, offsets=, columns=} */
  lua_createtable(L, 0, 5);
  int res = lua_gettop(L);
  lua_pushinteger(L, (lua_Integer)g.prompts);
  lua_setfield(L, res, "prompts");
  lua_pushinteger(L, (lua_Integer)g.rows);
  lua_setfield(L, res, "rows");
  push_prompt_ids(L, 1, &g, 0, g.prompts);
  lua_setfield(L, res, "ids");
  /* 1-based: prompt q holds the grouped rows offsets[q] .. offsets[q+1] - 1 */
  abL_vector *off = abL_newvector(L, g.prompts + 1);
  for (size_t q = 0; q <= g.prompts; q++) off->data[q] = (double)g.offsets[q] + 1;
  lua_setfield(L, res, "offsets");
  lua_createtable(L, nargs > 1 ? nargs - 1 : 0, 0);
  for (int a = 2; a <= nargs; a++) {
    abL_vector *v = abL_newvector(L, n);
    ab_group_permute(&g, cols[a - 2], v->data);
    lua_rawseti(L, -2, a - 1);
  }
  for (int a = 2; a <= nargs; a++) lua_rawgeti(L, res + 1, a - 1);
  lua_pushvalue(L, res + 1);
  lua_setfield(L, res, "columns");
  lua_remove(L, res + 1);
  return nargs;
}

/* ---- the prompts object ------------------------------------------------------- */

static abL_prompts *checkprompts(lua_State *L, const char *fname) {
  return (abL_prompts *)abL_checkself(L, ABL_PROMPTS, fname);
}

/* The object at 1 for a method that needs prompts (a shard may hold none:
 * more shards than prompts). */
static abL_prompts *checknonempty(lua_State *L, const char *fname) {
  abL_prompts *u = checkprompts(L, fname);
  if (u->prompts == 0) {
    lua_pushfstring(L, "%s: this shard holds no prompts", fname);
    lua_error(L);
  }
  return u;
}

/* ab.prompts{ids=, reward=, [gold=, logp_policy=, logp_ref=, shard={index=,
 * count=}, threads=0, progress=true]} (the Lua front turns shard="i/k" into
 * the table) */
static int prompts_new(lua_State *L) {
  static const char *const fields[] = {"ids", "reward", "gold", "logp_policy",
                                       "logp_ref", "shard", "threads",
                                       "progress", NULL};
  const char *fname = "prompts";
  lua_settop(L, 1);
  if (!lua_istable(L, 1))
    return abL_argerror(L, fname, 1, "table {ids=, reward=, ...} expected, got %s",
                        abL_typename(L, 1));
  abL_checkfields(L, 1, fname, 1, fields);
  int progress = abL_optboolean(L, 1, fname, 1, "progress", 1);
  size_t threads = 0;
  lua_getfield(L, 1, "threads");
  if (!lua_isnil(L, -1))
    threads = abL_checkcount(L, lua_gettop(L), fname, 1, "threads");
  lua_pop(L, 1);
  if (threads > 1024)
    return abL_argerror(L, fname, 1, "threads must be at most 1024, got %I",
                        (lua_Integer)threads);
  lua_getfield(L, 1, "ids");      /* 2 */
  lua_getfield(L, 1, "reward");   /* 3 */
  lua_getfield(L, 1, "gold");     /* 4 */
  lua_getfield(L, 1, "logp_policy"); /* 5 */
  lua_getfield(L, 1, "logp_ref"); /* 6 */
  lua_getfield(L, 1, "shard");    /* 7 */
  if (lua_isnil(L, 2)) return abL_argerror(L, fname, 1, "ids is required");
  if (lua_isnil(L, 3)) return abL_argerror(L, fname, 1, "reward is required");
  if (lua_isnil(L, 5) != lua_isnil(L, 6))
    return abL_argerror(L, fname, 1, "give both logp_policy and logp_ref, or neither");
  if (!abL_testvector(L, 2) && !lua_istable(L, 2))
    return abL_argerror(L, fname, 1, "ids must be a table of strings or numbers "
                        "or a vector, got %s", abL_typename(L, 2));
  size_t n = abL_testvector(L, 2) ? abL_testvector(L, 2)->n : lua_rawlen(L, 2);
  if (n == 0) return abL_argerror(L, fname, 1, "ids is empty");
  lua_Integer si = 1, sk = 1;
  if (!lua_isnil(L, 7)) {
    int ok = lua_istable(L, 7);
    if (ok) {
      lua_getfield(L, 7, "index");
      lua_getfield(L, 7, "count");
      ok = lua_isinteger(L, -2) && lua_isinteger(L, -1);
      si = lua_tointeger(L, -2);
      sk = lua_tointeger(L, -1);
      lua_pop(L, 2);
    }
    if (!ok || sk < 1 || si < 1 || si > sk)
      return abL_argerror(L, fname, 1, "shard must be \"i/k\" with 1 <= i <= k");
  }
  const double *col[4];
  static const char *const names[] = {"reward", "gold", "logp_policy", "logp_ref"};
  for (int c = 0; c < 4; c++)
    col[c] = lua_isnil(L, 3 + c) ? NULL : column(L, 3 + c, fname, 1, names[c], n);
  for (int c = 0; c < 4; c++)
    if (col[c])
      for (size_t i = 0; i < n; i++)
        if (!isfinite(col[c][i]))
          return abL_argerror(L, fname, 1, "%s: element %I is not finite, got %f",
                              names[c], (lua_Integer)i + 1, col[c][i]);
  /* the fingerprint of the whole run (every shard sees the same) */
  uint64_t hash = 0;
  for (int c = 0; c < 4; c++)
    hash = col[c] ? ab_hash_bytes(hash, col[c], n * sizeof(double))
                  : ab_hash_bytes(hash, names[c], strlen(names[c]));
  ab_grouping *gp = new_grouping(L), g;
  group_ids(L, 2, fname, 1, gp, &hash);
  g = *gp;
  /* this shard's prompts: a contiguous slice of the order of appearance */
  size_t P = g.prompts, lo = (size_t)(si - 1) * P / (size_t)sk;
  size_t hi = (size_t)si * P / (size_t)sk; /* as ab.shard.slice */
  size_t np = hi - lo, rows = g.offsets[hi] - g.offsets[lo], ncol = 0;
  for (int c = 0; c < 4; c++) ncol += col[c] != NULL;
  size_t bytes = (np + 1) * sizeof(size_t) + rows * ncol * sizeof(double);
  abL_prompts *u = (abL_prompts *)lua_newuserdatauv(L, sizeof *u + bytes, 3);
  u->rows = rows;
  u->prompts = np;
  u->threads = (unsigned)threads;
  u->progress = progress;
  double *d = u->data;
  double **dst[4] = {&u->reward, &u->gold, &u->lp, &u->lr};
  for (int c = 0; c < 4; c++) {
    *dst[c] = NULL;
    if (!col[c]) continue;
    *dst[c] = d;
    for (size_t j = 0; j < rows; j++) d[j] = col[c][g.order[g.offsets[lo] + j]];
    d += rows;
  }
  u->off = (size_t *)d;
  for (size_t q = 0; q <= np; q++) u->off[q] = g.offsets[lo + q] - g.offsets[lo];
  int ud = lua_gettop(L);
  push_prompt_ids(L, 2, &g, lo, hi);
  lua_setiuservalue(L, ud, 1);
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)hash);
  lua_pushstring(L, hex);
  lua_setiuservalue(L, ud, 3);
  ab_grouping_free(gp);
  luaL_setmetatable(L, ABL_PROMPTS);
  return 1;
}

/* The id of prompt q of the object at 1, as a string (for messages). */
static const char *prompt_name(lua_State *L, size_t q) {
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, (lua_Integer)q + 1) == LUA_TNUMBER) {
    /* an id read from a CSV is a float: 2, not 2.0 */
    double x = lua_tonumber(L, -1);
    if (x == floor(x) && fabs(x) < 0x1p53)
      return lua_pushfstring(L, "%I", (lua_Integer)x);
  }
  return luaL_tolstring(L, -1, NULL);
}

/* Raise for a core failure of a method; a prompt to blame when bad is not
 * SIZE_MAX. */
static int method_fail(lua_State *L, const char *fname, int st, size_t bad,
                       const char *why) {
  /* no position: the methods written in Lua call these, and the message
   * names the public method */
  if (bad == SIZE_MAX) return abL_status(L, fname, st);
  lua_pushfstring(L, "%s: prompt '%s' %s", fname, prompt_name(L, bad), why);
  return lua_error(L);
}

/* A per-prompt vector of the object at 1, set as field name of the table on
 * the top of the stack; returns its data. */
static double *prompt_vector(lua_State *L, size_t P, const char *name) {
  abL_vector *v = abL_newvector(L, P);
  lua_setfield(L, -2, name);
  return v->data;
}

/* Set field `name` to the delta-method se over prompts of sum_t c[t] x[t]
 * (ab_prompts_se) in the table on top. */
static void set_se(lua_State *L, const char *fname, const char *name,
                   const double *const *x, const double *c, size_t terms,
                   size_t P) {
  double se;
  int st = ab_prompts_se(x, c, terms, P, &se);
  if (st) method_fail(L, fname, st, SIZE_MAX, NULL);
  abL_setnumber(L, name, se);
}

/* pr:gain(kl) or pr:gain{beta=}: the common tilt */
static int prompts_gain(lua_State *L) {
  const char *fname = "prompts:gain";
  abL_prompts *u = checknonempty(L, fname);
  double value;
  int mode;
  lua_settop(L, 2);
  if (lua_istable(L, 2)) {
    static const char *const fields[] = {"beta", "kl", NULL};
    double beta, kl;
    abL_checkfields(L, 2, fname, 1, fields);
    int hb = abL_optnumber(L, 2, fname, 1, "beta", &beta);
    int hk = abL_optnumber(L, 2, fname, 1, "kl", &kl);
    if (hb == hk) return abL_argerror(L, fname, 1, "give exactly one of beta and kl");
    mode = hb ? AB_TILT_BETA : AB_TILT_KL;
    value = hb ? beta : kl;
  } else {
    value = abL_checknumber(L, 2, fname, 1, "kl");
    mode = AB_TILT_KL;
  }
  if (mode == AB_TILT_KL && !(value >= 0.0 && !isnan(value)))
    return abL_argerror(L, fname, 1, "kl must be a number >= 0, got %f", value);
  if (mode == AB_TILT_BETA && !(value > 0.0))
    return abL_argerror(L, fname, 1, "beta must be positive, got %f", value);
  size_t P = u->prompts;
  ab_prompts_result r;
  lua_createtable(L, 0, 6);
  lua_createtable(L, 0, 3);
  double *kl_x = prompt_vector(L, P, "kl");
  double *gain_x = prompt_vector(L, P, "gain");
  double *gold_x = u->gold ? prompt_vector(L, P, "gold_gain") : NULL;
  lua_setfield(L, -2, "prompt");
  int st = ab_prompts_tilt(u->off, P, u->reward, u->gold, mode, value, kl_x,
                           gain_x, gold_x, &r);
  if (st) return method_fail(L, fname, st, SIZE_MAX, NULL);
  abL_setnumber(L, "lambda", r.lambda);
  abL_setnumber(L, "beta", 1.0 / r.lambda);
  abL_setnumber(L, "kl", r.kl);
  abL_setnumber(L, "gain", r.gain);
  if (u->gold) abL_setnumber(L, "gold_gain", r.gold_gain);
  /* standard errors over prompts: at a fixed tilt (beta=, or saturated)
   * plain means; at a KL budget the tilt moves with the sample, and the
   * gain's influence is gain_x - KL_x / lambda (envelope slope 1/lambda) */
  const double *const xs[2] = {gain_x, kl_x};
  int budget = mode == AB_TILT_KL && r.lambda > 0.0 && isfinite(r.lambda);
  const double c[2] = {1.0, budget ? -1.0 / r.lambda : 0.0};
  set_se(L, fname, "gain_se", xs, c, 2, P);
  if (!budget) set_se(L, fname, "kl_se", xs + 1, c, 1, P);
  if (u->gold && !budget) {
    const double *const g[1] = {gold_x};
    set_se(L, fname, "gold_gain_se", g, c, 1, P);
  }
  return 1;
}

/* pr:best_of_n(n) */
static int prompts_best_of_n(lua_State *L) {
  const char *fname = "prompts:best_of_n";
  abL_prompts *u = checknonempty(L, fname);
  lua_settop(L, 2);
  double n = abL_checknumber(L, 2, fname, 1, "n");
  if (!(n >= 1.0 && isfinite(n)))
    return abL_argerror(L, fname, 1, "n must be a number >= 1, got %f", n);
  size_t P = u->prompts;
  ab_prompts_result r;
  lua_createtable(L, 0, 6);
  lua_createtable(L, 0, 4);
  double *kl_x = prompt_vector(L, P, "kl");
  double *gain_x = prompt_vector(L, P, "gain");
  double *win_x = prompt_vector(L, P, "win_rate");
  double *gold_x = u->gold ? prompt_vector(L, P, "gold_gain") : NULL;
  lua_setfield(L, -2, "prompt");
  int st = ab_prompts_bon(u->off, P, u->reward, u->gold, n, kl_x, gain_x,
                          gold_x, win_x, &r);
  if (st) return method_fail(L, fname, st, SIZE_MAX, NULL);
  abL_setnumber(L, "n", n);
  abL_setnumber(L, "kl", r.kl);
  abL_setnumber(L, "gain", r.gain);
  abL_setnumber(L, "win_rate", r.win_rate);
  if (u->gold) abL_setnumber(L, "gold_gain", r.gold_gain);
  /* means over prompts: their standard errors over prompts */
  const double one[1] = {1.0};
  const double *const xs[4] = {kl_x, gain_x, win_x, gold_x};
  set_se(L, fname, "kl_se", xs, one, 1, P);
  set_se(L, fname, "gain_se", xs + 1, one, 1, P);
  set_se(L, fname, "win_rate_se", xs + 2, one, 1, P);
  if (u->gold) set_se(L, fname, "gold_gain_se", xs + 3, one, 1, P);
  return 1;
}

/* The cached vector of per-prompt variance proxies, pushed. */
static abL_vector *proxies(lua_State *L, abL_prompts *u, const char *fname) {
  if (lua_getiuservalue(L, 1, 2) == LUA_TUSERDATA) return abL_testvector(L, -1);
  lua_pop(L, 1);
  abL_vector *v = abL_newvector(L, u->prompts);
  /* every prompt's own search: on the pool, with a progress line */
  ab_work work = {u->threads, NULL, NULL};
  abL_progress prog;
  abL_progress_init(&prog, fname, u->progress, &work);
  int st = ab_prompts_variance_proxy_work(u->off, u->prompts, u->reward, &work,
                                          v->data);
  abL_progress_end(&prog);
  if (st) method_fail(L, fname, st, SIZE_MAX, NULL);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, 2);
  return v;
}

/* pr:variance_proxy() -> per-prompt vector, and the mean over prompts */
static int prompts_variance_proxy(lua_State *L) {
  abL_prompts *u = checknonempty(L, "prompts:variance_proxy");
  lua_settop(L, 1);
  abL_vector *v = proxies(L, u, "prompts:variance_proxy");
  abL_vector *copy = abL_newvector(L, v->n);
  memcpy(copy->data, v->data, v->n * sizeof *v->data);
  lua_pushnumber(L, ab_prompts_mean(v->data, v->n));
  return 2;
}

/* pr:bound(kl): sqrt(2 E_x[s2(x)] kl) (Cauchy-Schwarz over prompts), and
 * E_x s2(x) */
static int prompts_bound(lua_State *L) {
  const char *fname = "prompts:bound";
  abL_prompts *u = checknonempty(L, fname);
  lua_settop(L, 2);
  double kl = abL_checknumber(L, 2, fname, 1, "kl");
  if (!(kl >= 0.0))
    return abL_argerror(L, fname, 1, "kl must be a number >= 0, got %f", kl);
  double b, s2;
  /* every prompt's own proxy search: on the pool, with a progress line */
  ab_work work = {u->threads, NULL, NULL};
  abL_progress prog;
  abL_progress_init(&prog, fname, u->progress, &work);
  int st = ab_prompts_bound_work(u->off, u->prompts, u->reward, kl, &work, &b,
                                 &s2);
  abL_progress_end(&prog);
  if (st) return method_fail(L, fname, st, SIZE_MAX, NULL);
  lua_pushnumber(L, b);
  lua_pushnumber(L, s2);
  return 2;
}

/* pr:_reweight() (for check_run): per-prompt KL(pi||ref), KL(ref||pi), gain
 * and the own frontier at that KL, of the policy given by the logged
 * log-probabilities */
static int prompts_reweight(lua_State *L) {
  const char *fname = "prompts:check_run";
  abL_prompts *u = checknonempty(L, fname);
  lua_settop(L, 1);
  if (!u->lp) {
    lua_pushfstring(L, "%s: needs logp_policy and logp_ref (give them to ab.prompts)", fname);
    return lua_error(L);
  }
  size_t P = u->prompts, bad = SIZE_MAX;
  lua_createtable(L, 0, 4);
  double *kl_x = prompt_vector(L, P, "kl");
  double *rkl_x = prompt_vector(L, P, "reverse_kl");
  double *gain_x = prompt_vector(L, P, "gain");
  double *fr_x = prompt_vector(L, P, "frontier");
  int st = ab_prompts_reweight(u->off, P, u->reward, u->lp, u->lr, kl_x, rkl_x,
                               gain_x, &bad);
  if (st == AB_EDOM && bad != SIZE_MAX && u->off[bad + 1] - u->off[bad] < 2)
    return method_fail(L, fname, st, bad,
                       "has one response: the reweighted policy needs two");
  if (st) return method_fail(L, fname, st, bad, "has a log-probability that is not finite");
  st = ab_prompts_frontier(u->off, P, u->reward, kl_x, fr_x);
  if (st) return method_fail(L, fname, st, SIZE_MAX, NULL);
  return 1;
}

/* pr:size() -> prompts, rows */
static int prompts_size(lua_State *L) {
  abL_prompts *u = checkprompts(L, "prompts:size");
  lua_pushinteger(L, (lua_Integer)u->prompts);
  lua_pushinteger(L, (lua_Integer)u->rows);
  return 2;
}

/* pr:ids() -> a copy of the prompts' ids, in order */
static int prompts_ids(lua_State *L) {
  abL_prompts *u = checkprompts(L, "prompts:ids");
  lua_getiuservalue(L, 1, 1);
  lua_createtable(L, (int)u->prompts, 0);
  for (size_t q = 1; q <= u->prompts; q++) {
    lua_rawgeti(L, -2, (lua_Integer)q);
    lua_rawseti(L, -2, (lua_Integer)q);
  }
  return 1;
}

/* pr:fingerprint() -> 16 hex digits hashing the whole run's ids and columns */
static int prompts_fingerprint(lua_State *L) {
  checkprompts(L, "prompts:fingerprint");
  lua_getiuservalue(L, 1, 3);
  return 1;
}

/* pr:responses() -> vector of the number of responses of each prompt */
static int prompts_responses(lua_State *L) {
  abL_prompts *u = checkprompts(L, "prompts:responses");
  abL_vector *v = abL_newvector(L, u->prompts);
  for (size_t q = 0; q < u->prompts; q++)
    v->data[q] = (double)(u->off[q + 1] - u->off[q]);
  return 1;
}

/* core._prompts.self(pr, fname): the self check of the methods written in
 * Lua */
static int prompts_self(lua_State *L) {
  checkprompts(L, luaL_checkstring(L, 2));
  return 0;
}

/* core._prompts.se({x1, x2, ...}, {c1, c2, ...}) -> the delta-method se
 * over prompts of the influence sum_t c_t x_t (ab_prompts_se) */
static int prompts_se(lua_State *L) {
  const char *fname = "prompts.se";
  const double *x[8];
  double c[8];
  size_t P = 0, terms;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  terms = lua_rawlen(L, 1);
  if (terms == 0 || terms > 8 || lua_rawlen(L, 2) != terms)
    return abL_argerror(L, fname, 1, "1 to 8 vectors and as many coefficients");
  for (size_t t = 0; t < terms; t++) {
    size_t n;
    lua_rawgeti(L, 1, (lua_Integer)t + 1);
    x[t] = abL_todoubles(L, lua_gettop(L), fname, 1, "x", &n);
    if (t > 0 && n != P) return abL_argerror(L, fname, 1, "vectors differ in length");
    P = n;
    lua_rawgeti(L, 2, (lua_Integer)t + 1);
    c[t] = abL_checknumber(L, -1, fname, 2, "c");
    lua_pop(L, 1); /* the vector stays on the stack */
  }
  double se;
  int st = ab_prompts_se(x, c, terms, P, &se);
  if (st) return method_fail(L, "prompts:check_run", st, SIZE_MAX, NULL);
  lua_pushnumber(L, se);
  return 1;
}

/* core._prompts.mean(vector) -> the prompt-ordered mean of the aggregates */
static int prompts_mean(lua_State *L) {
  size_t n;
  const double *x = abL_todoubles(L, 1, "prompts.mean", 1, "values", &n);
  lua_pushnumber(L, ab_prompts_mean(x, n));
  return 1;
}

static int prompts_tostring(lua_State *L) {
  abL_prompts *u = checkprompts(L, "prompts:__tostring");
  lua_pushfstring(L, "prompts(%I prompts, %I rows%s%s)", (lua_Integer)u->prompts,
                  (lua_Integer)u->rows, u->gold ? ", gold" : "",
                  u->lp ? ", logp" : "");
  return 1;
}

void abL_open_prompts(lua_State *L) {
  static const luaL_Reg methods[] = {{"gain", prompts_gain},
                                     {"best_of_n", prompts_best_of_n},
                                     {"bound", prompts_bound},
                                     {"variance_proxy", prompts_variance_proxy},
                                     {"size", prompts_size},
                                     {"ids", prompts_ids},
                                     {"responses", prompts_responses},
                                     {"fingerprint", prompts_fingerprint},
                                     {NULL, NULL}};
  static const luaL_Reg internal[] = {{"new", prompts_new},
                                      {"reweight", prompts_reweight},
                                      {"mean", prompts_mean},
                                      {"se", prompts_se},
                                      {"self", prompts_self},
                                      {NULL, NULL}};
  luaL_newmetatable(L, ABL_PROMPTS);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, prompts_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_pushcfunction(L, group);
  lua_setfield(L, -2, "group");
  luaL_newlib(L, internal);
  lua_setfield(L, -2, "_prompts");
}
