/* Replies in the transmission phase: simple replies, and structured
 * ones (data, error, block status) once negotiated.  Each reply is
 * one gathered write under the connection's write lock, so replies
 * from different worker threads never interleave.
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <pthread.h>

#include "internal.h"

/* The NBD error for an errno value, as nbdkit maps them. */
uint32_t
nbds_wire_error (int err, uint16_t flags)
{
  switch (err) {
  case 0:
    return NBD_SUCCESS;
  case EROFS:
  case EPERM:
    return NBD_EPERM;
  case EIO:
    return NBD_EIO;
  case ENOMEM:
    return NBD_ENOMEM;
  case EDQUOT:
  case EFBIG:
  case ENOSPC:
    return NBD_ENOSPC;
  case ESHUTDOWN:
    return NBD_ESHUTDOWN;
  case ENOTSUP:
    /* Only a FAST_ZERO request may be told "not supported". */
    return (flags & NBDS_FLAG_FAST_ZERO) ? NBD_ENOTSUP : NBD_EINVAL;
  case EOVERFLOW:
    return (flags & NBDS_FLAG_DF) ? NBD_EOVERFLOW : NBD_EINVAL;
  default:
    return NBD_EINVAL;
  }
}

static int
send_locked (struct nbds_conn *conn, struct iovec *iov, int n)
{
  int r;

  pthread_mutex_lock (&conn->write_lock);
  r = nbds_conn_send (conn, iov, n);
  pthread_mutex_unlock (&conn->write_lock);
  return r;
}

/* data is sent only on success (a READ without structured replies). */
int
nbds_reply_simple (struct nbds_conn *conn, uint64_t cookie, int err,
                   uint16_t flags, const void *data, uint32_t len)
{
  struct nbd_simple_reply reply;
  struct iovec iov[2];

  reply.magic = htobe32 (NBD_SIMPLE_REPLY_MAGIC);
  reply.error = htobe32 (nbds_wire_error (err, flags));
  reply.cookie = cookie;
  iov[0].iov_base = &reply;
  iov[0].iov_len = sizeof reply;
  iov[1].iov_base = (void *) data;
  iov[1].iov_len = err == 0 && data ? len : 0;
  return send_locked (conn, iov, 2);
}

static void
structured_header (struct nbd_structured_reply *hdr, uint64_t cookie,
                   uint16_t type, uint32_t length)
{
  hdr->magic = htobe32 (NBD_STRUCTURED_REPLY_MAGIC);
  hdr->flags = htobe16 (NBD_REPLY_FLAG_DONE);
  hdr->type = htobe16 (type);
  hdr->cookie = cookie;
  hdr->length = htobe32 (length);
}

/* The whole read in one OFFSET_DATA chunk (so DF is always honoured). */
int
nbds_reply_read (struct nbds_conn *conn, uint64_t cookie, uint64_t offset,
                 const void *data, uint32_t len)
{
  struct {
    struct nbd_structured_reply hdr;
    uint64_t offset;
  } __attribute__ ((packed)) head;
  struct iovec iov[2];

  structured_header (&head.hdr, cookie, NBD_REPLY_TYPE_OFFSET_DATA,
                     sizeof head.offset + len);
  head.offset = htobe64 (offset);
  iov[0].iov_base = &head;
  iov[0].iov_len = sizeof head;
  iov[1].iov_base = (void *) data;
  iov[1].iov_len = len;
  return send_locked (conn, iov, 2);
}

/* A successful READ whose data goes from fd to the socket unseen. */
int
nbds_reply_read_fd (struct nbds_conn *conn, uint64_t cookie, uint64_t offset,
                    int fd, uint32_t len)
{
  struct {
    struct nbd_structured_reply hdr;
    uint64_t offset;
  } __attribute__ ((packed)) shead;
  struct nbd_simple_reply simple;
  struct iovec iov;
  int r;

  if (conn->structured) {
    structured_header (&shead.hdr, cookie, NBD_REPLY_TYPE_OFFSET_DATA,
                       sizeof shead.offset + len);
    shead.offset = htobe64 (offset);
    iov.iov_base = &shead;
    iov.iov_len = sizeof shead;
  }
  else {
    simple.magic = htobe32 (NBD_SIMPLE_REPLY_MAGIC);
    simple.error = 0;
    simple.cookie = cookie;
    iov.iov_base = &simple;
    iov.iov_len = sizeof simple;
  }
  pthread_mutex_lock (&conn->write_lock);
  r = nbds_conn_send_more (conn, &iov, 1);
  if (r == 0)
    r = nbds_conn_sendfile (conn, fd, offset, len);
  pthread_mutex_unlock (&conn->write_lock);
  return r;
}

int
nbds_reply_error (struct nbds_conn *conn, uint64_t cookie, int err,
                  uint16_t flags)
{
  struct {
    struct nbd_structured_reply hdr;
    struct nbd_structured_error error;
  } __attribute__ ((packed)) reply;
  struct iovec iov;

  structured_header (&reply.hdr, cookie, NBD_REPLY_TYPE_ERROR,
                     sizeof reply.error);
  reply.error.error = htobe32 (nbds_wire_error (err, flags));
  reply.error.len = 0;
  iov.iov_base = &reply;
  iov.iov_len = sizeof reply;
  return send_locked (conn, &iov, 1);
}

/* The descriptors are converted to wire order in place. */
int
nbds_reply_block_status (struct nbds_conn *conn, uint64_t cookie,
                         const struct nbds_extents *e)
{
  struct {
    struct nbd_structured_reply hdr;
    uint32_t context_id;
  } __attribute__ ((packed)) head;
  struct iovec iov[2];
  size_t i;

  for (i = 0; i < e->n; ++i) {
    e->d[i].length = htobe32 (e->d[i].length);
    e->d[i].status_flags = htobe32 (e->d[i].status_flags);
  }
  structured_header (&head.hdr, cookie, NBD_REPLY_TYPE_BLOCK_STATUS,
                     sizeof head.context_id + e->n * sizeof e->d[0]);
  head.context_id = htobe32 (NBDS_BASE_ALLOCATION_ID);
  iov[0].iov_base = &head;
  iov[0].iov_len = sizeof head;
  iov[1].iov_base = e->d;
  iov[1].iov_len = e->n * sizeof e->d[0];
  return send_locked (conn, iov, 2);
}
