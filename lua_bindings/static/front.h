/* front.h - the Lua front as compiled-in sources (front.c, generated from
 * the .lua files of lua_bindings/alignbound by lua_bindings/static/embed.sh). */
#ifndef ALIGNBOUND_FRONT_H
#define ALIGNBOUND_FRONT_H

#include <stddef.h>

typedef struct {
  const char *name;      /* module name: "alignbound", "alignbound.io", ... */
  const char *chunkname; /* "@alignbound/io.lua": how errors name it */
  const unsigned char *source;
  size_t size;
} abL_front_module;

/* every module of the front, ended by an entry with name NULL */
extern const abL_front_module abL_front[];

#endif
