/* The two outputs: the human log (requests grouped under the object
 * they touched) and the machine-readable trace (one record per piece).
 * Called with the tracer's lock held.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bmaplog.h"
#include "json.h"
#include "tsv.h"

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

/* The image's size, format and modification time, as the map and the
 * file have them now: the report compares them with the image later.
 */
static void
image_info (const struct trace_info *info, int i, struct vbm_disk_info *di,
            int64_t *mtime)
{
  struct vbm_error err;
  struct stat st;

  if (vbm_map_get_disk (info->map, i, di, &err) == -1) {
    di->size = 0;
    snprintf (di->format, sizeof di->format, "raw");
  }
  *mtime = -1;
  if (stat (info->disks[i], &st) == 0 && S_ISREG (st.st_mode))
    *mtime = st.st_mtime;
}

/* Provenance first: when the trace started (wall clock: t_ns counts
 * from here), which tool, which map and which images.  Absolute paths
 * so the report finds them from anywhere.
 */
void
output_trace_header (struct tracer *t, const struct trace_info *info)
{
  static const char *const modes[] = {
    [NBDS_FILE_READONLY] = "ro", [NBDS_FILE_COW] = "cow",
    [NBDS_FILE_RW] = "rw",
  };
  const char *mode = (unsigned) info->mode < 3 ? modes[info->mode] : "?";
  char start[64], created[64] = "", tool_version[64] = "";
  struct vbm_disk_info di;
  struct vbm_error err;
  struct timespec ts;
  struct tm tm;
  FILE *fp = t->trace;
  int64_t mtime;
  char *abs;
  int i;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (start, sizeof start - 16, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (start + strlen (start), 16, ".%06dZ", (int) (ts.tv_nsec / 1000));
  vbm_map_get_meta (info->map, "created", created, sizeof created, &err);
  vbm_map_get_meta (info->map, "tool_version", tool_version,
                    sizeof tool_version, &err);

  if (t->trace_format == TRACE_TSV) {
    fprintf (fp, "#bmaplog_trace\t1\n#version\t%s\n#start\t%s\n#mode\t%s\n",
             PACKAGE_VERSION, start, mode);
    abs = realpath (info->map_path, NULL);
    fputs ("#map\t", fp);
    tsv_write_field (fp, abs ? abs : info->map_path);
    fputc ('\t', fp);
    tsv_write_field (fp, *created ? created : NULL);
    fputc ('\t', fp);
    tsv_write_field (fp, *tool_version ? tool_version : NULL);
    fputc ('\n', fp);
    free (abs);
    for (i = 0; i < info->ndisks; ++i) {
      image_info (info, i, &di, &mtime);
      abs = realpath (info->disks[i], NULL);
      fprintf (fp, "#image\t%d\t", i);
      tsv_write_field (fp, abs ? abs : info->disks[i]);
      fprintf (fp, "\t%s\t%" PRIu64 "\t", di.format, di.size);
      if (mtime >= 0)
        fprintf (fp, "%" PRId64 "\n", mtime);
      else
        fputs ("-\n", fp);
      free (abs);
    }
    fputs ("#t_ns\tconn\top\tdisk\toffset\tlength\tkind\tdevice\tpath"
           "\tinode\tobject_offset\terror\n", fp);
    return;
  }

  fprintf (fp, "{\"bmaplog_trace\":1,\"version\":\"%s\",\"start\":\"%s\""
           ",\"mode\":\"%s\",\"map\":{\"path\":", PACKAGE_VERSION, start, mode);
  abs = realpath (info->map_path, NULL);
  json_write_string (fp, abs ? abs : info->map_path);
  free (abs);
  fputs (",\"created\":", fp);
  json_write_string (fp, created);
  fputs (",\"tool_version\":", fp);
  json_write_string (fp, tool_version);
  fputs ("},\"images\":[", fp);
  for (i = 0; i < info->ndisks; ++i) {
    image_info (info, i, &di, &mtime);
    abs = realpath (info->disks[i], NULL);
    fprintf (fp, "%s{\"disk\":%d,\"path\":", i ? "," : "", i);
    json_write_string (fp, abs ? abs : info->disks[i]);
    fprintf (fp, ",\"format\":\"%s\",\"size\":%" PRIu64 ",\"mtime\":",
             di.format, di.size);
    if (mtime >= 0)
      fprintf (fp, "%" PRId64 "}", mtime);
    else
      fputs ("null}", fp);
    free (abs);
  }
  fputs ("]}\n", fp);
}

void
output_trace_piece (struct tracer *t, const struct piece *p)
{
  const struct vbm_hit *h = p->hit;
  FILE *fp = t->trace;

  if (t->trace_format == TRACE_TSV) {
    fprintf (fp, "%" PRIu64 "\t%" PRIu64 "\t%s\t%u\t%" PRIu64 "\t%" PRIu64
             "\t%c\t",
             p->t_ns, p->conn, p->op, p->disk, p->offset, p->length,
             h ? h->kind : '-');
    tsv_write_field (fp, h ? h->device : NULL);
    fputc ('\t', fp);
    tsv_write_field (fp, h ? h->path : NULL);
    fprintf (fp, "\t%" PRIu64 "\t", h ? h->inode : 0);
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
