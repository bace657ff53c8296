/*
 * csv.c - a CSV reader (RFC 4180) for logs: a header of column names, then
 * records of numbers and text.  The file is read in chunks (table.h); a
 * record cut by the end of a chunk is parsed again once the next chunk is
 * in, so nothing but the columns grows with the file.  Numbers go through
 * strtod in place; columns that are not read are only scanned.
 *
 * The parser is hand-written, not libcsv (Debian's libcsv-dev, evaluated for
 * issue 10): libcsv copies every byte of every field, skipped ones too, into
 * its own buffer and hands each field over unterminated, so a number needs a
 * second copy before strtod, and it does not count lines for the error
 * messages.  On 10^6 rows of three numbers it read 89-109 MB/s against this
 * reader's 195 MB/s (io.lines + tonumber: 20 MB/s), which would not keep the
 * 5x margin over plain Lua that read_csv promises.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"

enum { SKIP, NUMBER, TEXT };        /* what a file column is read as */
enum { MORE = -1, BLANK = -2 };     /* parse_record beyond the AB_ statuses */
enum { FIELD_OK, FIELD_MORE, FIELD_AFTER_QUOTE, FIELD_UNCLOSED, FIELD_NUL };

/* A field as scanned: its content (quotes removed, doubled quotes not yet
 * undone), and the line breaks it holds. */
typedef struct {
  const char *start;
  size_t len, newlines;
  int quoted, doubled;
} field;

typedef struct {
  const char *path;
  char *err;
  size_t errlen;
  char sep;
  size_t nnames, names_cap;
  char **names;   /* the header's (names_cap entries) */
  size_t nplan;   /* the entries of kind and out (nnames when planned) */
  int *kind;      /* per file column */
  size_t *out;    /* per file column: its column in the table */
  ab_builder b;
  char *scratch;  /* a field with doubled quotes, undone */
  size_t scratch_cap;
} reader;

static int at_eol(char c, char sep) {
  return c == sep || c == '\n' || c == '\r' || c == '\0';
}

/* Scan the field at p (leading spaces skipped) up to its separator or line
 * end, *next pointing there.  FIELD_MORE when the field may go on past
 * `end`, the end of what is read, and the file has more. */
static int scan(const char *p, const char *end, int eof, char sep, field *f,
                const char **next) {
  f->newlines = 0;
  f->doubled = 0;
  f->quoted = *p == '"';
  if (f->quoted) {
    const char *q = p + 1;
    for (;;) {
      const char *r = memchr(q, '"', (size_t)(end - q));
      /* a NUL is never data: without this check a quote followed by
       * /dev/zero would be buffered until memory ran out */
      if (memchr(q, '\0', (size_t)((r ? r : end) - q))) return FIELD_NUL;
      if (!r) return eof ? FIELD_UNCLOSED : FIELD_MORE;
      if (r[1] == '"') { /* at the chunk's end r[1] is its NUL: see below */
        f->doubled++;
        q = r + 2;
        continue;
      }
      f->start = p + 1;
      f->len = (size_t)(r - f->start);
      for (const char *n = f->start; (n = memchr(n, '\n', (size_t)(r - n)));
           n++)
        f->newlines++;
      q = r + 1;
      while (*q == ' ') q++;
      if (q == end && !eof) return FIELD_MORE;
      if (!at_eol(*q, sep)) return FIELD_AFTER_QUOTE;
      if (*q == '\0' && q != end) return FIELD_NUL;
      *next = q;
      return FIELD_OK;
    }
  }
  const char *q = p;
  while (!at_eol(*q, sep)) q++;
  if (*q == '\0') {
    if (q != end) return FIELD_NUL;
    if (!eof) return FIELD_MORE;
  }
  const char *e = q;
  while (e > p && e[-1] == ' ') e--;
  f->start = p;
  f->len = (size_t)(e - p);
  *next = q;
  return FIELD_OK;
}

/* The content of a scanned field with its doubled quotes undone. */
static const char *content(reader *r, const field *f, size_t *len) {
  *len = f->len;
  if (!f->doubled) return f->start;
  if (f->len + 1 > r->scratch_cap) {
    size_t cap = 2 * (f->len + 1);
    char *s = ab_realloc(r->scratch, r->scratch_cap, cap);
    if (!s) return NULL;
    r->scratch = s;
    r->scratch_cap = cap;
  }
  size_t n = 0;
  for (size_t i = 0; i < f->len; i++) {
    r->scratch[n++] = f->start[i];
    if (f->start[i] == '"') i++; /* the second of a pair */
  }
  r->scratch[n] = '\0';
  *len = n;
  return r->scratch;
}

static int field_error(reader *r, int what, size_t line, size_t j) {
  const char *why = what == FIELD_AFTER_QUOTE
                        ? "text after the closing quote of a quoted field"
                    : what == FIELD_UNCLOSED ? "quoted field not closed at the "
                                               "end of the file"
                                             : "NUL byte in a field";
  return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu "
                      "('%s'): %s", r->path, line, j + 1, r->names[j], why);
}

/* "0x..." after an optional sign: a C hex literal, which strtod reads and
 * a log should not hold (JSON has none: both readers refuse it). */
static int is_hex(const char *s) {
  s += *s == '+' || *s == '-';
  return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* A value that is not a finite number, named with the field as written. */
static int number_error(reader *r, size_t line, size_t j, const char *p,
                        size_t w, double v, int underflow) {
  if (w > 40) w = 40;
  if (underflow)
    return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu "
                        "('%s'): '%.*s' underflows to 0", r->path, line, j + 1,
                        r->names[j], (int)w, p);
  (void)v;
  if (is_hex(p))
    return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu "
                        "('%s'): a hexadecimal number ('%.*s'): write it in "
                        "decimal", r->path, line, j + 1, r->names[j], (int)w,
                        p);
  return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu ('%s')"
                      ": not a finite number: '%.*s'", r->path, line, j + 1,
                      r->names[j], (int)w, p);
}

/* An unquoted numeric field p[0, w) that strtod must not see: "missing
 * value" when it is whitespace only (as an empty field is), else not a
 * number. */
static int blank_or_not(reader *r, size_t line, size_t j, const char *p,
                        size_t w) {
  size_t k = 0;
  while (k < w && (p[k] == ' ' || p[k] == '\t' || p[k] == '\v' ||
                   p[k] == '\f'))
    k++;
  if (k == w)
    return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu "
                        "('%s'): missing value", r->path, line, j + 1,
                        r->names[j]);
  return number_error(r, line, j, p, w, 0, 0);
}

/* Parse s[0, len) as a whole number: inf and nan are rejected (a reward log
 * holding them is a bug), and so is a nonzero literal that underflows to 0
 * (1e-400 would be silently wrong; subnormal values are kept). */
static int number_of(const char *s, size_t len, double *v, int *underflow) {
  char *e;
  *underflow = 0;
  if (len == 0 || isspace((unsigned char)*s) || is_hex(s)) return 0;
  errno = 0;
  *v = strtod(s, &e);
  if (e != s + len || !isfinite(*v)) return 0;
  if (*v == 0.0 && errno == ERANGE) {
    *underflow = 1;
    return 0;
  }
  return 1;
}

/* Parse the record at p into row `row`: AB_OK with *next after its line
 * end and *lines the lines it spans, BLANK for a blank line, MORE when it
 * may go on past end, else an AB_E... status with a message.  line is the
 * record's first line. */
static int parse_record(reader *r, const char *p, const char *end, int eof,
                        size_t row, size_t line, const char **next,
                        size_t *lines) {
  const char sep = r->sep;
  size_t extra = 0; /* line breaks inside quoted fields so far */
  if (*p == '\r' && p + 1 == end && !eof) return MORE;
  if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
    *next = p + (*p == '\r' ? 2 : 1);
    *lines = 1;
    return BLANK;
  }
  for (size_t j = 0; j < r->nnames; j++) {
    const char *q;
    while (*p == ' ') p++;
    int kind = r->kind[j];
    if (kind == NUMBER && *p != '"') { /* the common case, in place */
      char *e;
      if (at_eol(*p, sep)) {
        if (*p == '\0' && p == end && !eof) return MORE;
        if (*p == '\0' && p != end) return field_error(r, FIELD_NUL, line + extra, j);
        return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column "
                            "%zu ('%s'): missing value", r->path, line + extra,
                            j + 1, r->names[j]);
      }
      if (*p == '\t' || *p == '\v' || *p == '\f' || is_hex(p)) {
        /* strtod would skip these, line ends with them (a line of a tab
         * merged with the next one), or read hex, which JSON has not */
        const char *w = p;
        while (!at_eol(*w, sep)) w++;
        if (*w == '\0' && w == end && !eof) return MORE;
        if (*w == '\0' && w != end)
          return field_error(r, FIELD_NUL, line + extra, j);
        return blank_or_not(r, line + extra, j, p, (size_t)(w - p));
      }
      errno = 0;
      double v = strtod(p, &e);
      q = e;
      while (*q == ' ') q++;
      if (q == end && !eof) return MORE;
      if (e == p || !isfinite(v) || (v == 0.0 && errno == ERANGE) ||
          !at_eol(*q, sep)) {
        const char *w = p;
        while (!at_eol(*w, sep)) w++;
        if (w == end && !eof) return MORE; /* a number cut by the chunk */
        return number_error(r, line + extra, j, p, (size_t)(w - p), v,
                            e != p && v == 0.0 && errno == ERANGE &&
                                at_eol(*q, sep));
      }
      if (*q == '\0' && q != end) return field_error(r, FIELD_NUL, line + extra, j);
      r->b.out->data[r->out[j]][row] = v;
    } else {
      field f;
      int fs = scan(p, end, eof, sep, &f, &q);
      if (fs == FIELD_MORE) return MORE;
      if (fs != FIELD_OK) return field_error(r, fs, line + extra, j);
      if (kind != SKIP) {
        size_t len;
        const char *s = content(r, &f, &len);
        if (!s) return AB_ENOMEM;
        if (kind == TEXT) {
          int st = ab_builder_text(&r->b, r->out[j], row, s, len);
          if (st == AB_ERANGE)
            return ab_read_fail(r->err, r->errlen, st, "%s:%zu: column %zu "
                                "('%s'): more distinct strings than a text "
                                "column holds", r->path, line + extra, j + 1,
                                r->names[j]);
          if (st) return st;
        } else {
          double v = 0;
          int under;
          if (len == 0)
            return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: "
                                "column %zu ('%s'): missing value", r->path,
                                line + extra, j + 1, r->names[j]);
          if (!number_of(s, len, &v, &under))
            return number_error(r, line + extra, j, s, len, v, under);
          r->b.out->data[r->out[j]][row] = v;
        }
      }
      extra += f.newlines;
    }
    /* q is at the field's end: a separator, a line end or the file's end */
    int last = j + 1 == r->nnames;
    if (!last && *q == sep) {
      p = q + 1;
      continue;
    }
    if (last && *q != sep) {
      p = q;
      break;
    }
    return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:%zu: column %zu "
                        "('%s'): %s than the header has (%zu)", r->path,
                        line + extra, j + 1, r->names[j],
                        last ? "more fields" : "fewer fields", r->nnames);
  }
  if (*p == '\r') {
    if (p + 1 == end && !eof) return MORE;
    p++;
  }
  if (*p == '\n') p++;
  *next = p;
  *lines = 1 + extra;
  return AB_OK;
}

/* The header's names, from the start of the buffer; *next after it. */
static int parse_header(reader *r, const char *p, const char *end, int eof,
                        const char **next) {
  size_t cap = 8;
  char **v = ab_malloc_n(cap, sizeof *v);
  if (!v) return AB_ENOMEM;
  r->names = v;
  r->names_cap = cap;
  r->nnames = 0;
  for (;;) {
    field f;
    const char *q;
    while (*p == ' ') p++;
    int fs = scan(p, end, eof, r->sep, &f, &q);
    if (fs == FIELD_MORE) return MORE;
    if (fs != FIELD_OK) {
      const char *why = fs == FIELD_AFTER_QUOTE
                            ? "text after the closing quote of a name"
                        : fs == FIELD_UNCLOSED ? "quoted name not closed"
                                               : "NUL byte in a name";
      return ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:1: column %zu: "
                          "%s", r->path, r->nnames + 1, why);
    }
    if (r->nnames == r->names_cap) {
      size_t ncap = 2 * r->names_cap;
      char **nv = ncap <= SIZE_MAX / sizeof *nv
                      ? ab_realloc(r->names, r->names_cap * sizeof *nv,
                                   ncap * sizeof *nv)
                      : NULL;
      if (!nv) return AB_ENOMEM;
      r->names = nv;
      r->names_cap = ncap;
    }
    size_t len;
    const char *s = content(r, &f, &len);
    char *name = s ? ab_malloc(len + 1) : NULL;
    if (!name) return AB_ENOMEM;
    memcpy(name, s, len);
    name[len] = '\0';
    r->names[r->nnames++] = name;
    if (*q == r->sep) {
      p = q + 1;
      continue;
    }
    if (*q == '\r') {
      if (q + 1 == end && !eof) return MORE;
      q++;
    }
    if (*q == '\n') q++;
    *next = q;
    return AB_OK;
  }
}

/* A name may hold no NUL (the scan refuses them): its block is its length
 * + 1. */
static void free_names(reader *r) {
  for (size_t j = 0; r->names && j < r->nnames; j++)
    ab_free(r->names[j], strlen(r->names[j]) + 1);
  ab_free(r->names, r->names_cap * sizeof *r->names);
  r->names = NULL;
  r->nnames = r->names_cap = 0;
}

/* "no column named 'c' (the columns are 'a', 'b')", as far as err holds,
 * the list and the names cut (ab_read_list). */
static int no_column(reader *r, const char *name) {
  int cut = strlen(name) > 64;
  ab_read_fail(r->err, r->errlen, AB_EDOM, "%s: no column named '%.64s%s'",
               r->path, name, cut ? "..." : "");
  ab_read_list(r->err, r->errlen, " (the columns are ",
               (const char *const *)r->names, r->nnames);
  return AB_EDOM;
}

/* Which file column feeds which table column, and the table's names
 * (*list and *is_text of *nlist entries). */
static int plan(reader *r, const ab_columns *want, const char ***list,
                int **is_text, size_t *nlist, size_t *count) {
  size_t n = want->nnumbers + want->ntext;
  int all = want->nnumbers == 0;
  if (all) n = r->nnames + want->ntext; /* at most */
  *nlist = n;
  *list = ab_malloc_n(n, sizeof **list);
  *is_text = ab_malloc_n(n, sizeof **is_text);
  r->nplan = r->nnames;
  r->kind = ab_malloc_n(r->nplan, sizeof *r->kind);
  r->out = ab_malloc_n(r->nplan, sizeof *r->out);
  if (!*list || !*is_text || !r->kind || !r->out) return AB_ENOMEM;
  for (size_t j = 0; j < r->nnames; j++) r->kind[j] = SKIP;
  /* the header's names found through an index of them: linear in the
   * columns (a name looked up by scanning made 10^5 columns minutes) */
  ab_names idx = {NULL, 0, 0, NULL};
  int st = ab_names_init(&idx, (const char *const *)r->names, r->nnames,
                         NULL, NULL);
  if (st) return st;
  /* out[j], until column j is planned: the first later column of the
   * same name (0: none) */
  for (size_t j = 0; j < r->nnames; j++) r->out[j] = 0;
  for (size_t k = 0; k < r->nnames; k++) {
    size_t j = ab_names_find(&idx, r->names[k]);
    if (j != k && r->out[j] == 0) r->out[j] = k;
  }
  size_t c = 0;
  if (all) { /* every column that is not text, in the header's order */
    for (size_t k = 0; k < want->ntext; k++) {
      size_t j = ab_names_find(&idx, want->text[k]);
      if (j < r->nnames) r->kind[j] = TEXT; /* a mark, cleared below */
    }
    for (size_t j = 0; j < r->nnames; j++)
      if (r->kind[ab_names_find(&idx, r->names[j])] != TEXT)
        (*list)[c++] = r->names[j];
    for (size_t j = 0; j < r->nnames; j++) r->kind[j] = SKIP;
  } else {
    for (size_t k = 0; k < want->nnumbers; k++) (*list)[c++] = want->numbers[k];
  }
  size_t nnumbers = c;
  for (size_t k = 0; k < want->ntext; k++) (*list)[c++] = want->text[k];
  *count = c;
  for (c = 0; c < *count; c++) {
    const char *name = (*list)[c];
    (*is_text)[c] = c >= nnumbers;
    size_t j = ab_names_find(&idx, name);
    if (j == r->nnames) {
      st = no_column(r, name);
      break;
    }
    /* a name the header repeats cannot say which column it means */
    if (r->out[j]) {
      st = ab_read_fail(r->err, r->errlen, AB_EPARSE, "%s:1: column name "
                        "'%s' repeated (columns %zu and %zu)", r->path, name,
                        j + 1, r->out[j] + 1);
      break;
    }
    r->kind[j] = (*is_text)[c] ? TEXT : NUMBER;
    r->out[j] = c;
  }
  ab_names_free(&idx);
  return st;
}

int ab_csv_read_work(const char *path, const ab_columns *want,
                     const ab_work *work, ab_table *out, char *err,
                     size_t errlen) {
  static const ab_columns every = {NULL, 0, NULL, 0};
  reader r;
  ab_source s;
  const char **list = NULL;
  int *is_text = NULL, st;
  size_t count = 0, nlist = 0, rows = 0, line = 2, pos = 0;
  memset(out, 0, sizeof *out);
  memset(&r, 0, sizeof r);
  if (!path) return ab_read_fail(err, errlen, AB_EDOM, "no file name");
  if (!want) want = &every;
  if ((want->nnumbers && !want->numbers) || (want->ntext && !want->text))
    return ab_read_fail(err, errlen, AB_EDOM, "%s: no column names", path);
  r.path = path;
  r.err = err;
  r.errlen = errlen;
  st = ab_columns_check(want, path, "column", err, errlen);
  if (st) return st;
  errno = 0;
  st = ab_source_open(&s, path, work);
  if (st == AB_EIO)
    return ab_read_fail(err, errlen, AB_EIO, "%s: %s", path,
                        errno ? strerror(errno) : "cannot read");
  if (st) return ab_read_fail(err, errlen, st, "%s: out of memory", path);
  /* the header: read until its line is whole (the separator is taken from
   * it); a UTF-8 byte order mark (spreadsheets write one) is not part of
   * the first column's name */
  for (;;) {
    st = ab_source_fill(&s, 0);
    if (st || s.eof || memchr(s.buf, '\n', s.len) ||
        memchr(s.buf, '\0', s.len)) /* NUL: an error, below (/dev/zero) */
      break;
  }
  if (!st) {
    if (s.len >= 3 && memcmp(s.buf, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    const char *h = s.buf + pos, *eol = memchr(h, '\n', s.len - pos);
    size_t hl = eol ? (size_t)(eol - h) : s.len - pos;
    r.sep = (memchr(h, '\t', hl) && !memchr(h, ',', hl)) ? '\t' : ',';
    if (hl == 0 || (hl == 1 && h[0] == '\r'))
      st = ab_read_fail(err, errlen, AB_EPARSE, "%s:1: missing header line",
                        path);
  }
  while (!st) {
    const char *next = NULL;
    st = parse_header(&r, s.buf + pos, s.buf + s.len, s.eof, &next);
    if (st == AB_OK) {
      for (const char *c = s.buf + pos; c < next; c++) line += *c == '\n';
      line -= next > s.buf + pos && next[-1] == '\n'; /* the header's own */
      pos = (size_t)(next - s.buf);
      break;
    }
    free_names(&r);
    if (st == MORE) st = ab_source_fill(&s, pos), pos = 0;
  }
  if (!st) st = plan(&r, want, &list, &is_text, &nlist, &count);
  if (!st) st = ab_builder_init(&r.b, out, list, is_text, count);
  int built = !st;
  while (!st) {
    if (pos == s.len && s.eof) break;
    const char *next = NULL;
    size_t lines = 0;
    st = ab_builder_reserve(&r.b, rows);
    if (st) break;
    st = parse_record(&r, s.buf + pos, s.buf + s.len, s.eof, rows, line,
                      &next, &lines);
    if (st == MORE) {
      st = ab_source_fill(&s, pos);
      pos = 0;
      continue;
    }
    if (st == BLANK || st == AB_OK) {
      rows += st == AB_OK;
      st = AB_OK;
      line += lines;
      pos = (size_t)(next - s.buf);
    }
  }
  if (built && st) ab_builder_discard(&r.b);
  else if (built) st = ab_builder_finish(&r.b, rows); /* trims may fail */
  if (st == AB_ENOMEM) ab_read_fail(err, errlen, st, "%s: out of memory", path);
  if (st == AB_ECANCEL) ab_read_fail(err, errlen, st, "%s: cancelled", path);
  if (st == AB_EIO)
    ab_read_fail(err, errlen, st, "%s: %s", path,
                 errno ? strerror(errno) : "read error");
  free_names(&r);
  ab_free(r.kind, r.nplan * sizeof *r.kind);
  ab_free(r.out, r.nplan * sizeof *r.out);
  ab_free(r.scratch, r.scratch_cap);
  ab_free(list, nlist * sizeof *list);
  ab_free(is_text, nlist * sizeof *is_text);
  ab_source_close(&s);
  return st;
}

int ab_csv_read_columns(const char *path, const ab_columns *want,
                        ab_table *out, char *err, size_t errlen) {
  return ab_csv_read_work(path, want, NULL, out, err, errlen);
}

int ab_csv_read(const char *path, const char *const *columns, size_t ncols,
                ab_table *out, char *err, size_t errlen) {
  ab_columns want = {columns, ncols, NULL, 0};
  return ab_csv_read_columns(path, &want, out, err, errlen);
}
