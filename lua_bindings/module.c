/* module.c - luaopen_alignbound_core and the helpers every binding uses. */
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
                 " of numbers, got %s", what, luaL_typename(L, idx));
  idx = lua_absindex(L, idx);
  size_t len = (size_t)lua_rawlen(L, idx);
  if (len > SIZE_MAX / sizeof(double))
    abL_argerror(L, fname, argn, "%s is too long", what);
  double *buf = lua_newuserdatauv(L, len * sizeof(double) + 1, 0);
  for (size_t i = 0; i < len; i++) {
    int isnum;
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    buf[i] = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      abL_argerror(L, fname, argn, "%s[%d] must be a number, got %s", what,
                   (int)(i + 1), luaL_typename(L, -1));
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
  if (!(fabs(total - 1.0) <= 1e-9))
    abL_argerror(L, fname, argn, "%s must sum to 1 within 1e-9, got sum %f",
                 what, total);
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
                 luaL_typename(L, -1));
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
                   luaL_typename(L, -1));
    r = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return r;
}

int abL_map(lua_State *L, int idx, const char *fname, int argn,
            const char *what, abL_vecfn fn, void *ud, size_t *failed_at,
            double *failed_value, int out_idx) {
  int st;
  size_t n;
  *failed_at = 0;
  if (out_idx) {
    abL_vector *v = abL_testvector(L, idx), *out = abL_testvector(L, out_idx);
    if (!v)
      abL_argerror(L, fname, argn, "out= needs %s to be a " ABL_VECTOR
                   ", got %s", what, luaL_typename(L, idx));
    if (!out || out->n != v->n)
      abL_argerror(L, fname, argn + 1, "out must be an " ABL_VECTOR
                   " of the same length as %s", what);
    st = fn(ud, v->data, v->n, out->data, failed_at);
    if (st) *failed_value = v->data[*failed_at];
    else lua_pushvalue(L, out_idx);
    return st;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    double x = lua_tonumber(L, idx), y;
    st = fn(ud, &x, 1, &y, failed_at);
    if (st) {
      *failed_value = x;
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
      *failed_value = v->data[*failed_at];
      lua_pop(L, 1);
    }
    return st;
  }
  if (!lua_istable(L, idx))
    abL_argerror(L, fname, argn, "%s must be a number, table or " ABL_VECTOR
                 ", got %s", what, luaL_typename(L, idx));
  const double *x = abL_todoubles(L, idx, fname, argn, what, &n);
  double *y = lua_newuserdatauv(L, n * sizeof(double) + 1, 0);
  st = fn(ud, x, n, y, failed_at);
  if (st) {
    *failed_value = x[*failed_at];
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

void abL_callback_prepare(lua_State *L, int ud, abL_callback *c,
                          const char *what, const char *arg) {
  ud = lua_absindex(L, ud);
  lua_getiuservalue(L, ud, 1);
  c->fn = lua_gettop(L);
  lua_pushnil(L);
  c->err = lua_gettop(L);
  c->L = L;
  c->what = what;
  c->arg = arg;
}

int abL_callback_number(void *ctx, double x, double *y) {
  abL_callback *c = ctx;
  lua_State *L = c->L;
  if (!lua_checkstack(L, 4)) return 1;
  lua_pushvalue(L, c->fn);
  lua_pushnumber(L, x);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushfstring(L, "%s failed at %s=%f: %s", c->what, c->arg, x,
                      lua_tostring(L, -1));
      lua_remove(L, -2);
    }
    lua_replace(L, c->err);
    return 1;
  }
  if (lua_type(L, -1) != LUA_TNUMBER || isnan(lua_tonumber(L, -1))) {
    lua_pushfstring(L, "%s must return a number, got %s at %s=%f", c->what,
                    lua_type(L, -1) == LUA_TNUMBER ? "nan"
                                                   : luaL_typename(L, -1),
                    c->arg, x);
    lua_replace(L, c->err);
    lua_pop(L, 1);
    return 1;
  }
  *y = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return 0;
}

void abL_callback_raise(lua_State *L, const abL_callback *c) {
  if (c->L && !lua_isnil(L, c->err)) {
    lua_pushvalue(L, c->err);
    lua_error(L);
  }
}

int luaopen_alignbound_core(lua_State *L) {
  ab_init();
  lua_newtable(L);
  lua_pushstring(L, ab_version());
  lua_setfield(L, -2, "version");
  abL_open_terminal(L);
  abL_open_vector(L);
  abL_open_tail(L);
  abL_open_divergences(L);
  abL_open_bon(L);
  abL_open_tilt(L);
  abL_open_sample(L);
  abL_open_estimate(L);
  abL_open_golden(L);
  abL_open_renyi(L);
  abL_open_fit(L);
  return 1;
}
