/* The library as bmaplog uses it: a backend of its own (memory), a
 * request hook and a connection hook, one connection served on a
 * socketpair.  The hooks must see every request, with its result,
 * and the connection's life.  Then a request stuck in its backend
 * while the server shuts down: nbds_server_free must say it left the
 * server in place, for the hook may still run.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nbdserver.h"
#include "test-nbd-rawclient.h"

#define SIZE (1024 * 1024)

static unsigned char disk[SIZE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct nbds_request_info seen[64];
static size_t nr_seen;
static int events[8];
static size_t nr_events;
static int failures;

static int
mem_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  memcpy (buf, disk + offset, count);
  return 0;
}

static int
mem_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset)
{
  memcpy (disk + offset, buf, count);
  return 0;
}

static int
mem_flush (void *h)
{
  return 0;
}

static const struct nbds_backend_ops ops = {
  .pread = mem_pread, .pwrite = mem_pwrite, .flush = mem_flush,
};

/* A backend whose reads wait until released (hung I/O). */
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool stuck, released;

static int
stuck_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  pthread_mutex_lock (&lock);
  stuck = true;
  pthread_cond_broadcast (&cond);
  while (!released)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);
  memset (buf, 0, count);
  return 0;
}

static const struct nbds_backend_ops stuck_ops = { .pread = stuck_pread };

static void
request_hook (void *opaque, const struct nbds_request_info *req)
{
  pthread_mutex_lock (&lock);
  if (nr_seen < sizeof seen / sizeof seen[0])
    seen[nr_seen++] = *req;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
}

static void
conn_hook (void *opaque, uint64_t conn, int event, const char *name)
{
  pthread_mutex_lock (&lock);
  if (nr_events < sizeof events / sizeof events[0])
    events[nr_events++] = event;
  if (event == NBDS_CONN_READY && (name == NULL || strcmp (name, "mem")))
    failures++;
  pthread_mutex_unlock (&lock);
}

static void
quiet (void *opaque, int level, const char *msg)
{
}

static struct nbds_server *srv;
static int server_fd;

static void *
serve (void *arg)
{
  nbds_server_serve_fds (srv, server_fd, server_fd);
  return NULL;
}

static void *
run (void *arg)
{
  nbds_server_run (arg);
  return NULL;
}

static void
stuck_request (void)
{
  struct nbds_export e = { .name = "stuck", .size = SIZE, .ops = &stuck_ops };
  char path[] = "/tmp/test-nbd-hook.XXXXXX";
  char sock[sizeof path + 8];
  struct nbds_server *s;
  struct nbds_error err;
  uint64_t size;
  uint16_t eflags;
  pthread_t thread;
  int lfd, fd;

  if (mkdtemp (path) == NULL) {
    perror ("mkdtemp");
    exit (EXIT_FAILURE);
  }
  snprintf (sock, sizeof sock, "%s/sock", path);
  s = nbds_server_new ();
  lfd = nbds_listen_unix (sock, &err);
  if (s == NULL || nbds_server_add_export (s, &e) == -1 || lfd == -1 ||
      nbds_server_add_listener (s, lfd) == -1) {
    perror ("stuck server");
    exit (EXIT_FAILURE);
  }
  nbds_server_set_log (s, quiet, NULL, 0);
  nbds_server_set_request_hook (s, request_hook, NULL);
  pthread_create (&thread, NULL, run, s);

  fd = rc_connect (sock);
  CHECK (fd >= 0 && rc_greeting (fd) == 0 &&
         rc_go (fd, "stuck", 5, &size, &eflags) == RC_REP_ACK,
         "handshake with a backend that hangs");
  nr_seen = 0;
  rc_send_request (fd, 0, RC_CMD_READ, 7, 0, 512);
  pthread_mutex_lock (&lock);
  while (!stuck)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);

  /* The server drains, cuts the connection off, waits, gives up. */
  nbds_server_shutdown (s);
  pthread_join (thread, NULL);
  CHECK (!nbds_server_free (s),
         "a request stuck in its backend: the server is left in place");
  CHECK (nr_seen == 0, "the hook has not seen the stuck request yet");

  /* The request ends after all; the hook runs on what was left. */
  pthread_mutex_lock (&lock);
  released = true;
  pthread_cond_broadcast (&cond);
  while (nr_seen == 0)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);
  CHECK (nr_seen == 1 && seen[0].cmd == NBDS_CMD_READ,
         "the hook then saw it");
  close (fd);

  /* Once its last connection has ended the server can be freed
   * (LeakSanitizer checks that nothing was left).  Bounded: 20 s.
   */
  {
    bool freed = false;
    int i;

    for (i = 0; i < 2000 && !(freed = nbds_server_free (s)); ++i)
      usleep (10000);
    CHECK (freed, "the server is freed once the stuck connection ended");
  }
  unlink (sock);
  rmdir (path);
}

/* The hook saw (cmd, offset, count, error) exactly once. */
static bool
saw (uint16_t cmd, uint64_t offset, uint32_t count, int error)
{
  size_t i, n = 0;

  for (i = 0; i < nr_seen; ++i)
    if (seen[i].cmd == cmd && seen[i].offset == offset &&
        seen[i].count == count && seen[i].error == error &&
        seen[i].conn == 1 && seen[i].export_index == 0 &&
        strcmp (seen[i].export_name, "mem") == 0)
      n++;
  return n == 1;
}

int
main (void)
{
  struct nbds_export e = {
    .name = "mem", .size = SIZE, .multi_conn = true, .ops = &ops,
  };
  unsigned char buf[512];
  uint64_t size, cookie;
  uint16_t eflags;
  pthread_t thread;
  int sv[2], fd;

  srv = nbds_server_new ();
  if (srv == NULL || nbds_server_add_export (srv, &e) == -1) {
    perror ("server");
    return EXIT_FAILURE;
  }
  CHECK (nbds_server_add_export (srv, &e) == -1 && errno == EEXIST,
         "a duplicate export name is refused");
  nbds_server_set_threads (srv, 4);
  nbds_server_set_log (srv, quiet, NULL, 0);
  nbds_server_set_request_hook (srv, request_hook, NULL);
  nbds_server_set_conn_hook (srv, conn_hook, NULL);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
    perror ("socketpair");
    return EXIT_FAILURE;
  }
  server_fd = sv[0];
  fd = sv[1];
  pthread_create (&thread, NULL, serve, NULL);

  CHECK (rc_greeting (fd) == 0 &&
         rc_go (fd, "mem", 3, &size, &eflags) == RC_REP_ACK && size == SIZE &&
         !(eflags & RC_FLAG_READ_ONLY) && (eflags & RC_FLAG_CAN_MULTI_CONN),
         "handshake with a backend of our own");
  memset (buf, 0x42, sizeof buf);
  CHECK (rc_send_request (fd, 0, RC_CMD_WRITE, 1, 4096, 512) == 0 &&
         rc_write (fd, buf, 512) == 0 && rc_recv_simple (fd, &cookie) == 0,
         "WRITE");
  memset (buf, 0, sizeof buf);
  CHECK (rc_send_request (fd, 0, RC_CMD_READ, 2, 4096, 512) == 0 &&
         rc_recv_simple (fd, &cookie) == 0 && rc_read (fd, buf, 512) == 0 &&
         buf[0] == 0x42 && buf[511] == 0x42, "READ back");
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, SIZE, 1) == RC_EINVAL,
         "READ past the end");
  CHECK (rc_simple_command (fd, 0, RC_CMD_FLUSH, 0, 0) == 0, "FLUSH");
  rc_send_request (fd, 0, RC_CMD_DISC, 3, 0, 0);
  pthread_join (thread, NULL);
  close (fd);

  CHECK (nr_seen == 5, "the hook saw 5 requests");
  CHECK (saw (NBDS_CMD_WRITE, 4096, 512, 0), "hook: WRITE");
  CHECK (saw (NBDS_CMD_READ, 4096, 512, 0), "hook: READ");
  CHECK (saw (NBDS_CMD_READ, SIZE, 1, EINVAL), "hook: READ failed EINVAL");
  CHECK (saw (NBDS_CMD_FLUSH, 0, 0, 0), "hook: FLUSH");
  CHECK (saw (NBDS_CMD_DISC, 0, 0, 0), "hook: DISC");
  CHECK (nr_events == 3 && events[0] == NBDS_CONN_OPEN &&
         events[1] == NBDS_CONN_READY && events[2] == NBDS_CONN_CLOSE,
         "connection hook: open, ready, close");

  CHECK (nbds_server_free (srv), "the server is freed");
  stuck_request ();
  printf ("%d failure(s)\n", failures);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
