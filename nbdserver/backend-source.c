/* The source backend (see backend-source.h).
 *
 * Sources are safe to read from many threads.  With --cow the
 * overlay (cow.c) takes the unwritten blocks from the source, which
 * is never written.  Block status as the source says (the holes of a
 * qcow2 or of a remote NBD export), else all data.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "cow.h"
#include "backend-source.h"

struct source_backend {
  struct vbm_source *src;
  struct nbds_cow *cow;         /* --cow only */
  int verbose;
  nbds_source_say say;
  void *opaque;
  uint64_t served;              /* bytes, atomic */
};

static void
say (struct source_backend *sb, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
say (struct source_backend *sb, const char *fs, ...)
{
  char msg[1024];
  va_list ap;

  if (sb->say == NULL)
    return;
  va_start (ap, fs);
  vsnprintf (msg, sizeof msg, fs, ap);
  va_end (ap);
  sb->say (sb->opaque, msg);
}

/* The source itself (also the overlay's base). */
static int
image_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct source_backend *sb = h;
  struct vbm_error err;

  if (vbm_source_pread (sb->src, buf, count, offset, &err) == -1) {
    /* The client only sees an errno: say why here. */
    say (sb, "%s", err.msg);
    return err.errnum > 0 ? err.errnum : EIO;
  }
  return 0;
}

struct extents_to {
  struct nbds_extents *e;
  int err;                      /* errno from nbds_extents_add */
};

static int
add_extent (void *opaque, uint64_t offset, uint64_t length, unsigned flags)
{
  struct extents_to *t = opaque;
  uint32_t type = 0;
  int r;

  if (flags & VBM_EXTENT_HOLE)
    type |= NBDS_EXTENT_HOLE;
  if (flags & VBM_EXTENT_ZERO)
    type |= NBDS_EXTENT_ZERO;
  r = nbds_extents_add (t->e, offset, length, type);
  if (r == -1)
    t->err = errno;
  return r != 0;                /* full, or an error: stop */
}

static int
image_extents (void *h, uint32_t count, uint64_t offset,
               struct nbds_extents *e)
{
  struct source_backend *sb = h;
  struct extents_to t = { .e = e };
  struct vbm_error err;

  if (vbm_source_extents (sb->src, count, offset, add_extent, &t, &err) == -1) {
    if (err.errnum == ENOTSUP)
      return nbds_extents_add (e, offset, count, NBDS_EXTENT_DATA) == -1
        ? errno : 0;
    say (sb, "%s", err.msg);
    return err.errnum > 0 ? err.errnum : EIO;
  }
  return t.err;
}

static int
source_extents (void *h, uint32_t count, uint64_t offset,
                struct nbds_extents *e)
{
  struct source_backend *sb = h;

  if (sb->cow)
    return nbds_cow_extents (sb->cow, count, offset, e);
  return image_extents (h, count, offset, e);
}

static int
source_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct source_backend *sb = h;
  int r;

  if (sb->cow)
    r = nbds_cow_pread (sb->cow, buf, count, offset);
  else
    r = image_pread (h, buf, count, offset);
  if (r == 0)
    __atomic_add_fetch (&sb->served, count, __ATOMIC_RELAXED);
  return r;
}

static void
source_close (void *h)
{
  struct source_backend *sb = h;

  if (sb->verbose) {
    struct vbm_source_stats st = VBM_SOURCE_STATS_INIT;

    vbm_source_get_stats (sb->src, &st);
    say (sb, "%s: served %" PRIu64 " bytes; decompressed %" PRIu64
         " blocks (%" PRIu64 " bytes), %" PRIu64 " restarts",
         vbm_source_path (sb->src), sb->served, st.blocks_decoded,
         st.bytes_decoded, st.restarts);
  }
  nbds_cow_free (sb->cow);
  vbm_source_close (sb->src);
  free (sb);
}

/* Nothing to make durable: the source is read-only and the overlay
 * is scratch space.  qemu likes to flush.
 */
static int
source_flush (void *h)
{
  return 0;
}

/* ---- --cow ---- */

static int
cow_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset)
{
  struct source_backend *sb = h;

  return nbds_cow_pwrite (sb->cow, buf, count, offset);
}

static int
cow_trim (void *h, uint32_t count, uint64_t offset)
{
  struct source_backend *sb = h;

  return nbds_cow_zero (sb->cow, count, offset);
}

static int
cow_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  struct source_backend *sb = h;

  return nbds_cow_zero (sb->cow, count, offset);
}

static const struct nbds_backend_ops ro_ops = {
  .pread = source_pread,
  .flush = source_flush,
  .extents = source_extents,
  .close = source_close,
};

static const struct nbds_backend_ops cow_ops = {
  .pread = source_pread,
  .pwrite = cow_pwrite,
  .flush = source_flush,
  .trim = cow_trim,
  .zero = cow_zero,
  .extents = source_extents,
  .close = source_close,
};

int
nbds_source_open (struct vbm_source *src, enum nbds_file_mode mode,
                  int verbose, nbds_source_say say_fn, void *opaque,
                  struct nbds_export *exp, bool *streamed,
                  struct nbds_error *err)
{
  struct vbm_source_stats stats = VBM_SOURCE_STATS_INIT;
  struct source_backend *sb;

  if (mode == NBDS_FILE_RW) {
    nbds_set_error (err, 0, "%s: format %s: only raw images can be "
                    "written in place (--rw); serve it read-only or "
                    "with --cow", vbm_source_path (src),
                    vbm_source_format (src));
    err->errnum = EROFS;
    vbm_source_close (src);
    return -1;
  }
  sb = calloc (1, sizeof *sb);
  if (sb == NULL) {
    nbds_set_error (err, errno, "calloc");
    vbm_source_close (src);
    return -1;
  }
  sb->src = src;
  sb->verbose = verbose;
  sb->say = say_fn;
  sb->opaque = opaque;
  if (mode == NBDS_FILE_COW) {
    const struct nbds_cow_base base = {
      .pread = image_pread, .extents = image_extents, .handle = sb,
    };

    sb->cow = nbds_cow_new (vbm_source_size (src), &base, err);
    if (sb->cow == NULL) {
      vbm_source_close (src);
      free (sb);
      return -1;
    }
  }

  vbm_source_get_stats (src, &stats);
  *streamed = stats.streamed;
  memset (exp, 0, sizeof *exp);
  exp->size = vbm_source_size (src);
  exp->readonly = mode == NBDS_FILE_READONLY;
  /* One source and one overlay for all connections; but a streamed
   * source is fast only when read in order, so one connection keeps
   * nbdcopy from reading several places at once.
   */
  exp->multi_conn = !stats.streamed;
  exp->ops = mode == NBDS_FILE_COW ? &cow_ops : &ro_ops;
  exp->handle = sb;
  return 0;
}

void
nbds_source_progress (void *handle, uint64_t *served,
                      struct vbm_source_stats *stats)
{
  struct source_backend *sb = handle;

  *served = __atomic_load_n (&sb->served, __ATOMIC_RELAXED);
  vbm_source_get_stats (sb->src, stats);
}
