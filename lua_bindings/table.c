/* table.c - ab.read_csv and ab.read_jsonl: logs read by the core into
 * columns, returned as {name = vector | array of strings}, rows. */
#include <limits.h>
#include <string.h>

#include "binding.h"

#define ABL_TABLE "alignbound.csv_table"

/* The names of option `key` (a non-empty array of strings) of the options
 * at index 2, as an array kept alive on the stack; NULL when absent. */
static const char **names_of(lua_State *L, const char *fname, const char *key,
                             size_t *n) {
  *n = 0;
  lua_getfield(L, 2, key);
  if (lua_isnil(L, -1)) return NULL;
  if (!lua_istable(L, -1))
    abL_argerror(L, fname, 2, "%s must be a table of names, got %s", key,
                 abL_typename(L, -1));
  int list = lua_gettop(L);
  *n = lua_rawlen(L, list);
  if (*n == 0) abL_argerror(L, fname, 2, "%s is empty", key);
  const char **v = (const char **)lua_newuserdatauv(L, *n * sizeof *v, 0);
  for (size_t i = 0; i < *n; i++) {
    /* the strings stay alive in the table, which stays on the stack */
    lua_rawgeti(L, list, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      abL_argerror(L, fname, 2, "%s[%d] must be a name, got %s", key,
                   (int)i + 1, abL_typename(L, -1));
    size_t len;
    v[i] = lua_tolstring(L, -1, &len);
    /* the core reads C strings: "a\0x" would be column "a" */
    if (strlen(v[i]) != len)
      abL_argerror(L, fname, 2, "%s[%d] contains a NUL byte", key, (int)i + 1);
    lua_pop(L, 1);
  }
  return v;
}

/* A text column as a Lua array: each distinct string is made once. */
static void push_text(lua_State *L, const ab_text *x, size_t rows) {
  lua_createtable(L, x->count < INT_MAX ? (int)x->count : 0, 0);
  int distinct = lua_gettop(L);
  for (size_t k = 0; k < x->count; k++) {
    lua_pushlstring(L, x->chars + x->start[k], x->start[k + 1] - x->start[k] - 1);
    lua_rawseti(L, distinct, (lua_Integer)k + 1);
  }
  lua_createtable(L, (int)rows, 0);
  for (size_t i = 0; i < rows; i++) {
    lua_rawgeti(L, distinct, (lua_Integer)x->index[i] + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_remove(L, distinct);
}

typedef int (*reader_fn)(const char *path, const ab_columns *want,
                         const ab_work *work, ab_table *out, char *err,
                         size_t errlen);

/* The call both readers share: options, the core's read, the columns. */
static int read_table(lua_State *L, const char *fname, const char *numbers,
                      reader_fn read) {
  const char *const fields[] = {numbers, "text", "progress", NULL};
  char err[512];
  int progress = 1;
  ab_work work = {0, NULL, NULL};
  abL_progress prog;
  ab_columns want = {NULL, 0, NULL, 0};
  if (lua_type(L, 1) != LUA_TSTRING)
    return abL_argerror(L, fname, 1, "path must be a string, got %s",
                        abL_typename(L, 1));
  size_t plen;
  const char *path = lua_tolstring(L, 1, &plen);
  if (strlen(path) != plen) /* "ok.csv\0junk" would read ok.csv */
    return abL_argerror(L, fname, 1, "path contains a NUL byte");
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2))
      return abL_argerror(L, fname, 2, "table of options expected, got %s",
                          abL_typename(L, 2));
    abL_checkfields(L, 2, fname, 2, fields);
    want.numbers = names_of(L, fname, numbers, &want.nnumbers);
    want.text = names_of(L, fname, "text", &want.ntext);
    progress = abL_optboolean(L, 2, fname, 2, "progress", 1);
  }
  /* the table lives in a userdata whose __gc frees it, so that a memory
   * error while the columns are made cannot leak it */
  ab_table *t = (ab_table *)lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, ABL_TABLE);
  /* bytes read against the file's size, on a terminal only */
  abL_progress_init(&prog, fname, progress, &work);
  int st = read(path, &want, &work, t, err, sizeof err);
  abL_progress_end(&prog);
  if (st == AB_EIO) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  if (st == AB_EDOM) return abL_argerror(L, fname, 2, "%s", err);
  if (st == AB_ENOMEM) return abL_status(L, fname, st);
  if (st) return luaL_error(L, "%s: %s", fname, err);
  if (t->text && t->rows > INT_MAX)
    return luaL_error(L, "%s: %s: %I rows are too many for a Lua array of "
                      "text", fname, path, (lua_Integer)t->rows);
  lua_createtable(L, 0, (int)t->cols);
  for (size_t j = 0; j < t->cols; j++) {
    if (t->data[j]) {
      abL_vector *v = abL_newvector(L, t->rows);
      memcpy(v->data, t->data[j], t->rows * sizeof(double));
    } else {
      push_text(L, &t->text[j], t->rows);
    }
    ab_table_drop(t, j); /* the file's columns are never held twice */
    lua_setfield(L, -2, t->names[j]);
  }
  lua_pushinteger(L, (lua_Integer)t->rows);
  ab_table_free(t);
  return 2;
}

/* ab.read_csv(path [, {columns=, text=, progress=true}]) -> {name = vector | strings},
 * rows; nil, message if the file cannot be read (as io.open) */
static int read_csv(lua_State *L) {
  return read_table(L, "read_csv", "columns", ab_csv_read_work);
}

/* ab.read_jsonl(path, {fields=, text=, progress=true}) -> as read_csv */
static int read_jsonl(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && lua_isnoneornil(L, 2))
    return abL_argerror(L, "read_jsonl", 2, "table {fields=, text=} "
                        "expected, got no value");
  return read_table(L, "read_jsonl", "fields", ab_jsonl_read_work);
}

static int table_gc(lua_State *L) {
  ab_table_free((ab_table *)abL_checkself(L, ABL_TABLE, "csv_table:__gc"));
  return 0;
}

void abL_open_table(lua_State *L) {
  luaL_newmetatable(L, ABL_TABLE);
  lua_pushcfunction(L, table_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, read_csv);
  lua_setfield(L, -2, "read_csv");
  lua_pushcfunction(L, read_jsonl);
  lua_setfield(L, -2, "read_jsonl");
}
