/* Filesystem detection: picks the mapper for a volume's contents. */
#include <config.h>

#include <string.h>

#include "internal.h"

/* Enough for every superblock we probe (ext's is at 1024..2047). */
#define PROBE_SIZE 4096

int
vbm_map_filesystem (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char buf[PROBE_SIZE];
  size_t len = vol->length < PROBE_SIZE ? vol->length : PROBE_SIZE;

  memset (buf, 0, sizeof buf);
  if (vbm_volume_pread (ctx, vol, buf, len, 0) == -1) {
    vbm_warn (ctx, "%s: cannot read: %s", vol->device, ctx->err->msg);
    return 0;
  }
  if (vbm_ext2_probe (buf, len))
    return vbm_map_ext2 (ctx, vol);
  /* A wiped primary superblock: the backups still describe the
   * filesystem, and libext2fs can open it from them.
   */
  if (vbm_ext2_probe_backup (ctx, vol))
    return vbm_map_ext2 (ctx, vol);
  /* NTFS, or a volume whose boot sector is gone but whose backup
   * remains (vbm_map_ntfs falls back to it).
   */
  if (vbm_ntfs_probe (buf, len) || vbm_ntfs_probe_backup (ctx, vol))
    return vbm_map_ntfs (ctx, vol);

  vbm_debug (ctx, "%s: no filesystem recognised", vol->device);
  return 0;
}
