/* Unit test of common/full-rw.c: whole transfers, end of file told
 * apart from errors, a write cut short by the file size limit.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "full-rw.h"

#define SIZE (3 << 20)

int
main (void)
{
  char path[] = "/tmp/test-full-rw.XXXXXX";
  char *a = malloc (SIZE), *b = malloc (SIZE);
  struct rlimit rl;
  size_t i;
  int fd;

  assert (a && b);
  fd = mkstemp (path);
  assert (fd >= 0);
  unlink (path);
  for (i = 0; i < SIZE; ++i)
    a[i] = i * 7 + (i >> 12);

  /* Written and read back whole, at an offset. */
  assert (full_pwrite (fd, a, SIZE, 1000) == 0);
  assert (full_pread (fd, b, SIZE, 1000) == SIZE);
  assert (memcmp (a, b, SIZE) == 0);
  /* The hole before is zeroes. */
  assert (full_pread (fd, b, 1000, 0) == 1000);
  for (i = 0; i < 1000; ++i)
    assert (b[i] == 0);

  /* End of file: the count read, no error; at or past it, 0. */
  memset (b, 0x55, 200);
  assert (full_pread (fd, b, 200, 1000 + SIZE - 50) == 50);
  assert (memcmp (b, a + SIZE - 50, 50) == 0);
  assert (b[50] == 0x55);
  assert (full_pread (fd, b, 10, 1000 + SIZE) == 0);
  assert (full_pread (fd, b, 10, (uint64_t) 1 << 40) == 0);
  assert (full_pread (fd, b, 0, 0) == 0);

  /* Errors keep errno; offsets beyond off_t are refused. */
  errno = 0;
  assert (full_pread (-1, b, 10, 0) == -1 && errno == EBADF);
  errno = 0;
  assert (full_pwrite (-1, a, 10, 0) == -1 && errno == EBADF);
  errno = 0;
  assert (full_pread (fd, b, 10, UINT64_MAX - 5) == -1 && errno == EINVAL);
  errno = 0;
  assert (full_pwrite (fd, a, 10, UINT64_MAX - 5) == -1 && errno == EINVAL);

  /* A write the file size limit cuts short: the first pwrite writes
   * up to the limit, the retry fails with EFBIG.
   */
  assert (ftruncate (fd, 0) == 0);
  signal (SIGXFSZ, SIG_IGN);
  assert (getrlimit (RLIMIT_FSIZE, &rl) == 0);
  rl.rlim_cur = 4096;
  assert (setrlimit (RLIMIT_FSIZE, &rl) == 0);
  errno = 0;
  assert (full_pwrite (fd, a, 10000, 0) == -1 && errno == EFBIG);
  assert (full_pread (fd, b, 10000, 0) == 4096);
  assert (memcmp (a, b, 4096) == 0);

  close (fd);
  free (a);
  free (b);
  printf ("test-full-rw: ok\n");
  return 0;
}
