/* The source backend: any disk source of libvirtbmap (raw, xz, qcow2
 * and the other qemu formats, NBD URIs) as an NBD export, read-only
 * or with the --cow overlay.  Kept out of libvbmnbd so that the server
 * library does not depend on libvirtbmap.
 */
#ifndef NBDS_BACKEND_SOURCE_H
#define NBDS_BACKEND_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "nbdserver.h"
#include "virtbmap.h"

/* Where the backend's messages go: read errors (the client only sees
 * an errno) and, if verbose, what was read at close.
 */
typedef void (*nbds_source_say) (void *opaque, const char *msg);

/* Fills exp (name and description left NULL) for src, which the
 * export owns from then on, even on error.  mode: NBDS_FILE_READONLY
 * or NBDS_FILE_COW (a source cannot be written: NBDS_FILE_RW fails
 * with EROFS).  A streamed source (vbm_source_stats) is served
 * without CAN_MULTI_CONN, and *streamed is set: the caller should
 * serve its requests in order, on one thread.
 */
extern int nbds_source_open (struct vbm_source *src,
                             enum nbds_file_mode mode, int verbose,
                             nbds_source_say say, void *opaque,
                             struct nbds_export *exp, bool *streamed,
                             struct nbds_error *err);

/* Bytes served so far and the source's own statistics; safe while
 * the server runs.
 */
extern void nbds_source_progress (void *handle, uint64_t *served,
                                  struct vbm_source_stats *stats);



/* ---- Any disk (disk-open.c): what bmaplog and virt-bmap-nbd serve. ---- */

/* What identifies the disk being served. */
struct nbds_disk_info {
  uint64_t size;                /* of the virtual disk, not the container */
  int64_t mtime;                /* of the image file; -1 if not a file */
  const char *format;           /* "raw", "xz", "qcow2", "nbd", ... */
  bool streamed;                /* see nbds_source_open */
  char identity[VBM_IDENTITY_LEN]; /* "" until nbds_disk_identify */
};

/* Opens path (a file, a block device or an NBD URI) in the given
 * format, or the detected one if format is NULL, as vbm_source_open
 * does.  A raw image is served by the file backend (sendfile, block
 * status, --rw); anything else by the source backend.  warning gets
 * what the library says about reading the image (a streamed xz).
 * Fills exp (name and description left NULL) and info.
 */
extern int nbds_disk_open (const char *path, const char *format,
                           enum nbds_file_mode mode, int verbose,
                           nbds_source_say say, void *opaque,
                           struct nbds_export *exp,
                           struct nbds_disk_info *info,
                           struct nbds_error *err);
/* Fills info->identity (vbm_disk_identity) by reading exp, once: a
 * second call costs nothing.  Call it before serving (the export as
 * the image holds it, no guest write yet).
 */
extern int nbds_disk_identify (const struct nbds_export *exp,
                               struct nbds_disk_info *info,
                               struct nbds_error *err);
/* --verify: reads the whole of src (or of the image at path) against
 * the hashes it stores (vbm_source_verify), and says what matched.
 * -1 with err set on a mismatch, a damaged chunk, or an image that
 * stores no hash.
 */
extern int nbds_source_verify (struct vbm_source *src, nbds_source_say say,
                               void *opaque, struct nbds_error *err);
extern int nbds_disk_verify (const char *path, const char *format,
                             nbds_source_say say, void *opaque,
                             struct nbds_error *err);
#endif /* NBDS_BACKEND_SOURCE_H */
