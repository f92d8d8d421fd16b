/* Sources: the disk image as a random-access byte array.  Formats
 * plug in behind struct vbm_source_ops; this file picks one.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "source.h"

struct vbm_source *
vbm_source_open (const char *path, const char *format, struct vbm_error *err)
{
  if (format == NULL || strcmp (format, "raw") == 0)
    return vbm_source_open_raw (path, err);
  vbm_set_error (err, ENOTSUP, "%s: unsupported format '%s' (supported: raw)",
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
