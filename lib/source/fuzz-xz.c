/* libFuzzer harness of the xz source: the stream footers and indexes
 * (read_index, check_blocks), the block headers, the LRU cache and the
 * streamed single block.  The input is the xz file, held in a memfd;
 * the first byte picks a cache of 64 KiB (even) or 1 MiB (odd), so
 * that blocks bigger than the cache take the streamed path too.  Reads
 * go forward, then backward, then at scattered offsets; at most 4 MiB
 * is decoded, so a tiny input claiming a huge image stays fast.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/source/fuzz-xz -jobs=2 CORPUS SEEDS  (seeds: test-source-xz-fuzz.sh)
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "internal.h"
#include "source.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define PIECE 4096
#define BUDGET (4 * 1024 * 1024)

static void
on_warning (void *opaque, const char *msg)
{
  if (msg == NULL || *msg == '\0')
    abort ();
}

/* Reads a piece at offset; a failure must say why. */
static void
read_piece (struct vbm_source *src, uint64_t offset, uint64_t *budget)
{
  static unsigned char buf[PIECE];
  struct vbm_error err = { 0 };
  uint64_t size = vbm_source_size (src);
  size_t n;

  if (offset >= size || *budget == 0)
    return;
  n = size - offset < PIECE ? size - offset : PIECE;
  *budget = *budget > n ? *budget - n : 0;
  if (vbm_source_pread (src, buf, n, offset, &err) == -1 &&
      err.msg[0] == '\0')
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vbm_error err = { 0 };
  struct vbm_source *src;
  uint64_t budget = BUDGET, len, off;
  size_t cache;
  char path[64];
  unsigned i;
  int fd;

  if (size < 1)
    return 0;
  cache = data[0] & 1 ? 1024 * 1024 : 64 * 1024;
  data++, size--;

  fd = memfd_create ("fuzz-xz", 0);
  if (fd == -1)
    abort ();
  if (size > 0 && write (fd, data, size) != (ssize_t) size)
    abort ();
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);

  src = vbm_source_open_xz (path, cache, on_warning, NULL, &err);
  if (src == NULL) {
    if (err.msg[0] == '\0')
      abort ();
    close (fd);
    return 0;
  }
  len = vbm_source_size (src);
  for (off = 0; off < len && budget > BUDGET / 2; off += PIECE)
    read_piece (src, off, &budget);
  for (off = len; off > 0 && budget > BUDGET / 4; ) {
    off -= off < PIECE ? off : PIECE;
    read_piece (src, off, &budget);
  }
  for (i = 1; i <= 16; ++i)
    read_piece (src, len / 17 * i, &budget);
  vbm_source_close (src);
  close (fd);
  return 0;
}
