/* Sources inside the library: the layout of struct vbm_source and the
 * constructors of the formats (raw.c, xz.c, nbd.c).
 */
#ifndef VBM_SOURCE_H
#define VBM_SOURCE_H

#include <inttypes.h>
#include <stdlib.h>

#include <sys/stat.h>

#include "virtbmap.h"

/* The layout of a source, private to the library (virtbmap.h only
 * declares the type): formats plug in behind ops.
 */
struct vbm_source_ops {
  const char *name;             /* "raw", ... */
  /* Read exactly count bytes at offset; -1 on error (err filled).
   * Callers never read past the source's size.
   */
  int (*pread) (struct vbm_source *src, void *buf, size_t count,
                uint64_t offset, struct vbm_error *err);
  void (*close) (struct vbm_source *src);
  /* Adds to stats, a zeroed struct of the library's own size (may be
   * NULL: nothing is decompressed).
   */
  void (*stats) (struct vbm_source *src, struct vbm_source_stats *stats);
  /* vbm_source_extents, range inside the source and not empty (may be
   * NULL: ENOTSUP).
   */
  int (*extents) (struct vbm_source *src, uint64_t count, uint64_t offset,
                  vbm_extent_fn fn, void *opaque, struct vbm_error *err);
  /* vbm_source_verify, d zeroed at the library's size (may be NULL:
   * ENOTSUP, the format stores no hashes).
   */
  int (*verify) (struct vbm_source *src, struct vbm_source_digests *d,
                 vbm_progress_fn progress, void *opaque,
                 struct vbm_error *err);
};

struct vbm_source {
  const struct vbm_source_ops *ops;
  void *priv;
  uint64_t size;                /* bytes */
  int64_t mtime;                /* seconds since the epoch, or -1 */
  char *path;                   /* for messages and provenance */
  const char *format;           /* "raw", ... */
};

/* A new source for path with ops and a zeroed private struct of
 * priv_size bytes in src->priv.  The caller fills in what ops->close
 * needs before anything can fail.
 */
extern struct vbm_source *vbm_source_new (const char *path,
                                          const struct vbm_source_ops *ops,
                                          size_t priv_size,
                                          struct vbm_error *err);

/* Opens path read-only and stats it into *st.  Returns the fd, or -1
 * with err set; anything but a regular file or a block device (a FIFO,
 * a character device) is refused without blocking.
 */
extern int vbm_source_open_file (const char *path, struct stat *st,
                                 struct vbm_error *err);

extern struct vbm_source *vbm_source_open_raw (const char *path,
                                               struct vbm_error *err);

/* The warning callback of vbm_source_open_warn. */
typedef void (*vbm_warning_fn) (void *opaque, const char *msg);

/* xz with random access (source-xz.c); cache_max bounds the decoded
 * blocks kept in memory, or the window of a streamed single block;
 * 0 for the default: VBM_XZ_CACHE_DEFAULT, or room for
 * VBM_XZ_CACHE_BLOCKS of the file's largest blocks up to
 * VBM_XZ_CACHE_AUTO_MAX (so that two readers going forward, each
 * with a block in use and the next one coming, do not evict each
 * other's blocks).
 */
#define VBM_XZ_CACHE_DEFAULT (48 * 1024 * 1024)
#define VBM_XZ_CACHE_BLOCKS 3
#define VBM_XZ_CACHE_AUTO_MAX (256 * 1024 * 1024)
extern struct vbm_source *vbm_source_open_xz (const char *path,
                                              size_t cache_max,
                                              vbm_warning_fn warning,
                                              void *opaque,
                                              struct vbm_error *err);
extern int vbm_source_is_xz (const void *buf, size_t len);

/* Through libnbd (source-nbd.c): an NBD URI, or an image file served
 * by a private read-only qemu-nbd in the given qemu format ("qcow2").
 */
extern struct vbm_source *vbm_source_open_nbd_uri (const char *uri,
                                                   struct vbm_error *err);
extern struct vbm_source *vbm_source_open_qemu (const char *path,
                                                const char *format,
                                                struct vbm_error *err);
extern int vbm_source_is_nbd_uri (const char *path);
extern const char *vbm_source_qemu_format (const char *format);

/* EnCase evidence files through libewf (ewf.c): E01 and its split
 * segments.  Ex01 (EWF2) is recognised to be refused clearly: the
 * libewf of Debian 12 (20140813) does not read it.
 */
extern struct vbm_source *vbm_source_open_ewf (const char *path,
                                               struct vbm_error *err);
extern int vbm_source_is_ewf (const void *buf, size_t len);
extern int vbm_source_is_ewf2 (const void *buf, size_t len);

#endif /* VBM_SOURCE_H */
