/* NTFS, with libntfs-3g: opening (with a backup boot sector if the
 * primary is unusable), the phases run in order (see ntfs-map.h), and
 * $Bitmap and the volume's tail for the final accounting.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "fs.h"
#include "ntfs-map.h"

#include <ntfs-3g/attrib.h>

#define SECTOR 512
/* Bitmap bytes read at a time when accounting free clusters. */
#define BITMAP_CHUNK 65536

/* ---- Opening. ---- */

/* Mounts the volume; on an unusable primary boot sector, tries again
 * with the backups found (a few at most).  NULL (with a warning) if
 * none works.
 */
#define MAX_BACKUP_MOUNTS 4

static ntfs_volume *
open_volume (struct ntfs_map *m, struct vbm_ntfs_io_target *target,
             unsigned char *backup)
{
  struct ntfs_backup_search s = { .phase = 0 };
  ntfs_volume *nv;
  unsigned tries = 0;
  uint64_t at;
  int e;

  nv = vbm_ntfs_mount (target);
  if (nv || target->io_failed)
    return nv;
  e = errno;
  while (tries++ < MAX_BACKUP_MOUNTS &&
         ntfs_next_backup (m->ctx, m->vol, &s, backup, &at)) {
    target->boot = backup;
    nv = vbm_ntfs_mount (target);
    if (nv) {
      ntfs_warn (m, "primary boot sector unusable (%s): using the backup "
                 "boot sector in sector %" PRIu64, strerror (e),
                 at / SECTOR);
      return nv;
    }
    if (target->io_failed)
      return NULL;
  }
  target->boot = NULL;
  ntfs_warn (m, "NTFS volume not mapped: %s", strerror (e));
  return NULL;
}

/* ---- Accounting. ---- */

/* Hands $Bitmap to the accounting core.  What cannot be read counts
 * as in use, the safe side.
 */
static int
load_bitmap (struct ntfs_map *m)
{
  ntfs_attr *bmp = m->nv->lcnbmp_na;
  unsigned char buf[BITMAP_CHUNK];
  uint64_t base = 0;            /* byte of $Bitmap in buf[0] */
  bool warned = false;

  while (base < m->tracked / 8 + (m->tracked % 8 != 0)) {
    s64 r = bmp ? ntfs_attr_pread (bmp, base, sizeof buf, buf) : -1;
    uint64_t have = r > 0 ? r : 0, nbits;

    if (have == 0) {
      memset (buf, 0xff, sizeof buf);
      have = sizeof buf;
      if (!warned)
        ntfs_warn (m, "cannot read $Bitmap: unclaimed clusters are "
                   "<unaccounted>");
      warned = true;
    }
    nbits = m->tracked - base * 8 < have * 8 ? m->tracked - base * 8
      : have * 8;
    if (vbm_fsmap_allocated_bits (m->fm, base * 8, buf, nbits) == -1)
      return -1;
    base += have;
  }
  return 0;
}

/* The backup boot sector and whatever follows the last cluster. */
static int
map_tail (struct ntfs_map *m)
{
  const uint64_t len = m->vol->length;
  uint64_t start = m->fs_bytes, backup;

  if (start >= len)
    return 0;
  /* The backup boot sector: the sector after the filesystem's last
   * one, normally the last of the volume.
   */
  backup = m->total_sectors * SECTOR;
  if (m->total_sectors < UINT64_MAX / SECTOR && backup >= start &&
      backup < len && len - backup >= SECTOR && m->boot_obj > 0) {
    unsigned char sec[SECTOR];

    if (vbm_volume_pread (m->ctx, m->vol, sec, SECTOR, backup) == 0 &&
        ntfs_magic (sec, SECTOR)) {
      if (vbm_fsmap_beyond (m->fm, start, backup, SECTOR) == -1)
        return -1;
      return vbm_fsmap_bytes (m->fm, m->boot_obj, backup, SECTOR, 0, 0);
    }
  }
  return vbm_fsmap_beyond (m->fm, start, 0, 0);
}

static int
map_unclaimed (struct ntfs_map *m)
{
  struct vbm_fsmap_unclaimed u;

  if (load_bitmap (m) == -1 ||
      vbm_fsmap_sweep (m->fm, &u) == -1)
    return -1;
  if (u.unaccounted)
    ntfs_warn (m, "%" PRIu64 " cluster(s) in use in $Bitmap belong to no "
               "file or metadata: mapped as <unaccounted>", u.unaccounted);
  return map_tail (m);
}

/* ---- The mapper. ---- */

static bool
check_geometry (struct ntfs_map *m)
{
  ntfs_volume *nv = m->nv;
  uint64_t vol_clusters;

  m->cs = nv->cluster_size;
  m->nclusters = nv->nr_clusters;
  if (m->cs < SECTOR || m->cs > (UINT64_C (1) << 21) ||
      (m->cs & (m->cs - 1)) != 0 || nv->nr_clusters <= 0 ||
      MUL_OVERFLOW (m->nclusters, m->cs, &m->fs_bytes)) {
    ntfs_warn (m, "not a valid NTFS volume: %" PRIu64 " clusters of %"
               PRIu64 " bytes", m->nclusters, m->cs);
    return false;
  }
  vol_clusters = m->vol->length / m->cs + (m->vol->length % m->cs != 0);
  m->tracked = m->nclusters < vol_clusters ? m->nclusters : vol_clusters;
  if (m->fs_bytes > m->vol->length)
    ntfs_warn (m, "filesystem is %" PRIu64 " bytes but the volume only %"
               PRIu64 " (truncated image?): mapping what is inside",
               m->fs_bytes, m->vol->length);
  return true;
}

/* The filesystem in clusters, for the accounting core. */
static void
set_geometry (struct ntfs_map *m)
{
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "cluster",
    .outside = "the filesystem or the volume",
    .unit_size = m->cs,
    .units = m->tracked,
  };

  vbm_fsmap_set_geometry (m->fm, &geo);
}

static int
ntfs_map_volume (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct vbm_ntfs_io_target target = { .ctx = ctx, .vol = vol };
  struct ntfs_map m = { .ctx = ctx, .vol = vol };
  unsigned char backup[SECTOR];
  int r = -1;

  m.fm = vbm_fsmap_new (ctx, vol);
  if (m.fm == NULL)
    return -1;
  m.nv = open_volume (&m, &target, backup);
  if (m.nv == NULL || !check_geometry (&m)) {
    r = 0;
    goto out;
  }
  /* The boot sector in use, for the position of its backup. */
  if (target.boot == NULL &&
      vbm_volume_pread (ctx, vol, backup, SECTOR, 0) == -1)
    goto out;
  m.total_sectors = sle64_to_cpu (((NTFS_BOOT_SECTOR *) backup)->
                                  number_of_sectors);
  if (ctx->stats)
    ctx->stats->filesystems++;
  if (vbm_set_fstype (ctx, vol->object, "ntfs") == -1)
    goto out;
  vbm_expect (ctx, m.nv->mft_na->initialized_size >>
              m.nv->mft_record_size_bits);
  vbm_debug (ctx, "%s: ntfs, %" PRIu64 " clusters of %" PRIu64 " bytes, "
             "MFT records of %u bytes", vol->device, m.nclusters, m.cs,
             (unsigned) m.nv->mft_record_size);

  set_geometry (&m);
  if (ntfs_collect_names (&m) == -1 ||
      ntfs_map_files (&m) == -1 ||
      ntfs_map_deleted (&m) == -1 ||
      map_unclaimed (&m) == -1 ||
      vbm_fsmap_finish (m.fm) == -1)
    goto out;
  r = 0;

 out:
  if (m.nv)
    ntfs_umount (m.nv, FALSE);
  if (target.io_failed) {
    if (ctx->err)
      *ctx->err = target.io_error;
    r = -1;
  }
  vbm_ntfs_io_free (&target);
  ntfs_free_names (&m);
  vbm_fsmap_free (m.fm);
  return r;
}

const struct vbm_fs_reader vbm_ntfs_reader = {
  .name = "ntfs",
  .magic = ntfs_magic,
  .backup = ntfs_probe_backup,
  .map = ntfs_map_volume,
};
