/* SHA-256 of the disk images, for the report's provenance, by GnuTLS
 * (which uses the CPU's SHA instructions where there are some).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "hex.h"
#include "report.h"

int
sha256_file (const char *path, char hex[65], char *err, size_t errlen)
{
  const size_t bufsize = 1 << 20;
  gnutls_hash_hd_t h;
  unsigned char *buf, out[32];
  ssize_t n;
  int fd, r;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    snprintf (err, errlen, "%s: %s", path, strerror (errno));
    return -1;
  }
  buf = malloc (bufsize);
  if (buf == NULL) {
    snprintf (err, errlen, "%s", strerror (errno));
    close (fd);
    return -1;
  }
  r = gnutls_hash_init (&h, GNUTLS_DIG_SHA256);
  if (r < 0) {
    snprintf (err, errlen, "SHA-256: %s", gnutls_strerror (r));
    free (buf);
    close (fd);
    return -1;
  }
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  while ((n = read (fd, buf, bufsize)) > 0)
    gnutls_hash (h, buf, n);
  if (n == -1)
    snprintf (err, errlen, "%s: %s", path, strerror (errno));
  gnutls_hash_deinit (h, out);
  free (buf);
  close (fd);
  if (n == -1)
    return -1;
  vbm_hex (out, sizeof out, hex);
  return 0;
}
