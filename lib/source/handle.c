/* A source handle: what every format (raw.c, xz.c, nbd.c) builds on
 * and every reader calls, below the format picker (source.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sized.h"
#include "source.h"

/* Non-blocking, so that a FIFO with no writer cannot hang us in open:
 * only regular files and block devices are images.
 */
int
vbm_source_open_file (const char *path, struct stat *st,
                      struct vbm_error *err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd == -1) {
    vbm_set_error (err, errno, "%s: %s", path, strerror (errno));
    return -1;
  }
  if (fstat (fd, st) == -1) {
    vbm_set_error (err, errno, "%s: stat: %s", path, strerror (errno));
    close (fd);
    return -1;
  }
  if (!S_ISREG (st->st_mode) && !S_ISBLK (st->st_mode)) {
    vbm_set_error (err, EINVAL, "%s: not a regular file or block device",
                   path);
    close (fd);
    return -1;
  }
  if (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) == -1) {
    vbm_set_error (err, errno, "%s: fcntl: %s", path, strerror (errno));
    close (fd);
    return -1;
  }
  return fd;
}

int
vbm_source_pread (struct vbm_source *src, void *buf, size_t count,
                  uint64_t offset, struct vbm_error *err)
{
  if (offset > src->size || count > src->size - offset) {
    vbm_set_error (err, EIO,
                   "%s: read of %zu bytes at offset %" PRIu64
                   " is beyond the end of the image (%" PRIu64 " bytes)",
                   src->path, count, offset, src->size);
    return -1;
  }
  if (count == 0)
    return 0;
  return src->ops->pread (src, buf, count, offset, err);
}

/* Frees a source whose private struct was never set up. */
static void
vbm_source_free_new (struct vbm_source *src)
{
  if (src) {
    free (src->priv);
    free (src->path);
    free (src);
  }
}

struct vbm_source *
vbm_source_new (const char *path, const struct vbm_source_ops *ops,
                size_t priv_size, struct vbm_error *err)
{
  struct vbm_source *src = calloc (1, sizeof *src);

  if (src == NULL || (src->priv = calloc (1, priv_size)) == NULL ||
      (src->path = strdup (path)) == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    vbm_source_free_new (src);
    return NULL;
  }
  src->ops = ops;
  src->mtime = -1;
  return src;
}

uint64_t
vbm_source_size (const struct vbm_source *src)
{
  return src->size;
}

const char *
vbm_source_path (const struct vbm_source *src)
{
  return src->path;
}

const char *
vbm_source_format (const struct vbm_source *src)
{
  return src->format;
}

int64_t
vbm_source_mtime (const struct vbm_source *src)
{
  return src->mtime;
}

/* struct vbm_source_stats of the first version ends with streamed. */
#define STATS_MIN_SIZE \
  (offsetof (struct vbm_source_stats, streamed) + sizeof (int))

void
vbm_source_get_stats (struct vbm_source *src, struct vbm_source_stats *stats)
{
  struct vbm_source_stats all = { .struct_size = sizeof all };

  if (vbm_sized_size (stats) < STATS_MIN_SIZE)
    return;
  if (src->ops->stats)
    src->ops->stats (src, &all);
  vbm_copy_sized (stats, &all, sizeof all);
}

int
vbm_source_extents (struct vbm_source *src, uint64_t count, uint64_t offset,
                    vbm_extent_fn fn, void *opaque, struct vbm_error *err)
{
  if (offset > src->size || count > src->size - offset) {
    vbm_set_error (err, EINVAL, "%s: extents of [%" PRIu64 ", +%" PRIu64
                   ") past the end (%" PRIu64 " bytes)", src->path, offset,
                   count, src->size);
    return -1;
  }
  if (src->ops->extents == NULL) {
    vbm_set_error (err, ENOTSUP, "%s: a %s source does not say where its "
                   "data is", src->path, src->format);
    return -1;
  }
  if (count == 0)
    return 0;
  return src->ops->extents (src, count, offset, fn, opaque, err);
}

void
vbm_source_close (struct vbm_source *src)
{
  if (src == NULL)
    return;
  if (src->ops && src->ops->close)
    src->ops->close (src);
  free (src->path);
  free (src);
}

int
vbm_source_verify (struct vbm_source *src, struct vbm_source_digests *d,
                   vbm_progress_fn progress, void *opaque,
                   struct vbm_error *err)
{
  struct vbm_source_digests all = { .struct_size = sizeof all };
  struct vbm_source_digests ignored = VBM_SOURCE_DIGESTS_INIT;
  int r;

  if (d == NULL)
    d = &ignored;
  if (src->ops->verify == NULL) {
    vbm_set_error (err, ENOTSUP, "%s: a %s image stores no acquisition "
                   "hash to verify (E01 images do)", src->path, src->format);
    vbm_copy_sized (d, &all, sizeof all);
    return -1;
  }
  r = src->ops->verify (src, &all, progress, opaque, err);
  vbm_copy_sized (d, &all, sizeof all);
  return r;
}
