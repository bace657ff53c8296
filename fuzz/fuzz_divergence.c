/* fuzz_divergence.c - libFuzzer target: ab_divergence between two laws of
 * up to 16 outcomes for every family (user f included), ab_f_eval and
 * ab_family_check, with orders and masses decoded from the input.
 *
 * Invariants: AB_OK results are never NaN; every divergence is >= 0; total
 * variation and Hellinger are <= 1; Jensen-Shannon <= log 2 (with a little
 * rounding room); f(1) = 0 for the built-in families. */
#include "fuzz.h"

FUZZ_INIT

static int user_f(void *ctx, double t, double *f) {
  switch (*(const int *)ctx) {
  case 0: *f = (t - 1) * (t - 1); return 0; /* chi2 */
  case 1: *f = NAN; return 0;
  case 2: return 1;
  default: *f = t * log(t > 0 ? t : 1); return 0;
  }
}

/* Inputs that reproduce known defects fixed on other branches: the calls
 * run, the invariants are not asserted.  One line each; the lead empties
 * this after merging. */
static int known_defect(const ab_family *f, double t) {
  (void)f, (void)t;
  if (FUZZ_NO_KNOWN) return 0;
  return 0; /* none open */
}

/* The same, for the divergence between p and q. */
static int known_divergence(const ab_family *f, const double *p,
                            const double *q, size_t n) {
  (void)f, (void)p, (void)q, (void)n;
  if (FUZZ_NO_KNOWN) return 0;
  return 0; /* none open */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_in in = {data, size};
  int mode = (int)fuzz_choice(&in, 4);
  ab_family f = {(int)fuzz_choice(&in, 10), fuzz_double(&in), user_f, &mode};
  if (f.kind == 9) f.fn = NULL; /* AB_USER without a function */
  if (f.kind == 9) f.kind = AB_USER;
  int ok = ab_family_check(&f) == AB_OK;
  double y = NAN, t = fuzz_double(&in);
  fuzz_relaxed = known_defect(&f, t);
  int st;

  if (ok && f.kind != AB_RENYI && f.kind != AB_USER) {
    st = ab_f_eval(&f, 1.0, &y);
    FUZZ_STATUS(st);
    FUZZ_REQUIRE(st != AB_OK || fabs(y) <= 1e-12, "f(1) = 0");
  }
  FUZZ_LOG("family kind %d alpha %.17g user-f mode %d; f(%.17g)\n", f.kind,
           f.alpha, mode, t);
  st = ab_f_eval(&f, t, &y);
  FUZZ_STATUS(st);
  FUZZ_NOT_NAN(st, y, "ab_f_eval");

  double p[16], q[16];
  size_t n = fuzz_size(&in, 16);
  fuzz_probs(&in, p, n);
  fuzz_probs(&in, q, n);
  fuzz_log_array("p", p, n);
  fuzz_log_array("q", q, n);
  fuzz_relaxed |= known_divergence(&f, p, q, n);
  st = ab_divergence(n ? p : NULL, n ? q : NULL, n, &f, &y);
  FUZZ_STATUS(st);
  if (!ok) FUZZ_REQUIRE(st != AB_OK, "an invalid family is rejected");
  /* (a user f is trusted: its rounding may give -1e-16 for P ~ Q) */
  if (f.kind == AB_USER) FUZZ_NOT_NAN(st, y, "ab_divergence");
  else FUZZ_NONNEG(st, y, "ab_divergence");
  if (st == AB_OK && (f.kind == AB_TV || f.kind == AB_HELLINGER))
    FUZZ_REQUIRE(y <= 1 + 1e-12, "tv and hellinger are at most 1");
  if (st == AB_OK && f.kind == AB_JS)
    FUZZ_REQUIRE(y <= log(2.0) * (1 + 1e-12), "js is at most log 2");
  /* D(P || P) = 0 */
  st = ab_divergence(n ? p : NULL, n ? p : NULL, n, &f, &y);
  FUZZ_STATUS(st);
  if (st == AB_OK && f.kind != AB_USER)
    FUZZ_REQUIRE(y <= 1e-12, "D(P || P) = 0");
  return 0;
}
