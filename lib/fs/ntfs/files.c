/* NTFS files: each MFT record reached by a name becomes one object
 * (system files, records 0-15 and those in $Extend, are metadata named
 * "<$MFT>", "<$Extend/$ObjId>"), further names are hard links.
 *
 * Extents: the unnamed $DATA at object offset vcn * cluster size, the
 * part past the initialized size UNWRITTEN (it reads as zeroes), past
 * the data size rounded up to a cluster PAST_EOF; sparse runs
 * unmapped; compressed streams are mapped as stored (whole compression
 * units) and flagged COMPRESSED; encrypted ones (EFS) are ciphertext,
 * flagged ENCRYPTED.
 * A named stream is its own object "path:stream".  A directory's $I30
 * index allocation belongs to the directory.  Every other
 * non-resident attribute (an attribute list, a bitmap, $EFS, a view
 * index) is a stream of its own too, named as Windows names them,
 * "path:name:$TYPE" ("/file::$ATTRIBUTE_LIST"), so that its extents
 * have their offset in the attribute.  Resident $DATA is mapped as
 * INLINE bytes inside its MFT record.
 *
 * In-use base records that no name reaches (a corrupt directory) are
 * mapped all the same, as "<unreachable record N>", flagged
 * UNREACHABLE.
 *
 * The MFT records of a user file or directory (base and extension
 * records) are also mapped to it, INLINE at offset -1: their bytes
 * belong to <$MFT>, but a read of a record is attributed to the file
 * it describes.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntfs-map.h"

#include <ntfs-3g/attrib.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>

/* Bounds against corrupt records and attribute lists. */
#define MAX_ATTRS 4096
#define MAX_RUNS (UINT64_C (1) << 24)
#define PROGRESS_EVERY 4096

struct file {
  struct ntfs_map *m;
  ntfs_inode *ni;               /* NULL if read by ntfs-record.c */
  uint64_t no;                  /* its record */
  FILE_ATTR_FLAGS file_flags;
  struct ntfs_mft_reader reader;
  struct ntfs_attr_info *attrs;
  size_t nattrs;
  const char *path;             /* primary path, or pathbuf */
  char *pathbuf;                /* "<$name>", "<unreachable record N>" */
  bool system, dir;
  uint64_t dangling;
  uint8_t *seen;                /* records mapped, one bit each */
  uint64_t nrecords;            /* bits in seen */
  uint64_t unreachable;
};

static const ntfschar I30[] = {
  const_cpu_to_le16 ('$'), const_cpu_to_le16 ('I'),
  const_cpu_to_le16 ('3'), const_cpu_to_le16 ('0'),
};

/* Was the first extent of x's attribute collected? */
static bool
seen_attr (const struct file *f, const struct ntfs_attr_info *x)
{
  size_t i;

  for (i = 0; i < f->nattrs; i++)
    if (f->attrs[i].type == x->type && f->attrs[i].name_len == x->name_len &&
        memcmp (f->attrs[i].name, x->name, 2 * x->name_len) == 0)
      return true;
  return false;
}

static int
collect_attrs (struct file *f)
{
  ntfs_attr_search_ctx *actx = ntfs_attr_get_search_ctx (f->ni, NULL);
  const uint64_t recsize = f->m->nv->mft_record_size;
  size_t steps = 0, orphans = 0;
  int r;

  f->nattrs = 0;
  if (actx == NULL)
    return -1;
  errno = 0;
  while ((r = ntfs_attrs_walk (actx)) == 0) {
    const ATTR_RECORD *a = actx->attr;
    struct ntfs_attr_info *x = &f->attrs[f->nattrs];

    if (++steps > 4 * MAX_ATTRS || f->nattrs >= MAX_ATTRS) {
      ntfs_warn (f->m, "%s: too many attributes: not all mapped", f->path);
      break;
    }
    if (a->type == AT_END)
      break;
    x->type = a->type;
    x->flags = a->flags;
    x->name_len = a->name_length;
    x->rl = NULL;
    x->record = x->value_off = x->value_len = x->data_size = 0;
    x->usa_ofs = 0;
    if (x->name_len) {
      uint64_t noff = le16_to_cpu (a->name_offset);

      if (noff + 2 * x->name_len > le32_to_cpu (a->length))
        continue;
      memcpy (x->name, (const u8 *) a + noff, 2 * x->name_len);
    }
    x->resident = !a->non_resident;
    if (x->resident) {
      uint64_t aoff = (const u8 *) a - (const u8 *) actx->mrec;

      x->record = actx->ntfs_ino->mft_no;
      x->usa_ofs = le16_to_cpu (actx->mrec->usa_ofs);
      x->value_off = aoff + le16_to_cpu (a->value_offset);
      x->value_len = le32_to_cpu (a->value_length);
      if (x->value_off > recsize || x->value_len > recsize - x->value_off)
        continue;
    }
    else {
      /* A later extent: its first one comes first in the walk. */
      if (sle64_to_cpu (a->lowest_vcn) != 0) {
        if (!seen_attr (f, x))
          orphans++;
        continue;
      }
      x->data_size = sle64_to_cpu (a->data_size);
    }
    f->nattrs++;
  }
  /* The walk follows the attribute list into the extension records:
   * a bad entry or record ends it early.
   */
  if (orphans)
    ntfs_warn (f->m, "%s: %zu attribute extent(s) without a first extent "
               "(corrupt attribute list?): not mapped", f->path, orphans);
  if (r == -1 && errno != ENOENT)
    ntfs_warn (f->m, "%s: %s: not all of its attributes mapped", f->path,
               f->ni->attr_list
               ? "corrupt attribute list or extension record"
               : "corrupt MFT record");
  ntfs_attr_put_search_ctx (actx);
  return 0;
}

/* ---- Streams. ---- */

/* Where a byte of $MFT is on the volume, and how many bytes follow it
 * in the same cluster.
 */
static bool
mft_to_volume (struct ntfs_map *m, uint64_t pos, uint64_t *at,
               uint64_t *avail)
{
  LCN lcn = ntfs_attr_vcn_to_lcn (m->nv->mft_na, pos / m->cs);

  if (lcn < 0 || (uint64_t) lcn >= m->nclusters)
    return false;
  *at = (uint64_t) lcn * m->cs + pos % m->cs;
  *avail = m->cs - pos % m->cs;
  return true;
}

/* Bytes [rpos, rpos+n) of MFT record no, at object offset off (-1 for
 * none), split where $MFT's clusters are; *outside set, and the rest
 * not mapped, where $MFT has no cluster.
 */
static int
map_record_bytes (struct ntfs_map *m, int64_t obj, uint64_t no,
                  uint64_t rpos, uint64_t n, int64_t off, unsigned flags,
                  bool *outside)
{
  const uint64_t pos = no * m->nv->mft_record_size + rpos;
  uint64_t done = 0, at, avail;

  while (done < n) {
    uint64_t len = n - done;

    if (!mft_to_volume (m, pos + done, &at, &avail)) {
      *outside = true;
      return 0;
    }
    if (len > avail)
      len = avail;
    if (vbm_fsmap_bytes (m->fm, obj, at, len,
                         off < 0 ? -1 : off + (int64_t) done, flags) == -1)
      return -1;
    done += len;
  }
  return 0;
}

/* Resident data, INLINE in its record.  The last two bytes of each
 * NTFS_BLOCK_SIZE stride of a record hold the update sequence number
 * on disk; the value's real bytes there are in the record's update
 * sequence array: those two bytes of the stream are mapped there, so
 * that the stream can be read back from its extents.  (The record
 * passed libntfs-3g's fixup checks: the array has one entry per
 * stride.)
 */
static int
map_resident (struct file *f, int64_t obj, const struct ntfs_attr_info *x,
              unsigned flags)
{
  struct ntfs_map *m = f->m;
  const uint64_t recsize = m->nv->mft_record_size;
  uint64_t done = 0;
  bool outside = false;

  flags |= VBM_EXTENT_INLINE;
  while (done < x->value_len && !outside) {
    uint64_t rpos = x->value_off + done, n = x->value_len - done;
    uint64_t in = rpos % NTFS_BLOCK_SIZE, stride = rpos / NTFS_BLOCK_SIZE;

    if (in >= NTFS_BLOCK_SIZE - 2) {
      /* Entry stride + 1 of the array (entry 0 is the number). */
      uint64_t usa = x->usa_ofs + 2 * (stride + 1) +
        (in - (NTFS_BLOCK_SIZE - 2));

      if (n > NTFS_BLOCK_SIZE - in)
        n = NTFS_BLOCK_SIZE - in;
      if (usa + n > recsize) {
        ntfs_warn (m, "%s: MFT record %" PRIu64 ": update sequence array "
                   "out of the record", f->path, x->record);
        return 0;
      }
      rpos = usa;
    }
    else if (n > NTFS_BLOCK_SIZE - 2 - in)
      n = NTFS_BLOCK_SIZE - 2 - in;
    if (map_record_bytes (m, obj, x->record, rpos, n, done, flags,
                          &outside) == -1)
      return -1;
    done += n;
  }
  if (outside)
    ntfs_warn (m, "%s: MFT record %" PRIu64 " is not in $MFT",
               f->path, x->record);
  return 0;
}

/* The MFT record no, INLINE at offset -1. */
static int
map_record (struct file *f, int64_t obj, uint64_t no)
{
  bool outside = false;         /* reported by the caller if it matters */

  return map_record_bytes (f->m, obj, no, 0, f->m->nv->mft_record_size, -1,
                           VBM_EXTENT_INLINE, &outside);
}

static int
map_records (struct file *f, int64_t obj)
{
  ntfs_inode *ni = f->ni;
  int32_t i;

  if (map_record (f, obj, f->no) == -1)
    return -1;
  if (ni == NULL)
    return 0;
  for (i = 0; i < ni->nr_extents; i++)
    if (ni->extent_nis[i] &&
        map_record (f, obj, ni->extent_nis[i]->mft_no) == -1)
      return -1;
  return 0;
}

/* EFS encrypts the $DATA streams of a file flagged encrypted, and
 * flags each of them (libntfs-3g refuses to read either).
 */
static unsigned
encrypted_flag (const struct file *f, const struct ntfs_attr_info *x)
{
  if ((x->flags & ATTR_IS_ENCRYPTED) ||
      (x->type == AT_DATA && !f->dir &&
       (f->file_flags & FILE_ATTR_ENCRYPTED)))
    return VBM_EXTENT_ENCRYPTED;
  return 0;
}

static int
map_runs (struct file *f, int64_t obj, const struct ntfs_attr_info *x,
          const runlist_element *rl, ATTR_FLAGS data_flags,
          int64_t data_size, int64_t init_size)
{
  struct ntfs_map *m = f->m;
  uint64_t runs = 0;
  unsigned flags = encrypted_flag (f, x);
  int r = 0;

  if (data_flags & ATTR_COMPRESSION_MASK)
    flags |= VBM_EXTENT_COMPRESSED;
  else if (init_size >= 0 && data_size >= 0) {
    /* The tail of the last cluster is the file's: a byte split there
     * would double the extents of small files.  Unwritten bytes are
     * split exactly: on disk they may hold anything.
     */
    uint64_t past_eof = ((uint64_t) data_size + m->cs - 1) / m->cs * m->cs;

    vbm_fsmap_stream (m->fm, init_size < data_size
                      ? (uint64_t) init_size : past_eof, past_eof);
  }

  for (; rl->length > 0; rl++) {
    uint64_t off;

    if (++runs > MAX_RUNS) {
      ntfs_warn (m, "%s: too many runs: not all mapped", f->path);
      break;
    }
    if (rl->lcn == LCN_HOLE)
      continue;
    if (rl->lcn < 0 || rl->vcn < 0) {
      ntfs_warn (m, "%s: runlist of attribute 0x%x not fully mapped "
                 "(corrupt extent or attribute list?)", f->path,
                 (unsigned) le32_to_cpu (x->type));
      break;
    }
    off = (uint64_t) rl->vcn * m->cs;
    if (vbm_fsmap_units (m->fm, obj, rl->lcn, rl->length, off,
                         flags) == -1) {
      r = -1;
      break;
    }
  }
  vbm_fsmap_end_stream (m->fm);
  return r;
}

static int
map_nonresident (struct file *f, int64_t obj, const struct ntfs_attr_info *x)
{
  struct ntfs_map *m = f->m;
  ntfs_attr *na;
  int r;

  /* Read by ntfs-record.c: plain, the runlist complete. */
  if (x->rl)
    return map_runs (f, obj, x, x->rl, 0, x->data_size, x->init_size);

  na = ntfs_attr_open (f->ni, x->type, (ntfschar *) x->name, x->name_len);
  if (na == NULL) {
    ntfs_warn (m, "%s: cannot open attribute 0x%x: %s", f->path,
               (unsigned) le32_to_cpu (x->type), strerror (errno));
    return 0;
  }
  if (ntfs_attr_map_whole_runlist (na) == -1 || na->rl == NULL) {
    ntfs_warn (m, "%s: bad runlist of attribute 0x%x: %s", f->path,
               (unsigned) le32_to_cpu (x->type), strerror (errno));
    ntfs_attr_close (na);
    return 0;
  }
  r = map_runs (f, obj, x, na->rl, na->data_flags, na->data_size,
                na->initialized_size);
  ntfs_attr_close (na);
  return r;
}

/* A stream of the file (its data or index allocation, or a named one). */
static int
map_stream (struct file *f, int64_t obj, const struct ntfs_attr_info *x)
{
  if (x->resident)
    return map_resident (f, obj, x, encrypted_flag (f, x));
  return map_nonresident (f, obj, x);
}

static bool
is_i30 (const struct ntfs_attr_info *x)
{
  return x->name_len == 4 && memcmp (x->name, I30, sizeof I30) == 0;
}

/* Windows' names of the attribute types, for "path:name:$TYPE". */
static const char *
type_name (ATTR_TYPES type, char *buf, size_t len)
{
  switch (le32_to_cpu (type)) {
  case 0x10: return "$STANDARD_INFORMATION";
  case 0x20: return "$ATTRIBUTE_LIST";
  case 0x30: return "$FILE_NAME";
  case 0x40: return "$OBJECT_ID";
  case 0x50: return "$SECURITY_DESCRIPTOR";
  case 0x60: return "$VOLUME_NAME";
  case 0x70: return "$VOLUME_INFORMATION";
  case 0x80: return "$DATA";
  case 0x90: return "$INDEX_ROOT";
  case 0xa0: return "$INDEX_ALLOCATION";
  case 0xb0: return "$BITMAP";
  case 0xc0: return "$REPARSE_POINT";
  case 0xd0: return "$EA_INFORMATION";
  case 0xe0: return "$EA";
  case 0xf0: return "$PROPERTY_SET";
  case 0x100: return "$LOGGED_UTILITY_STREAM";
  }
  snprintf (buf, len, "$0x%x", (unsigned) le32_to_cpu (type));
  return buf;
}

/* A stream of its own: a named $DATA "path:stream", or another
 * attribute "path:name:$TYPE".
 */
static int
map_stream_object (struct file *f, const struct ntfs_attr_info *x)
{
  struct ntfs_map *m = f->m;
  char *sname = NULL, *path, tbuf[16];
  const char *type = "";
  int64_t obj;
  size_t len;
  int r;

  if (x->name_len &&
      (ntfs_ucstombs (x->name, x->name_len, &sname, 0) < 0 || !sname)) {
    ntfs_warn (m, "%s: stream with an unusable name not mapped", f->path);
    return 0;
  }
  if (x->type != AT_DATA)
    type = type_name (x->type, tbuf, sizeof tbuf);
  len = strlen (f->path);
  /* "<$Extend/$UsnJrnl>" + "$J" -> "<$Extend/$UsnJrnl:$J>" */
  r = asprintf (&path, "%.*s:%s%s%s%s", (int) (len - f->system), f->path,
                sname ? sname : "", *type ? ":" : "", type,
                f->system ? ">" : "");
  free (sname);
  if (r == -1) {
    vbm_set_error (m->ctx->err, ENOMEM, "building paths");
    return -1;
  }
  obj = vbm_fsmap_object (m->fm, f->system ? VBM_KIND_METADATA : VBM_KIND_FILE,
                          path, f->no,
                          x->resident ? x->value_len : x->data_size, 0);
  if (obj == -1 || map_stream (f, obj, x) == -1) {
    free (path);
    return -1;
  }
  vbm_fsmap_end_object (m->fm, path);
  free (path);
  return 0;
}

/* Streams that are objects of their own: named $DATA, and the
 * non-resident attributes other than the file's data and index.
 */
static bool
is_own_stream (const struct ntfs_attr_info *x)
{
  if (x->type == AT_DATA)
    return x->name_len > 0;
  return !x->resident && !(x->type == AT_INDEX_ALLOCATION && is_i30 (x));
}

static int
map_attrs (struct file *f, int64_t obj)
{
  size_t i;

  for (i = 0; i < f->nattrs; i++) {
    const struct ntfs_attr_info *x = &f->attrs[i];
    int r = 0;

    if (x->type == AT_DATA && x->name_len == 0)
      r = map_stream (f, obj, x);
    else if (x->type == AT_INDEX_ALLOCATION && is_i30 (x) && !x->resident)
      r = map_nonresident (f, obj, x);
    if (r == -1)
      return -1;
  }
  vbm_fsmap_end_object (f->m->fm, f->path);
  for (i = 0; i < f->nattrs; i++) {
    const struct ntfs_attr_info *x = &f->attrs[i];

    if (is_own_stream (x) && map_stream_object (f, x) == -1)
      return -1;
  }
  return 0;
}

/* The object's size: its unnamed $DATA, or a directory's $I30. */
static uint64_t
object_size (struct file *f)
{
  size_t i;

  for (i = 0; i < f->nattrs; i++) {
    const struct ntfs_attr_info *x = &f->attrs[i];

    if ((x->type == AT_DATA && x->name_len == 0) ||
        (f->dir && x->type == AT_INDEX_ALLOCATION && is_i30 (x)))
      return x->resident ? x->value_len : x->data_size;
  }
  return 0;
}

static void
close_file (struct file *f)
{
  if (f->ni)
    ntfs_inode_close (f->ni);
  f->ni = NULL;
  ntfs_free_runlists (f->attrs, f->nattrs);
  f->nattrs = 0;
}

/* Maps the record mref named by the names of indexes order[0..n)
 * (none: unreachable).
 */
static int
map_file (struct file *f, uint64_t mref, const uint32_t *order, size_t n)
{
  struct ntfs_map *m = f->m;
  const struct ntfs_name *names = m->names.ptr;
  struct ntfs_record_info info;
  const uint64_t no = MREF (mref);
  unsigned flags = n ? 0 : VBM_OBJECT_UNREACHABLE;
  int64_t obj;
  size_t i;
  char kind;
  int r;

  if (no < f->nrecords && (f->seen[no / 8] & (1u << (no % 8))))
    return 0;
  f->no = no;
  f->ni = NULL;
  r = ntfs_read_plain_record (m, &f->reader, f->nrecords, mref, &info,
                              f->attrs, &f->nattrs);
  if (r == -1)
    return -1;
  if (r == 1) {
    f->dir = info.dir;
    f->file_flags = info.file_flags;
  }
  else {
    f->ni = ntfs_inode_open (m->nv, mref);
    if (f->ni == NULL) {
      /* ENOENT: not in use, or reused (sequence number). */
      if (errno != ENOENT && n)
        ntfs_warn (m, "%s: MFT record %" PRIu64 " unusable (corrupt record "
                   "or attribute list?): %s: not mapped", names[order[0]].path, no,
                   strerror (errno));
      else
        f->dangling += n;
      return 0;
    }
    if (!(f->ni->mrec->flags & MFT_RECORD_IN_USE) ||
        f->ni->mrec->base_mft_record != 0) {
      f->dangling += n;
      ntfs_inode_close (f->ni);
      return 0;
    }
    f->dir = f->ni->mrec->flags & MFT_RECORD_IS_DIRECTORY;
    f->file_flags = f->ni->flags;
  }
  if (no < f->nrecords)
    f->seen[no / 8] |= 1u << (no % 8);
  f->system = (no < FILE_first_user && no != FILE_root) ||
    (n && strncmp (names[order[0]].path, "/$Extend", 8) == 0);

  free (f->pathbuf);
  f->pathbuf = NULL;
  r = 0;
  if (n == 0) {
    r = asprintf (&f->pathbuf, "<unreachable record %" PRIu64 ">", no);
    f->unreachable++;
  }
  else if (f->system)
    r = asprintf (&f->pathbuf, "<%s>", names[order[0]].path + 1);
  if (r == -1) {
    f->pathbuf = NULL;
    vbm_set_error (m->ctx->err, ENOMEM, "building paths");
    goto fatal;
  }
  f->path = f->pathbuf ? f->pathbuf : names[order[0]].path;
  if (f->ni && collect_attrs (f) == -1)
    ntfs_warn (m, "%s: cannot read the attributes: %s", f->path,
               strerror (errno));

  kind = f->system ? VBM_KIND_METADATA
    : f->dir ? VBM_KIND_DIRECTORY : VBM_KIND_FILE;
  obj = vbm_fsmap_object (m->fm, kind, f->path, no, object_size (f), flags);
  if (obj == -1)
    goto fatal;
  if (no == FILE_Boot)
    m->boot_obj = obj;
  for (i = 1; !f->system && i < n; i++)
    if (vbm_fsmap_name (m->fm, obj, names[order[i]].path) == -1)
      goto fatal;
  if (m->ctx->stats && !f->system) {
    if (f->dir)
      m->ctx->stats->directories++;
    else
      m->ctx->stats->files++;
  }
  if ((!f->system && map_records (f, obj) == -1) ||
      map_attrs (f, obj) == -1)
    goto fatal;
  close_file (f);
  return 0;

 fatal:
  close_file (f);
  return -1;
}

/* In-use base records that no name reached, per the $MFT bitmap. */
static int
map_unreachable (struct file *f)
{
  struct ntfs_map *m = f->m;
  ntfs_attr *bmp = m->nv->mftbmp_na;
  unsigned char buf[4096];
  uint64_t no, base = 0, have = 0;

  for (no = FILE_first_user; no < f->nrecords; no++) {
    if (no / 8 >= base + have) {
      s64 r;

      base = no / 8;
      r = bmp ? ntfs_attr_pread (bmp, base, sizeof buf, buf) : -1;
      if (r <= 0)
        return 0;
      have = r;
    }
    if (!(buf[no / 8 - base] & (1u << (no % 8))) ||
        (f->seen[no / 8] & (1u << (no % 8))))
      continue;
    /* Quietly skip what is not a base record in use. */
    if (map_file (f, MK_MREF (no, 0), NULL, 0) == -1)
      return -1;
  }
  return 0;
}

int
ntfs_map_files (struct ntfs_map *m)
{
  struct file f = { .m = m };
  size_t i, n;
  int r = 0;

  /* Records past the volume cannot be read: bound the bitmap by it. */
  f.nrecords = m->nv->mft_na->initialized_size >> m->nv->mft_record_size_bits;
  if (f.nrecords > m->tracked * m->cs / m->nv->mft_record_size + 1)
    f.nrecords = m->tracked * m->cs / m->nv->mft_record_size + 1;
  f.seen = calloc (f.nrecords / 8 + 1, 1);
  f.attrs = malloc (MAX_ATTRS * sizeof *f.attrs);
  if (f.attrs == NULL || f.seen == NULL) {
    free (f.seen);
    free (f.attrs);
    vbm_set_error (m->ctx->err, ENOMEM, "%s: mapping files", m->vol->device);
    return -1;
  }
  for (i = 0; i < m->order.len; i += n) {
    const uint32_t *o = &m->order.ptr[i];
    const uint64_t no = MREF (m->names.ptr[o[0]].mref);

    for (n = 1; i + n < m->order.len &&
           MREF (m->names.ptr[o[n]].mref) == no; n++)
      ;
    if (map_file (&f, m->names.ptr[o[0]].mref, o, n) == -1) {
      r = -1;
      break;
    }
    if (i / PROGRESS_EVERY != (i + n) / PROGRESS_EVERY)
      vbm_fsmap_progress (m->fm, i + n, m->order.len);
  }
  if (r == 0)
    r = map_unreachable (&f);
  if (r == 0 && f.dangling)
    ntfs_warn (m, "%" PRIu64 " directory entries point to unused MFT "
               "records", f.dangling);
  if (r == 0 && f.unreachable)
    ntfs_warn (m, "%" PRIu64 " MFT records in use are reached by no name: "
               "mapped as <unreachable record N>", f.unreachable);
  free (f.seen);
  free (f.attrs);
  free (f.pathbuf);
  ntfs_mft_reader_free (&f.reader);
  return r;
}
