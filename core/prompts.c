/*
 * prompts.c - logged runs per prompt (DESIGN 3.7): grouping rows by prompt
 * id, and the per-prompt laws (each prompt's responses, equally weighted, as
 * its empirical reference law) under one common tilt, best-of-n, the
 * sub-Gaussian proxy and the reweighting by logged log-probabilities.
 *
 * Grouped data: P prompts, offsets[0..P] (prompt g holds the grouped rows
 * offsets[g] .. offsets[g+1] - 1), every column permuted once into that order.
 * Aggregates are means over prompts summed in prompt order (ab_prompts_mean),
 * so that a run split by prompts and merged reduces the same numbers in the
 * same order.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- grouping ------------------------------------------------------------ */

/* MurmurHash3's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/* A string's hash, 8 bytes a step. */
static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t c;
    memcpy(&c, s + i, 8);
    h = (h ^ mix64(c)) * 0x9e3779b97f4a7c15ull;
  }
  uint64_t c = 0;
  memcpy(&c, s + i, len - i);
  return mix64(h ^ c);
}

uint64_t ab_hash_bytes(uint64_t h, const void *p, size_t len) {
  return mix64(h ^ hash_bytes(p, len)) * 0x9e3779b97f4a7c15ull;
}

/* The keys of the rows, seen through one interface: strings or doubles. */
typedef struct {
  const char *const *s;
  const size_t *len;
  const uint64_t *num; /* ab_sort_key of numeric ids */
} id_keys;

static uint64_t key_hash(const id_keys *k, size_t i) {
  return k->s ? hash_bytes(k->s[i], k->len[i]) : mix64(k->num[i]);
}

static int key_equal(const id_keys *k, size_t i, size_t j) {
  if (!k->s) return k->num[i] == k->num[j];
  return k->len[i] == k->len[j] && memcmp(k->s[i], k->s[j], k->len[i]) == 0;
}

/* Open addressing, linear probing: slot = prompt index + 1 (0: empty), the
 * table kept at most half full, doubled as prompts appear.  Then a counting
 * sort by prompt (stable: rows keep their order within a prompt). */
static int group_keys(const id_keys *k, size_t n, ab_grouping *g) {
  size_t cap = 1024, P = 0, pcap = 1024, fcap = pcap;
  size_t *slot = ab_calloc(cap, sizeof *slot);
  size_t *gid = ab_malloc_n(n, sizeof *gid);
  uint64_t *hs = ab_malloc_n(pcap, sizeof *hs); /* each prompt's hash */
  /* fcap apart from pcap: hs may grow and first then fail to */
  size_t *first = ab_malloc_n(fcap, sizeof *first);
  memset(g, 0, sizeof *g);
  if (!slot || !gid || !hs || !first) goto nomem;
  for (size_t i = 0; i < n; i++) {
    /* logs usually hold a prompt's responses together: the row before */
    if (i > 0 && key_equal(k, i - 1, i)) {
      gid[i] = gid[i - 1];
      continue;
    }
    uint64_t h = key_hash(k, i);
    size_t j = (size_t)h & (cap - 1);
    while (slot[j] && !(hs[slot[j] - 1] == h && key_equal(k, first[slot[j] - 1], i)))
      j = (j + 1) & (cap - 1);
    if (slot[j]) {
      gid[i] = slot[j] - 1;
      continue;
    }
    if (P == pcap) { /* a new prompt: room for its facts */
      if (pcap > SIZE_MAX / 2 / sizeof *hs) goto nomem;
      uint64_t *h2 = ab_realloc(hs, pcap * sizeof *hs, 2 * pcap * sizeof *hs);
      if (!h2) goto nomem;
      hs = h2;
      pcap *= 2;
      size_t *f2 =
          ab_realloc(first, fcap * sizeof *first, pcap * sizeof *first);
      if (!f2) goto nomem;
      first = f2;
      fcap = pcap;
    }
    hs[P] = h;
    first[P] = i;
    gid[i] = P;
    slot[j] = ++P;
    if (2 * P > cap) { /* rehash into twice the room */
      size_t ncap = 2 * cap, *ns = ab_calloc(ncap, sizeof *ns);
      if (!ns) goto nomem;
      for (size_t q = 0; q < P; q++) {
        size_t t = (size_t)hs[q] & (ncap - 1);
        while (ns[t]) t = (t + 1) & (ncap - 1);
        ns[t] = q + 1;
      }
      ab_free(slot, cap * sizeof *slot);
      slot = ns;
      cap = ncap;
    }
  }
  ab_free(slot, cap * sizeof *slot);
  slot = NULL;
  ab_free(hs, pcap * sizeof *hs);
  hs = NULL;
  /* first to its P entries, the size ab_grouping_free gives back */
  size_t *trimmed = ab_realloc(first, fcap * sizeof *first, P * sizeof *first);
  if (!trimmed) goto nomem;
  g->rows = n;
  g->prompts = P;
  g->first = trimmed;
  first = NULL;
  g->offsets = ab_calloc(P + 1, sizeof *g->offsets);
  g->order = ab_malloc_n(n, sizeof *g->order);
  if (!g->offsets || !g->order) goto nomem;
  for (size_t i = 0; i < n; i++) g->offsets[gid[i] + 1]++;
  for (size_t q = 0; q < P; q++) g->offsets[q + 1] += g->offsets[q];
  /* gid becomes the running position of each prompt */
  size_t *pos = ab_malloc_n(P, sizeof *pos);
  if (!pos) goto nomem;
  memcpy(pos, g->offsets, P * sizeof *pos);
  for (size_t i = 0; i < n; i++) g->order[pos[gid[i]]++] = i;
  ab_free(pos, P * sizeof *pos);
  ab_free(gid, n * sizeof *gid);
  return AB_OK;
nomem:
  ab_free(slot, cap * sizeof *slot);
  ab_free(gid, n * sizeof *gid);
  ab_free(hs, pcap * sizeof *hs);
  ab_free(first, fcap * sizeof *first);
  ab_grouping_free(g);
  return AB_ENOMEM;
}

int ab_group_strings(const char *const *s, const size_t *len, size_t n,
                     ab_grouping *g) {
  if ((n && (!s || !len)) || !g) return AB_EDOM;
  for (size_t i = 0; i < n; i++)
    if (!s[i]) return AB_EDOM;
  id_keys k = {s, len, NULL};
  return group_keys(&k, n, g);
}

int ab_group_numbers(const double *ids, size_t n, ab_grouping *g) {
  if ((n && !ids) || !g) return AB_EDOM;
  uint64_t *num = ab_malloc_n(n, sizeof *num);
  if (!num) return AB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (isnan(ids[i])) {
      ab_free(num, n * sizeof *num);
      return AB_EDOM;
    }
    num[i] = ab_sort_key(ids[i]); /* -0 and +0 are one id */
  }
  id_keys k = {NULL, NULL, num};
  int st = group_keys(&k, n, g);
  ab_free(num, n * sizeof *num);
  return st;
}

/* The arrays are exactly as long as the struct says: those sizes go back
 * to the allocator. */
void ab_grouping_free(ab_grouping *g) {
  if (!g) return;
  ab_free(g->first, g->prompts * sizeof *g->first);
  ab_free(g->offsets, (g->prompts + 1) * sizeof *g->offsets);
  ab_free(g->order, g->rows * sizeof *g->order);
  memset(g, 0, sizeof *g);
}

void ab_group_permute(const ab_grouping *g, const double *x, double *out) {
  for (size_t j = 0; j < g->rows; j++) out[j] = x[g->order[j]];
}

/* ---- per-prompt laws ------------------------------------------------------- */

double ab_prompts_mean(const double *x, size_t P) {
  ab_sum s = {0.0, 0.0};
  for (size_t q = 0; q < P; q++) ab_sum_add(&s, x[q]);
  return P ? ab_sum_value(&s) / (double)P : 0.0;
}

static size_t largest_prompt(const size_t *off, size_t P) {
  size_t m = 1;
  for (size_t q = 0; q < P; q++)
    if (off[q + 1] - off[q] > m) m = off[q + 1] - off[q];
  return m;
}

/* The mean of x[0..m), compensated. */
static double mean_of(const double *x, size_t m) {
  ab_sum s = {0.0, 0.0};
  for (size_t j = 0; j < m; j++) ab_sum_add(&s, x[j]);
  return ab_sum_value(&s) / (double)m;
}

/* sum_j w_j (x_j - mean x), compensated: a gain without two means
 * subtracted. */
static double weighted_gain(const double *w, const double *x, size_t m) {
  double c = mean_of(x, m);
  ab_sum s = {0.0, 0.0};
  for (size_t j = 0; j < m; j++)
    if (w[j] != 0.0) ab_sum_add(&s, w[j] * (x[j] - c)); /* 0 (x - c) is 0 */
  return ab_sum_value(&s);
}

int ab_prompts_check(const size_t *off, size_t P, const double *r,
                     size_t min_responses, size_t *bad) {
  if (!off || !r || P == 0) return AB_EDOM;
  for (size_t q = 0; q < P; q++) {
    if (!(off[q + 1] > off[q]) || off[q + 1] - off[q] < min_responses) {
      *bad = q;
      return AB_EDOM;
    }
    for (size_t j = off[q]; j < off[q + 1]; j++)
      if (!isfinite(r[j])) {
        *bad = q;
        return AB_EDOM;
      }
  }
  return AB_OK;
}

/* The saturated tilt (lambda = inf) of one prompt: all the mass on its top
 * reward(s), in proportion; KL = -log P(top). */
static void saturate(const double *r, size_t m, double *w, double *kl) {
  double top = r[0];
  size_t c = 0;
  for (size_t j = 1; j < m; j++) top = fmax(top, r[j]);
  for (size_t j = 0; j < m; j++) c += r[j] == top;
  for (size_t j = 0; j < m; j++) w[j] = r[j] == top ? 1.0 / (double)c : 0.0;
  *kl = log((double)m / (double)c);
}

/* One pass over all prompts at lambda: the prompt-averaged KL, and its
 * slope dK/dlambda = lambda E_x Var_pi_x r (per-prompt values kept if the
 * arrays are not NULL). */
static int tilt_pass(const size_t *off, size_t P, const double *r, double lambda,
                     double *kl_x, double *gain_x, double *var_x, double *kl,
                     double *slope) {
  ab_sum k = {0.0, 0.0}, v = {0.0, 0.0};
  for (size_t q = 0; q < P; q++) {
    double kq, gq, vq;
    int st = ab_tilt_equal(r + off[q], off[q + 1] - off[q], lambda, NULL, &kq,
                           &gq, &vq);
    if (st) return st;
    if (kl_x) kl_x[q] = kq;
    if (gain_x) gain_x[q] = gq;
    if (var_x) var_x[q] = vq;
    ab_sum_add(&k, kq);
    ab_sum_add(&v, vq);
  }
  *kl = ab_sum_value(&k) / (double)P;
  *slope = lambda * ab_sum_value(&v) / (double)P;
  return AB_OK;
}

/* The prompt-averaged KL of the saturated tilt, E_x -log P_x(top). */
static double saturation_kl(const size_t *off, size_t P, const double *r,
                            double *w) {
  ab_sum k = {0.0, 0.0};
  for (size_t q = 0; q < P; q++) {
    double kq;
    saturate(r + off[q], off[q + 1] - off[q], w, &kq);
    ab_sum_add(&k, kq);
  }
  return ab_sum_value(&k) / (double)P;
}

/* (a - b) 2^-e, the difference taken where it cannot overflow (|a - b| may
 * exceed DBL_MAX; a quarter of each is exact there). */
static double scaled_diff(double a, double b, int e) {
  if (fabs(a) < 0x1p1020 && fabs(b) < 0x1p1020) return ldexp(a - b, -e);
  return ldexp(ldexp(a, -2) - ldexp(b, -2), 2 - e);
}

/* The run's scale: e with the largest per-prompt spread max r - min r in
 * [2^(e-1), 2^e) (0 when every prompt is constant).  Tilts and proxies are
 * shift-invariant per prompt and scale with 2^e, so they are computed on the
 * rewards centred on their prompt's top and scaled by 2^-e (rs, if not NULL),
 * where neither the variance nor lambda r underflows or overflows. */
static int run_scale(const size_t *off, size_t P, const double *r,
                     double *rs) {
  int e = 0, best = INT_MIN;
  for (size_t q = 0; q < P; q++) {
    double top = r[off[q]], low = top;
    for (size_t j = off[q]; j < off[q + 1]; j++) {
      top = fmax(top, r[j]);
      low = fmin(low, r[j]);
    }
    if (top > low) {
      int eq;
      frexp(scaled_diff(top, low, 2), &eq);
      if (eq + 2 > best) best = eq + 2;
    }
  }
  if (best != INT_MIN) e = best;
  if (rs)
    for (size_t q = 0; q < P; q++) {
      double top = r[off[q]];
      for (size_t j = off[q]; j < off[q + 1]; j++) top = fmax(top, r[j]);
      for (size_t j = off[q]; j < off[q + 1]; j++)
        rs[j] = scaled_diff(r[j], top, e);
    }
  return e;
}

/* The common tilt lambda at which the prompt-averaged KL is K (0 < K <
 * saturation) on rewards of spread at most 1 (run_scale): Newton in log
 * lambda on log K(lambda) (its slope is lambda^2 E Var / K), kept inside a
 * bracket that every step narrows (bisected in log lambda where Newton
 * leaves it, e.g. near saturation where K is flat), from the small-lambda
 * start K ~ lambda^2 E Var_ref / 2. */
static int solve_lambda(const size_t *off, size_t P, const double *r, double K,
                        double *lambda) {
  double lo = 0.0, hi = INFINITY, l, kl, slope;
  int st;
  /* E_x Var_ref,x: the slope's limit at lambda = 0 */
  ab_sum v = {0.0, 0.0};
  for (size_t q = 0; q < P; q++) {
    size_t m = off[q + 1] - off[q];
    double c = mean_of(r + off[q], m);
    ab_sum s = {0.0, 0.0};
    for (size_t j = off[q]; j < off[q + 1]; j++)
      ab_sum_add(&s, (r[j] - c) * (r[j] - c));
    ab_sum_add(&v, ab_sum_value(&s) / (double)m);
  }
  double var0 = ab_sum_value(&v) / (double)P;
  if (!(var0 > 0.0) || !isfinite(var0)) return AB_ERANGE;
  l = sqrt(2.0 * K / var0);
  double best = l, best_h = INFINITY;
  for (int it = 0; it < 400; it++) {
    if ((st = tilt_pass(off, P, r, l, NULL, NULL, NULL, &kl, &slope))) return st;
    double h = log(kl / K);
    if (fabs(h) < best_h) {
      best_h = fabs(h);
      best = l;
    }
    if (fabs(h) <= 1e-14) break;
    if (kl < K) lo = l;
    else hi = l;
    if (isfinite(hi) && hi - lo <= 4e-16 * hi) break;
    /* K not reached by 1e300 (spreads of 1, saturated to rounding) */
    if (isinf(hi) && l >= 1e300) break;
    /* d log K / d log lambda = lambda slope / K */
    double s = l * slope / kl, next = NAN;
    if (s > 0.0 && isfinite(s) && kl > 0.0) next = l * exp(-h / s);
    if (!(next > lo && next < hi && next <= 1e300)) {
      if (isinf(hi)) next = fmin(4.0 * l, 1e300);
      else if (lo > 0.0) next = exp(0.5 * (log(lo) + log(hi))); /* no overflow */
      else next = 0.5 * hi;
    }
    l = next;
  }
  if (!(best_h <= 1e-10)) return AB_ENOCONV;
  *lambda = best;
  return AB_OK;
}

int ab_prompts_tilt(const size_t *off, size_t P, const double *r,
                    const double *gold, int mode, double value, double *kl_x,
                    double *gain_x, double *gold_x, ab_prompts_result *out) {
  size_t bad, mmax;
  int st;
  if (mode == AB_TILT_KL ? !(value >= 0.0) : !(value > 0.0)) return AB_EDOM;
  if ((st = ab_prompts_check(off, P, r, 1, &bad))) return st;
  mmax = largest_prompt(off, P);
  double *w = ab_malloc_n(mmax, sizeof *w);
  if (!w) return AB_ENOMEM;
  double lambda = mode == AB_TILT_BETA ? 1.0 / value : 0.0;
  /* the tilt at a solved lambda: on the run's rescaled rewards rs, at
   * lambda 2^e (gains scaled back by 2^e) */
  double *rs = NULL, lambda_s = lambda;
  size_t nrows = off[P];
  int e = 0;
  if (mode == AB_TILT_KL && value > 0.0) {
    double ksat = saturation_kl(off, P, r, w);
    if (value >= ksat) {
      lambda = lambda_s = INFINITY;
    } else {
      rs = ab_malloc_n(nrows, sizeof *rs);
      if (!rs) {
        st = AB_ENOMEM;
        goto done;
      }
      e = run_scale(off, P, r, rs);
      if ((st = solve_lambda(off, P, rs, value, &lambda_s))) goto done;
      lambda = ldexp(lambda_s, -e);
    }
  }
  for (size_t q = 0; q < P; q++) {
    size_t m = off[q + 1] - off[q];
    const double *rq = r + off[q];
    double kq = 0.0, gq = 0.0, vq;
    if (lambda_s == 0.0) {
      for (size_t j = 0; j < m; j++) w[j] = 1.0 / (double)m;
    } else if (isinf(lambda_s)) {
      saturate(rq, m, w, &kq);
      gq = weighted_gain(w, rq, m);
    } else if (rs) {
      if ((st = ab_tilt_equal(rs + off[q], m, lambda_s, w, &kq, &gq, &vq)))
        goto done;
      gq = ldexp(gq, e);
    } else if ((st = ab_tilt_equal(rq, m, lambda, w, &kq, &gq, &vq))) {
      goto done;
    }
    kl_x[q] = kq;
    gain_x[q] = lambda_s == 0.0 ? 0.0 : gq;
    if (gold) {
      for (size_t j = 0; j < m; j++)
        if (!isfinite(gold[off[q] + j])) {
          st = AB_EDOM;
          goto done;
        }
      gold_x[q] = lambda_s == 0.0 ? 0.0 : weighted_gain(w, gold + off[q], m);
    }
  }
  out->lambda = lambda;
  out->kl = ab_prompts_mean(kl_x, P);
  out->gain = ab_prompts_mean(gain_x, P);
  out->gold_gain = gold ? ab_prompts_mean(gold_x, P) : NAN;
  out->win_rate = NAN;
done:
  ab_free(w, mmax * sizeof *w);
  if (rs) ab_free(rs, nrows * sizeof *rs);
  return st;
}

/* Records of one prompt (reward key, probability 1/m, index), sorted by
 * reward: by insertion for the usual handful of responses. */
static int sort_prompt(const double *r, size_t m, ab_record *k) {
  for (size_t j = 0; j < m; j++) {
    k[j].key = ab_sort_key(r[j]);
    k[j].a = 1.0 / (double)m;
    k[j].b = (double)j;
  }
  if (m > 32) return ab_sort_records(k, m);
  for (size_t j = 1; j < m; j++) {
    ab_record x = k[j];
    size_t i = j;
    while (i > 0 && k[i - 1].key > x.key) {
      k[i] = k[i - 1];
      i--;
    }
    k[i] = x;
  }
  return AB_OK;
}

int ab_prompts_bon(const size_t *off, size_t P, const double *r,
                   const double *gold, double n, double *kl_x, double *gain_x,
                   double *gold_x, double *win_x, ab_prompts_result *out) {
  size_t bad;
  int st;
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  if ((st = ab_prompts_check(off, P, r, 1, &bad))) return st;
  size_t mmax = largest_prompt(off, P);
  double *w = ab_malloc_n(mmax, sizeof *w);
  ab_record *k = ab_malloc_n(mmax, sizeof *k);
  if (!w || !k) {
    st = AB_ENOMEM;
    goto done;
  }
  for (size_t q = 0; q < P; q++) {
    size_t m = off[q + 1] - off[q];
    const double *rq = r + off[q];
    ab_bon_summary s = {0.0, 0.5, 0.0, 0.0};
    if (gold)
      for (size_t j = 0; j < m; j++)
        if (!isfinite(gold[off[q] + j])) {
          st = AB_EDOM;
          goto done;
        }
    if (n == 1.0) { /* no selection: the reference itself */
      kl_x[q] = gain_x[q] = 0.0;
      if (gold) gold_x[q] = 0.0;
      win_x[q] = 0.5;
      continue;
    }
    if ((st = sort_prompt(rq, m, k))) goto done;
    ab_sum total = {0.0, 0.0};
    for (size_t j = 0; j < m; j++) ab_sum_add(&total, k[j].a);
    ab_bon_sorted(k, m, n, &total, w, &s);
    kl_x[q] = s.kl;
    win_x[q] = s.win_rate;
    gain_x[q] = weighted_gain(w, rq, m);
    if (gold) gold_x[q] = weighted_gain(w, gold + off[q], m);
  }
  out->lambda = NAN;
  out->kl = ab_prompts_mean(kl_x, P);
  out->gain = ab_prompts_mean(gain_x, P);
  out->gold_gain = gold ? ab_prompts_mean(gold_x, P) : NAN;
  out->win_rate = ab_prompts_mean(win_x, P);
done:
  ab_free(w, mmax * sizeof *w);
  ab_free(k, mmax * sizeof *k);
  return st;
}

/* Prompts per pool item: enough to make the item's overhead small, few
 * enough that progress moves and the threads share the work evenly. */
#define PROXY_BLOCK 256

typedef struct {
  const size_t *off;
  const double *r;
  double *s2_x;
  size_t P;
  const ab_work *work; /* the caller's progress, in prompts */
} proxy_job_ctx;

/* Pool item: the proxies of prompts [item PROXY_BLOCK, ...), each written to
 * its own slot (so the values do not depend on the threads). */
static int proxy_job(void *vctx, size_t worker, size_t item) {
  proxy_job_ctx *c = vctx;
  (void)worker;
  size_t lo = item * PROXY_BLOCK, hi = lo + PROXY_BLOCK;
  if (hi > c->P) hi = c->P;
  for (size_t q = lo; q < hi; q++) {
    ab_tail *t;
    int st = ab_tail_discrete(c->r + c->off[q], NULL, c->off[q + 1] - c->off[q],
                              &t);
    if (st) return st;
    st = ab_tail_variance_proxy(t, AB_CLOSED, &c->s2_x[q]);
    ab_tail_free(t);
    if (st) return st;
  }
  return AB_OK;
}

/* The pool's progress (in blocks) passed on in prompts. */
static int proxy_progress(void *vctx, double done, double total) {
  proxy_job_ctx *c = vctx;
  (void)total;
  double d = done * PROXY_BLOCK;
  return c->work->progress(c->work->progress_ud, d < (double)c->P ? d : (double)c->P,
                           (double)c->P);
}

int ab_prompts_variance_proxy_work(const size_t *off, size_t P,
                                   const double *r, const ab_work *work,
                                   double *s2_x) {
  size_t bad;
  int st;
  if ((st = ab_prompts_check(off, P, r, 1, &bad))) return st;
  proxy_job_ctx c = {off, r, s2_x, P, work};
  size_t blocks = (P + PROXY_BLOCK - 1) / PROXY_BLOCK;
  int watch = work && work->progress;
  return ab_pool_run(ab_pool_threads(work ? work->threads : 1, blocks), blocks,
                     proxy_job, &c, watch ? proxy_progress : NULL,
                     watch ? &c : NULL);
}

int ab_prompts_variance_proxy(const size_t *off, size_t P, const double *r,
                              double *s2_x) {
  return ab_prompts_variance_proxy_work(off, P, r, NULL, s2_x);
}

int ab_prompts_bound_work(const size_t *off, size_t P, const double *r,
                          double kl, const ab_work *work, double *bound,
                          double *s2) {
  size_t bad;
  int st;
  if (!(kl >= 0.0) || !bound || !s2) return AB_EDOM;
  if ((st = ab_prompts_check(off, P, r, 1, &bad))) return st;
  size_t nrows = off[P];
  double *rs = ab_malloc_n(nrows, sizeof *rs);
  double *sq = ab_malloc_n(P, sizeof *sq);
  if (!rs || !sq) {
    ab_free(rs, nrows * sizeof *rs);
    ab_free(sq, P * sizeof *sq);
    return AB_ENOMEM;
  }
  int e = run_scale(off, P, r, rs);
  st = ab_prompts_variance_proxy_work(off, P, rs, work, sq);
  /* the mean over prompts in prompt order: the same bits for any threads */
  ab_sum s = {0.0, 0.0};
  for (size_t q = 0; q < P && !st; q++) ab_sum_add(&s, sq[q]);
  ab_free(rs, nrows * sizeof *rs);
  ab_free(sq, P * sizeof *sq);
  if (st) return st;
  /* sqrt(2 s2 kl) = 2^e sqrt(2 kl) sqrt(s2'), s2 = 4^e s2' */
  double sv = ab_sum_value(&s) / (double)P;
  *bound = sv > 0.0 && kl > 0.0 ? ldexp(sqrt(2.0 * kl) * sqrt(sv), e) : 0.0;
  *s2 = ldexp(sv, 2 * e);
  return AB_OK;
}

int ab_prompts_bound(const size_t *off, size_t P, const double *r, double kl,
                     double *bound, double *s2) {
  return ab_prompts_bound_work(off, P, r, kl, NULL, bound, s2);
}

/* One prompt reweighted: t_j = m pi_j with pi_j proportional to e^{d_j},
 * d_j = logp_policy - logp_ref; KL = (1/m) sum (t log t - t + 1), reverse KL
 * = (1/m) sum (t - 1 - log t) (both in their nonnegative forms), gain =
 * (1/m) sum (t - 1)(r - mean r). */
static void reweight_one(const double *r, const double *lp, const double *lr,
                         size_t m, double *t, double *kl, double *rkl,
                         double *gain) {
  double top = -INFINITY;
  for (size_t j = 0; j < m; j++) top = fmax(top, lp[j] - lr[j]);
  ab_sum s = {0.0, 0.0};
  for (size_t j = 0; j < m; j++) ab_sum_add(&s, exp((lp[j] - lr[j]) - top));
  double logmean = log(ab_sum_value(&s) / (double)m);
  ab_sum k = {0.0, 0.0}, rk = {0.0, 0.0}, g = {0.0, 0.0};
  double c = mean_of(r, m);
  for (size_t j = 0; j < m; j++) {
    double l = ((lp[j] - lr[j]) - top) - logmean, em1x, em1; /* log t */
    ab_em1x(l, &em1x, &em1);
    t[j] = 1.0 + em1;
    /* t log t - t + 1 = d^2 - t (e^l - 1 - l) with d = t - 1 (no
     * cancellation near t = 1), and t - 1 - log t = e^l - 1 - l */
    double term = fabs(l) < 0.5 ? em1 * em1 - t[j] * em1x : t[j] * l - em1;
    ab_sum_add(&k, term);
    ab_sum_add(&rk, em1x);
    if (em1 != 0.0) ab_sum_add(&g, em1 * (r[j] - c));
  }
  *kl = fmax(ab_sum_value(&k) / (double)m, 0.0);
  *rkl = fmax(ab_sum_value(&rk) / (double)m, 0.0);
  *gain = ab_sum_value(&g) / (double)m;
}

int ab_prompts_reweight(const size_t *off, size_t P, const double *r,
                        const double *logp_policy, const double *logp_ref,
                        double *kl_x, double *rkl_x, double *gain_x,
                        size_t *bad) {
  int st;
  if ((st = ab_prompts_check(off, P, r, 2, bad))) return st;
  if (!logp_policy || !logp_ref) return AB_EDOM;
  size_t mmax = largest_prompt(off, P);
  double *t = ab_malloc_n(mmax, sizeof *t);
  if (!t) return AB_ENOMEM;
  for (size_t q = 0; q < P; q++) {
    size_t a = off[q], m = off[q + 1] - a;
    for (size_t j = a; j < a + m; j++)
      if (!isfinite(logp_policy[j] - logp_ref[j])) { /* each, and their difference */
        *bad = q;
        ab_free(t, mmax * sizeof *t);
        return AB_EDOM;
      }
    reweight_one(r + a, logp_policy + a, logp_ref + a, m, t, &kl_x[q],
                 &rkl_x[q], &gain_x[q]);
  }
  ab_free(t, mmax * sizeof *t);
  return AB_OK;
}

int ab_prompts_frontier(const size_t *off, size_t P, const double *r,
                        const double *kl_x, double *frontier_x) {
  size_t bad;
  int st;
  if ((st = ab_prompts_check(off, P, r, 1, &bad))) return st;
  size_t mmax = largest_prompt(off, P);
  double *p = ab_malloc_n(mmax, sizeof *p), *w = ab_malloc_n(mmax, sizeof *w);
  if (!p || !w) {
    st = AB_ENOMEM;
    goto done;
  }
  for (size_t q = 0; q < P; q++) {
    size_t m = off[q + 1] - off[q];
    ab_tilt_summary s;
    for (size_t j = 0; j < m; j++) p[j] = 1.0 / (double)m;
    if ((st = ab_tilt_policy(p, r + off[q], m, AB_TILT_KL, kl_x[q], w, &s)))
      goto done;
    frontier_x[q] = s.gain;
  }
done:
  ab_free(p, mmax * sizeof *p);
  ab_free(w, mmax * sizeof *w);
  return st;
}

/* The delta method over prompts: an aggregate that is a smooth function of
 * means over prompts moves, to first order, by the mean of its influence
 * phi_q = sum_t c[t] x[t][q] (e.g. the common tilt's frontier at a budget:
 * phi_q = gain_q - KL_q / lambda, the envelope slope dgain/dKL being
 * 1/lambda); its standard error is the sample deviation of phi over the
 * prompts over sqrt(P): sqrt(sum_q (phi_q - mean)^2 / (P (P - 1))). */
int ab_prompts_se(const double *const *x, const double *c, size_t terms,
                  size_t P, double *se) {
  if (!x || !c || !se || terms == 0 || P == 0) return AB_EDOM;
  ab_sum s = {0.0, 0.0}, d = {0.0, 0.0};
  for (size_t q = 0; q < P; q++) {
    double phi = 0.0;
    for (size_t t = 0; t < terms; t++)
      if (c[t] != 0.0) phi += c[t] * x[t][q];
    if (!isfinite(phi)) return AB_EDOM;
    ab_sum_add(&s, phi);
  }
  double mean = ab_sum_value(&s) / (double)P, big = 0.0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t q = 0; q < P; q++) {
      double phi = 0.0;
      for (size_t t = 0; t < terms; t++)
        if (c[t] != 0.0) phi += c[t] * x[t][q];
      /* the squares scaled by the largest deviation, so that rewards near
       * 1e300 (deviations whose squares overflow) keep their se */
      if (pass == 0) big = fmax(big, fabs(phi - mean));
      else if (big > 0.0) {
        double z = (phi - mean) / big;
        ab_sum_add(&d, z * z);
      }
    }
  *se = P > 1 && big > 0.0
            ? big * sqrt(ab_sum_value(&d) / ((double)P * (double)(P - 1)))
            : 0.0;
  return isfinite(*se) ? AB_OK : AB_ERANGE;
}
