/* Checking an evidence file's media against the hashes stored at
 * acquisition: one sequential read of the whole media, hashed with
 * GnuTLS.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "hex.h"
#include "internal.h"
#include "source.h"
#include "ewf.h"

/* A multiple of every chunk size ewfacquire writes (up to 32768
 * sectors of 512 bytes = 16 MiB is rare; 64 sectors is the default).
 */
#define VERIFY_BUF (4 * 1024 * 1024)

/* The stored hash: 1 and hex filled, 0 if none, -1 on error. */
static int
stored_hash (struct vbm_source *src, struct vbm_ewf *ewf, int sha1,
             char *out, struct vbm_error *err)
{
  unsigned char bin[20];
  libewf_error_t *e = NULL;
  int r;

  pthread_mutex_lock (&ewf->lock);
  r = sha1 ? libewf_handle_get_sha1_hash (ewf->handle, bin, 20, &e)
    : libewf_handle_get_md5_hash (ewf->handle, bin, 16, &e);
  pthread_mutex_unlock (&ewf->lock);
  if (r == -1) {
    vbm_ewf_error (err, EINVAL, &e, src->path,
                   sha1 ? "stored SHA-1" : "stored MD5");
    return -1;
  }
  if (r == 1)
    vbm_hex (bin, sha1 ? 20 : 16, out);
  return r;
}

static int
hash_media (struct vbm_source *src, struct vbm_ewf *ewf, int want_sha1,
            struct vbm_source_digests *d, vbm_progress_fn progress,
            void *opaque, struct vbm_error *err)
{
  gnutls_hash_hd_t md5 = NULL, sha1 = NULL;
  unsigned char bin[20];
  unsigned char *buf;
  uint64_t off;
  int ret = -1, r;

  buf = malloc (VERIFY_BUF);
  if (buf == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    return -1;
  }
  if ((r = gnutls_hash_init (&md5, GNUTLS_DIG_MD5)) < 0 ||
      (want_sha1 && (r = gnutls_hash_init (&sha1, GNUTLS_DIG_SHA1)) < 0)) {
    vbm_set_error (err, EINVAL, "%s: hashing: %s", src->path,
                   gnutls_strerror (r));
    goto out;
  }
  for (off = 0; off < src->size; ) {
    size_t n = src->size - off < VERIFY_BUF ? src->size - off : VERIFY_BUF;
    int corrupt;
    if (vbm_ewf_read (src, buf, n, off, &corrupt, err) == -1) {
      if (corrupt)
        err->errnum = EBADMSG;
      goto out;
    }
    if (gnutls_hash (md5, buf, n) < 0 ||
        (sha1 && gnutls_hash (sha1, buf, n) < 0)) {
      vbm_set_error (err, EINVAL, "%s: hashing failed", src->path);
      goto out;
    }
    off += n;
    if (progress)
      progress (opaque, off, src->size);
  }
  gnutls_hash_deinit (md5, bin);
  md5 = NULL;
  vbm_hex (bin, 16, d->md5);
  if (sha1) {
    gnutls_hash_deinit (sha1, bin);
    sha1 = NULL;
    vbm_hex (bin, 20, d->sha1);
  }
  ret = 0;
 out:
  if (md5)
    gnutls_hash_deinit (md5, NULL);
  if (sha1)
    gnutls_hash_deinit (sha1, NULL);
  free (buf);
  return ret;
}

int
vbm_ewf_verify (struct vbm_source *src, struct vbm_source_digests *d,
                vbm_progress_fn progress, void *opaque,
                struct vbm_error *err)
{
  struct vbm_ewf *ewf = src->priv;
  int has_md5, has_sha1;

  has_md5 = stored_hash (src, ewf, 0, d->stored_md5, err);
  if (has_md5 == -1)
    return -1;
  has_sha1 = stored_hash (src, ewf, 1, d->stored_sha1, err);
  if (has_sha1 == -1)
    return -1;
  if (!has_md5 && !has_sha1) {
    vbm_set_error (err, ENODATA, "%s: the image stores no MD5 or SHA-1 "
                   "hash of its media: nothing to verify against",
                   src->path);
    return -1;
  }
  if (hash_media (src, ewf, has_sha1, d, progress, opaque, err) == -1)
    return -1;
  if (has_md5 && strcmp (d->md5, d->stored_md5) != 0) {
    vbm_set_error (err, EBADMSG, "%s: MD5 mismatch: the image stores %s, "
                   "its media hashes to %s", src->path, d->stored_md5,
                   d->md5);
    return -1;
  }
  if (has_sha1 && strcmp (d->sha1, d->stored_sha1) != 0) {
    vbm_set_error (err, EBADMSG, "%s: SHA-1 mismatch: the image stores %s, "
                   "its media hashes to %s", src->path, d->stored_sha1,
                   d->sha1);
    return -1;
  }
  return 0;
}
