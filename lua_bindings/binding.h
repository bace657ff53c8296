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

/* The doubles of a table or vector argument at idx (a scratch copy is pushed
 * for a table).  The elements must be numbers; empty is allowed. */
const double *abL_todoubles(lua_State *L, int idx, const char *fname, int argn,
                            const char *what, size_t *n);

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

void abL_open_tail(lua_State *L);

#endif
