/* The mapping context (ctx.h): messages, the map store's shorthands
 * and reads inside a volume, for every stage below the builder.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctx.h"

static void
vbm_vmessage (struct vbm_ctx *ctx, bool warning, const char *fs, va_list args)
{
  char msg[VBM_ERROR_MAX];

  vsnprintf (msg, sizeof msg, fs, args);
  if (warning) {
    struct vbm_error ignored;

    ctx->stats->warnings++;
    /* Keep the warning with the map: a forensic record of what was
     * wrong with the image.  Losing it is not worth failing for.
     */
    vbm_store_add_warning (ctx->store, ctx->disk, msg, &ignored);
    if (ctx->opts && ctx->opts->warning)
      ctx->opts->warning (ctx->opts->warning_opaque, msg);
  }
  else if (ctx->opts && ctx->opts->verbose && ctx->opts->debug)
    ctx->opts->debug (ctx->opts->debug_opaque, msg);
}

void
vbm_warn (struct vbm_ctx *ctx, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vbm_vmessage (ctx, true, fs, args);
  va_end (args);
}

void
vbm_vwarn_limited (struct vbm_ctx *ctx, struct vbm_warn_limit *lim,
                   const char *device, const char *fs, va_list args)
{
  char msg[VBM_ERROR_MAX];

  if (lim->given >= VBM_MAX_VOLUME_WARNINGS) {
    lim->suppressed++;
    return;
  }
  lim->given++;
  vsnprintf (msg, sizeof msg, fs, args);
  vbm_warn (ctx, "%s: %s", device, msg);
}

void
vbm_warn_limit_end (struct vbm_ctx *ctx, struct vbm_warn_limit *lim,
                    const char *device)
{
  if (lim->suppressed)
    vbm_warn (ctx, "%s: %u more warnings not shown", device, lim->suppressed);
}

void
vbm_debug (struct vbm_ctx *ctx, const char *fs, ...)
{
  va_list args;

  if (!ctx->opts || !ctx->opts->verbose || !ctx->opts->debug)
    return;
  va_start (args, fs);
  vbm_vmessage (ctx, false, fs, args);
  va_end (args);
}

void
vbm_progress (struct vbm_ctx *ctx, uint64_t done, uint64_t total)
{
  if (ctx->opts && ctx->opts->progress)
    ctx->opts->progress (ctx->opts->progress_opaque, done, total);
}

int64_t
vbm_add_object (struct vbm_ctx *ctx, const struct vbm_object *obj)
{
  int64_t id = vbm_store_add_object (ctx->store, obj, ctx->err);

  if (id >= 0)
    ctx->stats->objects++;
  return id;
}

int
vbm_add_name (struct vbm_ctx *ctx, int64_t object, const char *path)
{
  return vbm_store_add_name (ctx->store, object, path, ctx->err);
}

int
vbm_add_extent (struct vbm_ctx *ctx, int64_t object, uint64_t start,
                uint64_t len, int64_t object_offset, unsigned flags)
{
  if (vbm_store_add_extent (ctx->store, object, ctx->disk, start, len,
                            object_offset, flags, ctx->err) == -1)
    return -1;
  ctx->stats->extents++;
  return 0;
}

void
vbm_expect (struct vbm_ctx *ctx, uint64_t n)
{
  vbm_store_expect (ctx->store, n);
}

int
vbm_set_fstype (struct vbm_ctx *ctx, int64_t object, const char *fstype)
{
  return vbm_store_set_fstype (ctx->store, object, fstype, ctx->err);
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
