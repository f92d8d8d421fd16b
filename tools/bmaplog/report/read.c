/* Reading a trace, one record at a time: JSON Lines or TSV, with or
 * without the provenance header.  Lines are bounded; anything
 * malformed stops the report with the line number, since a report
 * from a half-understood trace would mislead.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "report.h"
#include "tsv.h"

#define LINE_MAX_BYTES (1 << 20)
#define BUF_BYTES (LINE_MAX_BYTES + (64 << 10))
#define MAX_IMAGES 1024

static int __attribute__ ((format (printf, 2, 3)))
rerror (struct trace_reader *r, const char *fmt, ...)
{
  va_list ap;
  int n = 0;

  if (r->line)
    n = snprintf (r->err, sizeof r->err, "line %" PRIu64 ": ", r->line);
  va_start (ap, fmt);
  vsnprintf (r->err + n, sizeof r->err - n, fmt, ap);
  va_end (ap);
  return -1;
}

/* 1: a line (NUL-terminated, in the buffer until the next call),
 * 0: end of file, -1: error.
 */
static int
read_line (struct trace_reader *r, char **line)
{
  char *nl;
  size_t n, len;

  for (;;) {
    nl = memchr (r->buf + r->pos, '\n', r->fill - r->pos);
    if (nl) {
      *line = r->buf + r->pos;
      len = nl - *line;
      *nl = '\0';
      r->pos += len + 1;
      r->line++;
      if (memchr (*line, '\0', len))
        return rerror (r, "NUL byte: not a text trace");
      if (len && (*line)[len - 1] == '\r')
        (*line)[len - 1] = '\0';
      return 1;
    }
    if (r->eof) {
      if (r->pos == r->fill)
        return 0;
      r->line++;
      return rerror (r, "truncated: the last line has no end "
                     "(was bmaplog stopped while writing?)");
    }
    if (r->fill - r->pos >= LINE_MAX_BYTES) {
      r->line++;
      return rerror (r, "line longer than %d bytes", LINE_MAX_BYTES);
    }
    memmove (r->buf, r->buf + r->pos, r->fill - r->pos);
    r->fill -= r->pos;
    r->pos = 0;
    n = fread (r->buf + r->fill, 1, BUF_BYTES - r->fill, r->fp);
    r->bytes += n;
    if (n == 0) {
      if (ferror (r->fp))
        return rerror (r, "read: %s", strerror (errno));
      r->eof = true;
    }
    r->fill += n;
  }
}

static int
parse_op (const char *s, enum trace_op *op)
{
  int i = trace_op_find (s);

  if (i == -1)
    return -1;
  *op = i;
  return 0;
}

static bool
valid_kind (const char *s)
{
  return s[0] && !s[1] && strchr ("vplmdfu", s[0]);
}

/* Checks common to both formats. */
static int
check_record (struct trace_reader *r, const struct trace_record *rec)
{
  uint64_t end;

  if (ADD_OVERFLOW (rec->offset, rec->length, &end) || end > INT64_MAX)
    return rerror (r, "offset %" PRIu64 " + length %" PRIu64
                   " is beyond any disk", rec->offset, rec->length);
  if (rec->kind == 0 && rec->path)
    return rerror (r, "a path without a kind");
  return 0;
}

/* ---- JSON Lines ---- */

/* The fields a record must have, and the header's mark: bits of
 * line_ctx.seen.
 */
#define BIT(f) (1u << TRACE_F_##f)
#define F_REQUIRED \
  (BIT (T_NS) | BIT (CONN) | BIT (OP) | BIT (DISK) | BIT (OFFSET) | BIT (LENGTH))
#define F_HEADER (1u << TRACE_NR_FIELDS)

struct line_ctx {
  struct trace_reader *r;
  struct trace_record *rec;
  struct trace_header *h;       /* collect header fields, or NULL */
  unsigned seen;
  int last;                     /* the last field met, or -1 */
  char ferr[256];
};

static int __attribute__ ((format (printf, 2, 3)))
field_error (struct line_ctx *c, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (c->ferr, sizeof c->ferr, fmt, ap);
  va_end (ap);
  return -1;
}

static int
get_uint (struct line_ctx *c, const char *key, const struct jvalue *v,
          uint64_t max, uint64_t *r)
{
  if (json_uint (v, r) == -1 || *r > max)
    return field_error (c, "\"%s\": not an integer from 0 to %" PRIu64, key, max);
  return 0;
}

static int
set_str (struct line_ctx *c, char **dst, const struct jvalue *v)
{
  if (v->type == J_NULL)
    return 0;
  if (v->type != J_STRING)
    return field_error (c, "header: a string was expected");
  free (*dst);
  *dst = strdup (v->s);
  if (*dst == NULL)
    return field_error (c, "%s", strerror (errno));
  return 0;
}

static int
header_field (struct line_ctx *c, const struct jpath *p,
              const struct jvalue *v)
{
  struct trace_header *h = c->h;
  struct trace_image *im;
  const char *k = p->key[0];
  uint64_t n;

  if (p->depth == 1) {
    if (strcmp (k, TRACE_H_VERSION) == 0)
      return set_str (c, &h->tool_version, v);
    if (strcmp (k, TRACE_H_START) == 0) return set_str (c, &h->start, v);
    if (strcmp (k, TRACE_H_MODE) == 0) return set_str (c, &h->mode, v);
    return 0;
  }
  if (p->depth == 2 && strcmp (k, TRACE_H_MAP) == 0 && p->key[1]) {
    if (strcmp (p->key[1], TRACE_H_PATH) == 0)
      return set_str (c, &h->map_path, v);
    if (strcmp (p->key[1], TRACE_H_CREATED) == 0)
      return set_str (c, &h->map_created, v);
    if (strcmp (p->key[1], TRACE_H_TOOL_VERSION) == 0)
      return set_str (c, &h->map_tool_version, v);
    return 0;
  }
  if (p->depth == 3 && strcmp (k, TRACE_H_IMAGES) == 0 && p->key[2]) {
    if (p->index[1] < 0 || p->index[1] >= MAX_IMAGES)
      return field_error (c, "header: too many images");
    while (h->nimages <= (size_t) p->index[1]) {
      im = realloc (h->images, (h->nimages + 1) * sizeof *im);
      if (im == NULL)
        return field_error (c, "%s", strerror (errno));
      h->images = im;
      im = &h->images[h->nimages];
      memset (im, 0, sizeof *im);
      im->disk = h->nimages++;
      im->mtime = -1;
    }
    im = &h->images[p->index[1]];
    k = p->key[2];
    if (strcmp (k, TRACE_H_PATH) == 0) return set_str (c, &im->path, v);
    if (strcmp (k, TRACE_H_FORMAT) == 0) return set_str (c, &im->format, v);
    if (strcmp (k, TRACE_H_SIZE) == 0)
      return get_uint (c, k, v, INT64_MAX, &im->size);
    if (strcmp (k, TRACE_H_MTIME) == 0 && v->type != J_NULL) {
      if (get_uint (c, k, v, INT64_MAX, &n) == -1)
        return -1;
      im->mtime = n;
    }
    return 0;
  }
  return 0;
}

static int
record_field (void *opaque, const struct jpath *p, const struct jvalue *v)
{
  struct line_ctx *c = opaque;
  struct trace_record *rec = c->rec;
  const char *k = p->key[0];
  uint64_t n;
  int f;

  if (p->depth == 1 && strcmp (k, TRACE_MAGIC) == 0) {
    if (get_uint (c, k, v, INT_MAX, &n) == -1)
      return -1;
    c->seen |= F_HEADER;
    if (c->h)
      c->h->version = n;
    return 0;
  }
  if (c->h && header_field (c, p, v) == -1)
    return -1;
  if (p->depth != 1)
    return 0;

  f = trace_field_find (k, c->last);
  if (f == -1)
    return 0;                   /* fields of later versions */
  c->last = f;
  c->seen |= 1u << f;
  switch ((enum trace_field) f) {
  case TRACE_F_T_NS:
    return get_uint (c, k, v, INT64_MAX, &rec->t_ns);
  case TRACE_F_CONN:
    return get_uint (c, k, v, INT64_MAX, &rec->conn);
  case TRACE_F_OP:
    if (v->type != J_STRING || parse_op (v->s, &rec->op) == -1)
      return field_error (c, "\"%s\": not an operation bmaplog traces", k);
    return 0;
  case TRACE_F_DISK:
    if (get_uint (c, k, v, UINT_MAX, &n) == -1)
      return -1;
    rec->disk = n;
    return 0;
  case TRACE_F_OFFSET:
    return get_uint (c, k, v, INT64_MAX, &rec->offset);
  case TRACE_F_LENGTH:
    return get_uint (c, k, v, INT64_MAX, &rec->length);
  case TRACE_F_KIND:
    if (v->type == J_NULL)
      rec->kind = 0;
    else if (v->type == J_STRING && valid_kind (v->s))
      rec->kind = v->s[0];
    else
      return field_error (c, "\"%s\": not one of v p l m d f u or null", k);
    return 0;
  case TRACE_F_DEVICE:
    if (v->type == J_NULL)
      rec->device = "";
    else if (v->type == J_STRING)
      rec->device = v->s;
    else
      return field_error (c, "\"%s\": not a string", k);
    return 0;
  case TRACE_F_PATH:
    if (v->type == J_NULL)
      rec->path = NULL;
    else if (v->type == J_STRING)
      rec->path = v->s;
    else
      return field_error (c, "\"%s\": not a string", k);
    return 0;
  case TRACE_F_INODE:
    return get_uint (c, k, v, UINT64_MAX, &rec->inode);
  case TRACE_F_OBJECT_OFFSET:
    if (v->type == J_NULL) {
      rec->object_offset = -1;
      return 0;
    }
    if (get_uint (c, k, v, INT64_MAX, &n) == -1)
      return -1;
    rec->object_offset = n;
    return 0;
  case TRACE_F_ERROR:
    if (get_uint (c, k, v, INT_MAX, &n) == -1)
      return -1;
    rec->error = n;
    return 0;
  case TRACE_F_FORMER:
    if (v->type == J_NULL)
      rec->former = NULL;
    else if (v->type == J_STRING)
      rec->former = v->s;
    else
      return field_error (c, "\"%s\": not a string", k);
    return 0;
  case TRACE_NR_FIELDS:
    break;
  }
  return 0;
}

/* "a, b and c": the names of the fields in mask. */
static void
field_list (char *buf, size_t size, unsigned mask)
{
  size_t len = 0;
  int f, left = __builtin_popcount (mask);

  buf[0] = '\0';
  for (f = 0; f < TRACE_NR_FIELDS && len < size; ++f)
    if (mask & (1u << f)) {
      --left;
      len += snprintf (buf + len, size - len, "%s%s",
                       trace_field_names[f],
                       left > 1 ? ", " : left == 1 ? " and " : "");
    }
}

static void
record_defaults (struct trace_record *rec)
{
  memset (rec, 0, sizeof *rec);
  rec->device = "";
  rec->object_offset = -1;
}

/* Parses a JSON line into rec; with h, a header is accepted too (and
 * *is_header set).
 */
static int
parse_jsonl (struct trace_reader *r, char *line, struct trace_record *rec,
             struct trace_header *h, bool *is_header)
{
  struct line_ctx c = { .r = r, .rec = rec, .h = h, .last = -1 };
  char jerr[256];

  record_defaults (rec);
  if (json_parse_line (line, record_field, &c, jerr, sizeof jerr) == -1)
    return rerror (r, "%s", c.ferr[0] ? c.ferr : jerr);
  if (c.seen & F_HEADER) {
    if (h == NULL)
      return rerror (r, "a second trace header (were traces concatenated?)");
    if (h->version != TRACE_VERSION)
      return rerror (r, "trace format version %d: this report reads "
                     "version %d", h->version, TRACE_VERSION);
    *is_header = true;
    return 0;
  }
  if ((c.seen & F_REQUIRED) != F_REQUIRED) {
    char names[128];

    field_list (names, sizeof names, F_REQUIRED);
    return rerror (r, "not a bmaplog trace record (it needs %s)", names);
  }
  if (is_header)
    *is_header = false;
  return check_record (r, rec);
}

/* ---- TSV ---- */

static int
split_tabs (char *line, char **f, int max)
{
  int n = 0;

  for (;;) {
    if (n == max)
      return max + 1;
    f[n++] = line;
    line = strchr (line, '\t');
    if (line == NULL)
      return n;
    *line++ = '\0';
  }
}

static bool
tsv_none (const char *s)
{
  return strcmp (s, TRACE_TSV_NONE) == 0;
}

static int
tsv_uint (struct trace_reader *r, const char *name, const char *s,
          uint64_t max, uint64_t *v)
{
  struct jvalue jv = { .type = J_NUMBER, .s = s, .len = strlen (s) };

  if (json_uint (&jv, v) == -1 || *v > max)
    return rerror (r, "%s: '%.40s' is not an integer from 0 to %" PRIu64,
                   name, s, max);
  return 0;
}

/* A record's column, and its name. */
#define COL(id) f[TRACE_F_##id]
#define NAME(id) trace_field_names[TRACE_F_##id]

static int
parse_tsv (struct trace_reader *r, char *line, struct trace_record *rec)
{
  char *f[TRACE_NR_FIELDS + 1];
  uint64_t n;
  int nf = split_tabs (line, f, TRACE_NR_FIELDS);

  if (nf > TRACE_NR_FIELDS)
    return rerror (r, "more than %d fields, a TSV trace record has %d",
                   TRACE_NR_FIELDS, TRACE_NR_FIELDS);
  /* Traces of earlier versions end before "former". */
  if (nf < TRACE_NR_FIELDS - 1)
    return rerror (r, "%s fields, a TSV trace record has %d or %d",
                   nf == 1 ? "1" : "fewer", TRACE_NR_FIELDS - 1,
                   TRACE_NR_FIELDS);
  record_defaults (rec);
  if (tsv_uint (r, NAME (T_NS), COL (T_NS), INT64_MAX, &rec->t_ns) == -1 ||
      tsv_uint (r, NAME (CONN), COL (CONN), INT64_MAX, &rec->conn) == -1)
    return -1;
  if (parse_op (COL (OP), &rec->op) == -1)
    return rerror (r, "%s: '%.40s' is not an operation bmaplog traces",
                   NAME (OP), COL (OP));
  if (tsv_uint (r, NAME (DISK), COL (DISK), UINT_MAX, &n) == -1)
    return -1;
  rec->disk = n;
  if (tsv_uint (r, NAME (OFFSET), COL (OFFSET), INT64_MAX,
                &rec->offset) == -1 ||
      tsv_uint (r, NAME (LENGTH), COL (LENGTH), INT64_MAX,
                &rec->length) == -1)
    return -1;
  if (!tsv_none (COL (KIND))) {
    if (!valid_kind (COL (KIND)))
      return rerror (r, "%s: '%.40s' is not one of v p l m d f u %s",
                     NAME (KIND), COL (KIND), TRACE_TSV_NONE);
    rec->kind = COL (KIND)[0];
  }
  if (!tsv_none (COL (DEVICE))) {
    if (tsv_unescape (COL (DEVICE)) == -1)
      return rerror (r, "%s: bad escape", NAME (DEVICE));
    rec->device = COL (DEVICE);
  }
  if (!tsv_none (COL (PATH))) {
    if (tsv_unescape (COL (PATH)) == -1)
      return rerror (r, "%s: bad escape", NAME (PATH));
    rec->path = COL (PATH);
  }
  if (tsv_uint (r, NAME (INODE), COL (INODE), UINT64_MAX, &rec->inode) == -1)
    return -1;
  if (!tsv_none (COL (OBJECT_OFFSET))) {
    if (tsv_uint (r, NAME (OBJECT_OFFSET), COL (OBJECT_OFFSET), INT64_MAX,
                  &n) == -1)
      return -1;
    rec->object_offset = n;
  }
  if (tsv_uint (r, NAME (ERROR), COL (ERROR), INT_MAX, &n) == -1)
    return -1;
  rec->error = n;
  if (nf == TRACE_NR_FIELDS && !tsv_none (COL (FORMER))) {
    if (tsv_unescape (COL (FORMER)) == -1)
      return rerror (r, "%s: bad escape", NAME (FORMER));
    rec->former = COL (FORMER);
  }
  return check_record (r, rec);
}

#undef COL
#undef NAME

static int
dup_field (struct trace_reader *r, char **dst, char *s)
{
  if (tsv_none (s))
    return 0;
  if (tsv_unescape (s) == -1)
    return rerror (r, "header: bad escape");
  free (*dst);
  *dst = strdup (s);
  if (*dst == NULL)
    return rerror (r, "%s", strerror (errno));
  return 0;
}

/* "#key\tvalue..." lines before the first record. */
static int
parse_tsv_header (struct trace_reader *r, char *line)
{
  struct trace_header *h = &r->header;
  struct trace_image *im;
  char *f[8];
  uint64_t n;
  int nf = split_tabs (line + 1, f, 7);

  if (strcmp (f[0], TRACE_MAGIC) == 0 && nf == 2) {
    if (tsv_uint (r, f[0], f[1], INT_MAX, &n) == -1)
      return -1;
    if (n != TRACE_VERSION)
      return rerror (r, "trace format version %" PRIu64 ": this report "
                     "reads version %d", n, TRACE_VERSION);
    h->present = true;
    h->version = n;
    return 0;
  }
  if (!h->present)
    return 0;                   /* a comment, or the column names */
  if (strcmp (f[0], TRACE_H_VERSION) == 0 && nf == 2)
    return dup_field (r, &h->tool_version, f[1]);
  if (strcmp (f[0], TRACE_H_START) == 0 && nf == 2)
    return dup_field (r, &h->start, f[1]);
  if (strcmp (f[0], TRACE_H_MODE) == 0 && nf == 2)
    return dup_field (r, &h->mode, f[1]);
  if (strcmp (f[0], TRACE_H_MAP) == 0 && nf == 4)
    return dup_field (r, &h->map_path, f[1]) == -1 ||
      dup_field (r, &h->map_created, f[2]) == -1 ||
      dup_field (r, &h->map_tool_version, f[3]) == -1 ? -1 : 0;
  if (strcmp (f[0], TRACE_H_IMAGE) == 0 && nf == 6) {
    if (tsv_uint (r, f[0], f[1], MAX_IMAGES - 1, &n) == -1)
      return -1;
    if (n != h->nimages)
      return rerror (r, "header: images out of order");
    im = realloc (h->images, (h->nimages + 1) * sizeof *im);
    if (im == NULL)
      return rerror (r, "%s", strerror (errno));
    h->images = im;
    im = &h->images[h->nimages++];
    memset (im, 0, sizeof *im);
    im->disk = n;
    im->mtime = -1;
    if (dup_field (r, &im->path, f[2]) == -1 ||
        dup_field (r, &im->format, f[3]) == -1 ||
        tsv_uint (r, TRACE_H_SIZE, f[4], INT64_MAX, &im->size) == -1)
      return -1;
    if (!tsv_none (f[5])) {
      if (tsv_uint (r, TRACE_H_MTIME, f[5], INT64_MAX, &n) == -1)
        return -1;
      im->mtime = n;
    }
    return 0;
  }
  return 0;
}

/* ---- The reader ---- */

static void
header_free (struct trace_header *h)
{
  size_t i;

  free (h->tool_version);
  free (h->start);
  free (h->mode);
  free (h->map_path);
  free (h->map_created);
  free (h->map_tool_version);
  for (i = 0; i < h->nimages; ++i) {
    free (h->images[i].path);
    free (h->images[i].format);
  }
  free (h->images);
  memset (h, 0, sizeof *h);
}


int
trace_open (struct trace_reader *r, const char *path)
{
  char *line;
  bool is_header;
  int n;

  memset (r, 0, sizeof *r);
  r->name = path;
  r->fp = strcmp (path, "-") == 0 ? stdin : fopen (path, "r");
  if (r->fp == NULL) {
    snprintf (r->err, sizeof r->err, "%s", strerror (errno));
    return -1;
  }
  r->buf = malloc (BUF_BYTES + 1);
  if (r->buf == NULL) {
    snprintf (r->err, sizeof r->err, "%s", strerror (errno));
    return -1;
  }

  /* The first line tells the format; blank lines do not count. */
  do {
    n = read_line (r, &line);
    if (n <= 0) {
      if (n == 0)
        snprintf (r->err, sizeof r->err,
                  "empty: not a bmaplog trace");
      return -1;
    }
  } while (line[strspn (line, " \t")] == '\0');

  if (line[0] == '{') {
    r->format = TF_JSONL;
    if (parse_jsonl (r, line, &r->first, &r->header, &is_header) == -1)
      return -1;
    if (is_header)
      r->header.present = true;
    else {
      /* Fields that looked like a header's in a record: not one. */
      header_free (&r->header);
      r->pending = true;
      r->records++;
    }
    return 0;
  }
  if (line[0] == '#' || (line[0] >= '0' && line[0] <= '9')) {
    r->format = TF_TSV;
    /* The header's comment lines, all of them, before the records. */
    while (line[0] == '#' || line[strspn (line, " \t")] == '\0') {
      if (line[0] == '#' && parse_tsv_header (r, line) == -1)
        return -1;
      n = read_line (r, &line);
      if (n <= 0)
        return n;
    }
    if (parse_tsv (r, line, &r->first) == -1)
      return -1;
    r->pending = true;
    r->records++;
    return 0;
  }
  return rerror (r, "not a bmaplog trace (neither JSON Lines nor TSV)");
}

int
trace_next (struct trace_reader *r, struct trace_record *rec)
{
  char *line;
  int n;

  if (r->pending) {
    r->pending = false;
    *rec = r->first;
    return 1;
  }
  for (;;) {
    n = read_line (r, &line);
    if (n <= 0)
      return n;
    if (line[strspn (line, " \t")] == '\0')
      continue;
    if (r->format == TF_TSV) {
      if (line[0] == '#')
        continue;               /* comments */
      if (parse_tsv (r, line, rec) == -1)
        return -1;
    }
    else if (parse_jsonl (r, line, rec, NULL, NULL) == -1)
      return -1;
    r->records++;
    return 1;
  }
}

void
trace_close (struct trace_reader *r)
{
  if (r->fp && r->fp != stdin)
    fclose (r->fp);
  r->fp = NULL;
  free (r->buf);
  r->buf = NULL;
  header_free (&r->header);
}
