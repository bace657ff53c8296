/*
 * golden.c - from a proxy reward to the golden reward (DESIGN 3.4): error
 * models that turn a proxy gain into bounds on the golden gain, and joint
 * models of (proxy, gold) under the reference that give the golden gain of
 * best-of-n and of the tilt on the proxy: exactly (jointly Gaussian, logged
 * pairs) or by Monte Carlo (proxy = gold + independent error).
 *
 * With e = r_proxy - r_gold, gold_gain = proxy_gain - (E_pi e - E_ref e), so
 * a bound D on |E_pi e - E_ref e| gives [proxy_gain - D, proxy_gain + D].
 */
#include <stdlib.h>

#include "internal.h"

const char *ab_route_name(int route) {
  switch (route) {
  case AB_ROUTE_TV: return "tv";
  case AB_ROUTE_KL: return "kl";
  case AB_ROUTE_CHI2: return "chi2";
  case AB_ROUTE_RATE: return "rate";
  default: return "none";
  }
}

/* ---- error models -------------------------------------------------------- */

int ab_error_check(const ab_error_model *e) {
  if (!e) return AB_EDOM;
  switch (e->kind) {
  case AB_ERROR_BOUNDED:
  case AB_ERROR_SUBGAUSSIAN:
  case AB_ERROR_VARIANCE:
    return (e->par > 0.0 && isfinite(e->par)) ? AB_OK : AB_EDOM;
  case AB_ERROR_OVERESTIMATION:
    return (e->par >= 0.0 && isfinite(e->par)) ? AB_OK : AB_EDOM;
  default:
    return AB_EDOM;
  }
}

int ab_error_routes(const ab_error_model *e, int routes[3]) {
  switch (e->kind) {
  case AB_ERROR_BOUNDED:
    routes[0] = AB_ROUTE_TV;
    routes[1] = AB_ROUTE_KL;
    routes[2] = AB_ROUTE_CHI2;
    return 3;
  case AB_ERROR_SUBGAUSSIAN:
    routes[0] = AB_ROUTE_KL;
    routes[1] = AB_ROUTE_CHI2;
    return 2;
  case AB_ERROR_VARIANCE:
    routes[0] = AB_ROUTE_CHI2;
    return 1;
  case AB_ERROR_OVERESTIMATION:
    routes[0] = AB_ROUTE_RATE;
    return 1;
  default:
    return 0;
  }
}

/* D by one route, or NAN when the divergence it needs is not known.
 * bounded |e| <= eps: 2 eps TV (the range of e times TV); 2 eps min(1,
 * sqrt(KL/2)) (Pinsker, TV <= 1); eps min(2, sqrt chi2) (TV <= sqrt(chi2)/2).
 * sub-Gaussian s2: sqrt(2 s2 KL) (Donsker-Varadhan, both tails), sqrt(s2
 * chi2) (Var e <= s2, Cauchy-Schwarz).  variance: sqrt(Var chi2), since
 * E_pi e - E_ref e = E_ref[(dpi/dref - 1)(e - E_ref e)]. */
static double route_bound(const ab_error_model *e, int route,
                          const ab_divergences *d) {
  double p = e->par;
  switch (route) {
  case AB_ROUTE_TV:
    return isnan(d->tv) ? NAN : 2.0 * p * d->tv;
  case AB_ROUTE_KL:
    if (isnan(d->kl)) return NAN;
    if (e->kind == AB_ERROR_BOUNDED) return 2.0 * p * fmin(1.0, sqrt(0.5 * d->kl));
    return sqrt(2.0 * p * d->kl);
  case AB_ROUTE_CHI2:
    if (isnan(d->chi2)) return NAN;
    if (e->kind == AB_ERROR_BOUNDED) return p * fmin(2.0, sqrt(d->chi2));
    return sqrt(p * d->chi2);
  default:
    return NAN;
  }
}

int ab_error_golden(const ab_error_model *e, double proxy_gain,
                    const ab_divergences *d, double *lo, double *hi,
                    int *route) {
  int routes[3], st = ab_error_check(e);
  if (st) return st;
  if (isnan(proxy_gain) || !d) return AB_EDOM;
  if (!(isnan(d->kl) || d->kl >= 0.0) || !(isnan(d->chi2) || d->chi2 >= 0.0) ||
      !(isnan(d->tv) || (d->tv >= 0.0 && d->tv <= 1.0)))
    return AB_EDOM;
  if (e->kind == AB_ERROR_OVERESTIMATION) {
    if (isnan(d->kl)) return AB_EUNDEF;
    double cost = e->par == 0.0 ? 0.0 : e->par * d->kl;
    if (isinf(cost) && proxy_gain == INFINITY) {
      *lo = -INFINITY; /* inf - inf: nothing is known */
      *hi = INFINITY;
    } else {
      *lo = *hi = proxy_gain - cost;
    }
    if (route) *route = AB_ROUTE_RATE;
    return AB_OK;
  }
  int k = ab_error_routes(e, routes), best = 0;
  double D = INFINITY;
  for (int i = 0; i < k; i++) {
    double v = route_bound(e, routes[i], d);
    if (!isnan(v) && (best == 0 || v < D)) {
      D = v;
      best = routes[i];
    }
  }
  if (!best) return AB_EUNDEF;
  *lo = isinf(D) ? -INFINITY : proxy_gain - D;
  *hi = isinf(D) ? INFINITY : proxy_gain + D;
  if (route) *route = best;
  return AB_OK;
}

/* ---- jointly Gaussian ------------------------------------------------------ */

int ab_joint_gaussian_check(const ab_joint_gaussian *j) {
  if (!(j->rho >= -1.0 && j->rho <= 1.0)) return AB_EDOM;
  if (!(j->sd_proxy > 0.0 && isfinite(j->sd_proxy))) return AB_EDOM;
  if (!(j->sd_gold > 0.0 && isfinite(j->sd_gold))) return AB_EDOM;
  return AB_OK;
}

/* gold = mean + rho sd_gold Z + sqrt(1 - rho^2) sd_gold Z' with proxy =
 * mean + sd_proxy Z: any selection on the proxy moves E Z by some m and leaves
 * Z' alone, so proxy_gain = sd_proxy m and gold_gain = rho sd_gold m. */
int ab_joint_gaussian_bon(const ab_joint_gaussian *j, double n,
                          ab_joint_result *out) {
  ab_family kl = {AB_KL, 1.0, NULL, NULL};
  ab_tail *z;
  double m;
  int st = ab_joint_gaussian_check(j);
  if (st) return st;
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  if ((st = ab_tail_gaussian(0.0, 1.0, &z))) return st;
  st = ab_bon_expected_gain(z, n, AB_CLOSED, &m); /* E max of n N(0,1) */
  ab_tail_free(z);
  if (st) return st;
  ab_joint_result r = {j->sd_proxy * m, j->rho * j->sd_gold * m, 0.0,
                       0.0, 0.0, 0.0, 1};
  if ((st = ab_bon_divergence(n, &kl, AB_CLOSED, &r.kl, NULL))) return st;
  *out = r;
  return AB_OK;
}

/* The tilt e^{lambda proxy} shifts Z by m = lambda sd_proxy: KL = m^2 / 2. */
int ab_joint_gaussian_tilt(const ab_joint_gaussian *j, double lambda,
                           ab_joint_result *out) {
  int st = ab_joint_gaussian_check(j);
  if (st) return st;
  if (!(lambda >= 0.0 && isfinite(lambda))) return AB_EDOM;
  double m = lambda * j->sd_proxy;
  ab_joint_result r = {j->sd_proxy * m, j->rho * j->sd_gold * m, 0.5 * m * m,
                       0.0, 0.0, 0.0, 1};
  *out = r;
  return AB_OK;
}

/* The tilt at a KL budget: lambda = sqrt(2 kl) / sd_proxy. */
int ab_joint_gaussian_tilt_kl(const ab_joint_gaussian *j, double kl,
                              ab_joint_result *out, double *lambda) {
  int st = ab_joint_gaussian_check(j);
  if (st) return st;
  if (!(kl >= 0.0 && isfinite(kl))) return AB_EDOM;
  *lambda = sqrt(2.0 * kl) / j->sd_proxy;
  return ab_joint_gaussian_tilt(j, *lambda, out);
}

/* ---- proxy = gold + independent error: Monte Carlo ------------------------ */

/* Welford's running mean and sum of squared deviations. */
typedef struct {
  double n, mean, m2;
} running;

static void running_add(running *a, double x) {
  a->n += 1.0;
  double d = x - a->mean;
  a->mean += d / a->n;
  a->m2 += d * (x - a->mean);
}

static double running_se(const running *a) {
  return a->n > 1.0 ? sqrt(a->m2 / (a->n - 1.0) / a->n) : INFINITY;
}

/* Both laws can be sampled and have finite means. */
static int additive_check(const ab_tail *gold, const ab_tail *error,
                          size_t draws) {
  if (!gold || !error || draws < 2) return AB_EDOM;
  if (!isfinite(gold->mean) || !isfinite(error->mean)) return AB_EUNDEF;
  return AB_OK;
}

int ab_joint_additive_sample(const ab_tail *gold, const ab_tail *error,
                             size_t k, unsigned long long seed, double *out) {
  ab_rng *r;
  if (!gold || !error) return AB_EDOM;
  double *e = ab_malloc_n(k, sizeof *e);
  if (!e) return AB_ENOMEM;
  int st = ab_rng_new(seed, 0, &r);
  if (!st) {
    st = ab_tail_sample(gold, r, k, out);
    if (!st) st = ab_tail_sample(error, r, k, e);
    for (size_t i = 0; !st && i < k; i++) out[i] += e[i];
    ab_rng_free(r);
  }
  ab_free(e, k * sizeof *e);
  return st;
}

/* Draws come in chunks of whole selections (n pairs each), about 2^16 pairs
 * per chunk, so that finite laws set up their sampling tables once per
 * chunk and memory stays flat. */
int ab_joint_additive_bon(const ab_tail *gold, const ab_tail *error, double n,
                          size_t draws, unsigned long long seed,
                          ab_joint_result *out) {
  ab_family klf = {AB_KL, 1.0, NULL, NULL};
  ab_rng *r;
  int st = additive_check(gold, error, draws);
  if (st) return st;
  /* n pairs per selection: n is capped where the buffers reach 160 MB */
  if (!(n >= 1.0 && n <= 1e7 && n == floor(n))) return AB_EDOM;
  if (n == 1.0) { /* no selection: the reference itself */
    ab_joint_result zero = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1};
    *out = zero;
    return AB_OK;
  }
  size_t nn = (size_t)n, per = nn >= 65536 ? 1 : 65536 / nn;
  if (per > draws) per = draws;
  double *g = ab_malloc_n(per * nn, sizeof *g);
  double *e = ab_malloc_n(per * nn, sizeof *e);
  if (!g || !e) {
    ab_free(g, per * nn * sizeof *g);
    ab_free(e, per * nn * sizeof *e);
    return AB_ENOMEM;
  }
  if ((st = ab_rng_new(seed, 0, &r))) {
    ab_free(g, per * nn * sizeof *g);
    ab_free(e, per * nn * sizeof *e);
    return st;
  }
  running rp = {0, 0, 0}, rg = {0, 0, 0};
  for (size_t done = 0; !st && done < draws;) {
    size_t k = draws - done < per ? draws - done : per;
    st = ab_tail_sample(gold, r, k * nn, g);
    if (!st) st = ab_tail_sample(error, r, k * nn, e);
    for (size_t d = 0; !st && d < k; d++) {
      const double *gd = g + d * nn, *ed = e + d * nn;
      size_t best = 0;
      double top = gd[0] + ed[0];
      /* the first of tied maxima: uniform among them, the pairs being iid */
      for (size_t i = 1; i < nn; i++) {
        double p = gd[i] + ed[i];
        if (p > top) {
          top = p;
          best = i;
        }
      }
      running_add(&rp, top);
      running_add(&rg, gd[best]);
    }
    done += k;
  }
  ab_rng_free(r);
  ab_free(g, per * nn * sizeof *g);
  ab_free(e, per * nn * sizeof *e);
  if (st) return st;
  ab_joint_result res = {rp.mean - (gold->mean + error->mean),
                         rg.mean - gold->mean, 0.0, running_se(&rp),
                         running_se(&rg), 0.0, 0};
  if ((st = ab_bon_divergence(n, &klf, AB_CLOSED, &res.kl, NULL))) return st;
  *out = res;
  return AB_OK;
}

/* Reference draws for the tilt: gold g and proxy p = g + error, and the top
 * proxy (the log-sum-exp shift). */
typedef struct {
  double *g, *p, top, N, shift; /* shift: E_ref proxy */
} tilt_draws;

static int draw_pairs(const ab_tail *gold, const ab_tail *error, size_t draws,
                      unsigned long long seed, tilt_draws *d) {
  ab_rng *r;
  int st;
  d->g = ab_malloc_n(draws, sizeof *d->g);
  d->p = ab_malloc_n(draws, sizeof *d->p);
  if (!d->g || !d->p) {
    st = AB_ENOMEM;
    goto fail;
  }
  if ((st = ab_rng_new(seed, 0, &r))) goto fail;
  st = ab_tail_sample(gold, r, draws, d->g);
  if (!st) st = ab_tail_sample(error, r, draws, d->p);
  ab_rng_free(r);
  if (st) goto fail;
  d->top = -INFINITY;
  d->N = (double)draws;
  for (size_t i = 0; i < draws; i++) {
    d->p[i] += d->g[i];
    if (d->p[i] > d->top) d->top = d->p[i];
  }
  return AB_OK;
fail:
  ab_free(d->g, draws * sizeof *d->g);
  ab_free(d->p, draws * sizeof *d->p);
  return st;
}

/* E e^{lambda proxy} = E e^{lambda gold} E e^{lambda error} must be finite */
static int tilt_exists(const ab_tail *t, double lambda) {
  return t->cgf && (lambda < t->lmax || (lambda == t->lmax && t->closed_max));
}

/* The self-normalised KL estimate sum_i w_i lambda p_i - log mean_i
 * e^{lambda p_i}, w_i = e^{lambda p_i} / sum_j e^{lambda p_j}. */
static double draws_kl(const tilt_draws *d, double lambda) {
  ab_sum s = {0, 0}, sx = {0, 0};
  size_t n = (size_t)d->N;
  for (size_t i = 0; i < n; i++) {
    double x = lambda * (d->p[i] - d->top), w = exp(x);
    ab_sum_add(&s, w);
    ab_sum_add(&sx, w * x);
  }
  double S = ab_sum_value(&s);
  return fmax(ab_sum_value(&sx) / S - log(S / d->N), 0.0);
}

/* Self-normalised importance weights w_i = e^{lambda p_i} / sum_j e^{lambda
 * p_j} over reference draws.  Gains sum_i w_i h_i - E_ref h with standard
 * error sqrt(sum_i w_i^2 (h_i - mu_h)^2); KL = sum_i w_i lambda p_i -
 * log mean_i e^{lambda p_i}, whose delta-method influence at draw i is
 * N w_i (lambda (p_i - mu_p) - 1) + 1. */
static void draws_tilt(const tilt_draws *d, double lambda, double mean_gold,
                       double mean_proxy, ab_joint_result *out) {
  size_t n = (size_t)d->N;
  ab_sum s = {0, 0}, sp = {0, 0}, sg = {0, 0}, sx = {0, 0};
  for (size_t i = 0; i < n; i++) {
    double x = lambda * (d->p[i] - d->top), w = exp(x);
    ab_sum_add(&s, w);
    ab_sum_add(&sp, w * d->p[i]);
    ab_sum_add(&sg, w * d->g[i]);
    ab_sum_add(&sx, w * x);
  }
  double S = ab_sum_value(&s);
  double mp = ab_sum_value(&sp) / S, mg = ab_sum_value(&sg) / S;
  double kl = ab_sum_value(&sx) / S - log(S / d->N);
  ab_sum vp = {0, 0}, vg = {0, 0}, vk = {0, 0};
  for (size_t i = 0; i < n; i++) {
    double w = exp(lambda * (d->p[i] - d->top)) / S;
    double dp = w * (d->p[i] - mp), dg = w * (d->g[i] - mg);
    double f = d->N * w * (lambda * (d->p[i] - mp) - 1.0) + 1.0;
    ab_sum_add(&vp, dp * dp);
    ab_sum_add(&vg, dg * dg);
    ab_sum_add(&vk, f * f);
  }
  ab_joint_result res = {mp - mean_proxy, mg - mean_gold, fmax(kl, 0.0),
                         sqrt(ab_sum_value(&vp)), sqrt(ab_sum_value(&vg)),
                         sqrt(ab_sum_value(&vk)) / d->N, 0};
  *out = res;
}

int ab_joint_additive_tilt(const ab_tail *gold, const ab_tail *error,
                           double lambda, size_t draws,
                           unsigned long long seed, ab_joint_result *out) {
  tilt_draws d;
  int st = additive_check(gold, error, draws);
  if (st) return st;
  if (!(lambda >= 0.0 && isfinite(lambda))) return AB_EDOM;
  if (lambda == 0.0) {
    ab_joint_result zero = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1};
    *out = zero;
    return AB_OK;
  }
  if (!tilt_exists(gold, lambda) || !tilt_exists(error, lambda))
    return AB_EUNDEF;
  if ((st = draw_pairs(gold, error, draws, seed, &d))) return st;
  draws_tilt(&d, lambda, gold->mean, gold->mean + error->mean, out);
  ab_free(d.g, draws * sizeof *d.g);
  ab_free(d.p, draws * sizeof *d.p);
  return AB_OK;
}

/* The estimate KL(lambda) on fixed draws increases with lambda (its
 * derivative is lambda times the weighted variance of the proxy) from 0 to
 * log(draws): bracket by doubling, then bisect to the last bit. */
int ab_joint_additive_tilt_kl(const ab_tail *gold, const ab_tail *error,
                              double kl, size_t draws, unsigned long long seed,
                              ab_joint_result *out, double *lambda) {
  tilt_draws d;
  int st = additive_check(gold, error, draws);
  if (st) return st;
  if (!(kl >= 0.0) || !(kl < log((double)draws))) return AB_EDOM;
  if (kl == 0.0) {
    ab_joint_result zero = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1};
    *out = zero;
    *lambda = 0.0;
    return AB_OK;
  }
  double lmax = fmin(gold->lmax, error->lmax);
  if (!gold->cgf || !error->cgf || !(lmax > 0.0)) return AB_EUNDEF;
  if ((st = draw_pairs(gold, error, draws, seed, &d))) return st;
  /* a start: the Gaussian answer sqrt(2 kl) / sd of the proxy draws */
  ab_sum m = {0, 0}, v = {0, 0};
  size_t n = (size_t)d.N;
  for (size_t i = 0; i < n; i++) ab_sum_add(&m, d.p[i]);
  double mean = ab_sum_value(&m) / d.N;
  for (size_t i = 0; i < n; i++) ab_sum_add(&v, (d.p[i] - mean) * (d.p[i] - mean));
  double sd = sqrt(ab_sum_value(&v) / d.N);
  double lo = 0.0, hi = sd > 0.0 ? sqrt(2.0 * kl) / sd : 1.0;
  if (hi >= lmax) hi = 0.5 * lmax;
  while (draws_kl(&d, hi) < kl) {
    lo = hi;
    hi = isfinite(lmax) ? 0.5 * (hi + lmax) : 2.0 * hi;
    if (!(hi < lmax) || hi == lo || !isfinite(hi)) {
      st = AB_EUNDEF; /* the budget needs a tilt beyond the law's reach */
      break;
    }
  }
  for (int it = 0; !st && it < 200; it++) {
    double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    if (draws_kl(&d, mid) < kl) lo = mid;
    else hi = mid;
  }
  if (!st) {
    *lambda = hi;
    draws_tilt(&d, hi, gold->mean, gold->mean + error->mean, out);
  }
  ab_free(d.g, draws * sizeof *d.g);
  ab_free(d.p, draws * sizeof *d.p);
  return st;
}

/* ---- logged pairs: the empirical law, exactly ------------------------------ */

typedef struct {
  double *probs, *policy;
  size_t n; /* their length */
} pair_scratch;

static int pairs_start(const double *proxy, const double *gold, size_t N,
                       pair_scratch *w) {
  if (N == 0 || !proxy || !gold) return AB_EDOM;
  for (size_t i = 0; i < N; i++)
    if (!isfinite(proxy[i]) || !isfinite(gold[i])) return AB_EDOM;
  w->n = N;
  w->probs = ab_malloc_n(N, sizeof *w->probs);
  w->policy = ab_malloc_n(N, sizeof *w->policy);
  if (!w->probs || !w->policy) {
    ab_free(w->probs, N * sizeof *w->probs);
    ab_free(w->policy, N * sizeof *w->policy);
    return AB_ENOMEM;
  }
  for (size_t i = 0; i < N; i++) w->probs[i] = 1.0 / (double)N;
  return AB_OK;
}

/* sum_i policy_i (x_i - mean x): the gain of a law on the pairs */
static double pair_gain(const double *policy, const double *x, size_t N) {
  ab_sum m = {0, 0}, s = {0, 0};
  for (size_t i = 0; i < N; i++) ab_sum_add(&m, x[i]);
  double mean = ab_sum_value(&m) / (double)N;
  for (size_t i = 0; i < N; i++) ab_sum_add(&s, policy[i] * (x[i] - mean));
  return ab_sum_value(&s);
}

static int pairs_finish(pair_scratch *w, const double *proxy,
                        const double *gold, size_t N, double kl,
                        ab_joint_result *out) {
  ab_joint_result r = {pair_gain(w->policy, proxy, N),
                       pair_gain(w->policy, gold, N), kl, 0.0, 0.0, 0.0, 1};
  ab_free(w->probs, w->n * sizeof *w->probs);
  ab_free(w->policy, w->n * sizeof *w->policy);
  *out = r;
  return AB_OK;
}

/* The exact best-of-n law of the empirical proxy law (ab_bon_policy): a pair
 * whose proxy ties with others shares their selection probability. */
int ab_joint_samples_bon(const double *proxy, const double *gold, size_t N,
                         double n, ab_joint_result *out) {
  pair_scratch w;
  ab_bon_summary s;
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  int st = pairs_start(proxy, gold, N, &w);
  if (st) return st;
  if ((st = ab_bon_policy(w.probs, proxy, N, n, w.policy, &s))) {
    ab_free(w.probs, w.n * sizeof *w.probs);
    ab_free(w.policy, w.n * sizeof *w.policy);
    return st;
  }
  return pairs_finish(&w, proxy, gold, N, s.kl, out);
}

/* The tilt of the empirical law on the proxy (ab_tilt_policy), beta =
 * 1/lambda; lambda = +inf puts all the mass on the top proxy. */
int ab_joint_samples_tilt(const double *proxy, const double *gold, size_t N,
                          double lambda, ab_joint_result *out) {
  pair_scratch w;
  ab_tilt_summary s;
  if (!(lambda >= 0.0)) return AB_EDOM;
  int st = pairs_start(proxy, gold, N, &w);
  if (st) return st;
  st = isinf(lambda)
           ? ab_tilt_policy(w.probs, proxy, N, AB_TILT_KL, INFINITY, w.policy, &s)
           : ab_tilt_policy(w.probs, proxy, N, AB_TILT_BETA, 1.0 / lambda,
                            w.policy, &s);
  if (st) {
    ab_free(w.probs, w.n * sizeof *w.probs);
    ab_free(w.policy, w.n * sizeof *w.policy);
    return st;
  }
  return pairs_finish(&w, proxy, gold, N, s.kl, out);
}

/* The tilt of the empirical law at a KL budget (ab_tilt_policy solves for
 * beta; a budget beyond -log P(top proxy) saturates: lambda = +inf). */
int ab_joint_samples_tilt_kl(const double *proxy, const double *gold, size_t N,
                             double kl, ab_joint_result *out, double *lambda) {
  pair_scratch w;
  ab_tilt_summary s;
  if (!(kl >= 0.0)) return AB_EDOM;
  int st = pairs_start(proxy, gold, N, &w);
  if (st) return st;
  if ((st = ab_tilt_policy(w.probs, proxy, N, AB_TILT_KL, kl, w.policy, &s))) {
    ab_free(w.probs, w.n * sizeof *w.probs);
    ab_free(w.policy, w.n * sizeof *w.policy);
    return st;
  }
  *lambda = s.lambda;
  return pairs_finish(&w, proxy, gold, N, s.kl, out);
}
