/* The filesystem stage: a table of readers, each in its own folder
 * (lib/fs/ext2, lib/fs/ntfs), mapping through the accounting core
 * (fsmap.h).  A new reader is a new folder and one line in fs.c.
 */
#ifndef VBM_FS_H
#define VBM_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

struct vbm_fs_reader {
  const char *name;
  /* Does buf, the first len bytes of a volume, hold its superblock? */
  bool (*magic) (const unsigned char *buf, size_t len);
  /* When magic says no: is there a backup of the superblock the
   * reader can open the volume with?  NULL if there is none to look
   * for.
   */
  bool (*backup) (struct vbm_ctx *ctx, const struct vbm_volume *vol);
  /* A superblock past the first 4096 bytes that magic sees (btrfs's
   * is at 64 KiB): does the volume hold one?  NULL if none.
   */
  bool (*probe) (struct vbm_ctx *ctx, const struct vbm_volume *vol);
  /* Maps the volume.  -1 only on fatal errors: a corrupt filesystem
   * gives warnings and a partial map.
   */
  int (*map) (struct vbm_ctx *ctx, const struct vbm_volume *vol);
  /* Its first 512 bytes are unused (boot code): an MBR there may be
   * in front of it rather than a partition table.
   */
  bool mbr_room;
};

/* Detects the filesystem in a volume and maps it.  A volume with no
 * recognised filesystem is left as it is.  Returns -1 only on fatal
 * errors.
 */
extern int vbm_map_filesystem (struct vbm_ctx *ctx,
                               const struct vbm_volume *vol);

/* Whether buf, the first len bytes of a volume, holds a filesystem we
 * read; if mbr_room, only one that leaves its first sector free.
 */
extern bool vbm_fs_magic (const unsigned char *buf, size_t len,
                          bool mbr_room);

/* btrfs over several devices (lib/fs/btrfs/devices.c): its members
 * are gathered in ctx->btrfs as volumes are mapped; once every disk
 * has been, those not mapped yet (a device missing) are mapped with
 * what is there.
 */
struct vbm_btrfs_state;
extern int vbm_map_btrfs_pending (struct vbm_ctx *ctx);
extern void vbm_btrfs_state_free (struct vbm_btrfs_state *st);

#endif /* VBM_FS_H */
