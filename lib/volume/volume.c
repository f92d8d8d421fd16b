/* Reads and extents inside a volume (disk, partition, LV): bounds
 * checked, and through its layout when it is not one range of the
 * disk.
 */
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

/* An extent on another disk than the one being mapped (an LV over
 * PVs of several disks).
 */
static int
add_extent_on (struct vbm_ctx *ctx, unsigned disk, int64_t object,
               uint64_t start, uint64_t len, int64_t object_offset,
               unsigned flags)
{
  unsigned saved = ctx->disk;
  int r;

  ctx->disk = disk;
  r = vbm_add_extent (ctx, object, start, len, object_offset, flags);
  ctx->disk = saved;
  return r;
}

struct read_state {
  struct vbm_ctx *ctx;
  unsigned char *buf;
  uint64_t offset;              /* volume offset of buf[0] */
};

static int
read_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct read_state *rs = opaque;

  return vbm_source_pread (p->src, rs->buf + (p->vol_offset - rs->offset),
                           p->len, p->disk_offset, rs->ctx->err);
}

int
vbm_volume_pread (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  void *buf, size_t count, uint64_t offset)
{
  struct read_state rs = { .ctx = ctx, .buf = buf, .offset = offset };
  uint64_t unmapped = 0;

  if (offset > vol->length || count > vol->length - offset) {
    vbm_set_error (ctx->err, EIO,
                   "%s: read of %zu bytes at offset %" PRIu64
                   " is beyond the end of the volume (%" PRIu64 " bytes)",
                   vol->device, count, offset, vol->length);
    return -1;
  }
  if (vol->layout == NULL)
    return vbm_source_pread (ctx->src, buf, count, vol->offset + offset,
                             ctx->err);
  memset (buf, 0, count);
  return vol->layout->resolve (vol->layout, offset, count, true,
                               read_piece, &rs, &unmapped);
}

struct extent_state {
  struct vbm_ctx *ctx;
  int64_t object;
  uint64_t start;               /* volume offset at object_offset */
  int64_t object_offset;
  unsigned flags;
};

static int
extent_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct extent_state *es = opaque;
  int64_t off = es->object_offset;

  if (off >= 0)
    off += p->vol_offset - es->start;
  return add_extent_on (es->ctx, p->disk, es->object, p->disk_offset, p->len,
                        off, es->flags);
}

int
vbm_volume_add_extent (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                       int64_t object, uint64_t start, uint64_t len,
                       int64_t object_offset, unsigned flags)
{
  struct extent_state es = {
    .ctx = ctx, .object = object, .start = start,
    .object_offset = object_offset, .flags = flags,
  };
  uint64_t unmapped = 0;

  if (vol->layout == NULL)
    return vbm_add_extent (ctx, object, vol->offset + start, len,
                           object_offset, flags);
  return vol->layout->resolve (vol->layout, start, len, false,
                               extent_piece, &es, &unmapped);
}
