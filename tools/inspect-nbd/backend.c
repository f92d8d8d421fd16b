/* Any vbm_source (raw, xz, qcow2, NBD URI) as a read-only NBD export:
 * only pread.  Sources are safe to read from many threads.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-nbd.h"

struct handle {
  struct vbm_source *src;
  int verbose;
  uint64_t served;              /* bytes, atomic */
};

static int
source_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct handle *hd = h;
  struct vbm_error err;

  if (vbm_source_pread (hd->src, buf, count, offset, &err) == -1) {
    /* The client only sees EIO: say why here. */
    message ("%s", err.msg);
    return err.errnum > 0 ? err.errnum : EIO;
  }
  __atomic_add_fetch (&hd->served, count, __ATOMIC_RELAXED);
  return 0;
}

static void
source_close (void *h)
{
  struct handle *hd = h;

  if (hd->verbose) {
    struct vbm_source_stats st = VBM_SOURCE_STATS_INIT;

    vbm_source_get_stats (hd->src, &st);
    message ("served %" PRIu64 " bytes; decompressed %" PRIu64 " blocks "
             "(%" PRIu64 " bytes), %" PRIu64 " restarts",
             hd->served, st.blocks_decoded, st.bytes_decoded, st.restarts);
  }
  vbm_source_close (hd->src);
  free (hd);
}

static const struct nbds_backend_ops source_ops = {
  .pread = source_pread,
  .close = source_close,
};

static void
on_warning (void *opaque, const char *msg)
{
  message ("warning: %s", msg);
}

int
source_export (const char *path, const char *format, int verbose,
               struct nbds_export *exp, bool *streamed)
{
  struct handle *hd = calloc (1, sizeof *hd);
  struct vbm_source_stats stats = VBM_SOURCE_STATS_INIT;
  struct vbm_error err;

  if (hd == NULL) {
    perror ("calloc");
    return -1;
  }
  hd->src = vbm_source_open_warn (path, format, on_warning, NULL, &err);
  if (hd->src == NULL) {
    message ("%s", err.msg);
    free (hd);
    return -1;
  }
  hd->verbose = verbose;
  if (verbose)
    message ("%s: format %s, %" PRIu64 " bytes", path,
             vbm_source_format (hd->src), vbm_source_size (hd->src));
  vbm_source_get_stats (hd->src, &stats);
  *streamed = stats.streamed;
  memset (exp, 0, sizeof *exp);
  exp->size = vbm_source_size (hd->src);
  exp->readonly = true;
  /* A streamed source is fast only when read in order: one connection
   * keeps nbdcopy from reading several places at once.
   */
  exp->multi_conn = !stats.streamed;
  exp->ops = &source_ops;
  exp->handle = hd;
  return 0;
}

void
source_progress (void *handle, uint64_t *served, struct vbm_source_stats *stats)
{
  struct handle *hd = handle;

  *served = __atomic_load_n (&hd->served, __ATOMIC_RELAXED);
  vbm_source_get_stats (hd->src, stats);
}
