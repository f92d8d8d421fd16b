/* NTFS resident data as the file reads it.
 *
 * An MFT record is protected by an update sequence: before it is
 * written the last two bytes of each 512-byte stride are saved in the
 * record's update sequence array and replaced by the update sequence
 * number.  Resident data lying over such a position reads, raw, as the
 * number: the record is read whole, its strides restored (and checked,
 * as ntfs-3g does), and the data copied out of it.  The map gives the
 * record: the file's extents at offset -1 flagged INLINE are its MFT
 * records, whole, each starting with "FILE".
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "le.h"

#define STRIDE 512
#define MAX_RECORD 4096

/* The record extents of file, as indexes [*lo, *hi) of p->records. */
static void
file_records (const struct hash_plan *p, uint32_t file, size_t *lo,
              size_t *hi)
{
  size_t a = 0, b = p->records.len;

  while (a < b) {
    size_t m = a + (b - a) / 2;

    if (p->records.ptr[m].file < file)
      a = m + 1;
    else
      b = m;
  }
  *lo = a;
  for (b = a; b < p->records.len && p->records.ptr[b].file == file; ++b)
    ;
  *hi = b;
}

/* Restores the strides of rec (size bytes); -1 if it does not check. */
static int
undo_fixups (unsigned char *rec, uint32_t size)
{
  uint16_t usa_ofs = vbm_le16 (rec + 4), usa_count = vbm_le16 (rec + 6);
  unsigned k;

  if (usa_count != size / STRIDE + 1 ||
      (uint32_t) usa_ofs + 2 * usa_count > size || usa_ofs < 8)
    return -1;
  for (k = 1; k < usa_count; ++k) {
    unsigned char *end = rec + k * STRIDE - 2;

    if (memcmp (end, rec + usa_ofs, 2) != 0)
      return -1;                /* torn write: ntfs-3g refuses it too */
    memcpy (end, rec + usa_ofs + 2 * k, 2);
  }
  return 0;
}

int
hash_ntfs_fixup (const struct hash_plan *p, struct hash_ctx *hc,
                 const struct piece *pc, unsigned char *buf)
{
  unsigned char rec[MAX_RECORD];
  struct vbm_error err;
  size_t lo, hi, i;

  if (pc->disk >= hc->ndisks)
    return -1;
  file_records (p, pc->file, &lo, &hi);
  for (i = lo; i < hi; ++i) {
    const struct record_extent *re = &p->records.ptr[i];
    uint64_t pos;

    if (re->disk != pc->disk || pc->start < re->start || pc->end > re->end)
      continue;
    /* Records follow each other inside one extent. */
    for (pos = re->start; pos < re->end;) {
      uint32_t size;

      if (re->end - pos < 48 ||
          vbm_source_pread (hc->disks[pc->disk], rec, 48, pos, &err) == -1 ||
          memcmp (rec, "FILE", 4) != 0)
        return -1;
      size = vbm_le32 (rec + 0x1c);
      if (size < 1024 || size > MAX_RECORD || (size & (size - 1)) ||
          re->end - pos < size)
        return -1;
      if (pc->start >= pos + size) {
        pos += size;
        continue;
      }
      if (pc->end > pos + size ||
          vbm_source_pread (hc->disks[pc->disk], rec, size, pos, &err) == -1 ||
          undo_fixups (rec, size) == -1)
        return -1;
      memcpy (buf, rec + (pc->start - pos), pc->end - pc->start);
      return 0;
    }
  }
  return -1;
}
