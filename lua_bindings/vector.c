/* vector.c - alignbound.vector: a fixed-length array of doubles in one
 * userdata.  v[i] (1-based, bounds-checked), v[i] = x, #v, v:totable(),
 * tostring(v). */
#include <stdint.h>
#include <string.h>

#include "binding.h"

abL_vector *abL_newvector(lua_State *L, size_t n) {
  if (n > ABL_MAX_VECTOR) /* callers check counts from Lua first */
    luaL_error(L, "a vector of %I elements is too large", (lua_Integer)n);
  abL_vector *v = (abL_vector *)lua_newuserdatauv(
      L, sizeof(abL_vector) + n * sizeof(double), 0);
  v->n = n;
  /* a big result is written once, right away: its first writes fault
   * 2 MiB pages rather than 4 KiB ones */
  ab_advise_huge_pages(v->data, n * sizeof(double));
  luaL_setmetatable(L, ABL_VECTOR);
  return v;
}

abL_vector *abL_testvector(lua_State *L, int idx) {
  return (abL_vector *)luaL_testudata(L, idx, ABL_VECTOR);
}

static abL_vector *checkvector(lua_State *L, const char *fname) {
  return (abL_vector *)abL_checkself(L, ABL_VECTOR, fname);
}

/* ab.vector{...} copies a table (or vector); ab.vector(n [, fill]). */
static int vector_new(lua_State *L) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    int isint;
    lua_Integer n = lua_tointegerx(L, 1, &isint);
    if (!isint || n < 0)
      return abL_argerror(L, "vector", 1,
                          "size must be a non-negative integer, got %s",
                          luaL_tolstring(L, 1, NULL));
    size_t size = abL_checkcount(L, 1, "vector", 1, "size");
    double fill = 0.0;
    if (!lua_isnoneornil(L, 2)) {
      if (lua_type(L, 2) != LUA_TNUMBER)
        return abL_argerror(L, "vector", 2, "fill must be a number, got %s",
                            abL_typename(L, 2));
      fill = lua_tonumber(L, 2);
    }
    abL_vector *v = abL_newvector(L, size);
    for (size_t i = 0; i < v->n; i++) v->data[i] = fill;
    return 1;
  }
  if (!lua_istable(L, 1) && !abL_testvector(L, 1))
    return abL_argerror(L, "vector", 1,
                        "table, " ABL_VECTOR " or size expected, got %s",
                        abL_typename(L, 1));
  size_t n;
  const double *x = abL_todoubles(L, 1, "vector", 1, "values", &n);
  abL_vector *v = abL_newvector(L, n);
  memcpy(v->data, x, n * sizeof(double));
  return 1;
}

static size_t checkindex(lua_State *L, abL_vector *v, const char *fname) {
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (!isint)
    abL_argerror(L, fname, 1, "vector index must be an integer, got %s",
                 luaL_tolstring(L, 2, NULL));
  if (i < 1 || (lua_Unsigned)i > v->n)
    abL_argerror(L, fname, 1, "index %I out of range 1..%I", i,
                 (lua_Integer)v->n);
  return (size_t)(i - 1);
}

static int vector_index(lua_State *L) {
  abL_vector *v = checkvector(L, "vector:__index");
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
  }
  lua_pushnumber(L, v->data[checkindex(L, v, "vector:__index")]);
  return 1;
}

static int vector_newindex(lua_State *L) {
  abL_vector *v = checkvector(L, "vector:__newindex");
  size_t i = checkindex(L, v, "vector:__newindex");
  if (lua_type(L, 3) != LUA_TNUMBER)
    return abL_argerror(L, "vector:__newindex", 2, "number expected, got %s",
                        abL_typename(L, 3));
  v->data[i] = lua_tonumber(L, 3);
  return 0;
}

static int vector_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkvector(L, "vector:__len")->n);
  return 1;
}

static int vector_totable(lua_State *L) {
  abL_vector *v = checkvector(L, "vector:totable");
  lua_createtable(L, v->n > INT32_MAX ? 0 : (int)v->n, 0);
  for (size_t i = 0; i < v->n; i++) {
    lua_pushnumber(L, v->data[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int vector_tostring(lua_State *L) {
  abL_vector *v = checkvector(L, "vector:__tostring");
  luaL_Buffer b;
  size_t shown = v->n <= 8 ? v->n : 6;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "vector(%I){", (lua_Integer)v->n);
  luaL_addvalue(&b);
  for (size_t i = 0; i < shown; i++) {
    lua_pushfstring(L, i ? ", %f" : "%f", v->data[i]);
    /* %f of lua_pushfstring is "%.14g" */
    luaL_addvalue(&b);
  }
  if (shown < v->n) {
    lua_pushfstring(L, ", ..., %f", v->data[v->n - 1]);
    luaL_addvalue(&b);
  }
  luaL_addstring(&b, "}");
  luaL_pushresult(&b);
  return 1;
}

void abL_open_vector(lua_State *L) {
  static const luaL_Reg methods[] = {{"totable", vector_totable}, {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__newindex", vector_newindex},
                                  {"__len", vector_len},
                                  {"__tostring", vector_tostring},
                                  {NULL, NULL}};
  luaL_newmetatable(L, ABL_VECTOR);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_pushcclosure(L, vector_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, vector_new);
  lua_setfield(L, -2, "vector");
}
