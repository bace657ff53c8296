/*
 * tilt.c - the exact optimum of KL-regularised RL: the exponential tilt
 * pi(y) = ref(y) e^{lambda r(y)} / Z, lambda = 1/beta (DESIGN 3.1).
 *
 * A KL budget is turned into lambda by the frontier engine (frontier.c) on
 * the reference's finite law, the very solver behind tail:gain, so the tilt
 * and the frontier cannot disagree.  The policy itself is one log-sum-exp
 * pass shifted to the top reward.
 */
#include <stdlib.h>

#include "internal.h"

static int is_finite_law(const ab_tail *t) {
  return t->kind == AB_KIND_DISCRETE || t->kind == AB_KIND_EMPIRICAL ||
         t->kind == AB_KIND_BERNOULLI || t->kind == AB_KIND_BOUNDED_MEAN;
}

/* pi_i = p_i e^{lambda (r_i - top)} / S0 (or the top atoms when lambda =
 * inf), for weights p (NULL: equal); top is the largest r_i with p_i > 0. */
static void tilt_weights(const double *p, const double *r, size_t m,
                         double lambda, double top, double *policy) {
  double s0 = 0.0;
  for (size_t i = 0; i < m; i++) {
    double pi = p ? p[i] : 1.0;
    double e = (pi == 0.0) ? 0.0
               : isinf(lambda) ? (r[i] == top ? 1.0 : 0.0)
                               : exp(lambda * (r[i] - top));
    policy[i] = pi * e;
    s0 += policy[i];
  }
  for (size_t i = 0; i < m; i++) policy[i] /= s0;
}

int ab_tilt_policy(const double *probs, const double *rewards, size_t m,
                   int mode, double value, double *policy,
                   ab_tilt_summary *s) {
  ab_tail *t;
  double lambda, top = -INFINITY;
  if (mode == AB_TILT_BETA ? !(value > 0.0) : !(value >= 0.0)) return AB_EDOM;
  if (mode != AB_TILT_BETA && mode != AB_TILT_KL) return AB_EDOM;
  int st = ab_tail_discrete(rewards, probs, m, &t);
  if (st) return st;
  for (size_t i = 0; i < m; i++)
    if (probs[i] > 0.0 && rewards[i] > top) top = rewards[i];
  if (mode == AB_TILT_BETA) lambda = 1.0 / value;
  else if ((st = ab_tail_tilt(t, AB_GAIN, value, &lambda))) {
    ab_tail_free(t);
    return st;
  }
  tilt_weights(probs, rewards, m, lambda, top, policy);
  ab_tilt_summary out = {1.0 / lambda, lambda, 0.0, 0.0, 0.0};
  if (isinf(lambda)) {
    out.kl = -log(t->psup);
    out.gain = t->sup;
    out.log_z = INFINITY;
  } else if (lambda > 0.0) {
    ab_cgf c;
    st = ab_cgf_discrete(t, lambda, INFINITY, &c);
    out.kl = c.kl;
    out.gain = c.dpsi;
    out.log_z = c.psi + lambda * t->mean;
  }
  ab_tail_free(t);
  if (s) *s = out;
  return st;
}

int ab_tail_tilt_kl(const ab_tail *t, double lambda, double *kl) {
  ab_cgf c;
  if (isnan(lambda) || !t->cgf) return t->cgf ? AB_EDOM : AB_EUNDEF;
  if (lambda < 0.0 && !t->two_sided) return AB_EUNDEF;
  if (isinf(lambda)) {
    double atom = lambda > 0 ? t->psup : t->pinf;
    *kl = atom > 0.0 ? -log(atom) : INFINITY;
    return AB_OK;
  }
  if (lambda >= t->lmax || lambda <= t->lmin) {
    *kl = INFINITY; /* beyond the domain no tilt exists: no finite penalty */
    return AB_OK;
  }
  int st = t->cgf(t, lambda, lambda >= 0 ? t->lmax - lambda : lambda - t->lmin,
                  &c);
  if (st) return st;
  *kl = c.kl;
  return AB_OK;
}

int ab_tilt_compare_bon(const ab_tail *t, double n, ab_bon_tilt *out) {
  ab_family kl = {AB_KL, 1.0, NULL, NULL};
  double lambda;
  int st;
  if (!(n >= 1.0 && isfinite(n))) return AB_EDOM;
  if (!t->cgf || t->kind == AB_KIND_SUBGAUSSIAN ||
      t->kind == AB_KIND_SUBGAMMA || t->kind == AB_KIND_SUBEXPONENTIAL ||
      t->kind == AB_KIND_BOUNDED)
    return AB_EUNDEF;
  if (is_finite_law(t)) {
    /* exact with ties: both laws on the atoms, their KL by summation */
    size_t m = t->n;
    double *w = malloc(m * sizeof *w), *bon = malloc(m * sizeof *bon);
    double *tilt = malloc(m * sizeof *tilt);
    ab_bon_summary bs;
    if (!w || !bon || !tilt) {
      st = AB_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < m; i++) w[i] = t->w ? t->w[i] : 1.0 / (double)m;
    if ((st = ab_bon_policy(w, t->x, m, n, bon, &bs))) goto done;
    out->kl = bs.kl;
    out->bon_gain = bs.mean; /* the atoms are centred */
    if ((st = ab_frontier_bound(t, AB_GAIN, bs.kl, &out->tilt_gain, &lambda,
                                NULL)))
      goto done;
    tilt_weights(w, t->x, m, lambda, t->sup, tilt);
    out->beta = 1.0 / lambda;
    st = ab_divergence(bon, tilt, m, &kl, &out->kl_bon_tilt);
  done:
    free(w);
    free(bon);
    free(tilt);
    return st;
  }
  /* a continuous law: KL(bon || tilt) = KL - lambda E_bon[R - E R] + psi */
  if ((st = ab_bon_divergence(n, &kl, AB_CLOSED, &out->kl, NULL))) return st;
  if ((st = ab_bon_expected_gain(t, n, AB_CLOSED, &out->bon_gain))) return st;
  if ((st = ab_frontier_bound(t, AB_GAIN, out->kl, &out->tilt_gain, &lambda,
                              NULL)))
    return st;
  out->beta = 1.0 / lambda;
  if (lambda == 0.0) {
    out->kl_bon_tilt = 0.0;
    return AB_OK;
  }
  ab_cgf c;
  if ((st = t->cgf(t, lambda, t->lmax - lambda, &c))) return st;
  out->tilt_gain = c.dpsi;
  out->kl_bon_tilt = out->kl - lambda * out->bon_gain + c.psi;
  return AB_OK;
}
