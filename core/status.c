/* status.c - status names, version, process setup. */
#include <gsl/gsl_errno.h>

/* C11 threads where the C library has them (glibc >= 2.28), else POSIX. */
#if defined(__STDC_NO_THREADS__)
#include <pthread.h>
#else
#include <threads.h>
#endif

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
  case AB_ECANCEL: return "cancelled by the progress callback";
  default: return "unknown status";
  }
}

const char *ab_version(void) { return AB_VERSION; }

/* GSL's default handler aborts the process; with it off, GSL returns
 * statuses, which every call site checks. */
static void init_once(void) { gsl_set_error_handler_off(); }

/* GSL's handler is one process-wide variable: write it once, the first time
 * any thread (any Lua state requiring the module, any C host) asks, and
 * never again, so that threads opening Lua states at once do not race on it
 * and a host that installs its own handler afterwards keeps it.  The once
 * flag is the library's only global state, and it is immutable after use. */
#if defined(__STDC_NO_THREADS__)
static pthread_once_t init_flag = PTHREAD_ONCE_INIT;
void ab_init(void) { pthread_once(&init_flag, init_once); }
#else
static once_flag init_flag = ONCE_FLAG_INIT;
void ab_init(void) { call_once(&init_flag, init_once); }
#endif
