/* Sources: the disk image as a random-access byte array.  Formats
 * plug in behind struct vbm_source_ops; this file picks one.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "full-rw.h"
#include "internal.h"
#include "sized.h"
#include "source.h"

/* The xz block cache cap: VIRT_BMAP_XZ_CACHE (bytes, or with a K, M
 * or G suffix) or 0 for the default.
 */
static int
xz_cache_max (size_t *max, struct vbm_error *err)
{
  const char *s = getenv ("VIRT_BMAP_XZ_CACHE");
  unsigned long long v;
  char *end;

  *max = 0;
  if (s == NULL || *s == '\0')
    return 0;
  errno = 0;
  v = strtoull (s, &end, 10);
  switch (*end) {
  case 'k': case 'K': v = v > (SIZE_MAX >> 10) ? 0 : v << 10; end++; break;
  case 'm': case 'M': v = v > (SIZE_MAX >> 20) ? 0 : v << 20; end++; break;
  case 'g': case 'G': v = v > (SIZE_MAX >> 30) ? 0 : v << 30; end++; break;
  }
  if (errno || end == s || (*end && strcmp (end, "iB") != 0) || v == 0) {
    vbm_set_error (err, EINVAL, "VIRT_BMAP_XZ_CACHE: bad size '%s' "
                   "(give bytes, or e.g. 256M)", s);
    return -1;
  }
  *max = v;
  return 0;
}

static struct vbm_source *
open_xz (const char *path, vbm_warning_fn warning, void *opaque,
         struct vbm_error *err)
{
  size_t max;

  if (xz_cache_max (&max, err) == -1)
    return NULL;
  return vbm_source_open_xz (path, max, warning, opaque, err);
}

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

/* The format from the first bytes of a file: xz and qcow2 have magic
 * numbers, anything else is raw.  Unreadable files are left to the raw
 * source to report.
 */
static const char *
detect (const char *path)
{
  unsigned char buf[8];
  struct stat st;
  ssize_t r;
  int fd;

  /* Not blocking on a FIFO: the raw source then refuses it. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd == -1)
    return "raw";
  r = fstat (fd, &st) == 0 && (S_ISREG (st.st_mode) || S_ISBLK (st.st_mode))
    ? full_pread (fd, buf, sizeof buf, 0) : -1;
  close (fd);
  if (r > 0 && vbm_source_is_xz (buf, r))
    return "xz";
  if (r >= 4 && memcmp (buf, "QFI\xfb", 4) == 0)
    return "qcow2";
  return "raw";
}

struct vbm_source *
vbm_source_open (const char *path, const char *format, struct vbm_error *err)
{
  return vbm_source_open_warn (path, format, NULL, NULL, err);
}

struct vbm_source *
vbm_source_open_warn (const char *path, const char *format,
                      vbm_warning_fn warning, void *opaque,
                      struct vbm_error *err)
{
  if (format == NULL) {
    if (vbm_source_is_nbd_uri (path))
      return vbm_source_open_nbd_uri (path, err);
    format = detect (path);
  }
  if (strcmp (format, "raw") == 0)
    return vbm_source_open_raw (path, err);
  if (strcmp (format, "xz") == 0)
    return open_xz (path, warning, opaque, err);
  if (strcmp (format, "nbd") == 0)
    return vbm_source_open_nbd_uri (path, err);
  if (vbm_source_qemu_format (format))
    return vbm_source_open_qemu (path, format, err);
  vbm_set_error (err, ENOTSUP, "%s: unsupported format '%s' (supported: "
                 "raw, xz, nbd, qcow2, vmdk, vdi, vhdx, vpc, qed)",
                 path, format);
  return NULL;
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
