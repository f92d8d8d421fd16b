/* The mapping context: what every stage below the builder writes
 * through (the map store, warnings, progress) and reads from (the disk
 * being mapped).  It calls only the store: the stages call it, never
 * the other way round.
 */
#ifndef VBM_CTX_H
#define VBM_CTX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

struct vbm_ctx {
  struct vbm_store *store;
  const struct vbm_build_options *opts;
  struct vbm_stats *stats;
  struct vbm_error *err;        /* fatal errors */
  unsigned disk;                /* index of the disk being mapped */
  struct vbm_source *src;       /* the disk being mapped */
};

/* Warnings about one volume, capped: a badly damaged filesystem could
 * otherwise give one per block.  The end call says how many were cut.
 */
struct vbm_warn_limit {
  unsigned given;
  unsigned suppressed;
};
#define VBM_MAX_VOLUME_WARNINGS 100
extern void vbm_vwarn_limited (struct vbm_ctx *ctx,
                               struct vbm_warn_limit *lim,
                               const char *device, const char *fs,
                               va_list args);
extern void vbm_warn_limit_end (struct vbm_ctx *ctx,
                                struct vbm_warn_limit *lim,
                                const char *device);

/* Non-fatal problem: passed to the caller's warning callback. */
extern void vbm_warn (struct vbm_ctx *ctx, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void vbm_debug (struct vbm_ctx *ctx, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void vbm_progress (struct vbm_ctx *ctx, uint64_t done, uint64_t total);

/* Shorthands that write into ctx->store with ctx->err. */
extern int64_t vbm_add_object (struct vbm_ctx *ctx,
                               const struct vbm_object *obj);
extern int vbm_add_name (struct vbm_ctx *ctx, int64_t object,
                         const char *path);
extern int vbm_add_extent (struct vbm_ctx *ctx, int64_t object,
                           uint64_t start, uint64_t len,
                           int64_t object_offset, unsigned flags);
/* About N more objects, each with an extent or so, are coming: room
 * made at once saves copying as the store's arrays grow.  A hint from
 * untrusted metadata, so capped.
 */
extern void vbm_expect (struct vbm_ctx *ctx, uint64_t n);
/* Records the filesystem type found in a volume (a partition object). */
extern int vbm_set_fstype (struct vbm_ctx *ctx, int64_t object,
                           const char *fstype);

/* A region of the disk that holds a volume: the whole disk, a
 * partition or a logical volume.
 */
struct vbm_volume {
  int64_t object;               /* its object id */
  const char *device;           /* /dev/sda1 */
  uint64_t offset;              /* disk offset of its first byte */
  uint64_t length;              /* bytes */
};

/* Reads from a volume; refuses reads outside it. */
extern int vbm_volume_pread (struct vbm_ctx *ctx,
                             const struct vbm_volume *vol,
                             void *buf, size_t count, uint64_t offset);

#endif /* VBM_CTX_H */
