/* The mapping context of the filesystem harnesses: see fuzz-fs.h. */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fuzz-fs.h"

#define SECTOR 512
#define RECORD (4 + SECTOR)

static uint32_t
le32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int
compare_rec (const void *a, const void *b)
{
  uint32_t x = le32 (*(const uint8_t *const *) a);
  uint32_t y = le32 (*(const uint8_t *const *) b);

  return x < y ? -1 : x > y;
}

/* The context is the harness's: ctx->src points at the image. */
static struct fuzz_image *
image_of (struct vbm_ctx *ctx)
{
  return (struct fuzz_image *) ctx->src;
}

int
vbm_volume_pread (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  void *buf, size_t count, uint64_t offset)
{
  struct fuzz_image *im = image_of (ctx);
  uint64_t first, end;
  size_t lo = 0, hi = im->nrec;

  if (offset > vol->length || count > vol->length - offset) {
    vbm_set_error (ctx->err, 5, "read beyond the volume");
    return -1;
  }
  memset (buf, 0, count);
  if (count == 0)
    return 0;
  first = offset / SECTOR;
  end = (offset + count + SECTOR - 1) / SECTOR;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (le32 (im->rec[mid]) < first)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < im->nrec && le32 (im->rec[lo]) < end; lo++) {
    uint64_t s = (uint64_t) le32 (im->rec[lo]) * SECTOR, a, b;

    a = s > offset ? s : offset;
    b = s + SECTOR < offset + count ? s + SECTOR : offset + count;
    memcpy ((char *) buf + (a - offset), im->rec[lo] + 4 + (a - s), b - a);
  }
  return 0;
}

int
vbm_volume_add_extent (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                       int64_t object, uint64_t start, uint64_t len,
                       int64_t object_offset, unsigned flags)
{
  struct fuzz_image *im = image_of (ctx);

  if (len == 0 || start >= vol->length || len > vol->length - start ||
      object < 1 || object > im->objects || object_offset < -1)
    abort ();
  return 0;
}

int64_t
vbm_add_object (struct vbm_ctx *ctx, const struct vbm_object *obj)
{
  if (obj->path == NULL || obj->path[0] == '\0')
    abort ();
  return ++image_of (ctx)->objects;
}

int
vbm_add_name (struct vbm_ctx *ctx, int64_t object, const char *path)
{
  if (object < 1 || object > image_of (ctx)->objects || path[0] != '/')
    abort ();
  return 0;
}

void
vbm_vwarn_limited (struct vbm_ctx *ctx, struct vbm_warn_limit *lim,
                   const char *device, const char *fs, va_list args)
{
  char buf[512];

  vsnprintf (buf, sizeof buf, fs, args);        /* the format works */
  lim->given++;
}

void
vbm_warn_limit_end (struct vbm_ctx *ctx, struct vbm_warn_limit *lim,
                    const char *device)
{
}

void
vbm_debug (struct vbm_ctx *ctx, const char *fs, ...)
{
}

void
vbm_progress (struct vbm_ctx *ctx, uint64_t done, uint64_t total)
{
  if (done > total)
    abort ();
}

void
vbm_expect (struct vbm_ctx *ctx, uint64_t n)
{
}

int
vbm_set_fstype (struct vbm_ctx *ctx, int64_t object, const char *fstype)
{
  return 0;
}

void
vbm_warn (struct vbm_ctx *ctx, const char *fs, ...)
{
  char buf[512];
  va_list args;

  va_start (args, fs);
  vsnprintf (buf, sizeof buf, fs, args);        /* the format works */
  va_end (args);
}

bool
fuzz_image_open (struct fuzz_image *im, const uint8_t *data, size_t size,
                 uint32_t max_sectors, struct vbm_ctx *ctx,
                 struct vbm_volume *vol)
{
  size_t i;

  memset (im, 0, sizeof *im);
  if (size < 4)
    return false;
  im->sectors = le32 (data);
  if (im->sectors > max_sectors)
    im->sectors = max_sectors;
  im->nrec = (size - 4) / RECORD;
  im->rec = malloc ((im->nrec + 1) * sizeof *im->rec);
  if (im->rec == NULL)
    return false;
  for (i = 0; i < im->nrec; i++)
    im->rec[i] = data + 4 + i * RECORD;
  qsort (im->rec, im->nrec, sizeof *im->rec, compare_rec);
  ctx->src = (struct vbm_source *) im;
  vol->length = im->sectors * SECTOR;
  return true;
}

void
fuzz_image_close (struct fuzz_image *im)
{
  free (im->rec);
}
