/* table.h - what the CSV and JSON Lines readers share: a file read in
 * chunks, and the columns being filled (grown geometrically, text interned
 * as it is read).  Internal to the core. */
#ifndef ALIGNBOUND_TABLE_H
#define ALIGNBOUND_TABLE_H

#include <stdio.h>

#include "alignbound.h"

/* A file read in chunks: buf[0, len) holds bytes read and not yet dropped,
 * buf[len] == '\0' (so strtod and scans stop at the end of what is read). */
typedef struct {
  FILE *f;
  char *buf;
  size_t cap, len;
  int eof; /* nothing more to read */
  /* progress: bytes read against the file's size (0 when it has none, e.g.
   * a pipe); work NULL or without a callback: none */
  const ab_work *work;
  double size, done;
} ab_source;

/* AB_OK, AB_EIO (errno says why), AB_ENOMEM.  work (may be NULL): its
 * progress callback hears of every chunk read, and may cancel. */
int ab_source_open(ab_source *s, const char *path, const ab_work *work);
/* Drop buf[0, keep), move the rest to the front and read more; the buffer
 * doubles when it is full from its start (a record longer than it).
 * AB_OK (s->eof once the file is exhausted), AB_EIO, AB_ENOMEM, AB_ECANCEL
 * (the progress callback returned non-zero). */
int ab_source_fill(ab_source *s, size_t keep);
void ab_source_close(ab_source *s);

/* One column being filled: the capacity of each of its blocks (the
 * allocator is told a block's true size when it is resized or freed) and,
 * for a text column, its interning table: open addressing over string
 * indices (slot k + 1, 0 empty), at most half full.  Capacities count
 * elements: rows_cap rows of data[j] or text[j].index, chars_cap bytes of
 * chars, starts_cap offsets of start, strings_cap hashes. */
typedef struct {
  size_t rows_cap;
  unsigned *slot, *hash; /* mask + 1 slots; a hash per distinct string */
  size_t mask, chars_cap, starts_cap, strings_cap;
} ab_column;

/* The table being filled: out's columns hold `cap` rows once reserved. */
typedef struct {
  ab_table *out;
  size_t cap;
  ab_column *col; /* out->cols entries */
} ab_builder;

/* Columns named names[0, cols), text[j] nonzero for a text column.
 * AB_OK or AB_ENOMEM (out is then empty). */
int ab_builder_init(ab_builder *b, ab_table *out, const char *const *names,
                    const int *text, size_t cols);
/* Make room for row `row` (the capacity doubles). */
int ab_builder_reserve(ab_builder *b, size_t row);
/* Set row `row` of text column j to s[0, len): AB_OK, AB_ENOMEM, AB_ERANGE
 * (more distinct strings than an unsigned counts). */
int ab_builder_text(ab_builder *b, size_t j, size_t row, const char *s,
                    size_t len);
/* rows rows were read: trim every block to its contents (the sizes
 * ab_table_free gives back) and free the interning tables.  AB_OK, or
 * AB_ENOMEM when the allocator refuses a trim: the table is then
 * discarded, as by ab_builder_discard. */
int ab_builder_finish(ab_builder *b, size_t rows);
/* A read failed: free the table's blocks at their capacities, and the
 * builder's; out is left empty. */
void ab_builder_discard(ab_builder *b);

/* An index of names[0, n) by content (open addressing over name indices,
 * slot k + 1, 0 empty, at most half full), so that finding each of n names
 * among n costs O(n) rather than the O(n^2) of comparing every pair. */
typedef struct {
  const char *const *names;
  size_t n, mask;
  size_t *slot;
} ab_names;

/* Index names[0, n) (equal names: the first is found).  AB_OK, AB_ENOMEM.
 * *dup, if not NULL, is set to the first k whose name equals an earlier
 * one's (n when the names are distinct), *first to that earlier one. */
int ab_names_init(ab_names *x, const char *const *names, size_t n,
                  size_t *first, size_t *dup);
/* The first k with names[k] equal to name, or n when there is none. */
size_t ab_names_find(const ab_names *x, const char *name);
void ab_names_free(ab_names *x);

/* Append names[0, n) to the message in err as " ('a', 'b', ...)": at most
 * the first 20, each cut at 64 bytes, so that a file of 10^5 columns or a
 * name of megabytes does not make a message of megabytes; " (none)" when
 * n is 0.  lead opens the list ("the columns are "). */
void ab_read_list(char *err, size_t errlen, const char *lead,
                  const char *const *names, size_t n);

/* The one check both readers make of the requested names: "column 'b'
 * requested twice" (what = "column" or "field") into err, AB_EDOM. */
int ab_columns_check(const ab_columns *want, const char *path,
                     const char *what, char *err, size_t errlen);

/* printf into err (if not NULL); returns status. */
int ab_read_fail(char *err, size_t len, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
