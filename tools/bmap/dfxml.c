/* virt-bmap export --format dfxml: the map as Digital Forensics XML,
 * in the schema fiwalk writes, so that the DFXML tools and
 * bulk_extractor-style consumers read it as fiwalk's.
 *
 * One <volume> per filesystem (a device, partition or LV with a
 * filesystem type), one <fileobject> per name of each file and
 * directory in it (hard links are one per name, as fiwalk lists
 * directory entries), with its byte runs (data extents clipped to the
 * file's size, adjacent ones merged; holes and unwritten ranges as
 * fill='0' runs; data inside a metadata record, NTFS resident data,
 * type='resident' as fiwalk says, but with its place on the disk) and
 * the map's hashes.  Objects are walked once in id
 * order; each volume's file objects go to a temporary file until the
 * end, as a volume's files need not follow each other in the map.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vector.h"
#include "virt-bmap.h"
#include "xml.h"

struct run {
  uint64_t file_offset, len;
  uint64_t img_offset;          /* UINT64_MAX: fill='0' */
  bool resident;                /* inside a metadata record (INLINE) */
};
DEFINE_VECTOR_TYPE (run_vector, struct run);

struct volume {
  char *device;
  char *fstype;
  unsigned disk;
  char kind;
  int64_t id;
  uint64_t offset;              /* of its first byte on the disk */
  bool have_offset;
  FILE *fp;                     /* its file objects so far */
};
DEFINE_VECTOR_TYPE (volume_vector, struct volume);

struct name {
  int64_t object;
  char *path;
};
DEFINE_VECTOR_TYPE (name_vector, struct name);

struct dfxml {
  struct vbm_map *map;
  volume_vector volumes;
  name_vector names;            /* by object */
  size_t next_name;
  /* The object being collected. */
  struct vbm_hit obj;
  char *obj_device, *obj_path;
  run_vector runs;
  uint64_t id;                  /* fileobject ids, from 1 */
  int error;
};

static int
fail_errno (struct dfxml *d)
{
  fprintf (stderr, "%s: export: %s\n", PROG, strerror (errno));
  d->error = 1;
  return -1;
}

static struct volume *
find_volume (struct dfxml *d, const char *device)
{
  size_t i;

  for (i = d->volumes.len; i-- > 0;)
    if (strcmp (d->volumes.ptr[i].device, device) == 0)
      return &d->volumes.ptr[i];
  return NULL;
}

static void
add_run (struct dfxml *d, uint64_t file_offset, uint64_t len,
         uint64_t img_offset, bool resident)
{
  struct run *last = d->runs.len ? &d->runs.ptr[d->runs.len - 1] : NULL;

  if (len == 0)
    return;
  /* Merged as fiwalk merges: contiguous in the file and on the disk. */
  if (last && last->file_offset + last->len == file_offset &&
      !resident && !last->resident &&
      ((img_offset == UINT64_MAX && last->img_offset == UINT64_MAX) ||
       (img_offset != UINT64_MAX && last->img_offset != UINT64_MAX &&
        last->img_offset + last->len == img_offset))) {
    last->len += len;
    return;
  }
  if (run_vector_append (&d->runs, (struct run) {
        .file_offset = file_offset, .len = len, .img_offset = img_offset,
        .resident = resident,
      }) == -1)
    fail_errno (d);
}

static void
write_hashes (struct dfxml *d, FILE *fp, int64_t object)
{
  struct vbm_hashes h = VBM_HASHES_INIT;
  struct vbm_error err;
  int r = vbm_map_get_hashes (d->map, object, &h, &err);

  if (r == -1) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    d->error = 1;
    return;
  }
  if (r == 0)
    return;
  if (h.md5[0])
    fprintf (fp, "      <hashdigest type='md5'>%s</hashdigest>\n", h.md5);
  if (h.sha1[0])
    fprintf (fp, "      <hashdigest type='sha1'>%s</hashdigest>\n", h.sha1);
  if (h.sha256[0])
    fprintf (fp, "      <hashdigest type='sha256'>%s</hashdigest>\n",
             h.sha256);
}

static void
write_fileobject (struct dfxml *d, struct volume *v, const char *path)
{
  const struct vbm_hit *o = &d->obj;
  FILE *fp = v->fp;
  size_t i;

  fputs ("    <fileobject>\n      <filename>", fp);
  /* fiwalk's names are relative to the root; a deleted file's is its
   * name (alloc 0 says it is deleted).
   */
  if ((o->object_flags & VBM_OBJECT_DELETED) &&
      strncmp (path, "<deleted>/", 10) == 0)
    path += 10;
  xml_write_string (fp, path[0] == '/' ? path + 1 : path);
  fprintf (fp, "</filename>\n      <partition>%zu</partition>\n"
           "      <id>%" PRIu64 "</id>\n"
           "      <name_type>%c</name_type>\n"
           "      <filesize>%" PRIu64 "</filesize>\n"
           "      <alloc>%d</alloc>\n      <used>1</used>\n"
           "      <inode>%" PRIu64 "</inode>\n",
           (size_t) (v - d->volumes.ptr) + 1, ++d->id,
           o->kind == VBM_KIND_DIRECTORY ? 'd'
           : o->object_flags & VBM_OBJECT_SYMLINK ? 'l'
           : o->object_flags & VBM_OBJECT_SPECIAL ? '-' : 'r',
           o->object_size, o->object_flags & VBM_OBJECT_DELETED ? 0 : 1,
           o->inode);
  if (o->object_flags & VBM_OBJECT_UNREACHABLE)
    fputs ("      <orphan>1</orphan>\n", fp);
  if (d->runs.len) {
    fputs ("      <byte_runs>\n", fp);
    for (i = 0; i < d->runs.len; ++i) {
      const struct run *r = &d->runs.ptr[i];

      fprintf (fp, "       <byte_run file_offset='%" PRIu64 "'",
               r->file_offset);
      if (r->img_offset == UINT64_MAX)
        fputs (" fill='0'", fp);
      else {
        /* Inside an LV the filesystem offset is not the disk's. */
        if (v->kind != VBM_KIND_LV && v->have_offset &&
            r->img_offset >= v->offset)
          fprintf (fp, " fs_offset='%" PRIu64 "'", r->img_offset - v->offset);
        fprintf (fp, " img_offset='%" PRIu64 "'", r->img_offset);
      }
      fprintf (fp, " len='%" PRIu64 "'%s/>\n", r->len,
               r->resident ? " type='resident'" : "");
    }
    fputs ("      </byte_runs>\n", fp);
  }
  write_hashes (d, fp, o->object_id);
  fputs ("    </fileobject>\n", fp);
}

/* The object collected is complete: its file objects. */
static void
flush_object (struct dfxml *d)
{
  const struct vbm_hit *o = &d->obj;
  struct volume *v;
  uint64_t end;

  if (d->obj_device == NULL)
    return;
  v = find_volume (d, d->obj_device);
  if (v && d->obj_path && strcmp (d->obj_path, "/") != 0) {
    /* A hole at the end reads as zeroes too. */
    end = d->runs.len ? d->runs.ptr[d->runs.len - 1].file_offset +
      d->runs.ptr[d->runs.len - 1].len : 0;
    if (end < o->object_size)
      add_run (d, end, o->object_size - end, UINT64_MAX, false);
    write_fileobject (d, v, d->obj_path);
    while (d->next_name < d->names.len &&
           d->names.ptr[d->next_name].object < o->object_id)
      d->next_name++;
    for (; d->next_name < d->names.len &&
           d->names.ptr[d->next_name].object == o->object_id; d->next_name++)
      write_fileobject (d, v, d->names.ptr[d->next_name].path);
  }
  free (d->obj_device);
  free (d->obj_path);
  d->obj_device = d->obj_path = NULL;
  d->runs.len = 0;
}

static int
add_volume (struct dfxml *d, const struct vbm_hit *h)
{
  struct volume v = {
    .device = strdup (h->device), .fstype = strdup (h->fstype),
    .disk = h->disk, .kind = h->kind, .id = h->object_id,
    .fp = tmpfile (),
  };

  if (v.device == NULL || v.fstype == NULL || v.fp == NULL ||
      volume_vector_append (&d->volumes, v) == -1) {
    free (v.device);
    free (v.fstype);
    if (v.fp)
      fclose (v.fp);
    return fail_errno (d);
  }
  return 0;
}

static int
on_hit (void *opaque, const struct vbm_hit *h)
{
  struct dfxml *d = opaque;
  const bool first = h->object_id != d->obj.object_id ||
    d->obj_device == NULL;
  uint64_t off, len, next;

  if (h->object_id != d->obj.object_id) {
    flush_object (d);
    d->obj.object_id = h->object_id;
    if (h->fstype && add_volume (d, h) == -1)
      return -1;
  }
  /* A volume's offset: where its first byte is. */
  if (d->volumes.len && d->volumes.ptr[d->volumes.len - 1].id == h->object_id
      && h->object_offset == 0 && h->start < h->end) {
    struct volume *v = &d->volumes.ptr[d->volumes.len - 1];

    if (!v->have_offset) {
      v->offset = h->start;
      v->have_offset = true;
    }
  }
  if (h->kind != VBM_KIND_FILE && h->kind != VBM_KIND_DIRECTORY)
    return 0;
  if (first) {
    d->obj = *h;
    d->obj_device = strdup (h->device);
    d->obj_path = h->path ? strdup (h->path) : NULL;
    if (d->obj_device == NULL || (h->path && d->obj_path == NULL))
      return fail_errno (d);
  }
  if (h->start == h->end || h->object_offset < 0 ||
      (h->extent_flags & (VBM_EXTENT_PAST_EOF | VBM_EXTENT_TREE |
                          VBM_EXTENT_XATTR)))
    return 0;
  off = h->object_offset;
  if (off >= h->object_size)
    return 0;
  len = h->end - h->start;
  if (len > h->object_size - off)
    len = h->object_size - off;
  next = d->runs.len ? d->runs.ptr[d->runs.len - 1].file_offset +
    d->runs.ptr[d->runs.len - 1].len : 0;
  if (off > next)
    add_run (d, next, off - next, UINT64_MAX, false);
  else if (off < next)
    return 0;                   /* overlapping extents: the first wins */
  add_run (d, off, len, h->extent_flags & VBM_EXTENT_UNWRITTEN
           ? UINT64_MAX : h->start,
           (h->extent_flags & VBM_EXTENT_INLINE) != 0);
  return d->error ? -1 : 0;
}

static int
on_name (void *opaque, int64_t object, const char *path)
{
  struct dfxml *d = opaque;
  struct name n = { .object = object, .path = strdup (path) };

  if (n.path == NULL || name_vector_append (&d->names, n) == -1) {
    free (n.path);
    return fail_errno (d);
  }
  return 0;
}

static void
write_header (struct dfxml *d, FILE *fp, const char *command_line)
{
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_error err;
  char created[64];
  int n, i;

  fputs ("<?xml version='1.0' encoding='UTF-8'?>\n"
         "<dfxml\n"
         "  xmlns='http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML'\n"
         "  xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'\n"
         "  xmlns:dc='http://purl.org/dc/elements/1.1/'\n"
         "  version='1.0'>\n"
         "  <metadata>\n"
         "    <dc:type>Disk Image</dc:type>\n"
         "  </metadata>\n"
         "  <creator version='1.0'>\n"
         "    <program>virt-bmap</program>\n", fp);
  fprintf (fp, "    <version>%s</version>\n"
           "    <execution_environment>\n"
           "      <command_line>", vbm_version ());
  xml_write_string (fp, command_line);
  fputs ("</command_line>\n", fp);
  if (vbm_map_get_meta (d->map, "created", created, sizeof created,
                        &err) == 0) {
    fputs ("      <start_time>", fp);
    xml_write_string (fp, created);
    fputs ("</start_time>\n", fp);
  }
  fputs ("    </execution_environment>\n  </creator>\n  <source>\n", fp);
  n = vbm_map_ndisks (d->map, &err);
  for (i = 0; i < n; ++i)
    if (vbm_map_get_disk (d->map, i, &info, &err) == 0) {
      fputs ("    <image_filename>", fp);
      xml_write_string (fp, info.path);
      fputs ("</image_filename>\n", fp);
    }
  fputs ("  </source>\n", fp);
}

static int
copy_stream (FILE *from, FILE *to)
{
  char buf[65536];
  size_t n;

  rewind (from);
  while ((n = fread (buf, 1, sizeof buf, from)) > 0)
    if (fwrite (buf, 1, n, to) != n)
      return -1;
  return ferror (from) ? -1 : 0;
}

int64_t
export_dfxml (struct vbm_map *map, FILE *fp, const char *command_line,
              struct vbm_error *err)
{
  struct dfxml d = { .map = map };
  int64_t n;
  size_t i;

  n = vbm_map_foreach_name (map, on_name, &d, err);
  if (n >= 0)
    n = vbm_map_foreach_object (map, on_hit, &d, err);
  if (n >= 0)
    flush_object (&d);
  if (n >= 0 && d.error) {
    snprintf (err->msg, sizeof err->msg, "export failed");
    n = -1;
  }
  if (n >= 0) {
    write_header (&d, fp, command_line);
    for (i = 0; i < d.volumes.len; ++i) {
      struct volume *v = &d.volumes.ptr[i];

      fprintf (fp, "  <volume offset='%" PRIu64 "'>\n"
               "    <partition_offset>%" PRIu64 "</partition_offset>\n"
               "    <ftype_str>", v->offset, v->offset);
      xml_write_string (fp, v->fstype);
      fputs ("</ftype_str>\n    <device>", fp);
      xml_write_string (fp, v->device);
      fputs ("</device>\n", fp);
      if (v->disk > 0)
        fprintf (fp, "    <disk>%u</disk>\n", v->disk);
      if (copy_stream (v->fp, fp) == -1) {
        snprintf (err->msg, sizeof err->msg, "export: temporary file: %s",
                  strerror (errno));
        n = -1;
        break;
      }
      fputs ("  </volume>\n", fp);
    }
    if (n >= 0)
      fputs ("</dfxml>\n", fp);
  }
  for (i = 0; i < d.volumes.len; ++i) {
    free (d.volumes.ptr[i].device);
    free (d.volumes.ptr[i].fstype);
    fclose (d.volumes.ptr[i].fp);
  }
  free (d.volumes.ptr);
  for (i = 0; i < d.names.len; ++i)
    free (d.names.ptr[i].path);
  free (d.names.ptr);
  free (d.runs.ptr);
  free (d.obj_device);
  free (d.obj_path);
  return n;
}
