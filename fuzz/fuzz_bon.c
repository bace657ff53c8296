/* fuzz_bon.c - libFuzzer target: the best-of-n and tilt laws of the C API:
 * ab_bon_policy, ab_tilt_policy (penalty and budget modes), ab_bon_divergence
 * (every family, closed form and integral), ab_bon_win_rate,
 * ab_bon_kl_estimate, ab_bon_from_samples, with laws, n, orders, budgets
 * decoded from the input (zeros, tiny masses, huge rewards included).
 *
 * Invariants: AB_OK results are never NaN; policies are probability vectors
 * (entries in [0, 1]); KL, divergences and win rates are in range
 * (KL >= 0, win rate in [0, 1], KL of best-of-n <= log n - (n-1)/n). */
#include "fuzz.h"

FUZZ_INIT

enum { M = 12 };

/* Inputs that reproduce known defects fixed on other branches: the calls
 * run, the invariants are not asserted.  One line each; the lead empties
 * this after merging. */
static int known_defect(int which, const double *p, const double *r, size_t m,
                        double x) {
  (void)which, (void)p, (void)r, (void)m, (void)x;
  if (FUZZ_NO_KNOWN) return 0;
  return 0; /* none open */
}

/* The same for ab_bon_divergence. */
static int known_bon_divergence(const ab_family *f, double n) {
  (void)f, (void)n;
  if (FUZZ_NO_KNOWN) return 0;
  return 0; /* none open */
}

static void check_policy(int st, const double *pol, size_t m) {
  if (st != AB_OK) return;
  for (size_t i = 0; i < m; i++) FUZZ_PROB(st, pol[i], "a policy entry");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_in in = {data, size};
  double p[M], r[M], pol[M], x = NAN, y = NAN;
  int which = (int)fuzz_choice(&in, 6);
  size_t m = fuzz_size(&in, M);
  fuzz_probs(&in, p, m);
  fuzz_doubles(&in, r, m);
  x = fuzz_double(&in);
  FUZZ_LOG("case %d, x = %.17g, m = %zu\n", which, x, m);
  fuzz_log_array("probs", p, m);
  fuzz_log_array("rewards", r, m);
  fuzz_relaxed = known_defect(which, p, r, m, x);
  int st;
  switch (which) {
  case 0: {
    ab_bon_summary s;
    st = ab_bon_policy(m ? p : NULL, m ? r : NULL, m, x, pol, &s);
    FUZZ_STATUS(st);
    check_policy(st, pol, m);
    FUZZ_NONNEG(st, s.kl, "bon kl");
    FUZZ_PROB(st, s.win_rate, "bon win rate");
    FUZZ_NOT_NAN(st, s.mean, "bon mean");
    if (st == AB_OK)
      FUZZ_REQUIRE(s.kl <= s.kl_bound * (1 + 1e-9) + 1e-15, "bon kl <= log n - (n-1)/n");
    break;
  }
  case 1: {
    ab_tilt_summary s;
    int mode = fuzz_byte(&in) & 1 ? AB_TILT_KL : AB_TILT_BETA;
    FUZZ_LOG("  tilt mode %s\n", mode == AB_TILT_KL ? "kl" : "beta");
    st = ab_tilt_policy(m ? p : NULL, m ? r : NULL, m, mode, x, pol, &s);
    FUZZ_STATUS(st);
    check_policy(st, pol, m);
    FUZZ_NONNEG(st, s.kl, "tilt kl");
    FUZZ_NONNEG(st, s.gain, "tilt gain");
    FUZZ_NONNEG(st, s.beta, "tilt beta");
    FUZZ_NOT_NAN(st, s.lambda, "tilt lambda");
    FUZZ_NOT_NAN(st, s.log_z, "tilt log_z");
    break;
  }
  case 2: {
    ab_family f = {(int)fuzz_choice(&in, 8), fuzz_double(&in), NULL, NULL};
    FUZZ_LOG("  bon divergence family %d alpha %.17g\n", f.kind, f.alpha);
    fuzz_relaxed = known_bon_divergence(&f, x);
    double err = NAN;
    st = ab_bon_divergence(x, &f, fuzz_byte(&in) & 1 ? AB_NUMERIC : AB_CLOSED,
                           &y, &err);
    FUZZ_STATUS(st);
    FUZZ_NONNEG(st, y, "ab_bon_divergence");
    FUZZ_NONNEG(st, err, "ab_bon_divergence abserr");
    break;
  }
  case 3:
    st = ab_bon_win_rate(x, &y);
    FUZZ_STATUS(st);
    FUZZ_PROB(st, y, "ab_bon_win_rate");
    break;
  case 4:
    y = fuzz_double(&in);
    FUZZ_LOG("  kl_estimate n = %.17g\n", y);
    st = ab_bon_kl_estimate(x, y, &y);
    FUZZ_STATUS(st);
    FUZZ_NONNEG(st, y, "ab_bon_kl_estimate");
    break;
  default: {
    double out[M];
    size_t n = fuzz_size(&in, M);
    FUZZ_LOG("  from_samples n = %zu\n", n);
    st = ab_bon_from_samples(m ? p : NULL, m ? r : NULL, m, n, out);
    FUZZ_STATUS(st);
    if (st == AB_OK)
      for (size_t i = 0; i < (n ? 1 : m); i++)
        FUZZ_NOT_NAN(st, out[i], "ab_bon_from_samples");
    break;
  }
  }
  return 0;
}
