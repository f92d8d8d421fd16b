/* A small JSON reader for the trace's lines: one object per line,
 * scalars handed to a visitor with the keys leading to them.  Strict
 * about syntax (a damaged line must not be half-read), bounded in
 * depth, no allocation: strings are unescaped in place.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

struct jparser {
  char *p;
  const char *line;
  json_visit_fn fn;
  void *opaque;
  struct jpath path;
  char *err;
  size_t errlen;
};

static int __attribute__ ((format (printf, 2, 3)))
jerror (struct jparser *j, const char *fmt, ...)
{
  va_list ap;
  int n;

  /* Only the first error counts. */
  if (j->err[0])
    return -1;
  n = snprintf (j->err, j->errlen, "column %zu: ", (size_t) (j->p - j->line) + 1);
  va_start (ap, fmt);
  if (n > 0 && (size_t) n < j->errlen)
    vsnprintf (j->err + n, j->errlen - n, fmt, ap);
  va_end (ap);
  return -1;
}

static void
skip_ws (struct jparser *j)
{
  while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')
    j->p++;
}

static int
hex4 (const char *s, unsigned *r)
{
  unsigned v = 0;
  int i;

  for (i = 0; i < 4; ++i) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  *r = v;
  return 0;
}

static char *
put_utf8 (char *out, unsigned cp)
{
  if (cp < 0x80)
    *out++ = cp;
  else if (cp < 0x800) {
    *out++ = 0xc0 | (cp >> 6);
    *out++ = 0x80 | (cp & 0x3f);
  }
  else if (cp < 0x10000) {
    *out++ = 0xe0 | (cp >> 12);
    *out++ = 0x80 | ((cp >> 6) & 0x3f);
    *out++ = 0x80 | (cp & 0x3f);
  }
  else {
    *out++ = 0xf0 | (cp >> 18);
    *out++ = 0x80 | ((cp >> 12) & 0x3f);
    *out++ = 0x80 | ((cp >> 6) & 0x3f);
    *out++ = 0x80 | (cp & 0x3f);
  }
  return out;
}

/* At the opening quote.  The unescaped string is written over the
 * input (it is never longer) and NUL-terminated.
 */
static int
parse_string (struct jparser *j, struct jvalue *v)
{
  char *out = ++j->p, *start = out;
  unsigned cp, lo;

  for (;;) {
    unsigned char c = *j->p;

    if (c == '"')
      break;
    if (c == '\0')
      return jerror (j, "unterminated string");
    if (c < 0x20)
      return jerror (j, "control character in a string");
    if (c != '\\') {
      *out++ = c;
      j->p++;
      continue;
    }
    c = j->p[1];
    j->p += 2;
    switch (c) {
    case '"': case '\\': case '/': *out++ = c; break;
    case 'b': *out++ = '\b'; break;
    case 'f': *out++ = '\f'; break;
    case 'n': *out++ = '\n'; break;
    case 'r': *out++ = '\r'; break;
    case 't': *out++ = '\t'; break;
    case 'u':
      if (hex4 (j->p, &cp) == -1)
        return jerror (j, "bad \\u escape");
      j->p += 4;
      if (cp >= 0xd800 && cp < 0xdc00) {
        if (j->p[0] != '\\' || j->p[1] != 'u' || hex4 (j->p + 2, &lo) == -1 ||
            lo < 0xdc00 || lo >= 0xe000)
          return jerror (j, "unpaired surrogate in a \\u escape");
        j->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      else if (cp >= 0xdc00 && cp < 0xe000)
        return jerror (j, "unpaired surrogate in a \\u escape");
      if (cp == 0)
        return jerror (j, "NUL character in a string");
      out = put_utf8 (out, cp);
      break;
    default:
      return jerror (j, "bad escape in a string");
    }
  }
  j->p++;                       /* the closing quote */
  *out = '\0';
  v->type = J_STRING;
  v->s = start;
  v->len = out - start;
  return 0;
}

static int
parse_number (struct jparser *j, struct jvalue *v)
{
  const char *start = j->p;
  const char *p = j->p;

  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (*p >= '0' && *p <= '9') p++;
  else
    return jerror (j, "unexpected character '%c'", *p >= 0x20 ? *p : '?');
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9'))
      return jerror (j, "bad number");
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9'))
      return jerror (j, "bad number");
    while (*p >= '0' && *p <= '9') p++;
  }
  v->type = J_NUMBER;
  v->s = start;
  v->len = p - start;
  j->p = (char *) p;
  return 0;
}

static int parse_value (struct jparser *j);

static int
visit (struct jparser *j, const struct jvalue *v)
{
  if (j->fn (j->opaque, &j->path, v) == -1)
    return jerror (j, "rejected value");
  return 0;
}

static int
parse_container (struct jparser *j, bool object)
{
  long n = 0;
  int d = j->path.depth;

  if (d >= JSON_MAX_DEPTH)
    return jerror (j, "nested too deeply");
  j->p++;
  skip_ws (j);
  if (*j->p == (object ? '}' : ']')) {
    j->p++;
    return 0;
  }
  j->path.depth++;
  for (;;) {
    skip_ws (j);
    if (object) {
      struct jvalue key;

      if (*j->p != '"')
        return jerror (j, "expected a key");
      if (parse_string (j, &key) == -1)
        return -1;
      skip_ws (j);
      if (*j->p != ':')
        return jerror (j, "expected ':'");
      j->p++;
      j->path.key[d] = key.s;
      j->path.index[d] = -1;
    }
    else {
      j->path.key[d] = NULL;
      j->path.index[d] = n;
    }
    if (parse_value (j) == -1)
      return -1;
    n++;
    skip_ws (j);
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p == (object ? '}' : ']')) {
      j->p++;
      break;
    }
    return jerror (j, "expected ',' or '%c'", object ? '}' : ']');
  }
  j->path.depth = d;
  return 0;
}

static int
parse_value (struct jparser *j)
{
  struct jvalue v = { .s = NULL, .len = 0 };

  skip_ws (j);
  switch (*j->p) {
  case '{': return parse_container (j, true);
  case '[': return parse_container (j, false);
  case '"':
    if (parse_string (j, &v) == -1)
      return -1;
    return visit (j, &v);
  case 'n':
    if (strncmp (j->p, "null", 4) != 0)
      return jerror (j, "bad literal");
    j->p += 4;
    v.type = J_NULL;
    return visit (j, &v);
  case 't':
    if (strncmp (j->p, "true", 4) != 0)
      return jerror (j, "bad literal");
    j->p += 4;
    v.type = J_TRUE;
    return visit (j, &v);
  case 'f':
    if (strncmp (j->p, "false", 5) != 0)
      return jerror (j, "bad literal");
    j->p += 5;
    v.type = J_FALSE;
    return visit (j, &v);
  case '\0':
    return jerror (j, "unexpected end of line");
  default:
    if (parse_number (j, &v) == -1)
      return -1;
    return visit (j, &v);
  }
}

int
json_parse_line (char *line, json_visit_fn fn, void *opaque,
                 char *err, size_t errlen)
{
  struct jparser j = {
    .p = line, .line = line, .fn = fn, .opaque = opaque,
    .err = err, .errlen = errlen,
  };

  err[0] = '\0';
  skip_ws (&j);
  if (*j.p != '{')
    return jerror (&j, "a record must be a JSON object");
  if (parse_container (&j, true) == -1)
    return -1;
  skip_ws (&j);
  if (*j.p != '\0')
    return jerror (&j, "junk after the record");
  return 0;
}

/* A non-negative integer that fits: no sign, fraction or exponent. */
int
json_uint (const struct jvalue *v, uint64_t *r)
{
  uint64_t n = 0;
  size_t i;

  if (v->type != J_NUMBER || v->len == 0)
    return -1;
  for (i = 0; i < v->len; ++i) {
    unsigned d = v->s[i] - '0';
    if (d > 9 || n > (UINT64_MAX - d) / 10)
      return -1;
    n = n * 10 + d;
  }
  *r = n;
  return 0;
}
