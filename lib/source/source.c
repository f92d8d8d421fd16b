/* Sources: the disk image as a random-access byte array.  Formats
 * plug in behind struct vbm_source_ops (handle.c); this file picks
 * one.
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

/* The format from the first bytes of a file: xz, E01, Ex01 and qcow2
 * have magic numbers, anything else is raw.  Unreadable files are left to the raw
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
  if (r > 0 && vbm_source_is_ewf (buf, r))
    return "e01";
  if (r > 0 && vbm_source_is_ewf2 (buf, r))
    return "ex01";
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
  if (strcmp (format, "e01") == 0)
    return vbm_source_open_ewf (path, err);
  if (strcmp (format, "ex01") == 0) {
    vbm_set_error (err, ENOTSUP, "%s: an EnCase 7 Ex01 (EWF2) image: the "
                   "installed libewf reads only E01 (EWF1) images", path);
    return NULL;
  }
  if (strcmp (format, "nbd") == 0)
    return vbm_source_open_nbd_uri (path, err);
  if (vbm_source_qemu_format (format))
    return vbm_source_open_qemu (path, format, err);
  vbm_set_error (err, ENOTSUP, "%s: unsupported format '%s' (supported: "
                 "raw, xz, e01, nbd, qcow2, vmdk, vdi, vhdx, vpc, qed)",
                 path, format);
  return NULL;
}
