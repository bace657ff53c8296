/* terminal.c - what the module shows on a terminal: core._isatty(fd), so
 * that a long scenario shows its progress line on a terminal only (plain Lua
 * has no isatty), and the progress line of the C bindings' long runs (a
 * bootstrap: the core reports progress through a callback and does no I/O
 * itself).  Not maths, not public API. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
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

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The line is drawn at most ten times a second, only after the run has
 * lasted half a second (a short run shows nothing), and erased at the end,
 * so that what the caller prints next starts on a clean line. */
static int progress_line(void *ud, double done, double total) {
  abL_progress *p = (abL_progress *)ud;
  double now = seconds();
  if (done >= total) {
    if (p->shown) fputs("\r\033[K", stderr);
    p->shown = 0;
    return 0;
  }
  if (now - p->start < 0.5 || now - p->last < 0.1) return 0;
  p->last = now;
  p->shown = 1;
  fprintf(stderr, "\r%s: %3.0f%% (%.0f of %.0f)", p->name,
          total > 0 ? 100.0 * done / total : 100.0, done, total);
  fflush(stderr);
  return 0;
}

void abL_progress_init(abL_progress *p, const char *name, int enabled,
                       ab_work *w) {
  p->name = name;
  p->start = p->last = seconds();
  p->shown = 0;
  if (enabled && isatty(2) == 1) {
    w->progress = progress_line;
    w->progress_ud = p;
  } else {
    w->progress = NULL;
    w->progress_ud = NULL;
  }
}

void abL_progress_end(abL_progress *p) {
  if (p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = 0;
  }
}

void abL_open_terminal(lua_State *L) {
  lua_pushcfunction(L, term_isatty);
  lua_setfield(L, -2, "_isatty");
}
