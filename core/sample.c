/*
 * sample.c - reproducible sampling: a GSL generator per (seed, stream)
 * (xoshiro256** by default, GSL's mt19937 on request), draws from every
 * exact and finite law, and from their tilts.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* The generator and its state are allocated through the allocator kept in
 * the object (gsl_rng_alloc would use malloc): g points at gen, whose state
 * block is type->size bytes. */
struct ab_rng {
  gsl_rng *g;
  gsl_rng gen;
  ab_allocator alloc;
};

/* The GSL face of xoshiro256**: gsl_rng_get gives the top bits that fit an
 * unsigned long, gsl_rng_uniform the top 53 bits times 2^-53. */
static void xoshiro_set(void *state, unsigned long seed) {
  ab_xoshiro_seed(state, seed, 0);
}

static unsigned long xoshiro_get(void *state) {
  return (unsigned long)(ab_xoshiro_next(state) >>
                         (64 - CHAR_BIT * sizeof(unsigned long)));
}

static double xoshiro_get_double(void *state) {
  return (double)(ab_xoshiro_next(state) >> 11) * 0x1.0p-53;
}

static const gsl_rng_type xoshiro_type = {
    "xoshiro256**", ULONG_MAX, 0, sizeof(ab_xoshiro),
    xoshiro_set,    xoshiro_get, xoshiro_get_double};

const void *ab_rng_xoshiro256ss(void) { return &xoshiro_type; }

/* A generator of the given type whose object and state come from the
 * allocator a (NULL: the process allocator), kept in the object for
 * ab_rng_free; the gsl_rng is built by hand (gsl_rng_alloc would use
 * malloc). */
int ab_rng_new_type_a(const ab_allocator *a, int type, unsigned long long seed,
                      unsigned long long stream, ab_rng **out) {
  if (type != AB_RNG_XOSHIRO256SS && type != AB_RNG_MT19937) return AB_EDOM;
  const gsl_rng_type *gt = type == AB_RNG_MT19937 ? gsl_rng_mt19937 : &xoshiro_type;
  a = ab_allocator_or_process(a);
  ab_rng *r = ab_malloc_a(a, sizeof *r);
  if (!r) return AB_ENOMEM;
  r->alloc = *a;
  r->gen.type = gt;
  r->gen.state = ab_calloc_a(a, 1, gt->size);
  if (!r->gen.state) {
    ab_free_a(a, r, sizeof *r);
    return AB_ENOMEM;
  }
  r->g = &r->gen;
  if (type == AB_RNG_XOSHIRO256SS) {
    ab_xoshiro_seed(r->g->state, seed, stream);
  } else {
    /* all 64 bits of the seed and of the stream reach the 32-bit seed that
     * mt19937 keeps (GSL maps 0 to its default seed: avoid it) */
    uint64_t h = ab_splitmix64(ab_splitmix64(seed) ^ stream);
    unsigned long s = (unsigned long)((h ^ (h >> 32)) & 0xffffffffull);
    gsl_rng_set(r->g, s ? s : 0x6a09e667ul);
  }
  *out = r;
  return AB_OK;
}

int ab_rng_new(unsigned long long seed, unsigned long long stream,
               ab_rng **out) {
  return ab_rng_new_type_a(NULL, AB_RNG_XOSHIRO256SS, seed, stream, out);
}

int ab_rng_new_type(int type, unsigned long long seed,
                    unsigned long long stream, ab_rng **out) {
  return ab_rng_new_type_a(NULL, type, seed, stream, out);
}

int ab_rng_new_a(const ab_allocator *a, unsigned long long seed,
                 unsigned long long stream, ab_rng **out) {
  return ab_rng_new_type_a(a, AB_RNG_XOSHIRO256SS, seed, stream, out);
}

int ab_rng_type(const ab_rng *r) {
  return r->g->type == &xoshiro_type ? AB_RNG_XOSHIRO256SS : AB_RNG_MT19937;
}

void ab_rng_free(ab_rng *r) {
  if (!r) return;
  ab_allocator a = r->alloc;
  ab_free_a(&a, r->gen.state, r->gen.type->size);
  ab_free_a(&a, r, sizeof *r);
}

double ab_rng_uniform(ab_rng *r) { return gsl_rng_uniform_pos(r->g); }

void *ab_rng_gsl(ab_rng *r) { return r->g; }

/* Draws from a finite law with weights (alias method, GSL's Walker tables),
 * or uniformly over the atoms when w is NULL. */
static int finite_draws(const double *x, const double *w, size_t m,
                        double shift, ab_rng *r, size_t k, double *out) {
  if (!w) {
    for (size_t i = 0; i < k; i++)
      out[i] = x[gsl_rng_uniform_int(r->g, m)] + shift;
    return AB_OK;
  }
  gsl_ran_discrete_t *table = gsl_ran_discrete_preproc(m, w);
  if (!table) return AB_ENOMEM;
  for (size_t i = 0; i < k; i++) out[i] = x[gsl_ran_discrete(r->g, table)] + shift;
  gsl_ran_discrete_free(table);
  return AB_OK;
}

/* A Gamma(k, th) draw as th times a Gamma(k, 1) draw.  GSL's own scaling
 * for k < 1, Gamma(1 + k, th) U^{1/k}, gave inf * 0 = NaN when th is near
 * DBL_MAX and k so small that U^{1/k} underflows (fuzz: k = 5e-324, th =
 * DBL_MAX); Gamma(1 + k, 1) U^{1/k} is finite, and the product with th
 * overflows only where the draw itself is beyond DBL_MAX. */
static double gamma_draw(gsl_rng *g, double k, double th) {
  double x = gsl_ran_gamma(g, k, 1.0);
  return x == 0.0 ? 0.0 : th * x; /* (th may be inf at the edge of a tilt) */
}

int ab_tail_sample(const ab_tail *t, ab_rng *r, size_t k, double *out) {
  const double *a = t->par;
  gsl_rng *g = r->g;
  if (ab_is_finite_law(t))
    return finite_draws(t->x, t->w, t->n, t->mean, r, k, out);
  for (size_t i = 0; i < k; i++) {
    double v;
    switch (t->kind) {
    case AB_KIND_GAUSSIAN:
      v = a[0] + gsl_ran_gaussian_ziggurat(g, a[1]);
      break;
    case AB_KIND_UNIFORM:
      v = a[0] + (a[1] - a[0]) * gsl_rng_uniform(g);
      break;
    case AB_KIND_EXPONENTIAL:
    case AB_KIND_GAMMA:
      v = gamma_draw(g, a[0], a[1]);
      break;
    case AB_KIND_GUMBEL: /* inverse CDF */
      v = a[0] - a[1] * log(-log(gsl_rng_uniform_pos(g)));
      break;
    case AB_KIND_LOGISTIC:
      v = a[0] + gsl_ran_logistic(g, a[1]);
      break;
    case AB_KIND_BETA:
      v = gsl_ran_beta(g, a[0], a[1]);
      break;
    case AB_KIND_STUDENT_T:
      v = a[1] * gsl_ran_tdist(g, a[0]);
      break;
    case AB_KIND_PARETO:
      v = gsl_ran_pareto(g, a[1], a[0]);
      break;
    default:
      return AB_EUNDEF;
    }
    out[i] = v;
  }
  return AB_OK;
}

/* The tilted laws in closed form: Gaussian N(m + s^2 l, s^2); Gamma(k, th)
 * -> Gamma(k, th / (1 - l th)); Gumbel: e^{-z} ~ Exp(1) tilted by
 * e^{l beta z} is Gamma(1 - l beta, 1); logistic: U = 1/(1 + e^{-z}) tilted
 * by (U/(1-U))^{l s} is Beta(1 + l s, 1 - l s); uniform: a truncated
 * exponential, by its inverse CDF; beta: rejection from Beta(a, b).  Finite
 * laws: their tilted weights. */
int ab_tilt_sample(const ab_tail *t, double l, ab_rng *r, size_t k,
                   double *out) {
  const double *a = t->par;
  gsl_rng *g = r->g;
  if (isnan(l)) return AB_EDOM;
  if (l == 0.0) return ab_tail_sample(t, r, k, out);
  if (ab_is_finite_law(t)) {
    size_t m = t->n;
    double *w = ab_malloc_n(m, sizeof *w), top = l > 0 ? t->sup : t->inf;
    if (!w) return AB_ENOMEM;
    for (size_t i = 0; i < m; i++) {
      double p = t->w ? t->w[i] : 1.0;
      w[i] = isinf(l) ? (t->x[i] == top ? p : 0.0) : p * exp(l * (t->x[i] - top));
    }
    int st = finite_draws(t->x, w, m, t->mean, r, k, out);
    ab_free(w, m * sizeof *w);
    return st;
  }
  if (!(l < t->lmax && l > t->lmin)) return AB_EDOM;
  /* Beta: the rejection from Beta(a, b) accepts E e^{l (X - top)}, which
   * a strong tilt makes tiny (Beta(2, 3) at l = -1000: 2.7 s a draw); the
   * rejection from the Gamma law of the distance to that end (s the
   * exponent there, r the other) accepts B(s, r) |l|^s / Gamma(s) times as
   * often: taken when that ratio exceeds 1 and r >= 1. */
  int gamma_side = 0;
  double gs = 0.0, gr = 0.0;
  if (t->kind == AB_KIND_BETA) {
    gs = l > 0 ? a[1] : a[0];
    gr = l > 0 ? a[0] : a[1];
    gamma_side = gr >= 1.0 && gs * log(fabs(l)) + lgamma(gr) - lgamma(gs + gr) > 0.0;
  }
  for (size_t i = 0; i < k; i++) {
    double v;
    switch (t->kind) {
    case AB_KIND_GAUSSIAN:
      v = a[0] + a[1] * a[1] * l + gsl_ran_gaussian_ziggurat(g, a[1]);
      break;
    case AB_KIND_EXPONENTIAL:
    case AB_KIND_GAMMA: {
      /* th / (1 - l th), 1 - l th rounded once (fma): l < 1/th can still
       * round l th to 1, where the scale is beyond the doubles */
      double d = fma(-l, a[1], 1.0);
      v = gamma_draw(g, a[0], d > 0.0 ? a[1] / d : INFINITY);
      break;
    }
    case AB_KIND_GUMBEL:
      v = a[0] - a[1] * log(gsl_ran_gamma(g, 1.0 - l * a[1], 1.0));
      break;
    case AB_KIND_LOGISTIC: {
      double u = gsl_ran_beta(g, 1.0 + l * a[1], 1.0 - l * a[1]);
      v = a[0] + a[1] * (log(u) - log1p(-u));
      break;
    }
    case AB_KIND_UNIFORM: {
      /* density ~ e^{l x} on [lo, hi], w = hi - lo; inverting the CDF from
       * the end the mass leans to: l > 0: e^{l (x - hi)} = 1 + (1-u)
       * expm1(-l w); l < 0: e^{l (x - lo)} = 1 + u expm1(l w) */
      double w = a[1] - a[0], u = gsl_rng_uniform_pos(g);
      v = l > 0 ? a[1] + log1p((1.0 - u) * expm1(-l * w)) / l
                : a[0] + log1p(u * expm1(l * w)) / l;
      break;
    }
    case AB_KIND_BETA: {
      size_t tries = 0;
      if (gamma_side) {
        /* the distance d to the end the tilt leans to has density
         * ~ d^{s-1} (1-d)^{r-1} e^{-|l| d}: d ~ Gamma(s, 1/|l|), kept
         * below 1 with probability (1 - d)^{r-1} (r >= 1) */
        double d;
        do {
          d = gsl_ran_gamma(g, gs, 1.0) / fabs(l);
          if (++tries > 100000000) return AB_ENOCONV;
        } while (!(d < 1.0) || gsl_rng_uniform(g) >= pow(1.0 - d, gr - 1.0));
        v = l > 0 ? 1.0 - d : d;
        break;
      }
      /* accept X ~ Beta(a, b) with probability e^{l (X - top)} */
      double top = l > 0 ? 1.0 : 0.0;
      do {
        v = gsl_ran_beta(g, a[0], a[1]);
        if (++tries > 100000000) return AB_ENOCONV;
      } while (gsl_rng_uniform(g) >= exp(l * (v - top)));
      break;
    }
    default:
      return AB_EUNDEF;
    }
    out[i] = v;
  }
  return AB_OK;
}

/* Draws Q(V) for a rule that keeps a reference draw by its reward quantile
 * (DESIGN 3.6): draw() gives V and 1 - V, each to full precision.  An exact
 * law reads its quantile at V; a finite law sorts its atoms from the top
 * with the mass above each, T[j] = P(R > v_j), and takes the last j with
 * T[j] <= 1 - V (ties get G(F<=) - G(F<)).  O(1) per draw for an exact
 * law, O(log m) for a finite one. */
int ab_sample_quantile(const ab_tail *t, ab_quantile_draw draw, void *ctx,
                       ab_rng *r, size_t k, double *out) {
  int st;
  if (!ab_is_finite_law(t)) {
    double v, p, q;
    /* probe once: classes and user cumulants have no quantile */
    if ((st = ab_quantile_centred(t, 0.5, 0.5, &v))) return st;
    for (size_t i = 0; i < k; i++) {
      draw(ctx, r, &p, &q);
      if ((st = ab_quantile_centred(t, p, q, &v))) return st;
      out[i] = v + t->mean;
    }
    return AB_OK;
  }
  size_t m = t->n;
  ab_record *a = ab_alloc_large(m * sizeof *a);
  double *T = ab_malloc_n(m, sizeof *T);
  if (!a || !T) {
    ab_free(a, m * sizeof *a);
    ab_free(T, m * sizeof *T);
    return AB_ENOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    a[i].key = ab_sort_key(-t->x[i]); /* descending */
    a[i].a = t->w ? t->w[i] : 1.0 / (double)m;
  }
  if (!(st = ab_sort_records(a, m))) {
    ab_sum s = {0.0, 0.0};
    for (size_t j = 0; j < m; j++) {
      T[j] = ab_sum_value(&s);
      ab_sum_add(&s, a[j].a);
    }
    for (size_t i = 0; i < k; i++) {
      double v, q;
      draw(ctx, r, &v, &q);
      size_t lo = 0, hi = m; /* T[lo] <= q: find the last such index */
      while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (T[mid] <= q) lo = mid;
        else hi = mid;
      }
      out[i] = -ab_sort_unkey(a[lo].key) + t->mean;
    }
  }
  ab_free(a, m * sizeof *a);
  ab_free(T, m * sizeof *T);
  return st;
}

/* ---- the best of n ------------------------------------------------------- */

/* U^{1/n} and its complement, each to full precision (Renyi
 * representation: the best of n is Q(U^{1/n})) */
static void bon_draw(void *ctx, ab_rng *r, double *v, double *w) {
  double lu = log(ab_rng_uniform(r)) / *(const double *)ctx;
  *v = exp(lu);
  *w = -expm1(lu);
}

int ab_bon_sample(const ab_tail *t, double n, ab_rng *r, size_t k,
                  double *out) {
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  return ab_sample_quantile(t, bon_draw, &n, r, k, out);
}
