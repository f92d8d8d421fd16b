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
};

static int
source_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct handle *hd = h;
  struct vbm_error err;

  if (vbm_source_pread (hd->src, buf, count, offset, &err) == -1) {
    /* The client only sees EIO: say why here. */
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    return err.errnum > 0 ? err.errnum : EIO;
  }
  return 0;
}

static void
source_close (void *h)
{
  struct handle *hd = h;

  vbm_source_close (hd->src);
  free (hd);
}

static const struct nbds_backend_ops source_ops = {
  .pread = source_pread,
  .close = source_close,
};

int
source_export (const char *path, const char *format, int verbose,
               struct nbds_export *exp)
{
  struct handle *hd = calloc (1, sizeof *hd);
  struct vbm_error err;

  if (hd == NULL) {
    perror ("calloc");
    return -1;
  }
  hd->src = vbm_source_open (path, format, &err);
  if (hd->src == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    free (hd);
    return -1;
  }
  hd->verbose = verbose;
  if (verbose)
    fprintf (stderr, "%s: %s: format %s, %" PRIu64 " bytes\n",
             PROG, path, hd->src->format, hd->src->size);
  memset (exp, 0, sizeof *exp);
  exp->size = hd->src->size;
  exp->readonly = true;
  exp->multi_conn = true;
  exp->ops = &source_ops;
  exp->handle = hd;
  return 0;
}
