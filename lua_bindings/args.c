/* args.c - the argument helpers every binding uses: checks that name the
 * public function and the argument, arrays of numbers, option tables, and
 * mapping a core vector function over a number, table or vector. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "binding.h"

int abL_argerror(lua_State *L, const char *fname, int argn, const char *fmt,
                 ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return luaL_error(L, "bad argument #%d to '%s' (%s)", argn, fname,
                    lua_tostring(L, -1));
}

const double *abL_todoubles(lua_State *L, int idx, const char *fname, int argn,
                            const char *what, size_t *n) {
  abL_vector *v = abL_testvector(L, idx);
  if (v) {
    *n = v->n;
    return v->data;
  }
  if (!lua_istable(L, idx))
    abL_argerror(L, fname, argn, "%s must be a table or " ABL_VECTOR
                 " of numbers, got %s", what, abL_typename(L, idx));
  idx = lua_absindex(L, idx);
  size_t len = (size_t)lua_rawlen(L, idx);
  /* An empty array part with some other key is an option table passed where
   * an array belongs (gain{kl=5}): an error, not an empty array.  Checked
   * only when the array part is empty, so arrays pay nothing. */
  if (len == 0) {
    lua_pushnil(L);
    if (lua_next(L, idx)) {
      lua_pop(L, 1); /* the value; the key stays for the message */
      if (lua_type(L, -1) == LUA_TSTRING)
        abL_argerror(L, fname, argn, "%s: expected an array of numbers, got "
                     "a table with key '%s'", what, lua_tostring(L, -1));
      if (lua_type(L, -1) == LUA_TNUMBER)
        abL_argerror(L, fname, argn, "%s: expected an array of numbers, got "
                     "a table with key %s and no element [1]", what,
                     luaL_tolstring(L, -1, NULL));
      abL_argerror(L, fname, argn, "%s: expected an array of numbers, got "
                   "a table with a key of type %s", what,
                   abL_typename(L, -1));
    }
  }
  if (len > SIZE_MAX / sizeof(double))
    abL_argerror(L, fname, argn, "%s is too long", what);
  double *buf = (double *)lua_newuserdatauv(L, len * sizeof(double) + 1, 0);
  for (size_t i = 0; i < len; i++) {
    /* numbers only, as in option fields: a numeric string is an error */
    if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TNUMBER)
      abL_argerror(L, fname, argn, "%s[%I] must be a number, got %s", what,
                   (lua_Integer)i + 1, abL_typename(L, -1));
    buf[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  *n = len;
  return buf;
}

void abL_checkprobs(lua_State *L, const char *fname, int argn,
                    const char *what, const double *p, size_t n) {
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!(p[i] >= 0) || !isfinite(p[i]))
      abL_argerror(L, fname, argn, "%s[%d] must be a probability, got %f",
                   what, (int)i + 1, p[i]);
    total += p[i];
  }
  if (!(fabs(total - 1.0) <= AB_PROB_TOL))
    abL_argerror(L, fname, argn, "%s must sum to 1 within "
                 ABL_XSTR(AB_PROB_TOL) ", got sum %f", what, total);
}

const double *abL_law(lua_State *L, const char *fname, const double **rewards,
                      size_t *m) {
  size_t nr;
  const double *p = abL_todoubles(L, 1, fname, 1, "probs", m);
  *rewards = abL_todoubles(L, 2, fname, 2, "rewards", &nr);
  if (*m == 0) abL_argerror(L, fname, 1, "probs is empty");
  if (*m != nr)
    abL_argerror(L, fname, 2, "probs and rewards differ in length (%d and %d)",
                 (int)*m, (int)nr);
  abL_checkprobs(L, fname, 1, "probs", p, *m);
  for (size_t i = 0; i < nr; i++)
    if (!isfinite((*rewards)[i]))
      abL_argerror(L, fname, 2, "rewards[%d] must be finite, got %f",
                   (int)i + 1, (*rewards)[i]);
  return p;
}

void abL_setnumber(lua_State *L, const char *key, double x) {
  lua_pushnumber(L, x);
  lua_setfield(L, -2, key);
}

void abL_checkfields(lua_State *L, int idx, const char *fname, int argn,
                     const char *const allowed[]) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (int i = 0; allowed[i]; i++)
        if (strcmp(k, allowed[i]) == 0) ok = 1;
    }
    if (!ok) {
      const char *key = luaL_tolstring(L, -2, NULL);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int i = 0; allowed[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, allowed[i]);
      }
      luaL_pushresult(&b);
      abL_argerror(L, fname, argn, "unknown option '%s' (expected %s)", key,
                   lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

int abL_optnumber(lua_State *L, int idx, const char *fname, int argn,
                  const char *key, double *out) {
  int isnum;
  lua_getfield(L, idx, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  *out = lua_tonumberx(L, -1, &isnum);
  if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be a number, got %s", key,
                 abL_typename(L, -1));
  lua_pop(L, 1);
  return 1;
}

double abL_number(lua_State *L, int idx, const char *fname, int argn,
                  const char *key) {
  double x;
  if (!abL_optnumber(L, idx, fname, argn, key, &x))
    abL_argerror(L, fname, argn, "%s is required", key);
  return x;
}

int abL_optboolean(lua_State *L, int idx, const char *fname, int argn,
                   const char *key, int dflt) {
  int r = dflt;
  lua_getfield(L, idx, key);
  if (!lua_isnil(L, -1)) {
    if (!lua_isboolean(L, -1))
      abL_argerror(L, fname, argn, "%s must be a boolean, got %s", key,
                   abL_typename(L, -1));
    r = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return r;
}

/* The element a core vector function failed at, or NaN (and *at set to
 * SIZE_MAX) when it failed before looking at one (an empty input, a law
 * that is undefined): the failing index is only meaningful below n. */
static double failed_element(const double *x, size_t n, size_t *at) {
  if (*at >= n) {
    *at = SIZE_MAX;
    return NAN;
  }
  return x[*at];
}

int abL_map(lua_State *L, int idx, const char *fname, int argn,
            const char *what, abL_vecfn fn, void *ud, size_t *failed_at,
            double *failed_value, int out_idx) {
  int st;
  size_t n;
  *failed_at = SIZE_MAX;
  *failed_value = NAN;
  if (out_idx) {
    abL_vector *v = abL_testvector(L, idx), *out = abL_testvector(L, out_idx);
    if (!v)
      abL_argerror(L, fname, argn, "out= needs %s to be a " ABL_VECTOR
                   ", got %s", what, abL_typename(L, idx));
    if (!out || out->n != v->n)
      abL_argerror(L, fname, argn + 1, "out must be an " ABL_VECTOR
                   " of the same length as %s", what);
    st = fn(ud, v->data, v->n, out->data, failed_at);
    if (st) *failed_value = failed_element(v->data, v->n, failed_at);
    else lua_pushvalue(L, out_idx);
    return st;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    double x = lua_tonumber(L, idx), y;
    st = fn(ud, &x, 1, &y, failed_at);
    if (st) {
      *failed_value = failed_element(&x, 1, failed_at);
      return st;
    }
    lua_pushnumber(L, y);
    return AB_OK;
  }
  abL_vector *v = abL_testvector(L, idx);
  if (v) {
    abL_vector *out = abL_newvector(L, v->n);
    st = fn(ud, v->data, v->n, out->data, failed_at);
    if (st) {
      *failed_value = failed_element(v->data, v->n, failed_at);
      lua_pop(L, 1);
    }
    return st;
  }
  if (!lua_istable(L, idx))
    abL_argerror(L, fname, argn, "%s must be a number, table or " ABL_VECTOR
                 ", got %s", what, abL_typename(L, idx));
  const double *x = abL_todoubles(L, idx, fname, argn, what, &n);
  double *y = (double *)lua_newuserdatauv(L, n * sizeof(double) + 1, 0);
  st = fn(ud, x, n, y, failed_at);
  if (st) {
    *failed_value = failed_element(x, n, failed_at);
    lua_pop(L, 2);
    return st;
  }
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, y[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_replace(L, -3); /* drop the scratch buffers, keep the table */
  lua_pop(L, 1);
  return AB_OK;
}

double abL_checknumber(lua_State *L, int idx, const char *fname, int argn,
                       const char *what) {
  if (lua_type(L, idx) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be a number, got %s", what,
                 abL_typename(L, idx));
  return lua_tonumber(L, idx);
}

void abL_checkfunction(lua_State *L, int idx, const char *fname, int argn,
                       const char *what) {
  if (lua_type(L, idx) != LUA_TFUNCTION)
    abL_argerror(L, fname, argn, "%s must be a function, got %s", what,
                 abL_typename(L, idx));
}

lua_Integer abL_checkinteger(lua_State *L, int idx, const char *fname,
                             int argn, const char *what) {
  int isint;
  lua_Integer k = lua_tointegerx(L, idx, &isint);
  if (lua_type(L, idx) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be an integer, got %s", what,
                 abL_typename(L, idx));
  if (!isint)
    abL_argerror(L, fname, argn, "%s must be an integer, got %f", what,
                 lua_tonumber(L, idx));
  return k;
}

size_t abL_checkcount(lua_State *L, int idx, const char *fname, int argn,
                      const char *what) {
  lua_Integer k = abL_checkinteger(L, idx, fname, argn, what);
  if (k < 0)
    abL_argerror(L, fname, argn, "%s must be >= 0, got %I", what, k);
  if ((lua_Unsigned)k > (lua_Unsigned)ABL_MAX_VECTOR)
    abL_argerror(L, fname, argn, "%s is too large, got %I (at most %I)", what,
                 k, (lua_Integer)ABL_MAX_VECTOR);
  return (size_t)k;
}

const char *abL_typename(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  int t = luaL_getmetafield(L, idx, "__name");
  if (t == LUA_TSTRING)
    return lua_tostring(L, -1); /* left on the stack, which keeps it alive */
  if (t != LUA_TNIL) lua_pop(L, 1); /* a __name that is not a string */
  if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) return "light userdata";
  return luaL_typename(L, idx);
}

void *abL_checkudata(lua_State *L, int idx, const char *tname,
                     const char *fname, int argn) {
  void *p = luaL_testudata(L, idx, tname);
  if (!p)
    abL_argerror(L, fname, argn, "%s expected, got %s", tname,
                 abL_typename(L, idx));
  return p;
}

void *abL_checkself(lua_State *L, const char *tname, const char *fname) {
  void *p = luaL_testudata(L, 1, tname);
  if (!p)
    luaL_error(L, "calling '%s' on bad self (%s expected, got %s)", fname,
               tname, abL_typename(L, 1));
  return p;
}

int abL_map_each(lua_State *L, const char *fname, const char *what,
                 const char *domain, abL_scalarfn fn, void *ud) {
  size_t at;
  double value;
  abL_each each = {fn, ud};
  int st = abL_map(L, 1, fname, 1, what, abL_each_fn, &each, &at, &value, 0);
  if (st) {
    abL_site site = {fname, 1, domain, NULL, NULL, 0, NULL, NULL};
    abL_fail(L, &site, st, lua_type(L, 1) != LUA_TNUMBER, at, value);
  }
  return 1;
}

int abL_each_fn(void *each, const double *x, size_t n, double *y,
                size_t *failed_at) {
  const abL_each *e = (const abL_each *)each;
  for (size_t i = 0; i < n; i++) {
    int st = e->fn(e->ud, i, x[i], &y[i]);
    if (st) {
      *failed_at = i;
      return st;
    }
  }
  return AB_OK;
}
