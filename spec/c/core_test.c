/* core_test.c - the core API called directly, with no Lua at all. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "alignbound.h"
#include "check.h"

static int user_quadratic(void *ctx, double l, double *psi) {
  *psi = *(double *)ctx * l * l / 2;
  return 0;
}

static int user_failing(void *ctx, double l, double *psi) {
  (void)ctx;
  (void)l;
  (void)psi;
  return 1;
}

static void test_status(void) {
  CHECK(strcmp(ab_strerror(AB_OK), "success") == 0);
  CHECK(strcmp(ab_strerror(AB_EDOM), "argument out of domain") == 0);
  CHECK(strcmp(ab_strerror(12345), "unknown status") == 0);
  CHECK(strcmp(ab_version(), AB_VERSION) == 0);
}

static void test_closed_forms(void) {
  ab_tail *t;
  double g, n, lam, d, psi;
  CHECK(ab_tail_subgaussian(2.0, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.5, &g) == AB_OK);
  CHECK_CLOSE(g, sqrt(2.0), 1e-15);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_NUMERIC, 0.5, &n) == AB_OK);
  CHECK_CLOSE(n, g, 1e-12);
  /* tilting identity through the public API */
  CHECK(ab_tail_tilt(t, AB_GAIN, 0.5, &lam) == AB_OK);
  CHECK(ab_tail_cumulant_eval(t, 1, lam, &d) == AB_OK);
  CHECK(ab_tail_cumulant_eval(t, 0, lam, &psi) == AB_OK);
  CHECK_CLOSE(lam * d - psi, 0.5, 1e-12);
  CHECK(ab_tail_kl_needed(t, AB_GAIN, AB_CLOSED, g, &n) == AB_OK);
  CHECK_CLOSE(n, 0.5, 1e-15);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, -1.0, &g) == AB_EDOM);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, NAN, &g) == AB_EDOM);
  CHECK(ab_tail_bound(t, 7, AB_CLOSED, 1.0, &g) == AB_EDOM);
  ab_tail_free(t);

  CHECK(ab_tail_subgamma(1.0, 0.5, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_LOSS, AB_CLOSED, 1.0, &g) == AB_EUNDEF);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 2.0, &g) == AB_OK);
  CHECK_CLOSE(g, 2.0 + 1.0, 1e-15);
  ab_tail_free(t);
  ab_tail_free(NULL);
}

static void test_constructors_reject(void) {
  ab_tail *t = NULL;
  double v[2] = {0, 1}, p[2] = {0.5, 0.6}, bad[2] = {0.5, NAN};
  CHECK(ab_tail_subgaussian(-1, &t) == AB_EDOM);
  CHECK(ab_tail_subgaussian(INFINITY, &t) == AB_EDOM);
  CHECK(ab_tail_gaussian(0, 0, &t) == AB_EDOM);
  CHECK(ab_tail_uniform(1, 1, &t) == AB_EDOM);
  CHECK(ab_tail_bernoulli(NAN, &t) == AB_EDOM);
  CHECK(ab_tail_beta(1, -1, &t) == AB_EDOM);
  CHECK(ab_tail_bounded_mean(0, 1, 2, &t) == AB_EDOM);
  CHECK(ab_tail_discrete(v, p, 2, &t) == AB_EDOM);
  CHECK(ab_tail_discrete(v, bad, 2, &t) == AB_EDOM);
  CHECK(ab_tail_discrete(v, NULL, 0, &t) == AB_EDOM);
  CHECK(ab_tail_discrete(NULL, NULL, 3, &t) == AB_EDOM);
  CHECK(ab_tail_cumulant(NULL, NULL, 1, &t) == AB_EDOM);
  CHECK(t == NULL);
}

static void test_discrete_and_vectors(void) {
  ab_tail *t;
  double v[3] = {0, 1, 3}, p[3] = {0.5, 0.3, 0.2};
  double kl[4] = {0.1, 1.0, -1.0, 2.0}, out[4];
  size_t at = 99;
  CHECK(ab_tail_discrete(v, p, 3, &t) == AB_OK);
  CHECK_CLOSE(ab_tail_mean(t), 0.9, 1e-15);
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, 4, out, &at) == AB_EDOM);
  CHECK(at == 2);
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, 2, out, &at) == AB_OK);
  CHECK(out[0] > 0 && out[1] > out[0] && out[1] < 3 - 0.9);
  /* saturation at the top atom: kl >= -log 0.2 */
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 1.7, &out[2]) == AB_OK);
  CHECK_CLOSE(out[2], 3 - 0.9, 1e-15);
  char small[8];
  int len = ab_tail_describe(t, small, sizeof small);
  CHECK(len > 8 && strlen(small) == 7);
  ab_tail_free(t);
}

static void test_user_cumulant(void) {
  ab_tail *t;
  double s2 = 3.0, g;
  CHECK(ab_tail_cumulant(user_quadratic, &s2, INFINITY, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.7, &g) == AB_OK);
  CHECK_CLOSE(g, sqrt(2 * 3.0 * 0.7), 1e-10);
  CHECK(ab_tail_bound(t, AB_LOSS, AB_CLOSED, 0.7, &g) == AB_EUNDEF);
  ab_tail_free(t);
  CHECK(ab_tail_cumulant(user_failing, NULL, INFINITY, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.7, &g) == AB_EFUNC);
  CHECK(ab_tail_kl_needed(t, AB_GAIN, AB_CLOSED, 0.7, &g) == AB_EFUNC);
  CHECK(ab_tail_variance_proxy(t, AB_CLOSED, &g) == AB_EFUNC);
  ab_tail_free(t);
}

/* Two threads share one immutable tail and must agree with a serial run. */
typedef struct {
  const ab_tail *t;
  double out[64];
  int status;
} job;

static void *work(void *arg) {
  job *j = arg;
  for (int i = 0; i < 64 && !j->status; i++)
    j->status = ab_tail_bound(j->t, AB_GAIN, AB_CLOSED, 0.01 * (i + 1), &j->out[i]);
  return NULL;
}

static void test_threads(void) {
  ab_tail *t;
  CHECK(ab_tail_gumbel(0, 1, &t) == AB_OK);
  job a = {t, {0}, 0}, b = {t, {0}, 0}, serial = {t, {0}, 0};
  pthread_t ta, tb;
  CHECK(pthread_create(&ta, NULL, work, &a) == 0);
  CHECK(pthread_create(&tb, NULL, work, &b) == 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  work(&serial);
  CHECK(a.status == AB_OK && b.status == AB_OK);
  CHECK(memcmp(a.out, serial.out, sizeof a.out) == 0);
  CHECK(memcmp(b.out, serial.out, sizeof b.out) == 0);
  ab_tail_free(t);
}

static int f_failing(void *ctx, double t, double *f) {
  (void)ctx;
  (void)t;
  (void)f;
  return 1;
}

static void test_divergences_and_bon(void) {
  ab_family kl = {AB_KL, 0, NULL, NULL}, bad = {AB_RENYI, -1, NULL, NULL};
  ab_family user = {AB_USER, 0, f_failing, NULL}, nouser = {AB_USER, 0, NULL,
                                                            NULL};
  double p[3] = {0.2, 0.3, 0.5}, q[3] = {0.5, 0.3, 0.2}, d, e;
  CHECK(ab_divergence(p, q, 3, &kl, &d) == AB_OK);
  CHECK_CLOSE(d, 0.2 * log(0.4) + 0.5 * log(2.5), 1e-14);
  CHECK(ab_divergence(p, q, 3, &bad, &d) == AB_EDOM);
  CHECK(ab_divergence(p, q, 3, &nouser, &d) == AB_EDOM);
  CHECK(ab_divergence(p, q, 3, &user, &d) == AB_EFUNC);
  CHECK(ab_divergence(p, q, 0, &kl, &d) == AB_EDOM);
  CHECK(ab_bon_divergence(16, &kl, AB_CLOSED, &d, &e) == AB_OK);
  CHECK_CLOSE(d, log(16.0) - 15.0 / 16.0, 1e-15);
  CHECK(e == 0.0);
  CHECK(ab_bon_divergence(16, &kl, AB_NUMERIC, &e, NULL) == AB_OK);
  CHECK_CLOSE(e, d, 1e-12);
  CHECK(ab_bon_divergence(0.5, &kl, AB_CLOSED, &d, NULL) == AB_EDOM);
  CHECK(ab_bon_divergence(4, &user, AB_CLOSED, &d, NULL) == AB_EFUNC);
  CHECK(ab_bon_win_rate(3, &d) == AB_OK && d == 0.75);
  CHECK(ab_bon_kl_estimate(2, 4, &d) == AB_EDOM);

  double probs[4] = {0.25, 0.25, 0.25, 0.25}, rewards[4] = {4, 3, 2, 1};
  double law[4];
  ab_bon_summary s;
  CHECK(ab_bon_policy(probs, rewards, 4, 2, law, &s) == AB_OK);
  CHECK_CLOSE(law[0], 7.0 / 16.0, 1e-15);
  CHECK_CLOSE(law[3], 1.0 / 16.0, 1e-15);
  CHECK(s.kl <= s.kl_bound && s.kl > 0);
  CHECK(ab_bon_policy(probs, rewards, 4, 0.5, law, &s) == AB_EDOM);

  double scores[4] = {1, 2, 3, 4}, out[4];
  CHECK(ab_bon_from_samples(scores, rewards, 4, 0, out) == AB_OK);
  CHECK_CLOSE(out[3], rewards[3], 1e-15); /* the best of all 4 by score */
  CHECK(ab_bon_from_samples(scores, rewards, 4, 5, out) == AB_EDOM);

  ab_tail *t;
  CHECK(ab_tail_subgaussian(1, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 4, AB_CLOSED, &d) == AB_EUNDEF);
  int cert = 0;
  CHECK(ab_bon_gain(t, 4, &d, &cert) == AB_OK);
  CHECK(cert == AB_CERT_KL && strcmp(ab_certificate_name(cert), "kl") == 0);
  ab_tail_free(t);
}

static void test_tilt_sample_estimate_csv(void) {
  double p[3] = {0.5, 0.3, 0.2}, r[3] = {0, 1, 2}, pol[3];
  ab_tilt_summary ts;
  CHECK(ab_tilt_policy(p, r, 3, AB_TILT_KL, 0.3, pol, &ts) == AB_OK);
  CHECK_CLOSE(ts.kl, 0.3, 1e-10);
  CHECK(ab_tilt_policy(p, r, 3, AB_TILT_BETA, 0.0, pol, &ts) == AB_EDOM);
  CHECK(ab_tilt_policy(p, r, 3, 7, 1.0, pol, &ts) == AB_EDOM);

  ab_rng *a, *b;
  CHECK(ab_rng_new(5, 1, &a) == AB_OK && ab_rng_new(5, 1, &b) == AB_OK);
  double u = ab_rng_uniform(a);
  CHECK(u == ab_rng_uniform(b) && u > 0 && u < 1);
  ab_tail *t;
  double x[64], m, se;
  CHECK(ab_tail_subgaussian(1, &t) == AB_OK);
  CHECK(ab_tail_sample(t, a, 64, x) == AB_EUNDEF);
  CHECK(ab_bon_sample(t, 4, a, 64, x) == AB_EUNDEF);
  ab_tail_free(t);
  CHECK(ab_tail_uniform(0, 1, &t) == AB_OK);
  CHECK(ab_bon_sample(t, 1e12, a, 64, x) == AB_OK);
  for (int i = 0; i < 64; i++) CHECK(x[i] > 0.999 && x[i] <= 1.0);
  CHECK(ab_estimate_mean(x, 64, &m, &se) == AB_OK && se >= 0);
  ab_tail_free(t);
  ab_rng_free(a);
  ab_rng_free(b);
  ab_rng_free(NULL);
  CHECK(ab_estimate_mean(x, 0, &m, &se) == AB_EDOM);
  CHECK(ab_estimate_kl(x, x, 64, 9, &m, &se) == AB_EDOM);
  CHECK(ab_estimate_renyi(x, x, 64, -1, &m, &se) == AB_EDOM);

  char path[] = "/tmp/alignbound_csv_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("a,b\n1,2\n3,oops\n", f);
  fclose(f);
  ab_table tab;
  CHECK(ab_csv_read(path, NULL, 0, &tab, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":3: column 2 ('b')") != NULL);
  f = fopen(path, "w");
  fputs("a\tb\r\n1\t2\r\n\r\n3\t4\r\n", f);
  fclose(f);
  const char *cols[1] = {"b"};
  CHECK(ab_csv_read(path, cols, 1, &tab, err, sizeof err) == AB_OK);
  CHECK(tab.rows == 2 && tab.cols == 1 && tab.data[0][1] == 4.0);
  ab_table_free(&tab);
  remove(path);
  CHECK(ab_csv_read(path, NULL, 0, &tab, err, sizeof err) == AB_EIO);
}

/* Issue 9 reproducers at the core API: NaN, -0 and lost digits in the
 * best-of-n law, the tilt and the closed forms (exact values from mpmath). */
static void test_issue9_bon_tilt(void) {
  double law[3], pol[3], d;
  ab_bon_summary s;
  ab_tilt_summary ts;
  /* a zero-probability atom: no NaN; the law is {0, 1} */
  double p0[2] = {0, 1}, r0[2] = {0, 1};
  CHECK(ab_bon_policy(p0, r0, 2, 2, law, &s) == AB_OK);
  CHECK(law[0] == 0 && !signbit(law[0]) && law[1] == 1);
  CHECK(s.win_rate == 0.5 && s.mean == 1 && s.kl == 0);
  /* entries far below one ulp of 1 */
  double p1[3] = {0.1, 0.2, 0.7}, r1[3] = {0, 1, 2};
  CHECK(ab_bon_policy(p1, r1, 3, 32, law, &s) == AB_OK);
  CHECK_CLOSE(law[0], 1.0000000000000027e-32, 1e-13);
  CHECK_CLOSE(law[1], 1.8530201888518449e-17, 1e-13);
  double p2[3] = {0.3, 1e-20, 0.7};
  CHECK(ab_bon_policy(p2, r1, 3, 2, law, &s) == AB_OK);
  CHECK_CLOSE(law[1], 6.0000000000000001e-21, 1e-13);
  double p3[3] = {1e-20, 1e-20, 1};
  CHECK(ab_bon_policy(p3, r1, 3, 2, law, &s) == AB_OK);
  CHECK_CLOSE(law[1], 2.9999999999999997e-40, 1e-13);
  CHECK_CLOSE(s.kl, 1.9999999999999999e-20, 1e-13);
  /* the tilt: an entry near 1e-167, a tilt that barely moves the law */
  double t1[3] = {1e-300, 1, 1e-10}, tr1[3] = {1, 0, -0.5};
  CHECK(ab_tilt_policy(t1, tr1, 3, AB_TILT_BETA, 1.0 / 700, pol, &ts) == AB_OK);
  CHECK_CLOSE(pol[2], 9.7892897596133724e-167, 1e-13);
  double t2[2] = {1 - 1e-12, 1e-12}, tr2[2] = {0, 1};
  CHECK(ab_tilt_policy(t2, tr2, 2, AB_TILT_BETA, 1.0, pol, &ts) == AB_OK);
  CHECK_CLOSE(ts.kl, 9.9999999999680543e-13, 1e-13);
  CHECK_CLOSE(ts.gain, 1.7182818284543744e-12, 1e-13);
  double t3[2] = {0.5, 0.5}, tr3[2] = {-1e308, 1e308};
  CHECK(ab_tilt_policy(t3, tr3, 2, AB_TILT_BETA, INFINITY, pol, &ts) == AB_OK);
  CHECK(pol[0] == 0.5 && pol[1] == 0.5 && ts.kl == 0 && ts.gain == 0);
  /* closed forms at extreme n and orders */
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, alpha = {AB_ALPHA, 1e300, NULL,
                                                      NULL};
  CHECK(ab_bon_divergence(1e308, &chi2, AB_CLOSED, &d, NULL) == AB_OK);
  CHECK_CLOSE(d, 5e307, 1e-15);
  CHECK(ab_bon_divergence(2, &alpha, AB_CLOSED, &d, NULL) == AB_OK);
  CHECK(d == INFINITY);
  /* the KL estimate stays in [0, log n - (n-1)/n] */
  ab_family kl = {AB_KL, 1, NULL, NULL};
  double top;
  CHECK(ab_bon_divergence(1 + 1e-12, &kl, AB_CLOSED, &top, NULL) == AB_OK);
  CHECK(ab_bon_kl_estimate(0.1, 1 + 1e-12, &d) == AB_OK);
  CHECK(d > 0 && d <= top);
  CHECK_CLOSE(d, 5.0004266848218e-25, 1e-12);
}

int main(void) {
  ab_init();
  test_status();
  test_closed_forms();
  test_constructors_reject();
  test_discrete_and_vectors();
  test_user_cumulant();
  test_threads();
  test_divergences_and_bon();
  test_tilt_sample_estimate_csv();
  test_issue9_bon_tilt();
  return check_report("core_test");
}
