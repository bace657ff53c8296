/* bench/baseline.c - plain C loops that the benchmarks compare against.
 *   baseline sqrt N   time out[i] = sd * sqrt(2 kl[i]) over N values, into
 *                     an array written before (warm pages)
 *   baseline fresh N  the same into a newly malloc'ed array each run
 *   baseline exp N    time one pass of sum exp(x[i]) over N values
 *   baseline sort N   qsort N doubles r[i] = frac(i * 0.6180339887498949)
 *   baseline naive N K  K maxima of N standard normal draws (GSL ziggurat):
 *                     the naive best-of-N sampler; prints seconds per maximum
 * Prints the best of 5 runs in CPU seconds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* CPU time, as os.clock() measures on the Lua side */
static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  if (strcmp(argv[1], "naive") == 0 && argc == 4) {
    size_t nn = strtoull(argv[2], NULL, 10), k = strtoull(argv[3], NULL, 10);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    double t0 = now(), acc = 0;
    for (size_t j = 0; j < k; j++) {
      double best = -INFINITY;
      for (size_t i = 0; i < nn; i++) {
        double v = gsl_ran_gaussian_ziggurat(g, 1.0);
        if (v > best) best = v;
      }
      acc += best;
    }
    printf("%.9f %g\n", (now() - t0) / (double)k, acc / (double)k);
    gsl_rng_free(g);
    return 0;
  }
  size_t n = strtoull(argv[2], NULL, 10);
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  if (!x || !y) return 1;
  for (size_t i = 0; i < n; i++) x[i] = y[i] = (i + 1) * 1e-7;
  double best = INFINITY, sink = 0;
  for (int r = 0; r < 5; r++) {
    double t0 = now();
    if (strcmp(argv[1], "sort") == 0) {
      for (size_t i = 0; i < n; i++) {
        double v = (double)(i + 1) * 0.6180339887498949;
        y[i] = v - floor(v);
      }
      t0 = now(); /* time the sort alone, not the fill */
      qsort(y, n, sizeof *y, cmp);
      sink += y[n / 2];
    } else if (strcmp(argv[1], "sqrt") == 0 || strcmp(argv[1], "fresh") == 0) {
      double sd = 1.5, *o = y;
      if (argv[1][0] == 'f' && !(o = malloc(n * sizeof *o))) return 1;
      for (size_t i = 0; i < n; i++) o[i] = sd * sqrt(2.0 * x[i]);
      sink += o[n / 2];
      if (o != y) free(o);
    } else {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += exp(x[i]);
      sink += s;
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("%.9f %g\n", best, sink);
  free(x);
  free(y);
  return 0;
}
