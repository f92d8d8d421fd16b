/* What identifies a virtual disk (see virtbmap.h): the map stores it,
 * bmaplog checks a disk against it, prefetch plans are keyed by it.
 *
 * The digest covers, in this order: the size (8 bytes, little
 * endian), the first MiB, the last MiB and 16 blocks of 4 KiB spread
 * evenly between.  The reads are made in ascending order (head, the
 * samples between, tail; samples inside the head or the tail are
 * copied from what was read): a streamed xz is then decoded once, not
 * restarted for every sample behind its position.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "hex.h"
#include "internal.h"

#define MIB (1024 * 1024)
#define SAMPLES 16
#define SAMPLE_SIZE 4096

struct reader {
  vbm_disk_pread_fn pread;
  void *opaque;
  struct vbm_error *err;
};

static int
get (struct reader *rd, void *buf, uint32_t count, uint64_t offset)
{
  int r = rd->pread (rd->opaque, buf, count, offset);

  if (r != 0) {
    vbm_set_error (rd->err, r, "reading the disk at %" PRIu64
                   " for its identity: %s", offset, strerror (r));
    return -1;
  }
  return 0;
}

int
vbm_disk_identity (vbm_disk_pread_fn pread, void *opaque, uint64_t size,
                   char identity[VBM_IDENTITY_LEN], struct vbm_error *err)
{
  struct reader rd = { pread, opaque, err };
  const uint64_t head = size < MIB ? size : MIB, tail_start = size - head;
  const int nsamples = size >= SAMPLE_SIZE ? SAMPLES : 0;
  uint64_t off[SAMPLES];
  gnutls_hash_hd_t h;
  unsigned char digest[32], le[8];
  char *buf, *samples;
  int i, r = -1;

  buf = malloc (MIB);
  samples = malloc (SAMPLES * SAMPLE_SIZE);
  if (buf == NULL || samples == NULL) {
    vbm_set_error (err, ENOMEM, "identity: %s", strerror (ENOMEM));
    goto out_free;
  }
  if (gnutls_hash_init (&h, GNUTLS_DIG_SHA256) < 0) {
    vbm_set_error (err, ENOTSUP, "identity: SHA-256 is not available");
    goto out_free;
  }
  /* Evenly spread, 4 KiB aligned (what a guest's filesystem writes),
   * ascending; on a tiny disk they fall inside what is hashed anyway.
   */
  for (i = 0; i < nsamples; ++i) {
    off[i] = (size / (SAMPLES + 1)) * (i + 1) / SAMPLE_SIZE * SAMPLE_SIZE;
    if (off[i] + SAMPLE_SIZE > size)
      off[i] = size - SAMPLE_SIZE;
  }

  /* The size first: disks of other sizes never match. */
  for (i = 0; i < 8; ++i)
    le[i] = size >> (8 * i);
  gnutls_hash (h, le, sizeof le);
  if (head && get (&rd, buf, head, 0) == -1)
    goto out;
  gnutls_hash (h, buf, head);
  for (i = 0; i < nsamples; ++i) {
    if (off[i] + SAMPLE_SIZE <= head)
      memcpy (samples + i * SAMPLE_SIZE, buf + off[i], SAMPLE_SIZE);
    else if (tail_start == 0 || off[i] < tail_start) {
      if (get (&rd, samples + i * SAMPLE_SIZE, SAMPLE_SIZE, off[i]) == -1)
        goto out;
    }
  }
  if (tail_start > 0) {
    if (get (&rd, buf, head, tail_start) == -1)
      goto out;
    gnutls_hash (h, buf, head);
    for (i = 0; i < nsamples; ++i)
      if (off[i] + SAMPLE_SIZE > head && off[i] >= tail_start)
        memcpy (samples + i * SAMPLE_SIZE, buf + (off[i] - tail_start),
                SAMPLE_SIZE);
  }
  gnutls_hash (h, samples, (size_t) nsamples * SAMPLE_SIZE);
  r = 0;
 out:
  gnutls_hash_deinit (h, digest);
  if (r == 0) {
    strcpy (identity, "id1:sha256:");
    vbm_hex (digest, sizeof digest, identity + strlen (identity));
  }
 out_free:
  free (buf);
  free (samples);
  return r;
}

/* Keeps the source's own message, which names the image. */
struct source_reader {
  struct vbm_source *src;
  struct vbm_error err;
};

static int
source_pread (void *opaque, void *buf, uint32_t count, uint64_t offset)
{
  struct source_reader *sr = opaque;

  if (vbm_source_pread (sr->src, buf, count, offset, &sr->err) == -1)
    return sr->err.errnum > 0 ? sr->err.errnum : EIO;
  return 0;
}

int
vbm_source_identity (struct vbm_source *src,
                     char identity[VBM_IDENTITY_LEN], struct vbm_error *err)
{
  struct source_reader sr = { .src = src };

  if (vbm_disk_identity (source_pread, &sr, vbm_source_size (src),
                         identity, err) == 0)
    return 0;
  if (sr.err.msg[0])
    vbm_set_error (err, sr.err.errnum, "%s (reading for the disk's "
                   "identity)", sr.err.msg);
  return -1;
}
