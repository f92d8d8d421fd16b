/* libFuzzer harness of the whole btrfs reader (lib/fs/btrfs) with the
 * accounting core, over an image in memory.  The mapping context's
 * functions are replaced here: reads come from the input, objects and
 * extents are only checked (every extent inside the volume, of a known
 * object), nothing is stored.
 *
 * A btrfs image is mostly zeroes, so an input is sparse: a 4-byte
 * little-endian size of the image in sectors (capped at 1 GiB), then
 * records of a 4-byte sector number and the 512 bytes of that sector;
 * sectors without a record read as zeroes.  tests/test-btrfs-fuzz.sh
 * makes seeds from mkfs.btrfs images (tests/xfs-fuzz-seed).  A
 * filesystem of several devices is mapped at the end with this one.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/fs/btrfs/fuzz-btrfs -jobs=2 CORPUS SEEDS
 */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "btrfs-map.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SECTOR 512
#define RECORD (4 + SECTOR)
#define MAX_SECTORS (UINT32_C (1024) << 11)

extern const struct vbm_fs_reader vbm_btrfs_reader;

struct image {
  uint64_t sectors;
  const uint8_t **rec;          /* records sorted by sector */
  size_t nrec;
  int64_t objects;
};

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
static struct image *
image_of (struct vbm_ctx *ctx)
{
  return (struct image *) ctx->src;
}

int
vbm_volume_pread (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  void *buf, size_t count, uint64_t offset)
{
  struct image *im = image_of (ctx);
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
  struct image *im = image_of (ctx);

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
vbm_warn (struct vbm_ctx *ctx, const char *fs, ...)
{
  char buf[512];
  va_list args;

  va_start (args, fs);
  vsnprintf (buf, sizeof buf, fs, args);
  va_end (args);
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct image im = { 0 };
  struct vbm_error err = { 0 };
  struct vbm_ctx ctx = { .err = &err };
  struct vbm_volume vol = { .object = 0, .device = "/dev/fuzz" };
  size_t i;

  if (size < 4)
    return 0;
  im.sectors = le32 (data);
  if (im.sectors > MAX_SECTORS)
    im.sectors = MAX_SECTORS;
  im.nrec = (size - 4) / RECORD;
  im.rec = malloc ((im.nrec + 1) * sizeof *im.rec);
  if (im.rec == NULL)
    return 0;
  for (i = 0; i < im.nrec; i++)
    im.rec[i] = data + 4 + i * RECORD;
  qsort (im.rec, im.nrec, sizeof *im.rec, compare_rec);
  ctx.src = (struct vbm_source *) &im;
  vol.length = im.sectors * SECTOR;

  /* As fs.c would: the reader maps only what its probe accepts; as
   * build.c would, the members of a filesystem over several devices
   * at the end.
   */
  if (vbm_btrfs_reader.probe (&ctx, &vol) &&
      (vbm_btrfs_reader.map (&ctx, &vol) == -1 ||
       vbm_map_btrfs_pending (&ctx) == -1) && err.msg[0] == '\0')
    abort ();                   /* a fatal error says why */
  vbm_btrfs_state_free (ctx.btrfs);
  free (im.rec);
  return 0;
}
