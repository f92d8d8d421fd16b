/* Whole-message I/O on a connection.
 *
 * Input goes through a per-connection buffer so that a pipeline of
 * small requests costs one read(2), not two per request; big payloads
 * are read straight into their destination.  Callers serialise input
 * with conn->read_lock (or run before the workers start).
 *
 * Output is gathered (header + data in one call); callers hold
 * conn->write_lock so replies never interleave.
 *
 * Bytes go through conn->transport: the plain one is here, the TLS
 * one in tls.c.  Until the handshake ends, every raw read and write
 * is bounded by conn->deadline.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
nbds_wait_fd (struct nbds_conn *conn, int fd, short events, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = events };

  for (;;) {
    int ms = timeout_ms;
    int r;

    if (conn->deadline) {
      int64_t left = conn->deadline - now_ms ();

      if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      if (ms < 0 || left < ms)
        ms = left > INT_MAX ? INT_MAX : (int) left;
    }
    r = poll (&pfd, 1, ms);
    if (r > 0)
      return 0;
    if (r == 0 && (!conn->deadline || ms == timeout_ms)) {
      errno = ETIMEDOUT;        /* the caller's own limit */
      return -1;
    }
    if (r == -1 && errno != EINTR)
      return -1;
  }
}

/* One read(2), after waiting for data if the handshake deadline is
 * running: a client that sends one byte a minute cannot hold us.
 */
ssize_t
nbds_raw_read (struct nbds_conn *conn, void *buf, size_t len)
{
  for (;;) {
    ssize_t r;

    if (conn->deadline &&
        nbds_wait_fd (conn, conn->in_fd, POLLIN, -1) == -1)
      return -1;
    r = read (conn->in_fd, buf, len);
    if (r == -1 && errno == EINTR)
      continue;
    return r;
  }
}

/* One gathered write; returns the bytes written (maybe fewer). */
ssize_t
nbds_raw_writev (struct nbds_conn *conn, const struct iovec *iov, int iovcnt,
                 bool more)
{
  for (;;) {
    ssize_t r;

    if (conn->out_is_socket) {
      /* MSG_NOSIGNAL: a client that went away gives EPIPE, not SIGPIPE.
       * Under the deadline, a client that does not read must not
       * block us either.
       */
      struct msghdr msg = {
        .msg_iov = (struct iovec *) iov, .msg_iovlen = iovcnt
      };
      int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) |
        (conn->deadline ? MSG_DONTWAIT : 0);

      r = sendmsg (conn->out_fd, &msg, flags);
      if (r == -1 && conn->deadline &&
          (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (nbds_wait_fd (conn, conn->out_fd, POLLOUT, -1) == -1)
          return -1;
        continue;
      }
    }
    else
      r = writev (conn->out_fd, iov, iovcnt);
    if (r == -1 && errno == EINTR)
      continue;
    return r;
  }
}

static ssize_t
plain_recv (struct nbds_conn *conn, void *buf, size_t len)
{
  return nbds_raw_read (conn, buf, len);
}

/* Sends all of iov (which is modified). */
static int
plain_send (struct nbds_conn *conn, struct iovec *iov, int iovcnt, bool more)
{
  while (iovcnt > 0) {
    ssize_t r;

    if (iov->iov_len == 0) {
      iov++;
      iovcnt--;
      continue;
    }
    r = nbds_raw_writev (conn, iov, iovcnt, more);
    if (r == -1)
      return -1;
    while (r > 0) {
      if ((size_t) r >= iov->iov_len) {
        r -= iov->iov_len;
        iov++;
        iovcnt--;
      }
      else {
        iov->iov_base = (char *) iov->iov_base + r;
        iov->iov_len -= r;
        r = 0;
      }
    }
  }
  return 0;
}

const struct nbds_transport nbds_plain_transport = {
  .name = "plain",
  .recv = plain_recv,
  .send = plain_send,
};

int
nbds_conn_recv (struct nbds_conn *conn, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;

  while (got < len) {
    size_t avail = conn->in_end - conn->in_pos;
    size_t want = len - got;
    ssize_t r;

    if (avail > 0) {
      size_t n = avail < want ? avail : want;
      memcpy (p + got, conn->inbuf + conn->in_pos, n);
      conn->in_pos += n;
      got += n;
      continue;
    }

    if (want >= NBDS_INBUF_SIZE)
      r = conn->transport->recv (conn, p + got, want);
    else
      r = conn->transport->recv (conn, conn->inbuf, NBDS_INBUF_SIZE);
    if (r == -1)
      return -1;
    if (r == 0) {
      if (got == 0)
        return 0;
      errno = EBADMSG;          /* EOF in the middle of a message */
      return -1;
    }
    if (want >= NBDS_INBUF_SIZE)
      got += r;
    else {
      conn->in_pos = 0;
      conn->in_end = r;
    }
  }
  return 1;
}

/* Reads and drops len bytes: the payload of a refused write. */
int
nbds_conn_discard (struct nbds_conn *conn, uint64_t len)
{
  while (len > 0) {
    size_t avail = conn->in_end - conn->in_pos;
    ssize_t r;

    if (avail > 0) {
      size_t n = avail < len ? avail : len;
      conn->in_pos += n;
      len -= n;
      continue;
    }
    r = conn->transport->recv (conn, conn->inbuf, NBDS_INBUF_SIZE);
    if (r == -1)
      return -1;
    if (r == 0) {
      errno = EBADMSG;
      return -1;
    }
    conn->in_pos = 0;
    conn->in_end = r;
  }
  return 0;
}

int
nbds_conn_send (struct nbds_conn *conn, struct iovec *iov, int iovcnt)
{
  return conn->transport->send (conn, iov, iovcnt, false);
}

int
nbds_conn_send_more (struct nbds_conn *conn, struct iovec *iov, int iovcnt)
{
  return conn->transport->send (conn, iov, iovcnt, true);
}

/* The kernel moves page cache pages to the socket without a copy
 * through us.  If it cannot (or the file ends early), the rest is read
 * and sent the ordinary way, so the client gets its data or an I/O
 * error closes the connection: the reply header is already out.
 */
int
nbds_conn_sendfile (struct nbds_conn *conn, int fd, uint64_t offset,
                    uint32_t len)
{
  off_t pos = offset;
  char chunk[16384];

  while (len > 0) {
    ssize_t r = sendfile (conn->out_fd, fd, &pos, len);

    if (r > 0) {
      len -= r;
      continue;
    }
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1 && (errno == EPIPE || errno == ECONNRESET))
      return -1;
    break;
  }
  while (len > 0) {
    size_t n = len < sizeof chunk ? len : sizeof chunk;
    ssize_t r = pread (fd, chunk, n, pos);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      return -1;
    }
    if (nbds_conn_send_buf (conn, chunk, r) == -1)
      return -1;
    pos += r;
    len -= r;
  }
  return 0;
}

int
nbds_conn_send_buf (struct nbds_conn *conn, const void *buf, size_t len)
{
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };

  return nbds_conn_send (conn, &iov, 1);
}
