/* The boot sector of FAT12/16/32 and exFAT: where every region of the
 * volume is, computed as the specifications say (Microsoft's FAT
 * specification 1.03, and its exFAT specification), before and
 * independently of libtsk.
 */
#include <config.h>

#include <string.h>

#include "fat-map.h"
#include "le.h"

const char *
fat_type_name (enum fat_type t)
{
  switch (t) {
  case FAT12: return "fat12";
  case FAT16: return "fat16";
  case FAT32: return "fat32";
  case EXFAT: return "exfat";
  }
  return "fat";
}

static bool
is_exfat (const unsigned char *s)
{
  return memcmp (s + 3, "EXFAT   ", 8) == 0;
}

bool
fat_boot_signature (const unsigned char *s, size_t len)
{
  if (len < 512 || s[510] != 0x55 || s[511] != 0xAA)
    return false;
  if (is_exfat (s))
    return true;
  if (!((s[0] == 0xEB && s[2] == 0x90) || s[0] == 0xE9))
    return false;
  if (memcmp (s + 3, "NTFS    ", 8) == 0)
    return false;
  /* The type strings are informative only, but every formatter
   * writes them; a zeroed BPB still gets its warning this way.
   */
  return memcmp (s + 54, "FAT", 3) == 0 || memcmp (s + 82, "FAT32", 5) == 0;
}

static bool
parse_exfat (const unsigned char *s, struct fat_layout *l, const char **why)
{
  unsigned bps_shift = s[108], spc_shift = s[109];
  uint64_t heap_end;
  size_t i;

  for (i = 11; i < 64; ++i)
    if (s[i]) {
      *why = "bytes 11-63 are not zero";
      return false;
    }
  if (bps_shift < 9 || bps_shift > 12) {
    *why = "bytes per sector out of range";
    return false;
  }
  if (spc_shift > 25 - bps_shift) {
    *why = "sectors per cluster out of range";
    return false;
  }
  l->type = EXFAT;
  l->bps = 1u << bps_shift;
  l->spc = 1u << spc_shift;
  l->total_sectors = vbm_le64 (s + 72);
  l->reserved = vbm_le32 (s + 80);
  l->fat_sectors = vbm_le32 (s + 84);
  l->heap_start = vbm_le32 (s + 88);
  l->nclusters = vbm_le32 (s + 92);
  l->root_cluster = vbm_le32 (s + 96);
  l->nfats = s[110];
  if (l->nfats != 1 && l->nfats != 2) {
    *why = "number of FATs is not 1 or 2";
    return false;
  }
  if (l->reserved < 24 || l->fat_sectors == 0) {
    *why = "FAT offset or length is zero or too small";
    return false;
  }
  if (l->heap_start < l->reserved + l->nfats * l->fat_sectors) {
    *why = "the cluster heap overlaps the FATs";
    return false;
  }
  if (l->nclusters == 0 || l->nclusters > 0xFFFFFFF5) {
    *why = "cluster count out of range";
    return false;
  }
  /* The FAT holds an entry for every cluster. */
  if ((l->nclusters + 2) * 4 > l->fat_sectors * l->bps) {
    *why = "the FAT is too small for the cluster count";
    return false;
  }
  heap_end = fat_heap_end (l);
  if (l->total_sectors < heap_end) {
    *why = "the cluster heap ends past the volume length";
    return false;
  }
  if (l->root_cluster < 2 || l->root_cluster > l->nclusters + 1) {
    *why = "root directory cluster out of range";
    return false;
  }
  l->root_start = l->root_sectors = 0;
  l->fsinfo = 0;
  l->backup_boot = 12;
  return true;
}

bool
fat_parse_boot (const unsigned char *s, size_t len, struct fat_layout *l,
                const char **why)
{
  uint32_t root_entries, fat16, tot16;
  uint64_t data;

  memset (l, 0, sizeof *l);
  if (!fat_boot_signature (s, len)) {
    *why = "no boot sector signature";
    return false;
  }
  if (is_exfat (s))
    return parse_exfat (s, l, why);

  l->bps = vbm_le16 (s + 11);
  l->spc = s[13];
  l->reserved = vbm_le16 (s + 14);
  l->nfats = s[16];
  root_entries = vbm_le16 (s + 17);
  tot16 = vbm_le16 (s + 19);
  fat16 = vbm_le16 (s + 22);
  l->total_sectors = tot16 ? tot16 : vbm_le32 (s + 32);
  l->fat_sectors = fat16 ? fat16 : vbm_le32 (s + 36);

  if (l->bps != 512 && l->bps != 1024 && l->bps != 2048 && l->bps != 4096) {
    *why = "bytes per sector is not 512, 1024, 2048 or 4096";
    return false;
  }
  if (l->spc == 0 || (l->spc & (l->spc - 1)) != 0) {
    *why = "sectors per cluster is not a power of 2";
    return false;
  }
  if (l->reserved == 0) {
    *why = "no reserved sectors";
    return false;
  }
  if (l->nfats == 0) {
    *why = "no FAT";
    return false;
  }
  if (l->fat_sectors == 0 || l->total_sectors == 0) {
    *why = "zero FAT size or zero total sectors";
    return false;
  }
  l->root_start = l->reserved + l->nfats * l->fat_sectors;
  l->root_sectors = ((uint64_t) root_entries * 32 + l->bps - 1) / l->bps;
  l->heap_start = l->root_start + l->root_sectors;
  if (l->heap_start >= l->total_sectors) {
    *why = "no room for data after the FATs";
    return false;
  }
  data = l->total_sectors - l->heap_start;
  l->nclusters = data / l->spc;
  if (l->nclusters == 0) {
    *why = "no cluster";
    return false;
  }
  /* The FAT type is decided by the cluster count alone. */
  if (l->nclusters < 4085)
    l->type = FAT12;
  else if (l->nclusters < 65525)
    l->type = FAT16;
  else
    l->type = FAT32;

  if (l->type == FAT32) {
    if (root_entries != 0 || fat16 != 0) {
      *why = "a FAT32 cluster count with a FAT12/16 BPB";
      return false;
    }
    l->root_cluster = vbm_le32 (s + 44);
    l->fsinfo = vbm_le16 (s + 48);
    l->backup_boot = vbm_le16 (s + 50);
    if (l->root_cluster < 2 || l->root_cluster > l->nclusters + 1) {
      *why = "root directory cluster out of range";
      return false;
    }
    /* Only inside the reserved sectors do they mean anything. */
    if (l->fsinfo >= l->reserved || l->fsinfo == 0xFFFF)
      l->fsinfo = 0;
    if (l->backup_boot >= l->reserved || l->backup_boot == 0xFFFF)
      l->backup_boot = 0;
  }
  else if (root_entries == 0) {
    *why = "FAT12/16 without root directory entries";
    return false;
  }

  /* The FAT holds an entry for every cluster. */
  {
    uint64_t bits = l->type == FAT12 ? 12 : l->type == FAT16 ? 16 : 32;
    if ((l->nclusters + 2) * bits > l->fat_sectors * l->bps * 8) {
      *why = "the FAT is too small for the cluster count";
      return false;
    }
  }
  return true;
}
