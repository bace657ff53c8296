/* numeric.c - small numerical helpers shared by the core's files. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_log.h>

#include "internal.h"

/* log(1 + x) - x to full precision for every x > -1 (GSL's series near 0);
 * -inf at x = -1. */
double ab_log1pmx(double x) {
  gsl_sf_result r;
  if (x <= -1.0) return -INFINITY;
  if (gsl_sf_log_1plusx_mx_e(x, &r) != GSL_SUCCESS) return NAN;
  return r.val;
}
