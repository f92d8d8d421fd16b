/* NTFS boot sectors: detection, and where to look for a backup when
 * the primary (the volume's first sector) is unusable.
 *
 * Where the backup is, per the tools that write and repair it:
 *  - mkntfs and Windows write it in the sector numbered by the boot
 *    sector's count of sectors (the count is one less than the
 *    partition's sectors), so normally in the partition's last sector;
 *    when the partition is larger than the filesystem (grown, or a
 *    wrong partition table) it is further in.  ntfsfix tries the last
 *    sector, then the sector the damaged primary's count names;
 *  - TestDisk's deeper search looks for backups in the last sector
 *    before each 1 MiB boundary of the disk and of each cylinder (255
 *    heads x 63 sectors), where partitions end, and takes a backup at
 *    sector S whose count is C as a volume starting at S - C.
 * We try those in that order.  Not tried: chkdsk's middle sector,
 * used when the count equals the partition's sectors (per ntfsfix; no
 * tool here makes such a volume to test it).  The scan of boundaries
 * goes back at most BACKUP_WINDOW bytes from the volume's end, so that
 * a volume that is not NTFS costs a bounded number of small reads
 * (about 150).  A candidate other than the last sector must say where
 * it is: its count of sectors gives its own position.  Sectors of 512
 * bytes only.
 */
#include <config.h>

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "ntfs-map.h"

#define SECTOR 512
#define MIB (UINT64_C (1) << 20)
#define CYLINDER (UINT64_C (255) * 63 * SECTOR)
#define BACKUP_WINDOW (128 * MIB)

bool
ntfs_magic (const unsigned char *buf, size_t len)
{
  return len >= SECTOR && memcmp (buf + 3, "NTFS    ", 8) == 0 &&
    buf[510] == 0x55 && buf[511] == 0xaa;
}

/* The boot sector's count of sectors in the volume. */
static uint64_t
boot_count (const unsigned char *sec)
{
  uint64_t c;

  memcpy (&c, sec + 0x28, sizeof c);
  return le64toh (c);
}

/* A boot sector with 512-byte sectors and a sane cluster size. */
static bool
plausible (const unsigned char *sec)
{
  return ntfs_magic (sec, SECTOR) && sec[0x0b] == 0 && sec[0x0c] == 2 &&
    sec[0x0d] != 0 && (sec[0x0d] & (sec[0x0d] - 1)) == 0;
}

/* Reads the sector at byte pos of the volume.  A failed read is not
 * fatal here: the candidate is just not there.
 */
static bool
read_sector (struct vbm_ctx *ctx, const struct vbm_volume *vol,
             uint64_t pos, unsigned char *sec)
{
  struct vbm_error saved = *ctx->err;

  if (pos > vol->length - SECTOR ||
      vbm_volume_pread (ctx, vol, sec, SECTOR, pos) == -1) {
    *ctx->err = saved;
    return false;
  }
  return true;
}

static bool
read_candidate (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                uint64_t pos, unsigned char *sec)
{
  return pos >= SECTOR && read_sector (ctx, vol, pos, sec) && plausible (sec);
}

/* The next position of the scan of boundaries going back from the
 * volume's end: the last sector before a 1 MiB boundary (phase 2) or
 * a cylinder boundary (phase 3) of the disk, or 0 when done.
 */
static uint64_t
next_boundary (const struct vbm_volume *vol, uint64_t step, uint64_t *from)
{
  const uint64_t end = vol->offset + vol->length;
  const uint64_t low = vol->length > BACKUP_WINDOW
    ? end - BACKUP_WINDOW : vol->offset;
  uint64_t b = *from ? *from - step : end / step * step;

  if (b <= low || b - vol->offset < 2 * SECTOR)
    return 0;
  *from = b;
  return b - SECTOR - vol->offset;
}

bool
ntfs_next_backup (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  struct ntfs_backup_search *s, unsigned char *sec,
                  uint64_t *at)
{
  const uint64_t last = (vol->length / SECTOR - 1) * SECTOR;
  unsigned char primary[SECTOR];
  uint64_t pos, c;

  if (vol->length < 2 * SECTOR)
    return false;
  for (;;) {
    switch (s->phase) {
    case 0:                     /* the last sector: any boot sector */
      s->phase++;
      if (read_candidate (ctx, vol, last, sec)) {
        *at = last;
        return true;
      }
      break;
    case 1:                     /* where the primary's count says */
      s->phase++;
      if (!read_sector (ctx, vol, 0, primary))
        break;
      c = boot_count (primary);
      if (c > 0 && c < vol->length / SECTOR && c * SECTOR != last &&
          read_candidate (ctx, vol, c * SECTOR, sec) &&
          boot_count (sec) == c) {
        *at = c * SECTOR;
        return true;
      }
      break;
    case 2:                     /* TestDisk: before 1 MiB boundaries */
    case 3:                     /* and cylinder boundaries */
      pos = next_boundary (vol, s->phase == 2 ? MIB : CYLINDER, &s->from);
      if (pos == 0) {
        s->phase++;
        s->from = 0;
        break;
      }
      if (pos != last && read_candidate (ctx, vol, pos, sec) &&
          boot_count (sec) == pos / SECTOR) {
        *at = pos;
        return true;
      }
      break;
    default:
      return false;
    }
  }
}

bool
ntfs_probe_backup (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct ntfs_backup_search s = { .phase = 0 };
  unsigned char sec[SECTOR];
  uint64_t at;

  return ntfs_next_backup (ctx, vol, &s, sec, &at);
}
