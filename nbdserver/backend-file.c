/* The file backend: serves a raw image file or block device.
 *
 * Read-only by default (no write callbacks at all, so the server
 * advertises READ_ONLY); --cow sends writes to a private overlay
 * (cow.c); --rw writes through to the file.  Block status comes from
 * SEEK_DATA/SEEK_HOLE.  All modes are consistent across connections
 * (one fd, one overlay under a lock), so CAN_MULTI_CONN is true.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "full-rw.h"
#include "internal.h"
#include "cow.h"

struct file_backend {
  int fd;
  uint64_t size;
  struct nbds_cow *cow;         /* --cow only */
  /* Cleared when the filesystem says it cannot punch or zero. */
  int can_punch, can_zero_range;
};

/* full_pread and full_pwrite in the backends' convention: 0 or an
 * errno, EIO when the file shrank under us.
 */
int
nbds_full_pread (int fd, void *buf, size_t count, uint64_t offset)
{
  ssize_t r = full_pread (fd, buf, count, offset);

  if (r == -1)
    return errno;
  return (size_t) r < count ? EIO : 0;
}

int
nbds_full_pwrite (int fd, const void *buf, size_t count, uint64_t offset)
{
  return full_pwrite (fd, buf, count, offset) == -1 ? errno : 0;
}

/* Extents of [offset, offset+count) of fd from SEEK_DATA/SEEK_HOLE,
 * never reaching past the range (cow.c calls this for pieces).
 */
int
nbds_fd_extents (int fd, uint64_t size, uint32_t count, uint64_t offset,
                 struct nbds_extents *e)
{
  const uint64_t end = offset + count;

  while (offset < end) {
    off_t data, hole;
    int r;

    data = lseek (fd, offset, SEEK_DATA);
    if (data == -1 && errno == ENXIO)
      data = size;              /* only a hole from here to the end */
    else if (data == -1) {
      if (errno != EINVAL && errno != EOPNOTSUPP)
        return errno;
      /* No hole information (block device, odd filesystem). */
      return nbds_extents_add (e, offset, end - offset,
                               NBDS_EXTENT_DATA) == -1 ? errno : 0;
    }
    if ((uint64_t) data > offset) {
      uint64_t n = ((uint64_t) data < end ? (uint64_t) data : end) - offset;

      r = nbds_extents_add (e, offset, n, NBDS_EXTENT_HOLE | NBDS_EXTENT_ZERO);
      if (r != 0)
        return r == -1 ? errno : 0;
      offset += n;
      continue;
    }
    hole = lseek (fd, offset, SEEK_HOLE);
    if (hole == -1)
      return errno;
    if ((uint64_t) hole <= offset)
      hole = end;               /* cannot happen; never loop forever */
    {
      uint64_t n = ((uint64_t) hole < end ? (uint64_t) hole : end) - offset;

      r = nbds_extents_add (e, offset, n, NBDS_EXTENT_DATA);
      if (r != 0)
        return r == -1 ? errno : 0;
      offset += n;
    }
  }
  return 0;
}

/* The image itself, under the overlay of --cow. */
static int
image_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  return nbds_full_pread (fh->fd, buf, count, offset);
}

static int
image_extents (void *h, uint32_t count, uint64_t offset,
               struct nbds_extents *e)
{
  struct file_backend *fh = h;

  return nbds_fd_extents (fh->fd, fh->size, count, offset, e);
}

static int
file_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  if (fh->cow)
    return nbds_cow_pread (fh->cow, buf, count, offset);
  return nbds_full_pread (fh->fd, buf, count, offset);
}

/* Read-only and --cow: the image never changes under a reply in
 * flight, so it can go out with sendfile.  (Not --rw: a write could
 * change the pages before the client has them.)
 */
static int
file_read_fd (void *h, uint32_t count, uint64_t offset, int *fd)
{
  struct file_backend *fh = h;

  if (fh->cow && !nbds_cow_range_clean (fh->cow, count, offset))
    return ENOTSUP;
  *fd = fh->fd;
  return 0;
}

static int
file_flush (void *h)
{
  struct file_backend *fh = h;

  /* The overlay is scratch space: nothing to make durable. */
  if (fh->cow)
    return 0;
  /* Read-only: flushing is harmless and qemu likes to. */
  if (fdatasync (fh->fd) == -1 && errno != EINVAL && errno != EBADF)
    return errno;
  return 0;
}

static int
file_cache (void *h, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  posix_fadvise (fh->fd, offset, count, POSIX_FADV_WILLNEED);
  return 0;
}

static int
file_extents (void *h, uint32_t count, uint64_t offset, struct nbds_extents *e)
{
  struct file_backend *fh = h;

  if (fh->cow)
    return nbds_cow_extents (fh->cow, count, offset, e);
  return nbds_fd_extents (fh->fd, fh->size, count, offset, e);
}

static void
file_close (void *h)
{
  struct file_backend *fh = h;

  nbds_cow_free (fh->cow);
  close (fh->fd);
  free (fh);
}

/* ---- --cow: writes land in the overlay. ---- */

static int
cow_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  return nbds_cow_pwrite (fh->cow, buf, count, offset);
}

static int
cow_trim (void *h, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  return nbds_cow_zero (fh->cow, count, offset);
}

static int
cow_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  struct file_backend *fh = h;

  return nbds_cow_zero (fh->cow, count, offset);
}

/* ---- --rw: writes go to the file. ---- */

static int
rw_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;

  return nbds_full_pwrite (fh->fd, buf, count, offset);
}

static int
try_fallocate (struct file_backend *fh, int *can, int mode,
               uint32_t count, uint64_t offset)
{
  if (!__atomic_load_n (can, __ATOMIC_RELAXED))
    return ENOTSUP;
  if (fallocate (fh->fd, mode, offset, count) == 0)
    return 0;
  if (errno == EOPNOTSUPP || errno == ENOSYS || errno == ENODEV) {
    __atomic_store_n (can, 0, __ATOMIC_RELAXED);
    return ENOTSUP;
  }
  return errno;
}

static int
rw_trim (void *h, uint32_t count, uint64_t offset)
{
  struct file_backend *fh = h;
  int err = try_fallocate (fh, &fh->can_punch,
                           FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                           count, offset);

  /* Trim is advisory: not being able to is not an error. */
  return err == ENOTSUP ? 0 : err;
}

static int
rw_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  struct file_backend *fh = h;
  int err = ENOTSUP;

  if (!(flags & NBDS_FLAG_NO_HOLE))
    err = try_fallocate (fh, &fh->can_punch,
                         FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         count, offset);
  if (err == ENOTSUP)
    err = try_fallocate (fh, &fh->can_zero_range, FALLOC_FL_ZERO_RANGE,
                         count, offset);
  /* ENOTSUP: the server falls back to writing zeroes, unless fast. */
  return err;
}

static const struct nbds_backend_ops ro_ops = {
  .pread = file_pread,
  .read_fd = file_read_fd,
  .flush = file_flush,
  .cache = file_cache,
  .extents = file_extents,
  .close = file_close,
};

static const struct nbds_backend_ops cow_ops = {
  .pread = file_pread,
  .read_fd = file_read_fd,
  .pwrite = cow_pwrite,
  .flush = file_flush,
  .trim = cow_trim,
  .zero = cow_zero,
  .cache = file_cache,
  .extents = file_extents,
  .close = file_close,
};

static const struct nbds_backend_ops rw_ops = {
  .pread = file_pread,
  .pwrite = rw_pwrite,
  .flush = file_flush,
  .trim = rw_trim,
  .zero = rw_zero,
  .cache = file_cache,
  .extents = file_extents,
  .close = file_close,
};

int
nbds_file_open (const char *path, enum nbds_file_mode mode,
                struct nbds_export *exp, struct nbds_error *err)
{
  struct file_backend *fh;
  struct stat st;

  fh = calloc (1, sizeof *fh);
  if (fh == NULL) {
    nbds_set_error (err, errno, "calloc");
    return -1;
  }
  fh->can_punch = fh->can_zero_range = 1;
  fh->fd = open (path, (mode == NBDS_FILE_RW ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fh->fd == -1) {
    nbds_set_error (err, errno, "%s", path);
    free (fh);
    return -1;
  }
  if (fstat (fh->fd, &st) == -1) {
    nbds_set_error (err, errno, "stat: %s", path);
    goto error;
  }
  if (S_ISBLK (st.st_mode)) {
    if (ioctl (fh->fd, BLKGETSIZE64, &fh->size) == -1) {
      nbds_set_error (err, errno, "BLKGETSIZE64: %s", path);
      goto error;
    }
  }
  else if (S_ISREG (st.st_mode))
    fh->size = st.st_size;
  else {
    nbds_set_error (err, EINVAL, "%s: not a regular file or block device",
                    path);
    goto error;
  }

  if (mode == NBDS_FILE_COW) {
    const struct nbds_cow_base base = {
      .pread = image_pread, .extents = image_extents, .handle = fh,
    };

    fh->cow = nbds_cow_new (fh->size, &base, err);
    if (fh->cow == NULL)
      goto error;
  }

  memset (exp, 0, sizeof *exp);
  exp->size = fh->size;
  exp->readonly = mode == NBDS_FILE_READONLY;
  exp->multi_conn = true;
  exp->ops = mode == NBDS_FILE_COW ? &cow_ops
    : mode == NBDS_FILE_RW ? &rw_ops : &ro_ops;
  exp->handle = fh;
  return 0;

 error:
  close (fh->fd);
  free (fh);
  return -1;
}
