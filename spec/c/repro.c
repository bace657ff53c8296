/* repro.c - a fixed table of results, each printed exactly (%a), for make
 * test-repro (spec/c/repro_test.sh): the same table must come out bit for
 * bit from every compiler and flag set it is built with.  Bounds, KL
 * needed, tilts and cumulants of every law, best-of-n divergences (closed
 * forms and integrals), tilt divergences and the best-of-n/tilt comparison,
 * best-of-n gains, and a few draws.  A failing call prints its status. */
#include <stdio.h>

#include "alignbound.h"

static int rows;

static void put(const char *what, const char *tail, double x, int st) {
  if (st)
    printf("%d %s %s: status %d\n", rows, what, tail, st);
  else
    printf("%d %s %s: %a\n", rows, what, tail, x);
  rows++;
}

/* One row: the call sets x (declared by the macro) and returns a status;
 * the call runs before x is read. */
#define ROW(what, name, call)   \
  do {                          \
    double x = 0;               \
    int st_ = (call);           \
    put(what, name, x, st_);    \
  } while (0)

static const double KL[] = {1e-9, 1e-3, 0.05, 0.3, 1.0, 4.0, 30.0};
#define NKL (sizeof KL / sizeof KL[0])

static void tail_rows(const char *name, ab_tail *t) {
  for (size_t i = 0; i < NKL; i++) {
    ROW("bound+", name, ab_tail_bound(t, AB_GAIN, AB_CLOSED, KL[i], &x));
    ROW("bound-", name, ab_tail_bound(t, AB_LOSS, AB_CLOSED, KL[i], &x));
    ROW("tilt", name, ab_tail_tilt(t, AB_GAIN, KL[i], &x));
    ROW("kl_needed", name, ab_tail_kl_needed(t, AB_GAIN, AB_CLOSED, KL[i], &x));
    ROW("psi", name, ab_tail_cumulant_eval(t, 0, KL[i] / 4, &x));
  }
  ROW("bound+ numeric", name, ab_tail_bound(t, AB_GAIN, AB_NUMERIC, 0.2, &x));
  ROW("variance proxy", name, ab_tail_variance_proxy(t, AB_CLOSED, &x));
  put("mean", name, ab_tail_mean(t), AB_OK);
  static const double N[] = {2, 16, 1000};
  for (size_t i = 0; i < 3; i++) {
    ab_bon_tilt c = {0, 0, 0, 0, 0};
    int st = ab_tilt_compare_bon(t, N[i], &c);
    put("bon/tilt kl", name, c.kl, st);
    put("bon/tilt bon_gain", name, c.bon_gain, st);
    put("bon/tilt tilt_gain", name, c.tilt_gain, st);
    put("bon/tilt kl_bon_tilt", name, c.kl_bon_tilt, st);
    ROW("bon expected gain", name, ab_bon_expected_gain(t, N[i], AB_CLOSED, &x));
  }
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, hel = {AB_HELLINGER, 0, NULL, NULL};
  ROW("tilt chi2", name, ab_tail_tilt_divergence(t, 0.3, &chi2, &x));
  ROW("tilt hellinger", name, ab_tail_tilt_divergence(t, 0.3, &hel, &x));
}

static void laws(void) {
  static const double V[] = {-1.5, 0, 0.25, 2, 7};
  static const double P[] = {0.1, 0.2, 0.3, 0.25, 0.15};
  struct {
    const char *name;
    int st;
    ab_tail *t;
  } ts[17];
  int n = 0;
#define TAIL(nm, call) (ts[n].name = nm, ts[n].t = NULL, ts[n].st = call, n++)
  TAIL("subgaussian", ab_tail_subgaussian(2.5, &ts[n].t));
  TAIL("subgamma", ab_tail_subgamma(1.5, 0.7, &ts[n].t));
  TAIL("subexponential", ab_tail_subexponential(1.2, 0.4, &ts[n].t));
  TAIL("bounded", ab_tail_bounded(-1, 3, &ts[n].t));
  TAIL("bounded_mean", ab_tail_bounded_mean(0, 1, 0.2, &ts[n].t));
  TAIL("gaussian", ab_tail_gaussian(0.5, 1.7, &ts[n].t));
  TAIL("uniform", ab_tail_uniform(-1, 2, &ts[n].t));
  TAIL("bernoulli", ab_tail_bernoulli(0.3, &ts[n].t));
  TAIL("exponential", ab_tail_exponential(1.3, &ts[n].t));
  TAIL("gamma", ab_tail_gamma(2.5, 0.8, &ts[n].t));
  TAIL("gumbel", ab_tail_gumbel(1, 0.3, &ts[n].t));
  TAIL("gumbel2", ab_tail_gumbel(-2, 3, &ts[n].t));
  TAIL("logistic", ab_tail_logistic(0, 1.1, &ts[n].t));
  TAIL("beta", ab_tail_beta(2, 3, &ts[n].t));
  TAIL("beta_small", ab_tail_beta(0.5, 0.7, &ts[n].t));
  TAIL("beta_large", ab_tail_beta(40, 3, &ts[n].t));
  TAIL("discrete", ab_tail_discrete(V, P, 5, &ts[n].t));
#undef TAIL
  for (int i = 0; i < n; i++) {
    put("construct", ts[i].name, 0, ts[i].st);
    if (!ts[i].st) tail_rows(ts[i].name, ts[i].t);
    ab_tail_free(ts[i].t);
  }
}

static void bon_divergences(void) {
  static const double N[] = {1.5, 2, 16, 1000, 1e9};
  static const int K[] = {AB_KL, AB_REVERSE_KL, AB_CHI2, AB_HELLINGER,
                          AB_TV, AB_JS, AB_ALPHA, AB_RENYI};
  static const char *const KN[] = {"kl", "reverse_kl", "chi2", "hellinger",
                                   "tv", "js", "alpha0.5", "renyi2"};
  for (size_t k = 0; k < sizeof K / sizeof K[0]; k++) {
    ab_family f = {K[k], K[k] == AB_ALPHA ? 0.5 : 2.0, NULL, NULL};
    for (size_t i = 0; i < sizeof N / sizeof N[0]; i++) {
      char name[64];
      snprintf(name, sizeof name, "%s n=%g", KN[k], N[i]);
      ROW("bon closed", name, ab_bon_divergence(N[i], &f, AB_CLOSED, &x, NULL));
      ROW("bon numeric", name,
          ab_bon_divergence(N[i], &f, AB_NUMERIC, &x, NULL));
    }
  }
}

static void draws(void) {
  ab_tail *b, *g;
  ab_rng *r;
  double d[8] = {0};
  if (ab_tail_beta(2, 5, &b) || ab_tail_gumbel(0, 2, &g)) return;
  if (ab_rng_new(2026, 1, &r) == AB_OK) {
    int st = ab_tail_sample(b, r, 8, d);
    for (int i = 0; i < 8; i++) put("draw beta", "", d[i], st);
    st = ab_tilt_sample(g, 0.2, r, 8, d);
    for (int i = 0; i < 8; i++) put("draw gumbel tilt", "", d[i], st);
    ab_rng_free(r);
  }
  ab_tail_free(b);
  ab_tail_free(g);
}

int main(void) {
  ab_init();
  laws();
  bon_divergences();
  draws();
  fprintf(stderr, "repro: %d rows\n", rows);
  return 0;
}
