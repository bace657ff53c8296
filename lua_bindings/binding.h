/* binding.h - shared by the C glue of the alignbound.core Lua module.
 * The glue checks arguments, calls the core, pushes results or raises; it
 * does no maths. */
#ifndef ALIGNBOUND_BINDING_H
#define ALIGNBOUND_BINDING_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "alignbound.h"
#include "alignbound_lua.h"

#define ABL_VECTOR "alignbound.vector"
#define ABL_TAIL "alignbound.tail"
/* A macro's value as a string literal ("within " ABL_XSTR(AB_PROB_TOL)). */
#define ABL_STR(x) #x
#define ABL_XSTR(x) ABL_STR(x)

/* A vector keeps its doubles inside the userdata, so Lua's collector sees
 * its true size and frees it; there is nothing else to release. */
typedef struct {
  size_t n;
  double data[];
} abL_vector;

/* ---- args.c: arguments --------------------------------------------- */

/* Raise "bad argument #argn to 'fname' (message)". */
int abL_argerror(lua_State *L, const char *fname, int argn, const char *fmt,
                 ...);

/* The doubles of a table or vector argument at idx (a scratch copy is pushed
 * for a table).  The elements must be numbers; empty is allowed. */
const double *abL_todoubles(lua_State *L, int idx, const char *fname, int argn,
                            const char *what, size_t *n);

/* Probabilities: each >= 0 and finite, summing to 1 within AB_PROB_TOL. */
void abL_checkprobs(lua_State *L, const char *fname, int argn,
                    const char *what, const double *p, size_t n);

/* A discrete reference law given as (probs, rewards) at arguments 1 and 2:
 * checked (lengths, probabilities, finite rewards); returns probs. */
const double *abL_law(lua_State *L, const char *fname, const double **rewards,
                      size_t *m);

/* t[key] = x for the table on the top of the stack. */
void abL_setnumber(lua_State *L, const char *key, double x);

/* Option tables: raise on a field not in the NULL-terminated list. */
void abL_checkfields(lua_State *L, int idx, const char *fname, int argn,
                     const char *const allowed[]);
/* A number field; returns 0 if absent (nil), else stores it in *out. */
int abL_optnumber(lua_State *L, int idx, const char *fname, int argn,
                  const char *key, double *out);
double abL_number(lua_State *L, int idx, const char *fname, int argn,
                  const char *key);
int abL_optboolean(lua_State *L, int idx, const char *fname, int argn,
                   const char *key, int dflt);

/* Apply a core vector function to a number, table or vector argument at idx,
 * pushing a result of the same shape (into the vector at out_idx instead, if
 * out_idx is not 0, so that hot loops need not allocate).  On a core failure the status and the
 * failing index are returned (nothing pushed) so the caller can explain. */
typedef int (*abL_vecfn)(void *ud, const double *x, size_t n, double *out,
                         size_t *failed_at);
int abL_map(lua_State *L, int idx, const char *fname, int argn,
            const char *what, abL_vecfn fn, void *ud, size_t *failed_at,
            double *failed_value, int out_idx);
/* An abL_vecfn from a core function of one element: abL_each_fn(&each,
 * ...) calls each.fn(each.ud, i, x[i], &y[i]) in turn and stops at the first
 * failure. */
typedef int (*abL_scalarfn)(void *ud, size_t i, double x, double *y);
typedef struct {
  abL_scalarfn fn;
  void *ud;
} abL_each;
int abL_each_fn(void *each, const double *x, size_t n, double *y,
                size_t *failed_at);
/* The whole of a binding of one argument: fn mapped over the number, table
 * or vector at argument 1 (named what), the result pushed; a failure raised
 * by abL_fail with domain for AB_EDOM.  Returns 1. */
int abL_map_each(lua_State *L, const char *fname, const char *what,
                 const char *domain, abL_scalarfn fn, void *ud);

/* Argument checks that name the public function (the stock luaL_check*
 * name it '?'): numbers only (a numeric string is rejected), functions,
 * counts (integers in [0, ABL_MAX_VECTOR]).  what names the argument. */
double abL_checknumber(lua_State *L, int idx, const char *fname, int argn,
                       const char *what);
void abL_checkfunction(lua_State *L, int idx, const char *fname, int argn,
                       const char *what);
#define ABL_MAX_VECTOR ((SIZE_MAX - 64) / sizeof(double))
size_t abL_checkcount(lua_State *L, int idx, const char *fname, int argn,
                      const char *what);
/* Any integer (a number with an integral value). */
lua_Integer abL_checkinteger(lua_State *L, int idx, const char *fname,
                             int argn, const char *what);
/* The type of the value at idx for a message, as luaL_typeerror names it:
 * its metatable's __name (alignbound.tail, ...), else its Lua type. */
const char *abL_typename(lua_State *L, int idx);
/* The userdata of type tname at idx, or "bad argument #argn to 'fname'
 * (tname expected, got <abL_typename>)". */
void *abL_checkudata(lua_State *L, int idx, const char *tname,
                     const char *fname, int argn);
/* The userdata of type tname at index 1 (self of a method or metamethod),
 * or "calling 'fname' on bad self (tname expected, got ...)". */
void *abL_checkself(lua_State *L, const char *tname, const char *fname);

/* ---- callback.c: calling back into Lua ----------------------------- */

/* Calling back into Lua from the core (user cumulants, user f).  One
 * abL_callback describes ONE call of a binding: the running thread, the stack
 * slots (in that call's frame) of the function and of an error slot, and
 * names for messages.  It lives on the C stack of that binding, never in a
 * shared object, so a callback that re-enters the library (recursion,
 * coroutines, errors caught by pcall) cannot leave a stale state behind.
 * The callback never raises: the Lua call and the formatting of its message
 * run in protected mode, a Lua error is parked in the error slot and the core
 * sees a failure (AB_EFUNC). */
typedef struct {
  lua_State *L;
  int fn, err;
  const char *what, *arg; /* e.g. "cumulant function", "lambda" */
} abL_callback;

/* Push the function (user value 1 of the userdata at ud) and an error slot,
 * and point c at them. */
void abL_callback_prepare(lua_State *L, int ud, abL_callback *c,
                          const char *what, const char *arg);
/* fn(x) -> *y; 0 on success. */
int abL_callback_number(void *ctx, double x, double *y);
/* If the error slot holds an error, raise it (after the core returned),
 * a message prefixed with "fname: ". */
void abL_callback_raise(lua_State *L, const abL_callback *c,
                        const char *fname);

/* ---- status.c: core statuses as Lua errors ------------------------- */

/* One path from a core status to a Lua error.  `site` says where it came
 * from: the qualified public name, the argument that was mapped and what its
 * domain is (for AB_EDOM), the user function's frame (for AB_EFUNC), the
 * tail to describe, and the argument to blame (and why) for AB_EUNDEF.
 * shape: the argument was a table or vector (say which element), at and
 * value: the failing element (value NaN: none).  Never returns. */
typedef struct {
  const char *fname;
  int argn;
  const char *domain;        /* "kl must be a number >= 0" */
  const abL_callback *cb;    /* or NULL */
  const ab_tail *tail;       /* or NULL */
  int undef_arg;             /* 0: "fname: not defined for <tail>" */
  const char *undef;         /* why, for AB_EUNDEF */
  const char *what;          /* or NULL: the failing value is "at what = v" */
} abL_site;
int abL_fail(lua_State *L, const abL_site *site, int st, int shape, size_t at,
             double value);
/* abL_fail with nothing to add: "fname: <what st means>" ("fname: not
 * enough memory" for AB_ENOMEM, as Lua words it). */
int abL_status(lua_State *L, const char *fname, int st);

/* ---- the topics and what they share -------------------------------- */

/* Each opens its part of the module table on the top of the stack: its
 * types and the functions of its namespace(s), nothing of another's. */
void abL_open_bon(lua_State *L);         /* core.bon */
void abL_open_divergences(lua_State *L); /* divergence, generator, fdiv */
void abL_open_estimate(lua_State *L);    /* core.estimate */
void abL_open_fit(lua_State *L);         /* core.goodhart */
void abL_open_golden(lua_State *L);      /* core.error, core.joint */
void abL_open_grpo(lua_State *L);        /* core.grpo */
void abL_open_prompts(lua_State *L);     /* core.group, core._prompts */
void abL_open_renyi(lua_State *L);       /* core.renyi */
void abL_open_rng(lua_State *L);         /* core.rng */
void abL_open_rules(lua_State *L);       /* core.rules, core.frontier */
void abL_open_table(lua_State *L);       /* read_csv, read_jsonl */
void abL_open_tail(lua_State *L);        /* core.tail */
void abL_open_terminal(lua_State *L);    /* core._isatty */
void abL_open_tilt(lua_State *L);        /* core.tilt */
void abL_open_vector(lua_State *L);      /* core.vector */

/* Vectors (at most ABL_MAX_VECTOR elements: check counts from Lua with
 * abL_checkcount first). */
abL_vector *abL_newvector(lua_State *L, size_t n);
abL_vector *abL_testvector(lua_State *L, int idx);
void abL_open_vector(lua_State *L);

/* terminal.c: the progress line of a long core run on stderr, when enabled
 * and stderr is a terminal (init sets w's callback, or NULL); end erases it
 * (call it also when the run fails, before raising). */
typedef struct {
  const char *name;
  double start, last;
  int shown;
} abL_progress;
void abL_progress_init(abL_progress *p, const char *name, int enabled,
                       ab_work *w);
void abL_progress_end(abL_progress *p);

/* A divergence family from a name or an alignbound.fdiv at idx, with the
 * options table at opts (0: none) giving alpha=.  Pushes what a user f
 * needs on the stack (see abL_callback). */
void abL_family(lua_State *L, int idx, int opts, const char *fname, int argn,
                ab_family *f, abL_callback *cb);

/* Tail userdata (alignbound.tail).  For a user cumulant the core's ctx is the
 * abL_tail itself (its address never moves); `active` points at the
 * abL_callback of the binding call now running the core on this tail, NULL
 * between calls.  Only abL_tail_run writes it, around a core call that
 * cannot raise, so it is always restored. */
typedef struct {
  ab_tail *t;
  abL_callback *active;
} abL_tail;

/* The tail at idx, or a "bad argument" error. */
abL_tail *abL_checktail(lua_State *L, int idx, const char *fname, int argn);
/* The tail at index 1 of a method, or "calling 'fname' on bad self". */
abL_tail *abL_checktailself(lua_State *L, const char *fname);
/* Before a core call on the tail at idx: push what a user cumulant needs
 * and fill the per-call frame (on the caller's C stack). */
void abL_tail_prepare(lua_State *L, int idx, abL_callback *frame);
/* Run call(arg) (a core call on u->t, which must not raise) with u's user
 * cumulant bound to frame; returns its status.  Never raises. */
typedef int (*abL_corecall)(void *arg);
int abL_tail_run(abL_tail *u, abL_callback *frame, abL_corecall call,
                 void *arg);
/* An abL_vecfn that runs fn(ud, ...) through abL_tail_run: for abL_map over
 * a core function of a tail. */
typedef struct {
  abL_tail *u;
  abL_callback *frame;
  abL_vecfn fn;
  void *ud;
} abL_tailmap;
int abL_tailmap_fn(void *tm, const double *x, size_t n, double *y,
                   size_t *failed_at);
/* ab.tail.gaussian and ab.tail.empirical, for the bindings that build a law
 * (joint:proxy_law) */
int abL_tail_gaussian(lua_State *L);
int abL_tail_empirical(lua_State *L);

/* The generator at idx (alignbound.rng), or a "bad argument" error. */
ab_rng *abL_checkrng(lua_State *L, int idx, const char *fname, int argn);

/* estimate.bon's body (arguments scores, values, n, opts at 1..4), errors
 * naming fname: ab.bon.from_samples with options calls it too. */
int abL_bon_boot(lua_State *L, const char *fname);

#endif
