/* status.c - status names, version, process setup. */
#include <gsl/gsl_errno.h>

#include "alignbound.h"

const char *ab_strerror(int status) {
  switch (status) {
  case AB_OK: return "success";
  case AB_EDOM: return "argument out of domain";
  case AB_ENOMEM: return "out of memory";
  case AB_ENOCONV: return "numerical solve did not converge";
  case AB_EFUNC: return "user function failed or returned NaN";
  case AB_EGSL: return "GSL special function failed";
  case AB_EUNDEF: return "not defined for this tail";
  case AB_EIO: return "cannot read the file";
  case AB_EPARSE: return "cannot parse the file";
  case AB_ENEGCUM:
    return "cumulant function returned a negative value; a centred cumulant "
           "is >= 0";
  case AB_ERANGE:
    return "values out of range: their spread or variance overflows a double";
  default: return "unknown status";
  }
}

const char *ab_version(void) { return AB_VERSION; }

/* GSL's default handler aborts the process; with it off, GSL returns
 * statuses, which every call site checks. */
void ab_init(void) { gsl_set_error_handler_off(); }
