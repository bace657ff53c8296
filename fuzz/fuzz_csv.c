/* fuzz_csv.c - libFuzzer target: ab_csv_read on the input as a file (an
 * anonymous memfd, read through /proc/self/fd, since the reader takes a
 * path), once for every column, once for a column list taken from the
 * input's first line, and once with the first of those read as text.
 *
 * Invariants: the status is a documented code; on AB_OK the table has the
 * requested columns, every name is NUL-terminated, every value is finite
 * (the reader rejects inf and nan) and ab_table_free releases it all (ASan's
 * leak check); on failure the message is NUL-terminated. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

FUZZ_INIT

/* Every column of a full read equals the same column read alone by its
 * name (a column the reader forgot to write holds ASan's malloc fill). */
static void check_alone(const char *path, const ab_table *t) {
  for (size_t j = 0; j < t->cols; j++) {
    int repeated = 0;
    for (size_t k = 0; k < t->cols; k++)
      repeated |= k != j && strcmp(t->names[j], t->names[k]) == 0;
    FUZZ_REQUIRE(!repeated, "a repeated column name is accepted");
    const char *name = t->names[j];
    ab_table one;
    int st = ab_csv_read(path, &name, 1, &one, NULL, 0);
    FUZZ_REQUIRE(st == AB_OK, "a column of a good file cannot be read alone");
    FUZZ_REQUIRE(one.cols == 1 && one.rows == t->rows, "the shape of a column read alone");
    FUZZ_REQUIRE(memcmp(one.data[0], t->data[j], t->rows * sizeof(double)) == 0,
                 "a column read alone differs from the full read");
    ab_table_free(&one);
  }
}

static void read_and_check(const char *path, const char *const *cols,
                           size_t ncols) {
  ab_table t;
  char err[128];
  memset(err, 'x', sizeof err);
  int st = ab_csv_read(path, cols, ncols, &t, err, sizeof err);
  FUZZ_STATUS(st);
  if (st != AB_OK) {
    FUZZ_REQUIRE(memchr(err, 0, sizeof err) != NULL, "error message NUL");
    return;
  }
  if (ncols) FUZZ_REQUIRE(t.cols == ncols, "requested columns");
  for (size_t j = 0; j < t.cols; j++) {
    FUZZ_REQUIRE(t.names[j] != NULL, "column name");
    (void)strlen(t.names[j]);
    for (size_t i = 0; i < t.rows; i++)
      FUZZ_REQUIRE(isfinite(t.data[j][i]), "a value read is not finite");
  }
  if (!ncols) check_alone(path, &t);
  ab_table_free(&t);
}

/* The first name read as text, the others as numbers: the text column is
 * well formed (indices in range, strings NUL-terminated), and the numbers
 * are those read without it (the same fields are scanned either way). */
static void read_with_text(const char *path, const char *const *cols,
                           size_t ncols) {
  ab_columns want = {cols + 1, ncols - 1, cols, 1};
  ab_table t, alone;
  char err[128];
  memset(err, 'x', sizeof err);
  int st = ab_csv_read_columns(path, &want, &t, err, sizeof err);
  FUZZ_STATUS(st);
  if (st != AB_OK) {
    FUZZ_REQUIRE(memchr(err, 0, sizeof err) != NULL, "error message NUL");
    FUZZ_REQUIRE(t.cols == 0 && t.text == NULL, "a failed read left columns");
    return;
  }
  const ab_text *x = &t.text[ncols - 1];
  FUZZ_REQUIRE(t.cols == ncols && t.data[ncols - 1] == NULL, "the text column");
  FUZZ_REQUIRE(x->count <= t.rows && x->start[0] == 0, "distinct strings");
  for (size_t k = 0; k < x->count; k++)
    FUZZ_REQUIRE(x->start[k + 1] > x->start[k] &&
                     x->chars[x->start[k + 1] - 1] == '\0',
                 "a text string is not NUL-terminated");
  for (size_t i = 0; i < t.rows; i++)
    FUZZ_REQUIRE(x->index[i] < x->count, "a text index out of range");
  st = ab_csv_read(path, cols + 1, ncols - 1, &alone, NULL, 0);
  FUZZ_REQUIRE(st == AB_OK, "numbers read with a text column fail alone");
  FUZZ_REQUIRE(alone.rows == t.rows, "rows differ with a text column");
  for (size_t j = 0; j + 1 < ncols; j++)
    FUZZ_REQUIRE(memcmp(alone.data[j], t.data[j], t.rows * sizeof(double)) == 0,
                 "numbers differ with a text column");
  ab_table_free(&alone);
  ab_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz_csv", 0);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  read_and_check(path, NULL, 0);

  /* columns named by the first line's fields (up to 4, up to 15 chars) */
  char names[4][16];
  const char *cols[4];
  size_t ncols = 0, k = 0;
  for (size_t i = 0; i < size && ncols < 4; i++) {
    char c = (char)data[i];
    if (c == '\n') break;
    if (c == ',' || c == '\t' || k == 15) {
      names[ncols][k] = 0;
      cols[ncols] = names[ncols];
      ncols++;
      k = 0;
      continue;
    }
    names[ncols][k++] = c;
  }
  if (ncols) read_and_check(path, cols, ncols);
  if (ncols >= 2) read_with_text(path, cols, ncols);
  close(fd);
  return 0;
}
