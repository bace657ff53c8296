/* terminal.c - core._isatty(fd): whether a standard stream is a terminal,
 * so that a long scenario shows its progress line on a terminal only (plain
 * Lua has no isatty).  Not maths, not public API. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "binding.h"

/* core._isatty(fd), fd in {0, 1, 2} */
static int term_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  if (fd < 0 || fd > 2)
    return abL_argerror(L, "_isatty", 1, "fd must be 0, 1 or 2, got %d",
                        (int)fd);
  lua_pushboolean(L, isatty((int)fd) == 1);
  return 1;
}

void abL_open_terminal(lua_State *L) {
  lua_pushcfunction(L, term_isatty);
  lua_setfield(L, -2, "_isatty");
}
