/*
 * table.c - the columns the readers return, and what they share: a file
 * read in chunks (memory stays with the columns, not the file) and text
 * interned as it is read (a prompt id repeated over its responses is stored
 * once).  Columns grow by doubling: pages reserved and not yet written are
 * not resident, so the peak is the columns themselves.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"

int ab_read_fail(char *err, size_t len, int status, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return status;
}

/* The blocks of a table a read returned are exactly as long as their
 * contents (ab_builder_finish trims them): data[j] and text[j].index rows
 * entries, chars start[count] bytes, start count + 1 offsets, a name its
 * length + 1; so these are the sizes the allocator is given back. */
void ab_table_drop(ab_table *t, size_t j) {
  if (!t || j >= t->cols) return;
  if (t->data) {
    ab_free(t->data[j], t->rows * sizeof(double));
    t->data[j] = NULL;
  }
  if (t->text) {
    ab_text *x = &t->text[j];
    if (x->start) ab_free(x->chars, x->start[x->count]);
    ab_free(x->start, (x->count + 1) * sizeof *x->start);
    ab_free(x->index, t->rows * sizeof *x->index);
    memset(x, 0, sizeof *x);
  }
}

void ab_table_free(ab_table *t) {
  if (!t) return;
  for (size_t j = 0; j < t->cols; j++) {
    ab_table_drop(t, j);
    if (t->names && t->names[j])
      ab_free(t->names[j], strlen(t->names[j]) + 1);
  }
  ab_free(t->names, t->cols * sizeof *t->names);
  ab_free(t->data, t->cols * sizeof *t->data);
  ab_free(t->text, t->cols * sizeof *t->text);
  memset(t, 0, sizeof *t);
}

/* 1 MiB: large enough that refills are rare, small against the columns. */
#define SOURCE_CHUNK ((size_t)1 << 20)

int ab_source_open(ab_source *s, const char *path, const ab_work *work) {
  memset(s, 0, sizeof *s);
  s->f = fopen(path, "rb");
  if (!s->f) return AB_EIO;
  if (work && work->progress) {
    /* the size for the progress: a file that cannot seek (a pipe) has none */
    long end = fseek(s->f, 0, SEEK_END) == 0 ? ftell(s->f) : -1;
    if (end > 0) s->size = (double)end;
    if (fseek(s->f, 0, SEEK_SET) != 0) clearerr(s->f);
    s->work = work;
  }
  s->buf = ab_malloc(SOURCE_CHUNK + 1);
  if (!s->buf) {
    fclose(s->f);
    s->f = NULL;
    return AB_ENOMEM;
  }
  s->cap = SOURCE_CHUNK;
  s->buf[0] = '\0';
  return AB_OK;
}

int ab_source_fill(ab_source *s, size_t keep) {
  if (keep > s->len) keep = s->len;
  s->len -= keep;
  memmove(s->buf, s->buf + keep, s->len);
  if (s->len == s->cap) { /* one record fills the buffer: grow it */
    char *nb = s->cap <= SIZE_MAX / 4
                   ? ab_realloc(s->buf, s->cap + 1, 2 * s->cap + 1)
                   : NULL;
    if (!nb) return AB_ENOMEM;
    s->buf = nb;
    s->cap *= 2;
  }
  errno = 0; /* what a read error leaves in it names the error */
  while (!s->eof && s->len < s->cap) {
    size_t got = fread(s->buf + s->len, 1, s->cap - s->len, s->f);
    s->len += got;
    s->done += (double)got;
    if (got == 0) {
      if (ferror(s->f)) return AB_EIO;
      s->eof = 1;
    }
  }
  s->buf[s->len] = '\0';
  /* bytes read against the size (a file that grew: the bytes so far) */
  if (s->work && s->work->progress &&
      s->work->progress(s->work->progress_ud, s->done,
                        s->size > s->done ? s->size : s->done))
    return AB_ECANCEL;
  return AB_OK;
}

void ab_source_close(ab_source *s) {
  if (s->f) fclose(s->f);
  if (s->buf) ab_free(s->buf, s->cap + 1);
  memset(s, 0, sizeof *s);
}

int ab_builder_init(ab_builder *b, ab_table *out, const char *const *names,
                    const int *text, size_t cols) {
  int any_text = 0, st = AB_OK;
  memset(b, 0, sizeof *b);
  memset(out, 0, sizeof *out);
  b->out = out;
  /* first capacities: 4096 rows (and per text column 4 KiB of chars, 512
   * strings, 1024 slots) up to 128 columns, divided by the power of two
   * that keeps them near 4 MiB in all beyond: 10^5 columns of one row took
   * 450 MB (1.9 GB as text) */
  size_t shift = 0;
  while (shift < 6 && ((size_t)128 << shift) < cols) shift++;
  b->cap = (size_t)4096 >> shift;
  for (size_t j = 0; j < cols; j++) any_text |= text[j] != 0;
  out->cols = cols;
  out->names = ab_calloc(cols, sizeof *out->names);
  out->data = ab_calloc(cols, sizeof *out->data);
  if (any_text) out->text = ab_calloc(cols, sizeof *out->text);
  b->col = ab_calloc(cols, sizeof *b->col);
  if (!out->names || !out->data || (any_text && !out->text) || !b->col)
    st = AB_ENOMEM;
  for (size_t j = 0; !st && j < cols; j++) {
    size_t len = strlen(names[j]);
    out->names[j] = ab_malloc(len + 1);
    if (!out->names[j]) {
      st = AB_ENOMEM;
      break;
    }
    memcpy(out->names[j], names[j], len + 1);
    ab_column *c = &b->col[j];
    c->rows_cap = b->cap;
    if (!text[j]) {
      out->data[j] = ab_malloc_n(c->rows_cap, sizeof(double));
      if (!out->data[j]) st = AB_ENOMEM;
      continue;
    }
    ab_text *x = &out->text[j];
    c->mask = (size_t)1023 >> shift;
    c->chars_cap = (size_t)4096 >> shift;
    c->strings_cap = (size_t)512 >> shift;
    c->starts_cap = c->strings_cap + 1;
    x->index = ab_malloc_n(c->rows_cap, sizeof *x->index);
    x->chars = ab_malloc(c->chars_cap);
    x->start = ab_malloc_n(c->starts_cap, sizeof *x->start);
    c->hash = ab_malloc_n(c->strings_cap, sizeof *c->hash);
    c->slot = ab_calloc(c->mask + 1, sizeof *c->slot);
    if (!x->index || !x->chars || !x->start || !c->hash || !c->slot)
      st = AB_ENOMEM;
    else x->start[0] = 0;
  }
  if (st) ab_builder_discard(b);
  return st;
}

/* Resize *p from *cap to n elements of size sz, *cap following; *p and *cap
 * are left as they were on failure. */
static int resize(void *p, size_t *cap, size_t n, size_t sz) {
  void **pp = p;
  if (n == *cap) return AB_OK;
  if (n > SIZE_MAX / sz) return AB_ENOMEM;
  void *q = ab_realloc(*pp, *cap * sz, n * sz);
  if (!q) return AB_ENOMEM;
  *pp = q;
  *cap = n;
  return AB_OK;
}

int ab_builder_reserve(ab_builder *b, size_t row) {
  if (row < b->cap) return AB_OK;
  if (b->cap > SIZE_MAX / 2) return AB_ENOMEM;
  ab_table *t = b->out;
  size_t cap = b->cap * 2;
  for (size_t j = 0; j < t->cols; j++) {
    ab_column *c = &b->col[j];
    if (c->rows_cap >= cap) continue; /* grown before a failure */
    int st = t->data[j]
                 ? resize(&t->data[j], &c->rows_cap, cap, sizeof(double))
                 : resize(&t->text[j].index, &c->rows_cap, cap,
                          sizeof(unsigned));
    if (st) return st; /* columns already grown keep their capacity */
  }
  b->cap = cap;
  return AB_OK;
}

/* FNV-1a (Fowler, Noll, Vo): one multiply a byte, enough for ids. */
static unsigned hash_of(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

static int rehash(ab_column *h, size_t count) {
  size_t mask = 2 * h->mask + 1;
  unsigned *slot = ab_calloc(mask + 1, sizeof *slot);
  if (!slot) return AB_ENOMEM;
  for (size_t k = 0; k < count; k++) {
    size_t i = h->hash[k] & mask;
    while (slot[i]) i = (i + 1) & mask;
    slot[i] = (unsigned)k + 1;
  }
  ab_free(h->slot, (h->mask + 1) * sizeof *h->slot);
  h->slot = slot;
  h->mask = mask;
  return AB_OK;
}

int ab_builder_text(ab_builder *b, size_t j, size_t row, const char *s,
                    size_t len) {
  ab_text *x = &b->out->text[j];
  ab_column *h = &b->col[j];
  unsigned hv = hash_of(s, len);
  size_t i = hv & h->mask;
  for (unsigned k; (k = h->slot[i]) != 0; i = (i + 1) & h->mask) {
    k--;
    if (h->hash[k] == hv && x->start[k + 1] - x->start[k] - 1 == len &&
        memcmp(x->chars + x->start[k], s, len) == 0) {
      x->index[row] = k;
      return AB_OK;
    }
  }
  if (x->count >= UINT_MAX - 1) return AB_ERANGE;
  size_t used = x->start[x->count];
  if (len >= SIZE_MAX / 2 - used) return AB_ENOMEM;
  if (used + len + 1 > h->chars_cap) {
    size_t cap = 2 * h->chars_cap;
    while (cap < used + len + 1) cap *= 2;
    if (resize(&x->chars, &h->chars_cap, cap, 1)) return AB_ENOMEM;
  }
  if (x->count == h->strings_cap) { /* start may have grown before a failure */
    size_t cap = 2 * h->strings_cap;
    if ((h->starts_cap < cap + 1 &&
         resize(&x->start, &h->starts_cap, cap + 1, sizeof *x->start)) ||
        resize(&h->hash, &h->strings_cap, cap, sizeof *h->hash))
      return AB_ENOMEM;
  }
  memcpy(x->chars + used, s, len);
  x->chars[used + len] = '\0';
  unsigned k = (unsigned)x->count;
  x->start[k + 1] = used + len + 1;
  h->hash[k] = hv;
  h->slot[i] = k + 1;
  x->index[row] = k;
  x->count++;
  return 2 * x->count > h->mask + 1 ? rehash(h, x->count) : AB_OK;
}

int ab_builder_finish(ab_builder *b, size_t rows) {
  ab_table *t = b->out;
  for (size_t j = 0; j < t->cols; j++) {
    ab_column *c = &b->col[j];
    if (t->data[j] &&
        resize(&t->data[j], &c->rows_cap, rows, sizeof(double)))
      goto fail;
    if (t->text && t->text[j].index) {
      ab_text *x = &t->text[j];
      if (resize(&x->index, &c->rows_cap, rows, sizeof *x->index) ||
          resize(&x->chars, &c->chars_cap, x->start[x->count], 1) ||
          resize(&x->start, &c->starts_cap, x->count + 1, sizeof *x->start))
        goto fail;
    }
  }
  for (size_t j = 0; j < t->cols; j++) {
    ab_column *c = &b->col[j];
    ab_free(c->slot, (c->mask + 1) * sizeof *c->slot);
    ab_free(c->hash, c->strings_cap * sizeof *c->hash);
  }
  ab_free(b->col, t->cols * sizeof *b->col);
  b->col = NULL;
  t->rows = rows;
  return AB_OK;
fail:
  ab_builder_discard(b);
  return AB_ENOMEM;
}

void ab_builder_discard(ab_builder *b) {
  ab_table *t = b->out;
  if (!t) return;
  for (size_t j = 0; j < t->cols; j++) {
    const ab_column *c = b->col ? &b->col[j] : NULL;
    if (c) { /* no column has blocks before b->col exists */
      if (t->data) ab_free(t->data[j], c->rows_cap * sizeof(double));
      if (t->text) {
        ab_text *x = &t->text[j];
        ab_free(x->index, c->rows_cap * sizeof *x->index);
        ab_free(x->chars, c->chars_cap);
        ab_free(x->start, c->starts_cap * sizeof *x->start);
      }
      ab_free(c->slot, (c->mask + 1) * sizeof *c->slot);
      ab_free(c->hash, c->strings_cap * sizeof *c->hash);
    }
    if (t->names && t->names[j])
      ab_free(t->names[j], strlen(t->names[j]) + 1);
  }
  ab_free(b->col, t->cols * sizeof *b->col);
  ab_free(t->names, t->cols * sizeof *t->names);
  ab_free(t->data, t->cols * sizeof *t->data);
  ab_free(t->text, t->cols * sizeof *t->text);
  memset(t, 0, sizeof *t);
  b->col = NULL;
}

int ab_names_init(ab_names *x, const char *const *names, size_t n,
                  size_t *first, size_t *dup) {
  size_t mask = 15;
  while (mask / 2 < n) mask = 2 * mask + 1;
  x->names = names;
  x->n = n;
  x->mask = mask;
  x->slot = ab_calloc(mask + 1, sizeof *x->slot);
  if (dup) *dup = n;
  if (!x->slot) return AB_ENOMEM;
  for (size_t k = 0; k < n; k++) {
    size_t i = hash_of(names[k], strlen(names[k])) & mask;
    for (; x->slot[i]; i = (i + 1) & mask)
      if (strcmp(names[x->slot[i] - 1], names[k]) == 0) break;
    if (!x->slot[i]) x->slot[i] = k + 1;
    else if (dup && *dup == n) {
      *dup = k;
      if (first) *first = x->slot[i] - 1;
    }
  }
  return AB_OK;
}

size_t ab_names_find(const ab_names *x, const char *name) {
  size_t i = hash_of(name, strlen(name)) & x->mask;
  for (; x->slot[i]; i = (i + 1) & x->mask)
    if (strcmp(x->names[x->slot[i] - 1], name) == 0) return x->slot[i] - 1;
  return x->n;
}

void ab_names_free(ab_names *x) {
  if (x->slot) ab_free(x->slot, (x->mask + 1) * sizeof *x->slot);
  x->slot = NULL;
}

void ab_read_list(char *err, size_t errlen, const char *lead,
                  const char *const *names, size_t n) {
  enum { SHOWN = 20, WIDTH = 64 };
  if (!err || !errlen) return;
  size_t used = strlen(err);
  for (size_t k = 0; k < n && k < SHOWN && used + 1 < errlen; k++) {
    int cut = strlen(names[k]) > WIDTH;
    int w = snprintf(err + used, errlen - used, "%s'%.*s%s'",
                     k ? ", " : lead, WIDTH, names[k], cut ? "..." : "");
    if (w < 0) return;
    used += (size_t)w < errlen - used ? (size_t)w : errlen - used - 1;
  }
  if (used + 1 < errlen) {
    if (n > SHOWN)
      snprintf(err + used, errlen - used, ", ... (%zu in all))", n);
    else snprintf(err + used, errlen - used, n ? ")" : " (none)");
  }
}

/* The names requested twice found through an index of them all. */
int ab_columns_check(const ab_columns *want, const char *path,
                     const char *what, char *err, size_t errlen) {
  size_t n = want->nnumbers + want->ntext, first = 0, dup = n;
  if (n < 2) return AB_OK;
  const char **all = ab_malloc_n(n, sizeof *all);
  ab_names x = {NULL, 0, 0, NULL};
  if (!all) return ab_read_fail(err, errlen, AB_ENOMEM, "%s: out of memory",
                                path);
  for (size_t c = 0; c < n; c++)
    all[c] = c < want->nnumbers ? want->numbers[c]
                                : want->text[c - want->nnumbers];
  int st = ab_names_init(&x, all, n, &first, &dup);
  if (st) ab_read_fail(err, errlen, st, "%s: out of memory", path);
  else if (dup < n)
    st = ab_read_fail(err, errlen, AB_EDOM, "%s: %s '%s' requested twice",
                      path, what, all[dup]);
  (void)first;
  ab_names_free(&x);
  ab_free(all, n * sizeof *all);
  return st;
}
