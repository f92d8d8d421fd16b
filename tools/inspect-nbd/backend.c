/* The disk as a read-only NBD export: the library's source, served by
 * the shared source backend (nbdserver/backend-source.c).
 */
#include <config.h>

#include <inttypes.h>

#include "inspect-nbd.h"
#include "backend-source.h"

static void
say (void *opaque, const char *msg)
{
  message ("%s", msg);
}

static void
on_warning (void *opaque, const char *msg)
{
  message ("warning: %s", msg);
}

int
source_export (const char *path, const char *format, bool verify,
               int verbose, struct nbds_export *exp, bool *streamed)
{
  struct vbm_source *src;
  struct vbm_error err;
  struct nbds_error nerr;

  src = vbm_source_open_warn (path, format, on_warning, NULL, &err);
  if (src == NULL) {
    message ("%s", err.msg);
    return -1;
  }
  if (verbose)
    message ("%s: format %s, %" PRIu64 " bytes", path,
             vbm_source_format (src), vbm_source_size (src));
  if (verify && nbds_source_verify (src, say, NULL, &nerr) == -1) {
    message ("%s", nerr.msg);
    vbm_source_close (src);
    return -1;
  }
  if (nbds_source_open (src, NBDS_FILE_READONLY, verbose, say, NULL,
                        exp, streamed, &nerr) == -1) {
    message ("%s", nerr.msg);
    return -1;
  }
  return 0;
}
