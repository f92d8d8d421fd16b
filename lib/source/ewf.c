/* EnCase evidence files (E01, split into .E01 .E02 ...) through
 * libewf: the media they hold, read at random, and the acquisition
 * hashes they store (ewf-verify.c).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libewf.h>

#include "internal.h"
#include "source.h"
#include "ewf.h"

int
vbm_source_is_ewf (const void *buf, size_t len)
{
  return len >= 8 && memcmp (buf, VBM_EWF1_MAGIC, 8) == 0;
}

int
vbm_source_is_ewf2 (const void *buf, size_t len)
{
  return len >= 8 && memcmp (buf, VBM_EWF2_MAGIC, 8) == 0;
}

/* libewf's error as ours, and the libewf error freed.  Its message
 * can span lines: they are joined so ours stays one line.
 */
void
vbm_ewf_error (struct vbm_error *err, int errnum, libewf_error_t **e,
               const char *path, const char *what)
{
  char msg[512] = "";
  char *p;

  if (e && *e) {
    if (libewf_error_backtrace_sprint (*e, msg, sizeof msg) < 0)
      msg[0] = '\0';
    libewf_error_free (e);
  }
  for (p = msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  while (p > msg && p[-1] == ' ')
    *--p = '\0';
  vbm_set_error (err, errnum, "%s: %s%s%s", path, what,
                 msg[0] ? ": " : "", msg);
}

/* The first chunk libewf found damaged in [offset, offset+count):
 * 1 with *sector and *nsectors set, 0 if none, -1 on error.  libewf
 * returns such a chunk (zeroed or as stored), only recording it, and
 * then keeps it in its cache: every read is checked against the whole
 * record, not only against what this read added.
 */
static int
damaged (struct vbm_source *src, struct vbm_ewf *ewf, size_t count,
         uint64_t offset, uint64_t *sector, uint64_t *nsectors,
         struct vbm_error *err)
{
  const uint64_t first = offset / ewf->bytes_per_sector;
  const uint64_t last = (offset + count - 1) / ewf->bytes_per_sector;
  libewf_error_t *e = NULL;
  uint32_t i, n = 0;

  if (libewf_handle_get_number_of_checksum_errors (ewf->handle, &n,
                                                   &e) != 1) {
    vbm_ewf_error (err, EIO, &e, src->path, "checksum errors");
    return -1;
  }
  for (i = 0; i < n; i++) {
    if (libewf_handle_get_checksum_error (ewf->handle, i, sector, nsectors,
                                          &e) != 1) {
      vbm_ewf_error (err, EIO, &e, src->path, "checksum errors");
      return -1;
    }
    /* [sector, sector+nsectors) meets [first, last], without adding
     * numbers that come from the image.
     */
    if (*nsectors > 0 && *sector <= last &&
        (*sector >= first || *nsectors > first - *sector))
      return 1;
  }
  return 0;
}

int
vbm_ewf_read (struct vbm_source *src, void *buf, size_t count,
              uint64_t offset, int *corrupt, struct vbm_error *err)
{
  struct vbm_ewf *ewf = src->priv;
  libewf_error_t *e = NULL;
  uint64_t sector = 0, nsectors = 0;
  const uint64_t start = offset;
  const size_t total = count;
  char *p = buf;
  int ret = -1, d;

  *corrupt = 0;
  /* One reader at a time: libewf's handle keeps a current offset, a
   * chunk cache and the record of damaged chunks.
   */
  pthread_mutex_lock (&ewf->lock);
  /* A chunk known damaged is not read again: libewf 20140813 then
   * fails with a vaguer message, and leaks a chunk buffer each time
   * it finds a deflated chunk damaged.
   */
  d = damaged (src, ewf, total, start, &sector, &nsectors, err);
  while (d == 0 && count > 0) {
    ssize_t r = libewf_handle_read_random (ewf->handle, p, count,
                                           (off64_t) offset, &e);
    if (r < 0) {
      char what[64];
      snprintf (what, sizeof what, "read at offset %" PRIu64, offset);
      vbm_ewf_error (err, EIO, &e, src->path, what);
      goto out;
    }
    if (r == 0) {
      vbm_set_error (err, EIO, "%s: unexpected end of the media at offset %"
                     PRIu64, src->path, offset);
      goto out;
    }
    p += r;
    count -= r;
    offset += r;
    if (count == 0)
      d = damaged (src, ewf, total, start, &sector, &nsectors, err);
  }
  if (d == 1) {
    *corrupt = 1;
    vbm_set_error (err, EIO, "%s: corrupt evidence: the chunk at sectors %"
                   PRIu64 "-%" PRIu64 " (byte %" PRIu64 ") fails its "
                   "checksum", src->path, sector, sector + nsectors - 1,
                   sector * ewf->bytes_per_sector);
  }
  if (d == 0)
    ret = 0;
 out:
  pthread_mutex_unlock (&ewf->lock);
  return ret;
}

static int
ewf_pread (struct vbm_source *src, void *buf, size_t count, uint64_t offset,
           struct vbm_error *err)
{
  int corrupt;

  return vbm_ewf_read (src, buf, count, offset, &corrupt, err);
}

static void
ewf_close (struct vbm_source *src)
{
  struct vbm_ewf *ewf = src->priv;
  libewf_error_t *e = NULL;

  if (ewf == NULL)
    return;
  if (ewf->handle) {
    if (ewf->opened && libewf_handle_close (ewf->handle, &e) != 0)
      libewf_error_free (&e);
    if (libewf_handle_free (&ewf->handle, &e) != 1)
      libewf_error_free (&e);
  }
  if (ewf->lock_init)
    pthread_mutex_destroy (&ewf->lock);
  free (ewf);
}

static const struct vbm_source_ops ewf_ops = {
  .name = "e01",
  .pread = ewf_pread,
  .close = ewf_close,
  .verify = vbm_ewf_verify,
};

/* Opens names[0..n) and checks the set is whole: a set that lost a
 * segment still opens, and would then read as zeros or fail past the
 * last segment found, so that one is named.
 */
static int
ewf_open_names (struct vbm_source *src, struct vbm_ewf *ewf,
                char * const names[], int n, struct vbm_error *err)
{
  libewf_error_t *e = NULL;
  struct stat st;
  int i;

  /* The first segment was checked by vbm_source_open_file; a FIFO
   * among the others would block libewf's open.
   */
  for (i = 1; i < n; i++)
    if (stat (names[i], &st) == -1 || !S_ISREG (st.st_mode)) {
      vbm_set_error (err, EINVAL, "%s: segment %s: not a regular file",
                     src->path, names[i]);
      return -1;
    }
  if (libewf_handle_open (ewf->handle, names, n, LIBEWF_OPEN_READ, &e) != 1) {
    vbm_ewf_error (err, EINVAL, &e, src->path, "opening the segment files");
    return -1;
  }
  ewf->opened = 1;
  switch (libewf_handle_segment_files_corrupted (ewf->handle, &e)) {
  case 0:
    return 0;
  case 1:
    vbm_set_error (err, EINVAL, "%s: incomplete or damaged set of segment "
                   "files: %d found, the last %s (is the next one missing, "
                   "or one of them truncated?)", src->path, n, names[n - 1]);
    return -1;
  default:
    vbm_ewf_error (err, EINVAL, &e, src->path, "checking the segment files");
    return -1;
  }
}

/* Every segment of the set, from the name of any one: .E01 .E02 ...
 * .EAA ... (libewf knows the naming schemes).  A file named otherwise
 * (evidence.bin) is opened alone: a set of one segment.
 */
static int
ewf_open_set (struct vbm_source *src, struct vbm_ewf *ewf,
              struct vbm_error *err)
{
  libewf_error_t *e = NULL;
  char **names = NULL;
  char *one[1] = { src->path };
  int n = 0, ret;

  if (libewf_handle_initialize (&ewf->handle, &e) != 1) {
    vbm_ewf_error (err, ENOMEM, &e, src->path, "libewf");
    return -1;
  }
  if (libewf_glob (src->path, strlen (src->path), LIBEWF_FORMAT_UNKNOWN,
                   &names, &n, &e) != 1) {
    /* Not a segment's name (libewf says why; the file says more). */
    libewf_error_free (&e);
    return ewf_open_names (src, ewf, one, 1, err);
  }
  if (n < 1) {
    vbm_set_error (err, EINVAL, "%s: no segment files found", src->path);
    ret = -1;
  }
  else
    ret = ewf_open_names (src, ewf, names, n, err);
  if (libewf_glob_free (names, n, &e) != 1)
    libewf_error_free (&e);
  return ret;
}

struct vbm_source *
vbm_source_open_ewf (const char *path, struct vbm_error *err)
{
  struct vbm_source *src;
  struct vbm_ewf *ewf;
  libewf_error_t *e = NULL;
  struct stat st;
  size64_t size;
  uint32_t bps;
  int fd;

  /* Refuses what is not a file before libewf sees it (a FIFO would
   * block it), and gives the first segment's time.
   */
  fd = vbm_source_open_file (path, &st, err);
  if (fd == -1)
    return NULL;
  close (fd);

  src = vbm_source_new (path, &ewf_ops, sizeof *ewf, err);
  if (src == NULL)
    return NULL;
  ewf = src->priv;
  pthread_mutex_init (&ewf->lock, NULL);
  ewf->lock_init = 1;
  src->format = "e01";
  src->mtime = st.st_mtime;

  if (ewf_open_set (src, ewf, err) == -1)
    goto fail;
  if (libewf_handle_get_media_size (ewf->handle, &size, &e) != 1) {
    vbm_ewf_error (err, EINVAL, &e, path, "media size");
    goto fail;
  }
  if (libewf_handle_get_bytes_per_sector (ewf->handle, &bps, &e) != 1) {
    vbm_ewf_error (err, EINVAL, &e, path, "bytes per sector");
    goto fail;
  }
  if (bps == 0) {
    vbm_set_error (err, EINVAL, "%s: 0 bytes per sector", path);
    goto fail;
  }
  src->size = size;
  ewf->bytes_per_sector = bps;
  return src;

 fail:
  vbm_source_close (src);
  return NULL;
}
