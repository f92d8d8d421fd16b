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

#include "internal.h"
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

int
output_log_heading (text *out, const struct piece *p)
{
  const char *op = trace_op_names[p->op];
  const char *device, *path;
  size_t dlen, plen;

  object_strings (p, &device, &dlen, &path, &plen);
  if (text_room (out, 64 + dlen + plen) == -1)
    return -1;
  /* "%s %c %s%s%s\n", "flush\n" or "%s - disk %u <unmapped>\n" */
  text_mem (out, op, strlen (op));
  if (p->hit) {
    text_char (out, ' ');
    text_char (out, p->hit->kind);
    text_char (out, ' ');
    text_mem (out, device, dlen);
    if (path) {
      text_char (out, ' ');
      text_mem (out, path, plen);
    }
  }
  else if (p->op != TRACE_OP_FLUSH) {
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
  const char *former = p->hit ? p->hit->former : NULL;
  size_t elen = strlen (err), flen = former ? strlen (former) : 0;

  if (text_room (out, 128 + elen + flen) == -1)
    return -1;
  if (p->op == TRACE_OP_FLUSH && p->hit == NULL && p->length == 0) {
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
     * "  conn %" PRIu64 ["  error: %s"] ["  formerly %s"]
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
    if (former) {
      text_lit (out, "  formerly ");
      text_mem (out, former, flen);
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

/* A JSON key and its colon, as a literal. */
#define JKEY(k) "\"" k "\":"

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
  struct vbm_disk_info di = VBM_DISK_INFO_INIT;
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
    fprintf (fp, "#" TRACE_MAGIC "\t%d\n#" TRACE_H_VERSION "\t%s\n"
             "#" TRACE_H_START "\t%s\n#" TRACE_H_MODE "\t%s\n",
             TRACE_VERSION, PACKAGE_VERSION, start, mode);
    abs = realpath (info->map_path, NULL);
    fputs ("#" TRACE_H_MAP "\t", fp);
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
      fprintf (fp, "#" TRACE_H_IMAGE "\t%d\t", i);
      tsv_write_field (fp, abs ? abs : info->disks[i]);
      fprintf (fp, "\t%s\t%" PRIu64 "\t", di.format, di.size);
      if (mtime >= 0)
        fprintf (fp, "%" PRId64 "\n", mtime);
      else
        fputs (TRACE_TSV_NONE "\n", fp);
      free (abs);
    }
    /* The column names last. */
    for (i = 0; i < TRACE_NR_FIELDS; ++i) {
      fputc (i ? '\t' : '#', fp);
      fputs (trace_field_names[i], fp);
    }
    fputc ('\n', fp);
    return;
  }

  fprintf (fp, "{" JKEY (TRACE_MAGIC) "%d," JKEY (TRACE_H_VERSION) "\"%s\","
           JKEY (TRACE_H_START) "\"%s\"," JKEY (TRACE_H_MODE) "\"%s\","
           JKEY (TRACE_H_MAP) "{" JKEY (TRACE_H_PATH),
           TRACE_VERSION, PACKAGE_VERSION, start, mode);
  abs = realpath (info->map_path, NULL);
  json_write_string (fp, abs ? abs : info->map_path);
  free (abs);
  fputs ("," JKEY (TRACE_H_CREATED), fp);
  json_write_string (fp, created);
  fputs ("," JKEY (TRACE_H_TOOL_VERSION), fp);
  json_write_string (fp, tool_version);
  fputs ("}," JKEY (TRACE_H_IMAGES) "[", fp);
  for (i = 0; i < info->ndisks; ++i) {
    image_info (info, i, &di, &mtime);
    abs = realpath (info->disks[i], NULL);
    fprintf (fp, "%s{" JKEY (TRACE_H_DISK) "%d," JKEY (TRACE_H_PATH),
             i ? "," : "", i);
    json_write_string (fp, abs ? abs : info->disks[i]);
    fprintf (fp, "," JKEY (TRACE_H_FORMAT) "\"%s\"," JKEY (TRACE_H_SIZE)
             "%" PRIu64 "," JKEY (TRACE_H_MTIME), di.format, di.size);
    if (mtime >= 0)
      fprintf (fp, "%" PRId64 "}", mtime);
    else
      fputs ("null}", fp);
    free (abs);
  }
  fputs ("]}\n", fp);
}

/* A piece's fields, written in the order of TRACE_FIELDS for either
 * format: each put_ID writes one value, the caller the key or the
 * separator.  json is a constant in each caller, so the format's tests
 * fold away.
 */
struct fields {
  text *out;
  const struct piece *p;
  bool json;
  const char *device, *path;
  size_t dlen, plen;
};

/* A missing value. */
static inline void
put_none (struct fields *f)
{
  if (f->json)
    text_lit (f->out, "null");
  else
    text_lit (f->out, TRACE_TSV_NONE);
}

/* A string the format does not escape (ours), quoted in JSON. */
static inline void
put_word (struct fields *f, const char *s, size_t len)
{
  if (f->json)
    text_char (f->out, '"');
  text_mem (f->out, s, len);
  if (f->json)
    text_char (f->out, '"');
}

/* A string from the map, escaped; NULL is a missing value. */
static inline void
put_string (struct fields *f, const char *s, size_t len)
{
  if (!f->json)
    text_tsv_field (f->out, s, len);
  else if (s)
    text_json_string (f->out, s, len);
  else
    put_none (f);
}

/* The fields that are a piece's number, the same in both formats. */
#define PUT_NUMBER(id, member)                  \
  static inline int                             \
  put_##id (struct fields *f)                   \
  {                                             \
    text_u64 (f->out, f->p->member);            \
    return 0;                                   \
  }
PUT_NUMBER (T_NS, t_ns)
PUT_NUMBER (CONN, conn)
PUT_NUMBER (DISK, disk)
PUT_NUMBER (OFFSET, offset)
PUT_NUMBER (LENGTH, length)
#undef PUT_NUMBER

static inline int
put_OP (struct fields *f)
{
  const char *op = trace_op_names[f->p->op];

  put_word (f, op, strlen (op));
  return 0;
}

static inline int
put_KIND (struct fields *f)
{
  if (f->p->hit)
    put_word (f, &f->p->hit->kind, 1);
  else
    put_none (f);
  return 0;
}

/* The strings come after the numbers: the index has started fetching
 * the path, which is likely not in the cache.  Room for the rest of
 * the record is taken here, once their lengths are known.
 */
static inline int
put_DEVICE (struct fields *f)
{
  object_strings (f->p, &f->device, &f->dlen, &f->path, &f->plen);
  if (text_room (f->out, 128 + 6 * (f->dlen + f->plen)) == -1)
    return -1;
  put_string (f, f->device, f->dlen);
  return 0;
}

static inline int
put_PATH (struct fields *f)
{
  put_string (f, f->path, f->plen);
  return 0;
}

static inline int
put_INODE (struct fields *f)
{
  text_u64 (f->out, f->p->hit ? f->p->hit->inode : 0);
  return 0;
}

static inline int
put_OBJECT_OFFSET (struct fields *f)
{
  if (f->p->object_offset >= 0)
    text_u64 (f->out, f->p->object_offset);
  else
    put_none (f);
  return 0;
}

static inline int
put_ERROR (struct fields *f)
{
  text_int (f->out, f->p->error);
  return 0;
}

/* A deleted file whose data was here: "free space, formerly /x". */
static inline int
put_FORMER (struct fields *f)
{
  const char *s = f->p->hit ? f->p->hit->former : NULL;
  size_t len = s ? strlen (s) : 0;

  if (s && text_room (f->out, 16 + 6 * len) == -1)
    return -1;
  put_string (f, s, len);
  return 0;
}

/* In JSON every key comes with a ',' before it, one literal: the
 * first ',' becomes the record's '{'.
 */
static int
piece_jsonl (text *out, const struct piece *p)
{
  struct fields f = { .out = out, .p = p, .json = true };
  const size_t start = out->len;

#define PUT_JSON(id, name)                      \
  text_lit (out, "," JKEY (name));              \
  if (put_##id (&f) == -1)                      \
    return -1;

  TRACE_FIELDS (PUT_JSON)
#undef PUT_JSON
  out->ptr[start] = '{';
  text_lit (out, "}\n");
  return 0;
}

/* In TSV every field is followed by a tab: the last one becomes the
 * record's '\n'.
 */
static int
piece_tsv (text *out, const struct piece *p)
{
  struct fields f = { .out = out, .p = p, .json = false };

#define PUT_TSV(id, name)                       \
  if (put_##id (&f) == -1)                      \
    return -1;                                  \
  text_char (out, '\t');

  TRACE_FIELDS (PUT_TSV)
#undef PUT_TSV
  out->ptr[out->len - 1] = '\n';
  return 0;
}

int
output_trace_piece (text *out, enum trace_format format,
                    const struct piece *p)
{
  /* Room for the numbers; put_DEVICE takes the rest. */
  if (text_room (out, 256) == -1)
    return -1;
  if (format == TRACE_TSV)
    return piece_tsv (out, p);
  return piece_jsonl (out, p);
}
