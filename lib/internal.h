/* Internal interfaces of libvirtbmap: the mapping context shared by the
 * volume layer (partition tables) and the filesystem mappers, and the
 * map store they write into.
 */
#ifndef VBM_INTERNAL_H
#define VBM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtbmap.h"

#define VBM_SCHEMA_VERSION 1

/* A map's kind column as one of VBM_KIND_*, or '?': a map file is
 * input too, and callers print the kind as is (in JSON, in TSV).
 */
static inline char
vbm_kind_of (const char *kind)
{
  if (kind && kind[0] && kind[1] == '\0' && strchr ("vplmdfu", kind[0]))
    return kind[0];
  return '?';
}

/* ---- Errors (errors.c). ---- */

extern void vbm_set_error (struct vbm_error *err, int errnum,
                           const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Prefixes an existing error message with context. */
extern void vbm_prefix_error (struct vbm_error *err, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

/* ---- The map store (store.c): an SQLite file being written. ---- */

struct vbm_store;

/* An object as the mappers describe it.  Strings are copied. */
struct vbm_object {
  int64_t parent;               /* object id of the container, 0 for none */
  unsigned disk;
  char kind;                    /* VBM_KIND_* */
  const char *device;           /* /dev/sda1 */
  const char *path;             /* file path, or a <description> */
  uint64_t inode;               /* 0 if not applicable */
  uint64_t size;                /* object size in bytes */
  unsigned flags;               /* VBM_OBJECT_* */
  const char *fstype;           /* "ext4", for partitions holding one */
};

extern struct vbm_store *vbm_store_create (const char *tmppath,
                                           struct vbm_error *err);
/* Commits and closes (returns -1 on error), or rolls back and closes. */
extern int vbm_store_finish (struct vbm_store *st, struct vbm_error *err);
extern void vbm_store_abort (struct vbm_store *st);
extern int vbm_store_add_disk (struct vbm_store *st, unsigned disk,
                               const struct vbm_source *src,
                               const char *device, struct vbm_error *err);
extern int64_t vbm_store_add_object (struct vbm_store *st,
                                     const struct vbm_object *obj,
                                     struct vbm_error *err);
/* Another name (hard link) of an object. */
extern int vbm_store_add_name (struct vbm_store *st, int64_t object,
                               const char *path, struct vbm_error *err);
/* A byte range [start, start+len) of the disk; object_offset -1 when
 * the range has no position inside the object (tree blocks).
 */
extern int vbm_store_add_extent (struct vbm_store *st, int64_t object,
                                 unsigned disk, uint64_t start, uint64_t len,
                                 int64_t object_offset, unsigned flags,
                                 struct vbm_error *err);
extern void vbm_store_expect (struct vbm_store *st, uint64_t n);
extern int vbm_store_set_fstype (struct vbm_store *st, int64_t object,
                                 const char *fstype, struct vbm_error *err);
extern int vbm_store_add_warning (struct vbm_store *st, unsigned disk,
                                  const char *msg, struct vbm_error *err);
extern int vbm_store_set_meta (struct vbm_store *st, const char *key,
                               const char *value, struct vbm_error *err);

/* ---- The mapping context passed down the layers (build.c). ---- */

struct vbm_ctx {
  struct vbm_store *store;
  const struct vbm_build_options *opts;
  struct vbm_stats *stats;
  struct vbm_error *err;        /* fatal errors */
  unsigned disk;                /* index of the disk being mapped */
  struct vbm_source *src;       /* the disk being mapped */
  struct vbm_lvm_state *lvm;    /* PVs found so far (lvm.c) */
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
/* Records the filesystem type found in a volume (a partition object). */
/* About N more objects, each with an extent or so, are coming: room
 * made at once saves copying as the store's arrays grow.  A hint from
 * untrusted metadata, so capped.
 */
extern void vbm_expect (struct vbm_ctx *ctx, uint64_t n);
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
 * missing PV) are added to *unmapped.  Returns fn's -1, else 0.
 */
struct vbm_volume_layout {
  int (*resolve) (const struct vbm_volume_layout *l, uint64_t off,
                  uint64_t len, bool first_copy_only,
                  vbm_volume_piece_fn fn, void *opaque, uint64_t *unmapped);
};

/* A region of the disks that holds a volume: the whole disk, a
 * partition or a logical volume.  Most are one range of the disk
 * being mapped (layout NULL); others have a layout, and offset is
 * then meaningless.  Filesystem mappers read through
 * vbm_volume_pread and map through vbm_volume_add_extent, which
 * handle both.
 */
struct vbm_volume {
  int64_t object;               /* its object id */
  const char *device;           /* /dev/sda1 */
  uint64_t offset;              /* disk offset of its first byte */
  uint64_t length;              /* bytes */
  const struct vbm_volume_layout *layout;       /* NULL: contiguous */
};

/* Adds an object inside a volume (a filesystem's file, metadata...). */
extern int64_t vbm_add_volume_object (struct vbm_ctx *ctx,
                                      const struct vbm_volume *vol,
                                      char kind, const char *path,
                                      uint64_t inode, uint64_t size,
                                      unsigned flags);

/* Reads from a volume; refuses reads outside it.  Bytes of a laid
 * out volume that lie nowhere (its layout warned) read as zeroes.
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

/* ---- Layers. ---- */

/* volumes.c: maps the partition table(s) of the whole disk volume and
 * calls vbm_map_filesystem on each partition (or on the whole disk if
 * there is no partition table).  Returns -1 only on fatal errors.
 */
extern int vbm_map_volumes (struct vbm_ctx *ctx,
                            const struct vbm_volume *disk);

/* lvm.c: LVM2.  vbm_lvm_probe: whether the volume is a PV (a label
 * in one of its first four sectors).  vbm_map_lvm_pv maps the PV's
 * headers and remembers it; vbm_map_lvm maps the VGs of all the PVs
 * remembered once every disk has been seen, LVs and their
 * filesystems included.  Both return -1 only on fatal errors.
 */
struct vbm_lvm_state;
extern int vbm_lvm_probe (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                          bool *found);
extern int vbm_map_lvm_pv (struct vbm_ctx *ctx, const struct vbm_volume *vol);
extern int vbm_map_lvm (struct vbm_ctx *ctx);
extern void vbm_lvm_state_free (struct vbm_lvm_state *st);

/* fs.c: detects the filesystem in a volume and maps it.  A volume with
 * no recognised filesystem is left as it is.  Returns -1 only on fatal
 * errors; corrupt filesystems give warnings and a partial map.
 */
extern int vbm_map_filesystem (struct vbm_ctx *ctx,
                               const struct vbm_volume *vol);

/* ext2.c */
extern bool vbm_ext2_probe (const unsigned char *buf, size_t len);
/* Is there an ext2 backup superblock at the start of group 1? */
extern bool vbm_ext2_probe_backup (struct vbm_ctx *ctx,
                                   const struct vbm_volume *vol);
extern int vbm_map_ext2 (struct vbm_ctx *ctx, const struct vbm_volume *vol);

/* ntfs.c */
extern bool vbm_ntfs_probe (const unsigned char *buf, size_t len);
/* Is there an NTFS backup boot sector where one is looked for (the
 * last sector first, see ntfs-boot.c)?
 */
extern bool vbm_ntfs_probe_backup (struct vbm_ctx *ctx,
                                   const struct vbm_volume *vol);
extern int vbm_map_ntfs (struct vbm_ctx *ctx, const struct vbm_volume *vol);

/* map.c: the SQLite handle of an open map, for index.c. */
struct sqlite3;
extern struct sqlite3 *vbm_map_db (struct vbm_map *map);

/* crc32.c: the CRC-32 of zlib and GPT. */
extern uint32_t vbm_crc32 (uint32_t crc, const void *buf, size_t len);

#endif /* VBM_INTERNAL_H */
