/*
 * estimate.c - estimators from samples, each with its standard error: the
 * mean, the KL estimators k1, k2, k3 from log-probabilities, Renyi
 * divergences, and the empirical sub-Gaussian variance proxy with a
 * bootstrap upper confidence bound.
 */
#include <gsl/gsl_sort.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Welford's running mean and sum of squared deviations: no cancellation
 * between E[x^2] and E[x]^2. */
typedef struct {
  size_t n;
  double mean, m2;
} welford;

static void welford_add(welford *w, double x) {
  double d = x - w->mean;
  w->n++;
  w->mean += d / (double)w->n;
  w->m2 += d * (x - w->mean);
}

static void welford_done(const welford *w, double *mean, double *se) {
  *mean = w->mean;
  if (se)
    *se = w->n > 1 ? sqrt(w->m2 / (double)(w->n - 1) / (double)w->n) : INFINITY;
}

/* The scale 2^k at which values up to 2^top are averaged: k = 0 (the plain
 * values) unless the values or their squared deviations could overflow. */
static int welford_scale(int top) { return top > 400 ? top : 0; }

int ab_estimate_mean(const double *x, size_t n, double *mean, double *se) {
  welford w = {0, 0.0, 0.0};
  int top = 0;
  if (n == 0 || !x) return AB_EDOM;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i])) return AB_EDOM;
    if (x[i] != 0.0 && ilogb(x[i]) > top) top = ilogb(x[i]);
  }
  int k = welford_scale(top);
  for (size_t i = 0; i < n; i++) welford_add(&w, ldexp(x[i], -k));
  welford_done(&w, mean, se);
  *mean = ldexp(*mean, k);
  if (se) *se = ldexp(*se, k);
  return AB_OK;
}

/* A k3 log-ratio above which e^{-r} is beyond any scaled double. */
#define K3_HOPELESS 1e6

/* The value an estimator averages at the log-ratio r, times 2^-k: k1 r,
 * k2 r^2 / 2, k3 (rho - 1) - log rho at rho = e^{-r}, i.e. e^{-r} - 1 + r
 * >= 0.  The scale keeps values and their squares finite where r^2 or
 * e^{-r} overflow; k = 0 is the plain value. */
static double kl_value(int which, double r, int k) {
  if (which == AB_K1) return ldexp(r, -k);
  if (which == AB_K2) return 0.5 * ldexp(r, -(k / 2)) * ldexp(r, -(k - k / 2));
  if (-r <= 700.0) {
    double em1x, em1;
    ab_em1x(-r, &em1x, &em1);
    return ldexp(em1x, -k);
  }
  /* e^{-r - k ln 2} - (1 - r) 2^-k; -r - k AB_LN2_HI is exact (Sterbenz) */
  return exp((-r - k * AB_LN2_HI) - k * AB_LN2_LO) - ldexp(1.0 - r, -k);
}

/* About log2 of the value kl_value(which, r, 0), without forming it. */
static int kl_value_log2(int which, double r) {
  if (r == 0.0) return 0;
  if (which == AB_K1) return ilogb(r);
  if (which == AB_K2) return 2 * ilogb(r);
  if (-r <= 700.0) {
    double em1x, em1;
    ab_em1x(-r, &em1x, &em1);
    return em1x > 0.0 ? ilogb(em1x) : 0;
  }
  return (int)(-r / M_LN2) + 1;
}

int ab_estimate_kl(const double *lp, const double *lq, size_t n, int which,
                   double *est, double *se) {
  welford w = {0, 0.0, 0.0};
  if (n == 0 || !lp || !lq || which < AB_K1 || which > AB_K3) return AB_EDOM;
  /* the scale: values are divided by 2^k, k = 0 unless the largest value or
   * its square would overflow (k1 and k2 at |r| > 1e150, k3 at r < -350) */
  int top = 0, hopeless = 0;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i];
    if (!isfinite(r)) return AB_EDOM;
    if (which == AB_K3 && -r > K3_HOPELESS) hopeless = 1;
    else {
      int e = kl_value_log2(which, r);
      if (e > top) top = e;
    }
  }
  if (hopeless) {
    /* a term e^{-r} with -r > 1e6: the mean and its error exceed any double */
    *est = INFINITY;
    if (se) *se = INFINITY;
    return AB_OK;
  }
  int k = welford_scale(top);
  for (size_t i = 0; i < n; i++) welford_add(&w, kl_value(which, lp[i] - lq[i], k));
  welford_done(&w, est, se);
  *est = ldexp(*est, k);
  if (se) *se = ldexp(*se, k);
  return AB_OK;
}

/* Renyi of order a from policy samples: D = log M / (a - 1), M = mean
 * e^{(a-1) r}.  Where M is far from 1, D = r* + log(mean e^{(a-1)(r - r*)})
 * / (a - 1) with r* the r of the largest exponent (no overflow, whatever the
 * order); near 1, M - 1 as the mean of expm1((a-1) r), so that D keeps its
 * digits when the laws nearly agree (as k1 does).  Standard error by the
 * delta method: se(M) / M / |a - 1|. */
int ab_estimate_renyi(const double *lp, const double *lq, size_t n, double a,
                      double *est, double *se) {
  if (n == 0 || !lp || !lq || !(a > 0.0) || isinf(a)) return AB_EDOM;
  if (a == 1.0) return ab_estimate_kl(lp, lq, n, AB_K1, est, se);
  double b = a - 1.0, star = 0.0;
  for (size_t i = 0; i < n; i++) {
    double r = lp[i] - lq[i];
    if (!isfinite(r)) return AB_EDOM;
    if (i == 0 || (b > 0.0 ? r > star : r < star)) star = r;
  }
  welford w = {0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++)
    welford_add(&w, exp(b * (lp[i] - lq[i] - star)));
  double m, sm;
  welford_done(&w, &m, &sm);
  double log_m = b * star + log(m);
  if (fabs(log_m) < 0.5) {
    /* then every (a-1) r <= log n + 1/2: expm1 cannot overflow */
    welford w1 = {0, 0.0, 0.0};
    for (size_t i = 0; i < n; i++) welford_add(&w1, expm1(b * (lp[i] - lq[i])));
    welford_done(&w1, &m, &sm);
    *est = log1p(m) / b;
    if (se) *se = sm / (1.0 + m) / fabs(b);
    return AB_OK;
  }
  *est = star + log(m) / b;
  if (se) *se = sm / m / fabs(b);
  return AB_OK;
}

/* ---- the bootstrap of the empirical variance proxy ----------------------
 *
 * Resample r draws n samples with replacement from the sorted samples with
 * its own xoshiro256** generator (internal.h), seeded from (seed, r), so
 * that any slice of the resamples (a shard) reproduces its part of a full
 * run exactly.  A
 * resample is a vector of counts over the sorted samples: no copy, no sort.
 *
 * Its proxy sup_l 2 psi(l) / l^2 is searched by the same branch and bound as
 * every finite law (frontier.c), on a cumulant that costs O(bins) instead of
 * O(n) per tilt: the sorted samples (shifted and scaled by a power of two to
 * a range below 1, which scales the proxy by 4^e exactly) are cut into about
 * BOOT_BINS bins of width W, and a resample's moments in each bin about its
 * centre c, M_k = sum_bin p (x - c)^k / k!, k < TERMS, are taken in one pass.
 * Then, with y = x - m (m the resample's mean):
 *  - while |l| max|y| <= 1, psi = log1p(sum_{k>=2} l^k mu_k) with the centred
 *    moments mu_k = E (x - m)^k / k! shifted from the bins' (binomially):
 *    no exp, no cancellation, as discrete.c's series;
 *  - beyond, psi = log sum_bins e^{l (c - m)} sum_k l^k M_k, each bin by its
 *    Taylor sum while |l| w <= 1 (w its half-width; remainder below 1e-22 of
 *    the bin), sample by sample otherwise, in one log-sum-exp pass from the
 *    top side that stops once the rest is below e^-64 of the sum.
 * The values agree with the exact cumulant (discrete.c) to about 1e-12
 * relative (spec/c: every resample of a test against ab_tail_discrete). */

#define BOOT_BINS 256
#define TERMS 25
#define CHAINS 8

typedef struct {
  size_t n, nbins;
  double *xs;            /* sorted samples, (x - shift) 2^-e */
  int e;
  size_t cap;            /* bins allocated */
  size_t *start;         /* bin b holds xs[start[b] .. start[b+1]) */
  double *centre, *half; /* per bin */
  double hmax;           /* the largest half-width */
  double inv_fact[TERMS];
  const ab_boot *boot;
  uint32_t *group;       /* with groups: the group of each sorted sample */
  double *out;           /* the values of the run's resamples */
  double *diag;          /* the heavy-tail checks' proxies (report) */
  struct boot_work *work;
  unsigned nwork;        /* workers allocated */
} boot_data;

typedef struct boot_work {
  const boot_data *d;
  uint32_t *count;   /* n counts of a resample */
  uint32_t *gcount;  /* with groups: counts of the groups */
  double inv_total;  /* 1 / the sum of the counts */
  double *bm;        /* nbins x TERMS bin moments (over k!) */
  double mu[TERMS];  /* centred moments over k! */
  double m, var;     /* mean, variance of the resample */
  size_t lo, hi;     /* its smallest and largest sample (indices in xs) */
} boot_work;

__extension__ typedef unsigned __int128 u128;

/* Uniform on [0, n) without bias (Lemire 2019: multiply, reject rarely). */
static size_t xoshiro_below(ab_xoshiro *g, uint64_t n) {
  u128 m = (u128)ab_xoshiro_next(g) * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t floor_ = -n % n;
    while (low < floor_) {
      m = (u128)ab_xoshiro_next(g) * n;
      low = (uint64_t)m;
    }
  }
  return (size_t)(m >> 64);
}

/* Counts of n draws of n positions, resample r of the run with this seed. */
static int sample_counts(unsigned long long seed, size_t r, size_t n,
                         uint32_t *count) {
  ab_xoshiro g;
  if (n == 0 || n > UINT32_MAX || !count) return AB_EDOM;
  ab_xoshiro_seed(&g, seed, r);
  memset(count, 0, n * sizeof *count);
  for (size_t i = 0; i < n; i++) count[xoshiro_below(&g, n)]++;
  return AB_OK;
}

/* The resample's bin moments, mean, extremes and centred moments from its
 * counts (w->count). */
static void boot_moments(boot_work *w) {
  const boot_data *d = w->d;
  const double *xs = d->xs;
  double inv_n = w->inv_total;
  ab_sum mean = {0.0, 0.0};
  w->lo = SIZE_MAX;
  w->hi = 0;
  for (size_t b = 0; b < d->nbins; b++) {
    double *m = w->bm + b * TERMS, c = d->centre[b], bsum = 0.0;
    for (int k = 0; k < TERMS; k++) m[k] = 0.0;
    /* eight samples at a time: eight independent product chains hide the
     * multiplications' latency */
    double p[CHAINS], q[CHAINS];
    int cnt = 0;
    size_t j1 = d->start[b + 1];
    for (size_t j = d->start[b]; j <= j1; j++) {
      if (j < j1) {
        if (!w->count[j]) continue;
        if (w->lo == SIZE_MAX) w->lo = j;
        w->hi = j;
        p[cnt] = (double)w->count[j];
        q[cnt] = xs[j] - c;
        bsum += p[cnt] * xs[j];
        if (++cnt < CHAINS) continue;
      }
      if (cnt == 0) break;
      for (int i = cnt; i < CHAINS; i++) p[i] = q[i] = 0.0;
      for (int k = 0; k < TERMS; k++) {
        double t = 0.0;
        for (int i = 0; i < CHAINS; i++) {
          t += p[i];
          p[i] *= q[i];
        }
        m[k] += t;
      }
      cnt = 0;
    }
    for (int k = 0; k < TERMS; k++) m[k] *= inv_n * d->inv_fact[k];
    ab_sum_add(&mean, bsum);
  }
  double mr = ab_sum_value(&mean) * inv_n;
  mr = fmin(fmax(mr, xs[w->lo]), xs[w->hi]);
  w->m = mr;
  /* centred moments: (x - m)^k / k! = sum_i (x - c)^i / i! (c - m)^(k-i) /
   * (k-i)!, summed over the bins */
  double mu[TERMS] = {0.0};
  for (size_t b = 0; b < d->nbins; b++) {
    const double *m = w->bm + b * TERMS;
    if (m[0] == 0.0) continue;
    double e = d->centre[b] - mr, pw[TERMS];
    pw[0] = 1.0;
    for (int k = 1; k < TERMS; k++) pw[k] = pw[k - 1] * e * (1.0 / k);
    for (int k = 2; k < TERMS; k++) {
      double s = 0.0;
      for (int i = 0; i <= k; i++) s += m[i] * pw[k - i];
      mu[k] += s;
    }
  }
  memcpy(w->mu, mu, sizeof mu);
  w->var = fmax(2.0 * mu[2], 0.0);
}

/* Add e^a T to the sum s e^mx (log-sum-exp in one pass). */
static void lse_add(double a, double T, double *mx, double *s) {
  if (a > *mx) {
    *s = *s * exp(*mx - a) + T;
    *mx = a;
  } else {
    *s += T * exp(a - *mx);
  }
}

/* Whether terms up to e^a can no longer count against s e^mx. */
static int lse_done(double a, double mx, double s) {
  return a - mx < -745.0 || exp(a - mx) < s * 1.6e-28;
}

/* The resample's cumulant psi(l) (only psi: the proxy search needs no
 * derivative). */
static int boot_cgf(const ab_tail *t, double l, double gap, ab_cgf *out) {
  const boot_work *w = t->user_ctx;
  const boot_data *d = w->d;
  (void)gap;
  out->dpsi = out->d2psi = out->kl = 0.0;
  if (fabs(l) * t->xabs <= 1.0) {
    double a = 0.0;
    for (int k = TERMS - 1; k >= 2; k--) a = a * l + w->mu[k];
    out->psi = log1p(a * l * l);
    return AB_OK;
  }
  double mx = -INFINITY, s = 0.0, inv_n = w->inv_total;
  size_t nb = d->nbins;
  /* the Taylor terms a bin needs at this tilt: x^K / K! e^{2x} below 1e-22
   * at x = |l| w for the widest bin (all terms while x <= 1) */
  int K = 1;
  double xw = fabs(l) * d->hmax, term = 1.0;
  while (K < TERMS && term * exp(2.0 * xw) > 1e-22) term *= xw / K++;
  for (size_t i = 0; i < nb; i++) {
    size_t b = l > 0 ? nb - 1 - i : i;
    const double *m = w->bm + b * TERMS;
    if (m[0] == 0.0) continue;
    double c = d->centre[b] - w->m, h = d->half[b];
    if (lse_done(l * c + fabs(l) * h, mx, s)) break;
    if (fabs(l) * h <= 1.0) {
      double T = 0.0;
      for (int k = K - 1; k >= 0; k--) T = T * l + m[k];
      lse_add(l * c, T, &mx, &s);
      continue;
    }
    size_t j0 = d->start[b], j1 = d->start[b + 1];
    for (size_t k = 0; k < j1 - j0; k++) {
      size_t j = l > 0 ? j1 - 1 - k : j0 + k;
      if (!w->count[j]) continue;
      double a = l * (d->xs[j] - w->m);
      if (lse_done(a, mx, s)) goto done;
      lse_add(a, (double)w->count[j] * inv_n, &mx, &s);
    }
  }
done:
  out->psi = mx + log(s);
  return isfinite(out->psi) ? AB_OK : AB_EGSL;
}

/* The proxy of the law the counts in w give, in the data's units. */
static int boot_proxy(boot_work *w, double *out) {
  const boot_data *d = w->d;
  boot_moments(w);
  ab_tail t;
  memset(&t, 0, sizeof t);
  t.kind = AB_KIND_EMPIRICAL;
  t.mean = w->m;
  t.variance = w->var;
  t.sup = d->xs[w->hi] - w->m;
  t.inf = d->xs[w->lo] - w->m;
  t.xabs = fmax(t.sup, -t.inf);
  t.lmin = -INFINITY;
  t.lmax = INFINITY;
  t.two_sided = 1;
  t.cgf = boot_cgf;
  t.user_ctx = w;
  double v;
  if (w->hi == w->lo || w->var == 0.0) v = 0.0; /* a point mass */
  else {
    int st = ab_frontier_variance_proxy(&t, &v);
    if (st) return st;
  }
  *out = ldexp(v, 2 * d->e);
  return AB_OK;
}

/* Counts of resample r over the groups (b->groups) into gcount. */
static void group_counts(const ab_boot *b, size_t r, uint32_t *gcount) {
  ab_xoshiro g;
  ab_xoshiro_seed(&g, b->seed, r);
  memset(gcount, 0, b->ngroups * sizeof *gcount);
  for (size_t i = 0; i < b->ngroups; i++)
    gcount[xoshiro_below(&g, b->ngroups)]++;
}

/* The heavy-tail checks: item 0 drops the AB_PROXY_DROP largest and
 * smallest samples, items 1..4 are four random quarters. */
enum { DIAG_ITEMS = 5 };
#define QUARTER_STREAM 0xfffffffffffffff0ull

static void diag_counts(const boot_data *d, size_t item, uint32_t *count) {
  size_t n = d->n;
  if (item == 0) {
    for (size_t j = 0; j < n; j++)
      count[j] = (j < AB_PROXY_DROP || j >= n - AB_PROXY_DROP) ? 0 : 1;
    return;
  }
  /* each sorted sample falls in one quarter, from the run's seed */
  ab_xoshiro g;
  ab_xoshiro_seed(&g, d->boot->seed, QUARTER_STREAM);
  for (size_t j = 0; j < n; j++)
    count[j] = xoshiro_below(&g, 4) == item - 1;
}

static int boot_job(void *ctx, size_t worker, size_t item) {
  boot_data *d = ctx;
  boot_work *w = &d->work[worker];
  const ab_boot *b = d->boot;
  double *out;
  if (item >= b->resamples) {
    diag_counts(d, item - b->resamples, w->count);
    out = &d->diag[item - b->resamples];
  } else if (b->groups) {
    group_counts(b, b->first + item, w->gcount);
    for (size_t j = 0; j < d->n; j++) w->count[j] = w->gcount[d->group[j]];
    out = &d->out[item];
  } else {
    int st = sample_counts(b->seed, b->first + item, d->n, w->count);
    if (st) return st;
    out = &d->out[item];
  }
  double total = 0.0;
  for (size_t j = 0; j < d->n; j++) total += w->count[j];
  if (total == 0.0) { /* an empty quarter */
    *out = NAN;
    return AB_OK;
  }
  w->inv_total = 1.0 / total;
  return boot_proxy(w, out);
}

/* Frees what boot_setup allocated (sizes from d: n, cap, nbins, nwork). */
static void boot_free(boot_data *d) {
  size_t n = d->n, ng = d->boot && d->boot->groups ? d->boot->ngroups : 0;
  if (d->work)
    for (unsigned i = 0; i < d->nwork; i++) {
      ab_free(d->work[i].count, n * sizeof *d->work[i].count);
      ab_free(d->work[i].gcount, ng * sizeof *d->work[i].gcount);
      ab_free(d->work[i].bm, d->nbins * TERMS * sizeof *d->work[i].bm);
    }
  ab_free(d->work, d->nwork * sizeof *d->work);
  ab_free(d->group, n * sizeof *d->group);
  ab_free(d->xs, n * sizeof *d->xs);
  ab_free(d->start, (d->cap + 1) * sizeof *d->start);
  ab_free(d->centre, d->cap * sizeof *d->centre);
  ab_free(d->half, d->cap * sizeof *d->half);
}

/* Sorted, shifted and scaled samples, their bins, and scratch for `workers`
 * workers.  On failure everything allocated is freed. */
/* Whether groups are offsets 0 = g[0] < g[1] < ... < g[ng] = n.  An empty
 * group is refused: a resample drawing only empty groups has no rows and no
 * value, and skipping them would change what the bootstrap over groups
 * means. */
static int groups_ok(const ab_boot *b, size_t n) {
  if (!b->groups) return 1;
  if (b->ngroups == 0 || b->ngroups > UINT32_MAX || b->groups[0] != 0 ||
      b->groups[b->ngroups] != n)
    return 0;
  for (size_t g = 0; g < b->ngroups; g++)
    if (b->groups[g + 1] <= b->groups[g]) return 0;
  return 1;
}

static int boot_setup(const double *x, size_t n, const ab_boot *boot,
                      unsigned workers, boot_data *d) {
  memset(d, 0, sizeof *d);
  if (n == 0 || !x || n > UINT32_MAX || !groups_ok(boot, n)) return AB_EDOM;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return AB_EDOM;
  d->boot = boot;
  d->n = n;
  d->xs = ab_malloc_n(n, sizeof *d->xs);
  if (!d->xs) return AB_ENOMEM;
  /* sorted by the radix sort of sort.c (GSL's heapsort takes 0.4 s on 10^6) */
  ab_record *rec = ab_malloc_n(n, sizeof *rec);
  if (!rec) {
    boot_free(d);
    return AB_ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    rec[i] = (ab_record){ab_sort_key(x[i]), (double)i, 0.0};
  int st = ab_sort_records(rec, n);
  if (!st && boot->groups) {
    /* the group of each sorted sample, from its row (the payload) */
    uint32_t *row_group = ab_malloc_n(n, sizeof *row_group);
    d->group = ab_malloc_n(n, sizeof *d->group);
    if (!row_group || !d->group) st = AB_ENOMEM;
    else {
      for (size_t g = 0; g < boot->ngroups; g++)
        for (size_t i = boot->groups[g]; i < boot->groups[g + 1]; i++)
          row_group[i] = (uint32_t)g;
      for (size_t j = 0; j < n; j++) d->group[j] = row_group[(size_t)rec[j].a];
    }
    ab_free(row_group, n * sizeof *row_group);
  }
  for (size_t i = 0; i < n && !st; i++) d->xs[i] = ab_sort_unkey(rec[i].key);
  ab_free(rec, n * sizeof *rec);
  if (st) {
    boot_free(d);
    return st;
  }
  double lo = d->xs[0], hi = d->xs[n - 1], range = hi - lo;
  if (!isfinite(range)) {
    boot_free(d);
    return AB_ERANGE; /* as ab_tail_discrete: a spread beyond DBL_MAX */
  }
  double shift = 0.5 * lo + 0.5 * hi;
  d->e = range > 0.0 ? ilogb(range) + 1 : 0;
  for (size_t i = 0; i < n; i++) d->xs[i] = ldexp(d->xs[i] - shift, -d->e);
  double width = ldexp(range, -d->e) / BOOT_BINS;
  size_t cap = n < BOOT_BINS + 2 ? n : BOOT_BINS + 2;
  d->cap = cap;
  d->start = ab_malloc_n(cap + 1, sizeof *d->start);
  d->centre = ab_malloc_n(cap, sizeof *d->centre);
  d->half = ab_malloc_n(cap, sizeof *d->half);
  d->work = ab_calloc(workers, sizeof *d->work);
  if (d->work) d->nwork = workers;
  if (!d->start || !d->centre || !d->half || !d->work) {
    boot_free(d);
    return AB_ENOMEM;
  }
  size_t nb = 0;
  for (size_t a = 0; a < n;) {
    size_t b = a + 1;
    while (b < n && d->xs[b] - d->xs[a] <= width) b++;
    if (nb == cap) { /* cannot happen with the width above; kept safe */
      b = n;
      nb--;
      a = d->start[nb];
    }
    d->start[nb] = a;
    d->centre[nb] = 0.5 * (d->xs[a] + d->xs[b - 1]);
    d->half[nb] = 0.5 * (d->xs[b - 1] - d->xs[a]);
    d->hmax = fmax(d->hmax, d->half[nb]);
    nb++;
    a = b;
  }
  d->start[nb] = n;
  d->nbins = nb;
  double f = 1.0;
  for (int k = 0; k < TERMS; k++) {
    if (k > 0) f *= k;
    d->inv_fact[k] = 1.0 / f;
  }
  for (unsigned i = 0; i < workers; i++) {
    d->work[i].d = d;
    d->work[i].count = ab_malloc_n(n, sizeof *d->work[i].count);
    d->work[i].bm = ab_malloc_n(nb * TERMS, sizeof *d->work[i].bm);
    if (boot->groups)
      d->work[i].gcount = ab_malloc_n(boot->ngroups, sizeof *d->work[i].gcount);
    if (!d->work[i].count || !d->work[i].bm ||
        (boot->groups && !d->work[i].gcount)) {
      boot_free(d);
      return AB_ENOMEM;
    }
  }
  return AB_OK;
}

/* Resamples (and, with diag, the heavy-tail checks) of a proxy run. */
static int proxy_run(const double *x, size_t n, const ab_boot *b,
                     const ab_work *work, double *out, double *diag) {
  boot_data d;
  size_t items = (out ? b->resamples : 0) + (diag ? DIAG_ITEMS : 0);
  if (!b || (out && (b->resamples == 0 || b->first > SIZE_MAX - b->resamples)))
    return AB_EDOM;
  unsigned threads = ab_pool_threads(work ? work->threads : 0, items);
  int st = boot_setup(x, n, b, threads, &d);
  if (st) return st;
  /* without out, items start at the checks: resamples = 0 */
  ab_boot none = *b;
  if (!out) none.resamples = 0;
  d.boot = &none;
  d.out = out;
  d.diag = diag;
  st = ab_pool_run(threads, items, boot_job, &d, work ? work->progress : NULL,
                   work ? work->progress_ud : NULL);
  boot_free(&d);
  return st;
}

int ab_estimate_variance_proxy_boot(const double *x, size_t n,
                                    const ab_boot *b, const ab_work *work,
                                    double *out) {
  if (!out) return AB_EDOM;
  return proxy_run(x, n, b, work, out, NULL);
}

/* The p-quantile of m values by linear interpolation between order
 * statistics (the percentile bootstrap); an infinite value stays infinite
 * (a + frac (b - a) would be inf - inf). */
int ab_estimate_percentile(const double *v, size_t m, double p, double *q) {
  if (m == 0 || !v || !(p >= 0.0 && p <= 1.0)) return AB_EDOM;
  double *s = ab_malloc_n(m, sizeof *s);
  if (!s) return AB_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    if (isnan(v[i])) {
      ab_free(s, m * sizeof *s);
      return AB_EDOM;
    }
    s[i] = v[i];
  }
  gsl_sort(s, 1, m);
  double pos = p * (double)(m - 1);
  size_t lo = (size_t)floor(pos);
  double frac = pos - (double)lo;
  double a = s[lo], b = lo + 1 < m ? s[lo + 1] : a;
  *q = (frac == 0.0 || a == b) ? a : isinf(b) ? b : a + frac * (b - a);
  ab_free(s, m * sizeof *s);
  return AB_OK;
}

/* The standard deviation of m values (n - 1), by Welford; +inf if a value
 * is infinite, 0 for one value. */
static double spread(const double *v, size_t m) {
  welford w = {0, 0.0, 0.0};
  for (size_t i = 0; i < m; i++) {
    if (isinf(v[i])) return INFINITY;
    welford_add(&w, v[i]);
  }
  return m > 1 ? sqrt(w.m2 / (double)(m - 1)) : 0.0;
}

int ab_estimate_variance_proxy(const double *x, size_t n, double level,
                               size_t resamples, ab_rng *r, double *est,
                               double *upper) {
  ab_tail *t;
  if (n == 0 || !x || !(level > 0.0 && level < 1.0)) return AB_EDOM;
  int st = ab_tail_discrete(x, NULL, n, &t);
  if (st) return st;
  st = ab_tail_variance_proxy(t, AB_CLOSED, est);
  ab_tail_free(t);
  if (st || !upper) return st;
  if (resamples == 0 || !r) return AB_EDOM;
  double *boot = ab_malloc_n(resamples, sizeof *boot);
  if (!boot) return AB_ENOMEM;
  /* the run's seed: one 32-bit draw of the generator, so that the caller's
   * generator moves on as before */
  ab_boot b = {resamples, gsl_rng_get(ab_rng_gsl(r)), 0, NULL, 0};
  ab_work w = {1, NULL, NULL};
  st = ab_estimate_variance_proxy_boot(x, n, &b, &w, boot);
  if (!st) st = ab_estimate_percentile(boot, resamples, level, upper);
  ab_free(boot, resamples * sizeof *boot);
  return st;
}

int ab_estimate_variance_proxy_report(const double *x, size_t n, double level,
                                      const ab_boot *b, const ab_work *work,
                                      double *values, int given,
                                      ab_proxy_report *out) {
  ab_tail *t;
  double diag[DIAG_ITEMS];
  if (n == 0 || !x || !b || !values || b->resamples == 0 ||
      !(level > 0.0 && level < 1.0))
    return AB_EDOM;
  int st = ab_tail_discrete(x, NULL, n, &t);
  if (st) return st;
  st = ab_tail_variance_proxy(t, AB_CLOSED, &out->est);
  ab_tail_free(t);
  if (st) return st;
  if (given) {
    for (size_t i = 0; i < b->resamples; i++)
      if (isnan(values[i]) || values[i] < 0.0) return AB_EDOM;
  }
  if (n < AB_PROXY_FEW) {
    /* too few samples to drop or split: only the bootstrap */
    if (!given) st = proxy_run(x, n, b, work, values, NULL);
    for (int i = 0; i < DIAG_ITEMS; i++) diag[i] = NAN;
  } else {
    st = proxy_run(x, n, b, work, given ? NULL : values, diag);
  }
  if (st) return st;
  out->se = spread(values, b->resamples);
  st = ab_estimate_percentile(values, b->resamples, level, &out->upper);
  if (st) return st;
  out->drop = diag[0];
  out->quarter = 0.25 * (diag[1] + diag[2] + diag[3] + diag[4]);
  out->flags = 0;
  if (n < AB_PROXY_FEW) out->flags |= AB_PROXY_FEW_SAMPLES;
  else {
    if (out->est - out->drop > 1.5 * out->se) out->flags |= AB_PROXY_TOP;
    if (out->est - out->quarter > out->se) out->flags |= AB_PROXY_GROWS;
  }
  return AB_OK;
}

/* ---- bootstraps of other estimates ---------------------------------------
 * The same resampling (of rows, or of groups of rows) for statistics that
 * need the rows themselves: each worker expands a resample's counts into
 * rows and calls the statistic. */

typedef struct {
  const ab_boot *b;
  size_t n;
  uint32_t **count, **gcount;
  size_t rows;           /* the most rows a resample can hold */
  double **buf;          /* per worker: 2 rows doubles */
  int (*stat)(void *ctx, double *buf, size_t rows, const uint32_t *count,
              size_t n, double *out);
  void *ctx;
  double *out;
} row_boot;

static void row_counts(const ab_boot *b, size_t n, size_t r, uint32_t *count,
                       uint32_t *gcount) {
  if (!b->groups) {
    sample_counts(b->seed, r, n, count);
    return;
  }
  group_counts(b, r, gcount);
  for (size_t g = 0; g < b->ngroups; g++)
    for (size_t i = b->groups[g]; i < b->groups[g + 1]; i++) count[i] = gcount[g];
}

static int row_job(void *ctx, size_t worker, size_t item) {
  row_boot *rb = ctx;
  row_counts(rb->b, rb->n, rb->b->first + item, rb->count[worker],
             rb->gcount ? rb->gcount[worker] : NULL);
  return rb->stat(rb->ctx, rb->buf[worker], rb->rows, rb->count[worker], rb->n,
                  &rb->out[item]);
}

static int row_run(row_boot *rb, const ab_work *work) {
  const ab_boot *b = rb->b;
  if (!b || b->resamples == 0 || !rb->out || rb->n == 0 ||
      rb->n > UINT32_MAX || b->first > SIZE_MAX - b->resamples ||
      !groups_ok(b, rb->n))
    return AB_EDOM;
  /* a resample draws n rows, or ngroups groups: with unequal groups up to
   * ngroups times the largest group, more than n rows */
  rb->rows = rb->n;
  if (b->groups) {
    size_t big = 0;
    for (size_t g = 0; g < b->ngroups; g++)
      if (b->groups[g + 1] - b->groups[g] > big)
        big = b->groups[g + 1] - b->groups[g];
    if (big > SIZE_MAX / 2 / sizeof **rb->buf / b->ngroups) return AB_ENOMEM;
    rb->rows = big * b->ngroups;
  }
  unsigned threads = ab_pool_threads(work ? work->threads : 0, b->resamples);
  int st = AB_OK;
  rb->count = ab_calloc(threads, sizeof *rb->count);
  rb->buf = ab_calloc(threads, sizeof *rb->buf);
  rb->gcount = b->groups ? ab_calloc(threads, sizeof *rb->gcount) : NULL;
  if (!rb->count || !rb->buf || (b->groups && !rb->gcount)) st = AB_ENOMEM;
  for (unsigned i = 0; i < threads && !st; i++) {
    rb->count[i] = ab_malloc_n(rb->n, sizeof **rb->count);
    rb->buf[i] = ab_malloc_n(rb->rows, 2 * sizeof **rb->buf);
    if (b->groups) rb->gcount[i] = ab_malloc_n(b->ngroups, sizeof **rb->gcount);
    if (!rb->count[i] || !rb->buf[i] || (b->groups && !rb->gcount[i]))
      st = AB_ENOMEM;
  }
  if (!st)
    st = ab_pool_run(threads, b->resamples, row_job, rb,
                     work ? work->progress : NULL,
                     work ? work->progress_ud : NULL);
  for (unsigned i = 0; i < threads; i++) {
    if (rb->count) ab_free(rb->count[i], rb->n * sizeof **rb->count);
    if (rb->buf) ab_free(rb->buf[i], 2 * rb->rows * sizeof **rb->buf);
    if (rb->gcount) ab_free(rb->gcount[i], b->ngroups * sizeof **rb->gcount);
  }
  ab_free(rb->count, threads * sizeof *rb->count);
  ab_free(rb->buf, threads * sizeof *rb->buf);
  ab_free(rb->gcount, b->groups ? threads * sizeof *rb->gcount : 0);
  return st;
}

typedef struct {
  const double *scores, *values;
  size_t nbest;
} bon_ctx;

/* best-of-n from the resampled rows: each row repeated count times (at
 * most `rows` in all, which buf holds twice) */
static int bon_stat(void *vctx, double *buf, size_t rows,
                    const uint32_t *count, size_t n, double *out) {
  const bon_ctx *c = vctx;
  double *s = buf, *v = s + rows;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < count[i]; j++) {
      s[k] = c->scores[i];
      v[k++] = c->values[i];
    }
  if (k < c->nbest) return AB_EDOM; /* a resample of groups: fewer rows */
  return ab_bon_from_samples(s, v, k, c->nbest, out);
}

int ab_estimate_bon_boot(const double *scores, const double *values, size_t N,
                         size_t n, const ab_boot *b, const ab_work *work,
                         double *out) {
  if (!scores || !values || n == 0 || n > N) return AB_EDOM;
  bon_ctx c = {scores, values, n};
  row_boot rb = {b, N, NULL, NULL, 0, NULL, bon_stat, &c, out};
  return row_run(&rb, work);
}

typedef struct {
  const double *x;
  double kl;
} frontier_ctx;

/* the exact frontier of the resample's empirical law at kl: its distinct
 * rows (at most n <= rows) with their weights */
static int frontier_stat(void *vctx, double *buf, size_t rows,
                         const uint32_t *count, size_t n, double *out) {
  const frontier_ctx *c = vctx;
  double *v = buf, *p = v + rows, total = 0.0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) total += count[i];
  for (size_t i = 0; i < n; i++)
    if (count[i]) {
      v[m] = c->x[i];
      p[m++] = count[i] / total;
    }
  ab_tail *t;
  int st = ab_tail_discrete(v, p, m, &t);
  if (st) return st;
  st = ab_tail_bound(t, AB_GAIN, AB_CLOSED, c->kl, out);
  ab_tail_free(t);
  return st;
}

int ab_estimate_frontier_boot(const double *x, size_t n, double kl,
                              const ab_boot *b, const ab_work *work,
                              double *out) {
  if (!x || !(kl >= 0.0)) return AB_EDOM;
  frontier_ctx c = {x, kl};
  row_boot rb = {b, n, NULL, NULL, 0, NULL, frontier_stat, &c, out};
  return row_run(&rb, work);
}

int ab_estimate_spread(const double *v, size_t m, double *sd) {
  if (!v || m == 0) return AB_EDOM;
  for (size_t i = 0; i < m; i++)
    if (isnan(v[i])) return AB_EDOM;
  *sd = spread(v, m);
  return AB_OK;
}

int ab_estimate_resample_counts(const ab_boot *b, size_t n, size_t r,
                                uint32_t *count) {
  if (!b || !count || n == 0 || n > UINT32_MAX || !groups_ok(b, n))
    return AB_EDOM;
  uint32_t *gcount = NULL;
  if (b->groups && !(gcount = ab_malloc_n(b->ngroups, sizeof *gcount)))
    return AB_ENOMEM;
  row_counts(b, n, r, count, gcount);
  ab_free(gcount, b->groups ? b->ngroups * sizeof *gcount : 0);
  return AB_OK;
}
