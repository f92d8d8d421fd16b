/* What the map adds to a trace: disk sizes (the timeline's scale),
 * object sizes and flags (coverage, deleted and unreachable files),
 * partitions, and its own provenance; and the images' checksums.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "report.h"

#define MAX_PARTITIONS 4096

void
report_warn (struct report *rep, const char *fmt, ...)
{
  va_list ap;
  char *msg, **v;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) == -1)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;
  fprintf (stderr, "%s: warning: %s\n", RPROG, msg);
  v = realloc (rep->warnings, (rep->nwarnings + 1) * sizeof *v);
  if (v == NULL) {
    free (msg);
    return;
  }
  rep->warnings = v;
  v[rep->nwarnings++] = msg;
}

int
report_map_open (struct report *rep, struct vbm_map **mapp, const char *path)
{
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_error err;
  struct vbm_map *map;
  int n;
  unsigned d;

  map = vbm_map_open (path, &err);
  if (map == NULL) {
    fprintf (stderr, "%s: %s\n", RPROG, err.msg);
    return -1;
  }
  n = vbm_map_ndisks (map, &err);
  if (n <= 0) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path,
             n == 0 ? "the map has no disks" : err.msg);
    vbm_map_close (map);
    return -1;
  }
  rep->map_path = path;
  rep->ndisks = n;
  rep->disk_size = calloc (n, sizeof *rep->disk_size);
  rep->disk_device = calloc (n, sizeof *rep->disk_device);
  if (rep->disk_size == NULL || rep->disk_device == NULL)
    goto nomem;
  for (d = 0; d < rep->ndisks; ++d) {
    if (vbm_map_get_disk (map, d, &info, &err) == -1) {
      fprintf (stderr, "%s: %s: %s\n", RPROG, path, err.msg);
      vbm_map_close (map);
      return -1;
    }
    rep->disk_size[d] = info.size;
    rep->disk_device[d] = strdup (info.device);
    if (rep->disk_device[d] == NULL)
      goto nomem;
  }
  vbm_map_get_meta (map, "created", rep->map_created,
                    sizeof rep->map_created, &err);
  vbm_map_get_meta (map, "tool_version", rep->map_tool_version,
                    sizeof rep->map_tool_version, &err);
  {
    char algos[64];

    /* Built with --hash: the report shows each file's hash. */
    rep->map_hashes = vbm_map_get_meta (map, "hashes", algos, sizeof algos,
                                        &err) == 0;
  }
  *mapp = map;
  return 0;

 nomem:
  fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
  vbm_map_close (map);
  return -1;
}

struct join {
  struct report *rep;
  struct vbm_map *map;
};

/* The strongest hash the map has for a file read, or why it has none. */
static int
join_hash (struct join *j, struct robj *o, int64_t object_id)
{
  struct vbm_hashes h = VBM_HASHES_INIT;
  struct vbm_error err;
  int r;

  r = vbm_map_get_hashes (j->map, object_id, &h, &err);
  if (r == -1) {
    report_warn (j->rep, "%s", err.msg);
    return 0;
  }
  if (r == 0)
    return 0;
  if (h.sha256[0])
    r = asprintf (&o->hash, "sha256:%s", h.sha256);
  else if (h.sha1[0])
    r = asprintf (&o->hash, "sha1:%s", h.sha1);
  else if (h.md5[0])
    r = asprintf (&o->hash, "md5:%s", h.md5);
  else
    r = asprintf (&o->hash, "not hashed: %s", h.not_hashed);
  if (r == -1) {
    o->hash = NULL;
    return -1;
  }
  return 0;
}

static int
join_hit (void *opaque, const struct vbm_hit *h)
{
  struct join *j = opaque;
  struct report *rep = j->rep;
  struct partition *p;
  struct robj *o;

  if ((h->kind == VBM_KIND_PARTITION || h->kind == VBM_KIND_LV) &&
      rep->nparts < MAX_PARTITIONS) {
    p = rep->nparts ? &rep->parts[rep->nparts - 1] : NULL;
    if (p && p->disk == h->disk && p->end == h->start &&
        strcmp (p->device, h->device) == 0)
      p->end = h->end;
    else {
      p = realloc (rep->parts, (rep->nparts + 1) * sizeof *p);
      if (p == NULL)
        return -1;
      rep->parts = p;
      p = &rep->parts[rep->nparts];
      p->device = strdup (h->device);
      if (p->device == NULL)
        return -1;
      rep->nparts++;
      p->disk = h->disk;
      p->kind = h->kind;
      p->start = h->start;
      p->end = h->end;
    }
  }
  o = agg_find (&rep->agg, h->disk, h->kind, h->device, h->path, h->inode);
  if (o) {
    o->in_map = true;
    o->size = h->object_size;
    o->map_flags = h->object_flags;
    if (rep->map_hashes && h->kind == VBM_KIND_FILE && o->hash == NULL &&
        join_hash (j, o, h->object_id) == -1)
      return -1;
  }
  return 0;
}

/* One pass over the map's extents, in disk order. */
int
report_map_join (struct report *rep, struct vbm_map *map)
{
  struct vbm_error err;
  struct join j = { .rep = rep, .map = map };

  if (vbm_map_foreach (map, join_hit, &j, &err) == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, rep->map_path,
             err.errnum == ECANCELED ? strerror (ENOMEM) : err.msg);
    return -1;
  }
  return 0;
}

/* A path recorded relative to where the map was made: try it from
 * here, then beside the map.
 */
static char *
find_image (const char *path, const char *map_path)
{
  CLEANUP_FREE char *dir = NULL;
  char *r;
  struct stat st;

  if (path[0] == '/' || stat (path, &st) == 0)
    return strdup (path);
  dir = strdup (map_path);
  if (dir == NULL || asprintf (&r, "%s/%s", dirname (dir), path) == -1)
    return NULL;
  if (stat (r, &st) == 0)
    return r;
  free (r);
  return strdup (path);
}

/* A compressed or qemu-format image: its file is not the disk. */
static bool
is_container (const struct rimage *im)
{
  return im->format && strcmp (im->format, "raw") != 0;
}

static void
set_note (struct rimage *im, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) == -1)
    s = NULL;
  va_end (ap);
  free (im->note);
  im->note = s;
}

/* The images' provenance: from the trace header (absolute paths, as
 * bmaplog served them), else from the map.  The checksum is computed
 * here, from the image as it is now; the size and modification time
 * recorded when the trace started say whether that is what was booted.
 */
void
report_images (struct report *rep, struct vbm_map *map, bool checksum)
{
  const struct trace_header *h = &rep->reader.header;
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_error err;
  struct stat st;
  char msg[512];
  unsigned d;

  if (h->present && h->map_created && *rep->map_created &&
      strcmp (h->map_created, rep->map_created) != 0)
    report_warn (rep, "the trace was made with a map created %s; %s was "
                 "created %s", h->map_created, rep->map_path,
                 rep->map_created);
  if (h->present && h->nimages != rep->ndisks)
    report_warn (rep, "the trace served %zu image(s), the map has %u disk(s)",
                 h->nimages, rep->ndisks);

  rep->images = calloc (rep->ndisks, sizeof *rep->images);
  if (rep->images == NULL)
    return;
  for (d = 0; d < rep->ndisks; ++d) {
    struct rimage *im = &rep->images[d];
    const struct trace_image *ti = d < h->nimages ? &h->images[d] : NULL;

    im->disk = d;
    im->mtime = -1;
    if (vbm_map_get_disk (map, d, &info, &err) == -1)
      continue;
    im->size = info.size;
    im->format = strdup (info.format);
    if (ti && ti->path) {
      im->path = strdup (ti->path);
      im->mtime = ti->mtime;
      if (ti->size != info.size)
        report_warn (rep, "disk %u: the trace's image has %" PRIu64
                     " bytes, the map's %" PRIu64, d, ti->size, info.size);
    }
    else {
      im->path = find_image (info.path, rep->map_path);
      im->mtime = info.mtime;
    }
    if (im->path == NULL)
      continue;
    if (!checksum) {
      set_note (im, "checksum not computed (--no-checksum)");
      continue;
    }
    if (stat (im->path, &st) == -1) {
      set_note (im, "no checksum: %s", strerror (errno));
      continue;
    }
    if (!S_ISREG (st.st_mode)) {
      set_note (im, "no checksum: not a regular file");
      continue;
    }
    /* A qcow2 or an xz file is smaller than the disk it holds: its
     * checksum is of the file, which identifies it just as well.
     */
    if (!is_container (im) && (uint64_t) st.st_size != im->size) {
      set_note (im, "no checksum: the file now has %" PRIu64 " bytes, "
                "the traced image had %" PRIu64, (uint64_t) st.st_size,
                im->size);
      continue;
    }
    if (sha256_file (im->path, im->sha256, msg, sizeof msg) == -1) {
      im->sha256[0] = '\0';
      set_note (im, "no checksum: %s", msg);
      continue;
    }
    if (h->mode && strcmp (h->mode, "rw") == 0)
      set_note (im, "served read-write (--rw): the checksum is of the "
                "image after the guest's writes");
    else if (im->mtime >= 0 && st.st_mtime != im->mtime)
      set_note (im, "modified since %s: the checksum is of its current "
                "content", ti ? "the trace started" : "it was mapped");
    else if (im->format && strcmp (im->format, "e01") == 0)
      /* Evidence carries its own hash of the media: say where. */
      set_note (im, "the checksum is of the first segment file, not of "
                "the media it holds (bmaplog --verify checks the media "
                "against the MD5 stored at acquisition)");
    else if (is_container (im))
      set_note (im, "the checksum is of the %s file, not of the disk it "
                "holds", im->format);
  }
}

void
report_free (struct report *rep)
{
  size_t i;

  agg_free (&rep->agg);
  grid_free (&rep->grid);
  trace_close (&rep->reader);
  for (i = 0; i < rep->ndisks; ++i) {
    free (rep->disk_device ? rep->disk_device[i] : NULL);
    if (rep->images) {
      free (rep->images[i].path);
      free (rep->images[i].format);
      free (rep->images[i].note);
    }
  }
  free (rep->disk_device);
  free (rep->disk_size);
  free (rep->images);
  for (i = 0; i < rep->nparts; ++i)
    free (rep->parts[i].device);
  free (rep->parts);
  for (i = 0; i < rep->nwarnings; ++i)
    free (rep->warnings[i]);
  free (rep->warnings);
}
