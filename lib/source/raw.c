/* Raw image files (and block devices), read with pread. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "full-rw.h"
#include "internal.h"
#include "source.h"

struct raw {
  int fd;
};

static int
raw_pread (struct vbm_source *src, void *buf, size_t count, uint64_t offset,
           struct vbm_error *err)
{
  struct raw *raw = src->priv;
  ssize_t r = full_pread (raw->fd, buf, count, offset);

  if (r == -1) {
    vbm_set_error (err, errno, "%s: read at offset %" PRIu64 ": %s",
                   src->path, offset, strerror (errno));
    return -1;
  }
  if ((size_t) r < count) {
    /* The file shrank under us. */
    vbm_set_error (err, EIO, "%s: unexpected end of file at offset %" PRIu64,
                   src->path, offset + r);
    return -1;
  }
  return 0;
}

static void
raw_close (struct vbm_source *src)
{
  struct raw *raw = src->priv;

  if (raw) {
    close (raw->fd);
    free (raw);
  }
}

static const struct vbm_source_ops raw_ops = {
  .name = "raw",
  .pread = raw_pread,
  .close = raw_close,
};

struct vbm_source *
vbm_source_open_raw (const char *path, struct vbm_error *err)
{
  struct vbm_source *src;
  struct raw *raw;
  struct stat st;
  int fd;

  fd = vbm_source_open_file (path, &st, err);
  if (fd == -1)
    return NULL;
  src = vbm_source_new (path, &raw_ops, sizeof *raw, err);
  if (src == NULL) {
    close (fd);
    return NULL;
  }
  raw = src->priv;
  raw->fd = fd;
  src->format = "raw";
  src->mtime = st.st_mtime;
  if (S_ISBLK (st.st_mode)) {
    uint64_t size;
    if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
      vbm_set_error (err, errno, "%s: BLKGETSIZE64: %s", path, strerror (errno));
      vbm_source_close (src);
      return NULL;
    }
    src->size = size;
  }
  else                          /* regular: vbm_source_open_file */
    src->size = st.st_size;
  return src;
}
