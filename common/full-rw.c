#include <config.h>

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "full-rw.h"

ssize_t
full_pread (int fd, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;
  size_t done = 0;

  /* The result must fit ssize_t; off_t must hold every offset. */
  if (count > SSIZE_MAX || offset > INT64_MAX - count) {
    errno = EINVAL;
    return -1;
  }
  while (done < count) {
    ssize_t r = pread (fd, p + done, count - done, offset + done);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0)
      break;                    /* end of file */
    done += r;
  }
  return done;
}

int
full_pwrite (int fd, const void *buf, size_t count, uint64_t offset)
{
  const char *p = buf;

  if (offset > INT64_MAX - count) {
    errno = EINVAL;
    return -1;
  }
  while (count > 0) {
    ssize_t r = pwrite (fd, p, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    /* 0 would loop for ever. */
    if (r == 0) {
      errno = EIO;
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}
