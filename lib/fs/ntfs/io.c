/* libntfs-3g device operations reading through vbm_volume_pread, so a
 * volume inside a partition is read in place, without a copy.  The
 * target travels in the device's private data (no globals).  Writes
 * fail with EROFS.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ntfs-map.h"

#include <ntfs-3g/device.h>
#include <ntfs-3g/logging.h>

#define SECTOR 512

static struct vbm_ntfs_io_target *
target_of (struct ntfs_device *dev)
{
  return dev->d_private;
}

static int
io_open (struct ntfs_device *dev, int flags)
{
  if ((flags & O_ACCMODE) != O_RDONLY) {
    errno = EROFS;
    return -1;
  }
  NDevSetOpen (dev);
  NDevSetReadOnly (dev);
  return 0;
}

static int
io_close (struct ntfs_device *dev)
{
  NDevClearOpen (dev);
  return 0;
}

/* libntfs-3g reads the boot sector with seek and read. */
static s64
io_seek (struct ntfs_device *dev, s64 offset, int whence)
{
  struct vbm_ntfs_io_target *t = target_of (dev);
  s64 base;

  switch (whence) {
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = t->pos; break;
  case SEEK_END: base = t->vol->length; break;
  default: errno = EINVAL; return -1;
  }
  if ((offset < 0 && -offset > base) || offset > INT64_MAX - base) {
    errno = EINVAL;
    return -1;
  }
  t->pos = base + offset;
  return t->pos;
}

/* Reads through the windows (see ntfs-map.h). */
static int
window_read (struct vbm_ntfs_io_target *t, void *buf, size_t count,
             uint64_t offset)
{
  struct vbm_ntfs_io_window *w = NULL;
  uint64_t start, len, want;
  size_t i;

  if (count > NTFS_IO_WINDOWED)
    return vbm_volume_pread (t->ctx, t->vol, buf, count, offset);
  for (i = 0; i < NTFS_IO_WINDOWS; i++) {
    struct vbm_ntfs_io_window *x = &t->win[i];

    if (x->len && offset >= x->start && offset + count <= x->start + x->len) {
      x->last_use = ++t->tick;
      memcpy (buf, x->data + (offset - x->start), count);
      return 0;
    }
  }
  /* A read within a window's length past its end continues it. */
  for (i = 0; i < NTFS_IO_WINDOWS && w == NULL; i++) {
    struct vbm_ntfs_io_window *x = &t->win[i];

    if (x->len && offset >= x->start + x->len &&
        offset - (x->start + x->len) < x->len)
      w = x;
  }
  if (w) {
    len = w->len * 4;
    if (len > NTFS_IO_MAX)
      len = NTFS_IO_MAX;
  }
  else {
    len = NTFS_IO_MIN;
    for (i = 0; i < NTFS_IO_WINDOWS; i++)
      if (w == NULL || t->win[i].last_use < w->last_use)
        w = &t->win[i];
  }
  start = offset / NTFS_IO_MIN * NTFS_IO_MIN;
  /* Cover the read whole (it may straddle a page), within the volume. */
  want = offset + count - start;
  if (len < want)
    len = (want + NTFS_IO_MIN - 1) / NTFS_IO_MIN * NTFS_IO_MIN;
  if (len > t->vol->length - start)
    len = t->vol->length - start;
  if (w->data == NULL && (w->data = malloc (NTFS_IO_MAX)) == NULL)
    return vbm_volume_pread (t->ctx, t->vol, buf, count, offset);
  w->len = 0;
  if (vbm_volume_pread (t->ctx, t->vol, w->data, len, start) == -1)
    return -1;
  w->start = start;
  w->len = len;
  w->last_use = ++t->tick;
  memcpy (buf, w->data + (offset - start), count);
  return 0;
}

void
vbm_ntfs_io_free (struct vbm_ntfs_io_target *t)
{
  size_t i;

  for (i = 0; i < NTFS_IO_WINDOWS; i++) {
    free (t->win[i].data);
    t->win[i].data = NULL;
    t->win[i].len = 0;
  }
}

static s64
io_pread (struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
  struct vbm_ntfs_io_target *t = target_of (dev);
  const uint64_t length = t->vol->length;
  struct vbm_error saved;

  if (offset < 0 || count < 0) {
    errno = EINVAL;
    return -1;
  }
  /* Past the end of a truncated volume: a short read, which
   * libntfs-3g reports as an error of the structure it was reading.
   */
  if ((uint64_t) offset >= length)
    return 0;
  if ((uint64_t) count > length - offset)
    count = length - offset;
  if (count == 0)
    return 0;
  saved = *t->ctx->err;
  if (window_read (t, buf, count, offset) == -1) {
    if (!t->io_failed) {
      t->io_failed = true;
      t->io_error = *t->ctx->err;
    }
    *t->ctx->err = saved;
    errno = EIO;
    return -1;
  }
  if (t->boot && (uint64_t) offset < SECTOR) {
    size_t n = (uint64_t) (SECTOR - offset) < (uint64_t) count
      ? (size_t) (SECTOR - offset) : (size_t) count;

    memcpy (buf, t->boot + offset, n);
  }
  return count;
}

static s64
io_read (struct ntfs_device *dev, void *buf, s64 count)
{
  struct vbm_ntfs_io_target *t = target_of (dev);
  s64 r = io_pread (dev, buf, count, t->pos);

  if (r > 0)
    t->pos += r;
  return r;
}

static s64
io_write (struct ntfs_device *dev, const void *buf, s64 count)
{
  (void) dev; (void) buf; (void) count;
  errno = EROFS;
  return -1;
}

static s64
io_pwrite (struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
  (void) dev; (void) buf; (void) count; (void) offset;
  errno = EROFS;
  return -1;
}

static int
io_sync (struct ntfs_device *dev)
{
  (void) dev;
  return 0;
}

static int
io_stat (struct ntfs_device *dev, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_mode = S_IFREG | 0444;
  st->st_size = target_of (dev)->vol->length;
  return 0;
}

static int
io_ioctl (struct ntfs_device *dev, unsigned long request, void *argp)
{
  (void) dev; (void) request; (void) argp;
  errno = ENOTTY;
  return -1;
}

static struct ntfs_device_operations vbm_ntfs_device_ops = {
  .open = io_open,
  .close = io_close,
  .seek = io_seek,
  .read = io_read,
  .write = io_write,
  .pread = io_pread,
  .pwrite = io_pwrite,
  .sync = io_sync,
  .stat = io_stat,
  .ioctl = io_ioctl,
};

/* libntfs-3g logs to stderr by default, and a library must not print.
 * Its log handler is process-wide state with no user pointer, so the
 * messages cannot be routed to our warning callback: silence them,
 * once per process (our own warnings say what failed).
 */
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void
silence_libntfs (void)
{
  ntfs_log_set_handler (ntfs_log_handler_null);
  ntfs_log_clear_levels (UINT32_MAX);
}

ntfs_volume *
vbm_ntfs_mount (struct vbm_ntfs_io_target *target)
{
  struct ntfs_device *dev;
  ntfs_volume *nv;
  int e;

  pthread_once (&log_once, silence_libntfs);
  dev = ntfs_device_alloc (target->vol->device, 0, &vbm_ntfs_device_ops,
                           target);
  if (dev == NULL)
    return NULL;
  nv = ntfs_device_mount (dev, NTFS_MNT_RDONLY | NTFS_MNT_IGNORE_HIBERFILE);
  if (nv == NULL) {
    e = errno;
    ntfs_device_free (dev);
    errno = e;
  }
  return nv;
}
