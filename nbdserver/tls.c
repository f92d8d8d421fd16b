/* TLS with GnuTLS: loading the credentials (X.509 in nbdkit's
 * directory layout, or a psktool key file) and upgrading a connection
 * after NBD_OPT_STARTTLS.  The session then becomes the connection's
 * transport, so the handshake and requests run unchanged inside it.
 *
 * The session reads and writes the socket through io.c's raw
 * functions, so the handshake deadline also bounds the TLS handshake.
 * One thread receives while another sends (the read and write locks
 * of the connection), which GnuTLS allows on one session.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "internal.h"

/* Largest plaintext of one TLS record: replies are cut to this. */
#define RECORD_SIZE 16384

struct nbds_tls_creds {
  gnutls_certificate_credentials_t x509;        /* or NULL */
  gnutls_psk_server_credentials_t psk;          /* or NULL */
  gnutls_priority_t priority;
  bool verify_peer;
};

/* Sets err from a GnuTLS error code. */
static void
tls_error (struct nbds_error *err, int r, const char *what, const char *path)
{
  nbds_set_error (err, 0, "%s%s%s: %s", what, path ? " " : "",
                  path ? path : "", gnutls_strerror (r));
}

static char *
dir_file (const char *dir, const char *name, struct nbds_error *err)
{
  char *path;

  if (asprintf (&path, "%s/%s", dir, name) == -1) {
    nbds_set_error (err, errno, "asprintf");
    return NULL;
  }
  return path;
}

/* ca-cert.pem, server-cert.pem, server-key.pem and, if present,
 * ca-crl.pem.  The CA is needed only to check clients (verify_peer),
 * but nbdkit loads it always: a missing one is an error there too.
 */
static int
load_x509 (struct nbds_tls_creds *c, const char *dir, struct nbds_error *err)
{
  char *ca = NULL, *crl = NULL, *cert = NULL, *key = NULL;
  int r, ret = -1;

  ca = dir_file (dir, "ca-cert.pem", err);
  crl = ca ? dir_file (dir, "ca-crl.pem", err) : NULL;
  cert = crl ? dir_file (dir, "server-cert.pem", err) : NULL;
  key = cert ? dir_file (dir, "server-key.pem", err) : NULL;
  if (key == NULL)
    goto out;

  r = gnutls_certificate_allocate_credentials (&c->x509);
  if (r < 0) {
    tls_error (err, r, "gnutls_certificate_allocate_credentials", NULL);
    c->x509 = NULL;
    goto out;
  }
  r = gnutls_certificate_set_x509_trust_file (c->x509, ca,
                                              GNUTLS_X509_FMT_PEM);
  if (r < 0 || (r == 0 && c->verify_peer)) {
    if (r == 0)
      nbds_set_error (err, 0, "%s: no CA certificate", ca);
    else
      tls_error (err, r, "CA certificate", ca);
    goto out;
  }
  if (access (crl, F_OK) == 0) {
    r = gnutls_certificate_set_x509_crl_file (c->x509, crl,
                                              GNUTLS_X509_FMT_PEM);
    if (r < 0) {
      tls_error (err, r, "certificate revocation list", crl);
      goto out;
    }
  }
  r = gnutls_certificate_set_x509_key_file (c->x509, cert, key,
                                            GNUTLS_X509_FMT_PEM);
  if (r < 0) {
    nbds_set_error (err, 0, "server certificate %s and key %s: %s",
                    cert, key, gnutls_strerror (r));
    goto out;
  }
  /* For clients limited to DHE key exchanges. */
  gnutls_certificate_set_known_dh_params (c->x509, GNUTLS_SEC_PARAM_MEDIUM);
  ret = 0;

 out:
  free (ca);
  free (crl);
  free (cert);
  free (key);
  return ret;
}

static int
load_psk (struct nbds_tls_creds *c, const char *file, struct nbds_error *err)
{
  int r;

  /* GnuTLS reads the file only when a client names a user: check now
   * that it can be read at all, so a typo fails at startup.
   */
  if (access (file, R_OK) == -1) {
    nbds_set_error (err, errno, "%s", file);
    return -1;
  }
  r = gnutls_psk_allocate_server_credentials (&c->psk);
  if (r < 0) {
    tls_error (err, r, "gnutls_psk_allocate_server_credentials", NULL);
    c->psk = NULL;
    return -1;
  }
  r = gnutls_psk_set_server_credentials_file (c->psk, file);
  if (r < 0) {
    tls_error (err, r, "PSK file", file);
    return -1;
  }
  gnutls_psk_set_server_known_dh_params (c->psk, GNUTLS_SEC_PARAM_MEDIUM);
  return 0;
}

struct nbds_tls_creds *
nbds_tls_creds_new (const char *certificates_dir, const char *psk_file,
                    bool verify_peer, struct nbds_error *err)
{
  struct nbds_tls_creds *c;
  const char *prio;
  int r;

  if ((certificates_dir == NULL) == (psk_file == NULL)) {
    nbds_set_error (err, 0, "TLS needs either certificates or a PSK file");
    return NULL;
  }
  c = calloc (1, sizeof *c);
  if (c == NULL) {
    nbds_set_error (err, errno, "calloc");
    return NULL;
  }
  c->verify_peer = verify_peer;
  if (certificates_dir) {
    if (load_x509 (c, certificates_dir, err) == -1)
      goto error;
    prio = "NORMAL";
  }
  else {
    if (load_psk (c, psk_file, err) == -1)
      goto error;
    /* PSK key exchanges are not in NORMAL. */
    prio = "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK";
  }
  r = gnutls_priority_init (&c->priority, prio, NULL);
  if (r < 0) {
    tls_error (err, r, "gnutls_priority_init", NULL);
    c->priority = NULL;
    goto error;
  }
  return c;

 error:
  nbds_tls_creds_free (c);
  return NULL;
}

void
nbds_tls_creds_free (struct nbds_tls_creds *c)
{
  if (c == NULL)
    return;
  if (c->x509)
    gnutls_certificate_free_credentials (c->x509);
  if (c->psk)
    gnutls_psk_free_server_credentials (c->psk);
  if (c->priority)
    gnutls_priority_deinit (c->priority);
  free (c);
}

/* ---- The session's own I/O: io.c's raw reads and writes. ---- */

static ssize_t
pull (gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
  return nbds_raw_read (ptr, buf, len);
}

static ssize_t
vec_push (gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
  return nbds_raw_writev (ptr, (const struct iovec *) iov, iovcnt, false);
}

/* GnuTLS asks whether data comes within ms (TLS 1.3 needs this). */
static int
pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  struct nbds_conn *conn = ptr;
  int timeout = ms == GNUTLS_INDEFINITE_TIMEOUT ? -1
    : ms > INT_MAX ? INT_MAX : (int) ms;

  if (nbds_wait_fd (conn, conn->in_fd, POLLIN, timeout) == -1)
    return errno == ETIMEDOUT ? 0 : -1;
  return 1;
}

/* ---- The TLS transport. ---- */

static ssize_t
tls_recv (struct nbds_conn *conn, void *buf, size_t len)
{
  for (;;) {
    ssize_t r = gnutls_record_recv (conn->tls, buf, len);

    if (r >= 0)
      return r;
    if (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN)
      continue;
    /* A client that hangs up without close_notify has still hung up. */
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
      return 0;
    nbds_debug (conn->srv, "conn %" PRIu64 ": TLS receive: %s",
                conn->id, gnutls_strerror (r));
    errno = EBADMSG;
    return -1;
  }
}

static int
send_record (struct nbds_conn *conn, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t r = gnutls_record_send (conn->tls, p, len);

    if (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN)
      continue;
    if (r < 0) {
      nbds_debug (conn->srv, "conn %" PRIu64 ": TLS send: %s",
                  conn->id, gnutls_strerror (r));
      errno = EPIPE;
      return -1;
    }
    p += r;
    len -= r;
  }
  return 0;
}

/* Gathers iov into full records: a reply header and its data share a
 * record instead of costing one each.  Memory stays one record.
 */
static int
tls_send (struct nbds_conn *conn, struct iovec *iov, int iovcnt, bool more)
{
  char rec[RECORD_SIZE];
  size_t fill = 0;
  int i;

  for (i = 0; i < iovcnt; ++i) {
    const char *p = iov[i].iov_base;
    size_t len = iov[i].iov_len;

    while (len > 0) {
      size_t n;

      /* Big data with nothing pending goes out without a copy. */
      if (fill == 0 && len >= RECORD_SIZE) {
        n = len - len % RECORD_SIZE;
        if (send_record (conn, p, n) == -1)
          return -1;
        p += n;
        len -= n;
        continue;
      }
      n = RECORD_SIZE - fill < len ? RECORD_SIZE - fill : len;
      memcpy (rec + fill, p, n);
      fill += n;
      p += n;
      len -= n;
      if (fill == RECORD_SIZE) {
        if (send_record (conn, rec, fill) == -1)
          return -1;
        fill = 0;
      }
    }
  }
  (void) more;                  /* records are sent whole anyway */
  return fill > 0 ? send_record (conn, rec, fill) : 0;
}

static const struct nbds_transport tls_transport = {
  .name = "tls",
  .recv = tls_recv,
  .send = tls_send,
};

int
nbds_tls_start (struct nbds_conn *conn)
{
  struct nbds_server *srv = conn->srv;
  struct nbds_tls_creds *c = srv->tls;
  gnutls_session_t s;
  int r;

  r = gnutls_init (&s, GNUTLS_SERVER);
  if (r < 0) {
    nbds_log (srv, NBDS_LOG_ERROR, "conn %" PRIu64 ": gnutls_init: %s",
              conn->id, gnutls_strerror (r));
    return -1;
  }
  r = gnutls_priority_set (s, c->priority);
  if (r == 0 && c->x509)
    r = gnutls_credentials_set (s, GNUTLS_CRD_CERTIFICATE, c->x509);
  if (r == 0 && c->psk)
    r = gnutls_credentials_set (s, GNUTLS_CRD_PSK, c->psk);
  if (r < 0) {
    nbds_log (srv, NBDS_LOG_ERROR, "conn %" PRIu64 ": TLS session: %s",
              conn->id, gnutls_strerror (r));
    gnutls_deinit (s);
    return -1;
  }
  if (c->x509 && c->verify_peer) {
    /* A client without a certificate signed by our CA (and not
     * revoked, not expired) fails the TLS handshake.
     */
    gnutls_certificate_server_set_request (s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert (s, NULL, 0);
  }
  else if (c->x509)
    gnutls_certificate_server_set_request (s, GNUTLS_CERT_IGNORE);

  gnutls_transport_set_ptr (s, conn);
  gnutls_transport_set_pull_function (s, pull);
  gnutls_transport_set_pull_timeout_function (s, pull_timeout);
  gnutls_transport_set_vec_push_function (s, vec_push);

  do
    r = gnutls_handshake (s);
  while (r < 0 && !gnutls_error_is_fatal (r));
  if (r < 0) {
    /* A bad client is not the server's error: one line, no more. */
    const int saved_errno = errno;

    if (!(r == GNUTLS_E_PULL_ERROR && errno == ETIMEDOUT))
      nbds_log (srv, NBDS_LOG_ERROR, "conn %" PRIu64 ": TLS handshake: %s",
                conn->id, gnutls_strerror (r));
    gnutls_deinit (s);
    errno = saved_errno;        /* the caller reports a timeout */
    return -1;
  }
  conn->tls = s;
  conn->transport = &tls_transport;
  /* The data must be encrypted: never sendfile around the session. */
  conn->can_sendfile = false;
  nbds_debug (srv, "conn %" PRIu64 ": TLS %s, %s", conn->id,
              gnutls_protocol_get_name (gnutls_protocol_get_version (s)),
              c->psk ? "PSK" : "X.509");
  return 0;
}

void
nbds_tls_end (struct nbds_conn *conn, bool clean)
{
  if (conn->tls == NULL)
    return;
  /* close_notify only to a client that ended cleanly (it reads it);
   * SHUT_WR does not wait for the client's answer.
   */
  if (clean)
    gnutls_bye (conn->tls, GNUTLS_SHUT_WR);
  gnutls_deinit (conn->tls);
  conn->tls = NULL;
  conn->transport = &nbds_plain_transport;
}
