/* estimate.c - ab.estimate: estimators with standard errors (the logs they
 * read come from ab.read_csv and ab.read_jsonl, in table.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

static const double *samples_arg(lua_State *L, int idx, const char *fname,
                                 const char *what, size_t *n);

/* ab.estimate.mean(x) -> mean, se */
static int est_mean(lua_State *L) {
  size_t n;
  double m, se;
  /* a non-finite element is named (e.g. a product that overflowed) */
  const double *x = samples_arg(L, 1, "estimate.mean", "x", &n);
  if (ab_estimate_mean(x, n, &m, &se))
    return abL_argerror(L, "estimate.mean", 1, "x must hold finite numbers");
  lua_pushnumber(L, m);
  lua_pushnumber(L, se);
  return 2;
}

static const double *pair(lua_State *L, const char *fname, size_t *n,
                          const double **lq) {
  size_t n2;
  const double *lp = abL_todoubles(L, 1, fname, 1, "logp_policy", n);
  *lq = abL_todoubles(L, 2, fname, 2, "logp_ref", &n2);
  if (*n == 0) abL_argerror(L, fname, 1, "logp_policy is empty");
  if (*n != n2)
    abL_argerror(L, fname, 2, "logp_policy and logp_ref differ in length "
                 "(%d and %d)", (int)*n, (int)n2);
  return lp;
}

/* ab.estimate.kl(logp_policy, logp_ref [, {estimator="k1"|"k2"|"k3"}]) */
static int est_kl(lua_State *L) {
  static const char *const fields[] = {"estimator", NULL};
  size_t n;
  const double *lq;
  double e, se;
  int which = AB_K3;
  lua_settop(L, 3);
  const double *lp = pair(L, "estimate.kl", &n, &lq);
  if (!lua_isnil(L, 3)) {
    if (!lua_istable(L, 3))
      return abL_argerror(L, "estimate.kl", 3,
                          "table of options expected, got %s",
                          abL_typename(L, 3));
    abL_checkfields(L, 3, "estimate.kl", 3, fields);
    lua_getfield(L, 3, "estimator");
    if (!lua_isnil(L, -1)) {
      const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                     : NULL;
      if (s && strcmp(s, "k1") == 0) which = AB_K1;
      else if (s && strcmp(s, "k2") == 0) which = AB_K2;
      else if (s && strcmp(s, "k3") == 0) which = AB_K3;
      else return abL_argerror(L, "estimate.kl", 3, "estimator must be \"k1\", \"k2\" "
                               "or \"k3\"");
    }
  }
  if (ab_estimate_kl(lp, lq, n, which, &e, &se))
    return abL_argerror(L, "estimate.kl", 1, "log-probabilities must be finite");
  lua_pushnumber(L, e);
  lua_pushnumber(L, se);
  return 2;
}

/* ab.estimate.renyi(logp_policy, logp_ref, {alpha=}) */
static int est_renyi(lua_State *L) {
  static const char *const fields[] = {"alpha", NULL};
  size_t n;
  const double *lq;
  double e, se, a;
  lua_settop(L, 3);
  const double *lp = pair(L, "estimate.renyi", &n, &lq);
  if (!lua_istable(L, 3))
    return abL_argerror(L, "estimate.renyi", 3, "table {alpha=} expected, got %s",
                        abL_typename(L, 3));
  abL_checkfields(L, 3, "estimate.renyi", 3, fields);
  a = abL_number(L, 3, "estimate.renyi", 3, "alpha");
  if (!(a > 0) || isinf(a))
    return abL_argerror(L, "estimate.renyi", 3, "alpha must be positive and finite, "
                        "got %f", a);
  if (ab_estimate_renyi(lp, lq, n, a, &e, &se))
    return abL_argerror(L, "estimate.renyi", 1, "log-probabilities must be finite");
  lua_pushnumber(L, e);
  lua_pushnumber(L, se);
  return 2;
}

/* ---- bootstraps: options, progress, results ---------------------------- */

/* The options every bootstrap takes: {level=, resamples=, seed=, rng=,
 * threads=, progress=, groups=}.  groups (1-based, optional) lists the first
 * row of each group and then n + 1: {1, 17, 33, ..., n + 1} (the rows of a
 * prompt together); the bootstrap then resamples groups. */
typedef struct {
  double level;
  size_t resamples;
  ab_boot b;
  ab_work w;
  int progress;
  size_t *groups; /* in a userdata on the stack */
} boot_opts;

/* An integer option key >= lo (dflt when absent); one bound in the error
 * whatever the value below it (checked before abL_checkcount's >= 0). */
static size_t opt_count(lua_State *L, int t, const char *fname, int argn,
                        const char *key, size_t dflt, size_t lo) {
  size_t v = dflt;
  lua_getfield(L, t, key);
  if (!lua_isnil(L, -1)) {
    int isint;
    lua_Integer k = lua_tointegerx(L, -1, &isint);
    if (lua_type(L, -1) == LUA_TNUMBER && isint && k < (lua_Integer)lo)
      abL_argerror(L, fname, argn, "%s must be >= %I, got %I", key,
                   (lua_Integer)lo, k);
    v = abL_checkcount(L, lua_gettop(L), fname, argn, key);
  }
  lua_pop(L, 1);
  return v;
}

/* Reads the options at t (a table or nil) into o; `fields` lists the ones
 * this function accepts.  The groups' userdata is left on the stack. */
static void boot_options(lua_State *L, int t, const char *fname, int argn,
                         const char *const fields[], size_t n, boot_opts *o) {
  memset(o, 0, sizeof *o);
  o->level = 0.95;
  o->resamples = AB_BOOT_RESAMPLES;
  o->progress = 1;
  int have_seed = 0;
  size_t threads;
  if (lua_isnil(L, t)) goto done;
  if (!lua_istable(L, t))
    abL_argerror(L, fname, argn, "table of options expected, got %s",
                 abL_typename(L, t));
  abL_checkfields(L, t, fname, argn, fields);
  abL_optnumber(L, t, fname, argn, "level", &o->level);
  if (!(o->level > 0 && o->level < 1))
    abL_argerror(L, fname, argn, "level must lie in (0, 1), got %f", o->level);
  o->resamples = opt_count(L, t, fname, argn, "resamples",
                            AB_BOOT_RESAMPLES, 1);
  threads = opt_count(L, t, fname, argn, "threads", 0, 0);
  if (threads > 1024) /* before the cast to unsigned */
    abL_argerror(L, fname, argn, "threads must be at most 1024, got %I",
                 (lua_Integer)threads);
  o->w.threads = (unsigned)threads;
  o->progress = abL_optboolean(L, t, fname, argn, "progress", 1);
  /* a shard: the run's resamples start at `first` (1-based) */
  o->b.first = opt_count(L, t, fname, argn, "first", 1, 1) - 1;
  lua_getfield(L, t, "seed");
  if (!lua_isnil(L, -1)) {
    int isint;
    lua_Integer k = lua_tointegerx(L, -1, &isint);
    if (!isint || k < 0)
      abL_argerror(L, fname, argn, "seed must be an integer >= 0");
    have_seed = 1;
    o->b.seed = (unsigned long long)k;
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "rng");
  if (!lua_isnil(L, -1)) {
    ab_rng *r = abL_checkrng(L, lua_gettop(L), fname, argn);
    if (have_seed)
      abL_argerror(L, fname, argn, "seed and rng exclude each other: give "
                   "one (the run's seed, or a generator to draw it from)");
    /* the seed of the run: one draw of the generator, which moves on */
    if (!have_seed)
      o->b.seed = (unsigned long long)(ab_rng_uniform(r) * 4294967296.0);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "groups");
  if (!lua_isnil(L, -1)) {
    size_t m;
    int gi = lua_gettop(L);
    const double *g = abL_todoubles(L, gi, fname, argn, "groups", &m);
    if (m < 2)
      abL_argerror(L, fname, argn, "groups must list at least 2 offsets "
                   "(1 and n + 1), got %d", (int)m);
    o->groups = (size_t *)lua_newuserdatauv(L, m * sizeof *o->groups, 0);
    for (size_t i = 0; i < m; i++) {
      /* increasing: an empty group is refused (see ab_boot) */
      double v = g[i], lo = i ? (double)o->groups[i - 1] + 2 : 1;
      if (!(v == floor(v) && v >= lo && v <= (double)n + 1))
        abL_argerror(L, fname, argn, "groups[%d] must be an integer in [%I, "
                     "%I] (offsets 1 < ... < n + 1, increasing: no empty "
                     "group), got %f", (int)i + 1, (lua_Integer)lo,
                     (lua_Integer)n + 1, v);
      o->groups[i] = (size_t)v - 1;
    }
    if (o->groups[0] != 0 || o->groups[m - 1] != n)
      abL_argerror(L, fname, argn, "groups must start at 1 and end at n + 1 = "
                   "%d", (int)n + 1);
    o->b.groups = o->groups;
    o->b.ngroups = m - 1;
    lua_replace(L, gi); /* keep the userdata, drop the field */
    goto done;
  }
  lua_pop(L, 1);
done:
  o->b.resamples = o->resamples;
}

/* The `values=` option (resample values of a run, e.g. merged from its
 * shards): NULL if absent; else their count in *m (the array stays on the
 * stack).  Only proxies >= 0 (+inf allowed: a variance beyond DBL_MAX) when
 * nonneg, else finite values.  A resamples= option must match their count. */
static const double *opt_values(lua_State *L, int t, const char *fname,
                                int argn, int nonneg, size_t *m) {
  const double *v = NULL;
  *m = 0;
  if (!lua_istable(L, t)) return NULL;
  lua_getfield(L, t, "values");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  v = abL_todoubles(L, lua_gettop(L), fname, argn, "values", m);
  if (*m == 0) abL_argerror(L, fname, argn, "values is empty");
  for (size_t i = 0; i < *m; i++)
    if (nonneg ? !(v[i] >= 0) : !isfinite(v[i]))
      abL_argerror(L, fname, argn, "values[%d] must be %s, got %f", (int)i + 1,
                   nonneg ? "a proxy >= 0" : "finite", v[i]);
  lua_getfield(L, t, "resamples");
  if (!lua_isnil(L, -1)) {
    size_t r = abL_checkcount(L, lua_gettop(L), fname, argn, "resamples");
    if (r != *m)
      abL_argerror(L, fname, argn, "resamples (%I) differs from the number of "
                   "values (%I): give one or the other", (lua_Integer)r,
                   (lua_Integer)*m);
  }
  lua_pop(L, 1);
  return v;
}

/* Raise the core's failure of a bootstrap (after erasing the progress line) */
static int boot_fail(lua_State *L, abL_progress *p, const char *fname, int st) {
  abL_progress_end(p);
  return abL_status(L, fname, st);
}

/* A finite-samples check shared by the bootstraps. */
static const double *samples_arg(lua_State *L, int idx, const char *fname,
                                 const char *what, size_t *n) {
  const double *x = abL_todoubles(L, idx, fname, idx, what, n);
  if (*n == 0) abL_argerror(L, fname, idx, "%s is empty", what);
  for (size_t i = 0; i < *n; i++)
    if (!isfinite(x[i]))
      abL_argerror(L, fname, idx, "%s[%d] must be finite, got %f", what,
                   (int)i + 1, x[i]);
  return x;
}

/* The standard error and the percentile interval at the level of bootstrap
 * values, into the table on top: se=, lo=, hi=; returns the se. */
static double interval(lua_State *L, const char *fname, const double *v,
                       size_t m, double level, abL_progress *p) {
  double se = NAN, lo = NAN, hi = NAN; /* boot_fail does not return */
  int st = ab_estimate_spread(v, m, &se);
  if (!st) st = ab_estimate_percentile(v, m, 0.5 * (1.0 - level), &lo);
  if (!st) st = ab_estimate_percentile(v, m, 0.5 * (1.0 + level), &hi);
  if (st) boot_fail(L, p, fname, st);
  abL_setnumber(L, "se", se);
  abL_setnumber(L, "lo", lo);
  abL_setnumber(L, "hi", hi);
  return se;
}

static void set_run(lua_State *L, const boot_opts *o) {
  abL_setnumber(L, "level", o->level);
  lua_pushinteger(L, (lua_Integer)o->b.resamples);
  lua_setfield(L, -2, "resamples");
  lua_pushinteger(L, (lua_Integer)o->b.seed);
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, (lua_Integer)o->b.first + 1);
  lua_setfield(L, -2, "first");
  lua_pushstring(L, o->b.groups ? "groups" : "samples");
  lua_setfield(L, -2, "method");
}

/* ab.estimate.variance_proxy(samples [, {level=, resamples=, seed=, rng=,
 * threads=, progress=, groups=, values=}]) -> estimate, upper, report */
static int est_proxy(lua_State *L) {
  static const char *const fields[] = {"level", "resamples", "rng", "seed",
                                       "threads", "progress", "groups",
                                       "values", NULL};
  const char *fname = "estimate.variance_proxy";
  size_t n, given = 0;
  const double *given_v = NULL;
  boot_opts o;
  ab_proxy_report rep;
  abL_progress prog = {fname, 0, 0, 0};
  lua_settop(L, 2);
  const double *x = samples_arg(L, 1, fname, "samples", &n);
  boot_options(L, 2, fname, 2, fields, n, &o);
  given_v = opt_values(L, 2, fname, 2, 1, &given);
  if (given_v) o.b.resamples = given;
  abL_vector *vals = abL_newvector(L, o.b.resamples);
  if (given) memcpy(vals->data, given_v, given * sizeof(double));
  abL_progress_init(&prog, fname, o.progress, &o.w);
  int st = ab_estimate_variance_proxy_report(x, n, o.level, &o.b, &o.w,
                                             vals->data, given != 0, &rep);
  abL_progress_end(&prog);
  if (st) return boot_fail(L, &prog, fname, st);
  int vidx = lua_gettop(L);
  lua_pushnumber(L, rep.est);
  lua_pushnumber(L, rep.upper);
  lua_createtable(L, 0, 16);
  abL_setnumber(L, "estimate", rep.est);
  abL_setnumber(L, "se", rep.se);
  abL_setnumber(L, "upper", rep.upper);
  set_run(L, &o);
  if (!isnan(rep.drop)) abL_setnumber(L, "drop", rep.drop);
  if (!isnan(rep.quarter)) abL_setnumber(L, "quarter", rep.quarter);
  lua_pushboolean(L, rep.flags == 0);
  lua_setfield(L, -2, "trusted");
  if (rep.flags) {
    char msg[640];
    size_t k = 0;
    if (rep.flags & AB_PROXY_FEW_SAMPLES)
      k += (size_t)snprintf(msg, sizeof msg, "only %zu samples: too few to "
                            "check the tail (%d are needed)", n, AB_PROXY_FEW);
    else
      k += (size_t)snprintf(msg, sizeof msg, "heavy tail: the estimate "
                            "cannot be trusted");
    if ((rep.flags & AB_PROXY_TOP) && k < sizeof msg)
      k += (size_t)snprintf(msg + k, sizeof msg - k, "; it rests on the few "
                            "most extreme samples (without the %d largest and "
                            "%d smallest it falls from %.4g to %.4g, more than "
                            "1.5 standard errors of %.3g)", AB_PROXY_DROP,
                            AB_PROXY_DROP, rep.est, rep.drop, rep.se);
    if ((rep.flags & AB_PROXY_GROWS) && k < sizeof msg)
      k += (size_t)snprintf(msg + k, sizeof msg - k, "; it grows with the "
                            "sample size (%.4g on quarters of the samples, "
                            "%.4g on all)", rep.quarter, rep.est);
    if (k < sizeof msg)
      snprintf(msg + k, sizeof msg - k, "; the bootstrap bound is no bound on "
               "the law's proxy, which may be infinite");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "caveat");
  }
  lua_pushvalue(L, vidx);
  lua_setfield(L, -2, "values");
  return 3;
}

/* ab.estimate.variance_proxy_resamples(samples, {seed=, first=, count=,
 * threads=, progress=, groups=}) -> vector of the values of resamples
 * first .. first + count - 1 (1-based): a shard of a run. */
static int est_proxy_resamples(lua_State *L) {
  static const char *const fields[] = {"seed", "first", "count", "threads",
                                       "progress", "groups", NULL};
  const char *fname = "estimate.variance_proxy_resamples";
  size_t n;
  boot_opts o;
  abL_progress prog = {fname, 0, 0, 0};
  lua_settop(L, 2);
  const double *x = samples_arg(L, 1, fname, "samples", &n);
  if (!lua_istable(L, 2))
    return abL_argerror(L, fname, 2, "table {seed=, first=, count=} expected, "
                        "got %s", abL_typename(L, 2));
  boot_options(L, 2, fname, 2, fields, n, &o);
  size_t count = opt_count(L, 2, fname, 2, "count", 200, 1);
  o.b.resamples = count;
  abL_vector *v = abL_newvector(L, count);
  abL_progress_init(&prog, fname, o.progress, &o.w);
  int st = ab_estimate_variance_proxy_boot(x, n, &o.b, &o.w, v->data);
  abL_progress_end(&prog);
  if (st) return boot_fail(L, &prog, fname, st);
  return 1;
}

/* The three results of a bootstrapped estimate: est, its se, and the report
 * {estimate=, se=, lo=, hi=, ..., values=} (the resample values at vidx). */
static int boot_result(lua_State *L, const char *fname, boot_opts *o,
                       abL_progress *prog, abL_vector *vals, int vidx,
                       double est) {
  lua_pushnumber(L, est);
  lua_createtable(L, 0, 10);
  abL_setnumber(L, "estimate", est);
  double se = interval(L, fname, vals->data, o->b.resamples, o->level, prog);
  set_run(L, o);
  lua_pushvalue(L, vidx);
  lua_setfield(L, -2, "values");
  lua_pushnumber(L, se);
  lua_insert(L, -2);
  return 3;
}

/* ab.estimate.bon(scores, values, n [, opts]) -> estimate, se, report: the
 * unbiased best-of-n estimate (bon.from_samples) with its bootstrap; also
 * ab.bon.from_samples(scores, values, n, opts), its errors naming fname */
int abL_bon_boot(lua_State *L, const char *fname) {
  static const char *const fields[] = {"level", "resamples", "rng", "seed",
                                       "threads", "progress", "groups",
                                       "first", "values", NULL};
  const double *given_v;
  size_t given;
  size_t ns, nv;
  boot_opts o;
  abL_progress prog = {fname, 0, 0, 0};
  double est;
  lua_settop(L, 4);
  const double *s = samples_arg(L, 1, fname, "scores", &ns);
  const double *v = samples_arg(L, 2, fname, "values", &nv);
  if (ns != nv)
    return abL_argerror(L, fname, 2, "scores and values differ in length "
                        "(%d and %d)", (int)ns, (int)nv);
  size_t nbest = abL_checkcount(L, 3, fname, 3, "n");
  if (nbest < 1 || nbest > ns)
    return abL_argerror(L, fname, 3, "n must lie in [1, %d] (the number of "
                        "samples), got %d", (int)ns, (int)nbest);
  boot_options(L, 4, fname, 4, fields, ns, &o);
  given_v = opt_values(L, 4, fname, 4, 0, &given);
  if (given_v) o.b.resamples = given;
  if (o.b.groups && !given_v) {
    /* every resample of groups must hold n rows: ngroups of the smallest */
    size_t small = ns;
    for (size_t g = 0; g < o.b.ngroups; g++)
      if (o.b.groups[g + 1] - o.b.groups[g] < small)
        small = o.b.groups[g + 1] - o.b.groups[g];
    if (small * o.b.ngroups < nbest)
      return abL_argerror(L, fname, 3, "n must be at most %I with these groups "
                          "(%I groups, the smallest of %I rows: a resample may "
                          "hold no more rows), got %I",
                          (lua_Integer)(small * o.b.ngroups),
                          (lua_Integer)o.b.ngroups, (lua_Integer)small,
                          (lua_Integer)nbest);
  }
  int st = ab_bon_from_samples(s, v, ns, nbest, &est);
  if (st) return boot_fail(L, &prog, fname, st);
  abL_vector *vals = abL_newvector(L, o.b.resamples);
  int vidx = lua_gettop(L);
  if (given_v) memcpy(vals->data, given_v, given * sizeof *given_v);
  else {
    abL_progress_init(&prog, fname, o.progress, &o.w);
    st = ab_estimate_bon_boot(s, v, ns, nbest, &o.b, &o.w, vals->data);
    abL_progress_end(&prog);
    if (st) return boot_fail(L, &prog, fname, st);
  }
  return boot_result(L, fname, &o, &prog, vals, vidx, est);
}

static int est_bon(lua_State *L) { return abL_bon_boot(L, "estimate.bon"); }

/* ab.estimate.frontier(samples, kl [, opts]) -> gain, se, report: the exact
 * frontier of the samples' empirical law at kl with its bootstrap */
static int est_frontier(lua_State *L) {
  static const char *const fields[] = {"level", "resamples", "rng", "seed",
                                       "threads", "progress", "groups",
                                       "first", "values", NULL};
  const char *fname = "estimate.frontier";
  const double *given_v;
  size_t given;
  size_t n;
  boot_opts o;
  abL_progress prog = {fname, 0, 0, 0};
  double gain;
  ab_tail *t;
  lua_settop(L, 3);
  const double *x = samples_arg(L, 1, fname, "samples", &n);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return abL_argerror(L, fname, 2, "kl must be a number, got %s",
                        abL_typename(L, 2));
  double kl = lua_tonumber(L, 2);
  if (!(kl >= 0) || isinf(kl))
    return abL_argerror(L, fname, 2, "kl must be finite and >= 0, got %f", kl);
  boot_options(L, 3, fname, 3, fields, n, &o);
  given_v = opt_values(L, 3, fname, 3, 0, &given);
  if (given_v) o.b.resamples = given;
  int st = ab_tail_discrete(x, NULL, n, &t);
  if (!st) {
    st = ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl, &gain);
    ab_tail_free(t);
  }
  if (st) return boot_fail(L, &prog, fname, st);
  abL_vector *vals = abL_newvector(L, o.b.resamples);
  int vidx = lua_gettop(L);
  if (given_v) memcpy(vals->data, given_v, given * sizeof *given_v);
  else {
    abL_progress_init(&prog, fname, o.progress, &o.w);
    st = ab_estimate_frontier_boot(x, n, kl, &o.b, &o.w, vals->data);
    abL_progress_end(&prog);
    if (st) return boot_fail(L, &prog, fname, st);
  }
  return boot_result(L, fname, &o, &prog, vals, vidx, gain);
}

void abL_open_estimate(lua_State *L) {
  static const luaL_Reg fns[] = {{"mean", est_mean},
                                 {"kl", est_kl},
                                 {"renyi", est_renyi},
                                 {"variance_proxy", est_proxy},
                                 {"variance_proxy_resamples", est_proxy_resamples},
                                 {"bon", est_bon},
                                 {"frontier", est_frontier},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "estimate");
}
