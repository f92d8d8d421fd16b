/* The btrfs superblock: parsed and checked before anything is read
 * from what it points to.  Pure parsing, unit-tested
 * (tests/test-btrfs-unit.c).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "btrfs-map.h"
#include "checksum-ok.h"
#include "crc32c.h"

bool
bt_sb_magic (const unsigned char *buf)
{
  return memcmp (buf + 64, BT_MAGIC, 8) == 0;
}

const char *
bt_csum_name (uint16_t csum_type)
{
  switch (csum_type) {
  case 0: return "crc32c";
  case 1: return "xxhash64";
  case 2: return "sha256";
  case 3: return "blake2b";
  default: return "unknown";
  }
}

int
bt_csum_ok (uint16_t csum_type, const unsigned char *buf, size_t len)
{
  uint32_t crc;

  if (csum_type != 0 || len < BT_CSUM_SIZE)
    return -1;
  /* The checksum covers everything after itself. */
  crc = vbm_crc32c (0, buf + BT_CSUM_SIZE, len - BT_CSUM_SIZE);
  return vbm_checksum_ok (crc, vbm_le32 (buf));
}

static bool
pow2 (uint64_t x)
{
  return x && !(x & (x - 1));
}

#define WHY(...) (snprintf (why, whylen, __VA_ARGS__), false)

bool
bt_parse_sb (const unsigned char *b, struct bt_sb *sb, char *why,
             size_t whylen)
{
  const unsigned char *dev = b + BT_DEV_ITEM_OFF;

  memset (sb, 0, sizeof *sb);
  if (!bt_sb_magic (b))
    return WHY ("no magic");
  memcpy (sb->fsid, b + 32, BT_FSID_SIZE);
  sb->bytenr = vbm_le64 (b + 48);
  sb->generation = vbm_le64 (b + 72);
  sb->root = vbm_le64 (b + 80);
  sb->chunk_root = vbm_le64 (b + 88);
  sb->log_root = vbm_le64 (b + 96);
  sb->total_bytes = vbm_le64 (b + 112);
  sb->num_devices = vbm_le64 (b + 136);
  sb->sectorsize = vbm_le32 (b + 144);
  sb->nodesize = vbm_le32 (b + 148);
  sb->stripesize = vbm_le32 (b + 156);
  sb->sys_array_size = vbm_le32 (b + 160);
  sb->compat_ro = vbm_le64 (b + 180);
  sb->incompat = vbm_le64 (b + 188);
  sb->csum_type = vbm_le16 (b + 196);
  sb->root_level = b[198];
  sb->chunk_root_level = b[199];
  sb->log_root_level = b[200];
  sb->devid = vbm_le64 (dev);
  sb->dev_total_bytes = vbm_le64 (dev + 8);
  memcpy (sb->dev_uuid, dev + 66, 16);
  /* With the metadata_uuid feature, tree blocks carry another fsid. */
  if (sb->incompat & BT_IN_METADATA_UUID)
    memcpy (sb->meta_fsid, b + 571, BT_FSID_SIZE);
  else
    memcpy (sb->meta_fsid, sb->fsid, BT_FSID_SIZE);

  if (sb->bytenr != BT_SUPER_OFFSET)
    return WHY ("superblock says it is at byte %" PRIu64, sb->bytenr);
  if (!pow2 (sb->sectorsize) || sb->sectorsize < 4096 ||
      sb->sectorsize > 65536)
    return WHY ("sector size %" PRIu32, sb->sectorsize);
  if (!pow2 (sb->nodesize) || sb->nodesize < sb->sectorsize ||
      sb->nodesize > 65536)
    return WHY ("node size %" PRIu32, sb->nodesize);
  if (sb->sys_array_size > BT_SYS_ARRAY_MAX)
    return WHY ("system chunk array of %" PRIu32 " bytes",
                sb->sys_array_size);
  if (sb->root_level >= BT_MAX_LEVEL || sb->chunk_root_level >= BT_MAX_LEVEL)
    return WHY ("tree levels %u, %u", sb->root_level, sb->chunk_root_level);
  if (sb->num_devices == 0 || sb->num_devices > 65536)
    return WHY ("%" PRIu64 " devices", sb->num_devices);
  if (sb->root % sb->sectorsize || sb->chunk_root % sb->sectorsize)
    return WHY ("tree roots not aligned to sectors");
  return true;
}
