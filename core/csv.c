/*
 * csv.c - a reader for numeric CSV files: a header of column names, then rows
 * of numbers.  Commas or tabs (taken from the header), quoted header fields,
 * blank lines and CRLF line ends.  The whole file is read at once and parsed
 * in place with strtod; only the requested columns are stored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int fail(char *err, size_t len, int status, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return status;
}

/* Free a table whose columns hold cap doubles each (rows once read). */
static void table_free_cap(ab_table *t, size_t cap) {
  for (size_t j = 0; j < t->cols; j++) {
    if (t->names && t->names[j]) ab_free(t->names[j], strlen(t->names[j]) + 1);
    if (t->data) ab_free(t->data[j], cap * sizeof(double));
  }
  ab_free(t->names, t->cols * sizeof *t->names);
  ab_free(t->data, t->cols * sizeof *t->data);
  t->names = NULL;
  t->data = NULL;
  t->rows = t->cols = 0;
}

void ab_table_free(ab_table *t) {
  if (t) table_free_cap(t, t->rows);
}

/* Read the whole file into *buf (NUL-terminated, *bufcap bytes allocated):
 * AB_OK, AB_ENOMEM when a buffer cannot be had, AB_EIO when the file cannot
 * be opened or read (errno says why). */
static int slurp(const char *path, char **buf, size_t *len, size_t *bufcap) {
  FILE *f = fopen(path, "rb");
  *buf = NULL;
  if (!f) return AB_EIO;
  size_t cap = 1 << 16, n = 0;
  char *b = ab_malloc(cap);
  int st = b ? AB_OK : AB_ENOMEM;
  while (!st) {
    size_t got = fread(b + n, 1, cap - n - 1, f);
    n += got;
    if (n + 1 < cap) break;
    char *nb = cap <= SIZE_MAX / 2 ? ab_realloc(b, cap, cap * 2) : NULL;
    if (!nb) {
      st = AB_ENOMEM;
      break;
    }
    b = nb;
    cap *= 2;
  }
  if (!st && ferror(f)) st = AB_EIO;
  int saved = errno;
  fclose(f);
  errno = saved;
  if (st) {
    ab_free(b, cap);
    return st;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  *bufcap = cap;
  return AB_OK;
}

/* Split the header at p into names (*count of them in an array of *ncap);
 * returns the start of the next line. */
static char *parse_header(char *p, char sep, char ***names, size_t *count,
                          size_t *ncap, int *status) {
  size_t cap = 8, n = 0;
  char **v = ab_malloc(cap * sizeof *v);
  *status = AB_ENOMEM;
  if (!v) return NULL;
  for (;;) {
    char *start, *end;
    while (*p == ' ') p++;
    if (*p == '"') {
      start = ++p;
      while (*p && *p != '"') p++;
      end = p;
      if (*p == '"') p++;
      while (*p == ' ') p++;
    } else {
      start = p;
      while (*p && *p != sep && *p != '\n' && *p != '\r') p++;
      end = p;
      while (end > start && end[-1] == ' ') end--;
    }
    if (n == cap) {
      char **nv = ab_realloc(v, cap * sizeof *nv, 2 * cap * sizeof *nv);
      if (!nv) break;
      v = nv;
      cap *= 2;
    }
    v[n] = ab_malloc((size_t)(end - start) + 1);
    if (!v[n]) break;
    memcpy(v[n], start, (size_t)(end - start));
    v[n][end - start] = '\0';
    n++;
    if (*p == sep) {
      p++;
      continue;
    }
    if (*p == '\r') p++;
    if (*p == '\n') p++;
    *names = v;
    *count = n;
    *ncap = cap;
    *status = AB_OK;
    return p;
  }
  for (size_t i = 0; i < n; i++) ab_free(v[i], strlen(v[i]) + 1);
  ab_free(v, cap * sizeof *v);
  return NULL;
}

int ab_csv_read(const char *path, const char *const *columns, size_t ncols,
                ab_table *out, char *err, size_t errlen) {
  size_t len, nnames = 0, namecap = 0, bufcap = 0;
  char **names = NULL;
  int st;
  memset(out, 0, sizeof *out);
  if (!path) return fail(err, errlen, AB_EDOM, "no file name");
  char *buf, *text;
  errno = 0;
  st = slurp(path, &buf, &len, &bufcap);
  if (st == AB_ENOMEM) return fail(err, errlen, st, "%s: out of memory", path);
  if (st)
    return fail(err, errlen, AB_EIO, "%s: %s", path,
                errno ? strerror(errno) : "cannot read");
  /* a UTF-8 byte order mark (spreadsheets write one) is not part of the
   * first column's name */
  text = buf;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    text += 3;
    len -= 3;
  }
  /* the separator: a tab in the header line and no comma means tabs */
  char *eol = strchr(text, '\n');
  size_t hl = eol ? (size_t)(eol - text) : len;
  char sep = (memchr(text, '\t', hl) && !memchr(text, ',', hl)) ? '\t' : ',';
  if (hl == 0 || (hl == 1 && text[0] == '\r')) {
    ab_free(buf, bufcap);
    return fail(err, errlen, AB_EPARSE, "%s:1: missing header line", path);
  }
  char *p = parse_header(text, sep, &names, &nnames, &namecap, &st);
  if (!p) {
    ab_free(buf, bufcap);
    return fail(err, errlen, st, "%s: out of memory", path);
  }
  /* which file column feeds which output column */
  size_t want = ncols ? ncols : nnames;
  long *map = ab_malloc_n(nnames, sizeof *map);
  out->names = ab_calloc(want, sizeof *out->names);
  out->data = ab_calloc(want, sizeof *out->data);
  out->cols = want;
  size_t cap = 1024, rows = 0;
  st = (map && out->names && out->data) ? AB_OK : AB_ENOMEM;
  for (size_t j = 0; !st && j < nnames; j++) map[j] = ncols ? -1 : (long)j;
  for (size_t c = 0; !st && c < want; c++) {
    const char *name = ncols ? columns[c] : names[c];
    for (size_t k = 0; ncols && k < c; k++)
      if (strcmp(columns[k], name) == 0) {
        st = fail(err, errlen, AB_EDOM, "%s: column '%s' requested twice",
                  path, name);
        break;
      }
    if (st) break;
    size_t j = 0;
    while (j < nnames && strcmp(names[j], name) != 0) j++;
    if (j == nnames) {
      st = fail(err, errlen, AB_EDOM, "%s: no column named '%s'", path, name);
      /* then the names there are, as far as the buffer holds them */
      size_t used = err && errlen ? strlen(err) : 0;
      for (size_t k = 0; err && k < nnames && used + 1 < errlen; k++) {
        int w = snprintf(err + used, errlen - used, "%s'%s'",
                         k ? ", " : " (the columns are ", names[k]);
        if (w < 0) break;
        used += (size_t)w < errlen - used ? (size_t)w : errlen - used - 1;
      }
      if (err && used + 1 < errlen)
        snprintf(err + used, errlen - used, nnames ? ")" : " (no columns)");
      break;
    }
    /* a name the header repeats cannot say which column it means */
    for (size_t k = j + 1; k < nnames; k++)
      if (strcmp(names[k], name) == 0) {
        st = fail(err, errlen, AB_EPARSE,
                  "%s:1: column name '%s' repeated (columns %zu and %zu)",
                  path, name, j + 1, k + 1);
        break;
      }
    if (st) break;
    map[j] = (long)c;
    /* a name is copied at once: it is freed by its length */
    out->names[c] = ab_malloc(strlen(name) + 1);
    if (out->names[c]) strcpy(out->names[c], name);
    out->data[c] = ab_malloc_n(cap, sizeof(double));
    if (!out->names[c] || !out->data[c]) st = AB_ENOMEM;
  }
  size_t line = 1;
  while (!st && *p) {
    line++;
    if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
      p += (*p == '\r') ? 2 : 1;
      continue;
    }
    if (rows == cap) {
      /* every column grows, or none (their capacity is one number) */
      size_t grown = 0;
      for (size_t c = 0; c < want && !st; c++) {
        double *nd = cap <= SIZE_MAX / 2 / sizeof(double)
                         ? ab_realloc(out->data[c], cap * sizeof(double),
                                      2 * cap * sizeof(double))
                         : NULL;
        if (!nd) st = AB_ENOMEM;
        else out->data[c] = nd, grown++;
      }
      for (size_t c = 0; st && c < grown; c++) {
        /* back to cap, the size the error path frees (a shrink the
         * allocator refuses: the block goes now) */
        double *nd = ab_realloc(out->data[c], 2 * cap * sizeof(double),
                                cap * sizeof(double));
        if (!nd) ab_free(out->data[c], 2 * cap * sizeof(double));
        out->data[c] = nd;
      }
      if (st) break;
      cap *= 2;
    }
    for (size_t j = 0; j < nnames; j++) {
      char *end;
      while (*p == ' ') p++;
      errno = 0;
      double v = strtod(p, &end);
      int at_end = *p == sep || *p == '\n' || *p == '\r' || *p == '\0';
      /* inf and nan are rejected: a reward log holding them is a bug; a
       * nonzero literal that underflows to 0 (1e-400) would be silently
       * wrong (subnormal values are kept) */
      int bad = end == p || !isfinite(v) || (v == 0.0 && errno == ERANGE);
      if (bad && end == p && at_end) {
        st = fail(err, errlen, AB_EPARSE, "%s:%zu: column %zu ('%s'): "
                  "missing value", path, line, j + 1, names[j]);
        break;
      }
      if (bad) {
        int w = 0; /* the field as written, at most 40 characters */
        while (w < 40 && p[w] && p[w] != sep && p[w] != '\n' && p[w] != '\r')
          w++;
        st = fail(err, errlen, AB_EPARSE,
                  v == 0.0 && end != p
                      ? "%s:%zu: column %zu ('%s'): '%.*s' underflows to 0"
                      : "%s:%zu: column %zu ('%s'): not a finite number: "
                        "'%.*s'",
                  path, line, j + 1, names[j], w, p);
        break;
      }
      p = end;
      while (*p == ' ') p++;
      if (map[j] >= 0) out->data[map[j]][rows] = v;
      int last = j + 1 == nnames;
      if (!last && *p == sep) {
        p++;
        continue;
      }
      if (last && (*p == '\n' || *p == '\r' || *p == '\0')) break;
      st = fail(err, errlen, AB_EPARSE, "%s:%zu: column %zu ('%s'): %s", path,
                line, j + 1, names[j],
                last ? "more fields than the header has"
                     : "fewer fields than the header has");
      break;
    }
    if (st) break;
    if (*p == '\r') p++;
    if (*p == '\n') p++;
    rows++;
  }
  /* the columns shrink to their rows, the size ab_table_free frees */
  for (size_t c = 0; !st && c < want; c++) {
    double *nd = ab_realloc(out->data[c], cap * sizeof(double),
                            rows * sizeof(double));
    if (!nd) st = AB_ENOMEM;
    else out->data[c] = nd;
    if (st) { /* columns before c are already shrunk */
      for (size_t k = 0; k < c; k++) {
        ab_free(out->data[k], rows * sizeof(double));
        out->data[k] = NULL;
      }
    }
  }
  out->rows = rows;
  if (st == AB_ENOMEM) fail(err, errlen, st, "%s: out of memory", path);
  for (size_t j = 0; j < nnames; j++) ab_free(names[j], strlen(names[j]) + 1);
  ab_free(names, namecap * sizeof *names);
  ab_free(map, nnames * sizeof *map);
  ab_free(buf, bufcap);
  if (st) table_free_cap(out, cap);
  return st;
}
