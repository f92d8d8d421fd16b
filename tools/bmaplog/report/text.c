/* The text summary for the terminal.  Numbers are exact (bytes, not
 * rounded units) so they can be checked against the trace; names are
 * escaped so a hostile file name cannot drive the terminal.
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"

void
fmt_seconds (char *buf, size_t len, uint64_t ns)
{
  snprintf (buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000,
            ns % 1000000000 / 1000);
}

void
fmt_bytes (char *buf, size_t len, uint64_t bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = bytes;
  int u = -1;

  if (bytes < 1024) {
    snprintf (buf, len, "%" PRIu64 " B", bytes);
    return;
  }
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf (buf, len, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s",
            v, units[u]);
}

const char *
flag_words (unsigned flags, char *buf, size_t len)
{
  static const struct { unsigned flag; const char *word; } words[] = {
    { RFLAG_FREE, "free space" },
    { RFLAG_UNMAPPED, "beyond the map" },
    { RFLAG_DELETED, "deleted" },
    { RFLAG_UNREACHABLE, "unreachable" },
    { RFLAG_RAW, "no filesystem object" },
    { RFLAG_NOT_IN_MAP, "not in the map" },
  };
  size_t i, n = 0;

  buf[0] = '\0';
  for (i = 0; i < sizeof words / sizeof words[0]; ++i)
    if ((flags & words[i].flag) && n < len)
      n += snprintf (buf + n, len - n, "%s%s", n ? ", " : "", words[i].word);
  return buf;
}

/* Control characters (C0, DEL, and C1 as UTF-8) escaped as in TSV. */
void
text_name (FILE *fp, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;

  if (s == NULL) {
    fputc ('-', fp);
    return;
  }
  for (; *p; ++p) {
    if (*p == '\\')
      fputs ("\\\\", fp);
    else if (*p == '\t')
      fputs ("\\t", fp);
    else if (*p == '\n')
      fputs ("\\n", fp);
    else if (*p == '\r')
      fputs ("\\r", fp);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf (fp, "\\x%02x", *p);
    else if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
      fprintf (fp, "\\u%04x", p[1]);
      p++;
    }
    else
      fputc (*p, fp);
  }
}

static void
object_name (FILE *fp, const struct robj *o)
{
  if (o->kind == 0) {
    fprintf (fp, "disk %u <unmapped>", o->disk);
    return;
  }
  text_name (fp, o->device);
  fputc (' ', fp);
  text_name (fp, o->path);
}

static void
coverage (char *buf, size_t len, const struct robj *o)
{
  uint64_t distinct;
  double c = robj_coverage (o, &distinct);

  if (isnan (c))
    snprintf (buf, len, "-");
  else
    snprintf (buf, len, "%s%.1f%%", o->cov.approx ? "~" : "", c);
}

static void
provenance (struct report *rep, FILE *fp)
{
  const struct trace_header *h = &rep->reader.header;
  unsigned d;

  fprintf (fp, "Provenance\n  trace         ");
  text_name (fp, rep->trace_path);
  fprintf (fp, " (%s, %" PRIu64 " bytes, %" PRIu64 " records)\n",
           rep->reader.format == TF_TSV ? "TSV" : "JSON Lines",
           rep->reader.bytes, rep->agg.records);
  if (h->present)
    fprintf (fp, "  trace start   %s (bmaplog %s, mode %s)\n",
             h->start ? h->start : "?",
             h->tool_version ? h->tool_version : "?",
             h->mode ? h->mode : "?");
  else
    fprintf (fp, "  trace start   unknown (the trace has no header)\n");
  fprintf (fp, "  map           ");
  text_name (fp, rep->map_path);
  fprintf (fp, ", created %s, virt-bmap %s\n",
           *rep->map_created ? rep->map_created : "?",
           *rep->map_tool_version ? rep->map_tool_version : "?");
  for (d = 0; rep->images && d < rep->ndisks; ++d) {
    const struct rimage *im = &rep->images[d];

    fprintf (fp, "  image %-7u ", d);
    text_name (fp, im->path);
    fprintf (fp, " (%s, %" PRIu64 " bytes)\n", im->format ? im->format : "?",
             im->size);
    if (im->sha256[0])
      fprintf (fp, "                sha256 %s\n", im->sha256);
    if (im->note)
      fprintf (fp, "                %s\n", im->note);
  }
}

static void
requests (struct report *rep, FILE *fp)
{
  const struct agg *a = &rep->agg;
  char t[32];
  int i;

  fmt_seconds (t, sizeof t, a->any_time ? a->max_ns - a->min_ns : 0);
  fprintf (fp, "\nRequests over %s s, %" PRIu64 " connection(s)\n"
           "  %-8s %10s %8s %16s\n", t, a->max_conn, "op", "requests",
           "failed", "bytes");
  for (i = 0; i < TRACE_NR_OPS; ++i)
    if (a->requests[i])
      fprintf (fp, "  %-8s %10" PRIu64 " %8" PRIu64 " %16" PRIu64 "\n",
               trace_op_names[i], a->requests[i], a->failed[i],
               a->op_bytes[i]);
}

static void
tallies (FILE *fp, const char *title, const char *col,
         const struct tally *t, size_t n, size_t top, bool show_device)
{
  size_t i, shown = top && top < n ? top : n;

  fprintf (fp, "\n%s", title);
  if (shown < n)
    fprintf (fp, " (first %zu of %zu)", shown, n);
  fprintf (fp, "\n  %10s %10s %16s %16s %16s  %s\n", "objects", "reads",
           "bytes read", "distinct read", "bytes written", col);
  for (i = 0; i < shown; ++i) {
    fprintf (fp, "  %10" PRIu64 " %10" PRIu64 " %16" PRIu64 " %16" PRIu64
             " %16" PRIu64 "  ", t[i].objects, t[i].reads, t[i].bytes_read,
             t[i].distinct_read, t[i].bytes_written);
    if (show_device) {
      text_name (fp, t[i].device);
      fputc (' ', fp);
    }
    text_name (fp, t[i].name);
    fputc ('\n', fp);
  }
}

static void
flagged (struct report *rep, FILE *fp)
{
  const struct agg *a = &rep->agg;
  char t[32], words[128];
  size_t i;
  uint32_t k;

  fprintf (fp, "\nFlagged reads: free space, areas beyond the map, deleted "
           "or unreachable files (%zu)\n", a->nflagged);
  if (a->nflagged == 0) {
    fprintf (fp, "  none\n");
    return;
  }
  for (i = 0; i < a->nflagged; ++i) {
    const struct robj *o = &a->objs[a->flagged[i]];

    fmt_seconds (t, sizeof t, o->first_ns);
    fprintf (fp, "  %12s s  %s: ", t, flag_words (o->flags, words, sizeof words));
    object_name (fp, o);
    fprintf (fp, "\n      %" PRIu64 " read(s), %" PRIu64 " bytes, %s ranges%s:",
             o->reads, o->bytes_read, o->cov_disk ? "disk" : "object",
             o->cov.approx ? " (approximate: merged)" : "");
    for (k = 0; k < o->cov.len; ++k)
      fprintf (fp, " %" PRIu64 "-%" PRIu64, o->cov.v[k].start,
               o->cov.v[k].end);
    if (o->read_errors)
      fprintf (fp, " (%" PRIu64 " failed)", o->read_errors);
    fputc ('\n', fp);
  }
}

static void
objects (struct report *rep, FILE *fp)
{
  const struct agg *a = &rep->agg;
  size_t i, n = a->nobjs, shown = rep->top && rep->top < n ? rep->top : n;
  char t[32], cov[32], size[32];
  uint64_t distinct;

  fprintf (fp, "\nObjects in first-access order (%zu", n);
  if (shown < n)
    fprintf (fp, "; the first %zu, --top 0 for all", shown);
  fprintf (fp, ")\n  %6s %14s %-4s %7s %12s %12s %12s %8s %7s  %s\n", "#",
           "first (s)", "kind", "reads", "bytes read", "distinct", "size",
           "coverage", "writes", "object");
  for (i = 0; i < shown; ++i) {
    const struct robj *o = &a->objs[a->order[i]];

    fmt_seconds (t, sizeof t, o->first_ns);
    coverage (cov, sizeof cov, o);
    robj_coverage (o, &distinct);
    if (o->in_map)
      snprintf (size, sizeof size, "%" PRIu64, o->size);
    else
      snprintf (size, sizeof size, "-");
    fprintf (fp, "  %6zu %14s %-4c %7" PRIu64 " %12" PRIu64 " %12" PRIu64
             " %12s %8s %7" PRIu64 "  ", i + 1, t, o->kind ? o->kind : '-',
             o->reads, o->bytes_read, distinct, size, cov, o->writes);
    object_name (fp, o);
    if (o->hash)
      fprintf (fp, "  [%s]", o->hash);
    fputc ('\n', fp);
  }
}

struct wctx {
  struct report *rep;
  FILE *fp;
  uint64_t n, shown;
};

static int
write_line (void *opaque, const struct wrec *w)
{
  struct wctx *c = opaque;
  char t[32];

  if (c->shown && c->n >= c->shown)
    return -1;                  /* enough: stop early */
  c->n++;
  fmt_seconds (t, sizeof t, w->t_ns);
  fprintf (c->fp, "  %14s %-5s %4" PRIu64 " %14" PRIu64 " %10" PRIu64 " ",
           t, trace_op_names[w->op], w->conn, w->offset, w->length);
  if (w->object_offset >= 0)
    fprintf (c->fp, "%12" PRId64 "  ", w->object_offset);
  else
    fprintf (c->fp, "%12s  ", "-");
  object_name (c->fp, &c->rep->agg.objs[w->obj]);
  if (w->error)
    fprintf (c->fp, "  error: %s", strerror (w->error));
  fputc ('\n', c->fp);
  return 0;
}

static void
writes (struct report *rep, FILE *fp)
{
  struct wctx c = { .rep = rep, .fp = fp, .shown = rep->top };

  fprintf (fp, "\nWrites, zeroes and trims (%" PRIu64, rep->agg.nwrites);
  if (rep->top && rep->top < rep->agg.nwrites)
    fprintf (fp, "; the first %u, --top 0 for all", rep->top);
  fprintf (fp, ")\n");
  if (rep->agg.nwrites == 0) {
    fprintf (fp, "  none\n");
    return;
  }
  fprintf (fp, "  %14s %-5s %4s %14s %10s %12s  %s\n", "time (s)", "op",
           "conn", "disk offset", "length", "obj offset", "object");
  agg_foreach_write (&rep->agg, write_line, &c);
}

int
report_text (struct report *rep, FILE *fp)
{
  struct agg *a = &rep->agg;
  size_t i;

  fprintf (fp, "bmaplog report\n\n");
  provenance (rep, fp);
  requests (rep, fp);
  tallies (fp, "Totals per kind", "kind", a->kinds, NR_KCLASS, 0, false);
  tallies (fp, "Totals per partition", "device", a->parts, a->nparts, 0,
           false);
  tallies (fp, "Top-level directories (by bytes read)", "directory",
           a->topdirs, a->ntopdirs, rep->top, true);
  tallies (fp, "Directories (by bytes read)", "directory", a->dirs, a->ndirs,
           rep->top, true);
  flagged (rep, fp);
  objects (rep, fp);
  writes (rep, fp);
  if (rep->nwarnings) {
    fprintf (fp, "\nWarnings\n");
    for (i = 0; i < rep->nwarnings; ++i)
    {
      fputs ("  ", fp);
      text_name (fp, rep->warnings[i]);
      fputc ('\n', fp);
    }
  }
  return ferror (fp) ? -1 : 0;
}
