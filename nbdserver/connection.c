/* One client connection: handshake, then a pool of worker threads
 * sharing the socket (see request.c), then cleanup.  Live connections
 * are kept in a list so that shutdown can stop them.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "internal.h"

static bool
is_socket (int fd)
{
  struct stat st;

  return fstat (fd, &st) == 0 && S_ISSOCK (st.st_mode);
}

/* sendfile cannot be told MSG_NOSIGNAL: a client hanging up would
 * kill a program that has not ignored SIGPIPE.
 */
static bool
sigpipe_ignored (void)
{
  struct sigaction sa;

  return sigaction (SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static void
conn_register (struct nbds_conn *conn)
{
  struct nbds_server *srv = conn->srv;

  pthread_mutex_lock (&srv->lock);
  conn->id = ++srv->next_conn_id;
  conn->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = conn;
  srv->conns = conn;
  srv->nr_conns++;
  pthread_mutex_unlock (&srv->lock);
}

static void
conn_unregister (struct nbds_conn *conn)
{
  struct nbds_server *srv = conn->srv;

  pthread_mutex_lock (&srv->lock);
  if (conn->prev)
    conn->prev->next = conn->next;
  else
    srv->conns = conn->next;
  if (conn->next)
    conn->next->prev = conn->prev;
  srv->nr_conns--;
  pthread_cond_broadcast (&srv->conns_done);
  pthread_mutex_unlock (&srv->lock);
}

static void *
worker_thread (void *arg)
{
  nbds_worker_loop (arg);
  return NULL;
}

static void
conn_hook (struct nbds_conn *conn, int event)
{
  struct nbds_server *srv = conn->srv;

  if (srv->conn_hook)
    srv->conn_hook (srv->conn_hook_opaque, conn->id, event,
                    conn->exp ? conn->exp->e.name : NULL);
}

/* Runs the workers: this thread is one of them. */
static void
transmission (struct nbds_conn *conn)
{
  const unsigned n = conn->srv->threads > 0 ? conn->srv->threads : 1;
  struct nbds_worker *workers;
  pthread_t *threads;
  unsigned i, started = 0;

  workers = calloc (n, sizeof *workers);
  threads = calloc (n, sizeof *threads);
  if (workers == NULL || threads == NULL) {
    nbds_log (conn->srv, NBDS_LOG_ERROR, "calloc: %m");
    goto out;
  }
  for (i = 0; i < n; ++i)
    workers[i].conn = conn;
  /* Fewer threads than asked is no reason to refuse the client. */
  for (i = 1; i < n; ++i) {
    if (pthread_create (&threads[i], NULL, worker_thread, &workers[i]) != 0)
      break;
    started++;
  }
  nbds_worker_loop (&workers[0]);
  for (i = 1; i <= started; ++i)
    pthread_join (threads[i], NULL);
  for (i = 0; i < n; ++i)
    free (workers[i].buf);
 out:
  free (workers);
  free (threads);
}

static int64_t
deadline_after (unsigned seconds)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ((int64_t) ts.tv_sec + seconds) * 1000 + ts.tv_nsec / 1000000;
}

int
nbds_conn_serve (struct nbds_server *srv, int in_fd, int out_fd,
                 bool accepted)
{
  struct nbds_conn *conn;
  int status;

  conn = calloc (1, sizeof *conn);
  if (conn)
    conn->inbuf = malloc (NBDS_INBUF_SIZE);
  if (conn == NULL || conn->inbuf == NULL) {
    nbds_log (srv, NBDS_LOG_ERROR, "cannot allocate a connection: %m");
    if (accepted)
      __atomic_sub_fetch (&srv->slots, 1, __ATOMIC_ACQ_REL);
    if (conn)
      free (conn);
    close (in_fd);
    if (out_fd != in_fd)
      close (out_fd);
    return -1;
  }
  conn->srv = srv;
  conn->in_fd = in_fd;
  conn->out_fd = out_fd;
  conn->out_is_socket = is_socket (out_fd);
  conn->can_sendfile = sigpipe_ignored ();
  conn->transport = &nbds_plain_transport;
  if (accepted && srv->handshake_timeout)
    conn->deadline = deadline_after (srv->handshake_timeout);
  conn->status = CONN_RUNNING;
  pthread_mutex_init (&conn->read_lock, NULL);
  pthread_mutex_init (&conn->write_lock, NULL);
  conn_register (conn);
  nbds_debug (srv, "conn %" PRIu64 ": new connection", conn->id);
  conn_hook (conn, NBDS_CONN_OPEN);

  if (nbds_handshake (conn) == -1) {
    if (errno == ETIMEDOUT && conn->deadline)
      nbds_log (srv, NBDS_LOG_ERROR,
                "conn %" PRIu64 ": handshake not finished after %u seconds, "
                "disconnecting", conn->id, srv->handshake_timeout);
    nbds_conn_set_status (conn, CONN_ERROR);
  }
  else {
    /* Requests may take as long as they like. */
    conn->deadline = 0;
    conn_hook (conn, NBDS_CONN_READY);
    transmission (conn);
  }
  status = nbds_conn_get_status (conn);

  conn_hook (conn, NBDS_CONN_CLOSE);
  nbds_debug (srv, "conn %" PRIu64 ": closed", conn->id);
  nbds_tls_end (conn, status == CONN_DONE);
  /* Before unregistering: the server may be freed right after. */
  if (accepted)
    __atomic_sub_fetch (&srv->slots, 1, __ATOMIC_ACQ_REL);
  conn_unregister (conn);
  close (in_fd);
  if (out_fd != in_fd)
    close (out_fd);
  pthread_mutex_destroy (&conn->read_lock);
  pthread_mutex_destroy (&conn->write_lock);
  free (conn->meta_export);
  free (conn->inbuf);
  free (conn);
  return status == CONN_DONE ? 0 : -1;
}
