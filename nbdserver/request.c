/* The transmission phase: each worker thread of a connection reads a
 * request (under the read lock), checks it, runs it on the backend
 * and sends the reply (under the write lock).  With several workers,
 * requests run in parallel and replies go out in completion order.
 *
 * Checks and their errors follow what nbdkit answers, so clients see
 * the same behaviour from both servers.
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

struct request {
  uint64_t cookie;              /* as sent, not byte-swapped */
  uint64_t offset;
  uint32_t count;
  uint16_t flags;
  uint16_t cmd;
};

/* Zeroes for WRITE_ZEROES on backends without a zero callback. */
static const char zero_buf[64 * 1024];

int
nbds_conn_get_status (struct nbds_conn *conn)
{
  return __atomic_load_n (&conn->status, __ATOMIC_ACQUIRE);
}

/* The status only goes down: running -> done -> error. */
void
nbds_conn_set_status (struct nbds_conn *conn, int status)
{
  int old = nbds_conn_get_status (conn);

  while (status < old) {
    if (__atomic_compare_exchange_n (&conn->status, &old, status, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      /* Wake the other workers of a broken connection: a client that
       * stops reading but keeps the socket open must not pin them.
       */
      if (status == CONN_ERROR && conn->out_is_socket)
        shutdown (conn->out_fd, SHUT_RDWR);
      break;
    }
  }
}

static bool
is_write (uint16_t cmd)
{
  return cmd == NBDS_CMD_WRITE || cmd == NBDS_CMD_TRIM ||
    cmd == NBDS_CMD_WRITE_ZEROES;
}

/* Returns 0 if the request may run, else the errno for the reply. */
static int
validate (const struct nbds_conn *conn, const struct request *req)
{
  const uint64_t size = conn->exp->e.size;
  const uint16_t eflags = conn->eflags;
  const uint16_t cmd = req->cmd, flags = req->flags;

  if ((eflags & NBD_FLAG_READ_ONLY) && is_write (cmd))
    return EPERM;

  switch (cmd) {
  case NBDS_CMD_READ:
  case NBDS_CMD_CACHE:
  case NBDS_CMD_WRITE:
  case NBDS_CMD_TRIM:
  case NBDS_CMD_WRITE_ZEROES:
  case NBDS_CMD_BLOCK_STATUS:
    if (req->count == 0 || req->offset > size || req->count > size - req->offset)
      return cmd == NBDS_CMD_WRITE || cmd == NBDS_CMD_WRITE_ZEROES
        ? ENOSPC : EINVAL;
    break;
  case NBDS_CMD_FLUSH:
    if (req->offset != 0 || req->count != 0)
      return EINVAL;
    break;
  default:
    return EINVAL;              /* unknown command */
  }

  if (flags & ~(NBDS_FLAG_FUA | NBDS_FLAG_NO_HOLE | NBDS_FLAG_DF |
                NBDS_FLAG_REQ_ONE | NBDS_FLAG_FAST_ZERO))
    return EINVAL;
  if ((flags & NBDS_FLAG_NO_HOLE) && cmd != NBDS_CMD_WRITE_ZEROES)
    return EINVAL;
  if ((flags & NBDS_FLAG_FAST_ZERO) &&
      (cmd != NBDS_CMD_WRITE_ZEROES || !(eflags & NBD_FLAG_SEND_FAST_ZERO)))
    return EINVAL;
  if ((flags & NBDS_FLAG_DF) &&
      (cmd != NBDS_CMD_READ || !conn->structured))
    return EINVAL;
  if ((flags & NBDS_FLAG_REQ_ONE) && cmd != NBDS_CMD_BLOCK_STATUS)
    return EINVAL;
  if ((flags & NBDS_FLAG_FUA) && !(eflags & NBD_FLAG_SEND_FUA))
    return EINVAL;

  if ((cmd == NBDS_CMD_READ || cmd == NBDS_CMD_WRITE) &&
      req->count > NBDS_MAX_REQUEST)
    return ENOMEM;

  switch (cmd) {
  case NBDS_CMD_FLUSH:
    return eflags & NBD_FLAG_SEND_FLUSH ? 0 : EINVAL;
  case NBDS_CMD_TRIM:
    return eflags & NBD_FLAG_SEND_TRIM ? 0 : EINVAL;
  case NBDS_CMD_WRITE_ZEROES:
    return eflags & NBD_FLAG_SEND_WRITE_ZEROES ? 0 : EINVAL;
  case NBDS_CMD_CACHE:
    return eflags & NBD_FLAG_SEND_CACHE ? 0 : EINVAL;
  case NBDS_CMD_BLOCK_STATUS:
    return conn->structured && conn->base_allocation ? 0 : EINVAL;
  default:
    return 0;
  }
}

/* The worker's buffer, big enough for count bytes. */
static void *
get_buffer (struct nbds_worker *w, uint32_t count)
{
  if (w->buf_size < count) {
    free (w->buf);
    w->buf_size = 0;
    w->buf = malloc (count);
    if (w->buf == NULL)
      return NULL;
    w->buf_size = count;
  }
  return w->buf;
}

/* Reads a request and its payload, with the read lock held.  Returns
 * 1 with *err the errno to answer (0: run it), 0 when the client is
 * done (EOF or DISC), -1 when the connection is broken.
 */
static int
recv_request (struct nbds_worker *w, struct request *req, int *err)
{
  struct nbds_conn *conn = w->conn;
  struct nbd_request r;
  int rc;

  rc = nbds_conn_recv (conn, &r, sizeof r);
  if (rc == 0) {
    nbds_debug (conn->srv, "conn %" PRIu64 ": client closed the connection",
                conn->id);
    return 0;
  }
  if (rc == -1) {
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": read request: %m", conn->id);
    return -1;
  }
  if (be32toh (r.magic) != NBD_REQUEST_MAGIC) {
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": bad request magic 0x%x, disconnecting",
              conn->id, be32toh (r.magic));
    return -1;
  }
  req->cookie = r.cookie;
  req->flags = be16toh (r.flags);
  req->cmd = be16toh (r.type);
  req->offset = be64toh (r.offset);
  req->count = be32toh (r.count);
  if (req->cmd == NBDS_CMD_DISC) {
    nbds_debug (conn->srv, "conn %" PRIu64 ": DISC", conn->id);
    return 0;
  }

  *err = validate (conn, req);
  if (*err == 0 && req->cmd == NBDS_CMD_WRITE &&
      get_buffer (w, req->count) == NULL)
    *err = ENOMEM;

  if (req->cmd == NBDS_CMD_WRITE) {
    if (*err == 0)
      rc = nbds_conn_recv (conn, w->buf, req->count);
    else if (req->count > NBDS_MAX_DISCARD) {
      nbds_log (conn->srv, NBDS_LOG_ERROR,
                "conn %" PRIu64 ": write payload of %" PRIu32
                " bytes too large to skip, disconnecting",
                conn->id, req->count);
      return -1;
    }
    else
      rc = nbds_conn_discard (conn, req->count) == 0 ? 1 : -1;
    if (rc != 1) {
      nbds_log (conn->srv, NBDS_LOG_ERROR,
                "conn %" PRIu64 ": read write payload: %m", conn->id);
      return -1;
    }
  }
  return 1;
}

static int
emulate_zero (const struct nbds_export *e, uint32_t count, uint64_t offset)
{
  while (count > 0) {
    uint32_t n = count < sizeof zero_buf ? count : sizeof zero_buf;
    int err = e->ops->pwrite (e->handle, zero_buf, n, offset);

    if (err)
      return err;
    count -= n;
    offset += n;
  }
  return 0;
}

static int
do_zero (const struct nbds_export *e, const struct request *req)
{
  int err;

  if (e->ops->zero) {
    err = e->ops->zero (e->handle, req->count, req->offset,
                        req->flags & (NBDS_FLAG_NO_HOLE | NBDS_FLAG_FAST_ZERO));
    if ((err != ENOTSUP && err != EOPNOTSUPP) ||
        (req->flags & NBDS_FLAG_FAST_ZERO))
      return err;
  }
  else if (req->flags & NBDS_FLAG_FAST_ZERO)
    return ENOTSUP;
  return emulate_zero (e, req->count, req->offset);
}

/* Runs a valid request; returns 0 or an errno value. */
static int
handle (struct nbds_worker *w, const struct request *req,
        struct nbds_extents *extents)
{
  const struct nbds_export *e = &w->conn->exp->e;
  int err;

  switch (req->cmd) {
  case NBDS_CMD_READ:
    /* Big reads of data nobody can change skip our buffer. */
    if (e->ops->read_fd && w->conn->can_sendfile &&
        req->count >= NBDS_SENDFILE_MIN &&
        e->ops->read_fd (e->handle, req->count, req->offset,
                         &w->send_fd) == 0)
      return 0;
    w->send_fd = -1;
    if (get_buffer (w, req->count) == NULL)
      return ENOMEM;
    return e->ops->pread (e->handle, w->buf, req->count, req->offset);

  case NBDS_CMD_WRITE:
    err = e->ops->pwrite (e->handle, w->buf, req->count, req->offset);
    break;

  case NBDS_CMD_FLUSH:
    return e->ops->flush (e->handle);

  case NBDS_CMD_TRIM:
    err = e->ops->trim (e->handle, req->count, req->offset);
    break;

  case NBDS_CMD_CACHE:
    return e->ops->cache (e->handle, req->count, req->offset);

  case NBDS_CMD_WRITE_ZEROES:
    err = do_zero (e, req);
    break;

  case NBDS_CMD_BLOCK_STATUS:
    nbds_extents_init (extents, req->offset, req->count,
                       req->flags & NBDS_FLAG_REQ_ONE);
    if (e->ops->extents)
      err = e->ops->extents (e->handle, req->count, req->offset, extents);
    else
      err = nbds_extents_add (extents, req->offset, req->count,
                              NBDS_EXTENT_DATA) == -1 ? errno : 0;
    if (err == 0 && extents->n == 0)
      err = EIO;                /* the backend reported nothing */
    return err;

  default:
    abort ();                   /* validate let through a bad command */
  }

  /* FUA: the write is durable before we answer. */
  if (err == 0 && (req->flags & NBDS_FLAG_FUA) && e->ops->flush)
    err = e->ops->flush (e->handle);
  return err;
}

static int
send_reply (struct nbds_worker *w, const struct request *req, int err,
            const struct nbds_extents *extents)
{
  struct nbds_conn *conn = w->conn;

  if (conn->structured &&
      (req->cmd == NBDS_CMD_READ || req->cmd == NBDS_CMD_BLOCK_STATUS)) {
    if (err)
      return nbds_reply_error (conn, req->cookie, err, req->flags);
    if (req->cmd == NBDS_CMD_READ && w->send_fd >= 0)
      return nbds_reply_read_fd (conn, req->cookie, req->offset,
                                 w->send_fd, req->count);
    if (req->cmd == NBDS_CMD_READ)
      return nbds_reply_read (conn, req->cookie, req->offset,
                              w->buf, req->count);
    return nbds_reply_block_status (conn, req->cookie, extents);
  }
  if (req->cmd == NBDS_CMD_READ && err == 0 && w->send_fd >= 0)
    return nbds_reply_read_fd (conn, req->cookie, req->offset,
                               w->send_fd, req->count);
  return nbds_reply_simple (conn, req->cookie, err, req->flags,
                            req->cmd == NBDS_CMD_READ ? w->buf : NULL,
                            req->count);
}

static void
call_hook (struct nbds_conn *conn, const struct request *req, int err)
{
  struct nbds_server *srv = conn->srv;
  const struct nbds_request_info info = {
    .conn = conn->id,
    .export_index = conn->export_index,
    .export_name = conn->exp->e.name,
    .cmd = req->cmd,
    .flags = req->flags,
    .offset = req->offset,
    .count = req->count,
    .error = err,
  };

  srv->request_hook (srv->request_hook_opaque, &info);
}

void
nbds_worker_loop (struct nbds_worker *w)
{
  struct nbds_conn *conn = w->conn;
  struct nbds_server *srv = conn->srv;

  for (;;) {
    struct request req = { 0 };
    struct nbds_extents extents = { 0 };
    int err = 0, r;

    w->send_fd = -1;
    pthread_mutex_lock (&conn->read_lock);
    if (nbds_conn_get_status (conn) != CONN_RUNNING) {
      pthread_mutex_unlock (&conn->read_lock);
      return;
    }
    r = recv_request (w, &req, &err);
    if (r <= 0)
      nbds_conn_set_status (conn, r == 0 ? CONN_DONE : CONN_ERROR);
    pthread_mutex_unlock (&conn->read_lock);
    if (r <= 0) {
      if (r == 0 && req.cmd == NBDS_CMD_DISC && srv->request_hook)
        call_hook (conn, &req, 0);
      return;
    }

    if (err == 0) {
      /* Shutting down: requests not started yet are refused. */
      if (__atomic_load_n (&srv->quit, __ATOMIC_ACQUIRE))
        err = ESHUTDOWN;
      else
        err = handle (w, &req, &extents);
    }
    if (err)
      nbds_debug (srv, "conn %" PRIu64 ": %s offset %" PRIu64
                  " count %" PRIu32 " flags 0x%x: %s",
                  conn->id, nbds_cmd_name (req.cmd), req.offset,
                  req.count, req.flags, strerror (err));

    if (send_reply (w, &req, err, &extents) == -1) {
      nbds_debug (srv, "conn %" PRIu64 ": write reply: %m", conn->id);
      nbds_conn_set_status (conn, CONN_ERROR);
    }
    nbds_extents_free (&extents);

    if (srv->request_hook)
      call_hook (conn, &req, err);

    if (w->buf_size > NBDS_KEEP_BUFFER) {
      free (w->buf);
      w->buf = NULL;
      w->buf_size = 0;
    }
  }
}
