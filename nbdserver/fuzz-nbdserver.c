/* libFuzzer harnesses: each input is what a client sends on the -s
 * path (stdin).  The server answers into /dev/null.  Two exports: ""
 * (a writable memory disk) and "cow" (the file backend with a --cow
 * overlay), 1 MiB each, one worker thread so runs are reproducible.
 *
 * fuzz-nbdserver: the input is the whole session, handshake included.
 * fuzz-nbdserver-requests (built with -DFUZZ_REQUESTS): a valid
 * handshake is sent first, chosen by the input's first byte (export,
 * structured replies and base:allocation or not, GO or EXPORT_NAME),
 * so every other byte reaches the transmission phase.
 *
 *   ./configure --enable-fuzzing && make
 *   nbdserver/fuzz-nbdserver CORPUS nbdserver/fuzz-seeds
 *   nbdserver/fuzz-nbdserver-requests CORPUS nbdserver/fuzz-request-seeds
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "nbdserver.h"

#define DISK_SIZE (1024 * 1024)

static unsigned char disk[DISK_SIZE];

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
mem_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  memset (disk + offset, 0, count);
  return 0;
}

static int
mem_flush (void *h)
{
  return 0;
}

static int
mem_extents (void *h, uint32_t count, uint64_t offset, struct nbds_extents *e)
{
  /* Alternate data and zero runs of 64 KiB: many descriptors. */
  uint64_t pos = offset & ~UINT64_C (0xffff);

  while (pos < offset + count) {
    int r = nbds_extents_add (e, pos, 0x10000,
                              (pos >> 16) & 1 ? NBDS_EXTENT_ZERO : 0);
    if (r != 0)
      return r == -1 ? EIO : 0;
    pos += 0x10000;
  }
  return 0;
}

static const struct nbds_backend_ops mem_ops = {
  .pread = mem_pread,
  .pwrite = mem_pwrite,
  .flush = mem_flush,
  .zero = mem_zero,
  .extents = mem_extents,
};

static void
quiet (void *opaque, int level, const char *msg)
{
  if (getenv ("FUZZ_VERBOSE"))
    fprintf (stderr, "fuzz-nbdserver: %s\n", msg);
}

static struct nbds_server *
make_server (void)
{
  struct nbds_server *srv = nbds_server_new ();
  struct nbds_export mem = {
    .name = "", .description = "memory", .size = DISK_SIZE,
    .multi_conn = true, .ops = &mem_ops,
  };
  struct nbds_export cow;
  struct nbds_error err;
  char path[64];
  int fd;

  if (srv == NULL || nbds_server_add_export (srv, &mem) == -1)
    abort ();
  /* As the frontend does; it also lets big reads use sendfile. */
  signal (SIGPIPE, SIG_IGN);
  /* The image behind the overlay: a memfd, opened by path. */
  fd = memfd_create ("fuzz-image", 0);
  if (fd == -1 || ftruncate (fd, DISK_SIZE) == -1 ||
      pwrite (fd, "image", 5, 4096) != 5)
    abort ();
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  if (nbds_file_open (path, NBDS_FILE_COW, &cow, &err) == -1) {
    fprintf (stderr, "%s\n", err.msg);
    abort ();
  }
  close (fd);
  cow.name = "cow";
  if (nbds_server_add_export (srv, &cow) == -1)
    abort ();
  nbds_server_set_threads (srv, 1);
  nbds_server_set_log (srv, quiet, NULL, getenv ("FUZZ_VERBOSE") != NULL);
  return srv;
}

#ifdef FUZZ_REQUESTS
/* Protocol numbers written out here, not taken from the server. */
#define C_OPT_MAGIC UINT64_C (0x49484156454F5054)

static void
put (int fd, const void *p, size_t len)
{
  if (write (fd, p, len) != (ssize_t) len)
    abort ();
}

static void
put32 (int fd, uint32_t v)
{
  v = htobe32 (v);
  put (fd, &v, sizeof v);
}

static void
option (int fd, uint32_t opt, uint32_t len)
{
  uint64_t magic = htobe64 (C_OPT_MAGIC);

  put (fd, &magic, sizeof magic);
  put32 (fd, opt);
  put32 (fd, len);
}

/* The client's side of a successful handshake.  sel bit 0: export
 * "cow" instead of ""; bit 1: structured replies + base:allocation;
 * bit 2: EXPORT_NAME instead of GO; bit 3: no NO_ZEROES flag.
 */
static void
handshake (int fd, uint8_t sel)
{
  const char *name = sel & 1 ? "cow" : "";
  const uint32_t n = strlen (name);
  static const char ctx[] = "base:allocation";
  uint16_t zero16 = 0;

  put32 (fd, sel & 8 ? 1 : 3);
  if (sel & 2) {
    option (fd, 8, 0);                          /* STRUCTURED_REPLY */
    option (fd, 10, 4 + n + 4 + 4 + strlen (ctx)); /* SET_META_CONTEXT */
    put32 (fd, n);
    put (fd, name, n);
    put32 (fd, 1);
    put32 (fd, strlen (ctx));
    put (fd, ctx, strlen (ctx));
  }
  if (sel & 4) {
    option (fd, 1, n);                          /* EXPORT_NAME */
    put (fd, name, n);
  }
  else {
    option (fd, 7, 4 + n + 2);                  /* GO */
    put32 (fd, n);
    put (fd, name, n);
    put (fd, &zero16, sizeof zero16);
  }
}
#endif

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static struct nbds_server *srv;
  int in, out;

  if (srv == NULL)
    srv = make_server ();
  in = memfd_create ("fuzz-input", MFD_CLOEXEC);
  out = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (in == -1 || out == -1)
    abort ();
#ifdef FUZZ_REQUESTS
  if (size == 0)
    return 0;
  handshake (in, data[0]);
  data++;
  size--;
#endif
  if ((size > 0 && write (in, data, size) != (ssize_t) size) ||
      lseek (in, 0, SEEK_SET) == -1)
    abort ();
  nbds_server_serve_fds (srv, in, out);   /* closes both */
  return 0;
}
