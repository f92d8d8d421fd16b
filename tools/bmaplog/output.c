/* The two outputs: the human log (requests grouped under the object
 * they touched) and the machine-readable trace (one record per piece).
 * Called with the tracer's lock held.
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "bmaplog.h"
#include "json.h"

void
output_log_piece (struct tracer *t, const struct piece *p)
{
  int64_t object = p->hit ? p->hit->object_id : -1;

  /* A new heading whenever the operation or the object changes. */
  if (!t->have_heading || strcmp (t->heading_op, p->op) != 0 ||
      t->heading_disk != p->disk || t->heading_object != object) {
    t->have_heading = true;
    snprintf (t->heading_op, sizeof t->heading_op, "%s", p->op);
    t->heading_disk = p->disk;
    t->heading_object = object;
    if (p->hit)
      fprintf (t->log, "%s %c %s%s%s\n", p->op, p->hit->kind, p->hit->device,
               p->hit->path ? " " : "", p->hit->path ? p->hit->path : "");
    else if (strcmp (p->op, "flush") == 0)
      fprintf (t->log, "flush\n");
    else
      fprintf (t->log, "%s - disk %u <unmapped>\n", p->op, p->disk);
  }
  if (strcmp (p->op, "flush") == 0 && p->hit == NULL && p->length == 0)
    fprintf (t->log, "    conn %" PRIu64 "%s%s\n", p->conn,
             p->error ? " error: " : "", p->error ? strerror (p->error) : "");
  else {
    fprintf (t->log, "    disk 0x%09" PRIx64 " +%-8" PRIu64, p->offset,
             p->length);
    if (p->object_offset >= 0)
      fprintf (t->log, " at 0x%" PRIx64, (uint64_t) p->object_offset);
    fprintf (t->log, "  conn %" PRIu64, p->conn);
    if (p->error)
      fprintf (t->log, "  error: %s", strerror (p->error));
    fputc ('\n', t->log);
  }
}

void
output_trace_header (struct tracer *t)
{
  if (t->trace_format == TRACE_TSV)
    fputs ("#t_ns\tconn\top\tdisk\toffset\tlength\tkind\tdevice\tpath"
           "\tinode\tobject_offset\terror\n", t->trace);
}

void
output_trace_piece (struct tracer *t, const struct piece *p)
{
  const struct vbm_hit *h = p->hit;
  FILE *fp = t->trace;

  if (t->trace_format == TRACE_TSV) {
    fprintf (fp, "%" PRIu64 "\t%" PRIu64 "\t%s\t%u\t%" PRIu64 "\t%" PRIu64
             "\t%c\t%s\t%s\t%" PRIu64 "\t",
             p->t_ns, p->conn, p->op, p->disk, p->offset, p->length,
             h ? h->kind : '-', h ? h->device : "-",
             h && h->path ? h->path : "-", h ? h->inode : 0);
    if (p->object_offset >= 0)
      fprintf (fp, "%" PRId64, p->object_offset);
    else
      fputc ('-', fp);
    fprintf (fp, "\t%d\n", p->error);
    return;
  }

  fprintf (fp, "{\"t_ns\":%" PRIu64 ",\"conn\":%" PRIu64 ",\"op\":\"%s\""
           ",\"disk\":%u,\"offset\":%" PRIu64 ",\"length\":%" PRIu64
           ",\"kind\":",
           p->t_ns, p->conn, p->op, p->disk, p->offset, p->length);
  if (h) {
    fprintf (fp, "\"%c\",\"device\":", h->kind);
    json_write_string (fp, h->device);
    fputs (",\"path\":", fp);
    if (h->path)
      json_write_string (fp, h->path);
    else
      fputs ("null", fp);
    fprintf (fp, ",\"inode\":%" PRIu64, h->inode);
  }
  else
    fputs ("null,\"device\":null,\"path\":null,\"inode\":0", fp);
  fputs (",\"object_offset\":", fp);
  if (p->object_offset >= 0)
    fprintf (fp, "%" PRId64, p->object_offset);
  else
    fputs ("null", fp);
  fprintf (fp, ",\"error\":%d}\n", p->error);
}
