/* libtsk reads the volume through us: an "external" image whose read
 * callback is vbm_volume_pread, so a FAT inside a partition, a logical
 * volume or a compressed or remote image is read like any other.
 */
#include <config.h>

#include <string.h>

#include "fat-map.h"

static ssize_t
img_read (TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
  struct fat_img *fi = (struct fat_img *) img;
  uint64_t length = fi->vol->length;

  if (fi->io_failed || off < 0 || (uint64_t) off >= length)
    return -1;
  if (len > length - off)
    len = length - off;
  if (vbm_volume_pread (fi->ctx, fi->vol, buf, len, off) == -1) {
    /* A failing source is fatal for the whole map: keep the first
     * error for vbm_map_fat, and let libtsk fail fast from here on.
     */
    fi->io_failed = true;
    if (fi->ctx->err)
      fi->io_error = *fi->ctx->err;
    return -1;
  }
  if (fi->boot && (uint64_t) off < fi->boot_len) {
    size_t n = fi->boot_len - off;

    memcpy (buf, fi->boot + off, n < len ? n : len);
  }
  return len;
}

static void
img_close (TSK_IMG_INFO *img)
{
  /* The struct is the caller's. */
}

static void
img_stat (TSK_IMG_INFO *img, FILE *f)
{
}

TSK_IMG_INFO *
fat_img_open (struct fat_img *fi)
{
  return tsk_img_open_external (fi, fi->vol->length, 0,
                                img_read, img_close, img_stat);
}
