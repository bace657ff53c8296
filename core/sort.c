/*
 * sort.c - sorting records by a double key, for the best-of-n walks over 10^7
 * outcomes.  libc's qsort calls a comparator per comparison and, sorting
 * (reward, index) pairs, leaves the probabilities to be read in random order
 * afterwards; an LSD radix sort on the key's bits moves the whole record in
 * a few streaming passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A monotone map from finite doubles to unsigned integers: flip the sign bit
 * of positives and every bit of negatives.  -0 is taken as +0 first, so equal
 * doubles get equal keys. */
uint64_t ab_sort_key(double x) {
  uint64_t u;
  x += 0.0; /* -0 -> +0 */
  memcpy(&u, &x, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

double ab_sort_unkey(uint64_t k) {
  uint64_t u = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

#define DIGIT 16
#define BUCKETS (1u << DIGIT)
#define PASSES ((64 + DIGIT - 1) / DIGIT)

/* Stable LSD radix sort by key, 16 bits a pass (four passes: fewer, wider
 * passes beat narrow ones here, the sort being bound by memory traffic), skipping the passes in which
 * every key has the same digit (the sign and exponent bits of most data).
 * tmp holds n records, count PASSES x BUCKETS zeroed counters. */
static void radix_sort(ab_record *r, size_t n, ab_record *tmp,
                       size_t (*count)[BUCKETS]) {
  for (size_t i = 0; i < n; i++)
    for (int p = 0; p < PASSES; p++)
      count[p][(r[i].key >> (p * DIGIT)) & (BUCKETS - 1)]++;
  ab_record *src = r, *dst = tmp;
  for (int p = 0; p < PASSES; p++) {
    size_t *c = count[p], sum = 0;
    if (c[(src[0].key >> (p * DIGIT)) & (BUCKETS - 1)] == n) continue;
    for (size_t b = 0; b < BUCKETS; b++) {
      size_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (size_t i = 0; i < n; i++)
      dst[c[(src[i].key >> (p * DIGIT)) & (BUCKETS - 1)]++] = src[i];
    ab_record *t = src;
    src = dst;
    dst = t;
  }
  if (src != r) memcpy(r, src, n * sizeof *r);
}

int ab_sort_records(ab_record *r, size_t n) {
  if (n < 2) return AB_OK;
  size_t(*count)[BUCKETS] = ab_calloc(PASSES, sizeof *count);
  ab_record *tmp = ab_alloc_large(n * sizeof *tmp);
  if (!count || !tmp) {
    ab_free(count, PASSES * sizeof *count);
    ab_free(tmp, n * sizeof *tmp);
    return AB_ENOMEM;
  }
  radix_sort(r, n, tmp, count);
  ab_free(tmp, n * sizeof *tmp);
  ab_free(count, PASSES * sizeof *count);
  return AB_OK;
}

/* the records, then the counters (AB_WORKSPACE_BYTES counts on this) */
static size_t tmp_bytes(size_t n) {
  return (n * sizeof(ab_record) + 15) / 16 * 16;
}

size_t ab_sort_scratch_bytes(size_t n) {
  return tmp_bytes(n) + PASSES * sizeof(size_t[BUCKETS]);
}

void ab_sort_records_in(ab_record *r, size_t n, void *scratch) {
  if (n < 2) return;
  size_t(*count)[BUCKETS] =
      (size_t(*)[BUCKETS])((char *)scratch + tmp_bytes(n));
  memset(count, 0, PASSES * sizeof *count);
  radix_sort(r, n, scratch, count);
}

/* A discrete law as records (reward, probability, index) sorted by reward,
 * ascending: the start of every walk over groups of tied rewards. */
static void load_law(const double *probs, const double *rewards, size_t m,
                     ab_record *k) {
  for (size_t i = 0; i < m; i++) {
    k[i].key = ab_sort_key(rewards[i]);
    k[i].a = probs[i];
    k[i].b = (double)i;
  }
}

int ab_sort_law(const double *probs, const double *rewards, size_t m,
                ab_record *k) {
  load_law(probs, rewards, m, k);
  return ab_sort_records(k, m);
}

void ab_sort_law_in(const double *probs, const double *rewards, size_t m,
                    ab_record *k, void *scratch) {
  load_law(probs, rewards, m, k);
  ab_sort_records_in(k, m, scratch);
}
