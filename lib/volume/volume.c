/* Bounds-checked reads inside a volume (disk, partition, LV). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>

#include "internal.h"

int64_t
vbm_add_volume_object (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                       char kind, const char *path, uint64_t inode,
                       uint64_t size, unsigned flags)
{
  struct vbm_object obj = {
    .parent = vol->object,
    .disk = ctx->disk,
    .kind = kind,
    .device = vol->device,
    .path = path,
    .inode = inode,
    .size = size,
    .flags = flags,
  };

  return vbm_add_object (ctx, &obj);
}

int
vbm_volume_pread (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  void *buf, size_t count, uint64_t offset)
{
  if (offset > vol->length || count > vol->length - offset) {
    vbm_set_error (ctx->err, EIO,
                   "%s: read of %zu bytes at offset %" PRIu64
                   " is beyond the end of the volume (%" PRIu64 " bytes)",
                   vol->device, count, offset, vol->length);
    return -1;
  }
  return vbm_source_pread (ctx->src, buf, count, vol->offset + offset,
                           ctx->err);
}
