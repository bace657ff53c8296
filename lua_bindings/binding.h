/* binding.h - shared by the C glue of the alignbound.core Lua module.
 * The glue checks arguments, calls the core, pushes results or raises; it
 * does no maths. */
#ifndef ALIGNBOUND_BINDING_H
#define ALIGNBOUND_BINDING_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#include "alignbound.h"

#define ABL_VECTOR "alignbound.vector"
#define ABL_TAIL "alignbound.tail"

/* A vector keeps its doubles inside the userdata, so Lua's collector sees
 * its true size and frees it; there is nothing else to release. */
typedef struct {
  size_t n;
  double data[];
} abL_vector;

/* Raise "bad argument #argn to 'fname' (message)". */
int abL_argerror(lua_State *L, const char *fname, int argn, const char *fmt,
                 ...);

/* Vectors. */
abL_vector *abL_newvector(lua_State *L, size_t n);
abL_vector *abL_testvector(lua_State *L, int idx);
void abL_open_vector(lua_State *L);
void abL_open_terminal(lua_State *L); /* core._isatty */

/* The doubles of a table or vector argument at idx (a scratch copy is pushed
 * for a table).  The elements must be numbers; empty is allowed. */
const double *abL_todoubles(lua_State *L, int idx, const char *fname, int argn,
                            const char *what, size_t *n);

/* Probabilities: each >= 0 and finite, summing to 1 within 1e-9. */
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

/* Calling back into Lua from the core (user cumulants, user f): the running
 * thread, the stack slots of the function and of an error slot, and names
 * for messages.  The callback never raises: a Lua error is parked in the
 * error slot and the core sees a failure (AB_EFUNC). */
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
/* If the error slot holds a message, raise it (after the core returned). */
void abL_callback_raise(lua_State *L, const abL_callback *c);

/* A divergence family from a name or an alignbound.fdiv at idx, with the
 * options table at opts (0: none) giving alpha=.  Pushes what a user f
 * needs on the stack (see abL_callback). */
void abL_family(lua_State *L, int idx, int opts, const char *fname, int argn,
                ab_family *f, abL_callback *cb);

/* Tail userdata (alignbound.tail). */
typedef struct {
  ab_tail *t;
  abL_callback call; /* the core's ctx for a user cumulant points here */
} abL_tail;

/* The tail at idx, or a "bad argument" error. */
abL_tail *abL_checktail(lua_State *L, int idx, const char *fname, int argn);
/* Before a core call on the tail at idx: push what a user cumulant needs;
 * returns the previous call state, to restore with u->call = saved. */
abL_callback abL_tail_prepare(lua_State *L, int idx, abL_tail *u);

void abL_open_tail(lua_State *L);
void abL_open_divergences(lua_State *L);
void abL_open_bon(lua_State *L);
void abL_open_tilt(lua_State *L);
void abL_open_sample(lua_State *L);
void abL_open_estimate(lua_State *L);
void abL_open_golden(lua_State *L); /* after abL_open_tail */
void abL_open_renyi(lua_State *L);
void abL_open_fit(lua_State *L);
/* t:sample(k, rng), a tail method */
int abL_tail_sample(lua_State *L);
/* The generator at idx (alignbound.rng), or a "bad argument" error. */
ab_rng *abL_checkrng(lua_State *L, int idx, const char *fname);

#endif
