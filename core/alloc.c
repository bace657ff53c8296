/*
 * alloc.c - every allocation the core makes goes through here, to the
 * process allocator that ab_set_allocator installs (libc's by default) or to
 * an object's own (the _a constructors).  The allocators follow Lua's
 * lua_Alloc contract, so a block's size is passed back when it is freed or
 * resized: the helpers below take it, and a zero size is kept as one byte
 * both ways (nsize = 0 means "free" in that contract).
 */
/* madvise's MADV_HUGEPAGE and posix_memalign are not in strict C11: without
 * this the huge-page paths below compiled to nothing */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "internal.h"

static void *libc_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud, (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

/* Process-wide configuration, written once by ab_set_allocator before any
 * other call (like ab_init), only read afterwards: not mutable state. */
static ab_allocator process = {libc_alloc, NULL};

void ab_set_allocator(ab_alloc_fn alloc, void *ud) {
  process.alloc = alloc ? alloc : libc_alloc;
  process.ud = alloc ? ud : NULL;
}

void ab_get_allocator(ab_allocator *out) { *out = process; }

const ab_allocator *ab_allocator_or_process(const ab_allocator *a) {
  return a && a->alloc ? a : &process;
}

static size_t at_least_one(size_t n) { return n ? n : 1; }

void *ab_malloc_a(const ab_allocator *a, size_t bytes) {
  a = ab_allocator_or_process(a);
  return a->alloc(a->ud, NULL, 0, at_least_one(bytes));
}

void *ab_calloc_a(const ab_allocator *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = ab_malloc_a(a, count * size);
  if (p) memset(p, 0, at_least_one(count * size));
  return p;
}

void *ab_realloc_a(const ab_allocator *a, void *p, size_t osize,
                   size_t nsize) {
  if (!p) return ab_malloc_a(a, nsize);
  a = ab_allocator_or_process(a);
  return a->alloc(a->ud, p, at_least_one(osize), at_least_one(nsize));
}

void ab_free_a(const ab_allocator *a, void *p, size_t bytes) {
  if (!p) return;
  a = ab_allocator_or_process(a);
  a->alloc(a->ud, p, at_least_one(bytes), 0);
}

void *ab_malloc(size_t bytes) { return ab_malloc_a(NULL, bytes); }
void *ab_calloc(size_t count, size_t size) {
  return ab_calloc_a(NULL, count, size);
}
void *ab_realloc(void *p, size_t osize, size_t nsize) {
  return ab_realloc_a(NULL, p, osize, nsize);
}
void ab_free(void *p, size_t bytes) { ab_free_a(NULL, p, bytes); }

void *ab_malloc_n(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  return ab_malloc(count * size);
}

void ab_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (!p || bytes < 2 * huge) return;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p, (void)bytes;
#endif
}

/* A large scratch buffer (free it with ab_free(p, bytes)).  With libc's
 * allocator on Linux it is 2 MiB-aligned and marked for transparent huge
 * pages: touching 10^7 records a page at a time costs more page faults than
 * the sort costs work (free() takes posix_memalign's blocks).  A host's
 * allocator gets the request as it is. */
void *ab_alloc_large(size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (process.alloc == libc_alloc && bytes >= (4u << 20)) {
    void *p = NULL;
    size_t huge = (size_t)2 << 20;
    if (bytes > SIZE_MAX - huge) return NULL;
    if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge) != 0)
      return NULL;
    ab_advise_huge_pages(p, (bytes + huge - 1) / huge * huge);
    return p;
  }
#endif
  return ab_malloc(bytes);
}

/* ---- GSL objects in the core's memory ------------------------------------
 * gsl_integration_workspace_alloc makes 7 mallocs (the struct and six
 * arrays), gsl_min_fminimizer_alloc and gsl_root_fsolver_alloc 2 each, all
 * beyond any hook.  Their structs are public, so each is built here in one
 * block from the core's allocator, filled as GSL's own _alloc fills it (the
 * _set and integration calls initialise the rest), and freed here. */

/* The offset of a part after a struct of the given size, 16-byte aligned. */
static size_t after(size_t bytes) { return (bytes + 15) / 16 * 16; }

static size_t quad_bytes(size_t limit) {
  return after(sizeof(gsl_integration_workspace)) +
         limit * (4 * sizeof(double) + 2 * sizeof(size_t));
}

gsl_integration_workspace *ab_quad_new(size_t limit) {
  if (limit == 0 || limit > SIZE_MAX / 64) return NULL;
  char *b = ab_malloc(quad_bytes(limit));
  if (!b) return NULL;
  gsl_integration_workspace *w = (gsl_integration_workspace *)b;
  double *d = (double *)(b + after(sizeof *w));
  w->alist = d;
  w->blist = d + limit;
  w->rlist = d + 2 * limit;
  w->elist = d + 3 * limit;
  w->order = (size_t *)(d + 4 * limit);
  w->level = w->order + limit;
  w->size = 0;
  w->limit = limit;
  w->maximum_level = 0;
  w->nrmax = 0;
  w->i = 0;
  return w;
}

void ab_quad_free(gsl_integration_workspace *w) {
  if (w) ab_free(w, quad_bytes(w->limit));
}

gsl_min_fminimizer *ab_fminimizer_new(const gsl_min_fminimizer_type *type) {
  char *b = ab_malloc(after(sizeof(gsl_min_fminimizer)) + type->size);
  if (!b) return NULL;
  gsl_min_fminimizer *s = (gsl_min_fminimizer *)b;
  memset(s, 0, sizeof *s);
  s->type = type;
  s->function = NULL;
  s->state = b + after(sizeof *s);
  return s;
}

void ab_fminimizer_free(gsl_min_fminimizer *s) {
  if (s) ab_free(s, after(sizeof *s) + s->type->size);
}

gsl_root_fsolver *ab_root_fsolver_new(const gsl_root_fsolver_type *type) {
  char *b = ab_malloc(after(sizeof(gsl_root_fsolver)) + type->size);
  if (!b) return NULL;
  gsl_root_fsolver *s = (gsl_root_fsolver *)b;
  memset(s, 0, sizeof *s);
  s->type = type;
  s->function = NULL;
  s->state = b + after(sizeof *s);
  return s;
}

void ab_root_fsolver_free(gsl_root_fsolver *s) {
  if (s) ab_free(s, after(sizeof *s) + s->type->size);
}

/* ---- workspaces: scratch that outlives a call ---------------------------- */

struct ab_workspace {
  gsl_integration_workspace *quad; /* AB_QUAD_LIMIT intervals */
  void *buf;                       /* cap bytes, grown on demand */
  size_t cap;
};

int ab_workspace_new(ab_workspace **out) {
  ab_workspace *w = ab_calloc(1, sizeof *w);
  if (!w) return AB_ENOMEM;
  if (!(w->quad = ab_quad_new(AB_QUAD_LIMIT))) {
    ab_free(w, sizeof *w);
    return AB_ENOMEM;
  }
  *out = w;
  return AB_OK;
}

void ab_workspace_free(ab_workspace *w) {
  if (!w) return;
  ab_quad_free(w->quad);
  ab_free(w->buf, w->cap);
  ab_free(w, sizeof *w);
}

int ab_workspace_reserve(ab_workspace *w, size_t bytes) {
  if (!w) return AB_EDOM;
  if (bytes <= w->cap) return AB_OK;
  /* the old contents are scratch: free first, no copy */
  ab_free(w->buf, w->cap);
  w->buf = NULL;
  w->cap = 0;
  if (!(w->buf = ab_malloc(bytes))) return AB_ENOMEM;
  w->cap = bytes;
  return AB_OK;
}

gsl_integration_workspace *ab_ws_quad(ab_workspace *w, size_t limit) {
  return w && limit <= AB_QUAD_LIMIT ? w->quad : ab_quad_new(limit);
}

void ab_ws_quad_done(ab_workspace *w, gsl_integration_workspace *q) {
  if (!w || q != w->quad) ab_quad_free(q);
}

void *ab_ws_buffer(ab_workspace *w, size_t bytes) {
  if (!w) return ab_malloc(bytes);
  return ab_workspace_reserve(w, bytes) ? NULL : w->buf;
}

void ab_ws_buffer_done(ab_workspace *w, void *p, size_t bytes) {
  if (!w) ab_free(p, bytes);
}
