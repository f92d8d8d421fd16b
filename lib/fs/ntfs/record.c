/* NTFS base records read without opening an inode through libntfs-3g:
 * $MFT is read in big pieces in record order, and a plain record (see
 * ntfs-map.h) is parsed here.  Opening each file with ntfs_inode_open
 * and each stream with ntfs_attr_open costs several allocations, a copy
 * and a search per record; a volume of small files is nearly all plain
 * records.
 *
 * Exactness: a record is taken here only if libntfs-3g would read the
 * same thing from it without complaint.  The checks are libntfs-3g's
 * own (ntfs_mst_post_read_fixup_warn, ntfs_mft_record_check,
 * ntfs_attr_inconsistent, ntfs_mapping_pairs_decompress) plus stricter
 * ones of ours; anything else falls back to libntfs-3g, which then
 * warns as before.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ntfs-map.h"

#include <ntfs-3g/attrib.h>
#include <ntfs-3g/mft.h>
#include <ntfs-3g/mst.h>

/* Where record no is in $MFT's data, loaded into r->buf. */
int
ntfs_load_record (struct ntfs_map *m, struct ntfs_mft_reader *r, uint64_t no,
             const unsigned char **rec)
{
  const runlist_element *rl = m->nv->mft_na->rl;
  const uint64_t recsize = m->nv->mft_record_size;
  const uint64_t pos = no * recsize;
  uint64_t vcn = pos / m->cs, disk, len, n;

  if (r->len && pos >= r->start && pos + recsize <= r->start + r->len) {
    *rec = r->buf + (pos - r->start);
    return 1;
  }
  if (rl == NULL)
    return 0;
  /* The run holding the record, the runlist being complete. */
  for (n = 0; rl->length > 0; rl++, n++) {
    if (rl->lcn < 0 || rl->vcn < 0 || n > (UINT64_C (1) << 24))
      return 0;
    if (vcn >= (uint64_t) rl->vcn && vcn - rl->vcn < (uint64_t) rl->length)
      break;
  }
  if (rl->length <= 0)
    return 0;
  disk = ((uint64_t) rl->lcn + (vcn - rl->vcn)) * m->cs + pos % m->cs;
  len = ((uint64_t) rl->vcn + rl->length) * m->cs - pos;
  if (len > NTFS_MFT_CHUNK)
    len = NTFS_MFT_CHUNK;
  if (disk >= m->vol->length)
    return 0;
  if (len > m->vol->length - disk)
    len = m->vol->length - disk;
  len = len / recsize * recsize;
  if (len < recsize)
    return 0;
  if (r->buf == NULL) {
    r->buf = malloc (NTFS_MFT_CHUNK);
    r->rec = malloc (recsize);
    if (r->buf == NULL || r->rec == NULL) {
      vbm_set_error (m->ctx->err, ENOMEM, "%s: reading $MFT", m->vol->device);
      return -1;
    }
  }
  r->len = 0;
  if (vbm_volume_pread (m->ctx, m->vol, r->buf, len, disk) == -1)
    return -1;
  r->start = pos;
  r->len = len;
  *rec = r->buf;
  return 1;
}

void
ntfs_free_runlists (struct ntfs_attr_info *attrs, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free (attrs[i].rl);
    attrs[i].rl = NULL;
  }
}

void
ntfs_mft_reader_free (struct ntfs_mft_reader *r)
{
  free (r->buf);
  free (r->rec);
  r->buf = r->rec = NULL;
  r->len = 0;
}

/* A non-resident attribute's sizes and runlist, if plain: all clusters
 * allocated (no hole, nothing past the runs), sizes in order.
 */
static bool
plain_runs (struct ntfs_map *m, const ATTR_RECORD *a,
            struct ntfs_attr_info *x)
{
  const int64_t alloc = sle64_to_cpu (a->allocated_size);
  const int64_t data = sle64_to_cpu (a->data_size);
  const int64_t init = sle64_to_cpu (a->initialized_size);
  const int64_t highest = sle64_to_cpu (a->highest_vcn);
  const runlist_element *rl;
  uint64_t n = 0;

  if (sle64_to_cpu (a->lowest_vcn) != 0 || alloc <= 0 ||
      (uint64_t) alloc % m->cs != 0 || data < 0 || init < 0 ||
      init > data || data > alloc ||
      highest != (int64_t) ((uint64_t) alloc / m->cs) - 1)
    return false;
  x->rl = ntfs_mapping_pairs_decompress (m->nv, a, NULL);
  if (x->rl == NULL)
    return false;
  for (rl = x->rl; rl->length > 0; rl++)
    if (rl->lcn < 0 || rl->vcn < 0 || ++n > (UINT64_C (1) << 24))
      return false;
  if (rl->length < 0 || rl->vcn != highest + 1)
    return false;
  x->data_size = data;
  x->init_size = init;
  return true;
}

/* Attributes of the record in order; false if anything is not plain. */
static bool
plain_attrs (struct ntfs_map *m, const MFT_RECORD *mrec, uint64_t mref,
             struct ntfs_record_info *info, struct ntfs_attr_info *attrs,
             size_t *nattrs)
{
  const unsigned char *base = (const unsigned char *) mrec;
  const uint64_t used = le32_to_cpu (mrec->bytes_in_use);
  uint64_t off = le16_to_cpu (mrec->attrs_offset);
  uint32_t last_type = 0;
  bool have_si = false;
  size_t i, j;

  *nattrs = 0;
  if (used > m->nv->mft_record_size || off % 8 != 0)
    return false;
  for (;;) {
    const ATTR_RECORD *a = (const ATTR_RECORD *) (base + off);
    struct ntfs_attr_info *x = &attrs[*nattrs];
    uint64_t len, noff;
    uint32_t type;

    if (off + 4 > used)
      return false;
    if (a->type == AT_END)
      break;
    if (off + 24 > used)
      return false;
    type = le32_to_cpu (a->type);
    len = le32_to_cpu (a->length);
    if (type < last_type || len < 24 || len % 8 != 0 || len > used - off ||
        (a->non_resident && len < 64) || a->flags != 0 ||
        a->type == AT_ATTRIBUTE_LIST ||
        ntfs_attr_inconsistent (a, mref) != 0)
      return false;
    last_type = type;
    x->type = a->type;
    x->flags = a->flags;
    x->name_len = a->name_length;
    x->rl = NULL;
    noff = le16_to_cpu (a->name_offset);
    if (noff + 2 * x->name_len > len)
      return false;
    memcpy (x->name, base + off + noff, 2 * x->name_len);
    x->resident = !a->non_resident;
    (*nattrs)++;
    if (x->resident) {
      x->record = MREF (mref);
      x->usa_ofs = le16_to_cpu (mrec->usa_ofs);
      x->value_off = off + le16_to_cpu (a->value_offset);
      x->value_len = le32_to_cpu (a->value_length);
      if (le16_to_cpu (a->value_offset) + x->value_len > len)
        return false;
      if (a->type == AT_STANDARD_INFORMATION && !have_si) {
        const STANDARD_INFORMATION *si;

        if (x->value_len < 48)
          return false;
        si = (const STANDARD_INFORMATION *) (base + x->value_off);
        info->file_flags = si->file_attributes;
        have_si = true;
      }
    }
    else if (!plain_runs (m, a, x))
      return false;
    off += len;
    if (*nattrs >= 4096)
      return false;
  }
  if (!have_si || (info->file_flags & (FILE_ATTR_ENCRYPTED |
                                       FILE_ATTR_COMPRESSED |
                                       FILE_ATTR_SPARSE_FILE)))
    return false;
  /* libntfs-3g opens a stream by type and name, the first match: a
   * non-resident attribute must be alone of its type for it to be this
   * one.
   */
  for (i = 0; i < *nattrs; i++)
    for (j = 0; j < *nattrs; j++)
      if (i != j && attrs[i].type == attrs[j].type && !attrs[i].resident)
        return false;
  return true;
}

int
ntfs_read_plain_record (struct ntfs_map *m, struct ntfs_mft_reader *r,
                        uint64_t nrecords, uint64_t mref,
                        struct ntfs_record_info *info,
                        struct ntfs_attr_info *attrs, size_t *nattrs)
{
  const uint64_t no = MREF (mref);
  const uint32_t recsize = m->nv->mft_record_size;
  const unsigned char *raw;
  MFT_RECORD *mrec;
  int e = errno, rc;

  *nattrs = 0;
  if (no >= nrecords)
    return 0;
  rc = ntfs_load_record (m, r, no, &raw);
  if (rc != 1)
    return rc;
  memcpy (r->rec, raw, recsize);
  mrec = (MFT_RECORD *) r->rec;
  if (ntfs_mst_post_read_fixup_warn ((NTFS_RECORD *) mrec, recsize,
                                     FALSE) != 0 ||
      ntfs_mft_record_check (m->nv, mref, mrec) != 0 ||
      !(mrec->flags & MFT_RECORD_IN_USE) || mrec->base_mft_record != 0 ||
      (MSEQNO (mref) && MSEQNO (mref) != le16_to_cpu (mrec->sequence_number)))
    goto not_plain;
  info->dir = mrec->flags & MFT_RECORD_IS_DIRECTORY;
  if (!plain_attrs (m, mrec, mref, info, attrs, nattrs))
    goto not_plain;
  errno = e;
  return 1;

 not_plain:
  ntfs_free_runlists (attrs, *nattrs);
  *nattrs = 0;
  errno = e;
  return 0;
}
