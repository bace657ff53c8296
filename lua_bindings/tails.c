/* tails.c - alignbound.tail objects: constructors ab.tail.* and the methods
 * gain, loss, kl_needed, budget_needed, optimal_policy, tilt, cumulant,
 * variance_proxy, mean. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "binding.h"

/* ---- tails and their user cumulant ------------------------------------- */

abL_tail *abL_checktail(lua_State *L, int idx, const char *fname, int argn) {
  abL_tail *u = (abL_tail *)abL_checkudata(L, idx, ABL_TAIL, fname, argn);
  if (!u->t) abL_argerror(L, fname, argn, "tail is closed");
  return u;
}

abL_tail *abL_checktailself(lua_State *L, const char *fname) {
  abL_tail *u = (abL_tail *)abL_checkself(L, ABL_TAIL, fname);
  if (!u->t) luaL_error(L, "%s: tail is closed", fname);
  return u;
}

void abL_tail_prepare(lua_State *L, int idx, abL_callback *frame) {
  abL_callback_prepare(L, idx, frame, "cumulant function", "lambda");
}

/* The only writer of u->active: bind, call, restore.  call must not raise
 * (the core never does, and abL_callback_number runs Lua protected), so the
 * previous binding is always restored, whatever the callback did. */
int abL_tail_run(abL_tail *u, abL_callback *frame, abL_corecall call,
                 void *arg) {
  abL_callback *outer = u->active;
  u->active = frame;
  int st = call(arg);
  u->active = outer;
  return st;
}

typedef struct {
  abL_tailmap *tm;
  const double *x;
  size_t n;
  double *y;
  size_t *at;
} tailmap_call;

static int tailmap_run(void *arg) {
  tailmap_call *c = (tailmap_call *)arg;
  return c->tm->fn(c->tm->ud, c->x, c->n, c->y, c->at);
}

int abL_tailmap_fn(void *ud, const double *x, size_t n, double *y,
                   size_t *failed_at) {
  abL_tailmap *tm = (abL_tailmap *)ud;
  tailmap_call c = {tm, x, n, y, failed_at};
  return abL_tail_run(tm->u, tm->frame, tailmap_run, &c);
}

/* __gc and __close: free the core tail once (a closed tail then raises
 * "tail is closed").  Called by hand while one of the tail's methods runs
 * (from its own user cumulant), it would free what the core is using, so
 * that is refused. */
static int tail_gc(lua_State *L) {
  abL_tail *u = (abL_tail *)abL_checkself(L, ABL_TAIL, "tail:__close");
  if (u->active)
    return luaL_error(L, "tail:__close: the tail is in use by a running method");
  ab_tail_free(u->t);
  u->t = NULL;
  return 0;
}

/* The core's callback for a user cumulant: ctx is the abL_tail; the frame of
 * the binding call running the core is u->active (NULL: no call, fail). */
static int tail_callback(void *ctx, double lambda, double *psi) {
  abL_tail *u = (abL_tail *)ctx;
  if (!u->active) return 1;
  return abL_callback_number(u->active, lambda, psi);
}

/* ---- constructors ------------------------------------------------------- */

static void push_tail(lua_State *L, ab_tail *t) {
  abL_tail *u = (abL_tail *)lua_newuserdatauv(L, sizeof *u, 1);
  memset(u, 0, sizeof *u);
  u->t = t;
  luaL_setmetatable(L, ABL_TAIL);
}

/* Make the userdata first, then the tail, so nothing leaks if a Lua error
 * strikes in between. */
static abL_tail *new_slot(lua_State *L) {
  push_tail(L, NULL);
  return (abL_tail *)lua_touserdata(L, -1);
}

/* A finite law's arrays (its size grows with the data) come from the
 * state's own allocator, so that a host's limits apply to them, and their
 * size is announced to the collector as an incremental step of that many
 * bytes, so that a loop making big tails collects the old ones (the
 * collector counts only what Lua itself allocates).  A stopped collector
 * stays stopped. */
static int finite_law(lua_State *L, abL_tail *u, const double *values,
                      const double *probs, size_t n) {
  ab_allocator a;
  a.alloc = lua_getallocf(L, &a.ud);
  int st = ab_tail_discrete_a(&a, values, probs, n, &u->t);
  if (!st && lua_gc(L, LUA_GCISRUNNING)) {
    size_t kb = n * sizeof(double) * (probs ? 2 : 1) / 1024;
    lua_gc(L, LUA_GCSTEP, kb < INT_MAX ? (int)kb : INT_MAX);
  }
  return st;
}

static void built(lua_State *L, const char *fname, int st) {
  if (st) abL_status(L, fname, st);
}

static void opts_table(lua_State *L, const char *fname,
                       const char *const fields[]) {
  if (!lua_istable(L, 1))
    abL_argerror(L, fname, 1, "table of options expected, got %s",
                 abL_typename(L, 1));
  abL_checkfields(L, 1, fname, 1, fields);
}

static double positive_field(lua_State *L, const char *fname, const char *key) {
  double x = abL_number(L, 1, fname, 1, key);
  if (!(x > 0 && isfinite(x)))
    abL_argerror(L, fname, 1, "%s must be positive and finite, got %f", key, x);
  return x;
}

static double finite_field(lua_State *L, const char *fname, const char *key,
                     int required, double dflt) {
  double x = dflt;
  if (required) x = abL_number(L, 1, fname, 1, key);
  else abL_optnumber(L, 1, fname, 1, key, &x);
  if (!isfinite(x))
    abL_argerror(L, fname, 1, "%s must be finite, got %f", key, x);
  return x;
}

static int tail_subgaussian(lua_State *L) {
  static const char *const f[] = {"sigma", "variance", NULL};
  double s2;
  opts_table(L, "tail.subgaussian", f);
  lua_getfield(L, 1, "sigma");
  int has_sigma = !lua_isnil(L, -1);
  lua_getfield(L, 1, "variance");
  int has_var = !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (has_sigma == has_var)
    return abL_argerror(L, "tail.subgaussian", 1,
                        "give exactly one of sigma and variance");
  if (has_sigma) {
    double s = positive_field(L, "tail.subgaussian", "sigma");
    s2 = s * s;
  } else {
    s2 = positive_field(L, "tail.subgaussian", "variance");
  }
  abL_tail *u = new_slot(L);
  built(L, "tail.subgaussian", ab_tail_subgaussian(s2, &u->t));
  return 1;
}

static int tail_subgamma(lua_State *L) {
  static const char *const f[] = {"v", "c", NULL};
  opts_table(L, "tail.subgamma", f);
  double v = positive_field(L, "tail.subgamma", "v");
  double c = finite_field(L, "tail.subgamma", "c", 1, 0);
  if (c < 0)
    return abL_argerror(L, "tail.subgamma", 1, "c must be >= 0, got %f", c);
  abL_tail *u = new_slot(L);
  built(L, "tail.subgamma", ab_tail_subgamma(v, c, &u->t));
  return 1;
}

static int tail_subexponential(lua_State *L) {
  static const char *const f[] = {"nu", "b", NULL};
  opts_table(L, "tail.subexponential", f);
  double nu = positive_field(L, "tail.subexponential", "nu");
  double b = positive_field(L, "tail.subexponential", "b");
  abL_tail *u = new_slot(L);
  built(L, "tail.subexponential", ab_tail_subexponential(nu, b, &u->t));
  return 1;
}

static int tail_bounded(lua_State *L) {
  static const char *const f[] = {"lo", "hi", "mean", NULL};
  double mean;
  opts_table(L, "tail.bounded", f);
  double lo = finite_field(L, "tail.bounded", "lo", 1, 0);
  double hi = finite_field(L, "tail.bounded", "hi", 1, 0);
  if (!(hi > lo) || !isfinite(hi - lo))
    return abL_argerror(L, "tail.bounded", 1, "hi must be above lo, got lo=%f hi=%f",
                        lo, hi);
  int has_mean = abL_optnumber(L, 1, "tail.bounded", 1, "mean", &mean);
  if (has_mean && !(mean >= lo && mean <= hi))
    return abL_argerror(L, "tail.bounded", 1, "mean must lie in [lo, hi], got %f",
                        mean);
  abL_tail *u = new_slot(L);
  built(L, "tail.bounded", has_mean ? ab_tail_bounded_mean(lo, hi, mean, &u->t)
                               : ab_tail_bounded(lo, hi, &u->t));
  return 1;
}

int abL_tail_gaussian(lua_State *L) {
  static const char *const f[] = {"mean", "sd", NULL};
  opts_table(L, "tail.gaussian", f);
  double m = finite_field(L, "tail.gaussian", "mean", 0, 0.0);
  double sd = positive_field(L, "tail.gaussian", "sd");
  abL_tail *u = new_slot(L);
  built(L, "tail.gaussian", ab_tail_gaussian(m, sd, &u->t));
  return 1;
}

static int tail_uniform(lua_State *L) {
  static const char *const f[] = {"lo", "hi", NULL};
  opts_table(L, "tail.uniform", f);
  double lo = finite_field(L, "tail.uniform", "lo", 1, 0);
  double hi = finite_field(L, "tail.uniform", "hi", 1, 0);
  if (!(hi > lo) || !isfinite(hi - lo))
    return abL_argerror(L, "tail.uniform", 1, "hi must be above lo, got lo=%f hi=%f",
                        lo, hi);
  abL_tail *u = new_slot(L);
  built(L, "tail.uniform", ab_tail_uniform(lo, hi, &u->t));
  return 1;
}

static int tail_bernoulli(lua_State *L) {
  static const char *const f[] = {"p", NULL};
  opts_table(L, "tail.bernoulli", f);
  double p = abL_number(L, 1, "tail.bernoulli", 1, "p");
  if (!(p >= 0 && p <= 1))
    return abL_argerror(L, "tail.bernoulli", 1, "p must lie in [0, 1], got %f", p);
  abL_tail *u = new_slot(L);
  built(L, "tail.bernoulli", ab_tail_bernoulli(p, &u->t));
  return 1;
}

static int tail_exponential(lua_State *L) {
  static const char *const f[] = {"rate", NULL};
  opts_table(L, "tail.exponential", f);
  double r = positive_field(L, "tail.exponential", "rate");
  abL_tail *u = new_slot(L);
  int st = ab_tail_exponential(r, &u->t);
  if (st == AB_EDOM)
    return abL_argerror(L, "tail.exponential", 1, "rate is too extreme, got %f", r);
  built(L, "tail.exponential", st);
  return 1;
}

/* Constructors of two-parameter laws whose core constructor says EDOM only
 * for overflowing combinations once each parameter has been checked. */
typedef int (*two_param)(double, double, ab_tail **);

static int law2(lua_State *L, const char *fname, const char *k1, int loc,
                const char *k2, two_param make) {
  const char *const f[] = {k1, k2, NULL};
  opts_table(L, fname, f);
  double a = loc ? finite_field(L, fname, k1, 0, 0.0) : positive_field(L, fname, k1);
  double b = positive_field(L, fname, k2);
  abL_tail *u = new_slot(L);
  int st = make(a, b, &u->t);
  if (st == AB_EDOM)
    return abL_argerror(L, fname, 1, "%s=%f and %s=%f are too extreme", k1, a,
                        k2, b);
  built(L, fname, st);
  return 1;
}

static int tail_gamma(lua_State *L) {
  return law2(L, "tail.gamma", "shape", 0, "scale", ab_tail_gamma);
}
static int tail_gumbel(lua_State *L) {
  return law2(L, "tail.gumbel", "loc", 1, "scale", ab_tail_gumbel);
}
static int tail_logistic(lua_State *L) {
  return law2(L, "tail.logistic", "loc", 1, "scale", ab_tail_logistic);
}
static int tail_beta(lua_State *L) {
  return law2(L, "tail.beta", "a", 0, "b", ab_tail_beta);
}
static int tail_student_t(lua_State *L) {
  return law2(L, "tail.student_t", "df", 0, "scale", ab_tail_student_t);
}
static int tail_pareto(lua_State *L) {
  return law2(L, "tail.pareto", "xm", 0, "alpha", ab_tail_pareto);
}

static void check_finite_all(lua_State *L, const char *fname, const char *what,
                             const double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      abL_argerror(L, fname, 1, "%s[%d] must be finite, got %f", what,
                   (int)i + 1, x[i]);
}

static int tail_discrete(lua_State *L) {
  static const char *const f[] = {"values", "probs", NULL};
  size_t nv, np;
  opts_table(L, "tail.discrete", f);
  lua_getfield(L, 1, "values");
  int iv = lua_gettop(L);
  lua_getfield(L, 1, "probs");
  int ip = lua_gettop(L);
  if (lua_isnil(L, iv))
    return abL_argerror(L, "tail.discrete", 1, "values is required");
  if (lua_isnil(L, ip))
    return abL_argerror(L, "tail.discrete", 1, "probs is required");
  const double *v = abL_todoubles(L, iv, "tail.discrete", 1, "values", &nv);
  const double *p = abL_todoubles(L, ip, "tail.discrete", 1, "probs", &np);
  if (nv == 0) return abL_argerror(L, "tail.discrete", 1, "values is empty");
  if (nv != np)
    return abL_argerror(L, "tail.discrete", 1,
                        "values and probs differ in length (%d and %d)",
                        (int)nv, (int)np);
  check_finite_all(L, "tail.discrete", "values", v, nv);
  double total = 0;
  for (size_t i = 0; i < np; i++) {
    if (!(p[i] >= 0) || !isfinite(p[i]))
      return abL_argerror(L, "tail.discrete", 1,
                          "probs[%d] must be a probability, got %f", (int)i + 1,
                          p[i]);
    total += p[i];
  }
  abL_tail *u = new_slot(L);
  int st = finite_law(L, u, v, p, nv);
  if (st == AB_EDOM)
    return abL_argerror(L, "tail.discrete", 1,
                        "probs must sum to 1 within "
                        ABL_XSTR(AB_PROB_TOL) ", got sum %f", total);
  built(L, "tail.discrete", st);
  return 1;
}

int abL_tail_empirical(lua_State *L) {
  size_t n;
  const double *x = abL_todoubles(L, 1, "tail.empirical", 1, "samples", &n);
  if (n == 0) return abL_argerror(L, "tail.empirical", 1, "samples is empty");
  check_finite_all(L, "tail.empirical", "samples", x, n);
  abL_tail *u = new_slot(L);
  built(L, "tail.empirical", finite_law(L, u, x, NULL, n));
  return 1;
}

static int tail_cumulant(lua_State *L) {
  static const char *const f[] = {"lambda_max", NULL};
  double lmax = HUGE_VAL;
  abL_checkfunction(L, 1, "tail.cumulant", 1, "fn");
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return abL_argerror(L, "tail.cumulant", 2,
                          "table of options expected, got %s",
                          abL_typename(L, 2));
    abL_checkfields(L, 2, "tail.cumulant", 2, f);
    abL_optnumber(L, 2, "tail.cumulant", 2, "lambda_max", &lmax);
    if (!(lmax > 0))
      return abL_argerror(L, "tail.cumulant", 2,
                          "lambda_max must be positive, got %f", lmax);
  }
  abL_tail *u = new_slot(L);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  built(L, "tail.cumulant", ab_tail_cumulant(tail_callback, u, lmax, &u->t));
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

typedef struct {
  const ab_tail *t;
  int side, method, order, out;
  ab_work work; /* threads= and the progress line of a sweep */
} map_args;

static int vec_bound(void *ud, const double *x, size_t n, double *y,
                     size_t *at) {
  map_args *a = (map_args *)ud;
  return ab_tail_bound_vec_work(a->t, a->side, a->method, x, n, &a->work, y,
                                at);
}

static int vec_kl_needed(void *ud, const double *x, size_t n, double *y,
                         size_t *at) {
  map_args *a = (map_args *)ud;
  return ab_tail_kl_needed_vec_work(a->t, a->side, a->method, x, n, &a->work,
                                    y, at);
}

static int vec_tilt(void *ud, const double *x, size_t n, double *y,
                    size_t *at) {
  map_args *a = (map_args *)ud;
  return ab_tail_tilt_vec(a->t, a->side, x, n, y, at);
}

static int vec_cumulant(void *ud, const double *x, size_t n, double *y,
                        size_t *at) {
  map_args *a = (map_args *)ud;
  return ab_tail_cumulant_vec(a->t, a->order, x, n, y, at);
}

/* threads= and progress= of a sweep in the options table at 3 (if any):
 * threads (default 0, every core) into w, and whether to show progress. */
static int sweep_opts(lua_State *L, const char *fname, int argn, ab_work *w) {
  w->threads = 0;
  w->progress = NULL;
  w->progress_ud = NULL;
  if (!lua_istable(L, 3)) return 1;
  lua_getfield(L, 3, "threads");
  if (!lua_isnil(L, -1)) {
    size_t k = abL_checkcount(L, lua_gettop(L), fname, argn, "threads");
    if (k > 1024)
      abL_argerror(L, fname, argn, "threads must be at most 1024, got %I",
                   (lua_Integer)k);
    w->threads = (unsigned)k;
  }
  lua_pop(L, 1);
  return abL_optboolean(L, 3, fname, argn, "progress", 1);
}

/* Parse the method options at index 3: numeric, side, derivative. */
static void method_opts(lua_State *L, const char *fname, int argn,
                        map_args *a, const char *const fields[]) {
  if (lua_isnoneornil(L, 3)) return;
  if (!lua_istable(L, 3))
    abL_argerror(L, fname, argn, "table of options expected, got %s",
                 abL_typename(L, 3));
  abL_checkfields(L, 3, fname, argn, fields);
  a->method = abL_optboolean(L, 3, fname, argn, "numeric", 0) ? AB_NUMERIC
                                                           : AB_CLOSED;
  lua_getfield(L, 3, "side");
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    if (s && strcmp(s, "gain") == 0) a->side = AB_GAIN;
    else if (s && strcmp(s, "loss") == 0) a->side = AB_LOSS;
    else abL_argerror(L, fname, argn, "side must be \"gain\" or \"loss\"");
  }
  lua_pop(L, 1);
  lua_getfield(L, 3, "out");
  if (!lua_isnil(L, -1)) {
    if (!abL_testvector(L, -1))
      abL_argerror(L, fname, argn, "out must be an " ABL_VECTOR ", got %s",
                   abL_typename(L, -1));
    a->out = 1;
  }
  lua_pop(L, 1);
  double d;
  if (abL_optnumber(L, 3, fname, argn, "derivative", &d)) {
    if (!(d == 0 || d == 1 || d == 2))
      abL_argerror(L, fname, argn, "derivative must be 0, 1 or 2, got %f", d);
    a->order = (int)d;
  }
}

static int run(lua_State *L, const char *fname, const char *what,
               const char *domain, int side, abL_vecfn fn,
               const char *const fields[]) {
  abL_tail *u = abL_checktailself(L, fname);
  map_args a = {u->t, side, AB_CLOSED, 0, 0, {1, NULL, NULL}};
  abL_callback frame;
  abL_progress prog = {fname, 0, 0, 0};
  size_t at;
  double value;
  method_opts(L, fname, 2, &a, fields);
  lua_settop(L, 3);
  int show = sweep_opts(L, fname, 2, &a.work);
  abL_progress_init(&prog, fname, show, &a.work);
  if (a.out) lua_getfield(L, 3, "out"); /* at index 4 */
  else lua_pushnil(L);
  abL_tail_prepare(L, 1, &frame);
  abL_tailmap tm = {u, &frame, fn, &a};
  int st = abL_map(L, 2, fname, 1, what, abL_tailmap_fn, &tm, &at, &value,
                   a.out ? 4 : 0);
  abL_progress_end(&prog);
  if (st) {
    abL_site site = {fname, 1, domain, &frame, u->t, 0,
                     "its assumption bounds the right tail only", NULL};
    abL_fail(L, &site, st, lua_type(L, 2) != LUA_TNUMBER, at, value);
  }
  return 1;
}

#define KL_DOMAIN "kl must be a number >= 0"

static const char *const numeric_opts[] = {"numeric", "out", "threads",
                                           "progress", NULL};
static const char *const side_opts[] = {"numeric", "side", "out", "threads",
                                        "progress", NULL};
static const char *const proxy_opts[] = {"numeric", NULL};

/* ---- every divergence budget (DESIGN 3.5) ------------------------------ */

typedef struct {
  const ab_tail *t;
  ab_family f;
  int needed;
  int *route; /* for a number argument, else NULL */
  ab_work work;
} budget_args;

static int vec_budget(void *ud, const double *x, size_t n, double *y,
                      size_t *at) {
  budget_args *b = (budget_args *)ud;
  int *r = n == 1 ? b->route : NULL;
  return b->needed ? ab_budget_needed_work(b->t, &b->f, x, n, &b->work, y, r, at)
                   : ab_budget_gain_work(b->t, &b->f, x, n, &b->work, y, r, at);
}

/* The family= and alpha= fields of the options table at 3 (absent: kl).
 * Returns 1 if a family other than plain kl was named. */
static int budget_family(lua_State *L, const char *fname, ab_family *f) {
  static const char *const names[] = {"kl", "chi2", "tv", "hellinger",
                                      "reverse_kl", "renyi", "alpha", NULL};
  static const int kinds[] = {AB_KL, AB_CHI2, AB_TV, AB_HELLINGER,
                              AB_REVERSE_KL, AB_RENYI, AB_ALPHA};
  double alpha = NAN;
  memset(f, 0, sizeof *f);
  f->kind = AB_KL;
  if (!lua_istable(L, 3)) return 0;
  int has_alpha = abL_optnumber(L, 3, fname, 2, "alpha", &alpha);
  lua_getfield(L, 3, "family");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (has_alpha)
      abL_argerror(L, fname, 2, "alpha is for family=\"renyi\" or \"alpha\"");
    return 0;
  }
  const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  int k = -1;
  for (int i = 0; name && names[i]; i++)
    if (strcmp(name, names[i]) == 0) k = i;
  if (k < 0)
    abL_argerror(L, fname, 2, "family must be one of kl, chi2, tv, hellinger, "
                 "reverse_kl, renyi, alpha; got %s",
                 name ? name : abL_typename(L, -1));
  lua_pop(L, 1);
  f->kind = kinds[k];
  if (f->kind == AB_RENYI || f->kind == AB_ALPHA) {
    if (!has_alpha)
      abL_argerror(L, fname, 2, "family=\"%s\" needs alpha=", names[k]);
    if (f->kind == AB_RENYI && !(alpha > 0))
      abL_argerror(L, fname, 2, "alpha must be positive for renyi "
                   "(math.huge allowed), got %f", alpha);
    if (f->kind == AB_ALPHA && !isfinite(alpha))
      abL_argerror(L, fname, 2, "alpha must be finite, got %f", alpha);
    f->alpha = alpha;
  } else if (has_alpha) {
    abL_argerror(L, fname, 2, "family=\"%s\" takes no alpha", names[k]);
  }
  return !(f->kind == AB_KL && !has_alpha);
}

/* t:gain(budget, {family=...}) and t:budget_needed(gain, {family=...}):
 * a number argument also returns the route (ab_budget_route_name) when a
 * family other than kl is named. */
static int run_budget(lua_State *L, const char *fname, const char *what,
                      const char *domain, int needed) {
  static const char *const fields[] = {"family", "alpha", "out", "threads",
                                       "progress", NULL};
  abL_tail *u = abL_checktailself(L, fname);
  budget_args b = {u->t, {0}, needed, NULL, {1, NULL, NULL}};
  abL_callback frame;
  abL_progress prog = {fname, 0, 0, 0};
  size_t at;
  double value;
  int route = 0, out = 0;
  lua_settop(L, 3);
  if (!lua_isnil(L, 3)) {
    if (!lua_istable(L, 3))
      abL_argerror(L, fname, 2, "table of options expected, got %s",
                   abL_typename(L, 3));
    abL_checkfields(L, 3, fname, 2, fields);
  }
  int named = budget_family(L, fname, &b.f);
  int show = sweep_opts(L, fname, 2, &b.work);
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "out");
    out = !lua_isnil(L, -1);
    if (out && !abL_testvector(L, -1))
      abL_argerror(L, fname, 2, "out must be an " ABL_VECTOR ", got %s",
                   abL_typename(L, -1));
  } else {
    lua_pushnil(L);
  }
  /* the out vector, if any, is at index 4 */
  if (lua_type(L, 2) == LUA_TNUMBER) b.route = &route;
  abL_tail_prepare(L, 1, &frame);
  abL_tailmap tm = {u, &frame, vec_budget, &b};
  abL_progress_init(&prog, fname, show, &b.work);
  int st = abL_map(L, 2, fname, 1, what, abL_tailmap_fn, &tm, &at, &value,
                   out ? 4 : 0);
  abL_progress_end(&prog);
  if (st) {
    abL_site site = {fname, 1, domain, &frame, u->t, 0,
                     "this family has no exact frontier for this law: use a "
                     "finite law, a bounded law for tv, or an assumption "
                     "class", NULL};
    abL_fail(L, &site, st, lua_type(L, 2) != LUA_TNUMBER, at, value);
  }
  if (named && b.route) {
    lua_pushstring(L, ab_budget_route_name(route));
    return 2;
  }
  return 1;
}

static int has_budget_family(lua_State *L) {
  if (!lua_istable(L, 3)) return 0;
  lua_getfield(L, 3, "family");
  lua_getfield(L, 3, "alpha");
  int kl = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "kl") == 0;
  int yes = !lua_isnil(L, -2) && !(kl && lua_isnil(L, -1));
  lua_pop(L, 2);
  return yes;
}

#define BUDGET_DOMAIN "budget must be a number >= 0"

static const char *const gain_opts[] = {"numeric", "out", "family", "threads",
                                        "progress", NULL};

/* t:gain(kl [, {numeric=, out=}]) is the KL frontier; with family= (other
 * than kl) the frontier under that budget. */
static int tail_gain(lua_State *L) {
  if (has_budget_family(L))
    return run_budget(L, "tail:gain", "budget", BUDGET_DOMAIN, 0);
  return run(L, "tail:gain", "kl", KL_DOMAIN, AB_GAIN, vec_bound, gain_opts);
}

static int tail_budget_needed(lua_State *L) {
  return run_budget(L, "tail:budget_needed", "gain", "gain must not be NaN", 1);
}

/* t:optimal_policy(budget [, {family=, alpha=}]): the optimal policy of a
 * finite law, its probabilities in the order of the atoms. */
static int tail_optimal_policy(lua_State *L) {
  static const char *const fields[] = {"family", "alpha", NULL};
  const char *fname = "tail:optimal_policy";
  abL_tail *u = abL_checktailself(L, fname);
  ab_family f;
  double c = abL_checknumber(L, 2, fname, 1, "budget");
  lua_settop(L, 3);
  if (!lua_isnil(L, 3)) {
    if (!lua_istable(L, 3))
      abL_argerror(L, fname, 2, "table of options expected, got %s",
                   abL_typename(L, 3));
    abL_checkfields(L, 3, fname, 2, fields);
  }
  budget_family(L, fname, &f);
  if (!(c >= 0))
    return abL_argerror(L, fname, 1, BUDGET_DOMAIN ", got %f", c);
  size_t n = ab_tail_atoms(u->t);
  if (n == 0) {
    abL_site site = {fname, 0, NULL, NULL, u->t, 0, "a finite law is needed",
                     NULL};
    return abL_fail(L, &site, AB_EUNDEF, 0, SIZE_MAX, NAN);
  }
  abL_vector *v = abL_newvector(L, n);
  int st = ab_budget_policy(u->t, &f, c, v->data);
  if (st) {
    abL_site site = {fname, 1, BUDGET_DOMAIN, NULL, u->t, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, c);
  }
  return 1;
}

static int tail_loss(lua_State *L) {
  return run(L, "tail:loss", "kl", KL_DOMAIN, AB_LOSS, vec_bound, numeric_opts);
}

static int tail_kl_needed(lua_State *L) {
  return run(L, "tail:kl_needed", "gain", "gain must not be NaN", AB_GAIN,
             vec_kl_needed, side_opts);
}

static int tail_tilt(lua_State *L) {
  static const char *const f[] = {"side", "out", NULL};
  return run(L, "tail:tilt", "kl", KL_DOMAIN, AB_GAIN, vec_tilt, f);
}

static int tail_cumulant_at(lua_State *L) {
  static const char *const f[] = {"derivative", "out", NULL};
  return run(L, "tail:cumulant", "lambda", "lambda must not be NaN", AB_GAIN,
             vec_cumulant, f);
}

typedef struct {
  const ab_tail *t;
  int method;
  double r;
} proxy_call;

static int proxy_run(void *arg) {
  proxy_call *c = (proxy_call *)arg;
  return ab_tail_variance_proxy(c->t, c->method, &c->r);
}

static int tail_variance_proxy(lua_State *L) {
  abL_tail *u = abL_checktailself(L, "tail:variance_proxy");
  map_args a = {u->t, AB_GAIN, AB_CLOSED, 0, 0, {1, NULL, NULL}};
  abL_callback frame;
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2); /* options move to index 3, as method_opts expects */
  method_opts(L, "tail:variance_proxy", 1, &a, proxy_opts);
  abL_tail_prepare(L, 1, &frame);
  proxy_call c = {u->t, a.method, NAN};
  int st = abL_tail_run(u, &frame, proxy_run, &c);
  if (st) {
    abL_site site = {"tail:variance_proxy", 1, NULL, &frame, u->t, 0, NULL,
                     NULL};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_pushnumber(L, c.r);
  return 1;
}

static int tail_mean(lua_State *L) {
  abL_tail *u = abL_checktailself(L, "tail:mean");
  double m = ab_tail_mean(u->t);
  if (isnan(m)) lua_pushnil(L);
  else lua_pushnumber(L, m);
  return 1;
}

static int tail_tostring(lua_State *L) {
  abL_tail *u = (abL_tail *)abL_checkself(L, ABL_TAIL, "tail:__tostring");
  if (!u->t) { /* like Lua's "file (closed)" */
    lua_pushliteral(L, "tail (closed)");
    return 1;
  }
  char buf[160];
  ab_tail_describe(u->t, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

/* t:sample(k, rng) */
static int tail_sample(lua_State *L) {
  abL_tail *u = abL_checktailself(L, "tail:sample");
  size_t k = abL_checkcount(L, 2, "tail:sample", 1, "k");
  ab_rng *r = abL_checkrng(L, 3, "tail:sample", 2);
  abL_vector *v = abL_newvector(L, k);
  int st = ab_tail_sample(u->t, r, k, v->data);
  if (st) {
    abL_site site = {"tail:sample", 1, NULL, NULL, u->t, 0,
                     "needs an exact or finite law to sample", NULL};
    abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  return 1;
}

void abL_open_tail(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"gain", tail_gain},
      {"loss", tail_loss},
      {"kl_needed", tail_kl_needed},
      {"budget_needed", tail_budget_needed},
      {"optimal_policy", tail_optimal_policy},
      {"tilt", tail_tilt},
      {"cumulant", tail_cumulant_at},
      {"variance_proxy", tail_variance_proxy},
      {"mean", tail_mean},
      {"sample", tail_sample},
      {NULL, NULL}};
  static const luaL_Reg ctors[] = {
      {"subgaussian", tail_subgaussian},
      {"subgamma", tail_subgamma},
      {"subexponential", tail_subexponential},
      {"bounded", tail_bounded},
      {"gaussian", abL_tail_gaussian},
      {"uniform", tail_uniform},
      {"bernoulli", tail_bernoulli},
      {"exponential", tail_exponential},
      {"gamma", tail_gamma},
      {"gumbel", tail_gumbel},
      {"logistic", tail_logistic},
      {"beta", tail_beta},
      {"student_t", tail_student_t},
      {"pareto", tail_pareto},
      {"discrete", tail_discrete},
      {"empirical", abL_tail_empirical},
      {"cumulant", tail_cumulant},
      {NULL, NULL}};
  luaL_newmetatable(L, ABL_TAIL);
  lua_pushcfunction(L, tail_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, tail_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, tail_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, ctors);
  lua_setfield(L, -2, "tail");
}
