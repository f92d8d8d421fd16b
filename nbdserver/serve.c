/* Accepting connections (one thread each) until shutdown, then
 * stopping them: input is shut so workers see EOF, requests in flight
 * finish and are answered, and we wait for the connections to end.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "internal.h"

/* How long requests in flight get before connections are cut. */
#define DRAIN_SECONDS 10

int
nbds_server_add_listener (struct nbds_server *srv, int fd)
{
  int flags = fcntl (fd, F_GETFL);

  /* Non-blocking: a client that vanishes between poll and accept
   * must not block the loop.
   */
  if (flags == -1 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
      fcntl (fd, F_SETFD, FD_CLOEXEC) == -1)
    return -1;
  return fd_vector_append (&srv->listeners, fd);
}

int
nbds_server_serve_fds (struct nbds_server *srv, int in_fd, int out_fd)
{
  return nbds_conn_serve (srv, in_fd, out_fd, false);
}

void
nbds_server_shutdown (struct nbds_server *srv)
{
  int saved_errno = errno;
  ssize_t r;

  __atomic_store_n (&srv->quit, 1, __ATOMIC_RELEASE);
  r = write (srv->quit_fd[1], "q", 1);
  (void) r;                     /* a full pipe already says it */
  errno = saved_errno;
}

struct conn_start {
  struct nbds_server *srv;
  int fd;
};

static void *
conn_thread (void *arg)
{
  struct conn_start s = *(struct conn_start *) arg;

  free (arg);
  nbds_conn_serve (s.srv, s.fd, s.fd, true);
  return NULL;
}

static void
start_connection (struct nbds_server *srv, int fd)
{
  struct conn_start *s;
  pthread_attr_t attr;
  pthread_t thread;
  int one = 1, err;

  /* Replies are written whole: never wait for more data (fails
   * harmlessly on Unix sockets).
   */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  s = malloc (sizeof *s);
  if (s == NULL) {
    nbds_log (srv, NBDS_LOG_ERROR, "malloc: %m");
    __atomic_sub_fetch (&srv->slots, 1, __ATOMIC_ACQ_REL);
    close (fd);
    return;
  }
  s->srv = srv;
  s->fd = fd;
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  err = pthread_create (&thread, &attr, conn_thread, s);
  pthread_attr_destroy (&attr);
  if (err != 0) {
    errno = err;
    nbds_log (srv, NBDS_LOG_ERROR, "pthread_create: %m");
    __atomic_sub_fetch (&srv->slots, 1, __ATOMIC_ACQ_REL);
    free (s);
    close (fd);
  }
}

static void
accept_one (struct nbds_server *srv, int lfd)
{
  int fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);

  if (fd == -1) {
    switch (errno) {
    case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO:
      return;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
      /* Out of resources: back off rather than spin. */
      nbds_log (srv, NBDS_LOG_ERROR, "accept: %m");
      poll (NULL, 0, 100);
      return;
    default:
      nbds_log (srv, NBDS_LOG_ERROR, "accept: %m");
      return;
    }
  }
  /* Over the cap: closed at once, so the client learns it now
   * instead of waiting in the backlog.  Only the accepting thread
   * adds to slots, so the check cannot be overtaken.
   */
  if (srv->max_conns &&
      __atomic_load_n (&srv->slots, __ATOMIC_ACQUIRE) >= srv->max_conns) {
    /* Once per episode: a flood of refused clients must not flood
     * the log too.
     */
    if (!srv->refusing)
      nbds_log (srv, NBDS_LOG_ERROR, "%u connections: refusing new clients "
                "until one ends", srv->max_conns);
    srv->refusing = true;
    nbds_debug (srv, "refused a client over --max-connections");
    close (fd);
    return;
  }
  srv->refusing = false;
  __atomic_add_fetch (&srv->slots, 1, __ATOMIC_ACQ_REL);
  start_connection (srv, fd);
}

static void
stop_connections (struct nbds_server *srv)
{
  struct nbds_conn *c;
  struct timespec deadline;
  bool forced = false;

  pthread_mutex_lock (&srv->lock);
  for (c = srv->conns; c; c = c->next)
    shutdown (c->in_fd, SHUT_RD);
  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_sec += DRAIN_SECONDS;
  while (srv->nr_conns > 0) {
    int r = pthread_cond_timedwait (&srv->conns_done, &srv->lock, &deadline);

    if (r == ETIMEDOUT) {
      if (forced)
        break;
      /* Clients that do not read their replies: cut them off. */
      nbds_log (srv, NBDS_LOG_ERROR,
                "%zu connection(s) still busy, closing them", srv->nr_conns);
      for (c = srv->conns; c; c = c->next)
        shutdown (c->in_fd, SHUT_RDWR);
      forced = true;
      clock_gettime (CLOCK_REALTIME, &deadline);
      deadline.tv_sec += 2;
    }
  }
  pthread_mutex_unlock (&srv->lock);
}

int
nbds_server_run (struct nbds_server *srv)
{
  const size_t n = srv->listeners.len;
  struct pollfd *fds;
  size_t i;
  int ret = 0;

  fds = calloc (n + 1, sizeof *fds);
  if (fds == NULL)
    return -1;
  fds[0].fd = srv->quit_fd[0];
  fds[0].events = POLLIN;
  for (i = 0; i < n; ++i) {
    fds[i + 1].fd = srv->listeners.ptr[i];
    fds[i + 1].events = POLLIN;
  }

  while (!__atomic_load_n (&srv->quit, __ATOMIC_ACQUIRE)) {
    if (poll (fds, n + 1, -1) == -1) {
      if (errno == EINTR)
        continue;
      nbds_log (srv, NBDS_LOG_ERROR, "poll: %m");
      ret = -1;
      break;
    }
    if (fds[0].revents)
      break;
    for (i = 1; i <= n; ++i) {
      if (fds[i].revents & (POLLERR | POLLNVAL)) {
        nbds_log (srv, NBDS_LOG_ERROR, "listening socket failed");
        ret = -1;
        goto out;
      }
      if (fds[i].revents & POLLIN)
        accept_one (srv, fds[i].fd);
    }
  }

 out:
  free (fds);
  /* New clients are refused from now on. */
  for (i = 0; i < n; ++i)
    close (srv->listeners.ptr[i]);
  srv->listeners.len = 0;
  __atomic_store_n (&srv->quit, 1, __ATOMIC_RELEASE);
  stop_connections (srv);
  return ret;
}
