/* fuzz.h - shared by the libFuzzer targets in fuzz/: a reader that decodes
 * the fuzz input into choices, sizes and doubles (with the adversarial values
 * NaN, +-inf, -0, denormals, DBL_MAX and friends reachable in one byte), and
 * the invariants every target asserts on top of memory safety.
 *
 * A violated invariant calls __builtin_trap(), which libFuzzer reports as a
 * crash with the input that caused it; the FUZZ_REQUIRE message on stderr
 * says which invariant and where. */
#ifndef AB_FUZZ_H
#define AB_FUZZ_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alignbound.h"

typedef struct {
  const uint8_t *p;
  size_t n;
} fuzz_in;

/* The next byte, 0 once the input is used up (so every input is valid). */
static inline uint8_t fuzz_byte(fuzz_in *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static inline unsigned fuzz_choice(fuzz_in *in, unsigned k) {
  return k ? fuzz_byte(in) % k : 0;
}

static inline size_t fuzz_size(fuzz_in *in, size_t max) {
  return (size_t)fuzz_byte(in) % (max + 1);
}

/* A double: one byte picks a special value, a "plain" value built from the
 * next bytes, or the raw bits of the next 8 bytes. */
static inline double fuzz_double(fuzz_in *in) {
  static const double special[] = {
      0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, -1e-300, 1e300, -1e300,
      DBL_MIN, -DBL_MIN, 4.9406564584124654e-324, DBL_MAX, -DBL_MAX,
      NAN, INFINITY, -INFINITY, 1e-16, 1 - 1e-16, 1e15, 1e-320, 1e308,
      0.1, 0.3, 0.7, 0.9, 10.0, 100.0, 1e6, 1e-6, 1e12};
  enum { NSPECIAL = sizeof special / sizeof special[0] };
  uint8_t b = fuzz_byte(in);
  if (b < 2 * NSPECIAL) return special[b % NSPECIAL];
  if (b < 200) { /* mantissa byte times 10^(exponent byte) */
    int m = (int)fuzz_byte(in) - 128;
    int e = (int)(fuzz_byte(in) % 41) - 20;
    return m * pow(10.0, e) / 16;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits = bits << 8 | fuzz_byte(in);
  double x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/* A probability vector of n entries (mostly valid, sometimes not). */
static inline void fuzz_probs(fuzz_in *in, double *p, size_t n) {
  uint8_t mode = fuzz_byte(in) % 4;
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    p[i] = mode == 3 ? fuzz_double(in) : (mode == 2 ? fabs(fuzz_double(in))
                                                    : fuzz_byte(in));
    if (isfinite(p[i])) s += p[i];
  }
  if (mode < 3 && s > 0 && isfinite(s))
    for (size_t i = 0; i < n; i++) p[i] /= s;
}

static inline void fuzz_doubles(fuzz_in *in, double *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = fuzz_double(in);
}

/* With FUZZ_VERBOSE set, the harnesses print what they call (to turn a
 * crashing input into a reproducer): FUZZ_LOG("f(%.17g)", x). */
#include <stdlib.h>
#define FUZZ_LOG(...)                                                       \
  do {                                                                      \
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, __VA_ARGS__);               \
  } while (0)

static inline void fuzz_log_array(const char *name, const double *x, size_t n) {
  if (!getenv("FUZZ_VERBOSE")) return;
  fprintf(stderr, "  %s = {", name);
  for (size_t i = 0; i < n; i++) fprintf(stderr, i ? ", %.17g" : "%.17g", x[i]);
  fprintf(stderr, "}\n");
}

/* Set by a target's known_defect() for an input that reproduces a defect
 * fixed on another branch: the calls still run (memory errors are still
 * findings) but the numerical invariants are not asserted. */
static int fuzz_relaxed;
/* FUZZ_NO_KNOWN=1 in the environment empties the known-defect lists (to
 * check, after merging the fixes, that they can go). */
#define FUZZ_NO_KNOWN (getenv("FUZZ_NO_KNOWN") != NULL)

#define FUZZ_REQUIRE(cond, what)                                            \
  do {                                                                      \
    if (!fuzz_relaxed && !(cond)) {                                                          \
      fprintf(stderr, "FUZZ_REQUIRE %s:%d: %s: %s\n", __FILE__, __LINE__,   \
              what, #cond);                                                 \
      __builtin_trap();                                                     \
    }                                                                       \
  } while (0)

/* A status is one of the documented codes (ab_strerror knows it). */
#define FUZZ_STATUS(st)                                                     \
  FUZZ_REQUIRE((st) >= AB_OK && strcmp(ab_strerror(st), "unknown status"), \
               "status")
/* A function that returned AB_OK never yields NaN. */
#define FUZZ_NOT_NAN(st, x, what) \
  FUZZ_VALUE((st) != AB_OK || !isnan(x), x, what " is NaN after AB_OK")
/* A quantity that is >= 0 by its mathematics (divergence, bound, KL). */
#define FUZZ_NONNEG(st, x, what) \
  FUZZ_VALUE((st) != AB_OK || (x) >= 0, x, what " is negative or NaN")
/* A probability. */
#define FUZZ_PROB(st, x, what) \
  FUZZ_VALUE((st) != AB_OK || ((x) >= 0 && (x) <= 1), x, what " outside [0, 1]")
#define FUZZ_VALUE(cond, x, what)                                           \
  do {                                                                      \
    if (!fuzz_relaxed && !(cond))                                           \
      fprintf(stderr, "FUZZ_REQUIRE value %.17g\n", (double)(x));          \
    FUZZ_REQUIRE(cond, what);                                               \
  } while (0)

/* ab_init once per process: libFuzzer's LLVMFuzzerInitialize. */
#define FUZZ_INIT                                                           \
  int LLVMFuzzerInitialize(int *argc, char ***argv) {                       \
    (void)argc;                                                             \
    (void)argv;                                                             \
    ab_init();                                                              \
    return 0;                                                               \
  }

#endif
