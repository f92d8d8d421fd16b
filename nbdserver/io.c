/* Whole-message I/O on a connection.
 *
 * Input goes through a per-connection buffer so that a pipeline of
 * small requests costs one read(2), not two per request; big payloads
 * are read straight into their destination.  Callers serialise input
 * with conn->read_lock (or run before the workers start).
 *
 * Output is gathered (header + data in one call); callers hold
 * conn->write_lock so replies never interleave.
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

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
      r = read (conn->in_fd, p + got, want);
    else
      r = read (conn->in_fd, conn->inbuf, NBDS_INBUF_SIZE);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
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
    r = read (conn->in_fd, conn->inbuf, NBDS_INBUF_SIZE);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0) {
      errno = EBADMSG;
      return -1;
    }
    conn->in_pos = 0;
    conn->in_end = r;
  }
  return 0;
}

/* Sends all of iov (which is modified). */
int
nbds_conn_send (struct nbds_conn *conn, struct iovec *iov, int iovcnt)
{
  while (iovcnt > 0) {
    ssize_t r;

    if (iov->iov_len == 0) {
      iov++;
      iovcnt--;
      continue;
    }
    if (conn->out_is_socket) {
      /* MSG_NOSIGNAL: a client that went away gives EPIPE, not SIGPIPE. */
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = iovcnt };
      r = sendmsg (conn->out_fd, &msg, MSG_NOSIGNAL);
    }
    else
      r = writev (conn->out_fd, iov, iovcnt);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
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

int
nbds_conn_send_buf (struct nbds_conn *conn, const void *buf, size_t len)
{
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };

  return nbds_conn_send (conn, &iov, 1);
}
