/* libext2fs error codes, for every phase of the ext2 reader: their
 * messages, which are checksum errors, and fatal ones.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <et/com_err.h>

#include "ext2-map.h"

/* error_message() needs the ext2 table registered in com_err's global
 * list; look the table up directly instead.
 */
const char *
ext2_strerror (errcode_t err)
{
  const struct error_table *et = &et_ext2_error_table;

  if (err >= et->base && err < et->base + et->n_msgs)
    return et->msgs[err - et->base];
  if (err > 0 && err < 4096)
    return strerror ((int) err);
  return "unknown libext2fs error";
}

int
ext2_fatal (struct ext2_map *m, errcode_t err, const char *what)
{
  vbm_set_error (m->ctx->err, err > 0 && err < 4096 ? (int) err : EIO,
                 "%s: %s: %s", m->vol->device, what, ext2_strerror (err));
  return -1;
}

bool
ext2_is_csum_error (errcode_t err)
{
  switch (err) {
  case EXT2_ET_SB_CSUM_INVALID:
  case EXT2_ET_UNKNOWN_CSUM:
  case EXT2_ET_BLOCK_BITMAP_CSUM_INVALID:
  case EXT2_ET_INODE_BITMAP_CSUM_INVALID:
  case EXT2_ET_INODE_CSUM_INVALID:
  case EXT2_ET_EXTENT_CSUM_INVALID:
  case EXT2_ET_DIR_CSUM_INVALID:
  case EXT2_ET_EXT_ATTR_CSUM_INVALID:
  case EXT2_ET_MMP_CSUM_INVALID:
    return true;
  default:
    return false;
  }
}
