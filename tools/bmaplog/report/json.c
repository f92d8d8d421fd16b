/* The report as one JSON document: everything the text summary says,
 * without row limits, for scripts and the case file.
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "report.h"

static void
jstr (FILE *fp, const char *s)
{
  if (s)
    json_write_string (fp, s);
  else
    fputs ("null", fp);
}

static void
flags_array (FILE *fp, const struct robj *o)
{
  static const struct { unsigned flag; bool map; const char *word; } w[] = {
    { RFLAG_FREE, false, "free_space" },
    { RFLAG_UNMAPPED, false, "unmapped" },
    { RFLAG_DELETED, false, "deleted" },
    { RFLAG_UNREACHABLE, false, "unreachable" },
    { RFLAG_RAW, false, "no_filesystem_object" },
    { RFLAG_NOT_IN_MAP, false, "not_in_map" },
    { VBM_OBJECT_SYMLINK, true, "symlink" },
    { VBM_OBJECT_SPECIAL, true, "special" },
  };
  size_t i;
  bool first = true;

  fputc ('[', fp);
  for (i = 0; i < sizeof w / sizeof w[0]; ++i)
    if ((w[i].map ? o->map_flags : o->flags) & w[i].flag) {
      fprintf (fp, "%s\"%s\"", first ? "" : ",", w[i].word);
      first = false;
    }
  fputc (']', fp);
}

static void
object_fields (FILE *fp, const struct robj *o, bool rep_hashes)
{
  uint64_t distinct;
  double c = robj_coverage (o, &distinct);

  fprintf (fp, "\"first_ns\":%" PRIu64 ",\"kind\":", o->first_ns);
  if (o->kind)
    fprintf (fp, "\"%c\"", o->kind);
  else
    fputs ("null", fp);
  fprintf (fp, ",\"disk\":%u,\"device\":", o->disk);
  jstr (fp, *o->device ? o->device : NULL);
  fputs (",\"path\":", fp);
  jstr (fp, o->path);
  fprintf (fp, ",\"inode\":%" PRIu64 ",\"in_map\":%s,\"size\":", o->inode,
           o->in_map ? "true" : "false");
  if (o->in_map)
    fprintf (fp, "%" PRIu64, o->size);
  else
    fputs ("null", fp);
  fputs (",\"flags\":", fp);
  flags_array (fp, o);
  fprintf (fp, ",\"reads\":%" PRIu64 ",\"bytes_read\":%" PRIu64
           ",\"distinct_bytes_read\":%" PRIu64 ",\"coverage_pct\":",
           o->reads, o->bytes_read, distinct);
  if (isnan (c))
    fputs ("null", fp);
  else
    fprintf (fp, "%.4f", c);
  fprintf (fp, ",\"coverage_approximate\":%s,\"read_errors\":%" PRIu64
           ",\"writes\":%" PRIu64 ",\"bytes_written\":%" PRIu64,
           o->cov.approx ? "true" : "false", o->read_errors, o->writes,
           o->bytes_written);
  /* Only from a map with hashes: other reports stay as they were. */
  if (rep_hashes) {
    fputs (",\"hash\":", fp);
    jstr (fp, o->hash);
  }
}

static void
tally_array (FILE *fp, const char *name, const char *key,
             const struct tally *t, size_t n, bool device)
{
  size_t i;

  fprintf (fp, ",\n  \"%s\":[", name);
  for (i = 0; i < n; ++i) {
    fprintf (fp, "%s\n    {", i ? "," : "");
    if (device) {
      fputs ("\"device\":", fp);
      jstr (fp, *t[i].device ? t[i].device : NULL);
      fputc (',', fp);
    }
    fprintf (fp, "\"%s\":", key);
    jstr (fp, t[i].name);
    fprintf (fp, ",\"objects\":%" PRIu64 ",\"reads\":%" PRIu64
             ",\"bytes_read\":%" PRIu64 ",\"distinct_bytes_read\":%" PRIu64
             ",\"bytes_written\":%" PRIu64 "}", t[i].objects, t[i].reads,
             t[i].bytes_read, t[i].distinct_read, t[i].bytes_written);
  }
  fputs ("]", fp);
}

static void
provenance (struct report *rep, FILE *fp)
{
  const struct trace_header *h = &rep->reader.header;
  unsigned d;
  size_t i;

  fputs ("  \"provenance\":{\"trace\":{\"path\":", fp);
  jstr (fp, rep->trace_path);
  fprintf (fp, ",\"format\":\"%s\",\"bytes\":%" PRIu64 ",\"records\":%"
           PRIu64 ",\"header\":%s,\"start\":",
           rep->reader.format == TF_TSV ? "tsv" : "jsonl", rep->reader.bytes,
           rep->agg.records, h->present ? "true" : "false");
  jstr (fp, h->start);
  fputs (",\"bmaplog_version\":", fp);
  jstr (fp, h->tool_version);
  fputs (",\"mode\":", fp);
  jstr (fp, h->mode);
  fputs ("},\n    \"map\":{\"path\":", fp);
  jstr (fp, rep->map_path);
  fputs (",\"created\":", fp);
  jstr (fp, *rep->map_created ? rep->map_created : NULL);
  fputs (",\"tool_version\":", fp);
  jstr (fp, *rep->map_tool_version ? rep->map_tool_version : NULL);
  fputs ("},\n    \"images\":[", fp);
  for (d = 0; rep->images && d < rep->ndisks; ++d) {
    const struct rimage *im = &rep->images[d];

    fprintf (fp, "%s{\"disk\":%u,\"device\":", d ? "," : "", d);
    jstr (fp, rep->disk_device[d]);
    fputs (",\"path\":", fp);
    jstr (fp, im->path);
    fputs (",\"format\":", fp);
    jstr (fp, im->format);
    fprintf (fp, ",\"size\":%" PRIu64 ",\"mtime\":", im->size);
    if (im->mtime >= 0)
      fprintf (fp, "%" PRId64, im->mtime);
    else
      fputs ("null", fp);
    fputs (",\"sha256\":", fp);
    jstr (fp, im->sha256[0] ? im->sha256 : NULL);
    fputs (",\"note\":", fp);
    jstr (fp, im->note);
    fputc ('}', fp);
  }
  fputs ("]},\n  \"partitions\":[", fp);
  for (i = 0; i < rep->nparts; ++i) {
    const struct partition *p = &rep->parts[i];

    fprintf (fp, "%s{\"disk\":%u,\"device\":", i ? "," : "", p->disk);
    jstr (fp, p->device);
    fprintf (fp, ",\"kind\":\"%c\",\"start\":%" PRIu64 ",\"end\":%" PRIu64
             "}", p->kind, p->start, p->end);
  }
  fputc (']', fp);
}

struct jwrites {
  struct report *rep;
  FILE *fp;
  bool first;
};

static int
write_entry (void *opaque, const struct wrec *w)
{
  struct jwrites *c = opaque;
  const struct robj *o = &c->rep->agg.objs[w->obj];

  fprintf (c->fp, "%s\n    {\"t_ns\":%" PRIu64 ",\"op\":\"%s\",\"conn\":%"
           PRIu64 ",\"disk\":%u,\"offset\":%" PRIu64 ",\"length\":%" PRIu64
           ",\"object_offset\":", c->first ? "" : ",", w->t_ns,
           trace_op_names[w->op], w->conn, o->disk, w->offset, w->length);
  if (w->object_offset >= 0)
    fprintf (c->fp, "%" PRId64, w->object_offset);
  else
    fputs ("null", c->fp);
  fprintf (c->fp, ",\"error\":%d,\"kind\":", (int) w->error);
  if (o->kind)
    fprintf (c->fp, "\"%c\"", o->kind);
  else
    fputs ("null", c->fp);
  fputs (",\"device\":", c->fp);
  jstr (c->fp, *o->device ? o->device : NULL);
  fputs (",\"path\":", c->fp);
  jstr (c->fp, o->path);
  fprintf (c->fp, ",\"inode\":%" PRIu64 "}", o->inode);
  c->first = false;
  return 0;
}

int
report_json (struct report *rep, FILE *fp)
{
  struct agg *a = &rep->agg;
  struct jwrites wc = { .rep = rep, .fp = fp, .first = true };
  size_t i;
  uint32_t k;
  int op;

  fprintf (fp, "{\n  \"bmaplog_report\":1,\"version\":\"%s\",\n",
           PACKAGE_VERSION);
  provenance (rep, fp);

  fprintf (fp, ",\n  \"requests\":{\"first_ns\":%" PRIu64 ",\"last_ns\":%"
           PRIu64 ",\"connections\":%" PRIu64 ",\"records\":%" PRIu64
           ",\"by_op\":{", a->min_ns, a->max_ns, a->max_conn, a->records);
  for (op = 0; op < TRACE_NR_OPS; ++op)
    fprintf (fp, "%s\"%s\":{\"requests\":%" PRIu64 ",\"failed\":%" PRIu64
             ",\"bytes\":%" PRIu64 "}", op ? "," : "", trace_op_names[op],
             a->requests[op], a->failed[op], a->op_bytes[op]);
  fputs ("}}", fp);

  tally_array (fp, "by_kind", "kind", a->kinds, NR_KCLASS, false);
  tally_array (fp, "by_partition", "device", a->parts, a->nparts, false);
  tally_array (fp, "by_top_directory", "directory", a->topdirs, a->ntopdirs,
               true);
  tally_array (fp, "by_directory", "directory", a->dirs, a->ndirs, true);

  fputs (",\n  \"flagged\":[", fp);
  for (i = 0; i < a->nflagged; ++i) {
    const struct robj *o = &a->objs[a->flagged[i]];

    fprintf (fp, "%s\n    {", i ? "," : "");
    object_fields (fp, o, rep->map_hashes);
    fprintf (fp, ",\"ranges_in\":\"%s\",\"ranges\":[",
             o->cov_disk ? "disk" : "object");
    for (k = 0; k < o->cov.len; ++k)
      fprintf (fp, "%s[%" PRIu64 ",%" PRIu64 "]", k ? "," : "",
               o->cov.v[k].start, o->cov.v[k].end);
    fputs ("]}", fp);
  }
  fputs ("],\n  \"objects\":[", fp);
  for (i = 0; i < a->nobjs; ++i) {
    fprintf (fp, "%s\n    {\"order\":%zu,", i ? "," : "", i + 1);
    object_fields (fp, &a->objs[a->order[i]], rep->map_hashes);
    fputc ('}', fp);
  }
  fputs ("],\n  \"writes\":[", fp);
  if (agg_foreach_write (a, write_entry, &wc) == -1)
    return -1;
  fputs ("],\n  \"warnings\":[", fp);
  for (i = 0; i < rep->nwarnings; ++i) {
    fputs (i ? "," : "", fp);
    json_write_string (fp, rep->warnings[i]);
  }
  fputs ("]\n}\n", fp);
  return ferror (fp) ? -1 : 0;
}
