/* Filesystem detection: picks the reader for a volume's contents. */
#include <config.h>

#include <string.h>

#include "fs.h"

/* Enough for every superblock we probe (ext's is at 1024..2047). */
#define PROBE_SIZE 4096

/* The readers, in the order they are tried.  Each folder defines its
 * vbm_NAME_reader: a new reader is one more name on this line.
 */
#define READERS(R) R (ext2) R (ntfs) R (fat) R (xfs) R (btrfs)

#define DECLARE(name) extern const struct vbm_fs_reader vbm_##name##_reader;
READERS (DECLARE)
#define ENTRY(name) &vbm_##name##_reader,
static const struct vbm_fs_reader *const readers[] = { READERS (ENTRY) };
#define NR_READERS (sizeof readers / sizeof readers[0])

bool
vbm_fs_magic (const unsigned char *buf, size_t len, bool mbr_room)
{
  size_t i;

  for (i = 0; i < NR_READERS; ++i)
    if ((!mbr_room || readers[i]->mbr_room) && readers[i]->magic (buf, len))
      return true;
  return false;
}

int
vbm_map_filesystem (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char buf[PROBE_SIZE];
  size_t len = vol->length < PROBE_SIZE ? vol->length : PROBE_SIZE;
  size_t i;

  memset (buf, 0, sizeof buf);
  if (vbm_volume_pread (ctx, vol, buf, len, 0) == -1) {
    vbm_warn (ctx, "%s: cannot read: %s", vol->device, ctx->err->msg);
    return 0;
  }
  /* A wiped primary superblock: the backups may still describe the
   * filesystem, and the reader open it from them.
   */
  for (i = 0; i < NR_READERS; ++i)
    if (readers[i]->magic (buf, len) ||
        (readers[i]->probe && readers[i]->probe (ctx, vol)) ||
        (readers[i]->backup && readers[i]->backup (ctx, vol)))
      return readers[i]->map (ctx, vol);

  vbm_debug (ctx, "%s: no filesystem recognised", vol->device);
  return 0;
}
