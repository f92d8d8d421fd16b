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
  struct vbm_lvm_state *lvm;    /* LVM PVs found so far (volume/lvm.c) */
  /* Devices of multi-device btrfs filesystems found so far
   * (fs/btrfs/devices.c).
   */
  struct vbm_btrfs_state *btrfs;
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

/* A piece of a volume on a disk: bytes [vol_offset, vol_offset+len)
 * of the volume are at disk_offset of disk.  copy numbers the copies
 * of mirrored data, 0 being the one to read.
 */
struct vbm_volume_piece {
  unsigned disk;
  struct vbm_source *src;
  uint64_t disk_offset;
  uint64_t vol_offset;
  uint64_t len;
  unsigned copy;
};
typedef int (*vbm_volume_piece_fn) (void *opaque,
                                    const struct vbm_volume_piece *p);

/* How a volume that is not one range of one disk (a striped,
 * mirrored or multi-segment LV, maybe over several disks) lies on
 * the disks: resolve calls fn for the pieces holding bytes [off,
 * off+len), in volume order, every copy of each (copy 0 first), or
 * only copy 0 with first_copy_only; bytes that lie nowhere (a
 * missing PV) are added to *unmapped.  Returns fn's -1, 1 if it gave
 * up on the rest (counted unmapped), else 0.
 */
struct vbm_volume_layout {
  int (*resolve) (const struct vbm_volume_layout *l, uint64_t off,
                  uint64_t len, bool first_copy_only,
                  vbm_volume_piece_fn fn, void *opaque, uint64_t *unmapped);
};

/* A region of the disks that holds a volume: the whole disk, a
 * partition or a logical volume.  Most are one range of the disk
 * being mapped (layout NULL); an LV may have a layout, and offset is
 * then meaningless.  Readers go through vbm_volume_pread and
 * vbm_volume_add_extent, which handle both.
 */
struct vbm_volume {
  int64_t object;               /* its object id */
  const char *device;           /* /dev/sda1 */
  uint64_t offset;              /* disk offset of its first byte */
  uint64_t length;              /* bytes */
  const struct vbm_volume_layout *layout;       /* NULL: contiguous */
};

/* Reads from a volume; refuses reads outside it.  Bytes of a laid out
 * volume that lie nowhere (its layout warned) read as zeroes.
 */
extern int vbm_volume_pread (struct vbm_ctx *ctx,
                             const struct vbm_volume *vol,
                             void *buf, size_t count, uint64_t offset);

/* Maps bytes [start, start+len) of a volume to object, at
 * object_offset (-1: no position), on every disk range (every copy)
 * holding them.
 */
extern int vbm_volume_add_extent (struct vbm_ctx *ctx,
                                  const struct vbm_volume *vol,
                                  int64_t object, uint64_t start,
                                  uint64_t len, int64_t object_offset,
                                  unsigned flags);

#endif /* VBM_CTX_H */
