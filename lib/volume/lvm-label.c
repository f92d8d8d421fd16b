/* The on-disk headers of an LVM2 physical volume: the label sector
 * ("LABELONE" and the pv_header with its area lists) and the header
 * of each metadata area (mda_header and its raw_locn slots).  Pure:
 * the caller reads the sectors.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "checksum-ok.h"
#include "crc32.h"
#include "internal.h"
#include "parttable.h"
#include "lvm.h"

#define LABEL_ID "LABELONE"
#define LABEL_TYPE "LVM2 001"
#define LABEL_HEADER_SIZE 32
#define PV_HEADER_SIZE (VBM_LVM_ID_LEN + 8)
#define DISK_LOCN_SIZE 16
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define MDA_VERSION 1
#define RAW_LOCN_SIZE 24

uint32_t
vbm_lvm_crc (uint32_t seed, const void *buf, size_t len)
{
  /* vbm_crc32 inverts on the way in and out; LVM's CRC does not. */
  return ~vbm_crc32 (~seed, buf, len);
}

/* Reads a list of {offset, size} pairs ended by a zero offset.  *pos
 * moves past the terminator.  Returns -1 if the list runs off the
 * sector or is longer than VBM_LVM_MAX_AREAS.
 */
static int
read_areas (const unsigned char *buf, size_t *pos, struct vbm_lvm_area *a,
            unsigned *n, const char *what, struct vbm_error *err)
{
  *n = 0;
  for (;;) {
    uint64_t offset, size;

    if (*pos + DISK_LOCN_SIZE > VBM_LVM_SECTOR) {
      vbm_set_error (err, EINVAL, "the list of %s areas runs off the "
                     "label sector", what);
      return -1;
    }
    offset = vbm_le64 (buf + *pos);
    size = vbm_le64 (buf + *pos + 8);
    *pos += DISK_LOCN_SIZE;
    if (offset == 0)
      return 0;
    if (*n >= VBM_LVM_MAX_AREAS) {
      vbm_set_error (err, EINVAL, "more than %d %s areas",
                     VBM_LVM_MAX_AREAS, what);
      return -1;
    }
    a[*n].offset = offset;
    a[*n].size = size;
    (*n)++;
  }
}

int
vbm_lvm_parse_label (const unsigned char *buf, uint64_t sector,
                     struct vbm_lvm_label *label, struct vbm_error *err)
{
  uint64_t sector_xl;
  uint32_t crc, offset;
  size_t pos;

  if (memcmp (buf, LABEL_ID, 8) != 0)
    return 1;
  memset (label, 0, sizeof *label);
  label->sector = sector;
  sector_xl = vbm_le64 (buf + 8);
  crc = vbm_le32 (buf + 16);
  offset = vbm_le32 (buf + 20);
  if (sector_xl != sector) {
    vbm_set_error (err, EINVAL, "the LVM label in sector %" PRIu64
                   " says it is in sector %" PRIu64, sector, sector_xl);
    return -1;
  }
  if (!vbm_checksum_ok (vbm_lvm_crc (VBM_LVM_INITIAL_CRC, buf + 20,
                                    VBM_LVM_SECTOR - 20), crc)) {
    vbm_set_error (err, EINVAL, "bad checksum of the LVM label in sector %"
                   PRIu64, sector);
    return -1;
  }
  if (memcmp (buf + 24, LABEL_TYPE, 8) != 0) {
    vbm_set_error (err, EINVAL, "LVM label of unknown type \"%.8s\"",
                   (const char *) buf + 24);
    return -1;
  }
  if (offset < LABEL_HEADER_SIZE ||
      offset > VBM_LVM_SECTOR - PV_HEADER_SIZE - 2 * DISK_LOCN_SIZE) {
    vbm_set_error (err, EINVAL, "the PV header offset %" PRIu32
                   " does not fit the label sector", offset);
    return -1;
  }
  memcpy (label->pv_uuid, buf + offset, VBM_LVM_ID_LEN);
  label->pv_uuid[VBM_LVM_ID_LEN] = '\0';
  label->device_size = vbm_le64 (buf + offset + VBM_LVM_ID_LEN);
  pos = offset + PV_HEADER_SIZE;
  if (read_areas (buf, &pos, label->data, &label->n_data, "data",
                  err) == -1 ||
      read_areas (buf, &pos, label->meta, &label->n_meta, "metadata",
                  err) == -1)
    return -1;
  return 0;
}

int
vbm_lvm_parse_mda_header (const unsigned char *buf, uint64_t area_offset,
                          struct vbm_lvm_mda_header *h, struct vbm_error *err)
{
  uint32_t sum = vbm_le32 (buf);
  size_t pos;

  memset (h, 0, sizeof *h);
  if (memcmp (buf + 4, MDA_MAGIC, 16) != 0) {
    vbm_set_error (err, EINVAL, "no metadata area header at byte %" PRIu64,
                   area_offset);
    return -1;
  }
  if (!vbm_checksum_ok (vbm_lvm_crc (VBM_LVM_INITIAL_CRC, buf + 4,
                                    VBM_LVM_MDA_HEADER_SIZE - 4), sum)) {
    vbm_set_error (err, EINVAL, "bad checksum of the metadata area header "
                   "at byte %" PRIu64, area_offset);
    return -1;
  }
  if (vbm_le32 (buf + 20) != MDA_VERSION) {
    vbm_set_error (err, EINVAL, "metadata area header version %" PRIu32
                   " at byte %" PRIu64, vbm_le32 (buf + 20), area_offset);
    return -1;
  }
  h->start = vbm_le64 (buf + 24);
  h->size = vbm_le64 (buf + 32);
  if (h->start != area_offset) {
    vbm_set_error (err, EINVAL, "the metadata area header at byte %" PRIu64
                   " says it is at byte %" PRIu64, area_offset, h->start);
    return -1;
  }
  for (pos = 40; pos + RAW_LOCN_SIZE <= VBM_LVM_MDA_HEADER_SIZE &&
         h->n_rlocns < VBM_LVM_MAX_RLOCNS; pos += RAW_LOCN_SIZE) {
    struct vbm_lvm_rlocn *r = &h->rlocn[h->n_rlocns];

    r->offset = vbm_le64 (buf + pos);
    if (r->offset == 0)
      break;
    r->size = vbm_le64 (buf + pos + 8);
    r->checksum = vbm_le32 (buf + pos + 16);
    r->flags = vbm_le32 (buf + pos + 20);
    h->n_rlocns++;
  }
  return 0;
}

int
vbm_lvm_text_pieces (const struct vbm_lvm_mda_header *h,
                     const struct vbm_lvm_rlocn *r,
                     struct vbm_lvm_text_pieces *p, struct vbm_error *err)
{
  const uint64_t ring = h->size - VBM_LVM_MDA_HEADER_SIZE;

  memset (p, 0, sizeof *p);
  if (h->size <= VBM_LVM_MDA_HEADER_SIZE ||
      r->offset < VBM_LVM_MDA_HEADER_SIZE || r->offset >= h->size ||
      r->size == 0 || r->size > ring) {
    vbm_set_error (err, EINVAL, "metadata slot (offset %" PRIu64
                   ", %" PRIu64 " bytes) does not fit its area of %" PRIu64
                   " bytes", r->offset, r->size, h->size);
    return -1;
  }
  if (r->size > VBM_LVM_MAX_TEXT) {
    vbm_set_error (err, EFBIG, "metadata text of %" PRIu64 " bytes: more "
                   "than the %d we read", r->size, VBM_LVM_MAX_TEXT);
    return -1;
  }
  p->offset[0] = h->start + r->offset;
  if (r->size <= h->size - r->offset) {
    p->n = 1;
    p->len[0] = r->size;
  }
  else {
    /* The buffer is circular: the text goes on just after the header. */
    p->n = 2;
    p->len[0] = h->size - r->offset;
    p->offset[1] = h->start + VBM_LVM_MDA_HEADER_SIZE;
    p->len[1] = r->size - p->len[0];
  }
  return 0;
}
