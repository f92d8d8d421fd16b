/* libFuzzer harness: each input is what a client sends on the -s
 * path (stdin), from the handshake on.  The server answers into
 * /dev/null.  Two exports: "" (a writable memory disk) and "cow" (the
 * file backend with a --cow overlay), 1 MiB each, one worker thread so
 * runs are reproducible.
 *
 *   ./configure --enable-fuzzing && make
 *   nbdserver/fuzz-nbdserver CORPUS nbdserver/fuzz-seeds
 */
#include <config.h>

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
  if (in == -1 || out == -1 ||
      (size > 0 && write (in, data, size) != (ssize_t) size) ||
      lseek (in, 0, SEEK_SET) == -1)
    abort ();
  nbds_server_serve_fds (srv, in, out);   /* closes both */
  return 0;
}
