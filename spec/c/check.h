/* check.h - a minimal test harness for the C-level tests. */
#ifndef AB_CHECK_H
#define AB_CHECK_H
#include <math.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) check_passed++;                                                \
    else {                                                                   \
      check_failed++;                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

/* |a - b| <= tol |b| */
#define CHECK_CLOSE(a, b, tol)                                               \
  do {                                                                       \
    double a_ = (a), b_ = (b);                                               \
    if (fabs(a_ - b_) <= (tol) * fabs(b_)) check_passed++;                   \
    else {                                                                   \
      check_failed++;                                                        \
      fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g\n", __FILE__,       \
              __LINE__, #a, a_, b_);                                         \
    }                                                                        \
  } while (0)

static int check_report(const char *name) {
  printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
  return check_failed ? 1 : 0;
}
#endif
