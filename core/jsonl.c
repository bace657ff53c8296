/*
 * jsonl.c - a JSON Lines reader for logs: one JSON object per line, fields
 * named by key or by a dotted path into nested objects.  The file is read in
 * chunks (table.h) and each line is parsed alone by json-c, a maintained
 * parser that Debian packages (libjson-c-dev), through one tokener reused
 * line after line; the line's objects are freed before the next, so memory
 * holds the columns and one line.
 *
 * json-c rather than cJSON (libcjson-dev, 2.4x faster per line in our
 * measurement: 420 against 1030 ns on a 125-byte line): cJSON's parse
 * writes a process-wide error slot (global_error) on every call, success or
 * not, a data race as soon as two threads read logs, and the library keeps
 * no global mutable state; json-c's tokener is per reader.  json-c also reads
 * the NaN and Infinity that Python's json module writes, so a NaN reward is
 * reported by its field rather than as a syntax error.  json-c's parse is
 * most of the time: 10^7 lines of 76 bytes take 8.5 s (90 MB/s).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "table.h"

/* A requested field: its whole name, and the name split at its dots. */
typedef struct {
  const char *name;
  char *copy;          /* the name with its dots replaced by NULs */
  const char **part;   /* nparts pieces of copy */
  size_t nparts;
  int text;
} path_of;

/* A path's blocks: copy strlen(name) + 1 bytes, part nparts pieces (both
 * NULL unless split succeeded). */
static void free_paths(path_of *f, size_t n) {
  for (size_t c = 0; f && c < n; c++) {
    if (f[c].copy) ab_free(f[c].copy, strlen(f[c].name) + 1);
    ab_free(f[c].part, f[c].nparts * sizeof *f[c].part);
  }
  ab_free(f, n * sizeof *f);
}

static int split(path_of *f, const char *name, int text) {
  size_t len = strlen(name), n = 1;
  f->name = name;
  f->text = text;
  for (size_t i = 0; i < len; i++) n += name[i] == '.';
  f->copy = ab_malloc(len + 1);
  f->part = ab_malloc_n(n, sizeof *f->part);
  if (!f->copy || !f->part) {
    ab_free(f->copy, len + 1);
    ab_free(f->part, n * sizeof *f->part);
    f->copy = NULL;
    f->part = NULL;
    return AB_ENOMEM;
  }
  memcpy(f->copy, name, len + 1);
  f->nparts = 0;
  f->part[f->nparts++] = f->copy;
  for (size_t i = 0; i < len; i++)
    if (f->copy[i] == '.') {
      f->copy[i] = '\0';
      f->part[f->nparts++] = f->copy + i + 1;
    }
  return AB_OK;
}

/* The value of field f in obj (*v NULL for a JSON null): 1 if found, else 0
 * with *where the object the path stopped in and *at the piece it missed
 * (nparts when the whole name was looked up alone). */
static int lookup(json_object *obj, const path_of *f, json_object **v,
                  json_object **where, size_t *at) {
  if (json_object_object_get_ex(obj, f->name, v)) return 1;
  *where = obj;
  *at = f->nparts;
  if (f->nparts < 2) return 0;
  json_object *o = obj;
  for (size_t k = 0; k < f->nparts; k++) {
    *where = o;
    *at = k;
    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, f->part[k], &o))
      return 0;
  }
  *v = o;
  return 1;
}

typedef struct {
  const char *path;
  char *err;
  size_t errlen;
  size_t line;
} where_t;

/* "no field 'meta.id' (the keys of 'meta' are 'a', 'b')", as err holds. */
static int missing(const where_t *w, const path_of *f, json_object *in,
                   size_t at) {
  char *err = w->err;
  size_t errlen = w->errlen, used;
  if (at < f->nparts && at > 0 && !json_object_is_type(in, json_type_object)) {
    return ab_read_fail(err, errlen, AB_EPARSE, "%s:%zu: no field '%s' ('%.*s'"
                        " is a %s, not an object)", w->path, w->line, f->name,
                        (int)(f->part[at - 1] - f->copy + strlen(f->part[at - 1])),
                        f->name, json_type_to_name(json_object_get_type(in)));
  }
  ab_read_fail(err, errlen, AB_EPARSE, "%s:%zu: no field '%s'", w->path,
               w->line, f->name);
  if (!err || !errlen) return AB_EPARSE;
  used = strlen(err);
  int n = 0, w2;
  if (at > 0 && at < f->nparts)
    w2 = snprintf(err + used, errlen - used, " (the keys of '%.*s' are ",
                  (int)(f->part[at - 1] - f->copy + strlen(f->part[at - 1])),
                  f->name);
  else w2 = snprintf(err + used, errlen - used, " (the keys are ");
  if (w2 < 0 || (size_t)w2 >= errlen - used) return AB_EPARSE;
  used += (size_t)w2;
  /* the first 20 keys, each cut at 64 bytes: a line of 10^5 keys or of a
   * key of megabytes makes a message of a line, as ab_read_list does */
  int total = json_object_object_length(in);
  json_object_object_foreach(in, key, val) {
    (void)val;
    if (n == 20) break;
    w2 = snprintf(err + used, errlen - used, "%s'%.64s%s'", n++ ? ", " : "",
                  key, strlen(key) > 64 ? "..." : "");
    if (w2 < 0 || (size_t)w2 >= errlen - used) return AB_EPARSE;
    used += (size_t)w2;
  }
  if (n == 0) snprintf(err + used, errlen - used, "none)");
  else if (total > n)
    snprintf(err + used, errlen - used, ", ... (%d in all))", total);
  else snprintf(err + used, errlen - used, ")");
  return AB_EPARSE;
}

/* A parsed double that is 0 while its literal has a nonzero digit before
 * its exponent underflowed (1e-400): silently wrong, so an error. */
static int underflowed(json_object *v) {
  const char *s = json_object_get_string(v);
  for (; s && *s && *s != 'e' && *s != 'E'; s++)
    if (*s >= '1' && *s <= '9') return 1;
  return 0;
}

/* An integer json-c may have clamped: it reads a literal below INT64_MIN
 * as INT64_MIN and one above UINT64_MAX as UINT64_MAX. */
static int clamped(json_object *v) {
  if (!v || !json_object_is_type(v, json_type_int)) return 0;
  int64_t i = json_object_get_int64(v);
  return i == INT64_MIN ||
         (i == INT64_MAX && json_object_get_uint64(v) == UINT64_MAX);
}

/* Whether the integer literal s[0, n) (a '-', digits) is beyond what
 * json-c holds: below INT64_MIN or above UINT64_MAX. */
static int beyond(const char *s, size_t n) {
  char buf[32];
  if (n >= sizeof buf) return 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  if (*s == '-') (void)strtoll(buf, NULL, 10);
  else (void)strtoull(buf, NULL, 10);
  return errno == ERANGE;
}

/* p[0, len) with ".0" after each integer literal beyond 64 bits (outside
 * strings), into q (room for len + len / 8 + 3 bytes: a literal beyond
 * has 19 digits or more): json-c then reads it as a double and keeps its
 * digits, where it would clamp it (10^20 read as 2^64 - 1).  Its length. */
static size_t widen(const char *p, size_t len, char *q) {
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    if (p[i] == '"') {
      q[o++] = p[i++];
      while (i < len && p[i] != '"') {
        if (p[i] == '\\' && i + 1 < len) q[o++] = p[i++];
        q[o++] = p[i++];
      }
      if (i < len) q[o++] = p[i++];
    } else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
      size_t s0 = i;
      i += p[i] == '-';
      while (i < len && p[i] >= '0' && p[i] <= '9') i++;
      int integer = i == len || (p[i] != '.' && p[i] != 'e' && p[i] != 'E');
      memcpy(q + o, p + s0, i - s0);
      o += i - s0;
      if (integer && beyond(p + s0, i - s0)) {
        q[o++] = '.';
        q[o++] = '0';
      }
    } else {
      q[o++] = p[i++];
    }
  }
  return o;
}

/* Field f's value v into column c: big when v is the double widen made of
 * an integer literal beyond 64 bits (its digits are its text). */
static int store(ab_builder *b, const where_t *w, const path_of *f, size_t c,
                 json_object *v, int big, size_t row) {
  enum json_type type = v ? json_object_get_type(v) : json_type_null;
  if (f->text && big) {
    const char *digits = json_object_get_string(v);
    int st = ab_builder_text(b, c, row, digits, strlen(digits) - 2);
    if (st == AB_ERANGE)
      return ab_read_fail(w->err, w->errlen, st, "%s:%zu: field '%s': more "
                          "distinct strings than a text column holds", w->path,
                          w->line, f->name);
    return st;
  }
  if (!f->text) {
    if (type == json_type_double || type == json_type_int) {
      double d = json_object_get_double(v);
      if (isnan(d))
        return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s'"
                            " is NaN", w->path, w->line, f->name);
      if (!isfinite(d))
        return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s'"
                            ": not a finite number: '%.40s'", w->path, w->line,
                            f->name, json_object_get_string(v));
      if (d == 0.0 && type == json_type_double && underflowed(v))
        return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s'"
                            ": '%.40s' underflows to 0", w->path, w->line,
                            f->name, json_object_get_string(v));
      b->out->data[c][row] = d;
      return AB_OK;
    }
    if (type == json_type_string)
      return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s' "
                          "is a string ('%.40s'), not a number (read it as "
                          "text?)", w->path, w->line, f->name,
                          json_object_get_string(v));
    return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s' is "
                        "%s, not a number", w->path, w->line, f->name,
                        json_type_to_name(type));
  }
  int st;
  if (type == json_type_string) {
    st = ab_builder_text(b, c, row, json_object_get_string(v),
                         (size_t)json_object_get_string_len(v));
  } else if (type == json_type_int) { /* an integer id, as its digits */
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRId64,
                     json_object_get_int64(v));
    if (json_object_get_int64(v) == INT64_MAX) /* maybe beyond: json-c keeps it */
      n = snprintf(digits, sizeof digits, "%" PRIu64,
                   json_object_get_uint64(v));
    st = ab_builder_text(b, c, row, digits, (size_t)n);
  } else {
    return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: field '%s' is "
                        "%s, not a string or an integer", w->path, w->line,
                        f->name, json_type_to_name(type));
  }
  if (st == AB_ERANGE)
    return ab_read_fail(w->err, w->errlen, st, "%s:%zu: field '%s': more "
                        "distinct strings than a text column holds", w->path,
                        w->line, f->name);
  return st;
}

/* A JSON value's kind with its article, for "... not a JSON object". */
static const char *kind_of(enum json_type t) {
  switch (t) {
  case json_type_array: return "an array";
  case json_type_int: return "an integer";
  case json_type_double: return "a number";
  case json_type_boolean: return "a boolean";
  case json_type_string: return "a string";
  case json_type_null: return "null";
  default: return "an object";
  }
}

/* One line's object, p[0, len) (the line from byte `skipped` on), into row
 * `row`. */
static int parse_line(ab_builder *b, json_tokener *tok, const where_t *w,
                      const path_of *f, size_t n, const char *p, size_t len,
                      size_t skipped, size_t row) {
  if (len > INT_MAX)
    return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: line longer "
                        "than 2^31 bytes", w->path, w->line);
  json_tokener_reset(tok);
  json_object *obj = json_tokener_parse_ex(tok, p, (int)len);
  size_t end = json_tokener_get_parse_end(tok);
  if (!obj && json_tokener_get_error(tok) == json_tokener_continue &&
      *p != '{' && *p != '[' && *p != '"') {
    /* a bare number (or true, null) that the line's end ends: json-c waits
     * for a delimiter, so give it one to learn what the line holds */
    obj = json_tokener_parse_ex(tok, " ", 1);
    if (obj || json_tokener_get_error(tok) == json_tokener_success) end = len;
    else end += json_tokener_get_parse_end(tok);
  }
  if (!obj && json_tokener_get_error(tok) == json_tokener_success &&
      end > 0) /* a JSON null is a NULL object */
    return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: null, not a "
                        "JSON object", w->path, w->line);
  if (!obj) {
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (e == json_tokener_success || e == json_tokener_continue)
      return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: JSON syntax "
                          "error: the line ends inside a value", w->path,
                          w->line);
    return ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: JSON syntax "
                        "error at column %zu: %s", w->path, w->line,
                        skipped + end + 1, json_tokener_error_desc(e));
  }
  int st = AB_OK;
  while (end < len && (p[end] == ' ' || p[end] == '\t')) end++;
  if (end < len)
    st = ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: JSON syntax "
                      "error at column %zu: text after the object", w->path,
                      w->line, skipped + end + 1);
  else if (!json_object_is_type(obj, json_type_object))
    st = ab_read_fail(w->err, w->errlen, AB_EPARSE, "%s:%zu: %s, not a JSON"
                      " object", w->path, w->line,
                      kind_of(json_object_get_type(obj)));
  /* a requested integer json-c may have clamped: the line again, its
   * integers beyond 64 bits as doubles that keep their digits (rare) */
  json_object *wide = NULL;
  int need = 0;
  for (size_t c = 0; !st && !need && c < n; c++) {
    json_object *v = NULL, *in = NULL;
    size_t at = 0;
    need = lookup(obj, &f[c], &v, &in, &at) && clamped(v);
  }
  if (need) {
    size_t cap = len + len / 8 + 3;
    char *q = ab_malloc_n(cap, 1);
    if (!q) st = AB_ENOMEM;
    size_t qlen = q ? widen(p, len, q) : 0;
    if (q && qlen <= INT_MAX) {
      json_tokener_reset(tok);
      wide = json_tokener_parse_ex(tok, q, (int)qlen);
      if (!wide && json_tokener_get_error(tok) == json_tokener_continue)
        wide = json_tokener_parse_ex(tok, " ", 1);
    }
    if (q) ab_free(q, cap);
  }
  for (size_t c = 0; !st && c < n; c++) {
    json_object *v = NULL, *in = NULL, *v2 = NULL;
    size_t at = 0;
    int big = 0;
    if (!lookup(obj, &f[c], &v, &in, &at)) {
      st = missing(w, &f[c], in, at);
      break;
    }
    if (wide && clamped(v) && lookup(wide, &f[c], &v2, &in, &at) &&
        json_object_is_type(v2, json_type_double)) {
      v = v2;
      big = 1;
    }
    st = store(b, w, &f[c], c, v, big, row);
  }
  if (wide) json_object_put(wide);
  json_object_put(obj);
  return st;
}

int ab_jsonl_read_work(const char *path, const ab_columns *want,
                       const ab_work *work, ab_table *out, char *err,
                       size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!path) return ab_read_fail(err, errlen, AB_EDOM, "no file name");
  size_t n = want ? want->nnumbers + want->ntext : 0;
  if (n == 0)
    return ab_read_fail(err, errlen, AB_EDOM, "%s: no fields requested", path);
  if ((want->nnumbers && !want->numbers) || (want->ntext && !want->text))
    return ab_read_fail(err, errlen, AB_EDOM, "%s: no field names", path);
  int st = ab_columns_check(want, path, "field", err, errlen);
  if (st) return st;
  path_of *f = ab_calloc(n, sizeof *f);
  const char **names = ab_malloc_n(n, sizeof *names);
  int *text = ab_malloc_n(n, sizeof *text);
  json_tokener *tok = json_tokener_new();
  ab_source s;
  ab_builder b;
  int opened = 0, built = 0;
  size_t rows = 0, pos = 0;
  where_t w = {path, err, errlen, 0};
  st = f && names && text && tok ? AB_OK : AB_ENOMEM;
  if (tok) json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  for (size_t c = 0; !st && c < n; c++) {
    int t = c >= want->nnumbers;
    names[c] = t ? want->text[c - want->nnumbers] : want->numbers[c];
    text[c] = t;
    st = split(&f[c], names[c], t);
  }
  if (!st) {
    errno = 0;
    st = ab_source_open(&s, path, work);
    if (st == AB_EIO)
      ab_read_fail(err, errlen, AB_EIO, "%s: %s", path,
                   errno ? strerror(errno) : "cannot read");
    opened = !st;
  }
  if (!st) st = ab_builder_init(&b, out, names, text, n);
  built = opened && !st;
  while (!st) {
    const char *p = s.buf + pos, *nl = memchr(p, '\n', s.len - pos);
    /* a NUL is never JSON text: an error at once (read_jsonl("/dev/zero")
     * would otherwise buffer a line until memory ran out) */
    const char *nul = memchr(p, '\0', (nl ? nl : s.buf + s.len) - p);
    if (nul) {
      st = ab_read_fail(err, errlen, AB_EPARSE, "%s:%zu: NUL byte at column "
                        "%zu", path, w.line + 1, (size_t)(nul - p) + 1);
      break;
    }
    if (!nl && !s.eof) {
      st = ab_source_fill(&s, pos);
      pos = 0;
      continue;
    }
    if (!nl && pos == s.len) break;
    size_t len = nl ? (size_t)(nl - p) : s.len - pos;
    pos += len + (nl != NULL);
    w.line++;
    if (len && p[len - 1] == '\r') len--;
    size_t k = 0;
    /* a UTF-8 byte order mark (some Windows tools write one) */
    if (w.line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) k = 3;
    while (k < len && (p[k] == ' ' || p[k] == '\t')) k++;
    if (k == len) continue; /* a blank line */
    st = ab_builder_reserve(&b, rows);
    if (!st) st = parse_line(&b, tok, &w, f, n, p + k, len - k, k, rows);
    if (!st) rows++;
  }
  if (built && st) ab_builder_discard(&b);
  else if (built) st = ab_builder_finish(&b, rows); /* trims may fail */
  if (st == AB_ENOMEM) ab_read_fail(err, errlen, st, "%s: out of memory", path);
  if (st == AB_ECANCEL) ab_read_fail(err, errlen, st, "%s: cancelled", path);
  if (st == AB_EIO && opened)
    ab_read_fail(err, errlen, st, "%s: %s", path,
                 errno ? strerror(errno) : "read error");
  if (opened) ab_source_close(&s);
  if (tok) json_tokener_free(tok);
  free_paths(f, n);
  ab_free(names, n * sizeof *names);
  ab_free(text, n * sizeof *text);
  return st;
}

int ab_jsonl_read(const char *path, const ab_columns *want, ab_table *out,
                  char *err, size_t errlen) {
  return ab_jsonl_read_work(path, want, NULL, out, err, errlen);
}
