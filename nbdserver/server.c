/* The server object: its exports and settings. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct nbds_server *
nbds_server_new (void)
{
  struct nbds_server *srv = calloc (1, sizeof *srv);

  if (srv == NULL)
    return NULL;
  if (pipe2 (srv->quit_fd, O_CLOEXEC | O_NONBLOCK) == -1) {
    free (srv);
    return NULL;
  }
  srv->threads = 16;
  srv->handshake_timeout = NBDS_DEFAULT_HANDSHAKE_TIMEOUT;
  srv->max_conns = NBDS_DEFAULT_MAX_CONNECTIONS;
  pthread_mutex_init (&srv->lock, NULL);
  pthread_cond_init (&srv->conns_done, NULL);
  return srv;
}

bool
nbds_server_free (struct nbds_server *srv)
{
  size_t i;

  if (srv == NULL)
    return true;
  /* Connections that would not stop may still use the exports: the
   * process is about to exit anyway, so leave everything in place.
   */
  pthread_mutex_lock (&srv->lock);
  if (srv->nr_conns > 0) {
    pthread_mutex_unlock (&srv->lock);
    return false;
  }
  pthread_mutex_unlock (&srv->lock);
  for (i = 0; i < srv->exports.len; ++i) {
    struct nbds_export *e = &srv->exports.ptr[i].e;

    if (e->ops->close)
      e->ops->close (e->handle);
    free ((char *) e->name);
    free ((char *) e->description);
  }
  export_vector_reset (&srv->exports);
  for (i = 0; i < srv->listeners.len; ++i)
    close (srv->listeners.ptr[i]);
  fd_vector_reset (&srv->listeners);
  nbds_tls_creds_free (srv->tls);
  close (srv->quit_fd[0]);
  close (srv->quit_fd[1]);
  pthread_mutex_destroy (&srv->lock);
  pthread_cond_destroy (&srv->conns_done);
  free (srv);
  return true;
}

/* The transmission flags follow from what the backend can do. */
static uint16_t
export_flags (const struct nbds_export *e)
{
  const struct nbds_backend_ops *ops = e->ops;
  const bool writable = !e->readonly && ops->pwrite;
  uint16_t f = NBD_FLAG_HAS_FLAGS;

  if (!writable)
    f |= NBD_FLAG_READ_ONLY;
  if (ops->flush)
    f |= NBD_FLAG_SEND_FLUSH;
  if (writable && ops->flush)
    f |= NBD_FLAG_SEND_FUA;
  if (writable && ops->trim)
    f |= NBD_FLAG_SEND_TRIM;
  if (writable)
    f |= NBD_FLAG_SEND_WRITE_ZEROES;
  if (writable && ops->zero)
    f |= NBD_FLAG_SEND_FAST_ZERO;
  if (ops->cache)
    f |= NBD_FLAG_SEND_CACHE;
  if (e->multi_conn)
    f |= NBD_FLAG_CAN_MULTI_CONN;
  return f;
}

int
nbds_server_add_export (struct nbds_server *srv, const struct nbds_export *exp)
{
  struct nbds_export_entry ent;
  size_t i, len;

  if (exp->name == NULL || exp->ops == NULL || exp->ops->pread == NULL) {
    errno = EINVAL;
    return -1;
  }
  len = strlen (exp->name);
  if (len > NBDS_MAX_STRING ||
      (exp->description && strlen (exp->description) > NBDS_MAX_STRING)) {
    errno = EINVAL;
    return -1;
  }
  for (i = 0; i < srv->exports.len; ++i) {
    if (strcmp (srv->exports.ptr[i].e.name, exp->name) == 0) {
      errno = EEXIST;
      return -1;
    }
  }

  ent.e = *exp;
  ent.eflags = export_flags (exp);
  ent.e.name = strdup (exp->name);
  ent.e.description = exp->description ? strdup (exp->description) : NULL;
  if (ent.e.name == NULL || (exp->description && ent.e.description == NULL) ||
      export_vector_append (&srv->exports, ent) == -1) {
    free ((char *) ent.e.name);
    free ((char *) ent.e.description);
    return -1;
  }
  return 0;
}

size_t
nbds_server_export_count (const struct nbds_server *srv)
{
  return srv->exports.len;
}

void
nbds_server_set_threads (struct nbds_server *srv, unsigned n)
{
  srv->threads = n > 0 ? n : 1;
}

void
nbds_server_set_log (struct nbds_server *srv, nbds_log_fn fn, void *opaque,
                     int verbose)
{
  srv->log = fn;
  srv->log_opaque = opaque;
  srv->verbose = verbose;
}

void
nbds_server_set_request_hook (struct nbds_server *srv,
                              nbds_request_hook hook, void *opaque)
{
  srv->request_hook = hook;
  srv->request_hook_opaque = opaque;
}

void
nbds_server_set_conn_hook (struct nbds_server *srv, nbds_conn_hook hook,
                           void *opaque)
{
  srv->conn_hook = hook;
  srv->conn_hook_opaque = opaque;
}

int
nbds_server_set_tls (struct nbds_server *srv, int mode,
                     struct nbds_tls_creds *creds)
{
  if (mode < NBDS_TLS_OFF || mode > NBDS_TLS_REQUIRE ||
      (mode != NBDS_TLS_OFF && creds == NULL)) {
    errno = EINVAL;
    return -1;
  }
  if (srv->tls != creds)
    nbds_tls_creds_free (srv->tls);
  srv->tls_mode = mode;
  srv->tls = creds;
  return 0;
}

void
nbds_server_set_handshake_timeout (struct nbds_server *srv, unsigned seconds)
{
  srv->handshake_timeout = seconds;
}

void
nbds_server_set_max_connections (struct nbds_server *srv, unsigned n)
{
  srv->max_conns = n;
}
