/* fuzz_csv.c - libFuzzer target: ab_csv_read on the input as a file (an
 * anonymous memfd, read through /proc/self/fd, since the reader takes a
 * path), once for every column and once for a column list taken from the
 * input's first line.
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
  close(fd);
  return 0;
}
