/* fuzz_jsonl.c - libFuzzer target: ab_jsonl_read on the input as a file (an
 * anonymous memfd, read through /proc/self/fd), for numeric fields "a" and
 * "b.c" (a dotted path) and the text field "id".
 *
 * Invariants: the status is a documented code; on AB_OK every number is
 * finite, the text column is well formed (indices in range, strings
 * NUL-terminated) and ab_table_free releases it all (ASan's leak check); on
 * failure nothing is returned and the message is NUL-terminated. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz_jsonl", 0);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  const char *numbers[2] = {"a", "b.c"}, *text[1] = {"id"};
  ab_columns want = {numbers, 2, text, 1};
  ab_table t;
  char err[128];
  memset(err, 'x', sizeof err);
  int st = ab_jsonl_read(path, &want, &t, err, sizeof err);
  FUZZ_STATUS(st);
  if (st != AB_OK) {
    FUZZ_REQUIRE(memchr(err, 0, sizeof err) != NULL, "error message NUL");
    FUZZ_REQUIRE(t.cols == 0 && t.data == NULL, "a failed read left columns");
  } else {
    FUZZ_REQUIRE(t.cols == 3 && t.data[2] == NULL, "the columns");
    for (size_t j = 0; j < 2; j++)
      for (size_t i = 0; i < t.rows; i++)
        FUZZ_REQUIRE(isfinite(t.data[j][i]), "a value read is not finite");
    const ab_text *x = &t.text[2];
    FUZZ_REQUIRE(x->count <= t.rows, "distinct strings");
    for (size_t k = 0; k < x->count; k++)
      FUZZ_REQUIRE(x->start[k + 1] > x->start[k] &&
                       x->chars[x->start[k + 1] - 1] == '\0',
                   "a text string is not NUL-terminated");
    for (size_t i = 0; i < t.rows; i++)
      FUZZ_REQUIRE(x->index[i] < x->count, "a text index out of range");
    ab_table_free(&t);
  }
  close(fd);
  return 0;
}
