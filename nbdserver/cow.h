/* The copy-on-write overlay of --cow: a sparse temporary file the
 * size of the image and a bitmap of the blocks written to it.  Reads
 * take each block from the overlay if written, else from the image,
 * which is never modified.  One overlay serves all connections.
 */
#ifndef NBDS_COW_H
#define NBDS_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "nbdserver.h"

/* Granularity of the overlay. */
#define NBDS_COW_BLOCK 4096

struct nbds_cow;

/* Where the blocks not written yet come from: the image, read-only
 * (a raw file, or any source of the library).  Callbacks as in
 * struct nbds_backend_ops; extents may be NULL (all data).
 */
struct nbds_cow_base {
  int (*pread) (void *handle, void *buf, uint32_t count, uint64_t offset);
  int (*extents) (void *handle, uint32_t count, uint64_t offset,
                  struct nbds_extents *e);
  void *handle;
};

/* The overlay lives in $TMPDIR (default /var/tmp), unlinked at once.
 * base is copied.
 */
extern struct nbds_cow *nbds_cow_new (uint64_t size,
                                      const struct nbds_cow_base *base,
                                      struct nbds_error *err);
extern void nbds_cow_free (struct nbds_cow *cow);

/* Like the backend callbacks: 0 or an errno value. */
extern int nbds_cow_pread (struct nbds_cow *cow, void *buf,
                           uint32_t count, uint64_t offset);
extern int nbds_cow_pwrite (struct nbds_cow *cow,
                            const void *buf, uint32_t count, uint64_t offset);
extern int nbds_cow_zero (struct nbds_cow *cow,
                          uint32_t count, uint64_t offset);
extern int nbds_cow_extents (struct nbds_cow *cow,
                             uint32_t count, uint64_t offset,
                             struct nbds_extents *e);

/* True if no byte of the range is in the overlay: the image's own
 * bytes (which never change) are the answer.
 */
extern bool nbds_cow_range_clean (struct nbds_cow *cow, uint32_t count,
                                  uint64_t offset);

/* Helpers from backend-file.c: full_pread and full_pwrite
 * (common/full-rw.h) returning 0 or an errno.
 */
extern int nbds_full_pread (int fd, void *buf, size_t count, uint64_t offset);
extern int nbds_full_pwrite (int fd, const void *buf, size_t count,
                             uint64_t offset);
extern int nbds_fd_extents (int fd, uint64_t size, uint32_t count,
                            uint64_t offset, struct nbds_extents *e);

#endif /* NBDS_COW_H */
