/* NTFS, with libntfs-3g: opening (with a backup boot sector if the
 * primary is unusable), the cluster claiming shared by the phases (see
 * ntfs-map.h), and the final accounting of free space.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ntfs-map.h"

#include <ntfs-3g/attrib.h>

#define SECTOR 512
/* Bitmap bytes read at a time when accounting free clusters. */
#define BITMAP_CHUNK 65536

void
ntfs_warn (struct ntfs_map *m, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vbm_vwarn_limited (m->ctx, &m->warn_limit, m->vol->device, fs, args);
  va_end (args);
}

int64_t
ntfs_add_object (struct ntfs_map *m, char kind, const char *path,
                 uint64_t inode, uint64_t size, unsigned flags)
{
  return vbm_add_volume_object (m->ctx, m->vol, kind, path, inode, size,
                                flags);
}

int
ntfs_map_bytes (struct ntfs_map *m, int64_t object, uint64_t start,
                uint64_t len, int64_t off, unsigned flags)
{
  if (start >= m->vol->length || len == 0)
    return 0;
  if (len > m->vol->length - start)
    len = m->vol->length - start;
  return vbm_volume_add_extent (m->ctx, m->vol, object, start, len,
                                off, flags);
}

/* Maps a byte range of a stream, split where the initialized size
 * and the data size fall.
 */
static int
emit (struct ntfs_map *m, int64_t object, uint64_t start, uint64_t len,
      int64_t off, unsigned flags)
{
  uint64_t o;

  if (off < 0)
    return ntfs_map_bytes (m, object, start, len, off, flags);
  for (o = off; len > 0;) {
    uint64_t k = len;
    unsigned fl = flags;

    if (o < m->init_size) {
      if (m->init_size - o < k)
        k = m->init_size - o;
    }
    else if (o < m->past_eof) {
      fl |= VBM_EXTENT_UNWRITTEN;
      if (m->past_eof - o < k)
        k = m->past_eof - o;
    }
    else
      fl |= VBM_EXTENT_PAST_EOF;
    if (ntfs_map_bytes (m, object, start, k, o, fl) == -1)
      return -1;
    start += k;
    o += k;
    len -= k;
  }
  return 0;
}

static bool
is_claimed (struct ntfs_map *m, uint64_t c)
{
  return m->claimed[c / 8] & (1u << (c % 8));
}

int
ntfs_map_clusters (struct ntfs_map *m, int64_t object, uint64_t lcn,
                   uint64_t n, int64_t off, unsigned flags)
{
  uint64_t end, c, run;

  if (n == 0)
    return 0;
  if (ADD_OVERFLOW (lcn, n, &end) || end > m->tracked)
    end = m->tracked;
  if (lcn >= end) {
    m->obj_outside += n;
    return 0;
  }
  m->obj_outside += n - (end - lcn);

  for (c = lcn; c < end; c = run) {
    if (is_claimed (m, c)) {
      m->obj_conflicts++;
      run = c + 1;
      continue;
    }
    for (run = c; run < end && !is_claimed (m, run); run++)
      m->claimed[run / 8] |= 1u << (run % 8);
    if (emit (m, object, c * m->cs, (run - c) * m->cs,
                        off == -1 ? -1 : off + (int64_t) ((c - lcn) * m->cs),
                        flags) == -1)
      return -1;
  }
  return 0;
}

void
ntfs_end_object (struct ntfs_map *m, const char *what)
{
  if (m->obj_conflicts)
    ntfs_warn (m, "%s: %" PRIu64 " cluster(s) already belong to another "
               "object (mapped once)", what, m->obj_conflicts);
  if (m->obj_outside)
    ntfs_warn (m, "%s: %" PRIu64 " cluster(s) outside the filesystem "
               "or the volume (not mapped)", what, m->obj_outside);
  m->obj_conflicts = m->obj_outside = 0;
}

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

struct unclaimed {
  bool emit;
  uint64_t free, unaccounted;   /* clusters */
  int64_t free_obj, unacc_obj;
  uint64_t run_start, run_len;
  bool run_used;
};

static int
flush_unclaimed (struct ntfs_map *m, struct unclaimed *u)
{
  int64_t obj;

  if (u->run_len == 0)
    return 0;
  if (!u->emit) {
    if (u->run_used)
      u->unaccounted += u->run_len;
    else
      u->free += u->run_len;
    u->run_len = 0;
    return 0;
  }
  if (u->run_used) {
    if (u->unacc_obj == 0)
      u->unacc_obj = ntfs_add_object (m, VBM_KIND_METADATA, "<unaccounted>",
                                      0, u->unaccounted * m->cs, 0);
    obj = u->unacc_obj;
  }
  else {
    if (u->free_obj == 0)
      u->free_obj = ntfs_add_object (m, VBM_KIND_FREE, "<free space>",
                                     0, u->free * m->cs, 0);
    obj = u->free_obj;
  }
  if (obj == -1 ||
      ntfs_map_bytes (m, obj, u->run_start * m->cs, u->run_len * m->cs,
                      -1, 0) == -1)
    return -1;
  u->run_len = 0;
  return 0;
}

static int
walk_unclaimed (struct ntfs_map *m, struct unclaimed *u)
{
  ntfs_attr *bmp = m->nv->lcnbmp_na;
  unsigned char buf[BITMAP_CHUNK];
  uint64_t c, base = 0, have = 0;
  bool warned = false;

  for (c = 0; c < m->tracked; c++) {
    bool used;

    if (c / 8 >= base + have) {
      s64 r;

      base = c / 8;
      r = bmp ? ntfs_attr_pread (bmp, base, sizeof buf, buf) : -1;
      have = r > 0 ? r : 0;
      if (have == 0) {
        /* Unknown: count the cluster as used, the safe side. */
        memset (buf, 0xff, sizeof buf);
        have = sizeof buf;
        if (!warned && !u->emit)
          ntfs_warn (m, "cannot read $Bitmap: unclaimed clusters are "
                     "<unaccounted>");
        warned = true;
      }
    }
    if (is_claimed (m, c)) {
      if (flush_unclaimed (m, u) == -1)
        return -1;
      continue;
    }
    used = buf[c / 8 - base] & (1u << (c % 8));
    if (u->run_len && u->run_used != used && flush_unclaimed (m, u) == -1)
      return -1;
    if (u->run_len == 0) {
      u->run_start = c;
      u->run_used = used;
    }
    u->run_len++;
  }
  return flush_unclaimed (m, u);
}

/* The backup boot sector and whatever follows the last cluster. */
static int
map_tail (struct ntfs_map *m)
{
  const uint64_t len = m->vol->length;
  uint64_t start = m->fs_bytes, backup;
  int64_t obj;

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
        vbm_ntfs_probe (sec, SECTOR)) {
      if (backup > start) {
        obj = ntfs_add_object (m, VBM_KIND_FREE, "<beyond filesystem>", 0,
                               len - start - SECTOR, 0);
        if (obj == -1 ||
            ntfs_map_bytes (m, obj, start, backup - start, -1, 0) == -1 ||
            ntfs_map_bytes (m, obj, backup + SECTOR,
                            len - backup - SECTOR, -1, 0) == -1)
          return -1;
      }
      else if (len > backup + SECTOR) {
        obj = ntfs_add_object (m, VBM_KIND_FREE, "<beyond filesystem>", 0,
                               len - backup - SECTOR, 0);
        if (obj == -1 ||
            ntfs_map_bytes (m, obj, backup + SECTOR,
                            len - backup - SECTOR, -1, 0) == -1)
          return -1;
      }
      return ntfs_map_bytes (m, m->boot_obj, backup, SECTOR, 0, 0);
    }
  }
  obj = ntfs_add_object (m, VBM_KIND_FREE, "<beyond filesystem>", 0,
                         len - start, 0);
  if (obj == -1 || ntfs_map_bytes (m, obj, start, len - start, -1, 0) == -1)
    return -1;
  return 0;
}

static int
map_unclaimed (struct ntfs_map *m)
{
  struct unclaimed u = { .emit = false };

  if (walk_unclaimed (m, &u) == -1)
    return -1;
  u.emit = true;
  if (walk_unclaimed (m, &u) == -1)
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

int
vbm_map_ntfs (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct vbm_ntfs_io_target target = { .ctx = ctx, .vol = vol };
  struct ntfs_map m = {
    .ctx = ctx, .vol = vol, .init_size = UINT64_MAX, .past_eof = UINT64_MAX,
  };
  unsigned char backup[SECTOR];
  int r = -1;

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

  m.claimed = calloc (m.tracked / 8 + 1, 1);
  if (m.claimed == NULL) {
    vbm_set_error (ctx->err, ENOMEM, "%s: allocating a bitmap", vol->device);
    goto out;
  }
  if (ntfs_collect_names (&m) == -1 ||
      ntfs_map_files (&m) == -1 ||
      map_unclaimed (&m) == -1)
    goto out;
  vbm_warn_limit_end (ctx, &m.warn_limit, vol->device);
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
  free (m.claimed);
  return r;
}
