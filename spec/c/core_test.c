/* core_test.c - the core API called directly, with no Lua at all. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

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

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A repeated column name that is read is an error naming it (it used to
 * leave one output column unwritten); one that is not read is no harm. */
static void test_csv_repeated_names(void) {
  char path[] = "/tmp/alignbound_csv_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  ab_table tab;
  write_file(path, "a,b,a\n1,2,3\n4,5,6\n");
  err[0] = '\0';
  CHECK(ab_csv_read(path, NULL, 0, &tab, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, "column name 'a' repeated (columns 1 and 3)") != NULL);
  CHECK(tab.cols == 0 && tab.data == NULL);
  const char *a[1] = {"a"}, *b[1] = {"b"}, *bab[3] = {"b", "a", "b"};
  CHECK(ab_csv_read(path, a, 1, &tab, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, "column name 'a' repeated") != NULL);
  CHECK(ab_csv_read(path, b, 1, &tab, err, sizeof err) == AB_OK);
  CHECK(tab.rows == 2 && tab.cols == 1 && tab.data[0][0] == 2.0 &&
        tab.data[0][1] == 5.0);
  ab_table_free(&tab);
  write_file(path, "a,b\n1,2\n");
  CHECK(ab_csv_read(path, bab, 3, &tab, err, sizeof err) == AB_EDOM);
  CHECK(strstr(err, "column 'b' requested twice") != NULL);
  remove(path);
}

/* Divergences between discrete laws with extreme masses (issue 9): finite
 * where the exact value is, +inf where it is infinite, never NaN.
 * References by mpmath (50 digits) from the exact doubles. */
static void test_divergence_extremes(void) {
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, kl = {AB_KL, 0, NULL, NULL};
  ab_family rkl = {AB_REVERSE_KL, 0, NULL, NULL};
  ab_family neg = {AB_ALPHA, -1.0, NULL, NULL};
  double half[2] = {0.5, 0.5}, q1[2] = {1 - 1e-300, 1e-300};
  double q2[2] = {1.0, 5e-324}, one[2] = {1.0, 0.0}, d;
  CHECK(ab_divergence(half, q1, 2, &chi2, &d) == AB_OK);
  CHECK_CLOSE(d, 2.4999999999999999e+299, 1e-13);
  CHECK(ab_divergence(half, q2, 2, &kl, &d) == AB_OK);
  CHECK_CLOSE(d, 371.52688878013069, 1e-13);
  CHECK(ab_divergence(one, half, 2, &rkl, &d) == AB_OK && d == INFINITY);
  CHECK(ab_divergence(one, half, 2, &neg, &d) == AB_OK && d == INFINITY);
}

/* Out of memory while reading is AB_ENOMEM, not AB_EIO.  Under libc's
 * allocator (no hook set), a child process reads a large sparse file under
 * an address-space limit a few MB above its current size: the file opens a
 * quoted field that never closes, so the streaming reader's buffer must grow
 * to hold the one record.  Skipped under
 * AddressSanitizer and valgrind, whose allocators do not return NULL. */
#if defined(__SANITIZE_ADDRESS__)
#define AB_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AB_TEST_ASAN 1
#endif
#endif

static int under_valgrind(void) {
  const char *pre = getenv("LD_PRELOAD");
  return pre && strstr(pre, "vgpreload") != NULL;
}

static void test_csv_out_of_memory(void) {
#ifdef AB_TEST_ASAN
  printf("core_test: csv out-of-memory test skipped under AddressSanitizer\n");
#else
  if (under_valgrind()) {
    printf("core_test: csv out-of-memory test skipped under valgrind\n");
    return;
  }
  char path[] = "/tmp/alignbound_big_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  /* one quoted field of 48 MB, longer than the limit below lets the
   * buffer grow to (a file of NULs, written by ftruncate with no disk
   * used, is now an error at the first NUL) */
  CHECK(write(fd, "a\n\"", 3) == 3);
  static char xs[1 << 16];
  memset(xs, 'x', sizeof xs);
  int wrote = 1;
  for (int k = 0; k < 768; k++)
    wrote &= write(fd, xs, sizeof xs) == (ssize_t)sizeof xs;
  CHECK(wrote);
  close(fd);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld", &pages) != 1) _exit(3);
    fclose(f);
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max =
        (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)32 << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    ab_table tab;
    char err[256];
    int st = ab_csv_read(path, NULL, 0, &tab, err, sizeof err);
    if (st == AB_ENOMEM && strstr(err, "out of memory")) _exit(0);
    fprintf(stderr, "csv under a memory limit: status %d (%s): %s\n", st,
            ab_strerror(st), err);
    _exit(st == AB_OK ? 2 : 1);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  remove(path);
#endif
}

/* Proxy to golden: error routes, the jointly Gaussian model, logged pairs,
 * and the additive Monte Carlo's reproducibility. */
static void test_golden(void) {
  ab_error_model b = {AB_ERROR_BOUNDED, 0.1}, bad = {AB_ERROR_VARIANCE, -1.0};
  ab_divergences d = {0.08, NAN, 0.3};
  double lo, hi;
  int route;
  CHECK(ab_error_golden(&b, 1.0, &d, &lo, &hi, &route) == AB_OK);
  CHECK(route == AB_ROUTE_KL); /* 2 eps sqrt(kl/2) = 0.04 < 2 eps tv = 0.06 */
  CHECK_CLOSE(hi, 1.04, 1e-15);
  CHECK_CLOSE(lo, 0.96, 1e-15);
  CHECK(strcmp(ab_route_name(route), "kl") == 0);
  CHECK(ab_error_golden(&bad, 1.0, &d, &lo, &hi, &route) == AB_EDOM);
  ab_error_model v = {AB_ERROR_VARIANCE, 1.0};
  CHECK(ab_error_golden(&v, 1.0, &d, &lo, &hi, &route) == AB_EUNDEF);
  ab_divergences nan_kl = {NAN, NAN, NAN};
  CHECK(ab_error_golden(&b, 1.0, &nan_kl, &lo, &hi, &route) == AB_EUNDEF);
  ab_divergences neg = {-1.0, NAN, NAN};
  CHECK(ab_error_golden(&b, 1.0, &neg, &lo, &hi, &route) == AB_EDOM);

  ab_joint_gaussian g = {0.5, 2.0, 3.0};
  ab_joint_result r;
  CHECK(ab_joint_gaussian_bon(&g, 2.0, &r) == AB_OK);
  CHECK_CLOSE(r.proxy_gain, 2.0 / sqrt(3.14159265358979323846), 1e-13); /* E max of 2 N(0,1) = 1/sqrt(pi) */
  CHECK_CLOSE(r.gold_gain, 1.5 / sqrt(3.14159265358979323846), 1e-13);
  CHECK(r.exact == 1);
  CHECK(ab_joint_gaussian_tilt(&g, 0.5, &r) == AB_OK);
  CHECK_CLOSE(r.kl, 0.5, 1e-15);
  ab_joint_gaussian rho2 = {2.0, 1.0, 1.0};
  CHECK(ab_joint_gaussian_bon(&rho2, 2.0, &r) == AB_EDOM);

  double proxy[4] = {1, 2, 3, 3}, gold[4] = {0, 1, 2, 4};
  CHECK(ab_joint_samples_bon(proxy, gold, 4, 2.0, &r) == AB_OK);
  CHECK_CLOSE(r.gold_gain, 0.75 * 3 + 3.0 / 16 - 1.75, 1e-15);
  CHECK(ab_joint_samples_tilt(proxy, gold, 4, INFINITY, &r) == AB_OK);
  CHECK_CLOSE(r.gold_gain, 3.0 - 1.75, 1e-15);
  CHECK(ab_joint_samples_bon(proxy, gold, 0, 2.0, &r) == AB_EDOM);

  ab_tail *tg, *te, *cls;
  ab_joint_result a, c;
  CHECK(ab_tail_gaussian(0.0, 1.0, &tg) == AB_OK);
  CHECK(ab_tail_gaussian(0.0, 1.0, &te) == AB_OK);
  CHECK(ab_tail_subgaussian(1.0, &cls) == AB_OK);
  CHECK(ab_joint_additive_bon(tg, te, 4.0, 1000, 9, &a) == AB_OK);
  CHECK(ab_joint_additive_bon(tg, te, 4.0, 1000, 9, &c) == AB_OK);
  CHECK(a.gold_gain == c.gold_gain && a.proxy_se == c.proxy_se);
  CHECK(ab_joint_additive_bon(tg, te, 4.5, 1000, 9, &a) == AB_EDOM);
  CHECK(ab_joint_additive_bon(cls, te, 4.0, 1000, 9, &a) == AB_EUNDEF);
  CHECK(ab_joint_additive_tilt(tg, te, 0.5, 1, 9, &a) == AB_EDOM);
  double lam;
  CHECK(ab_joint_additive_tilt_kl(tg, te, 0.3, 2000, 9, &a, &lam) == AB_OK);
  CHECK_CLOSE(a.kl, 0.3, 1e-12);
  CHECK(ab_joint_additive_tilt(tg, te, lam, 2000, 9, &c) == AB_OK);
  CHECK_CLOSE(c.gold_gain, a.gold_gain, 1e-12);
  CHECK(ab_joint_additive_tilt_kl(tg, te, 8.0, 2000, 9, &a, &lam) == AB_EDOM);
  CHECK(ab_joint_gaussian_tilt_kl(&g, 0.5, &r, &lam) == AB_OK);
  CHECK_CLOSE(lam, 0.5, 1e-15);
  ab_tail_free(tg);
  ab_tail_free(te);
  ab_tail_free(cls);

  /* heavy tails: +inf for kl > 0, sampling works */
  ab_tail *st, *pa;
  double hb, x[4];
  ab_rng *rng;
  CHECK(ab_tail_student_t(3.0, 2.0, &st) == AB_OK);
  CHECK(ab_tail_pareto(1.0, 2.5, &pa) == AB_OK);
  CHECK(ab_tail_student_t(0.0, 2.0, &cls) == AB_EDOM);
  CHECK(ab_tail_pareto(1.0, -1.0, &cls) == AB_EDOM);
  CHECK(ab_tail_bound(st, AB_GAIN, AB_CLOSED, 1e-9, &hb) == AB_OK && isinf(hb));
  CHECK(ab_tail_bound(pa, AB_GAIN, AB_NUMERIC, 0.0, &hb) == AB_OK && hb == 0.0);
  CHECK(ab_tail_variance_proxy(st, AB_CLOSED, &hb) == AB_OK && isinf(hb));
  CHECK(ab_rng_new(1, 0, &rng) == AB_OK);
  CHECK(ab_tail_sample(pa, rng, 4, x) == AB_OK && x[0] >= 1.0 && x[3] >= 1.0);
  CHECK(ab_tail_sample(st, rng, 4, x) == AB_OK && isfinite(x[0]));
  ab_rng_free(rng);
  ab_tail_free(st);
  ab_tail_free(pa);
}

static int renyi_linear(void *ctx, double a, double *d) {
  *d = a * *(double *)ctx; /* the Gaussian shift: D_a = a mu^2 / (2 s2) */
  return 0;
}

static int renyi_failing(void *ctx, double a, double *d) {
  (void)ctx;
  (void)a;
  (void)d;
  return 1;
}

/* The Renyi refinement and one-sided variance proxies. */
static void test_renyi(void) {
  ab_tail *e, *sg;
  double v, b, a, kl = 0.5;
  CHECK(ab_tail_exponential(2.0, &e) == AB_OK);
  CHECK(ab_tail_variance_proxy_side(e, AB_GAIN, &v) == AB_OK && isinf(v));
  CHECK(ab_tail_variance_proxy_side(e, AB_LOSS, &v) == AB_OK);
  CHECK_CLOSE(v, 0.25, 1e-9); /* psi(-l) = l/2 - log(1 + l/2) <= l^2/8 */
  CHECK(ab_tail_variance_proxy_side(e, 3, &v) == AB_EDOM);
  ab_tail_free(e);
  CHECK(ab_tail_subgamma(1.0, 1.0, &sg) == AB_OK);
  CHECK(ab_tail_variance_proxy_side(sg, AB_LOSS, &v) == AB_EUNDEF);
  ab_tail_free(sg);

  ab_renyi_divergence fixed = {AB_RENYI_FIXED, 0.3, 0.0, NULL, NULL};
  CHECK(ab_renyi_gain(2.0, 1.0, &fixed, 0.5, &b, &a) == AB_OK);
  CHECK_CLOSE(b, sqrt(2.0 * 1.5 * 0.3 / 0.5), 1e-15);
  CHECK(ab_renyi_gain(2.0, 1.0, &fixed, NAN, &b, &a) == AB_EDOM);
  CHECK(ab_renyi_gain(2.0, 1.0, &fixed, 1.5, &b, &a) == AB_EDOM);
  CHECK(ab_renyi_gain(-1.0, 1.0, &fixed, 0.5, &b, &a) == AB_EDOM);
  ab_renyi_divergence lin = {AB_RENYI_FUNCTION, 0.0, 0.0, renyi_linear, &kl};
  CHECK(ab_renyi_gain(3.0, 3.0, &lin, NAN, &b, &a) == AB_OK);
  CHECK_CLOSE(b, sqrt(2.0 * 3.0 * 0.5), 1e-13);
  ab_renyi_divergence bad = {AB_RENYI_FUNCTION, 0.0, 0.0, renyi_failing, NULL};
  CHECK(ab_renyi_gain(3.0, 3.0, &bad, NAN, &b, &a) == AB_EFUNC);
  /* best-of-n with a tiny left proxy: the limit a -> 0 */
  ab_renyi_divergence bon = {AB_RENYI_BON, 0.0, 1000.0, NULL, NULL};
  CHECK(ab_renyi_gain(1.0, 0.0, &bon, NAN, &b, &a) == AB_OK);
  CHECK(b == 0.0 && a == 0.0);
  CHECK(ab_renyi_gain(1.0, INFINITY, &bon, NAN, &b, &a) == AB_OK);
  CHECK_CLOSE(b, sqrt(2.0 * (log(1000.0) - 0.999)), 1e-13);
  CHECK(a == 1.0);

  /* the best-of-n law's left proxy, masses below the double range kept
   * (mpmath reference, see spec/renyi_spec.lua) */
  double vals[4] = {0, 1, 2, 5}, probs[4] = {0.5, 0.3, 0.15, 0.05};
  ab_tail *d, *g;
  CHECK(ab_tail_discrete(vals, probs, 4, &d) == AB_OK);
  CHECK(ab_bon_variance_proxy_left(d, 1e6, &v) == AB_OK);
  CHECK_CLOSE(v, 8.7730765858006602e-5, 1e-10);
  CHECK(ab_bon_variance_proxy_left(d, 0.5, &v) == AB_EDOM);
  ab_tail_free(d);
  CHECK(ab_tail_gaussian(0.0, 2.0, &g) == AB_OK);
  CHECK(ab_bon_variance_proxy_left(g, 1.0, &v) == AB_OK);
  CHECK_CLOSE(v, 4.0, 1e-10); /* the law itself: its variance */
  ab_tail_free(g);
  CHECK(ab_tail_subgaussian(1.0, &g) == AB_OK);
  CHECK(ab_bon_variance_proxy_left(g, 4.0, &v) == AB_EUNDEF);
  ab_tail_free(g);
}

/* Goodhart fits: exact on noiseless data, errors on bad input. */
static void test_fit(void) {
  double kl[5] = {0.25, 1, 2.25, 4, 6.25}, gold[5], se[5] = {1, 1, 1, 1, 1};
  ab_goodhart f;
  for (int i = 0; i < 5; i++) {
    double d = sqrt(kl[i]);
    gold[i] = 2.0 * d - 0.5 * d * d;
  }
  CHECK(ab_goodhart_fit(kl, gold, NULL, 5, AB_FIT_BON, &f) == AB_OK);
  CHECK_CLOSE(f.alpha, 2.0, 1e-13);
  CHECK_CLOSE(f.beta, 0.5, 1e-13);
  CHECK_CLOSE(f.peak_kl, 4.0, 1e-12);
  CHECK_CLOSE(f.peak_gain, 2.0, 1e-12);
  CHECK(ab_goodhart_fit(kl, gold, se, 5, AB_FIT_BON, &f) == AB_OK);
  CHECK(isfinite(f.alpha_se) && f.alpha_se > 0.0); /* from se, not from residuals */
  CHECK(ab_goodhart_fit(kl, gold, NULL, 2, AB_FIT_BON, &f) == AB_EDOM);
  CHECK(ab_goodhart_fit(kl, gold, NULL, 5, 7, &f) == AB_EDOM);
  se[2] = 0.0;
  CHECK(ab_goodhart_fit(kl, gold, se, 5, AB_FIT_RL, &f) == AB_EDOM);
}

static int user_negative(void *ctx, double l, double *psi) {
  (void)ctx;
  *psi = -l; /* not a centred cumulant */
  return 0;
}

/* Issue 9, silent wrong answers of the exact laws (references: mpmath, see
 * spec/laws_spec.lua). */
static void test_laws_issue9(void) {
  ab_tail *t;
  double g, psi, v[4] = {1.7e308, 1.7e308, -1.7e308, 0};
  CHECK(ab_tail_cumulant(user_negative, NULL, INFINITY, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 1.0, &g) == AB_ENEGCUM);
  CHECK(ab_tail_cumulant_eval(t, 0, 0.5, &psi) == AB_ENEGCUM);
  CHECK(strstr(ab_strerror(AB_ENEGCUM), "negative") != NULL);
  ab_tail_free(t);
  /* the mean of values near DBL_MAX, and a spread beyond it */
  CHECK(ab_tail_discrete(v, NULL, 2, &t) == AB_OK);
  CHECK(ab_tail_mean(t) == 1.7e308);
  ab_tail_free(t);
  t = NULL;
  CHECK(ab_tail_discrete(v + 1, NULL, 2, &t) == AB_OK); /* mean 0, x = +-1.7e308 */
  ab_tail_free(t);
  t = NULL;
  v[2] = -1.7e308;
  v[3] = 1.7e308;
  CHECK(ab_tail_discrete(v + 1, NULL, 3, &t) == AB_ERANGE);
  CHECK(t == NULL);
  CHECK(ab_tail_bernoulli(1e-300, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 1e-10, &g) == AB_OK);
  CHECK_CLOSE(g, 1.5145616444666078483e-13, 1e-12);
  ab_tail_free(t);
  CHECK(ab_tail_beta(1000, 1000, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 1.0, &g) == AB_OK);
  CHECK_CLOSE(g, 0.01580349181062783993, 1e-10);
  CHECK(ab_tail_cumulant_eval(t, 0, 50.0, &psi) == AB_OK);
  CHECK_CLOSE(psi, 0.15615974000291981, 1e-10);
  ab_tail_free(t);
  /* a vector call equals the scalar calls, element by element */
  double kl[5] = {100, 1, 1e-8, 0.5, 30}, out[5];
  CHECK(ab_tail_beta(0.1, 10, &t) == AB_OK);
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, 5, out, NULL) == AB_OK);
  for (int i = 0; i < 5; i++) {
    CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl[i], &g) == AB_OK);
    CHECK_CLOSE(out[i], g, 1e-12);
  }
  CHECK_CLOSE(out[1], 0.093630998008700607993, 1e-10);
  ab_tail_free(t);
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

/* The tilt at lambda = inf is the top atom: its KL is -log psup, from the
 * other atoms' mass (psup = 1 - 1e-300 keeps its digits only so). */
static void test_tilt_saturation(void) {
  ab_tail *t;
  double v[2] = {0, 1}, p[2] = {1e-300, 1}, kl; /* psup rounds to 1 */
  CHECK(ab_tail_discrete(v, p, 2, &t) == AB_OK);
  CHECK(ab_tail_tilt_kl(t, INFINITY, &kl) == AB_OK);
  CHECK_CLOSE(kl, 1e-300, 1e-13);
  ab_tail_free(t);
}

/* Selection rules (rules.c): closed forms against mpmath, the exact law on
 * a discrete reference against enumeration, bad parameters. */
static void test_rules(void) {
  double v, w, c;
  /* n for a KL budget: -1/W0(-e^{-(K+1)}) in mpmath (40 digits) */
  CHECK(ab_bon_n_for_kl(1e-10, &v) == AB_OK);
  CHECK_CLOSE(v, 1.0000141422689580857, 1e-15);
  CHECK(ab_bon_n_for_kl(10.0, &v) == AB_OK);
  CHECK_CLOSE(v, 59873.14170684678209, 1e-14);
  CHECK(ab_bon_n_for_kl(-1.0, &v) == AB_EDOM);
  /* the win-rate frontier at KL 0.5: c and win rate by mpmath findroot */
  CHECK(ab_frontier_win_rate(0.5, &w, &c) == AB_OK);
  CHECK_CLOSE(w, 0.77373031187823477812, 1e-13);
  CHECK_CLOSE(c, 4.118481141362988589, 1e-12);
  CHECK(ab_frontier_win_rate(NAN, &w, &c) == AB_EDOM);
  /* the top fraction: KL = -log eps, win rate 1 - eps/2 */
  CHECK(ab_rule_kl(AB_RULE_TOP_FRACTION, 0.25, &v) == AB_OK);
  CHECK_CLOSE(v, log(4.0), 1e-15);
  CHECK(ab_rule_win_rate(AB_RULE_TOP_FRACTION, 0.25, &v) == AB_OK);
  CHECK_CLOSE(v, 0.875, 1e-15);
  CHECK(ab_rule_kl(AB_RULE_TOP_FRACTION, 0.0, &v) == AB_EDOM);
  CHECK(ab_rule_kl(AB_RULE_BEST_OF_POISSON, -1.0, &v) == AB_EDOM);
  CHECK(ab_rule_kl(AB_RULE_WIN_RATE_TILT, -1.0, &v) == AB_EDOM);
  /* best-of-Poisson on {0, 1} with mass 1/2 each: pi(1) = G(1) - G(1/2) =
   * 1 - e^{-mu/2}/2 */
  double probs[2] = {0.5, 0.5}, rewards[2] = {0.0, 1.0}, pol[2];
  ab_bon_summary s;
  CHECK(ab_rule_policy(probs, rewards, 2, AB_RULE_BEST_OF_POISSON, 2.0, pol,
                       &s) == AB_OK);
  CHECK_CLOSE(pol[1], 1.0 - 0.5 * exp(-1.0), 1e-15);
  CHECK_CLOSE(s.mean, pol[1], 1e-15);
  /* soft best-of-n of n = 2 on the same law: pi(1) = 1/4 + 2 (1/4) e/(1+e)
   * (enumeration of the four pairs) at temperature 1 */
  CHECK(ab_soft_bon_policy(probs, rewards, 2, 2.0, 1.0, pol, &s) == AB_OK);
  CHECK_CLOSE(pol[1], 0.25 + 0.5 * exp(1.0) / (1.0 + exp(1.0)), 1e-13);
  CHECK(ab_soft_bon_policy(probs, rewards, 2, 2.5, 1.0, pol, &s) == AB_EDOM);
  CHECK(ab_soft_bon_policy(probs, rewards, 2, 2.0, 0.0, pol, &s) == AB_EDOM);
}

/* Every divergence budget (issue 8): the chi2 frontier of a two-point law
 * is sqrt(c p (1-p)) (pi = (1-q, q): chi2 = (q-p)^2 / (p(1-p))), the vector
 * form fills routes, the policy attains it, and bad input is AB_EDOM. */
static void test_budgets(void) {
  ab_tail *t, *s;
  double v[2] = {0, 1}, p[2] = {0.9, 0.1}, c[3] = {1e-6, 0.5, 20}, g[3];
  double pol[2], d, nan = NAN, neg = -1;
  int routes[3];
  size_t at;
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, js = {AB_JS, 0, NULL, NULL};
  CHECK(ab_tail_discrete(v, p, 2, &t) == AB_OK);
  CHECK(ab_budget_gain(t, &chi2, c, 3, g, routes, &at) == AB_OK);
  CHECK_CLOSE(g[0], sqrt(1e-6 * 0.09), 1e-13);
  CHECK_CLOSE(g[1], sqrt(0.5 * 0.09), 1e-13);
  CHECK_CLOSE(g[2], 0.9, 1e-15); /* past (1 - p)/p = 9: the top */
  CHECK(routes[0] == AB_BUDGET_EXACT);
  CHECK(ab_budget_needed(t, &chi2, g, 2, g, NULL, NULL) == AB_OK);
  CHECK_CLOSE(g[1], 0.5, 1e-13);
  CHECK(ab_tail_atoms(t) == 2);
  CHECK(ab_budget_policy(t, &chi2, 0.5, pol) == AB_OK);
  CHECK(ab_divergence(pol, p, 2, &chi2, &d) == AB_OK);
  CHECK_CLOSE(d, 0.5, 1e-13);
  CHECK(ab_budget_gain(t, &chi2, &nan, 1, g, NULL, &at) == AB_EDOM);
  CHECK(ab_budget_gain(t, &chi2, &neg, 1, g, NULL, &at) == AB_EDOM);
  CHECK(ab_budget_gain(t, &js, c, 1, g, NULL, NULL) == AB_EUNDEF);
  CHECK(ab_tail_subgaussian(1, &s) == AB_OK);
  CHECK(ab_budget_policy(s, &chi2, 0.5, pol) == AB_EUNDEF);
  CHECK(ab_budget_gain(s, &chi2, c + 1, 1, g, routes, NULL) == AB_OK);
  CHECK_CLOSE(g[0], sqrt(0.5), 1e-15); /* sd sqrt(chi2) < sqrt(2 log 1.5) */
  CHECK(routes[0] == AB_BUDGET_SD_CHI2);
  CHECK(strcmp(ab_budget_route_name(AB_BUDGET_SD_CHI2), "sd sqrt(chi2)") == 0);
  ab_tail_free(s);
  ab_tail_free(t);
}

/* The one-sided variance proxy finds an interior maximum of 2 psi(l) / l^2
 * (the verifier's law: the right proxy peaks at l = 5.690914, 0.17360534846246929
 * by mpmath, above the variance 0.16839), and the two-sided proxy is the
 * larger of the two sides. */
static void test_proxy_interior_max(void) {
  const double v[6] = {2.082, 0.918, -0.308, 1.052, -2.732, 0.057};
  const double p[6] = {0.039770565013613944, 0.08375276673182282,
                       0.003388809184067649, 0.847612246997369,
                       0.007022171300206831, 0.018453440772919685};
  ab_tail *t = NULL;
  double right = 0.0, left = 0.0, both = 0.0, psi = 0.0;
  CHECK(ab_tail_discrete(v, p, 6, &t) == AB_OK);
  CHECK(ab_tail_variance_proxy_side(t, AB_GAIN, &right) == AB_OK);
  CHECK(ab_tail_variance_proxy_side(t, AB_LOSS, &left) == AB_OK);
  CHECK(ab_tail_variance_proxy(t, AB_CLOSED, &both) == AB_OK);
  CHECK_CLOSE(right, 0.17360534846246929, 1e-10);
  CHECK_CLOSE(both, fmax(right, left), 1e-13);
  CHECK(ab_tail_cumulant_eval(t, 0, 5.690914446151071, &psi) == AB_OK);
  CHECK(right >= 2.0 * psi / (5.690914446151071 * 5.690914446151071) *
                     (1.0 - 1e-13));
  ab_tail_free(t);
}

/* Fuzz finding (fuzz_bon): tied outcomes of subnormal total mass q got
 * their share of the group as p (1/q) with 1/q = inf: NaN entries
 * (probs {0, 0.147, 3.3e-309, 1.5e-321, 0.853}, rewards {-0, 1e300, 0, 0, 1},
 * n = 2).  At n = 1e308 the subnormal group on top takes g = 1 - (1 - q)^n
 * = 1 - e^{-0.3}, shared 1 : 2. */
static void test_bon_subnormal_ties(void) {
  double p[5] = {0, 0.14678899082568808, 3.2661634620289196e-309,
                 1.4673749681485022e-321, 0.85321100917431192};
  double r[5] = {-0.0, 1e300, 0, 0, 1}, pol[5], sum = 0.0;
  ab_bon_summary s;
  CHECK(ab_bon_policy(p, r, 5, 2.0, pol, &s) == AB_OK);
  for (int i = 0; i < 5; i++) {
    CHECK(pol[i] >= 0.0 && pol[i] <= 1.0);
    sum += pol[i];
  }
  CHECK_CLOSE(sum, 1.0, 1e-15);
  double p2[3] = {1.0, 1e-309, 2e-309}, r2[3] = {0, 1, 1}, pol2[3];
  double q = p2[1] + p2[2], g = -expm1(-1e308 * q); /* log1p(-q) = -q here */
  CHECK(ab_bon_policy(p2, r2, 3, 1e308, pol2, &s) == AB_OK);
  CHECK_CLOSE(pol2[1], g * (p2[1] / q), 1e-12);
  CHECK_CLOSE(pol2[2], g * (p2[2] / q), 1e-12);
  CHECK_CLOSE(pol2[0], 1.0 - g, 1e-12);
  /* uniform(-1, 1): E max - E = (hi - lo) (n - 1) / (2 (n + 1)), and
   * (hi - lo) (n - 1) overflowed at n = 1e308 (NaN, found by fuzz_lua) */
  ab_tail *t;
  double y = NAN;
  CHECK(ab_tail_uniform(-1.0, 1.0, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 1e308, AB_CLOSED, &y) == AB_OK);
  CHECK_CLOSE(y, 1.0, 1e-15);
  CHECK(ab_bon_expected_gain(t, 3.0, AB_CLOSED, &y) == AB_OK);
  CHECK_CLOSE(y, 0.5, 1e-15);
  ab_tail_free(t);
}

/* Fuzz finding: the Gumbel tilt's KL at lambda -> -inf was inf - inf = NaN
 * (lngamma and (y - 1) digamma overflow together); now Stirling's form.
 * Reference: mpmath, kl = -x digamma(1 - x) - lngamma(1 - x), x = beta l. */
static void test_gumbel_far_left(void) {
  ab_tail *t;
  double kl;
  CHECK(ab_tail_gumbel(0.0, 0.5, &t) == AB_OK);
  CHECK(ab_tail_tilt_kl(t, -1e9, &kl) == AB_OK);
  CHECK_CLOSE(kl, 499999989.56600214, 1e-15);
  CHECK(ab_tail_tilt_kl(t, -1e8, &kl) == AB_OK);
  CHECK_CLOSE(kl, 49999990.717294682, 1e-14);
  CHECK(ab_tail_tilt_kl(t, -1.7976931348623157e308, &kl) == AB_OK);
  CHECK(kl > 1e307 && !isnan(kl));
  ab_tail_free(t);
  /* beta l itself overflows: KL inf, not inf - inf (fuzz_tail, corpus
   * gumbel-tilt-kl-overflow) */
  CHECK(ab_tail_gumbel(1e12, 6.125e10, &t) == AB_OK);
  CHECK(ab_tail_tilt_kl(t, -1.7976931348623157e308, &kl) == AB_OK);
  CHECK(kl == INFINITY);
  ab_tail_free(t);
}

/* Fuzz findings of the tail target (fuzz/corpus/tail/gamma-sample-nan,
 * beta-bon-gain-dblmax).  Gamma(5e-324, DBL_MAX): GSL's draw
 * Gamma(1 + k, th) U^{1/k} was inf * 0 = NaN; the draws are th times a
 * Gamma(k, 1) draw, here 0 (U^{1/k} underflows), and the tilted draws
 * likewise.  Beta(100, 100), ab_bon_gain at n = DBL_MAX: the best-of-n
 * law's reach 700 n overflowed and the Renyi certificate's integrals ran
 * without end (alarm: 120 s); the gain is nondecreasing in n, below the
 * range above the mean (1/2), and at least the expected gain. */
static void test_tail_fuzz_open(void) {
  ab_tail *t;
  ab_rng *r;
  double x[64], y = NAN, y0 = NAN, e = NAN;
  int cert;
  CHECK(ab_rng_new(1, 0, &r) == AB_OK);
  CHECK(ab_tail_gamma(4.9406564584124654e-324, DBL_MAX, &t) == AB_OK);
  CHECK(ab_tail_sample(t, r, 64, x) == AB_OK);
  for (int i = 0; i < 64; i++) CHECK(x[i] >= 0.0 && isfinite(x[i]));
  CHECK(ab_tilt_sample(t, -DBL_MAX, r, 64, x) == AB_OK);
  for (int i = 0; i < 64; i++) CHECK(x[i] >= 0.0 && isfinite(x[i]));
  CHECK(ab_tilt_sample(t, nextafter(1.0 / DBL_MAX, 0.0), r, 64, x) == AB_OK);
  for (int i = 0; i < 64; i++) CHECK(x[i] >= 0.0 && !isnan(x[i]));
  ab_tail_free(t);
  CHECK(ab_tail_gamma(2.0, 1e150, &t) == AB_OK);
  CHECK(ab_tail_sample(t, r, 64, x) == AB_OK);
  for (int i = 0; i < 64; i++) CHECK(x[i] > 0.0 && !isnan(x[i]));
  ab_tail_free(t);
  ab_rng_free(r);
  CHECK(ab_tail_beta(100.0, 100.0, &t) == AB_OK);
  alarm(120);
  CHECK(ab_bon_gain(t, 1e305, &y0, &cert) == AB_OK);
  CHECK(ab_bon_gain(t, DBL_MAX, &y, &cert) == AB_OK);
  alarm(0);
  CHECK(ab_bon_expected_gain(t, DBL_MAX, AB_CLOSED, &e) == AB_OK);
  CHECK(y >= y0 && y <= 0.5 && y >= e);
  ab_tail_free(t);
}

/* ab_bon_gain is an upper bound of the best-of-n gain, so never below the
 * exact expected gain.  The Renyi certificate took the best-of-n law's
 * left-tail proxy from a scan set by its variance, which misses a far but
 * rare left tail: Beta(1, 1e-6) at n = 100 gave 1.3e-21 for an exact gain
 * of b/(1 + b) - B(1/b, n + 1)/b = 9.99999e-7 (the second term is below
 * 1e-400); Beta(0.01, 0.01) gave 5.7e-5 for about 0.5.  Exact gains of
 * Beta(a, 1): the best of n is Beta(n a, 1), gain n a/(n a + 1) - a/(a + 1). */
static void test_bon_gain_far_left_tail(void) {
  static const double ab[][2] = {{1, 1e-6}, {1, 1e-4}, {0.01, 0.01},
                                 {1, 0.01}, {2, 1e-6}, {0.5, 0.5}};
  for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
    ab_tail *t;
    double g = NAN, e = NAN;
    int cert;
    CHECK(ab_tail_beta(ab[i][0], ab[i][1], &t) == AB_OK);
    CHECK(ab_bon_gain(t, 100.0, &g, &cert) == AB_OK);
    CHECK(ab_bon_expected_gain(t, 100.0, AB_CLOSED, &e) == AB_OK);
    if (!(g >= e * (1.0 - 1e-10)))
      fprintf(stderr, "beta(%g, %g): bound %.10g below the gain %.10g\n",
              ab[i][0], ab[i][1], g, e);
    CHECK(g >= e * (1.0 - 1e-10));
    ab_tail_free(t);
  }
  ab_tail *t;
  double g = NAN;
  CHECK(ab_tail_beta(1.0, 1e-6, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 100.0, AB_CLOSED, &g) == AB_OK);
  CHECK_CLOSE(g, 1e-6 / (1.0 + 1e-6), 1e-10);
  ab_tail_free(t);
  CHECK(ab_tail_beta(3.0, 1.0, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 100.0, AB_CLOSED, &g) == AB_OK);
  CHECK_CLOSE(g, 300.0 / 301.0 - 0.75, 1e-10);
  ab_tail_free(t);
}

/* Bernoulli with extreme p or n (fuzz_tail, corpus bernoulli-bon-dblmax).
 * The Kearns-Saul proxy (1 - 2p) / (2 log((1 - p)/p)) was 0 below p = 1e-17
 * (d = 1 - 2p rounds to 1); the right-tail proxy's scan, set by the
 * variance, started at l = 1e144 and missed the sup near l = 1400
 * (2.7e-144); the best-of-n law's left proxy was 0 at n = DBL_MAX (l^2 and
 * 2 w overflowed), and with it the Renyi certificate: ab_bon_gain gave 0
 * for an exact gain of 1/2.  References: mpmath at 30 digits. */
static void test_bernoulli_extremes(void) {
  ab_tail *t;
  double v = NAN, g = NAN, e = NAN;
  int cert;
  CHECK(ab_tail_bernoulli(1e-300, &t) == AB_OK);
  CHECK(ab_tail_variance_proxy(t, AB_CLOSED, &v) == AB_OK);
  CHECK_CLOSE(v, 7.23824136505419712751881531528e-4, 1e-13);
  CHECK(ab_tail_variance_proxy_side(t, AB_GAIN, &v) == AB_OK);
  CHECK_CLOSE(v, 7.23824136505419712751881531528e-4, 1e-6);
  CHECK(ab_bon_gain(t, 1e308, &g, &cert) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 1e308, AB_CLOSED, &e) == AB_OK);
  CHECK(g >= e && e > 0.99);
  ab_tail_free(t);
  CHECK(ab_tail_bernoulli(1e-20, &t) == AB_OK);
  CHECK(ab_tail_variance_proxy(t, AB_CLOSED, &v) == AB_OK);
  CHECK_CLOSE(v, 0.0108573620475812956910634333782, 1e-13);
  ab_tail_free(t);
  CHECK(ab_tail_bernoulli(0.5, &t) == AB_OK);
  CHECK(ab_bon_gain(t, DBL_MAX, &g, &cert) == AB_OK);
  CHECK(g >= 0.5 && g <= 0.5 * (1 + 1e-15));
  ab_tail_free(t);
}

/* Bernoulli(p = 2^-1074): the gain bound is q - p with KL(q || p) = kl.  At
 * kl = 1e-16 the tilt is l = log(q/p) = 702.6, past the |l x| <= 700 where
 * the direct form of the finite-law cumulant was allowed: the shifted form
 * lost q in 1 - q and the bound came out 1% low (1.41420e-19).  References:
 * mpmath at 50 digits, findroot on q log(q/p) + (1 - q) log((1 - q)/(1 - p)). */
static void test_bernoulli_subnormal(void) {
  static const double ref[][2] = {{1e-16, 1.4284743695441420951e-19},
                                  {1e-10, 1.4008671647572816307e-13},
                                  {1e-3, 1.3699768233581013787e-6},
                                  {10, 0.01352916420413531641}};
  ab_tail *t;
  CHECK(ab_tail_bernoulli(4.9406564584124654e-324, &t) == AB_OK);
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    double y = NAN, v[2] = {NAN, NAN}, kl[2] = {0.5 * ref[i][0], ref[i][0]};
    size_t at;
    CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, ref[i][0], &y) == AB_OK);
    CHECK_CLOSE(y, ref[i][1], 1e-10);
    CHECK(ab_tail_bound(t, AB_GAIN, AB_NUMERIC, ref[i][0], &y) == AB_OK);
    CHECK_CLOSE(y, ref[i][1], 1e-10);
    CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, 2, v, &at) == AB_OK);
    CHECK_CLOSE(v[1], ref[i][1], 1e-10);
  }
  ab_tail_free(t);
}

/* A subnormal kl: the bound is sigma sqrt(2 kl) (1 + O(sqrt kl)), the
 * correction below 1e-160.  Gumbel(0, 0.1) at kl = 2^-1074 was 4.0248e-163
 * (KL(l) subnormal at the solution).  Reference: mpmath, 0.1 pi / sqrt(6)
 * sqrt(2 kl) at 40 digits. */
static void test_bound_subnormal_kl(void) {
  ab_tail *t;
  double y = NAN, v[2] = {NAN, NAN}, kl[2] = {1e-300, 4.9406564584124654e-324};
  size_t at;
  CHECK(ab_tail_gumbel(0.0, 0.1, &t) == AB_OK);
  CHECK(ab_tail_bound(t, AB_LOSS, AB_CLOSED, kl[1], &y) == AB_OK);
  CHECK_CLOSE(y, 4.0316384066620786437e-163, 1e-13);
  CHECK(ab_tail_bound(t, AB_GAIN, AB_NUMERIC, kl[1], &y) == AB_OK);
  CHECK_CLOSE(y, 4.0316384066620786437e-163, 1e-13);
  CHECK(ab_tail_bound_vec(t, AB_LOSS, AB_CLOSED, kl, 2, v, &at) == AB_OK);
  CHECK_CLOSE(v[1], 4.0316384066620786437e-163, 1e-13);
  ab_tail_free(t);
}

/* The tilted Beta sampler at a strong tilt: rejection from Beta(a, b)
 * accepted E e^{l (X - top)} of its draws (Beta(2, 3) at l = -1000: 2.7 s a
 * draw); now from the Gamma law of the distance to the end (alarm: 60 s).
 * The sample mean is within 5 standard errors of the tilted mean m + psi'(l). */
static void test_tilted_beta_sampler(void) {
  static const double ls[] = {-1e5, -1000.0, 1000.0, 1e5};
  static double x[4000];
  ab_tail *t;
  ab_rng *r;
  CHECK(ab_tail_beta(2.0, 3.0, &t) == AB_OK);
  CHECK(ab_rng_new(7, 0, &r) == AB_OK);
  alarm(60);
  for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
    double d1 = NAN, d2 = NAN, s = 0.0;
    int inside = 1;
    CHECK(ab_tilt_sample(t, ls[i], r, 4000, x) == AB_OK);
    for (int j = 0; j < 4000; j++) {
      inside &= x[j] > 0.0 && x[j] < 1.0;
      s += x[j];
    }
    CHECK(inside);
    CHECK(ab_tail_cumulant_eval(t, 1, ls[i], &d1) == AB_OK);
    CHECK(ab_tail_cumulant_eval(t, 2, ls[i], &d2) == AB_OK);
    CHECK(fabs(s / 4000 - (ab_tail_mean(t) + d1)) <= 5.0 * sqrt(d2 / 4000));
  }
  alarm(0);
  ab_rng_free(r);
  ab_tail_free(t);
}

/* ab_bon_gain at n = 1 is 0 by the KL certificate, and no other goes lower:
 * it computed the Renyi one all the same, 4.5 s of CPU on Beta(1e-6, 100)
 * (fuzz_tail timeout, corpus beta-bon-gain-n1).  Timed in CPU seconds
 * (not under valgrind). */
static void test_bon_gain_n1(void) {
  ab_tail *t;
  double g = NAN;
  int cert = -1;
  CHECK(ab_tail_beta(1e-6, 100.0, &t) == AB_OK);
  clock_t c0 = clock();
  CHECK(ab_bon_gain(t, 1.0, &g, &cert) == AB_OK);
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  CHECK(g == 0.0 && cert == AB_CERT_KL);
  if (!under_valgrind()) CHECK(cpu < 1.0);
  ab_tail_free(t);
}

/* ab_bon_expected_gain of a law with a rare upper region: Beta(1e-6, 100)
 * at n = 10 has its whole gain where 1 - u < 1e-5 (x < 1e-4 in the
 * quantile integral), which QAGS's first rule on [0, 1] saw as flat: 0.
 * Reference: mpmath quadrature of F (1 - F^(n-1)) = 8.99993730175e-8 at 30
 * digits; the code agrees to 4e-9 (GSL's CDF at a = 1e-6).  Beta(1e-3, 1):
 * n a/(n a + 1) - a/(a + 1). */
static void test_bon_expected_gain_rare_top(void) {
  ab_tail *t;
  double g = NAN;
  CHECK(ab_tail_beta(1e-6, 100.0, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 10.0, AB_CLOSED, &g) == AB_OK);
  CHECK_CLOSE(g, 8.9999373017537210204e-8, 1e-8);
  ab_tail_free(t);
  CHECK(ab_tail_beta(1e-3, 1.0, &t) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 10.0, AB_CLOSED, &g) == AB_OK);
  CHECK_CLOSE(g, 0.01 / 1.01 - 1e-3 / 1.001, 1e-10);
  ab_tail_free(t);
}

/* An empirical law with atoms at -DBL_MAX and DBL_MAX: x - top is -inf for
 * the bottom one, and its weightless term y e^{l y} was -inf * 0 = NaN
 * (fuzz_tail, corpus empirical-dblmax-cumulant).  At l = 10 the tilt sits
 * on the top atom: psi = inf, psi' = the top's centred value, kl = log 5. */
static void test_empirical_dblmax_cumulant(void) {
  double v[5] = {-1.0, -1e-300, 0.1, -DBL_MAX, DBL_MAX}, y = NAN, kl = NAN;
  ab_tail *t;
  CHECK(ab_tail_discrete(v, NULL, 5, &t) == AB_OK);
  CHECK(ab_tail_cumulant_eval(t, 0, 10.0, &y) == AB_OK && y == INFINITY);
  CHECK(ab_tail_cumulant_eval(t, 1, 10.0, &y) == AB_OK);
  CHECK(y > 1e308 && isfinite(y));
  CHECK(ab_tail_tilt_kl(t, 10.0, &kl) == AB_OK);
  CHECK_CLOSE(kl, log(5.0), 1e-13);
  ab_tail_free(t);
}

/* The chi2 certificate of ab_bon_gain with a variance that underflowed:
 * exponential{rate = 1e300} has sd 1e-300 but variance 0 in doubles, and
 * the bound came out 0 for an exact gain of (H_100 - 1) 1e-300 (fuzz_ci
 * tail run, corpus exponential-bon-chi2-underflow). */
static void test_bon_gain_variance_underflow(void) {
  ab_tail *t;
  double g = NAN, e = NAN;
  int cert;
  CHECK(ab_tail_exponential(1e300, &t) == AB_OK);
  CHECK(ab_bon_gain(t, 100.0, &g, &cert) == AB_OK);
  CHECK(ab_bon_expected_gain(t, 100.0, AB_CLOSED, &e) == AB_OK);
  CHECK_CLOSE(e, 4.1873775176396202e-300, 1e-13);
  CHECK(g >= e);
  ab_tail_free(t);
}

/* The best-of-n law of a finite law at n = DBL_MAX: n log1p(-above)
 * overflows to -inf below the top groups, and the next group's log-mass was
 * -inf - -inf = NaN, which made the Renyi certificate 0 for an exact gain of
 * 0.0833 (sup - mean: the best of DBL_MAX draws is the top atom; fuzz_tail,
 * corpus empirical-bon-dblmax-nan). */
static void test_bon_gain_finite_dblmax(void) {
  double v[6] = {-5.8125e-13, -0.0, 1e-300, -5.8125e-13, 0.1, -5.125e-7};
  double g = NAN, mean = 0.0;
  int cert;
  ab_tail *t;
  for (int i = 0; i < 6; i++) mean += v[i] / 6.0;
  CHECK(ab_tail_discrete(v, NULL, 6, &t) == AB_OK);
  CHECK(ab_bon_gain(t, DBL_MAX, &g, &cert) == AB_OK);
  CHECK_CLOSE(g, 0.1 - mean, 1e-12);
  ab_tail_free(t);
  /* uniform at n = DBL_MAX: the left proxy ~ range^2 / (2n) underflows, and
   * the certificate with it (corpus uniform-bon-dblmax) */
  CHECK(ab_tail_uniform(-5.8125e-13, 0.0, &t) == AB_OK);
  CHECK(ab_bon_gain(t, DBL_MAX, &g, &cert) == AB_OK);
  CHECK(g >= 0.5 * 5.8125e-13 * (1 - 1e-15));
  ab_tail_free(t);
}

/* GRPO on a binary reward (issue 12, DESIGN 3.8): the step against the
 * recurrence written out here, DESIGN's example against mpmath (40-digit
 * findroot of logit(0.001) + (u + 1e-5)^(-1/2) / 5 = x and of h(h(x)) = x),
 * the absorbing ends, bad fields, and binary best-of-n at p = 1e-300,
 * n = 1e15 against mpmath (q = -expm1(n log1p(-p)), kl = q log(q/p) +
 * (1-q)(n-1) log1p(-p)). */
static void test_grpo(void) {
  ab_grpo g = {AB_GRPO_STANDARD, 0.001, 5.0, 1e-5, 0.5};
  double x, y, p, q;
  /* one step from p = 0.3: logit 0.001 + (0.21 + 1e-5)^(-1/2) / 5 */
  CHECK(ab_grpo_step_p(&g, 0.3, &p, &x) == AB_OK);
  CHECK_CLOSE(x, log(0.001 / 0.999) + 1.0 / sqrt(0.3 * 0.7 + 1e-5) / 5.0,
              1e-14);
  CHECK_CLOSE(p, 1.0 / (1.0 + exp(-x)), 1e-15);
  ab_grpo_point pts[AB_GRPO_MAX_POINTS];
  size_t n;
  CHECK(ab_grpo_fixed_points(&g, pts, &n) == AB_OK);
  CHECK(n == 3);
  if (n == 3) {
    CHECK_CLOSE(pts[0].logit, -4.7447749710148471746, 1e-14);
    CHECK_CLOSE(pts[1].logit, 8.7889063066672816836, 1e-14);
    CHECK_CLOSE(pts[2].logit, 56.338798424719030554, 1e-14);
    CHECK_CLOSE(pts[0].kl, 0.010981743676752351975, 1e-13);
    CHECK(!pts[0].attracting && !pts[1].attracting && pts[2].attracting);
    for (size_t i = 0; i < n; i++) {
      CHECK(ab_grpo_step(&g, pts[i].logit, &y) == AB_OK);
      CHECK_CLOSE(y, pts[i].logit, 1e-14);
    }
  }
  ab_grpo_limit_result L;
  CHECK(ab_grpo_limit(&g, &L) == AB_OK);
  CHECK(L.kind == AB_GRPO_CYCLE && L.npoints == 2 && L.period == 2);
  CHECK_CLOSE(L.point[0].logit, -6.0561007395973108865, 1e-13);
  CHECK_CLOSE(L.point[1].logit, -2.7745369597228063602, 1e-13);
  CHECK(ab_grpo_step(&g, L.point[0].logit, &y) == AB_OK);
  CHECK_CLOSE(y, L.point[1].logit, 1e-13);
  CHECK(fabs(L.multiplier) < 1);
  /* the trajectory is the step iterated */
  double traj[6], tx[6];
  CHECK(ab_grpo_trajectory(&g, 6, traj, tx) == AB_OK);
  ab_logit(0.001, &x);
  for (int i = 0; i < 6; i++) {
    CHECK(ab_grpo_step(&g, x, &x) == AB_OK);
    CHECK(x == tx[i]);
  }
  /* absorbing ends */
  g.p_ref = 0.0;
  CHECK(ab_grpo_limit(&g, &L) == AB_OK && L.kind == AB_GRPO_ABSORBING);
  CHECK(ab_grpo_step_p(&g, 0.7, &p, &x) == AB_OK && p == 0.0);
  g.p_ref = 1.0;
  CHECK(ab_grpo_fixed_points(&g, pts, &n) == AB_OK && n == 0);
  /* mirror: certainty, kl = -log p_ref */
  ab_grpo m = {AB_GRPO_MIRROR, 0.25, 2.0, 1e-5, 0.5};
  CHECK(ab_grpo_limit(&m, &L) == AB_OK && L.kind == AB_GRPO_CERTAINTY);
  CHECK_CLOSE(L.kl, log(4.0), 1e-15);
  /* bad fields */
  ab_grpo bad[] = {{AB_GRPO_STANDARD, -0.1, 1, 0, 0},
                   {AB_GRPO_STANDARD, 0.5, 0, 0, 0},
                   {AB_GRPO_STANDARD, 0.5, INFINITY, 0, 0},
                   {AB_GRPO_STANDARD, 0.5, 1, -1e-9, 0},
                   {AB_GRPO_TWO_KL, 0.5, 1, 0, 1.5},
                   {99, 0.5, 1, 0, 0.5}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(ab_grpo_check(&bad[i]) == AB_EDOM);
    CHECK(ab_grpo_limit(&bad[i], &L) == AB_EDOM);
    CHECK(ab_grpo_step(&bad[i], 0.0, &y) == AB_EDOM);
  }
  /* two_kl between opposite supports is undefined */
  ab_grpo two = {AB_GRPO_TWO_KL, 1.0, 1.0, 1e-5, 0.5};
  CHECK(ab_grpo_step(&two, -INFINITY, &y) == AB_EDOM);
  CHECK(ab_grpo_variant("two_kl") == AB_GRPO_TWO_KL && ab_grpo_variant("ppo") == 0);
  /* log-odds keep both tails */
  CHECK(ab_logit(1e-300, &x) == AB_OK);
  CHECK_CLOSE(x, log(1e-300), 1e-16);
  ab_logistic(740.0, &p, &q);
  CHECK(p == 1.0);
  CHECK_CLOSE(q, exp(-740.0), 1e-13);
  /* binary best-of-n */
  ab_bon_binary_result b;
  CHECK(ab_bon_binary(1e-300, 1e15, &b) == AB_OK);
  CHECK_CLOSE(b.pass, 1.0000000000000000251e-285, 1e-14);
  CHECK_CLOSE(b.kl, 3.3538776394910687101e-284, 1e-13);
  CHECK_CLOSE(b.tilt, 34.53877639491068526, 1e-14);
  CHECK(ab_bon_binary(0.01, 64, &b) == AB_OK);
  CHECK_CLOSE(b.pass, 0.47440351247443767218, 1e-15);
  CHECK_CLOSE(b.kl, 1.4981550857346191893, 1e-14);
  CHECK_CLOSE(b.win_rate, 0.73220175623721883599, 1e-15);
  CHECK(ab_bon_binary(0.5, 0.5, &b) == AB_EDOM);
  CHECK(ab_bon_binary(NAN, 2, &b) == AB_EDOM);
  CHECK(ab_bon_binary(0.5, INFINITY, &b) == AB_EDOM);
}


/* ---- issue 10: the bootstrap engine, threads, shards, cancellation ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Every resample's proxy from the binned cumulant agrees with the exact
 * proxy of the same resample (ab_tail_discrete with the counts as weights,
 * over the sorted samples), on a light and a heavy tail. */
static void test_boot_proxy_exact(void) {
  enum { N = 3000, R = 4 };
  static double x[N], xs[N], p[N], v[R];
  static uint32_t c[N];
  for (int kind = 0; kind < 2; kind++) {
    ab_tail *t;
    ab_rng *r;
    CHECK(ab_rng_new(11 + kind, 0, &r) == AB_OK);
    CHECK((kind ? ab_tail_student_t(3.0, 1.0, &t) : ab_tail_uniform(0.0, 1.0, &t)) == AB_OK);
    CHECK(ab_tail_sample(t, r, N, x) == AB_OK);
    ab_tail_free(t);
    ab_rng_free(r);
    ab_boot b = {R, 77, 0, NULL, 0};
    ab_work w = {1, NULL, NULL};
    CHECK(ab_estimate_variance_proxy_boot(x, N, &b, &w, v) == AB_OK);
    memcpy(xs, x, sizeof x);
    qsort(xs, N, sizeof *xs, cmp_double);
    for (size_t k = 0; k < R; k++) {
      double exact;
      CHECK(ab_estimate_resample_counts(&b, N, k, c) == AB_OK);
      for (int i = 0; i < N; i++) p[i] = c[i] / (double)N;
      CHECK(ab_tail_discrete(xs, p, N, &t) == AB_OK);
      CHECK(ab_tail_variance_proxy(t, AB_CLOSED, &exact) == AB_OK);
      ab_tail_free(t);
      CHECK_CLOSE(v[k], exact, 1e-11);
    }
  }
}

/* Threads and shards: the values of 1 and 3 threads are bit-identical, and
 * a slice of the resamples run on its own reproduces its part of the run;
 * likewise with groups, for the proxy, best-of-n and the frontier. */
static void test_boot_threads_shards(void) {
  enum { N = 2000, R = 9 };
  static double x[N], y[N], a[R], b3[R], s[R];
  ab_tail *t;
  ab_rng *r;
  CHECK(ab_rng_new(5, 0, &r) == AB_OK);
  CHECK(ab_tail_gumbel(0.0, 1.0, &t) == AB_OK);
  CHECK(ab_tail_sample(t, r, N, x) == AB_OK);
  CHECK(ab_tail_sample(t, r, N, y) == AB_OK);
  ab_tail_free(t);
  ab_rng_free(r);
  size_t groups[201];
  for (int g = 0; g <= 200; g++) groups[g] = (size_t)g * N / 200;
  for (int grouped = 0; grouped < 2; grouped++) {
    ab_boot b = {R, 123, 0, grouped ? groups : NULL, grouped ? 200 : 0};
    ab_boot shard = {4, 123, 3, b.groups, b.ngroups};
    ab_work one = {1, NULL, NULL}, three = {3, NULL, NULL};
    for (int stat = 0; stat < 3; stat++) {
      int st1, st3, sts;
#define RUN(bb, w, out)                                                     \
  (stat == 0   ? ab_estimate_variance_proxy_boot(x, N, &bb, &w, out)        \
   : stat == 1 ? ab_estimate_bon_boot(x, y, N, 4, &bb, &w, out)             \
               : ab_estimate_frontier_boot(x, N, 0.5, &bb, &w, out))
      st1 = RUN(b, one, a);
      st3 = RUN(b, three, b3);
      sts = RUN(shard, three, s);
#undef RUN
      CHECK(st1 == AB_OK && st3 == AB_OK && sts == AB_OK);
      CHECK(memcmp(a, b3, sizeof a) == 0);
      CHECK(memcmp(a + 3, s, 4 * sizeof *s) == 0);
      CHECK(a[0] != a[1]); /* the resamples differ */
    }
  }
  /* bad groups: offsets that do not end at N, or decrease */
  size_t bad[3] = {0, 5, N - 1};
  ab_boot bb = {2, 1, 0, bad, 2};
  CHECK(ab_estimate_variance_proxy_boot(x, N, &bb, NULL, a) == AB_EDOM);
  bad[2] = N;
  bad[1] = N + 1;
  CHECK(ab_estimate_frontier_boot(x, N, 0.5, &bb, NULL, a) == AB_EDOM);
}

typedef struct {
  int calls;
  double last_done, total;
  int monotone;
} cancel_state;

/* cancels once half the work is done */
static int cancel_halfway(void *ud, double done, double total) {
  cancel_state *c = ud;
  if (done < c->last_done) c->monotone = 0;
  c->calls++;
  c->last_done = done;
  c->total = total;
  return done >= total / 2;
}

static int count_only(void *ud, double done, double total) {
  cancel_state *c = ud;
  if (done < c->last_done) c->monotone = 0;
  c->calls++;
  c->last_done = done;
  c->total = total;
  return 0;
}

/* A progress callback sees the work advance to done == total, and cancels
 * a run halfway: AB_ECANCEL, with everything freed (ASan and valgrind runs
 * of this test check the leaks). */
static void test_boot_progress_cancel(void) {
  enum { N = 4000, R = 40 };
  static double x[N], v[R];
  for (int i = 0; i < N; i++) x[i] = sin(i * 0.37) + 0.001 * i;
  ab_boot b = {R, 3, 0, NULL, 0};
  for (unsigned th = 1; th <= 2; th++) {
    cancel_state c = {0, 0.0, 0.0, 1};
    ab_work w = {th, count_only, &c};
    CHECK(ab_estimate_variance_proxy_boot(x, N, &b, &w, v) == AB_OK);
    CHECK(c.calls >= 2 && c.monotone && c.last_done == R && c.total == R);
    cancel_state k = {0, 0.0, 0.0, 1};
    ab_work wc = {th, cancel_halfway, &k};
    CHECK(ab_estimate_variance_proxy_boot(x, N, &b, &wc, v) == AB_ECANCEL);
    /* on two threads the other worker may finish the rest before the
     * calling thread reports again (a loaded machine): the run still ends
     * cancelled, with nothing leaked */
    CHECK(k.last_done >= R / 2 && (th > 1 || k.last_done < R));
    k = (cancel_state){0, 0.0, 0.0, 1};
    CHECK(ab_estimate_frontier_boot(x, N, 0.3, &b, &wc, v) == AB_ECANCEL);
    k = (cancel_state){0, 0.0, 0.0, 1};
    CHECK(ab_estimate_bon_boot(x, x, N, 2, &b, &wc, v) == AB_ECANCEL);
    ab_proxy_report rep;
    k = (cancel_state){0, 0.0, 0.0, 1};
    CHECK(ab_estimate_variance_proxy_report(x, N, 0.95, &b, &wc, v, 0, &rep) == AB_ECANCEL);
  }
  CHECK(strcmp(ab_strerror(AB_ECANCEL), "cancelled by the progress callback") == 0);
}

/* xoshiro256** behind ab_rng: the GSL type reproduces the reference
 * outputs of Blackman and Vigna's xoshiro256starstar.c from the state
 * {1, 2, 3, 4} (worked by hand from the published algorithm: 11520, 0,
 * 1509978240, 1215971899390074240), uniforms are the top 53 bits, and GSL's
 * samplers run on it. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

static void test_rng_xoshiro(void) {
  gsl_rng *g = gsl_rng_alloc((const gsl_rng_type *)ab_rng_xoshiro256ss());
  CHECK(g != NULL);
  if (!g) return;
  CHECK(strcmp(gsl_rng_name(g), "xoshiro256**") == 0);
  CHECK(gsl_rng_size(g) == 4 * sizeof(unsigned long long));
  unsigned long long st[4] = {1, 2, 3, 4};
  memcpy(gsl_rng_state(g), st, sizeof st);
  if (sizeof(unsigned long) == 8) {
    CHECK(gsl_rng_get(g) == 11520ul);
    CHECK(gsl_rng_get(g) == 0ul);
    CHECK(gsl_rng_get(g) == 1509978240ul);
    CHECK(gsl_rng_get(g) == 1215971899390074240ul);
  }
  memcpy(gsl_rng_state(g), st, sizeof st);
  CHECK(gsl_rng_uniform(g) == (double)(11520ull >> 11) * 0x1.0p-53);
  CHECK(gsl_rng_uniform(g) == 0.0);
  CHECK(gsl_rng_uniform_pos(g) == (double)(1509978240ull >> 11) * 0x1.0p-53);
  /* gsl_rng_set seeds (seed, stream 0): the same sequence as ab_rng_new */
  ab_rng *r;
  CHECK(ab_rng_new(99, 0, &r) == AB_OK);
  gsl_rng_set(g, 99);
  for (int i = 0; i < 5; i++) CHECK(ab_rng_uniform(r) == gsl_rng_uniform_pos(g));
  /* the generator inside r is a gsl_rng of that type, in step with r */
  gsl_rng *inside = (gsl_rng *)ab_rng_gsl(r);
  CHECK(gsl_rng_name(inside) == gsl_rng_name(g));
  CHECK(gsl_rng_get(inside) == gsl_rng_get(g));
  CHECK(ab_rng_uniform(r) == gsl_rng_uniform_pos(g));
  ab_rng_free(r);
  /* a GSL sampler on it: the mean of 10^5 exponentials of mean 2 within
   * 5 standard errors (sd 2 / sqrt(10^5)) */
  double s = 0;
  for (int i = 0; i < 100000; i++) s += gsl_ran_exponential(g, 2.0);
  CHECK(fabs(s / 100000 - 2.0) < 5 * 2.0 / sqrt(100000.0));
  gsl_rng_free(g);
  /* the types by name; an unknown one is refused */
  CHECK(ab_rng_new_type(AB_RNG_MT19937, 1, 2, &r) == AB_OK);
  CHECK(ab_rng_type(r) == AB_RNG_MT19937);
  ab_rng_free(r);
  CHECK(ab_rng_new_type(AB_RNG_XOSHIRO256SS, 1, 2, &r) == AB_OK);
  CHECK(ab_rng_type(r) == AB_RNG_XOSHIRO256SS);
  ab_rng_free(r);
  CHECK(ab_rng_new_type(7, 1, 2, &r) == AB_EDOM);
}

/* The version numbers spell the version string, ab_version returns it. */
static void test_version(void) {
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", ALIGNBOUND_VERSION_MAJOR,
           ALIGNBOUND_VERSION_MINOR, ALIGNBOUND_VERSION_PATCH);
  CHECK(strcmp(v, ALIGNBOUND_VERSION) == 0);
  CHECK(strcmp(ab_version(), ALIGNBOUND_VERSION) == 0);
}

/* The streamed sub-Gaussian bound (SSE2 two at a time in plain chunks)
 * gives the scalar bound bit for bit, at chunk edges, for 0, subnormals and
 * values beyond DBL_MAX / 2, and names the failing element of a later
 * chunk. */
static void test_bound_vec_stream(void) {
  enum { N = 3000 };
  static double kl[N], out[N];
  ab_tail *t;
  CHECK(ab_tail_subgaussian(2.25, &t) == AB_OK);
  for (int i = 0; i < N; i++)
    kl[i] = i % 7 == 0 ? 0.0 : i % 11 == 0 ? 4.9e-324 * i : 1e-3 * i * i;
  kl[1500] = 1.5e308; /* one chunk element by element */
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, N, out, NULL) == AB_OK);
  int same = 1;
  for (int i = 0; i < N; i++) {
    double v;
    ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl[i], &v);
    same &= v == out[i];
  }
  CHECK(same);
  CHECK(isfinite(out[1500]) && out[1500] > 1e154);
  size_t at = 0;
  kl[2049] = -1.0;
  CHECK(ab_tail_bound_vec(t, AB_LOSS, AB_CLOSED, kl, N, out, &at) == AB_EDOM);
  CHECK(at == 2049);
  kl[2049] = NAN;
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, N, out, &at) == AB_EDOM);
  CHECK(at == 2049);
  ab_tail_free(t);
}

/* ---- the allocator hook (issue 11) ---------------------------------------
 * A counting allocator with the lua_Alloc contract: each block carries its
 * size in a header, so a free or resize with a wrong size is caught; the
 * live bytes must come back to zero after every scenario; and failing the
 * k-th request, for every k a scenario makes, must give AB_ENOMEM with the
 * live bytes back to zero (nothing leaked on any error path). */
typedef struct {
  size_t live, requests, bytes_seen, wrong_size;
  size_t fail_at; /* the request (1-based) that fails; 0: none */
} counting_heap;

#define HEAP_HEADER 16 /* keeps the blocks 16-byte aligned */

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counting_heap *h = ud;
  char *base = ptr ? (char *)ptr - HEAP_HEADER : NULL;
  if (ptr) {
    size_t had;
    memcpy(&had, base, sizeof had);
    if (had != osize) h->wrong_size++;
  }
  if (nsize == 0) {
    if (ptr) h->live -= osize;
    free(base);
    return NULL;
  }
  h->requests++;
  if (h->fail_at && h->requests == h->fail_at) return NULL;
  char *nb = realloc(base, nsize + HEAP_HEADER);
  if (!nb) return NULL;
  memcpy(nb, &nsize, sizeof nsize);
  h->live += nsize - (ptr ? osize : 0);
  h->bytes_seen += nsize;
  return nb + HEAP_HEADER;
}

static double heap_values[5000], heap_probs[5000], heap_scores[5000];
static double heap_p100[100]; /* a law on 100 outcomes */
static char heap_csv[64];

/* Each scenario calls public entry points and frees what it made; it
 * returns the first status that is not AB_OK (then everything it made is
 * freed too). */
#define TRY(call)                                                           \
  do {                                                                      \
    if ((st = (call)) != AB_OK) goto out;                                   \
  } while (0)

static int sc_constructors(void) {
  ab_tail *t = NULL;
  int st = AB_OK;
#define MAKE(call)                                                          \
  do {                                                                      \
    TRY(call);                                                              \
    ab_tail_free(t);                                                        \
    t = NULL;                                                               \
  } while (0)
  MAKE(ab_tail_subgaussian(1.0, &t));
  MAKE(ab_tail_subgamma(1.0, 0.5, &t));
  MAKE(ab_tail_subexponential(1.0, 2.0, &t));
  MAKE(ab_tail_bounded(0.0, 1.0, &t));
  MAKE(ab_tail_bounded_mean(0.0, 1.0, 0.3, &t));
  MAKE(ab_tail_gaussian(0.0, 1.0, &t));
  MAKE(ab_tail_uniform(0.0, 1.0, &t));
  MAKE(ab_tail_bernoulli(0.3, &t));
  MAKE(ab_tail_exponential(2.0, &t));
  MAKE(ab_tail_gamma(2.0, 1.0, &t));
  MAKE(ab_tail_gumbel(0.0, 1.0, &t));
  MAKE(ab_tail_logistic(0.0, 1.0, &t));
  MAKE(ab_tail_beta(2.0, 3.0, &t));
  MAKE(ab_tail_student_t(3.0, 1.0, &t));
  MAKE(ab_tail_pareto(1.0, 3.0, &t));
  MAKE(ab_tail_discrete(heap_values, heap_p100, 100, &t));
  MAKE(ab_tail_discrete(heap_values, NULL, 5000, &t));
  MAKE(ab_tail_cumulant(user_quadratic, &(double){1.0}, 10.0, &t));
#undef MAKE
out:
  ab_tail_free(t);
  return st;
}

static int sc_finite_law(void) {
  ab_tail *t = NULL;
  ab_rng *r = NULL;
  int st = AB_OK;
  double v, kl[3] = {0.1, 0.5, 2.0}, out[3], draws[64];
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, tv = {AB_TV, 0, NULL, NULL};
  ab_family klf = {AB_KL, 1.0, NULL, NULL};
  ab_bon_tilt bt;
  TRY(ab_tail_discrete(heap_values, NULL, 2000, &t));
  TRY(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.3, &v));
  TRY(ab_tail_bound_vec(t, AB_LOSS, AB_CLOSED, kl, 3, out, NULL));
  TRY(ab_tail_kl_needed_vec(t, AB_GAIN, AB_CLOSED, kl, 3, out, NULL));
  TRY(ab_tail_cumulant_vec(t, 1, kl, 3, out, NULL));
  TRY(ab_tail_tilt(t, AB_GAIN, 0.3, &v));
  TRY(ab_tail_tilt_kl(t, -0.7, &v));
  TRY(ab_tail_variance_proxy(t, AB_CLOSED, &v));
  TRY(ab_tail_variance_proxy_side(t, AB_LOSS, &v));
  TRY(ab_bon_expected_gain(t, 4.0, AB_CLOSED, &v));
  TRY(ab_bon_gain(t, 4.0, &v, NULL));
  TRY(ab_bon_variance_proxy_left(t, 4.0, &v));
  TRY(ab_tilt_compare_bon(t, 4.0, &bt));
  TRY(ab_rule_expected_gain(t, AB_RULE_TOP_FRACTION, 0.1, &v));
  TRY(ab_soft_bon_expected_gain(t, 4.0, 0.5, &v));
  TRY(ab_budget_gain(t, &chi2, kl, 3, out, NULL, NULL));
  TRY(ab_budget_needed(t, &tv, kl, 3, out, NULL, NULL));
  double *policy = malloc(2000 * sizeof *policy);
  if (!policy) goto out;
  st = ab_budget_policy(t, &klf, 0.3, policy);
  if (!st) st = ab_budget_policy(t, &chi2, 0.3, policy);
  free(policy);
  if (st) goto out;
  TRY(ab_rng_new(7, 1, &r));
  TRY(ab_tail_sample(t, r, 64, draws));
  TRY(ab_bon_sample(t, 4.0, r, 64, draws));
  TRY(ab_tilt_sample(t, 0.5, r, 64, draws));
  TRY(ab_rule_sample(t, AB_RULE_BEST_OF_POISSON, 2.0, r, 64, draws));
  TRY(ab_soft_bon_sample(t, 4.0, 0.5, r, 8, draws));
  TRY(ab_estimate_variance_proxy(heap_values, 200, 0.9, 20, r, &v, &out[0]));
out:
  ab_rng_free(r);
  ab_tail_free(t);
  return st;
}

static int sc_policies(void) {
  static double policy[5000];
  int st = AB_OK;
  ab_bon_summary bs;
  ab_tilt_summary ts;
  ab_joint_result jr;
  double lam, est[5000];
  TRY(ab_bon_policy(heap_probs, heap_values, 5000, 8.0, policy, &bs));
  TRY(ab_tilt_policy(heap_probs, heap_values, 5000, AB_TILT_KL, 0.5, policy,
                     &ts));
  TRY(ab_rule_policy(heap_probs, heap_values, 5000, AB_RULE_WIN_RATE_TILT, 2.0,
                     policy, &bs));
  TRY(ab_soft_bon_policy(heap_p100, heap_values, 100, 4.0, 0.5, policy, &bs));
  TRY(ab_bon_from_samples(heap_scores, heap_values, 5000, 8, est));
  TRY(ab_bon_from_samples(heap_scores, heap_values, 300, 0, est));
  TRY(ab_joint_samples_bon(heap_scores, heap_values, 500, 4.0, &jr));
  TRY(ab_joint_samples_tilt(heap_scores, heap_values, 500, 0.5, &jr));
  TRY(ab_joint_samples_tilt_kl(heap_scores, heap_values, 500, 0.2, &jr, &lam));
out:
  return st;
}

static int sc_joint_and_rest(void) {
  ab_tail *g = NULL, *e = NULL;
  int st = AB_OK;
  ab_joint_result jr;
  ab_joint_gaussian jg = {0.5, 1.0, 1.0};
  ab_family js = {AB_JS, 0, NULL, NULL}, kl = {AB_KL, 1, NULL, NULL};
  ab_renyi_divergence bon = {AB_RENYI_BON, 0, 8.0, NULL, NULL};
  double v, a, lam, x[64];
  double fk[5] = {0.1, 0.4, 0.9, 1.6, 2.5}, fg[5] = {0.3, 0.5, 0.6, 0.55, 0.4};
  ab_goodhart fit;
  TRY(ab_tail_discrete(heap_values, NULL, 300, &g));
  TRY(ab_tail_gaussian(0.0, 0.5, &e));
  TRY(ab_joint_additive_bon(g, e, 4.0, 200, 3, &jr));
  TRY(ab_joint_additive_tilt(g, e, 0.5, 200, 3, &jr));
  TRY(ab_joint_additive_tilt_kl(g, e, 0.1, 200, 3, &jr, &lam));
  TRY(ab_joint_additive_sample(g, e, 64, 3, x));
  TRY(ab_joint_gaussian_bon(&jg, 4.0, &jr));
  TRY(ab_joint_gaussian_tilt_kl(&jg, 0.3, &jr, &lam));
  TRY(ab_bon_divergence(8.0, &js, AB_NUMERIC, &v, NULL));
  TRY(ab_bon_divergence(8.0, &kl, AB_CLOSED, &v, NULL));
  TRY(ab_divergence(heap_p100, heap_p100, 100, &js, &v));
  TRY(ab_rule_divergence(AB_RULE_BEST_OF_POISSON, 2.0, &js, &v));
  TRY(ab_renyi_gain(1.0, 1.0, &bon, NAN, &v, &a));
  TRY(ab_goodhart_fit(fk, fg, NULL, 5, AB_FIT_BON, &fit));
  /* the numerical routines on an exact law: quadrature, minimisers and
   * root solvers (GSL's, built in the core's memory) */
  ab_family chi2 = {AB_CHI2, 0, NULL, NULL}, hel = {AB_HELLINGER, 0, NULL, NULL};
  double budget[2] = {0.1, 1.0}, gains[2];
  TRY(ab_budget_gain(e, &chi2, budget, 2, gains, NULL, NULL));
  TRY(ab_budget_needed(e, &hel, budget, 2, gains, NULL, NULL));
  TRY(ab_rule_expected_gain(e, AB_RULE_BEST_OF_POISSON, 2.0, &v));
  TRY(ab_bon_expected_gain(e, 4.0, AB_NUMERIC, &v));
  TRY(ab_bon_variance_proxy_left(e, 4.0, &v));
  TRY(ab_tail_bound(e, AB_GAIN, AB_NUMERIC, 0.5, &v));
  TRY(ab_rule_divergence(AB_RULE_TOP_FRACTION, 0.2, &js, &v));
  TRY(ab_frontier_win_rate(0.5, &v, &a));
  ab_table tab;
  const char *cols[] = {"b"};
  TRY(ab_csv_read(heap_csv, cols, 1, &tab, NULL, 0));
  ab_table_free(&tab);
  TRY(ab_csv_read(heap_csv, NULL, 0, &tab, NULL, 0));
  ab_table_free(&tab);
out:
  ab_tail_free(g);
  ab_tail_free(e);
  return st;
}

/* The bootstraps (one thread: the pool's own arrays are tried on two threads
 * below; a pool that cannot get them runs on the calling thread) and GRPO's
 * root solvers. */
static uint32_t heap_counts[5000];
static int sc_bootstrap(void) {
  int st = AB_OK;
  size_t groups[51];
  for (size_t g = 0; g <= 50; g++) groups[g] = g * 100;
  ab_boot b = {8, 7, 0, NULL, 0}, bg = {8, 7, 3, groups, 50};
  ab_work w = {1, NULL, NULL};
  double v[8], q;
  ab_proxy_report rep;
  TRY(ab_estimate_variance_proxy_boot(heap_values, 5000, &b, &w, v));
  TRY(ab_estimate_variance_proxy_boot(heap_values, 5000, &bg, &w, v));
  TRY(ab_estimate_variance_proxy_report(heap_values, 5000, 0.9, &bg, &w, v, 0,
                                        &rep));
  TRY(ab_estimate_bon_boot(heap_scores, heap_values, 5000, 4, &bg, &w, v));
  TRY(ab_estimate_frontier_boot(heap_values, 1000, 0.3, &b, &w, v));
  TRY(ab_estimate_resample_counts(&bg, 5000, 3, heap_counts));
  TRY(ab_estimate_percentile(v, 8, 0.5, &q));
  ab_grpo gr = {AB_GRPO_STANDARD, 0.001, 5.0, 1e-5, 0.5};
  ab_grpo_point pts[AB_GRPO_MAX_POINTS];
  size_t np;
  ab_grpo_limit_result lr;
  TRY(ab_grpo_fixed_points(&gr, pts, &np));
  TRY(ab_grpo_limit(&gr, &lr));
out:
  return st;
}

/* Every divergence budget on a large finite law (the bucketed kernel sums
 * from 4096 atoms on), soft best-of-n on a continuous law, and the
 * additive model's draws. */
static int sc_budgets_rules(void) {
  ab_tail *fl = NULL, *g = NULL, *e = NULL;
  ab_rng *r = NULL;
  int st = AB_OK;
  ab_family hel = {AB_HELLINGER, 0, NULL, NULL}, chi = {AB_CHI2, 0, NULL, NULL};
  double budgets[3] = {0.01, 0.1, 0.5}, out[3], proxy[64], gold[64];
  size_t failed;
  ab_soft_summary ss;
  TRY(ab_tail_discrete(heap_values, heap_probs, 5000, &fl));
  TRY(ab_budget_gain(fl, &hel, budgets, 3, out, NULL, &failed));
  TRY(ab_budget_needed(fl, &hel, budgets, 3, out, NULL, &failed));
  TRY(ab_budget_gain(fl, &chi, budgets, 3, out, NULL, &failed));
  TRY(ab_tail_gaussian(0.0, 1.0, &g));
  TRY(ab_soft_bon_exact(g, 4.0, 0.5, NULL, &ss));
  TRY(ab_soft_bon_exact(fl, 4.0, 0.5, &chi, &ss));
  TRY(ab_tail_gaussian(0.0, 0.5, &e));
  TRY(ab_rng_new(3, 0, &r));
  TRY(ab_additive_draws(g, e, r, 64, proxy, gold));
out:
  ab_tail_free(fl);
  ab_tail_free(g);
  ab_tail_free(e);
  ab_rng_free(r);
  return st;
}

static int sc_workspace(void) {
  ab_workspace *w = NULL;
  ab_tail *g = NULL;
  int st = AB_OK;
  double v, est[8];
  static double pol[5000];
  ab_tilt_summary ts;
  ab_bon_summary bs;
  ab_family js = {AB_JS, 0, NULL, NULL};
  TRY(ab_workspace_new(&w));
  TRY(ab_tail_gaussian(0.0, 1.0, &g));
  TRY(ab_bon_divergence_ws(w, 8.0, &js, AB_CLOSED, &v, NULL));
  {
    /* the vector form's one workspace for its integrals */
    double ns[3] = {2.0, 8.0, 1e6}, out[3];
    TRY(ab_bon_divergence_vec(&js, AB_CLOSED, ns, 3, out, NULL));
  }
  TRY(ab_bon_expected_gain_ws(w, g, 8.0, AB_NUMERIC, &v));
  /* the buffer grows with the law */
  TRY(ab_tilt_policy_ws(w, heap_p100, heap_values, 100, AB_TILT_KL, 0.5, pol,
                        &ts));
  TRY(ab_bon_policy_ws(w, heap_probs, heap_values, 5000, 8.0, pol, &bs));
  TRY(ab_bon_from_samples_ws(w, heap_scores, heap_values, 5000, 8, est));
out:
  ab_tail_free(g);
  ab_workspace_free(w);
  return st;
}

/* The readers (issue 10's CSV and JSON Lines): files of 5000 rows, past the
 * columns' first capacity of 4096 rows, with text columns of 1667 and more
 * distinct strings (the interning tables grow and rehash), more than 8
 * header names, quoted names and fields with doubled quotes, and one field
 * of 1.2 MB, longer than the 1 MiB chunk (the file's buffer grows).
 * json-c's own allocations are outside the hook; the columns are not.  The
 * tables are checked, so a read that went wrong shows as AB_EDOM. */
static char heap_csv2[64], heap_jsonl[64];
#define HEAP_BIG 1200000 /* bytes of the long field, quotes undone */
#define HEAP_ROWS 5000

static int table_ok(const ab_table *t, size_t rows, size_t cols) {
  return t->rows == rows && t->cols == cols && t->names && t->data;
}

static int sc_readers(void) {
  ab_table t = {0, 0, NULL, NULL, NULL};
  int st = AB_OK;
  const char *two[] = {"a", "r"}, *nums[] = {"a", "b", "r"};
  const char *texts[] = {"id", "note \"x\""};
  ab_columns some = {nums, 3, texts, 2}, rest = {NULL, 0, texts, 2};
  TRY(ab_csv_read(heap_csv2, two, 2, &t, NULL, 0));
  if (!table_ok(&t, HEAP_ROWS, 2) || t.data[1][7] != heap_values[7])
    st = AB_EDOM;
  ab_table_free(&t);
  if (st) goto out;
  TRY(ab_csv_read_columns(heap_csv2, &some, &t, NULL, 0));
  if (!table_ok(&t, HEAP_ROWS, 5) || t.text[3].count != 1667 ||
      t.text[4].start[t.text[4].index[2500] + 1] -
              t.text[4].start[t.text[4].index[2500]] - 1 != HEAP_BIG)
    st = AB_EDOM;
  ab_table_drop(&t, 4); /* as the bindings do, then the rest */
  ab_table_free(&t);
  if (st) goto out;
  TRY(ab_csv_read_columns(heap_csv2, &rest, &t, NULL, 0));
  if (!table_ok(&t, HEAP_ROWS, 11)) st = AB_EDOM;
  ab_table_free(&t);
  if (st) goto out;
  const char *jn[] = {"r", "meta.n"}, *jt[] = {"meta.id", "uid", "txt"};
  ab_columns js = {jn, 2, jt, 3};
  TRY(ab_jsonl_read(heap_jsonl, &js, &t, NULL, 0));
  if (!table_ok(&t, HEAP_ROWS, 5) || t.text[2].count != 1667 ||
      t.text[3].count != 900 || t.data[1][4999] != 4999.0)
    st = AB_EDOM;
out:
  ab_table_free(&t);
  return st;
}

/* ab.group / ab.prompts: grouping 5000 rows by string and by numeric ids
 * (1667 prompts, spread over the rows: the hash table rehashes and the
 * per-prompt arrays grow past 1024), then the per-prompt laws on 50 prompts
 * of 2 to 41 responses (more than 32 are sorted by ab_sort_records). */
static double heap_ids[HEAP_ROWS];
static const char *heap_sid[HEAP_ROWS];
static size_t heap_slen[HEAP_ROWS];
static char heap_sbuf[HEAP_ROWS][8];

static int sc_prompts(void) {
  ab_grouping g = {0, 0, NULL, NULL, NULL};
  int st = AB_OK;
  static double grouped[HEAP_ROWS];
  TRY(ab_group_strings(heap_sid, heap_slen, HEAP_ROWS, &g));
  if (g.prompts != 1667 || g.offsets[g.prompts] != HEAP_ROWS) st = AB_EDOM;
  ab_group_permute(&g, heap_values, grouped);
  ab_grouping_free(&g);
  if (st) goto out;
  TRY(ab_group_numbers(heap_ids, HEAP_ROWS, &g));
  if (g.prompts != 1667 || g.first[1666] != 1666) st = AB_EDOM;
  ab_grouping_free(&g);
  TRY(ab_group_numbers(heap_ids, 0, &g)); /* no rows */
  ab_grouping_free(&g);
  if (st) goto out;
  enum { P = 50 };
  size_t off[P + 1], bad;
  off[0] = 0;
  for (size_t q = 0; q < P; q++) off[q + 1] = off[q] + 2 + q % 40;
  const double *r = heap_values, *gold = heap_scores;
  static double lp[HEAP_ROWS], lr[HEAP_ROWS];
  for (size_t j = 0; j < off[P]; j++) {
    lp[j] = -heap_values[j] / 10.0;
    lr[j] = -1.0;
  }
  double kl[P], gain[P], goldx[P], win[P], rkl[P], s2[P], front[P];
  ab_prompts_result res;
  TRY(ab_prompts_tilt(off, P, r, gold, AB_TILT_KL, 0.3, kl, gain, goldx,
                      &res));
  TRY(ab_prompts_tilt(off, P, r, NULL, AB_TILT_BETA, 2.0, kl, gain, goldx,
                      &res));
  TRY(ab_prompts_bon(off, P, r, gold, 4.0, kl, gain, goldx, win, &res));
  TRY(ab_prompts_variance_proxy(off, P, r, s2));
  TRY(ab_prompts_reweight(off, P, r, lp, lr, kl, rkl, gain, &bad));
  TRY(ab_prompts_frontier(off, P, r, kl, front));
out:
  ab_grouping_free(&g);
  return st;
}

/* The files of sc_readers; 0 if one cannot be written. */
static int write_reader_files(void) {
  strcpy(heap_csv2, "/tmp/alignbound_heap2_XXXXXX");
  strcpy(heap_jsonl, "/tmp/alignbound_heapj_XXXXXX");
  int fc = mkstemp(heap_csv2), fj = mkstemp(heap_jsonl);
  FILE *c = fc >= 0 ? fdopen(fc, "w") : NULL;
  FILE *j = fj >= 0 ? fdopen(fj, "w") : NULL;
  if (!c || !j) {
    if (c) fclose(c);
    if (j) fclose(j);
    return 0;
  }
  fprintf(c, "id,a,b,c,d,e,f,g,h,\"note \"\"x\"\"\",r\n");
  for (int i = 0; i < HEAP_ROWS; i++) {
    fprintf(c, "p%d,%d,%d,%d,%d,%d,%d,%d,%d,", (i * 7) % 1667, i, 2 * i,
            3 * i, i % 10, i % 11, i % 12, i % 13, i % 14);
    if (i == 2500) { /* "" undone to " : HEAP_BIG bytes */
      fputc('"', c);
      for (int k = 0; k < HEAP_BIG / 10; k++) fputs("big \"\"texts", c);
      fputc('"', c);
    } else {
      fprintf(c, "\"note, \"\"%d\"\"\"", i % 700);
    }
    fprintf(c, ",%.17g\n", heap_values[i]);
  }
  for (int i = 0; i < HEAP_ROWS; i++) {
    fprintf(j, "{\"r\": %.17g, \"meta\": {\"id\": \"p%d\", \"n\": %d}, "
            "\"uid\": %d, \"txt\": \"", heap_values[i], (i * 7) % 1667, i,
            i % 900);
    if (i == 2500)
      for (int k = 0; k < HEAP_BIG / 10; k++) fputs("big \\\"texts", j);
    else fprintf(j, "t%d", i % 600);
    fprintf(j, "\"}\n");
  }
  fclose(c);
  fclose(j);
  for (int i = 0; i < HEAP_ROWS; i++) {
    heap_ids[i] = (double)((i * 7) % 1667) * 0.5 - 100.0;
    snprintf(heap_sbuf[i], sizeof heap_sbuf[i], "q%d", (i * 7) % 1667);
    heap_sid[i] = heap_sbuf[i];
    heap_slen[i] = strlen(heap_sbuf[i]);
  }
  return 1;
}

/* The entry points that need no memory: under the counting allocator they
 * make no request at all (the scenario list checks requests > 0, so this
 * one runs apart). */
static int sc_no_memory(void) {
  ab_tail *t = NULL;
  ab_rng *r = NULL;
  int st = AB_OK, routes[3], route;
  double v, lo, hi, se, lp[3] = {-1, -2, -0.5}, lq[3] = {-1.5, -1, -0.7};
  char buf[64];
  ab_family kl = {AB_KL, 1, NULL, NULL}, hel = {AB_HELLINGER, 0, NULL, NULL};
  ab_error_model em = {AB_ERROR_BOUNDED, 0.1};
  ab_divergences dv = {0.2, NAN, NAN};
  ab_joint_gaussian jg = {0.5, 1.0, 1.0};
  ab_joint_result jr;
  TRY(ab_tail_gaussian(0.0, 1.0, &t));
  TRY(ab_rng_new(3, 0, &r));
  if (ab_strerror(AB_EDOM)[0] == 0 || ab_version()[0] == 0) st = AB_EDOM;
  if (!ab_certificate_name(AB_CERT_KL) || !ab_route_name(AB_ROUTE_KL) ||
      !ab_budget_route_name(AB_BUDGET_EXACT))
    st = AB_EDOM;
  if (st) goto out;
  ab_tail_describe(t, buf, sizeof buf);
  v = ab_tail_mean(t) + (double)ab_tail_atoms(t) + ab_rng_uniform(r);
  TRY(ab_tail_tilt_divergence(t, 0.5, &hel, &v));
  TRY(ab_family_check(&kl));
  TRY(ab_f_eval(&kl, 2.0, &v));
  TRY(ab_bon_win_rate(4.0, &v));
  TRY(ab_bon_kl_estimate(0.1, 4.0, &v));
  TRY(ab_bon_n_for_kl(0.5, &v));
  TRY(ab_rule_check(AB_RULE_TOP_FRACTION, 0.5));
  TRY(ab_rule_kl(AB_RULE_TOP_FRACTION, 0.5, &v));
  TRY(ab_rule_win_rate(AB_RULE_TOP_FRACTION, 0.5, &v));
  TRY(ab_error_check(&em));
  if (ab_error_routes(&em, routes) < 1) st = AB_EDOM;
  if (st) goto out;
  TRY(ab_error_golden(&em, 0.3, &dv, &lo, &hi, &route));
  TRY(ab_estimate_mean(lp, 3, &v, &se));
  TRY(ab_estimate_kl(lp, lq, 3, AB_K3, &v, &se));
  TRY(ab_estimate_renyi(lp, lq, 3, 0.5, &v, &se));
  TRY(ab_renyi_bound(1.0, 1.0, 0.5, 0.1, &v));
  TRY(ab_joint_gaussian_check(&jg));
  TRY(ab_joint_gaussian_tilt(&jg, 0.5, &jr));
  ab_advise_huge_pages(lp, sizeof lp);
out:
  ab_rng_free(r);
  ab_tail_free(t);
  return st;
}

/* A host's frame loop: after setup (the tails, a workspace reserved for the
 * largest law), bounds, best-of-n divergences and gains, tilts and policies
 * allocate nothing, and the _ws forms give the plain forms' results. */
static void test_frame_loop(counting_heap *h) {
  ab_workspace *ws = NULL;
  ab_tail *g = NULL, *fl = NULL, *be = NULL;
  ab_family js = {AB_JS, 0, NULL, NULL};
  static double policy[5000], ref_policy[5000], est[5000];
  CHECK(ab_workspace_new(&ws) == AB_OK);
  CHECK(ab_workspace_reserve(ws, AB_WORKSPACE_BYTES(5000)) == AB_OK);
  CHECK(ab_tail_gaussian(1.0, 2.0, &g) == AB_OK);
  CHECK(ab_tail_discrete(heap_values, heap_probs, 5000, &fl) == AB_OK);
  CHECK(ab_tail_beta(2.0, 5.0, &be) == AB_OK);
  if (!ws || !g || !fl || !be) return;
  double ref[8];
  ab_tilt_summary ts, ref_ts;
  ab_bon_summary bs, ref_bs;
  CHECK(ab_bon_divergence(8.0, &js, AB_CLOSED, &ref[0], NULL) == AB_OK);
  CHECK(ab_bon_expected_gain(g, 8.0, AB_NUMERIC, &ref[1]) == AB_OK);
  CHECK(ab_bon_expected_gain(fl, 8.0, AB_CLOSED, &ref[2]) == AB_OK);
  CHECK(ab_tilt_policy(heap_probs, heap_values, 5000, AB_TILT_KL, 0.5,
                       ref_policy, &ref_ts) == AB_OK);
  CHECK(ab_bon_policy(heap_probs, heap_values, 5000, 8.0, policy, &ref_bs) ==
        AB_OK);
  CHECK(ab_bon_from_samples(heap_scores, heap_values, 5000, 8, &ref[3]) ==
        AB_OK);
  h->requests = 0;
  int ok = 1;
  for (int frame = 0; frame < 20; frame++) {
    double v, kl = 0.05 * (frame + 1);
    ok &= ab_tail_bound(g, AB_GAIN, AB_CLOSED, kl, &v) == AB_OK;
    ok &= ab_tail_bound(fl, AB_GAIN, AB_CLOSED, kl, &v) == AB_OK;
    ok &= ab_tail_bound(be, AB_LOSS, AB_CLOSED, kl, &v) == AB_OK;
    ok &= ab_tail_kl_needed(fl, AB_GAIN, AB_CLOSED, 0.5, &v) == AB_OK;
    ok &= ab_tail_tilt(fl, AB_GAIN, kl, &v) == AB_OK;
    ok &= ab_tail_tilt_kl(be, 0.7, &v) == AB_OK;
    ok &= ab_tail_tilt_kl(fl, 0.7, &v) == AB_OK;
    ok &= ab_tail_cumulant_eval(fl, 2, 0.3, &v) == AB_OK;
    double kls[3] = {0.1, kl, 1.0}, outs[3];
    ok &= ab_tail_bound_vec(fl, AB_LOSS, AB_CLOSED, kls, 3, outs, NULL) == AB_OK;
    ok &= ab_tail_kl_needed_vec(be, AB_GAIN, AB_CLOSED, kls, 3, outs, NULL) ==
          AB_OK;
    ok &= ab_tilt_policy(heap_probs, heap_values, 5000, AB_TILT_BETA, 2.0,
                         policy, &ts) == AB_OK;
    ok &= ab_bon_divergence_ws(ws, 8.0, &js, AB_CLOSED, &v, NULL) == AB_OK &&
          v == ref[0];
    {
      /* the vector forms of a divergence in closed form and of the tilt */
      ab_family fams[3] = {{AB_KL, 1.0, NULL, NULL},
                           {AB_CHI2, 1.0, NULL, NULL},
                           {AB_RENYI, 0.5, NULL, NULL}};
      double ns[3] = {2.0, 8.0, 64.0 + frame}, lam[3];
      for (int k = 0; k < 3; k++)
        ok &= ab_bon_divergence_vec(&fams[k], AB_CLOSED, ns, 3, outs, NULL) ==
              AB_OK;
      ok &= ab_tail_tilt_vec(fl, AB_GAIN, kls, 3, lam, NULL) == AB_OK;
      ok &= ab_tilt_beta_vec(be, kls, 3, outs, NULL) == AB_OK;
      ok &= ab_tilt_kl_vec(fl, kls, 3, outs, NULL) == AB_OK;
    }
    ok &= ab_bon_expected_gain_ws(ws, g, 8.0, AB_NUMERIC, &v) == AB_OK &&
          v == ref[1];
    ok &= ab_bon_expected_gain_ws(ws, fl, 8.0, AB_CLOSED, &v) == AB_OK &&
          v == ref[2];
    ok &= ab_tilt_policy_ws(ws, heap_probs, heap_values, 5000, AB_TILT_KL, 0.5,
                            policy, &ts) == AB_OK &&
          ts.kl == ref_ts.kl && policy[17] == ref_policy[17];
    ok &= ab_bon_policy_ws(ws, heap_probs, heap_values, 5000, 8.0, policy,
                           &bs) == AB_OK && bs.kl == ref_bs.kl;
    ok &= ab_bon_from_samples_ws(ws, heap_scores, heap_values, 5000, 8,
                                 est) == AB_OK && est[0] == ref[3];
  }
  CHECK(ok);
  CHECK(h->requests == 0);
  if (h->requests)
    fprintf(stderr, "frame loop: %zu allocations\n", h->requests);
  ab_tail_free(g);
  ab_tail_free(fl);
  ab_tail_free(be);
  ab_workspace_free(ws);
  CHECK(h->live == 0);
}

/* The vector forms of issue 11 (ab_bon_divergence_vec, ab_tail_tilt_vec,
 * ab_tilt_kl_vec, ab_tilt_beta_vec) give the scalar calls' bits element by
 * element, and fail at the first bad element with its index. */
static void test_vector_forms(void) {
  ab_family fams[] = {
      {AB_KL, 1.0, NULL, NULL},         {AB_REVERSE_KL, 1.0, NULL, NULL},
      {AB_CHI2, 1.0, NULL, NULL},       {AB_HELLINGER, 1.0, NULL, NULL},
      {AB_TV, 1.0, NULL, NULL},         {AB_JS, 1.0, NULL, NULL},
      {AB_RENYI, 0.5, NULL, NULL},      {AB_RENYI, 3.0, NULL, NULL},
      {AB_RENYI, INFINITY, NULL, NULL}, {AB_ALPHA, -0.5, NULL, NULL},
      {AB_ALPHA, 2.5, NULL, NULL}};
  double ns[] = {1.0, 1.0 + 1e-9, 1.5, 2.0, 7.0, 64.0, 1e3, 1e9};
  size_t nn = sizeof ns / sizeof *ns, at;
  double out[8], one;
  int same = 1;
  for (size_t k = 0; k < sizeof fams / sizeof *fams; k++)
    for (int method = AB_CLOSED; method <= AB_NUMERIC; method++) {
      int st = ab_bon_divergence_vec(&fams[k], method, ns, nn, out, &at);
      CHECK(st == AB_OK);
      for (size_t i = 0; i < nn && !st; i++) {
        int s1 = ab_bon_divergence(ns[i], &fams[k], method, &one, NULL);
        same &= s1 == AB_OK && one == out[i];
      }
    }
  CHECK(same);
  double bad[] = {2.0, 3.0, 0.5, 4.0};
  at = 99;
  CHECK(ab_bon_divergence_vec(&fams[0], AB_CLOSED, bad, 4, out, &at) ==
            AB_EDOM &&
        at == 2);
  at = 99;
  CHECK(ab_bon_divergence_vec(&fams[5], AB_CLOSED, bad, 4, out, &at) ==
            AB_EDOM &&
        at == 2);
  ab_family nofam = {AB_RENYI, NAN, NULL, NULL};
  at = 99;
  CHECK(ab_bon_divergence_vec(&nofam, AB_CLOSED, ns, nn, out, &at) == AB_EDOM &&
        at == nn);
  CHECK(ab_bon_divergence_vec(&fams[0], AB_CLOSED, ns, 0, out, NULL) == AB_OK);

  /* the tilt: a finite law, an exact law, a one-sided class */
  ab_tail *laws[3] = {NULL, NULL, NULL};
  double v[5] = {0.0, 1.0, 1.5, 4.0, -2.0}, p[5] = {0.3, 0.3, 0.2, 0.1, 0.1};
  CHECK(ab_tail_discrete(v, p, 5, &laws[0]) == AB_OK);
  CHECK(ab_tail_beta(2.0, 5.0, &laws[1]) == AB_OK);
  CHECK(ab_tail_gaussian(1.0, 3.0, &laws[2]) == AB_OK);
  double kl[6] = {0.0, 1e-12, 0.01, 0.5, 2.0, 50.0}, lam[6], beta[6], back[6];
  for (int j = 0; j < 3; j++) {
    if (!laws[j]) continue;
    for (int side = AB_LOSS; side <= AB_GAIN; side += 2) {
      CHECK(ab_tail_tilt_vec(laws[j], side, kl, 6, lam, NULL) == AB_OK);
      same = 1;
      for (int i = 0; i < 6; i++)
        same &=
            ab_tail_tilt(laws[j], side, kl[i], &one) == AB_OK && one == lam[i];
      CHECK(same);
    }
    CHECK(ab_tail_tilt_vec(laws[j], AB_GAIN, kl, 6, lam, NULL) == AB_OK);
    CHECK(ab_tilt_beta_vec(laws[j], kl, 6, beta, NULL) == AB_OK);
    same = 1;
    for (int i = 0; i < 6; i++)
      same &= beta[i] == 1.0 / lam[i];
    CHECK(same);
    /* and back: the budget a penalty spends, as the scalar conversion
     * gives it (kl[0] = 0 has beta = +inf, and past the finite law's
     * saturation, -log 0.1, beta is 0: both outside kl_vec's domain) */
    int m = j == 0 ? 4 : 5;
    CHECK(beta[0] == INFINITY && (j != 0 || beta[5] == 0.0));
    CHECK(ab_tilt_kl_vec(laws[j], beta + 1, m, back, NULL) == AB_OK);
    same = 1;
    for (int i = 0; i < m; i++)
      same &= ab_tail_tilt_kl(laws[j], 1.0 / beta[i + 1], &one) == AB_OK &&
              one == back[i];
    CHECK(same);
    for (int i = 1; i < m; i++)
      CHECK_CLOSE(back[i], kl[i + 1], 1e-9);
    at = 99;
    CHECK(j != 0 ||
          (ab_tilt_kl_vec(laws[j], beta + 1, 5, back, &at) == AB_EDOM &&
           at == 4));
  }
  double kbad[3] = {0.5, NAN, 1.0};
  at = 99;
  CHECK(ab_tail_tilt_vec(laws[2], AB_GAIN, kbad, 3, lam, &at) == AB_EDOM &&
        at == 1);
  double bbad[3] = {1.0, 2.0, 0.0};
  at = 99;
  CHECK(ab_tilt_kl_vec(laws[2], bbad, 3, lam, &at) == AB_EDOM && at == 2);
  at = 99;
  CHECK(ab_tilt_beta_vec(laws[0], kbad, 3, lam, &at) == AB_EDOM && at == 1);
  ab_tail *sg = NULL;
  CHECK(ab_tail_subgamma(1.0, 0.5, &sg) == AB_OK);
  at = 99;
  CHECK(ab_tail_tilt_vec(sg, AB_LOSS, kl, 6, lam, &at) == AB_EUNDEF);
  ab_tail_free(sg);
  for (int j = 0; j < 3; j++)
    ab_tail_free(laws[j]);
}

/* The integral of ab_bon_divergence (AB_NUMERIC) agrees with every closed
 * form up to n = 1e15 and refuses beyond: found by fuzzing, it gave NaN for
 * renyi(5e-324) at n = 1e308, renyi(1e-100) 29% off at n = 1e200, kl +inf
 * at 1e307, and renyi(50) +inf at n = 1e9 (its moment overflows). */
static void test_bon_numeric_range(void) {
  ab_family fams[] = {
      {AB_KL, 1.0, NULL, NULL},       {AB_REVERSE_KL, 1.0, NULL, NULL},
      {AB_CHI2, 1.0, NULL, NULL},     {AB_HELLINGER, 1.0, NULL, NULL},
      {AB_TV, 1.0, NULL, NULL},       {AB_RENYI, 5e-324, NULL, NULL},
      {AB_RENYI, 1e-100, NULL, NULL}, {AB_RENYI, 0.5, NULL, NULL},
      {AB_RENYI, 3.0, NULL, NULL},    {AB_ALPHA, -0.5, NULL, NULL},
      {AB_ALPHA, 1e-200, NULL, NULL}, {AB_ALPHA, 2.5, NULL, NULL}};
  double ns[] = {1.0 + 1e-12, 1.5, 2.0, 10.0, 1e3, 1e6, 1e9, 1e12, 1e15};
  int agree = 1;
  for (size_t k = 0; k < sizeof fams / sizeof *fams; k++)
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
      double a, b;
      int s1 = ab_bon_divergence(ns[i], &fams[k], AB_NUMERIC, &a, NULL);
      int s2 = ab_bon_divergence(ns[i], &fams[k], AB_CLOSED, &b, NULL);
      int ok = s1 == AB_OK && s2 == AB_OK &&
               (a == b || fabs(a - b) <= 1e-9 * fabs(b) + 1e-300);
      if (!ok)
        fprintf(stderr,
                "bon numeric: family %d alpha %g n %g: %d %.17g, "
                "closed %.17g\n",
                fams[k].kind, fams[k].alpha, ns[i], s1, a, b);
      agree &= ok;
    }
  CHECK(agree);
  double big[] = {1e16, 1e200, 1e307, 1e308}, v;
  for (size_t k = 0; k < sizeof fams / sizeof *fams; k++)
    for (int i = 0; i < 4; i++)
      CHECK(ab_bon_divergence(big[i], &fams[k], AB_NUMERIC, &v, NULL) ==
            AB_ENOCONV);
  ab_family r50 = {AB_RENYI, 50.0, NULL, NULL};
  CHECK(ab_bon_divergence(1e9, &r50, AB_NUMERIC, &v, NULL) == AB_ENOCONV);
  CHECK(ab_bon_divergence(1e9, &r50, AB_CLOSED, &v, NULL) == AB_OK &&
        isfinite(v) && v > 20.0);
  /* the families without a closed form keep integrating at any n */
  ab_family js = {AB_JS, 0.0, NULL, NULL};
  CHECK(ab_bon_divergence(1e300, &js, AB_CLOSED, &v, NULL) == AB_OK &&
        v > 0.69 && v <= log(2.0));
}

/* One probability tolerance, AB_PROB_TOL, in every entry point that takes
 * probabilities: a sum just inside is accepted, just outside refused. */
static void test_prob_tolerance(void) {
  double v[3] = {0.0, 1.0, 2.0}, q[3] = {0.25, 0.25, 0.5}, pol[3], out;
  for (int inside = 0; inside <= 1; inside++) {
    double e = inside ? 0.9 * AB_PROB_TOL : 1.1 * AB_PROB_TOL;
    double p[3] = {0.25, 0.25, 0.5 + e};
    int want = inside ? AB_OK : AB_EDOM;
    ab_tail *t = NULL;
    ab_family kl = {AB_KL, 1.0, NULL, NULL};
    ab_tilt_summary ts;
    ab_bon_summary bs;
    CHECK(ab_tail_discrete(v, p, 3, &t) == want);
    ab_tail_free(t);
    CHECK(ab_divergence(p, q, 3, &kl, &out) == want);
    CHECK(ab_divergence(q, p, 3, &kl, &out) == want);
    CHECK(ab_tilt_policy(p, v, 3, AB_TILT_KL, 0.1, pol, &ts) == want);
    CHECK(ab_bon_policy(p, v, 3, 4.0, pol, &bs) == want);
  }
}

static void test_allocator(void) {
  counting_heap h = {0, 0, 0, 0, 0};
  int (*scenario[])(void) = {sc_constructors, sc_finite_law, sc_policies,
                             sc_joint_and_rest, sc_workspace, sc_bootstrap,
                             sc_budgets_rules, sc_readers, sc_prompts};
  const char *name[] = {"constructors", "finite law", "policies",
                        "joint and the rest", "workspace", "bootstrap",
                        "budgets and rules", "readers", "prompts"};
  /* data: ties among the values, probabilities summing to 1 */
  for (int i = 0; i < 5000; i++) {
    heap_values[i] = (double)((i * 7919) % 1000) / 100.0;
    heap_probs[i] = 1.0 / 5000.0;
    heap_scores[i] = (double)((i * 104729) % 4999);
  }
  for (int i = 0; i < 100; i++) heap_p100[i] = 0.01;
  /* a csv of 3000 rows: its columns grow past their first capacity */
  strcpy(heap_csv, "/tmp/alignbound_heap_XXXXXX");
  int fd = mkstemp(heap_csv);
  CHECK(fd >= 0);
  if (fd < 0) return;
  FILE *f = fdopen(fd, "w");
  fprintf(f, "a,\"b\"\n");
  for (int i = 0; i < 3000; i++) fprintf(f, "%d,%g\n", i, heap_values[i]);
  fclose(f);
  CHECK(write_reader_files());

  /* the library is idle here (no object alive): the allocator may be set */
  ab_allocator before;
  ab_get_allocator(&before);
  ab_set_allocator(counting_alloc, &h);
  ab_allocator now;
  ab_get_allocator(&now);
  CHECK(now.alloc == counting_alloc && now.ud == &h);
  for (size_t s = 0; s < sizeof scenario / sizeof *scenario; s++) {
    h.requests = h.bytes_seen = h.fail_at = 0;
    int st = scenario[s]();
    size_t requests = h.requests;
    if (st != AB_OK || h.live != 0 || requests == 0)
      fprintf(stderr, "allocator: %s: status %d, %zu bytes live, %zu "
              "requests\n", name[s], st, h.live, requests);
    if (getenv("AB_TEST_VERBOSE"))
      printf("allocator: %s: %zu requests, %zu bytes\n", name[s], requests,
             h.bytes_seen);
    CHECK(st == AB_OK);
    CHECK(requests > 0 && h.bytes_seen > 0);
    CHECK(h.live == 0);
    /* fail each request in turn (under valgrind, every 5th: it is slow) */
    const char *pre = getenv("LD_PRELOAD");
    size_t stride = pre && strstr(pre, "vgpreload") ? 5 : 1, bad = 0;
    for (size_t k = 1; k <= requests; k += stride) {
      h.requests = 0;
      h.fail_at = k;
      st = scenario[s]();
      if ((st != AB_ENOMEM || h.live != 0) && bad++ < 5)
        fprintf(stderr, "allocator: %s: request %zu of %zu failed: status "
                "%d, %zu bytes live\n", name[s], k, requests, st, h.live);
      h.live = 0; /* one leak reported once */
    }
    h.fail_at = 0;
    CHECK(bad == 0);
  }
  {
    /* the pool's arrays on two threads, sizes and all returned */
    ab_boot b = {6, 7, 0, NULL, 0};
    ab_work w2 = {2, NULL, NULL};
    double v[6];
    CHECK(ab_estimate_variance_proxy_boot(heap_values, 5000, &b, &w2, v) ==
          AB_OK);
    CHECK(ab_estimate_bon_boot(heap_scores, heap_values, 5000, 4, &b, &w2, v) ==
          AB_OK);
    CHECK(h.live == 0);
  }
  CHECK(h.wrong_size == 0);
  /* the rest of the API: only the tail and generator it makes allocate */
  h.requests = 0;
  CHECK(sc_no_memory() == AB_OK);
  CHECK(h.requests == 3 && h.live == 0);
  test_frame_loop(&h);
  /* per-object allocators: the object lives and dies through its own */
  counting_heap own = {0, 0, 0, 0, 0};
  ab_allocator a = {counting_alloc, &own};
  ab_tail *t;
  ab_rng *r;
  size_t process_requests = h.requests;
  CHECK(ab_tail_discrete_a(&a, heap_values, NULL, 1000, &t) == AB_OK);
  CHECK(own.live >= 1000 * sizeof(double));
  CHECK(ab_rng_new_a(&a, 1, 2, &r) == AB_OK);
  CHECK(h.requests == process_requests);
  double v;
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.5, &v) == AB_OK);
  ab_rng_free(r);
  ab_tail_free(t);
  CHECK(own.live == 0 && own.wrong_size == 0);
  own.requests = 0;
  own.fail_at = 2; /* the arrays after the object */
  CHECK(ab_tail_discrete_a(&a, heap_values, heap_p100, 100, &t) ==
        AB_ENOMEM);
  CHECK(own.live == 0);
  ab_set_allocator(NULL, NULL);
  ab_get_allocator(&now);
  CHECK(now.alloc != counting_alloc && now.alloc == before.alloc);
  remove(heap_csv);
  remove(heap_csv2);
  remove(heap_jsonl);
}

/* The string of row i of text column j of a table. */
static const char *cell(const ab_table *t, size_t j, size_t i) {
  const ab_text *x = &t->text[j];
  return x->chars + x->start[x->index[i]];
}

/* Issue 10: RFC 4180 fields (commas, doubled quotes and line breaks inside
 * quotes), columns not asked for skipped whatever they hold, text columns
 * interned, and line numbers that count the breaks inside quoted fields. */
static void test_csv_text_columns(void) {
  char path[] = "/tmp/alignbound_csv_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  ab_table t;
  write_file(path, "id,note,r,empty\r\n"
                   "p1,\"a, \"\"b\"\"\nc\",1.5,\r\n"
                   "\"p2\",plain,\"-2\",\"\"\r\n"
                   "p1,,3e2,x\r\n");
  const char *num[1] = {"r"}, *text[2] = {"id", "note"};
  ab_columns want = {num, 1, text, 2};
  CHECK(ab_csv_read_columns(path, &want, &t, err, sizeof err) == AB_OK);
  CHECK(t.rows == 3 && t.cols == 3 && t.data[1] == NULL && t.data[2] == NULL);
  CHECK(t.data[0][0] == 1.5 && t.data[0][1] == -2 && t.data[0][2] == 300);
  CHECK(strcmp(t.names[1], "id") == 0 && t.text[1].count == 2);
  CHECK(strcmp(cell(&t, 1, 0), "p1") == 0 && strcmp(cell(&t, 1, 1), "p2") == 0);
  CHECK(t.text[1].index[0] == t.text[1].index[2]); /* interned */
  CHECK(strcmp(cell(&t, 2, 0), "a, \"b\"\nc") == 0);
  CHECK(strcmp(cell(&t, 2, 2), "") == 0 && t.text[2].count == 3);
  ab_table_free(&t);
  /* the same file read for numbers only: the text is skipped */
  CHECK(ab_csv_read(path, num, 1, &t, err, sizeof err) == AB_OK);
  CHECK(t.rows == 3 && t.data[0][2] == 300 && t.text == NULL);
  ab_table_free(&t);
  /* a bad value after a quoted line break: the line is the file's (4) */
  write_file(path, "id,r\n\"x\ny\",1\nz,oops\n");
  CHECK(ab_csv_read(path, num, 1, &t, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":4: column 2 ('r'): not a finite number: 'oops'") != NULL);
  CHECK(t.cols == 0 && t.data == NULL && t.text == NULL);
  const char *bad[][2] = {
      {"id,r\np,1\nq\n", ":3: column 1 ('id'): fewer fields than the header has (2)"},
      {"id,r\np,1,2\n", ":2: column 2 ('r'): more fields than the header has (2)"},
      {"id,r\n\"p,1\n", ":2: column 1 ('id'): quoted field not closed"},
      {"id,r\n\"p\"q,1\n", ":2: column 1 ('id'): text after the closing quote"},
      {"id,r\np,\"1\"\"\"\n", ":2: column 2 ('r'): not a finite number"},
      {"id,r\np,\"\"\n", ":2: column 2 ('r'): missing value"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    write_file(path, bad[k][0]);
    err[0] = '\0';
    CHECK(ab_csv_read(path, num, 1, &t, err, sizeof err) == AB_EPARSE);
    CHECK(strstr(err, bad[k][1]) != NULL);
    if (!strstr(err, bad[k][1])) fprintf(stderr, "  got: %s\n", err);
  }
  /* a NUL byte (fwrite: write_file stops at it) */
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite("r\n1\n2\0\n", 1, 7, f) == 7);
  if (f) fclose(f);
  CHECK(ab_csv_read(path, num, 1, &t, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":3: column 1 ('r'): NUL byte") != NULL);
  /* text columns the header lacks, with no numeric columns named (the
   * plan's list overflowed by them under AddressSanitizer) */
  const char *ghost[2] = {"zz", "yy"};
  ab_columns ghosts = {NULL, 0, ghost, 2};
  CHECK(ab_csv_read_columns(path, &ghosts, &t, err, sizeof err) == AB_EDOM);
  CHECK(strstr(err, "no column named 'zz' (the columns are 'r')") != NULL);
  /* a name asked for as a number and as text */
  const char *twice[1] = {"r"};
  ab_columns both = {num, 1, twice, 1};
  CHECK(ab_csv_read_columns(path, &both, &t, err, sizeof err) == AB_EDOM);
  CHECK(strstr(err, "column 'r' requested twice") != NULL);
  remove(path);
}

/* Records cut by the reader's 1 MiB chunks: 200000 rows (about 5 MB) with
 * quoted fields holding line breaks and CRLF line ends read back exactly. */
static void test_csv_chunks(void) {
  char path[] = "/tmp/alignbound_csv_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  CHECK(f != NULL);
  if (!f) return;
  const size_t n = 200000;
  fputs("k,id,x\r\n", f);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%zu,\"p%zu\n\"\"q\"\"\",%.17g\r\n", i, i % 977, i * 0.001 - 7);
  fclose(f);
  const char *num[2] = {"x", "k"}, *text[1] = {"id"};
  ab_columns want = {num, 2, text, 1};
  ab_table t;
  CHECK(ab_csv_read_columns(path, &want, &t, err, sizeof err) == AB_OK);
  CHECK(t.rows == n && t.text[2].count == 977);
  int ok = t.rows == n;
  char expect[64];
  for (size_t i = 0; ok && i < n; i++) {
    snprintf(expect, sizeof expect, "p%zu\n\"q\"", i % 977);
    ok = t.data[0][i] == i * 0.001 - 7 && t.data[1][i] == (double)i &&
         strcmp(cell(&t, 2, i), expect) == 0;
  }
  CHECK(ok);
  ab_table_free(&t);
  /* an error far into the file names its line: 2 lines a record */
  f = fopen(path, "ab");
  CHECK(f != NULL);
  if (f) {
    fputs("1,x,oops\r\n", f);
    fclose(f);
  }
  CHECK(ab_csv_read_columns(path, &want, &t, err, sizeof err) == AB_EPARSE);
  snprintf(expect, sizeof expect, ":%zu: column 3 ('x')", 2 * n + 2);
  CHECK(strstr(err, expect) != NULL);
  remove(path);
}

/* Every place the reader's first 1 MiB chunk can end inside a record: the
 * record after a filler of 2^20 - k bytes, for every k across it (quoted
 * field with a doubled quote, a line break and a comma, CRLF, a number with
 * an exponent); it reads the same wherever the chunk ends. */
static void test_csv_chunk_edges(void) {
  char path[] = "/tmp/alignbound_csv_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  const char *rec = "\"q\"\"x\r\n, y\",-1.5e-3 \r\n";
  const size_t chunk = (size_t)1 << 20, len = strlen(rec);
  const char *num[1] = {"x"}, *text[1] = {"id"};
  ab_columns want = {num, 1, text, 1};
  int all = 1;
  for (size_t k = 1; k <= len + 2; k++) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    size_t at = 0, rows = 0;
    at += (size_t)fprintf(f, "id,x\r\n");
    while (at + 2 * 5 < chunk - k) { /* rows of 5 bytes, then one to fit */
      fputs("a,1\r\n", f);
      at += 5;
      rows++;
    }
    size_t pad = chunk - k - at - 4; /* "<pad a's>,1\r\n" */
    for (size_t i = 0; i < pad; i++) fputc('a', f);
    fputs(",1\r\n", f);
    rows++;
    fputs(rec, f);
    fputs("z,2", f); /* no line end at the end of the file */
    fclose(f);
    ab_table t;
    int st = ab_csv_read_columns(path, &want, &t, err, sizeof err);
    int ok = st == AB_OK && t.rows == rows + 2 && t.data[0][rows] == -1.5e-3 &&
             t.data[0][rows + 1] == 2 && strcmp(cell(&t, 1, rows), "q\"x\r\n, y") == 0 &&
             strcmp(cell(&t, 1, rows + 1), "z") == 0 && t.text[1].count == 4;
    if (!ok) fprintf(stderr, "  the chunk ending %zu bytes into the record: %s\n", k,
                     st ? err : "wrong values");
    all &= ok;
    if (st == AB_OK) ab_table_free(&t);
    /* and the lines are counted right across the edge: the header, the
     * rows, two for the record, z, then the bad line */
    f = fopen(path, "ab");
    CHECK(f != NULL);
    if (!f) return;
    fputs("\r\nw,oops\r\n", f);
    fclose(f);
    char where[64];
    snprintf(where, sizeof where, ":%zu: column 2 ('x')", rows + 5);
    st = ab_csv_read_columns(path, &want, &t, err, sizeof err);
    ok = st == AB_EPARSE && strstr(err, where) != NULL;
    if (!ok) fprintf(stderr, "  the chunk ending %zu bytes into the record: %s\n", k, err);
    all &= ok;
  }
  CHECK(all);
  remove(path);
}

/* JSON Lines: nested fields by dotted path (a key with dots first), integer
 * ids as text, a byte order mark, blank lines and CRLF; errors naming file,
 * line and field (columns counted from the line's start). */
static void test_jsonl(void) {
  char path[] = "/tmp/alignbound_jsonl_XXXXXX", err[256];
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  write_file(path, "\xEF\xBB\xBF{\"r\": 1.5, \"meta\": {\"id\": \"p1\", \"n\": 2}, \"a.b\": 7}\r\n"
                   "\n"
                   "  {\"meta\": {\"id\": 12345678901, \"n\": 3}, \"r\": -2, \"a.b\": 8}\n"
                   "{\"r\": 5e-324, \"meta\": {\"id\": \"p1\", \"n\": 4}, \"a.b\": 9}");
  const char *num[3] = {"r", "meta.n", "a.b"}, *text[1] = {"meta.id"};
  ab_columns want = {num, 3, text, 1};
  ab_table t;
  CHECK(ab_jsonl_read(path, &want, &t, err, sizeof err) == AB_OK);
  CHECK(t.rows == 3 && t.cols == 4);
  CHECK(t.data[0][0] == 1.5 && t.data[0][1] == -2 && t.data[0][2] == 5e-324);
  CHECK(t.data[1][2] == 4 && t.data[2][0] == 7 && t.data[2][2] == 9);
  CHECK(strcmp(cell(&t, 3, 1), "12345678901") == 0 && t.text[3].count == 2);
  CHECK(t.text[3].index[0] == t.text[3].index[2]);
  ab_table_free(&t);
  const char *bad[][2] = {
      {"{\"r\": 1}\n{\"r\": 2,}\n", ":2: JSON syntax error at column 9"},
      {"{\"r\": 1}\n  {\"r\": 2,}\n", ":2: JSON syntax error at column 11"},
      {"{\"r\": 1}\n{\"r\": 2\n", ":2: JSON syntax error: the line ends inside"},
      {"{\"r\": 1} x\n", ":1: JSON syntax error at column 10"},
      {"[1]\n", ":1: an array, not a JSON object"},
      {"{\"r\": 1}\n\n{\"rr\": 2, \"s\": 3}\n", ":3: no field 'r' (the keys are 'rr', 's')"},
      {"{\"r\": NaN}\n", ":1: field 'r' is NaN"},
      {"{\"r\": -Infinity}\n", ":1: field 'r': not a finite number: '-Infinity'"},
      {"{\"r\": 1e400}\n", ":1: field 'r': not a finite number: '1e400'"},
      {"{\"r\": 1e-400}\n", ":1: field 'r': '1e-400' underflows to 0"},
      {"{\"r\": \"0.5\"}\n", ":1: field 'r' is a string ('0.5'), not a number"},
      {"{\"r\": null}\n", ":1: field 'r' is null, not a number"},
  };
  const char *r[1] = {"r"};
  ab_columns just_r = {r, 1, NULL, 0};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    write_file(path, bad[k][0]);
    err[0] = '\0';
    CHECK(ab_jsonl_read(path, &just_r, &t, err, sizeof err) == AB_EPARSE);
    CHECK(strstr(err, bad[k][1]) != NULL && strncmp(err, path, strlen(path)) == 0);
    if (!strstr(err, bad[k][1])) fprintf(stderr, "  got: %s\n", err);
    CHECK(t.cols == 0 && t.data == NULL);
  }
  write_file(path, "{\"meta\": {\"n\": 1, \"m\": 2}}\n{\"meta\": 3}\n");
  const char *id[1] = {"meta.id"}, *n[1] = {"meta.n"};
  ab_columns want_id = {NULL, 0, id, 1}, want_n = {n, 1, NULL, 0};
  CHECK(ab_jsonl_read(path, &want_id, &t, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":1: no field 'meta.id' (the keys of 'meta' are 'n', 'm')"));
  CHECK(ab_jsonl_read(path, &want_n, &t, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":2: no field 'meta.n' ('meta' is a int, not an object)"));
  write_file(path, "{\"id\": 1.5}\n");
  const char *plain[1] = {"id"};
  ab_columns text_id = {NULL, 0, plain, 1}, none = {NULL, 0, NULL, 0};
  CHECK(ab_jsonl_read(path, &text_id, &t, err, sizeof err) == AB_EPARSE);
  CHECK(strstr(err, ":1: field 'id' is double, not a string or an integer"));
  CHECK(ab_jsonl_read(path, &none, &t, err, sizeof err) == AB_EDOM);
  remove(path);
  CHECK(ab_jsonl_read(path, &text_id, &t, err, sizeof err) == AB_EIO);
  CHECK(strstr(err, path) != NULL);
}

/* Per prompt (DESIGN 3.7): grouping in order of first appearance, the
 * common tilt's solve hitting its budget, and the refusals (NaN ids, an
 * empty prompt, a one-response prompt where two are needed). */
static void test_prompts(void) {
  const char *s[] = {"b", "a", "b", "c", "a", "b"};
  size_t len[] = {1, 1, 1, 1, 1, 1};
  ab_grouping g;
  CHECK(ab_group_strings(s, len, 6, &g) == AB_OK);
  CHECK(g.prompts == 3 && g.rows == 6);
  CHECK(g.first[0] == 0 && g.first[1] == 1 && g.first[2] == 3);
  CHECK(g.offsets[0] == 0 && g.offsets[1] == 3 && g.offsets[2] == 5 && g.offsets[3] == 6);
  CHECK(g.order[0] == 0 && g.order[1] == 2 && g.order[2] == 5 && g.order[3] == 1);
  double r[] = {0, 1, 2, 3, 4, 5}, out[6];
  ab_group_permute(&g, r, out);
  CHECK(out[0] == 0 && out[1] == 2 && out[2] == 5 && out[3] == 1 && out[4] == 4 && out[5] == 3);
  ab_grouping_free(&g);
  double ids[] = {1, 0.0, -0.0, NAN};
  CHECK(ab_group_numbers(ids, 3, &g) == AB_OK && g.prompts == 2);
  ab_grouping_free(&g);
  CHECK(ab_group_numbers(ids, 4, &g) == AB_EDOM);
  /* two prompts {0, 1, 3} and {2, 2, 7}: the common tilt at E KL = 0.3 */
  size_t off[] = {0, 3, 6}, bad = 99;
  double rw[] = {0, 1, 3, 2, 2, 7}, kl[2], gain[2], gold[2], win[2];
  ab_prompts_result res;
  CHECK(ab_prompts_tilt(off, 2, rw, rw, AB_TILT_KL, 0.3, kl, gain, gold, &res) == AB_OK);
  CHECK_CLOSE(res.kl, 0.3, 1e-13);
  CHECK_CLOSE(0.5 * (kl[0] + kl[1]), 0.3, 1e-13);
  CHECK_CLOSE(gold[0], gain[0], 1e-13); /* gold = reward */
  CHECK_CLOSE(gold[1], gain[1], 1e-13);
  /* beyond saturation E -log P(top) = log 3: the top rewards */
  CHECK(ab_prompts_tilt(off, 2, rw, NULL, AB_TILT_KL, 2.0, kl, gain, NULL, &res) == AB_OK);
  CHECK(isinf(res.lambda));
  CHECK_CLOSE(res.gain, 0.5 * ((3 - 4.0 / 3) + (7 - 11.0 / 3)), 1e-15);
  CHECK(ab_prompts_bon(off, 2, rw, NULL, 4, kl, gain, NULL, win, &res) == AB_OK);
  CHECK(res.win_rate > 0.5 && res.win_rate < 1);
  size_t empty[] = {0, 3, 3};
  CHECK(ab_prompts_check(empty, 2, rw, 1, &bad) == AB_EDOM && bad == 1);
  size_t lone[] = {0, 5, 6};
  double lp[6] = {0}, rkl[2];
  bad = 99;
  CHECK(ab_prompts_reweight(lone, 2, rw, lp, lp, kl, rkl, gain, &bad) == AB_EDOM && bad == 1);
  /* a uniform reweighting is the reference: no KL, no gain */
  CHECK(ab_prompts_reweight(off, 2, rw, lp, lp, kl, rkl, gain, &bad) == AB_OK);
  CHECK(kl[0] == 0 && rkl[1] == 0 && gain[0] == 0);
}

/* issue 8 (rest): power-family budgets on a large finite law by bucketed
 * series, against the same law as atoms below the bucket threshold; soft
 * best-of-n on a continuous law against mpmath; gains over pairs. */
static void test_issue8_rest(void) {
  enum { M = 2500 };
  double *v = malloc(2 * M * sizeof *v), *pr = malloc(M * sizeof *pr);
  CHECK(v && pr);
  if (!v || !pr) {
    free(v);
    free(pr);
    return;
  }
  for (int i = 1; i <= M; i++) {
    double y = i * 0.6180339887498949;
    v[i - 1] = v[M + i - 1] = i == M ? 20.0 : pow(y - floor(y), 3.0);
    pr[i - 1] = 1.0 / M;
  }
  ab_tail *fast = NULL, *slow = NULL;
  CHECK(ab_tail_discrete(v, NULL, 2 * M, &fast) == AB_OK);
  CHECK(ab_tail_discrete(v, pr, M, &slow) == AB_OK);
  ab_family fams[] = {{AB_HELLINGER, 0.0, NULL, NULL}, {AB_ALPHA, 3.0, NULL, NULL},
                      {AB_RENYI, 0.3, NULL, NULL}, {AB_REVERSE_KL, 0.0, NULL, NULL}};
  double c[] = {1e-8, 1e-2, 0.5, 4.0}, a[4], b[4];
  for (int k = 0; fast && slow && k < 4; k++) {
    CHECK(ab_budget_gain(fast, &fams[k], c, 4, a, NULL, NULL) == AB_OK);
    CHECK(ab_budget_gain(slow, &fams[k], c, 4, b, NULL, NULL) == AB_OK);
    for (int i = 0; i < 4; i++) CHECK_CLOSE(a[i], b[i], 2e-10);
  }
  ab_tail_free(fast);
  ab_tail_free(slow);
  /* n = 2, T = 1 on N(0, 1): gain E[D sigma(D)], D ~ N(0, 2) (mpmath) */
  ab_tail *g = NULL;
  ab_soft_summary s;
  ab_family hel = {AB_HELLINGER, 0.0, NULL, NULL}, tv = {AB_TV, 0.0, NULL, NULL};
  CHECK(ab_tail_gaussian(0.0, 1.0, &g) == AB_OK);
  CHECK(ab_soft_bon_exact(g, 2.0, 1.0, &hel, &s) == AB_OK);
  CHECK_CLOSE(s.gain, 0.36316184603163054549, 1e-10);
  CHECK_CLOSE(s.kl, 0.070749861500789093392, 1e-10);
  CHECK_CLOSE(s.win_rate, 0.60446700601920282028, 1e-10);
  CHECK(s.divergence > 0.0 && s.divergence < s.kl);
  CHECK(ab_soft_bon_exact(g, 2.5, 1.0, NULL, &s) == AB_EDOM);
  CHECK(ab_soft_bon_exact(g, 2.0, 0.0, NULL, &s) == AB_EDOM);
  CHECK(ab_soft_bon_exact(g, 2.0, 1.0, &tv, &s) == AB_EUNDEF);
  ab_tail_free(g);
  /* a policy on the top two of four pairs */
  double pi[] = {0.0, 0.0, 0.5, 0.5}, px[] = {0, 1, 2, 3}, gd[] = {1, 1, 3, 1};
  ab_pair_summary ps;
  CHECK(ab_pair_gains(pi, px, gd, 4, &ps) == AB_OK);
  CHECK_CLOSE(ps.proxy_gain, 1.0, 1e-15);
  CHECK_CLOSE(ps.gold_gain, 0.5, 1e-15);
  CHECK(ab_pair_gains(pi, px, gd, 0, &ps) == AB_EDOM);
  free(v);
  free(pr);
}

/* The readers' progress: bytes read against the file's size after each
 * 1 MiB chunk, rising to the size; a callback that returns non-zero stops
 * the read with AB_ECANCEL, nothing returned (ASan/valgrind: nothing kept). */
typedef struct {
  double last, total;
  int calls, cancel_at, rising;
} read_watch;

static int watch_read(void *ud, double done, double total) {
  read_watch *w = ud;
  w->rising &= done >= w->last && done <= total;
  w->last = done;
  w->total = total;
  return ++w->calls == w->cancel_at;
}

static void test_read_progress(void) {
  char csv[] = "/tmp/alignbound_rprog_XXXXXX", jl[] = "/tmp/alignbound_rprogj_XXXXXX";
  char err[256];
  int fd = mkstemp(csv), fj = mkstemp(jl);
  CHECK(fd >= 0 && fj >= 0);
  close(fd);
  close(fj);
  FILE *f = fopen(csv, "w"), *g = fopen(jl, "w");
  CHECK(f && g);
  if (!f || !g) return;
  fputs("id,r\n", f);
  size_t rows = 300000; /* about 3 MiB of CSV, 7 MiB of JSON Lines */
  for (size_t i = 0; i < rows; i++) {
    fprintf(f, "p%zu,%zu.5\n", i / 7, i % 1000);
    fprintf(g, "{\"id\": \"p%zu\", \"r\": %zu.5}\n", i / 7, i % 1000);
  }
  long csv_size = ftell(f), jl_size = ftell(g);
  fclose(f);
  fclose(g);
  const char *num[1] = {"r"}, *text[1] = {"id"};
  ab_columns want = {num, 1, text, 1};
  for (int which = 0; which < 2; which++) {
    const char *path = which ? jl : csv;
    double size = (double)(which ? jl_size : csv_size);
    read_watch w = {0, 0, 0, 0, 1};
    ab_work work = {0, watch_read, &w};
    ab_table t;
    int st = which ? ab_jsonl_read_work(path, &want, &work, &t, err, sizeof err)
                   : ab_csv_read_work(path, &want, &work, &t, err, sizeof err);
    CHECK(st == AB_OK && t.rows == rows);
    CHECK(w.rising && w.calls >= 3 && w.last == size && w.total == size);
    if (!st) CHECK(t.data[0][rows - 1] == (double)((rows - 1) % 1000) + 0.5);
    ab_table_free(&t);
    read_watch c = {0, 0, 0, 2, 1}; /* stop after the second chunk */
    work.progress_ud = &c;
    st = which ? ab_jsonl_read_work(path, &want, &work, &t, err, sizeof err)
               : ab_csv_read_work(path, &want, &work, &t, err, sizeof err);
    CHECK(st == AB_ECANCEL && c.calls == 2 && c.last < size);
    CHECK(strstr(err, "cancelled") != NULL && strncmp(err, path, strlen(path)) == 0);
    CHECK(t.cols == 0 && t.data == NULL && t.rows == 0);
  }
  remove(csv);
  remove(jl);
}

/* Fuzz findings in the bootstraps: a resample of unequal groups holds more
 * rows than the run (bon wrote past its buffer), empty groups (NaN values),
 * a spread beyond DBL_MAX (a GSL failure instead of AB_ERANGE). */
static void test_boot_fuzz_groups(void) {
  double s[4] = {4, 1, 3, 3}, v[4] = {6, 5, 16, 3}, out[200];
  size_t g[3] = {0, 1, 4};
  ab_boot b = {200, 1, 0, g, 2};
  ab_work two = {2, NULL, NULL};
  /* n = 1: the mean of the resample's values, 6 ({6} twice), 30 / 4 ({6}
   * and {5, 16, 3}) or 8 ({5, 16, 3} twice: 6 rows) */
  CHECK(ab_estimate_bon_boot(s, v, 4, 1, &b, &two, out) == AB_OK);
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < 200; i++) {
    int k = out[i] < 6.75 ? 0 : out[i] < 7.75 ? 1 : 2;
    CHECK_CLOSE(out[i], k == 0 ? 6.0 : k == 1 ? 7.5 : 8.0, 1e-15);
    seen[k]++;
  }
  CHECK(seen[0] > 20 && seen[1] > 20 && seen[2] > 20);
  CHECK(ab_estimate_frontier_boot(v, 4, 0.5, &b, &two, out) == AB_OK);
  for (int i = 0; i < 200; i++) CHECK(out[i] >= 0.0 && out[i] <= 11.0);
  /* an empty group: refused by every bootstrap */
  size_t e[3] = {0, 0, 4};
  ab_boot be = {4, 3, 0, e, 2};
  uint32_t cnt[4];
  double x[4] = {7, 2, 3, 1};
  CHECK(ab_estimate_variance_proxy_boot(x, 4, &be, NULL, out) == AB_EDOM);
  CHECK(ab_estimate_bon_boot(x, x, 4, 1, &be, NULL, out) == AB_EDOM);
  CHECK(ab_estimate_frontier_boot(x, 4, 0.5, &be, NULL, out) == AB_EDOM);
  CHECK(ab_estimate_resample_counts(&be, 4, 0, cnt) == AB_EDOM);
  /* deviations 1e308 (finite) but a variance beyond DBL_MAX */
  double big[3] = {1e308, -1e308, 0};
  ab_tail *t;
  double gain;
  CHECK(ab_tail_discrete(big, NULL, 3, &t) == AB_OK);
  /* the frontier is scale-equivariant: the law {1, -1, 0} times 1e308;
   * exact (mpmath, 30 digits, tilt solved from KL = 0.5):
   * 0.761512423839970236 1e308.  The engine lost its digits on atoms beyond
   * ~1e300 (31% high at 1e307, after the overflow checks let it run); it
   * now works on the atoms scaled by a power of two. */
  double kls[2] = {0.1, 0.5}, gains[2], kl;
  CHECK(ab_tail_bound(t, AB_GAIN, AB_CLOSED, 0.5, &gain) == AB_OK);
  CHECK_CLOSE(gain, 0.761512423839970236e308, 1e-12);
  CHECK(ab_tail_bound_vec(t, AB_LOSS, AB_CLOSED, kls, 2, gains, NULL) == AB_OK);
  CHECK_CLOSE(gains[1], 0.761512423839970236e308, 1e-12);
  CHECK(ab_tail_kl_needed(t, AB_GAIN, AB_CLOSED, 0.761512423839970236e308,
                          &kl) == AB_OK);
  CHECK_CLOSE(kl, 0.5, 1e-10);
  ab_tail_free(t);
}


/* Multi-budget sweeps of a finite law on the pool (issue 10): the values are
 * bit-identical for 1, 2 and 3 threads, agree with one-budget solves to
 * 1e-12, the first failing budget is reported whatever thread met it, the
 * progress counts budgets, and a cancelled sweep returns AB_ECANCEL with
 * nothing leaked (valgrind runs of core_test check that). */
static void test_sweep_threads(void) {
  enum { N = 4000, M = 300 };
  static double x[N], kl[M], out[3][M], g[M], k2[3][M];
  for (int i = 0; i < N; i++) x[i] = sin(i * 0.37) + 0.001 * i;
  for (int i = 0; i < M; i++) kl[i] = 0.002 * (i + 1);
  ab_tail *t;
  CHECK(ab_tail_discrete(x, NULL, N, &t) == AB_OK);
  for (unsigned th = 1; th <= 3; th++) {
    ab_work w = {th, NULL, NULL};
    size_t at = 99;
    CHECK(ab_tail_bound_vec_work(t, AB_GAIN, AB_CLOSED, kl, M, &w,
                                 out[th - 1], &at) == AB_OK);
    CHECK(ab_tail_kl_needed_vec_work(t, AB_GAIN, AB_CLOSED, out[0], M, &w,
                                     k2[th - 1], &at) == AB_OK);
  }
  CHECK(memcmp(out[0], out[1], sizeof out[0]) == 0);
  CHECK(memcmp(out[0], out[2], sizeof out[0]) == 0);
  CHECK(memcmp(k2[0], k2[1], sizeof k2[0]) == 0);
  CHECK(memcmp(k2[0], k2[2], sizeof k2[0]) == 0);
  /* the one-thread form gives the same values; a one-budget solve (no warm
   * start) agrees to the solver's accuracy, and kl_needed inverts the bound */
  CHECK(ab_tail_bound_vec(t, AB_GAIN, AB_CLOSED, kl, M, g, NULL) == AB_OK);
  CHECK(memcmp(out[0], g, sizeof g) == 0);
  int near = 1;
  for (int i = 0; i < M; i++) {
    double one;
    near &= ab_tail_bound(t, AB_GAIN, AB_CLOSED, kl[i], &one) == AB_OK &&
            fabs(one - out[0][i]) <= 1e-12 * one &&
            fabs(k2[0][i] - kl[i]) <= 1e-9 * kl[i];
  }
  CHECK(near);
  /* the first failing budget, whichever thread met it */
  kl[130] = NAN;
  kl[250] = -1.0;
  for (unsigned th = 1; th <= 3; th++) {
    ab_work w = {th, NULL, NULL};
    size_t at = 0;
    CHECK(ab_tail_bound_vec_work(t, AB_GAIN, AB_CLOSED, kl, M, &w, g, &at) ==
          AB_EDOM);
    CHECK(at == 130);
    at = 0;
    CHECK(ab_tail_kl_needed_vec_work(t, AB_GAIN, AB_CLOSED, kl, M, &w, g,
                                     &at) == AB_EDOM);
    CHECK(at == 130);
  }
  kl[130] = 0.262;
  kl[250] = 0.502;
  /* progress in budgets, and cancellation */
  for (unsigned th = 1; th <= 2; th++) {
    cancel_state c = {0, 0.0, 0.0, 1};
    ab_work w = {th, count_only, &c};
    CHECK(ab_tail_bound_vec_work(t, AB_GAIN, AB_CLOSED, kl, M, &w, g, NULL) ==
          AB_OK);
    CHECK(c.calls >= 2 && c.monotone && c.last_done == M && c.total == M);
    cancel_state k = {0, 0.0, 0.0, 1};
    ab_work wc = {th, cancel_halfway, &k};
    size_t at = 0;
    CHECK(ab_tail_bound_vec_work(t, AB_GAIN, AB_CLOSED, kl, M, &wc, g, &at) ==
          AB_ECANCEL);
    CHECK(at == M && k.total == M);
    k = (cancel_state){0, 0.0, 0.0, 1};
    ab_family chi = {AB_CHI2, 0.0, NULL, NULL};
    CHECK(ab_budget_gain_work(t, &chi, kl, M, &wc, g, NULL, &at) ==
          AB_ECANCEL);
  }
  /* the divergence families: each budget solved on its own, so the pool
   * gives exactly the one-thread values */
  ab_family fams[3] = {{AB_CHI2, 0.0, NULL, NULL},
                        {AB_HELLINGER, 0.0, NULL, NULL},
                        {AB_RENYI, 2.0, NULL, NULL}};
  for (int f = 0; f < 3; f++) {
    static double b1[M], b3[M];
    static int r1[M], r3[M];
    ab_work w3 = {3, NULL, NULL};
    CHECK(ab_budget_gain(t, &fams[f], kl, M, b1, r1, NULL) == AB_OK);
    CHECK(ab_budget_gain_work(t, &fams[f], kl, M, &w3, b3, r3, NULL) == AB_OK);
    CHECK(memcmp(b1, b3, sizeof b1) == 0 && memcmp(r1, r3, sizeof r1) == 0);
    CHECK(ab_budget_needed(t, &fams[f], b1, M, b3, NULL, NULL) == AB_OK);
    CHECK(ab_budget_needed_work(t, &fams[f], b1, M, &w3, g, NULL, NULL) ==
          AB_OK);
    CHECK(memcmp(b3, g, sizeof g) == 0);
  }
  ab_tail_free(t);
}

int main(void) {
  ab_init();
  test_laws_issue9();
  test_status();
  test_closed_forms();
  test_constructors_reject();
  test_discrete_and_vectors();
  test_user_cumulant();
  test_threads();
  test_divergences_and_bon();
  test_tilt_sample_estimate_csv();
  test_csv_repeated_names();
  test_divergence_extremes();
  test_csv_out_of_memory();
  test_golden();
  test_renyi();
  test_fit();
  test_issue9_bon_tilt();
  test_tilt_saturation();
  test_rules();
  test_budgets();
  test_proxy_interior_max();
  test_bon_subnormal_ties();
  test_gumbel_far_left();
  test_grpo();
  test_boot_proxy_exact();
  test_boot_threads_shards();
  test_boot_progress_cancel();
  test_rng_xoshiro();
  test_version();
  test_allocator();
  test_vector_forms();
  test_prob_tolerance();
  test_bon_numeric_range();
  test_bound_vec_stream();
  test_csv_text_columns();
  test_csv_chunks();
  test_csv_chunk_edges();
  test_jsonl();
  test_prompts();
  test_issue8_rest();
  test_read_progress();
  test_tail_fuzz_open();
  test_bon_gain_far_left_tail();
  test_bernoulli_extremes();
  test_bernoulli_subnormal();
  test_bound_subnormal_kl();
  test_tilted_beta_sampler();
  test_bon_gain_n1();
  test_bon_expected_gain_rare_top();
  test_empirical_dblmax_cumulant();
  test_bon_gain_variance_underflow();
  test_bon_gain_finite_dblmax();
  test_boot_fuzz_groups();
  test_sweep_threads();
  return check_report("core_test");
}
