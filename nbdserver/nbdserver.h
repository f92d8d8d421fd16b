/* libvbmnbd: a small NBD server library.
 *
 * A server holds one or more exports.  Each export is served by a
 * backend: a table of callbacks (pread, pwrite, flush, ...) and an
 * opaque handle.  The server does the NBD protocol (fixed newstyle
 * handshake, simple and structured replies, base:allocation block
 * status) and calls the backend from many threads at once.
 *
 * A request hook, if set, sees every request after it completes:
 * this is how bmaplog logs which objects a guest reads.  When no hook
 * is set the request path does not even build the hook's argument.
 *
 * The "frontend" part (struct nbds_frontend) is the command line,
 * listening, daemon and captive (--run) code shared by virt-bmap-nbd,
 * bmaplog and inspect-nbd: they parse their own options next to the
 * common ones and supply their own exports.
 */
#ifndef NBDSERVER_H
#define NBDSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <getopt.h>

/* Largest READ or WRITE served; bigger ones fail with ENOMEM. */
#define NBDS_MAX_REQUEST (64 * 1024 * 1024)

/* Commands, numbered as in the protocol. */
#define NBDS_CMD_READ         0
#define NBDS_CMD_WRITE        1
#define NBDS_CMD_DISC         2
#define NBDS_CMD_FLUSH        3
#define NBDS_CMD_TRIM         4
#define NBDS_CMD_CACHE        5
#define NBDS_CMD_WRITE_ZEROES 6
#define NBDS_CMD_BLOCK_STATUS 7

/* Command flags, as in the protocol. */
#define NBDS_FLAG_FUA         (1 << 0)
#define NBDS_FLAG_NO_HOLE     (1 << 1)
#define NBDS_FLAG_DF          (1 << 2)
#define NBDS_FLAG_REQ_ONE     (1 << 3)
#define NBDS_FLAG_FAST_ZERO   (1 << 4)

/* Block status (base:allocation) extent types. */
#define NBDS_EXTENT_DATA      0
#define NBDS_EXTENT_HOLE      (1 << 0)
#define NBDS_EXTENT_ZERO      (1 << 1)

/* Errors from setup functions: an errno value and a message. */
struct nbds_error {
  int errnum;
  char msg[512];
};

/* ---- Backends. ---- */

/* Collects the extents of one block status request. */
struct nbds_extents;

/* Adds the extent [offset, offset+length) of the given type.  Extents
 * must be added in order, the first one starting at or before the
 * request's offset; parts outside the request are clipped.  Returns 0
 * to ask for more, 1 when enough have been collected (the backend
 * should stop), -1 with errno set on error.
 */
extern int nbds_extents_add (struct nbds_extents *e, uint64_t offset,
                             uint64_t length, uint32_t type);

/* Callbacks may run concurrently from many threads and connections.
 * Each returns 0 on success or a positive errno value.  A NULL
 * callback means the export cannot do that operation (the server
 * stops advertising it).  Requests have been checked already: they
 * lie inside the export and are never of length 0.
 */
struct nbds_backend_ops {
  int (*pread) (void *handle, void *buf, uint32_t count, uint64_t offset);
  int (*pwrite) (void *handle, const void *buf, uint32_t count,
                 uint64_t offset);
  /* Makes all completed writes (from any connection) durable. */
  int (*flush) (void *handle);
  int (*trim) (void *handle, uint32_t count, uint64_t offset);
  /* flags: NBDS_FLAG_NO_HOLE (must not deallocate), NBDS_FLAG_FAST_ZERO
   * (fail with ENOTSUP rather than be slower than writing).  Without
   * this callback the server writes zeroes with pwrite.
   */
  int (*zero) (void *handle, uint32_t count, uint64_t offset,
               uint32_t flags);
  int (*cache) (void *handle, uint32_t count, uint64_t offset);
  /* Without this callback everything is reported as data. */
  int (*extents) (void *handle, uint32_t count, uint64_t offset,
                  struct nbds_extents *e);
  /* Optional: for a READ of [offset, offset+count), an fd holding
   * those bytes at the same offsets, which no client can change (a
   * read-only image), so the reply is sent with sendfile(2) and never
   * copied through the server.  Return 0 and set *fd, or ENOTSUP to
   * be asked for pread instead.  Used only when SIGPIPE is ignored.
   */
  int (*read_fd) (void *handle, uint32_t count, uint64_t offset, int *fd);
  /* Called once when the server is freed. */
  void (*close) (void *handle);
};

struct nbds_export {
  const char *name;             /* export name (copied), "" allowed */
  const char *description;      /* shown by NBD_OPT_LIST, may be NULL */
  uint64_t size;                /* bytes */
  /* Refuse all writes (EPERM) even if the backend has pwrite. */
  bool readonly;
  /* The backend's data is the same for all connections and flush
   * makes every connection's writes durable: CAN_MULTI_CONN.
   */
  bool multi_conn;
  const struct nbds_backend_ops *ops;
  void *handle;
};

/* ---- The server. ---- */

struct nbds_server;

/* What the request hook sees. */
struct nbds_request_info {
  uint64_t conn;                /* connection id: 1, 2, ... */
  unsigned export_index;        /* in order of nbds_server_add_export */
  const char *export_name;
  uint16_t cmd;                 /* NBDS_CMD_* (unknown values too) */
  uint16_t flags;               /* NBDS_FLAG_* as sent */
  uint64_t offset;
  uint32_t count;
  int error;                    /* errno value of the reply, 0 if ok */
};

/* Called after every request has been answered, on the thread that
 * handled it.  Must be thread-safe.
 */
typedef void (*nbds_request_hook) (void *opaque,
                                   const struct nbds_request_info *req);

/* Connection events: NBDS_CONN_OPEN (export_name NULL), NBDS_CONN_READY
 * (handshake done, export chosen), NBDS_CONN_CLOSE.
 */
#define NBDS_CONN_OPEN   0
#define NBDS_CONN_READY  1
#define NBDS_CONN_CLOSE  2
typedef void (*nbds_conn_hook) (void *opaque, uint64_t conn, int event,
                                const char *export_name);

/* Log levels for the log callback. */
#define NBDS_LOG_ERROR   0
#define NBDS_LOG_DEBUG   1
typedef void (*nbds_log_fn) (void *opaque, int level, const char *msg);

extern struct nbds_server *nbds_server_new (void);
/* Closes the exports' backends and frees the server.  Returns false
 * if connections are still running (a request stuck in a backend after
 * nbds_server_run gave up waiting for them): then nothing is freed,
 * and their threads may still call the hooks.
 */
extern bool nbds_server_free (struct nbds_server *srv);

/* Returns -1 with errno EEXIST for a duplicate name, EINVAL for a bad
 * one.  The first export is also the default one (empty name).
 */
extern int nbds_server_add_export (struct nbds_server *srv,
                                   const struct nbds_export *exp);
extern size_t nbds_server_export_count (const struct nbds_server *srv);

/* Worker threads per connection (default 16). */
extern void nbds_server_set_threads (struct nbds_server *srv, unsigned n);
/* Where messages go (default: stderr); verbose enables NBDS_LOG_DEBUG. */
extern void nbds_server_set_log (struct nbds_server *srv, nbds_log_fn fn,
                                 void *opaque, int verbose);
extern void nbds_server_set_request_hook (struct nbds_server *srv,
                                          nbds_request_hook hook,
                                          void *opaque);
extern void nbds_server_set_conn_hook (struct nbds_server *srv,
                                       nbds_conn_hook hook, void *opaque);

/* ---- TLS (tls.c) and limits against hostile clients. ---- */

/* --tls=off: STARTTLS is refused (NBD_REP_ERR_POLICY); on: a client
 * may upgrade; require: every option but STARTTLS and ABORT before
 * the upgrade gets NBD_REP_ERR_TLS_REQD (EXPORT_NAME closes).
 */
#define NBDS_TLS_OFF      0
#define NBDS_TLS_ON       1
#define NBDS_TLS_REQUIRE  2

struct nbds_tls_creds;

/* Exactly one of certificates_dir (ca-cert.pem, server-cert.pem,
 * server-key.pem, optional ca-crl.pem) and psk_file (psktool's
 * "user:hexkey" lines).  verify_peer: clients must present a
 * certificate signed by the CA.  NULL on error.
 */
extern struct nbds_tls_creds *
nbds_tls_creds_new (const char *certificates_dir, const char *psk_file,
                    bool verify_peer, struct nbds_error *err);
extern void nbds_tls_creds_free (struct nbds_tls_creds *creds);
/* The server takes creds (freed with it); NULL only with NBDS_TLS_OFF. */
extern int nbds_server_set_tls (struct nbds_server *srv, int mode,
                                struct nbds_tls_creds *creds);

/* Accepted connections must finish the handshake (TLS included)
 * within this many seconds (0: no limit; default
 * NBDS_DEFAULT_HANDSHAKE_TIMEOUT).
 */
#define NBDS_DEFAULT_HANDSHAKE_TIMEOUT 30
extern void nbds_server_set_handshake_timeout (struct nbds_server *srv,
                                               unsigned seconds);
/* At most n accepted connections at once (0: no cap; default
 * NBDS_DEFAULT_MAX_CONNECTIONS); clients beyond it are closed at once.
 */
#define NBDS_DEFAULT_MAX_CONNECTIONS 128
extern void nbds_server_set_max_connections (struct nbds_server *srv,
                                             unsigned n);

/* Serves one connection on the calling thread until it ends (in_fd
 * and out_fd may be the same socket, or a pipe pair for -s).  The fds
 * are closed.  Returns 0 if the client went away cleanly.
 */
extern int nbds_server_serve_fds (struct nbds_server *srv,
                                  int in_fd, int out_fd);

/* Adds a listening socket (ownership passes to the server). */
extern int nbds_server_add_listener (struct nbds_server *srv, int fd);
/* Accepts connections, one thread each, until nbds_server_shutdown.
 * Then stops accepting, lets requests in flight finish and waits for
 * the connections to end.  Returns 0, or -1 on a fatal error.
 */
extern int nbds_server_run (struct nbds_server *srv);
/* Async-signal-safe: makes nbds_server_run return. */
extern void nbds_server_shutdown (struct nbds_server *srv);

/* ---- Listening sockets (listen.c).  Each returns fds or -1. ---- */

/* A Unix socket at path (an existing socket file is an error). */
extern int nbds_listen_unix (const char *path, struct nbds_error *err);
/* TCP on addr (NULL: localhost) and port ("0": any free port).  Stores
 * up to max fds in fds, the number in *n, the real port in *port_out.
 */
extern int nbds_listen_tcp (const char *addr, const char *port,
                            int *fds, size_t max, size_t *n,
                            unsigned *port_out, struct nbds_error *err);
extern int nbds_listen_vsock (unsigned port, struct nbds_error *err);
/* systemd socket activation: the fds passed in LISTEN_FDS when
 * LISTEN_PID is this process.  Returns the number (0 if not
 * activated), the first being fd 3.
 */
extern int nbds_socket_activation (struct nbds_error *err);

/* ---- The file backend (backend-file.c, cow.c). ---- */

enum nbds_file_mode {
  NBDS_FILE_READONLY,           /* default */
  NBDS_FILE_COW,                /* writes go to a private overlay */
  NBDS_FILE_RW,                 /* writes go to the file */
};

/* Fills exp (name and description left NULL) for a raw image file or
 * block device.  The handle is closed by exp->ops->close.
 */
extern int nbds_file_open (const char *path, enum nbds_file_mode mode,
                           struct nbds_export *exp, struct nbds_error *err);

/* ---- The frontend: command line, listening, daemon, --run. ---- */

struct nbds_frontend;

/* Handles one option of the program itself: returns 0, or -1 after
 * printing an error (a usage error).
 */
typedef int (*nbds_option_fn) (void *opaque, int c, const char *optarg);

/* Parses argv: the common options plus the program's own (short
 * options in extra_short, long ones in extra_long terminated by a zero
 * entry; their values must not collide with the common ones, which use
 * 'e' 'f' 'i' 'p' 'P' 'r' 's' 't' 'U' 'v' and values >= 0x100).
 * Returns a new frontend with *optind_out set to the first operand, or
 * NULL after printing an error.  --help and --version call usage
 * (which should exit).
 */
extern struct nbds_frontend *
nbds_frontend_parse (const char *program_name, int argc, char **argv,
                     const char *extra_short,
                     const struct option *extra_long,
                     nbds_option_fn extra, void *opaque,
                     void (*usage) (int status), int *optind_out);
extern void nbds_frontend_free (struct nbds_frontend *fe);

/* The help text for the common options. */
extern const char nbds_frontend_options_help[];

/* The TLS mode asked for (NBDS_TLS_*). */
extern int nbds_frontend_tls (const struct nbds_frontend *fe);

/* The mode chosen with -r / --cow / --rw (read-only by default). */
extern enum nbds_file_mode nbds_frontend_mode (const struct nbds_frontend *fe);
/* The mode chosen on the command line, or dflt if none was. */
extern enum nbds_file_mode
nbds_frontend_mode_or (const struct nbds_frontend *fe,
                       enum nbds_file_mode dflt);
extern int nbds_frontend_verbose (const struct nbds_frontend *fe);
/* The export name for the i-th of n operands: the i-th -e NAME, else
 * "" for a single operand, else the operand's basename.
 */
extern const char *nbds_frontend_export_name (const struct nbds_frontend *fe,
                                              size_t i, size_t n,
                                              const char *operand);

/* Listens as asked, daemonizes unless told otherwise, writes the
 * pidfile, runs the --run command, serves until a signal (or the
 * command exits), cleans up.  Returns the process exit status.
 */
extern int nbds_frontend_run (struct nbds_frontend *fe,
                              struct nbds_server *srv);

#endif /* NBDSERVER_H */
