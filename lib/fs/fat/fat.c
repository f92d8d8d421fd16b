/* FAT12, FAT16, FAT32 and exFAT through The Sleuth Kit: the boot
 * sector (or its backup), libtsk opened over our reads, then the
 * phases of fat-map.h.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fat-map.h"

#define SECTOR 512

static bool
fat_magic (const unsigned char *buf, size_t len)
{
  return fat_boot_signature (buf, len);
}

/* The boot sector to use: the primary, or its backup (sector 6 of
 * FAT32, sector 12 of exFAT) when the primary is unusable.  0, with a
 * warning, if neither is; -1 if the source fails.  *backup_used is set
 * when the backup was chosen; sec then holds it.
 */
static int
read_boot (struct fat_map *m, unsigned char *sec, size_t len,
           bool *backup_used)
{
  static const uint64_t backups[] = { 6, 12 };
  const char *why, *why_backup;
  size_t i;

  *backup_used = false;
  if (vbm_volume_pread (m->ctx, m->vol, sec, len, 0) == -1)
    return -1;
  if (fat_parse_boot (sec, len, &m->l, &why))
    return 1;
  for (i = 0; i < sizeof backups / sizeof backups[0]; ++i) {
    unsigned char b[SECTOR];
    struct fat_layout l;

    if ((backups[i] + 1) * SECTOR > m->vol->length ||
        vbm_volume_pread (m->ctx, m->vol, b, SECTOR,
                          backups[i] * SECTOR) == -1)
      continue;
    /* The backup is for the type it says it is. */
    if (fat_parse_boot (b, SECTOR, &l, &why_backup) &&
        ((l.type == FAT32 && backups[i] == 6) ||
         (l.type == EXFAT && backups[i] == 12)) &&
        l.bps == SECTOR) {
      vbm_fsmap_warn (m->fm, "boot sector unusable (%s): using the backup "
                      "boot sector in sector %" PRIu64, why, backups[i]);
      memcpy (sec, b, SECTOR);
      m->l = l;
      *backup_used = true;
      return 1;
    }
  }
  vbm_fsmap_warn (m->fm, "FAT boot sector unusable (%s): only the boot "
                  "sector is mapped", why);
  return 0;
}

/* What is known of an unusable volume: where its boot sector is. */
static int
map_boot_only (struct fat_map *m)
{
  int64_t obj = vbm_fsmap_meta (m->fm, "<boot sector>", SECTOR);

  if (obj == -1 || vbm_fsmap_bytes (m->fm, obj, 0, SECTOR, 0, 0) == -1)
    return -1;
  return vbm_fsmap_finish (m->fm);
}

static void
set_geometry (struct fat_map *m)
{
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "cluster",
    .outside = "the cluster heap",
    .unit_size = (uint64_t) m->l.spc * m->l.bps,
    .base = m->l.heap_start * m->l.bps,
    .units = m->l.nclusters,
  };

  vbm_fsmap_set_geometry (m->fm, &geo);
}

static int
fat_map (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct fat_map m = { .ctx = ctx, .vol = vol };
  struct fat_img *fi = NULL;
  TSK_IMG_INFO *img = NULL;
  unsigned char sec[SECTOR];
  bool backup_used;
  int r = -1, ok;

  if (vol->length < SECTOR)
    return 0;
  m.fm = vbm_fsmap_new (ctx, vol);
  if (m.fm == NULL)
    return -1;
  ok = read_boot (&m, sec, SECTOR, &backup_used);
  if (ok <= 0) {
    r = ok == 0 ? map_boot_only (&m) : -1;
    goto out;
  }
  if (fat_heap_end (&m.l) * m.l.bps > vol->length)
    vbm_fsmap_warn (m.fm, "filesystem is %" PRIu64 " bytes but the volume "
                    "only %" PRIu64 " (truncated image?): mapping what is "
                    "inside", fat_heap_end (&m.l) * m.l.bps, vol->length);

  /* libtsk's image: 2 MiB with its read cache, so not on the stack. */
  fi = calloc (1, sizeof *fi);
  if (fi == NULL) {
    vbm_set_error (ctx->err, errno, "%s: %s", vol->device, strerror (errno));
    goto out;
  }
  fi->ctx = ctx;
  fi->vol = vol;
  if (backup_used) {
    fi->boot = sec;
    fi->boot_len = SECTOR;
  }
  tsk_error_reset ();
  img = fat_img_open (fi);
  if (img)
    m.fs = tsk_fs_open_img (img, 0, m.l.type == EXFAT ? TSK_FS_TYPE_EXFAT
                            : TSK_FS_TYPE_FAT_DETECT);
  if (fi->io_failed)
    goto out;
  if (m.fs == NULL) {
    vbm_fsmap_warn (m.fm, "libtsk cannot open the %s filesystem: %s "
                    "(only the boot sector is mapped)",
                    fat_type_name (m.l.type),
                    tsk_error_get () ? tsk_error_get () : "unknown error");
    tsk_error_reset ();
    r = map_boot_only (&m);
    goto out;
  }

  if (ctx->stats)
    ctx->stats->filesystems++;
  if (vbm_set_fstype (ctx, vol->object, fat_type_name (m.l.type)) == -1)
    goto out;
  vbm_debug (ctx, "%s: %s, %" PRIu64 " clusters of %" PRIu64 " bytes",
             vol->device, fat_type_name (m.l.type), m.l.nclusters,
             (uint64_t) m.l.spc * m.l.bps);
  set_geometry (&m);
  fat_check_tsk_layout (&m);
  if (fat_map_metadata (&m) == -1 ||
      fat_map_files (&m) == -1 ||
      fi->io_failed)
    goto out;
  fat_check_tsk_fats (&m);
  if (fat_map_unclaimed (&m) == -1 || vbm_fsmap_finish (m.fm) == -1)
    goto out;
  r = 0;

 out:
  if (m.fs)
    tsk_fs_close (m.fs);
  if (img)
    tsk_img_close (img);
  if (fi && fi->io_failed) {
    if (ctx->err)
      *ctx->err = fi->io_error;
    r = -1;
  }
  free (fi);
  vbm_fsmap_free (m.fm);
  return r;
}

const struct vbm_fs_reader vbm_fat_reader = {
  .name = "fat",
  .magic = fat_magic,
  .map = fat_map,
};
