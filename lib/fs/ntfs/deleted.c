/* Deleted NTFS files: deleting a file clears its MFT record's IN_USE
 * flag and frees its clusters in $Bitmap, but leaves the record's
 * attributes as they were.  A record not in use whose unnamed $DATA
 * is non-resident with a run list that decodes completely is mapped as
 * a deleted object at its former clusters (vbm_fsmap_former: free
 * space or a newer file may own them now).  Its name is its $FILE_NAME
 * under its parent's path when the parent is a live directory of the
 * same sequence number, else under <inode PARENT>.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lower-bound.h"
#include "ntfs-map.h"

#include <ntfs-3g/attrib.h>
#include <ntfs-3g/mft.h>
#include <ntfs-3g/mst.h>
#include <ntfs-3g/unistr.h>

/* Runs of one stream mapped at most: a corrupt record stays bounded. */
#define MAX_RUNS 65536

/* What a deleted record says of itself. */
struct deleted {
  uint64_t no;
  uint64_t parent;              /* MFT reference, 0 if no name */
  char name[NTFS_MAX_NAME_LEN * 4 + 1];
  const ATTR_RECORD *data;      /* unnamed $DATA, non-resident */
};

/* The live path of directory record mref, "" for the root; NULL if
 * no live name has that record and sequence number.
 */
static const char *
live_dir (const struct ntfs_map *m, uint64_t mref)
{
  size_t lo;

  if (MREF (mref) == FILE_root)
    return "";
  lo = LOWER_BOUND (i, m->order.len,
                    MREF (m->names.ptr[m->order.ptr[i]].mref) < MREF (mref));
  if (lo < m->order.len) {
    const struct ntfs_name *n = &m->names.ptr[m->order.ptr[lo]];

    if (MREF (n->mref) == MREF (mref) && n->dir &&
        (MSEQNO (mref) == 0 || MSEQNO (n->mref) == 0 ||
         MSEQNO (mref) == MSEQNO (n->mref)))
      return n->path;
  }
  return NULL;
}

/* Reads the record's name and $DATA; false if it is not a deleted file
 * record worth mapping.
 */
static bool
parse (struct ntfs_map *m, MFT_RECORD *mrec, struct deleted *d)
{
  const unsigned char *base = (const unsigned char *) mrec;
  const uint64_t used = le32_to_cpu (mrec->bytes_in_use);
  uint64_t off = le16_to_cpu (mrec->attrs_offset);
  int best = -1;

  if (used > m->nv->mft_record_size || off % 8 != 0)
    return false;
  while (off + 24 <= used) {
    const ATTR_RECORD *a = (const ATTR_RECORD *) (base + off);
    const uint64_t len = le32_to_cpu (a->length);

    if (a->type == AT_END || len < 24 || len % 8 != 0 || len > used - off)
      break;
    if (a->type == AT_FILE_NAME && !a->non_resident) {
      const uint64_t voff = le16_to_cpu (a->value_offset);
      const uint64_t vlen = le32_to_cpu (a->value_length);
      const FILE_NAME_ATTR *fn = (const FILE_NAME_ATTR *) (base + off + voff);
      char *name = d->name;
      ntfschar u[NTFS_MAX_NAME_LEN];

      /* The Win32 or POSIX name over the DOS 8.3 one. */
      if (voff + vlen <= len && vlen >= sizeof *fn &&
          sizeof *fn + 2 * fn->file_name_length <= vlen &&
          (best == -1 || (best == FILE_NAME_DOS &&
                          fn->file_name_type != FILE_NAME_DOS)) &&
          fn->file_name_length > 0 &&
          /* The name is unaligned in the record: copy it out. */
          memcpy (u, (const unsigned char *) fn + sizeof *fn,
                  2 * fn->file_name_length) &&
          ntfs_ucstombs (u, fn->file_name_length, &name,
                         sizeof d->name) > 0 &&
          strchr (d->name, '/') == NULL) {
        best = fn->file_name_type;
        d->parent = le64_to_cpu (fn->parent_directory);
      }
    }
    else if (a->type == AT_DATA && a->name_length == 0 && a->non_resident &&
             d->data == NULL && len >= 64 &&
             ntfs_attr_inconsistent (a, MK_MREF (d->no, 0)) == 0)
      d->data = a;
    off += len;
  }
  if (best == -1)
    d->name[0] = '\0', d->parent = 0;
  return d->data != NULL;
}

static int
map_deleted (struct ntfs_map *m, struct deleted *d)
{
  const ATTR_RECORD *a = d->data;
  const int64_t data_size = sle64_to_cpu (a->data_size);
  const int64_t init_size = sle64_to_cpu (a->initialized_size);
  const char *dir = d->name[0] ? live_dir (m, d->parent) : NULL;
  runlist_element *rl, *p;
  char *path;
  int64_t obj;
  uint64_t runs = 0;
  int r = 0;

  /* Only a complete run list from VCN 0: the data's place is known. */
  if (sle64_to_cpu (a->lowest_vcn) != 0 || data_size < 0 ||
      init_size < 0 || init_size > data_size ||
      (a->flags & (ATTR_COMPRESSION_MASK | ATTR_IS_ENCRYPTED)))
    return 0;
  rl = ntfs_mapping_pairs_decompress (m->nv, a, NULL);
  if (rl == NULL)
    return 0;
  for (p = rl; p->length > 0; p++)
    ;
  if (p->vcn != sle64_to_cpu (a->highest_vcn) + 1) {
    free (rl);
    return 0;
  }

  if (d->name[0] == '\0')
    r = asprintf (&path, "<deleted>/<inode %" PRIu64 ">", d->no);
  else if (dir)
    r = asprintf (&path, "<deleted>%s/%s", dir, d->name);
  else
    r = asprintf (&path, "<deleted>/<inode %" PRIu64 ">/%s",
                  (uint64_t) MREF (d->parent), d->name);
  if (r == -1) {
    free (rl);
    vbm_set_error (m->ctx->err, ENOMEM, "%s: deleted files", m->vol->device);
    return -1;
  }
  obj = vbm_fsmap_object (m->fm, VBM_KIND_FILE, path, d->no, data_size,
                          VBM_OBJECT_DELETED);
  r = obj == -1 ? -1 : 0;
  if (r == 0) {
    uint64_t past_eof = ((uint64_t) data_size + m->cs - 1) / m->cs * m->cs;

    vbm_fsmap_stream (m->fm, init_size < data_size
                      ? (uint64_t) init_size : past_eof, past_eof);
  }
  for (p = rl; r == 0 && p->length > 0; p++) {
    if (p->lcn == LCN_HOLE)
      continue;
    if (p->lcn < 0 || p->vcn < 0 || ++runs > MAX_RUNS)
      break;
    if (vbm_fsmap_former (m->fm, obj, p->lcn, p->length,
                          p->vcn * (int64_t) m->cs) == -1)
      r = -1;
  }
  vbm_fsmap_end_stream (m->fm);
  if (r == 0)
    r = vbm_fsmap_flush (m->fm);
  free (rl);
  free (path);
  return r;
}

int
ntfs_map_deleted (struct ntfs_map *m)
{
  const uint32_t recsize = m->nv->mft_record_size;
  struct ntfs_mft_reader reader = { 0 };
  uint64_t nrecords, no, found = 0;
  MFT_RECORD *mrec = malloc (recsize);
  int e = errno, r = 0;

  if (mrec == NULL) {
    vbm_set_error (m->ctx->err, ENOMEM, "%s: deleted files", m->vol->device);
    return -1;
  }
  /* As ntfs_map_files bounds it: records that can be read. */
  nrecords = m->nv->mft_na->initialized_size >> m->nv->mft_record_size_bits;
  if (nrecords > m->tracked * m->cs / recsize + 1)
    nrecords = m->tracked * m->cs / recsize + 1;

  for (no = FILE_first_user; no < nrecords && r == 0; no++) {
    struct deleted d = { .no = no };
    const unsigned char *raw;
    int rc = ntfs_load_record (m, &reader, no, &raw);

    if (rc == -1)
      r = -1;
    if (rc != 1)
      continue;
    memcpy (mrec, raw, recsize);
    /* Never-used records are zeroes or bare templates: skip quietly. */
    if (!ntfs_is_file_record (mrec->magic) ||
        (mrec->flags & (MFT_RECORD_IN_USE | MFT_RECORD_IS_DIRECTORY)) ||
        mrec->base_mft_record != 0 ||
        ntfs_mst_post_read_fixup_warn ((NTFS_RECORD *) mrec, recsize,
                                       FALSE) != 0 ||
        !parse (m, mrec, &d))
      continue;
    r = map_deleted (m, &d);
    found++;
  }
  if (r == 0 && found)
    vbm_debug (m->ctx, "%s: %" PRIu64 " deleted files with their runs",
               m->vol->device, found);
  ntfs_mft_reader_free (&reader);
  free (mrec);
  errno = e;
  return r;
}
