/* GUID partition table: header and entry array decoding and checks. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "checksum-ok.h"
#include "crc32.h"
#include "internal.h"
#include "parttable.h"

#define GPT_SIGNATURE "EFI PART"
#define GPT_CRC_OFFSET 16

/* The CRC of the header is taken with its own field as zero. */
static uint32_t
header_crc (const unsigned char *sector, uint32_t header_size)
{
  static const unsigned char zero[4];
  uint32_t crc;

  crc = vbm_crc32 (0, sector, GPT_CRC_OFFSET);
  crc = vbm_crc32 (crc, zero, sizeof zero);
  return vbm_crc32 (crc, sector + GPT_CRC_OFFSET + 4,
                    header_size - GPT_CRC_OFFSET - 4);
}

int
vbm_gpt_parse_header (const unsigned char *sector, size_t sector_size,
                      uint64_t lba, uint64_t disk_sectors,
                      struct vbm_gpt_header *h, struct vbm_error *err)
{
  uint32_t crc;
  uint64_t array_sectors, array_end;

  memset (h, 0, sizeof *h);
  if (sector_size < VBM_SECTOR_SIZE) {
    vbm_set_error (err, EINVAL, "sector size %zu too small", sector_size);
    return -1;
  }
  if (memcmp (sector, GPT_SIGNATURE, 8) != 0) {
    vbm_set_error (err, EINVAL, "no GPT signature at LBA %" PRIu64, lba);
    return -1;
  }
  h->revision = vbm_le32 (sector + 8);
  h->header_size = vbm_le32 (sector + 12);
  if (h->header_size < VBM_GPT_HEADER_MIN || h->header_size > sector_size) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has an invalid size (%" PRIu32 ")",
                   lba, h->header_size);
    return -1;
  }
  crc = vbm_le32 (sector + GPT_CRC_OFFSET);
  if (!vbm_checksum_ok (header_crc (sector, h->header_size), crc)) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has a bad CRC", lba);
    return -1;
  }

  h->my_lba = vbm_le64 (sector + 24);
  h->alternate_lba = vbm_le64 (sector + 32);
  h->first_usable = vbm_le64 (sector + 40);
  h->last_usable = vbm_le64 (sector + 48);
  memcpy (h->disk_guid, sector + 56, 16);
  h->entries_lba = vbm_le64 (sector + 72);
  h->num_entries = vbm_le32 (sector + 80);
  h->entry_size = vbm_le32 (sector + 84);
  h->entries_crc = vbm_le32 (sector + 88);

  if (h->my_lba != lba) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " says it is at LBA %" PRIu64, lba, h->my_lba);
    return -1;
  }
  if (h->entry_size < VBM_GPT_ENTRY_MIN || h->entry_size % 8 != 0 ||
      h->entry_size > VBM_GPT_ARRAY_MAX ||
      (uint64_t) h->num_entries * h->entry_size > VBM_GPT_ARRAY_MAX) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has an invalid entry array (%" PRIu32
                   " entries of %" PRIu32 " bytes)",
                   lba, h->num_entries, h->entry_size);
    return -1;
  }
  if (h->first_usable > h->last_usable || h->last_usable >= disk_sectors) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has a usable range %" PRIu64 "-%" PRIu64
                   " outside the disk (%" PRIu64 " sectors)",
                   lba, h->first_usable, h->last_usable, disk_sectors);
    return -1;
  }
  array_sectors = vbm_gpt_array_sectors (h, sector_size);
  if (h->entries_lba == 0 || h->entries_lba >= disk_sectors ||
      array_sectors > disk_sectors - h->entries_lba) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has its entry array at invalid LBA %" PRIu64,
                   lba, h->entries_lba);
    return -1;
  }
  /* Both terms are below disk_sectors now: no overflow. */
  array_end = h->entries_lba + array_sectors;
  if (lba >= h->entries_lba && lba < array_end) {
    vbm_set_error (err, EINVAL, "GPT header at LBA %" PRIu64
                   " has its entry array over the header", lba);
    return -1;
  }
  return 0;
}

size_t
vbm_gpt_array_bytes (const struct vbm_gpt_header *h)
{
  return (size_t) h->num_entries * h->entry_size;
}

uint64_t
vbm_gpt_array_sectors (const struct vbm_gpt_header *h, size_t sector_size)
{
  return (vbm_gpt_array_bytes (h) + sector_size - 1) / sector_size;
}

int
vbm_gpt_check_entries (const struct vbm_gpt_header *h,
                       const unsigned char *array, size_t len,
                       struct vbm_error *err)
{
  size_t bytes = vbm_gpt_array_bytes (h);

  if (len < bytes) {
    vbm_set_error (err, EINVAL, "GPT entry array truncated (%zu of %zu bytes)",
                   len, bytes);
    return -1;
  }
  if (!vbm_checksum_ok (vbm_crc32 (0, array, bytes), h->entries_crc)) {
    vbm_set_error (err, EINVAL, "GPT entry array at LBA %" PRIu64
                   " has a bad CRC", h->entries_lba);
    return -1;
  }
  return 0;
}

void
vbm_gpt_parse_entry (const struct vbm_gpt_header *h,
                     const unsigned char *array, uint32_t i,
                     struct vbm_gpt_entry *e)
{
  const unsigned char *p = array + (size_t) i * h->entry_size;

  memcpy (e->type_guid, p, 16);
  memcpy (e->unique_guid, p + 16, 16);
  e->first_lba = vbm_le64 (p + 32);
  e->last_lba = vbm_le64 (p + 40);
  e->attributes = vbm_le64 (p + 48);
}

bool
vbm_gpt_entry_used (const struct vbm_gpt_entry *e)
{
  static const unsigned char zero[16];

  return memcmp (e->type_guid, zero, sizeof zero) != 0;
}
