/* MBR and EBR sectors: decoding and plausibility checks. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"
#include "parttable.h"

#define MBR_ENTRIES_OFFSET 446
#define MBR_ENTRY_SIZE 16
#define MBR_SIGNATURE_OFFSET 510

static bool
has_signature (const unsigned char *sector)
{
  return sector[MBR_SIGNATURE_OFFSET] == 0x55 &&
    sector[MBR_SIGNATURE_OFFSET + 1] == 0xAA;
}

static void
parse_entry (const unsigned char *p, struct vbm_mbr_entry *e)
{
  /* The CHS fields (bytes 1-3, 5-7) are ignored, as Linux does. */
  e->status = p[0];
  e->type = p[4];
  e->start = vbm_le32 (p + 8);
  e->sectors = vbm_le32 (p + 12);
}

int
vbm_mbr_parse (const unsigned char *sector, struct vbm_mbr *mbr,
               struct vbm_error *err)
{
  size_t i;

  if (!has_signature (sector)) {
    vbm_set_error (err, EINVAL, "no MBR signature (0x55 0xAA)");
    return -1;
  }
  for (i = 0; i < VBM_MBR_ENTRIES; ++i)
    parse_entry (sector + MBR_ENTRIES_OFFSET + i * MBR_ENTRY_SIZE,
                 &mbr->entry[i]);
  return 0;
}

bool
vbm_mbr_entry_empty (const struct vbm_mbr_entry *e)
{
  return e->type == 0 || e->sectors == 0;
}

bool
vbm_mbr_type_extended (uint8_t type)
{
  return type == 0x05 || type == 0x0F || type == 0x85;
}

bool
vbm_mbr_protective (const struct vbm_mbr *mbr)
{
  size_t i;

  for (i = 0; i < VBM_MBR_ENTRIES; ++i)
    if (mbr->entry[i].type == VBM_MBR_TYPE_GPT)
      return true;
  return false;
}

static bool
power_of_2 (unsigned v)
{
  return v != 0 && (v & (v - 1)) == 0;
}

/* The BIOS parameter block checks libblkid also makes: a jump, a
 * sane sector and cluster size, reserved sectors, one or two FATs and
 * a media byte.  A GRUB or syslinux MBR fails them: its BPB area is
 * zero.
 */
static bool
fat_boot_sector (const unsigned char *s)
{
  unsigned bytes_per_sector = vbm_le16 (s + 11);

  if (!((s[0] == 0xEB && s[2] == 0x90) || s[0] == 0xE9))
    return false;
  return bytes_per_sector >= 512 && bytes_per_sector <= 4096 &&
    power_of_2 (bytes_per_sector) &&
    power_of_2 (s[13]) &&
    vbm_le16 (s + 14) >= 1 &&
    (s[16] == 1 || s[16] == 2) &&
    (s[21] == 0xF0 || s[21] >= 0xF8);
}

bool
vbm_fs_boot_sector (const unsigned char *sector)
{
  return memcmp (sector + 3, "NTFS    ", 8) == 0 ||
    memcmp (sector + 3, "EXFAT   ", 8) == 0 ||
    fat_boot_sector (sector);
}

bool
vbm_mbr_plausible (const unsigned char *sector, const struct vbm_mbr *mbr,
                   uint64_t disk_sectors, struct vbm_error *err)
{
  unsigned used = 0, inside = 0;
  size_t i;

  for (i = 0; i < VBM_MBR_ENTRIES; ++i) {
    const struct vbm_mbr_entry *e = &mbr->entry[i];

    if (e->status != 0x00 && e->status != 0x80) {
      vbm_set_error (err, EINVAL, "entry %zu has status byte 0x%02x",
                     i + 1, e->status);
      return false;
    }
    if (vbm_mbr_entry_empty (e))
      continue;
    used++;
    if (e->start >= 1 && e->start < disk_sectors)
      inside++;
  }
  if (vbm_fs_boot_sector (sector)) {
    vbm_set_error (err, EINVAL, "sector 0 is a filesystem boot sector");
    return false;
  }
  if (used > 0 && inside == 0) {
    vbm_set_error (err, EINVAL,
                   "no entry starts inside the disk (%" PRIu64 " sectors)",
                   disk_sectors);
    return false;
  }
  return true;
}

int
vbm_ebr_parse (const unsigned char *sector, struct vbm_ebr *ebr,
               struct vbm_error *err)
{
  struct vbm_mbr mbr;
  size_t i;

  memset (ebr, 0, sizeof *ebr);
  if (vbm_mbr_parse (sector, &mbr, err) == -1)
    return -1;

  /* Normally entry 1 is the logical partition and entry 2 the link;
   * take the first of each kind wherever it is, as Linux does.
   */
  for (i = 0; i < VBM_MBR_ENTRIES; ++i) {
    const struct vbm_mbr_entry *e = &mbr.entry[i];

    if (vbm_mbr_entry_empty (e))
      continue;
    if (vbm_mbr_type_extended (e->type)) {
      if (!ebr->has_next) {
        ebr->has_next = true;
        ebr->next = *e;
        continue;
      }
    }
    else if (!ebr->has_logical) {
      ebr->has_logical = true;
      ebr->logical = *e;
      continue;
    }
    ebr->ignored++;
  }
  return 0;
}
