/*
 * alloc.c - every allocation the core makes goes through here, to the
 * process allocator that ab_set_allocator installs (libc's by default) or to
 * an object's own (the _a constructors).  The allocators follow Lua's
 * lua_Alloc contract, so a block's size is passed back when it is freed or
 * resized: the helpers below take it, and a zero size is kept as one byte
 * both ways (nsize = 0 means "free" in that contract).
 */
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
    madvise(p, (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE);
    return p;
  }
#endif
  return ab_malloc(bytes);
}
