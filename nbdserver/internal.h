/* Internals of libvbmnbd shared between its files. */
#ifndef NBDS_INTERNAL_H
#define NBDS_INTERNAL_H

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nbdserver.h"
#include "protocol.h"
#include "vector.h"

/* Handshake limits: options before GO, string lengths (spec limit),
 * option data we read into memory (bigger options are skipped).
 */
#define NBDS_MAX_OPTIONS      32
#define NBDS_MAX_STRING       4096
#define NBDS_MAX_OPTION_DATA  (64 * 1024)
/* Payloads of refused writes up to this size are read and dropped;
 * beyond it the connection is closed (as nbdkit does).
 */
#define NBDS_MAX_DISCARD      (2 * NBDS_MAX_REQUEST)
/* Block sizes advertised with NBD_INFO_BLOCK_SIZE. */
#define NBDS_BLOCK_MIN        1
#define NBDS_BLOCK_PREFERRED  4096
#define NBDS_BLOCK_MAX        (32 * 1024 * 1024)
/* Input buffer per connection: many small requests per read(2). */
#define NBDS_INBUF_SIZE       (64 * 1024)
/* Per-worker buffers up to this size are kept between requests. */
#define NBDS_KEEP_BUFFER      (4 * 1024 * 1024)
/* READs from this size on may be sent with sendfile (read_fd). */
#define NBDS_SENDFILE_MIN     (64 * 1024)
/* Most block status descriptors in one reply. */
#define NBDS_MAX_EXTENTS      (64 * 1024)

struct nbds_export_entry {
  struct nbds_export e;         /* name and description are copies */
  uint16_t eflags;              /* transmission flags, without DF */
};

DEFINE_VECTOR_TYPE (export_vector, struct nbds_export_entry);
DEFINE_VECTOR_TYPE (fd_vector, int);

struct nbds_conn;

/* How a connection's bytes travel: plain (io.c) or inside a TLS
 * session (tls.c).  The handshake and request code only see this.
 * recv returns bytes read (> 0), 0 at EOF, -1 with errno set; send
 * sends all of iov (which it may modify) and returns 0 or -1.
 */
struct nbds_transport {
  const char *name;
  ssize_t (*recv) (struct nbds_conn *conn, void *buf, size_t len);
  int (*send) (struct nbds_conn *conn, struct iovec *iov, int iovcnt,
               bool more);
};

struct nbds_server {
  export_vector exports;
  unsigned threads;
  nbds_log_fn log;
  void *log_opaque;
  int verbose;
  nbds_request_hook request_hook;
  void *request_hook_opaque;
  nbds_conn_hook conn_hook;
  void *conn_hook_opaque;

  /* TLS (tls.c) and the limits against hostile clients. */
  int tls_mode;                 /* NBDS_TLS_* */
  struct nbds_tls_creds *tls;   /* owned, NULL when off */
  unsigned handshake_timeout;   /* seconds, 0: none */
  unsigned max_conns;           /* 0: no cap */
  unsigned slots;               /* accepted connections alive, atomic */
  bool refusing;                /* over the cap (accepting thread only) */

  fd_vector listeners;
  int quit_fd[2];               /* self-pipe written by shutdown */
  volatile int quit;            /* read with __atomic builtins */

  pthread_mutex_t lock;         /* protects the fields below */
  pthread_cond_t conns_done;
  struct nbds_conn *conns;      /* live connections (list) */
  size_t nr_conns;
  uint64_t next_conn_id;
};

/* Connection status: running, ended cleanly, ended on error. */
#define CONN_RUNNING  1
#define CONN_DONE     0
#define CONN_ERROR   -1

struct nbds_conn {
  struct nbds_server *srv;
  uint64_t id;
  int in_fd, out_fd;
  bool out_is_socket;           /* use send(MSG_NOSIGNAL) */
  bool can_sendfile;            /* SIGPIPE is ignored, no TLS */
  struct nbds_conn *next, *prev;

  /* Plain until STARTTLS succeeds; then tls holds the session. */
  const struct nbds_transport *transport;
  void *tls;                    /* gnutls_session_t */
  /* While the handshake runs: CLOCK_MONOTONIC milliseconds after
   * which every read or write fails with ETIMEDOUT (0: no limit).
   */
  int64_t deadline;

  /* Set by the handshake. */
  bool no_zeroes;
  bool structured;
  bool base_allocation;
  char *meta_export;            /* export named by SET_META_CONTEXT */
  const struct nbds_export_entry *exp;
  unsigned export_index;
  uint16_t eflags;

  /* Transmission phase. */
  int status;                   /* CONN_*, __atomic access */
  pthread_mutex_t read_lock;    /* one reader of requests at a time */
  pthread_mutex_t write_lock;   /* one writer of replies at a time */
  size_t in_pos, in_end;        /* unread bytes of inbuf, read_lock */
  char *inbuf;                  /* NBDS_INBUF_SIZE bytes */
};

/* What each worker thread keeps between requests. */
struct nbds_worker {
  struct nbds_conn *conn;
  char *buf;
  size_t buf_size;
  int send_fd;                  /* READ data to sendfile, or -1 */
};

/* log.c */
extern void nbds_log (struct nbds_server *srv, int level, const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
#define nbds_debug(srv, ...)                                    \
  do {                                                          \
    if ((srv)->verbose)                                         \
      nbds_log ((srv), NBDS_LOG_DEBUG, __VA_ARGS__);            \
  } while (0)
extern void nbds_set_error (struct nbds_error *err, int errnum,
                            const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
extern const char *nbds_cmd_name (uint16_t cmd);
extern const char *nbds_opt_name (uint32_t opt);

/* io.c: the plain transport, and raw socket I/O bounded by the
 * handshake deadline (also what the TLS session reads and writes).
 */
extern const struct nbds_transport nbds_plain_transport;
extern ssize_t nbds_raw_read (struct nbds_conn *conn, void *buf, size_t len);
extern ssize_t nbds_raw_writev (struct nbds_conn *conn,
                                const struct iovec *iov, int iovcnt,
                                bool more);
/* Waits until fd is ready for events or the deadline passes (0 or -1
 * with errno ETIMEDOUT); timeout_ms < 0: no other limit.
 */
extern int nbds_wait_fd (struct nbds_conn *conn, int fd, short events,
                         int timeout_ms);

/* tls.c: STARTTLS's upgrade (0, or -1: close the connection) and the
 * end of the session (clean: say goodbye to the client).
 */
extern int nbds_tls_start (struct nbds_conn *conn);
extern void nbds_tls_end (struct nbds_conn *conn, bool clean);

/* io.c: whole-message reads and writes on a connection.  conn_recv
 * returns 1, 0 on EOF before the first byte, -1 on error or EOF in the
 * middle (errno EBADMSG).
 */
extern int nbds_conn_recv (struct nbds_conn *conn, void *buf, size_t len);
extern int nbds_conn_discard (struct nbds_conn *conn, uint64_t len);
extern int nbds_conn_send (struct nbds_conn *conn, struct iovec *iov,
                           int iovcnt);
extern int nbds_conn_send_buf (struct nbds_conn *conn,
                               const void *buf, size_t len);
/* Like nbds_conn_send, telling the kernel more data follows. */
extern int nbds_conn_send_more (struct nbds_conn *conn, struct iovec *iov,
                                int iovcnt);
/* Sends len bytes of fd from offset (sendfile, else pread). */
extern int nbds_conn_sendfile (struct nbds_conn *conn, int fd,
                               uint64_t offset, uint32_t len);

/* handshake.c: returns 0 when the transmission phase may begin, -1 to
 * close the connection.
 */
extern int nbds_handshake (struct nbds_conn *conn);
extern const struct nbds_export_entry *
nbds_find_export (struct nbds_server *srv, const char *name,
                  unsigned *index);

/* request.c: the loop of one worker thread. */
extern void nbds_worker_loop (struct nbds_worker *w);
extern int nbds_conn_get_status (struct nbds_conn *conn);
extern void nbds_conn_set_status (struct nbds_conn *conn, int status);

/* reply.c */
extern uint32_t nbds_wire_error (int err, uint16_t flags);
extern int nbds_reply_simple (struct nbds_conn *conn, uint64_t cookie,
                              int err, uint16_t flags,
                              const void *data, uint32_t len);
extern int nbds_reply_read (struct nbds_conn *conn, uint64_t cookie,
                            uint64_t offset, const void *data, uint32_t len);
extern int nbds_reply_read_fd (struct nbds_conn *conn, uint64_t cookie,
                               uint64_t offset, int fd, uint32_t len);
extern int nbds_reply_error (struct nbds_conn *conn, uint64_t cookie,
                             int err, uint16_t flags);
extern int nbds_reply_block_status (struct nbds_conn *conn, uint64_t cookie,
                                    const struct nbds_extents *e);

/* extents.c */
struct nbds_extents {
  uint64_t start, end;          /* the request's range */
  uint64_t next;                /* where the next extent must start */
  size_t max;                   /* descriptors wanted */
  size_t n;
  struct nbd_block_descriptor *d; /* host order until sent */
  size_t cap;
};
extern void nbds_extents_init (struct nbds_extents *e, uint64_t offset,
                               uint32_t count, bool req_one);
extern void nbds_extents_free (struct nbds_extents *e);

/* connection.c */
/* accepted: a listener's client, which holds one of srv->slots and
 * must end its handshake within srv->handshake_timeout.
 */
extern int nbds_conn_serve (struct nbds_server *srv, int in_fd, int out_fd,
                            bool accepted);

#endif /* NBDS_INTERNAL_H */
