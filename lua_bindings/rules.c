/* rules.c - the core of the selection-rule families (alignbound.policy):
 * core.rules.* taking the rule's name and one parameter, ab.bon.n_for_kl and
 * ab.frontier.win_rate.  Errors name the public method,
 * 'policy.<rule>:<method>'. */
#include <math.h>
#include <string.h>

#include "binding.h"

static const char *const RULES[] = {"best_of_n", "best_of_poisson",
                                    "top_fraction", "win_rate_tilt", NULL};
static const char *const FIELDS[] = {"n", "mu", "eps", "c", NULL};
static const char *const DOMAINS[] = {
    "a finite number >= 1", "a finite number >= 0", "a number in (0, 1]",
    "a finite number >= 0"};

/* The rule at idx (its name) and the public name of the method, pushed. */
static int checkrule(lua_State *L, int idx, const char *method,
                     const char **fname) {
  const char *name = luaL_checkstring(L, idx);
  for (int i = 0; RULES[i]; i++)
    if (strcmp(name, RULES[i]) == 0) {
      *fname = lua_pushfstring(L, "policy.%s:%s", name, method);
      return i + AB_RULE_BEST_OF_N;
    }
  return luaL_error(L, "policy: unknown rule '%s'", name);
}

static double checkparam(lua_State *L, int idx, int rule, const char *fname) {
  const char *field = FIELDS[rule - AB_RULE_BEST_OF_N];
  double p = abL_checknumber(L, idx, fname, 1, field);
  if (ab_rule_check(rule, p))
    abL_argerror(L, fname, 1, "%s must be %s, got %f", field,
                 DOMAINS[rule - AB_RULE_BEST_OF_N], p);
  return p;
}

static int failed(lua_State *L, const char *fname, int st, const ab_tail *t) {
  abL_site site = {fname, 1, NULL, NULL, t, 1,
                   "needs an exact or finite law (not an assumption class)",
                   NULL};
  return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
}

/* core.rules.divergence(rule, p, family [, {alpha=}]) */
static int rules_divergence(lua_State *L) {
  const char *fname;
  ab_family f;
  abL_callback cb;
  double out;
  lua_settop(L, 4);
  int rule = checkrule(L, 1, "divergence", &fname);
  double p = checkparam(L, 2, rule, fname);
  abL_family(L, 3, 4, fname, 1, &f, &cb);
  int st = ab_rule_divergence(rule, p, &f, &out);
  if (st) {
    abL_site site = {fname, 1, NULL, &cb, NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_pushnumber(L, out);
  return 1;
}

/* core.rules.kl(rule, p), core.rules.win_rate(rule, p) */
static int rules_scalar(lua_State *L, const char *method,
                        int (*fn)(int, double, double *)) {
  const char *fname;
  double out;
  int rule = checkrule(L, 1, method, &fname);
  double p = checkparam(L, 2, rule, fname);
  int st = fn(rule, p, &out);
  if (st) return failed(L, fname, st, NULL);
  lua_pushnumber(L, out);
  return 1;
}

static int rules_kl(lua_State *L) { return rules_scalar(L, "kl", ab_rule_kl); }
static int rules_win_rate(lua_State *L) {
  return rules_scalar(L, "win_rate", ab_rule_win_rate);
}

typedef struct {
  const ab_tail *t;
  int rule;
  double p, out;
  ab_rng *r;
  size_t k;
  double *draws;
} rule_call;

static int gain_run(void *arg) {
  rule_call *c = (rule_call *)arg;
  return ab_rule_expected_gain(c->t, c->rule, c->p, &c->out);
}

static int sample_run(void *arg) {
  rule_call *c = (rule_call *)arg;
  return ab_rule_sample(c->t, c->rule, c->p, c->r, c->k, c->draws);
}

/* core.rules.expected_gain(dist, rule, p) */
static int rules_expected_gain(lua_State *L) {
  const char *fname;
  abL_callback frame;
  lua_settop(L, 3);
  int rule = checkrule(L, 2, "gain", &fname);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  rule_call c = {u->t, rule, checkparam(L, 3, rule, fname), 0.0, NULL, 0, NULL};
  abL_tail_prepare(L, 1, &frame);
  int st = abL_tail_run(u, &frame, gain_run, &c);
  if (st) return failed(L, fname, st, u->t);
  lua_pushnumber(L, c.out);
  return 1;
}

/* core.rules.sample(dist, rule, p, k, rng) */
static int rules_sample(lua_State *L) {
  const char *fname;
  abL_callback frame;
  lua_settop(L, 5);
  int rule = checkrule(L, 2, "sample", &fname);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  double p = checkparam(L, 3, rule, fname);
  size_t k = abL_checkcount(L, 4, fname, 2, "k");
  ab_rng *r = abL_checkrng(L, 5, fname, 3);
  abL_tail_prepare(L, 1, &frame);
  abL_vector *v = abL_newvector(L, k);
  rule_call c = {u->t, rule, p, 0.0, r, k, v->data};
  int st = abL_tail_run(u, &frame, sample_run, &c);
  if (st) return failed(L, fname, st, u->t);
  return 1;
}

/* core.rules.policy(probs, rewards, rule, p) */
static int rules_policy(lua_State *L) {
  const char *fname;
  size_t m;
  const double *r;
  ab_bon_summary s;
  lua_settop(L, 4);
  int rule = checkrule(L, 3, "law", &fname);
  const double *pr = abL_law(L, fname, &r, &m);
  double p = checkparam(L, 4, rule, fname);
  lua_createtable(L, 0, 4);
  abL_vector *v = abL_newvector(L, m);
  lua_setfield(L, -2, "policy");
  int st = ab_rule_policy(pr, r, m, rule, p, v->data, &s);
  if (st) return failed(L, fname, st, NULL);
  abL_setnumber(L, "kl", s.kl);
  abL_setnumber(L, "win_rate", s.win_rate);
  abL_setnumber(L, "mean", s.mean);
  return 1;
}

static int win_rate_at(void *ud, size_t i, double x, double *y) {
  (void)ud;
  (void)i;
  return ab_frontier_win_rate(x, y, NULL);
}

/* ab.frontier.win_rate(kl) */
static int frontier_win_rate(lua_State *L) {
  lua_settop(L, 1);
  return abL_map_each(L, "frontier.win_rate", "kl", "kl must be a number >= 0",
                      win_rate_at, NULL);
}

/* core.rules.tilt_c(kl): the win-rate tilt's c at that KL */
static int rules_tilt_c(lua_State *L) {
  double kl = abL_checknumber(L, 1, "frontier.win_rate", 1, "kl"), w, c;
  int st = ab_frontier_win_rate(kl, &w, &c);
  if (st) {
    abL_site site = {"frontier.win_rate", 1, "kl must be a number >= 0", NULL,
                     NULL, 0, NULL, NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, kl);
  }
  lua_pushnumber(L, c);
  return 1;
}

/* Soft best-of-n: n (integer >= 1) and temperature (> 0) at idx, idx + 1. */
static void soft_params(lua_State *L, int idx, const char *fname, double *n,
                        double *tau) {
  *n = abL_checknumber(L, idx, fname, 1, "n");
  if (!(*n >= 1.0 && *n == floor(*n) && *n < 1e15))
    abL_argerror(L, fname, 1, "n must be an integer >= 1, got %f", *n);
  *tau = abL_checknumber(L, idx + 1, fname, 1, "temperature");
  if (!(*tau > 0.0))
    abL_argerror(L, fname, 1, "temperature must be a number > 0, got %f", *tau);
}

/* core.rules.soft_policy(probs, rewards, n, tau) */
static int rules_soft_policy(lua_State *L) {
  const char *fname = "policy.soft_best_of_n:law";
  size_t m;
  const double *r;
  double n, tau;
  ab_bon_summary s;
  lua_settop(L, 4);
  const double *pr = abL_law(L, fname, &r, &m);
  soft_params(L, 3, fname, &n, &tau);
  lua_createtable(L, 0, 4);
  abL_vector *v = abL_newvector(L, m);
  lua_setfield(L, -2, "policy");
  int st = ab_soft_bon_policy(pr, r, m, n, tau, v->data, &s);
  if (st) return failed(L, fname, st, NULL);
  abL_setnumber(L, "kl", s.kl);
  abL_setnumber(L, "win_rate", s.win_rate);
  abL_setnumber(L, "mean", s.mean);
  return 1;
}

/* core.rules.soft_gain(dist, n, tau) */
static int rules_soft_gain(lua_State *L) {
  const char *fname = "policy.soft_best_of_n:gain";
  double n, tau, out;
  lua_settop(L, 3);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  soft_params(L, 2, fname, &n, &tau);
  int st = ab_soft_bon_expected_gain(u->t, n, tau, &out);
  if (st) return failed(L, fname, st, u->t);
  lua_pushnumber(L, out);
  return 1;
}

/* core.rules.soft_exact(dist, n, tau [, family [, {alpha=}]]):
 * {gain=, kl=, win_rate= [, divergence=]} against an exact or finite law */
static int rules_soft_exact(lua_State *L) {
  const char *fname = lua_tostring(L, 6) ? lua_tostring(L, 6)
                                         : "policy.soft_best_of_n:gain";
  double n, tau;
  ab_family f;
  abL_callback cb;
  ab_soft_summary s;
  lua_settop(L, 6);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  soft_params(L, 2, fname, &n, &tau);
  int has_f = !lua_isnil(L, 4);
  if (has_f) abL_family(L, 4, 5, fname, 1, &f, &cb);
  int st = ab_soft_bon_exact(u->t, n, tau, has_f ? &f : NULL, &s);
  if (st == AB_EUNDEF && has_f && f.kind == AB_TV)
    return luaL_error(L, "%s: total variation of soft best-of-n on a "
                      "continuous law is not done (|q - 1| has a kink); "
                      "use a finite reference", fname);
  if (st) {
    abL_site site = {fname, 1, NULL, has_f ? &cb : NULL, u->t, 1,
                     "needs an exact or finite law (not an assumption class)",
                     NULL};
    return abL_fail(L, &site, st, 0, SIZE_MAX, NAN);
  }
  lua_createtable(L, 0, 4);
  abL_setnumber(L, "gain", s.gain);
  abL_setnumber(L, "kl", s.kl);
  abL_setnumber(L, "win_rate", s.win_rate);
  if (has_f) abL_setnumber(L, "divergence", s.divergence);
  return 1;
}

/* core.rules.pair_gains(pi, proxy, gold, fname):
 * {proxy_gain=, gold_gain=, proxy_se=, gold_se=} */
static int rules_pair_gains(lua_State *L) {
  const char *fname = luaL_optstring(L, 4, "scenario");
  size_t m, mp, mg;
  ab_pair_summary s;
  lua_settop(L, 4);
  const double *pi = abL_todoubles(L, 1, fname, 1, "policy", &m);
  const double *p = abL_todoubles(L, 2, fname, 1, "proxy", &mp);
  const double *g = abL_todoubles(L, 3, fname, 1, "gold", &mg);
  if (mp != m || mg != m)
    return abL_argerror(L, fname, 1, "policy, proxy and gold must have one length");
  int st = ab_pair_gains(pi, p, g, m, &s);
  if (st) return failed(L, fname, st, NULL);
  lua_createtable(L, 0, 4);
  abL_setnumber(L, "proxy_gain", s.proxy_gain);
  abL_setnumber(L, "gold_gain", s.gold_gain);
  abL_setnumber(L, "proxy_se", s.proxy_se);
  abL_setnumber(L, "gold_se", s.gold_se);
  return 1;
}

/* core.rules.additive_draws(gold, error, m, rng, fname): proxy, gold vectors */
static int rules_additive_draws(lua_State *L) {
  const char *fname = luaL_optstring(L, 5, "joint.additive");
  lua_settop(L, 5);
  abL_tail *g = abL_checktail(L, 1, fname, 1);
  abL_tail *e = abL_checktail(L, 2, fname, 1);
  size_t m = abL_checkcount(L, 3, fname, 1, "draws");
  ab_rng *r = abL_checkrng(L, 4, fname, 1);
  abL_vector *p = abL_newvector(L, m);
  abL_vector *gv = abL_newvector(L, m);
  int st = ab_additive_draws(g->t, e->t, r, m, p->data, gv->data);
  if (st) return failed(L, fname, st, g->t);
  return 2;
}

/* core.rules.soft_sample(dist, n, tau, k, rng) */
static int rules_soft_sample(lua_State *L) {
  const char *fname = "policy.soft_best_of_n:sample";
  double n, tau;
  lua_settop(L, 5);
  abL_tail *u = abL_checktail(L, 1, fname, 1);
  soft_params(L, 2, fname, &n, &tau);
  if (n > 1e7) return abL_argerror(L, fname, 1, "n must be at most 1e7 to sample, got %f", n);
  size_t k = abL_checkcount(L, 4, fname, 2, "k");
  ab_rng *r = abL_checkrng(L, 5, fname, 3);
  abL_vector *v = abL_newvector(L, k);
  int st = ab_soft_bon_sample(u->t, n, tau, r, k, v->data);
  if (st) return failed(L, fname, st, u->t);
  return 1;
}

/* core.rules (the selection rules under ab.policy) and core.frontier. */
void abL_open_rules(lua_State *L) {
  static const luaL_Reg frontier[] = {{"win_rate", frontier_win_rate},
                                      {NULL, NULL}};
  static const luaL_Reg fns[] = {{"divergence", rules_divergence},
                                 {"kl", rules_kl},
                                 {"win_rate", rules_win_rate},
                                 {"expected_gain", rules_expected_gain},
                                 {"sample", rules_sample},
                                 {"policy", rules_policy},
                                 {"tilt_c", rules_tilt_c},
                                 {"soft_policy", rules_soft_policy},
                                 {"soft_gain", rules_soft_gain},
                                 {"soft_sample", rules_soft_sample},
                                 {"soft_exact", rules_soft_exact},
                                 {"pair_gains", rules_pair_gains},
                                 {"additive_draws", rules_additive_draws},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "rules");
  luaL_newlib(L, frontier);
  lua_setfield(L, -2, "frontier");
}
