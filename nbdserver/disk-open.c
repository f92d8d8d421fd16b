/* nbds_disk_open (see backend-source.h): the library picks the
 * format; raw files keep the file backend, which reads them with
 * sendfile and knows their holes.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "backend-source.h"

struct warn_to {
  nbds_source_say say;
  void *opaque;
};

static void
on_warning (void *p, const char *msg)
{
  const struct warn_to *w = p;
  char buf[1024];

  if (w->say) {
    snprintf (buf, sizeof buf, "warning: %s", msg);
    w->say (w->opaque, buf);
  }
}

int
nbds_disk_open (const char *path, const char *format,
                enum nbds_file_mode mode, int verbose,
                nbds_source_say say, void *opaque,
                struct nbds_export *exp, struct nbds_disk_info *info,
                struct nbds_error *err)
{
  struct vbm_source *src;
  struct vbm_error verr;
  struct stat st;
  struct warn_to w = { .say = say, .opaque = opaque };

  src = vbm_source_open_warn (path, format, on_warning, &w, &verr);
  if (src == NULL) {
    /* The library's message is complete: no strerror appended. */
    nbds_set_error (err, 0, "%s", verr.msg);
    err->errnum = verr.errnum;
    return -1;
  }
  info->format = vbm_source_format (src);
  info->size = vbm_source_size (src);
  info->mtime = vbm_source_mtime (src);
  info->streamed = false;
  info->identity[0] = '\0';

  if (strcmp (info->format, "raw") != 0)
    return nbds_source_open (src, mode, verbose, say, opaque, exp,
                             &info->streamed, err);

  vbm_source_close (src);
  if (nbds_file_open (path, mode, exp, err) == -1)
    return -1;
  info->size = exp->size;
  /* A block device's time says nothing about its content. */
  if (stat (path, &st) == -1 || !S_ISREG (st.st_mode))
    info->mtime = -1;
  return 0;
}

int
nbds_disk_identify (const struct nbds_export *exp,
                    struct nbds_disk_info *info, struct nbds_error *err)
{
  struct vbm_error verr;

  if (info->identity[0])
    return 0;
  if (vbm_disk_identity (exp->ops->pread, exp->handle, exp->size,
                         info->identity, &verr) == -1) {
    nbds_set_error (err, 0, "%s", verr.msg);
    err->errnum = verr.errnum;
    return -1;
  }
  return 0;
}

int
nbds_source_verify (struct vbm_source *src, nbds_source_say say,
                    void *opaque, struct nbds_error *err)
{
  struct vbm_source_digests d = VBM_SOURCE_DIGESTS_INIT;
  struct vbm_error verr;
  char buf[1024];

  if (vbm_source_verify (src, &d, NULL, NULL, &verr) == -1) {
    nbds_set_error (err, 0, "verify: %s", verr.msg);
    err->errnum = verr.errnum;
    return -1;
  }
  if (say) {
    if (d.stored_md5[0]) {
      snprintf (buf, sizeof buf, "%s: MD5 %s verified",
                vbm_source_path (src), d.md5);
      say (opaque, buf);
    }
    if (d.stored_sha1[0]) {
      snprintf (buf, sizeof buf, "%s: SHA-1 %s verified",
                vbm_source_path (src), d.sha1);
      say (opaque, buf);
    }
  }
  return 0;
}

int
nbds_disk_verify (const char *path, const char *format,
                  nbds_source_say say, void *opaque, struct nbds_error *err)
{
  struct vbm_source *src;
  struct vbm_error verr;
  int r;

  src = vbm_source_open (path, format, &verr);
  if (src == NULL) {
    nbds_set_error (err, 0, "%s", verr.msg);
    err->errnum = verr.errnum;
    return -1;
  }
  r = nbds_source_verify (src, say, opaque, err);
  vbm_source_close (src);
  return r;
}
