/* The two outputs: the human log (requests grouped under the object
 * they touched) and the machine-readable trace (one record per piece).
 * Pieces are formatted by the request's thread into its own buffer,
 * without the tracer's lock; the header is written before serving.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tracer.h"
#include "json.h"
#include "tsv.h"

/* The strings of a piece's object: lengths measured once per piece. */
static void
object_strings (const struct piece *p, const char **device, size_t *dlen,
                const char **path, size_t *plen)
{
  *device = p->hit ? p->hit->device : NULL;
  *path = p->hit ? p->hit->path : NULL;
  *dlen = *device ? strlen (*device) : 0;
  *plen = *path ? strlen (*path) : 0;
}

const char op_read[] = "read", op_write[] = "write", op_trim[] = "trim",
  op_zero[] = "zero", op_cache[] = "cache", op_flush[] = "flush";

int
output_log_heading (text *out, const struct piece *p)
{
  const char *device, *path;
  size_t dlen, plen;

  object_strings (p, &device, &dlen, &path, &plen);
  if (text_room (out, 64 + dlen + plen) == -1)
    return -1;
  /* "%s %c %s%s%s\n", "flush\n" or "%s - disk %u <unmapped>\n" */
  if (p->hit) {
    text_mem (out, p->op, strlen (p->op));
    text_char (out, ' ');
    text_char (out, p->hit->kind);
    text_char (out, ' ');
    text_mem (out, device, dlen);
    if (path) {
      text_char (out, ' ');
      text_mem (out, path, plen);
    }
  }
  else if (p->op == op_flush)
    text_lit (out, "flush");
  else {
    text_mem (out, p->op, strlen (p->op));
    text_lit (out, " - disk ");
    text_u64 (out, p->disk);
    text_lit (out, " <unmapped>");
  }
  text_char (out, '\n');
  return 0;
}

int
output_log_line (text *out, const struct piece *p)
{
  const char *err = p->error ? strerror (p->error) : "";
  size_t elen = strlen (err);

  if (text_room (out, 128 + elen) == -1)
    return -1;
  if (p->op == op_flush && p->hit == NULL && p->length == 0) {
    /* "    conn %" PRIu64 "%s%s\n" */
    text_lit (out, "    conn ");
    text_u64 (out, p->conn);
    if (p->error) {
      text_lit (out, " error: ");
      text_mem (out, err, elen);
    }
  }
  else {
    /* "    disk 0x%09" PRIx64 " +%-8" PRIu64 [" at 0x%" PRIx64]
     * "  conn %" PRIu64 ["  error: %s"]
     */
    text_lit (out, "    disk 0x");
    text_hex (out, p->offset, 9);
    text_lit (out, " +");
    text_u64_left (out, p->length, 8);
    if (p->object_offset >= 0) {
      text_lit (out, " at 0x");
      text_hex (out, p->object_offset, 1);
    }
    text_lit (out, "  conn ");
    text_u64 (out, p->conn);
    if (p->error) {
      text_lit (out, "  error: ");
      text_mem (out, err, elen);
    }
  }
  text_char (out, '\n');
  return 0;
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

int
output_trace_piece (text *out, enum trace_format format,
                    const struct piece *p)
{
  const struct vbm_hit *h = p->hit;
  const char *device, *path;
  size_t dlen, plen;

  /* The numbers first, the strings after: the index has started
   * fetching the path, which is likely not in the cache.
   */
  if (text_room (out, 256) == -1)
    return -1;

  if (format == TRACE_TSV) {
    /* "%" PRIu64 "\t%" PRIu64 "\t%s\t%u\t%" PRIu64 "\t%" PRIu64
     * "\t%c\t" then device and path as tsv_write_field writes them,
     * "\t%" PRIu64 "\t", the object offset or '-', "\t%d\n"
     */
    text_u64 (out, p->t_ns);
    text_char (out, '\t');
    text_u64 (out, p->conn);
    text_char (out, '\t');
    text_mem (out, p->op, strlen (p->op));
    text_char (out, '\t');
    text_u64 (out, p->disk);
    text_char (out, '\t');
    text_u64 (out, p->offset);
    text_char (out, '\t');
    text_u64 (out, p->length);
    text_char (out, '\t');
    text_char (out, h ? h->kind : '-');
    text_char (out, '\t');
    object_strings (p, &device, &dlen, &path, &plen);
    if (text_room (out, 64 + 4 * (dlen + plen)) == -1)
      return -1;
    text_tsv_field (out, device, dlen);
    text_char (out, '\t');
    text_tsv_field (out, path, plen);
    text_char (out, '\t');
    text_u64 (out, h ? h->inode : 0);
    text_char (out, '\t');
    if (p->object_offset >= 0)
      text_u64 (out, p->object_offset);
    else
      text_char (out, '-');
    text_char (out, '\t');
    text_int (out, p->error);
    text_char (out, '\n');
    return 0;
  }

  text_lit (out, "{\"t_ns\":");
  text_u64 (out, p->t_ns);
  text_lit (out, ",\"conn\":");
  text_u64 (out, p->conn);
  text_lit (out, ",\"op\":\"");
  text_mem (out, p->op, strlen (p->op));
  text_lit (out, "\",\"disk\":");
  text_u64 (out, p->disk);
  text_lit (out, ",\"offset\":");
  text_u64 (out, p->offset);
  text_lit (out, ",\"length\":");
  text_u64 (out, p->length);
  text_lit (out, ",\"kind\":");
  object_strings (p, &device, &dlen, &path, &plen);
  if (text_room (out, 128 + 6 * (dlen + plen)) == -1)
    return -1;
  if (h) {
    text_char (out, '"');
    text_char (out, h->kind);
    text_lit (out, "\",\"device\":");
    text_json_string (out, device, dlen);
    text_lit (out, ",\"path\":");
    if (path)
      text_json_string (out, path, plen);
    else
      text_lit (out, "null");
    text_lit (out, ",\"inode\":");
    text_u64 (out, h->inode);
  }
  else
    text_lit (out, "null,\"device\":null,\"path\":null,\"inode\":0");
  text_lit (out, ",\"object_offset\":");
  if (p->object_offset >= 0)
    text_u64 (out, p->object_offset);
  else
    text_lit (out, "null");
  text_lit (out, ",\"error\":");
  text_int (out, p->error);
  text_lit (out, "}\n");
  return 0;
}
