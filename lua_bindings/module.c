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
                   luaL_typename(L, -1));
    }
  }
  if (len > SIZE_MAX / sizeof(double))
    abL_argerror(L, fname, argn, "%s is too long", what);
  double *buf = (double *)lua_newuserdatauv(L, len * sizeof(double) + 1, 0);
  for (size_t i = 0; i < len; i++) {
    /* numbers only, as in option fields: a numeric string is an error */
    if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TNUMBER)
      abL_argerror(L, fname, argn, "%s[%I] must be a number, got %s", what,
                   (lua_Integer)i + 1, luaL_typename(L, -1));
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
                   ", got %s", what, luaL_typename(L, idx));
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
                 ", got %s", what, luaL_typename(L, idx));
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

/* What the protected part of a callback reads and writes. */
typedef struct {
  const abL_callback *c;
  double x, y;
  int failed;
} callback_args;

/* fn(x) in protected mode, with fn at index 1 and the callback_args at 2:
 * returns nothing on success (y set), else the message.  Formatting the
 * message allocates, so it too must run protected. */
static int callback_protected(lua_State *L) {
  callback_args *a = (callback_args *)lua_touserdata(L, 2);
  const abL_callback *c = a->c;
  lua_pushvalue(L, 1);
  lua_pushnumber(L, a->x);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    a->failed = 1;
    if (lua_type(L, -1) == LUA_TSTRING)
      lua_pushfstring(L, "%s failed at %s=%f: %s", c->what, c->arg, a->x,
                      lua_tostring(L, -1));
    return 1;
  }
  if (lua_type(L, -1) != LUA_TNUMBER || isnan(lua_tonumber(L, -1))) {
    a->failed = 1;
    lua_pushfstring(L, "%s must return a number, got %s at %s=%f", c->what,
                    lua_type(L, -1) == LUA_TNUMBER ? "nan"
                                                   : luaL_typename(L, -1),
                    c->arg, a->x);
    return 1;
  }
  a->y = lua_tonumber(L, -1);
  return 0;
}

int abL_callback_number(void *ctx, double x, double *y) {
  const abL_callback *c = (const abL_callback *)ctx;
  lua_State *L = c->L;
  callback_args a = {c, x, NAN, 0};
  /* nothing here may raise: the core is on the C stack between us and the
   * binding; pushing a light C function or userdata does not allocate */
  if (!lua_checkstack(L, 4)) return 1;
  lua_pushcfunction(L, callback_protected);
  lua_pushvalue(L, c->fn);
  lua_pushlightuserdata(L, &a);
  int st = lua_pcall(L, 2, 1, 0);
  if (st != LUA_OK || a.failed) {
    lua_replace(L, c->err); /* the message (or a memory error) */
    return 1;
  }
  lua_pop(L, 1);
  *y = a.y;
  return 0;
}

void abL_callback_raise(lua_State *L, const abL_callback *c,
                        const char *fname) {
  if (c->L && !lua_isnil(L, c->err)) {
    /* a message says which public call it failed in; another error
     * object goes through unchanged */
    if (lua_type(L, c->err) == LUA_TSTRING)
      lua_pushfstring(L, "%s: %s", fname, lua_tostring(L, c->err));
    else
      lua_pushvalue(L, c->err);
    lua_error(L);
  }
}

/* ---- tails and their user cumulant ------------------------------------- */

abL_tail *abL_checktail(lua_State *L, int idx, const char *fname, int argn) {
  abL_tail *u = (abL_tail *)luaL_testudata(L, idx, ABL_TAIL);
  if (!u) abL_argerror(L, fname, argn, ABL_TAIL " expected, got %s",
                       luaL_typename(L, idx));
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

/* ---- one path from a core status to a Lua error ------------------------ */

int abL_fail(lua_State *L, const abL_site *s, int st, int shape, size_t at,
             double value) {
  char desc[160] = "";
  /* worded as Lua's own allocation failures */
  if (st == AB_ENOMEM) return luaL_error(L, "%s: not enough memory", s->fname);
  if (st == AB_EFUNC && s->cb) abL_callback_raise(L, s->cb, s->fname);
  if (s->tail) ab_tail_describe(s->tail, desc, sizeof desc);
  if (st == AB_EUNDEF) {
    if (s->undef_arg)
      return abL_argerror(L, s->fname, s->undef_arg, "%s, got %s",
                          s->undef ? s->undef : ab_strerror(st), desc);
    return luaL_error(L, "%s: not defined for %s%s%s%s", s->fname, desc,
                      s->undef ? " (" : "", s->undef ? s->undef : "",
                      s->undef ? ")" : "");
  }
  if (st == AB_EDOM && s->domain) {
    if (at == SIZE_MAX) /* no element to blame */
      return abL_argerror(L, s->fname, s->argn, "%s", s->domain);
    if (shape)
      return abL_argerror(L, s->fname, s->argn, "element %I: %s, got %f",
                          (lua_Integer)at + 1, s->domain, value);
    return abL_argerror(L, s->fname, s->argn, "%s, got %f", s->domain, value);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%s: %s", s->fname, ab_strerror(st));
  luaL_addvalue(&b);
  if (desc[0] || at != SIZE_MAX) {
    luaL_addstring(&b, " (");
    if (desc[0]) luaL_addstring(&b, desc);
    if (desc[0] && at != SIZE_MAX) luaL_addstring(&b, ", ");
    if (at != SIZE_MAX) {
      lua_pushfstring(L, "at %f", value);
      luaL_addvalue(&b);
    }
    luaL_addstring(&b, ")");
  }
  luaL_pushresult(&b);
  return lua_error(L);
}

/* ---- argument checks --------------------------------------------------- */

double abL_checknumber(lua_State *L, int idx, const char *fname, int argn,
                       const char *what) {
  if (lua_type(L, idx) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be a number, got %s", what,
                 luaL_typename(L, idx));
  return lua_tonumber(L, idx);
}

void abL_checkfunction(lua_State *L, int idx, const char *fname, int argn,
                       const char *what) {
  if (lua_type(L, idx) != LUA_TFUNCTION)
    abL_argerror(L, fname, argn, "%s must be a function, got %s", what,
                 luaL_typename(L, idx));
}

size_t abL_checkcount(lua_State *L, int idx, const char *fname, int argn,
                      const char *what) {
  int isint;
  lua_Integer k = lua_tointegerx(L, idx, &isint);
  if (lua_type(L, idx) != LUA_TNUMBER)
    abL_argerror(L, fname, argn, "%s must be an integer, got %s", what,
                 luaL_typename(L, idx));
  if (!isint)
    abL_argerror(L, fname, argn, "%s must be an integer, got %f", what,
                 lua_tonumber(L, idx));
  if (k < 0)
    abL_argerror(L, fname, argn, "%s must be >= 0, got %I", what, k);
  if ((lua_Unsigned)k > (lua_Unsigned)ABL_MAX_VECTOR)
    abL_argerror(L, fname, argn, "%s is too large, got %I (at most %I)", what,
                 k, (lua_Integer)ABL_MAX_VECTOR);
  return (size_t)k;
}

void *abL_checkself(lua_State *L, const char *tname, const char *fname) {
  void *p = luaL_testudata(L, 1, tname);
  if (!p) {
    const char *got = luaL_typename(L, 1);
    if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING)
      got = lua_tostring(L, -1);
    luaL_error(L, "calling '%s' on bad self (%s expected, got %s)", fname,
               tname, got);
  }
  return p;
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
  abL_open_table(L);
  abL_open_golden(L);
  abL_open_renyi(L);
  abL_open_fit(L);
  abL_open_rules(L);
  abL_open_grpo(L);
  abL_open_prompts(L);
  return 1;
}
