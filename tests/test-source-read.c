/* test-source-read IMAGE [FORMAT] RAW: reads IMAGE through the public
 * source API at random offsets and lengths (many crossing block
 * boundaries), from several threads at once, and compares every byte
 * with the same range of the plain file RAW.  $READS sets the reads
 * per thread (default 300).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtbmap.h"

#define THREADS 4
#define READS 300
#define MAX_READ (3 * 1024 * 1024)

static struct vbm_source *src;
static int raw_fd;
static uint64_t size;
static int reads = READS;

static void *
worker (void *arg)
{
  unsigned seed = (unsigned) (uintptr_t) arg;
  char *a = malloc (MAX_READ), *b = malloc (MAX_READ);
  struct vbm_error err;
  const char *failed = NULL;
  int i;

  if (a == NULL || b == NULL)
    failed = "malloc";
  for (i = 0; !failed && i < reads; ++i) {
    uint64_t offset = ((uint64_t) rand_r (&seed) << 16 ^ rand_r (&seed)) % size;
    size_t count = rand_r (&seed) % (i % 4 == 0 ? MAX_READ : 4096) + 1;

    if (count > size - offset)
      count = size - offset;
    if (vbm_source_pread (src, a, count, offset, &err) == -1) {
      fprintf (stderr, "read %zu at %" PRIu64 ": %s\n", count, offset, err.msg);
      failed = "vbm_source_pread";
    }
    else if (pread (raw_fd, b, count, offset) != (ssize_t) count)
      failed = "pread raw";
    else if (memcmp (a, b, count) != 0) {
      fprintf (stderr, "data differ: %zu bytes at %" PRIu64 "\n",
               count, offset);
      failed = "memcmp";
    }
  }
  free (a);
  free (b);
  return (void *) failed;
}

int
main (int argc, char *argv[])
{
  pthread_t t[THREADS];
  struct vbm_error err;
  struct stat st;
  const char *format;
  int i, r = EXIT_SUCCESS;

  if (argc != 4) {
    fprintf (stderr, "usage: %s IMAGE FORMAT|- RAW\n", argv[0]);
    exit (EXIT_FAILURE);
  }
  format = strcmp (argv[2], "-") == 0 ? NULL : argv[2];
  if (getenv ("READS"))
    reads = atoi (getenv ("READS"));
  src = vbm_source_open (argv[1], format, &err);
  if (src == NULL) {
    fprintf (stderr, "%s\n", err.msg);
    exit (EXIT_FAILURE);
  }
  raw_fd = open (argv[3], O_RDONLY);
  if (raw_fd == -1 || fstat (raw_fd, &st) == -1) {
    perror (argv[3]);
    exit (EXIT_FAILURE);
  }
  size = vbm_source_size (src);
  if (size != (uint64_t) st.st_size || size == 0) {
    fprintf (stderr, "size %" PRIu64 ", expected %jd\n", size,
             (intmax_t) st.st_size);
    exit (EXIT_FAILURE);
  }
  printf ("%s: format %s, %" PRIu64 " bytes\n", argv[1],
          vbm_source_format (src), size);

  for (i = 0; i < THREADS; ++i) {
    errno = pthread_create (&t[i], NULL, worker, (void *) (uintptr_t) (i + 1));
    if (errno) {
      perror ("pthread_create");
      exit (EXIT_FAILURE);
    }
  }
  for (i = 0; i < THREADS; ++i) {
    void *ret;
    pthread_join (t[i], &ret);
    if (ret) {
      fprintf (stderr, "thread %d failed: %s\n", i, (const char *) ret);
      r = EXIT_FAILURE;
    }
  }

  /* The last byte, and a read past the end must fail. */
  {
    char c;
    if (vbm_source_pread (src, &c, 1, size - 1, &err) == -1 ||
        vbm_source_pread (src, &c, 1, size, &err) != -1) {
      fprintf (stderr, "bounds check failed\n");
      r = EXIT_FAILURE;
    }
  }
  {
    struct vbm_source_stats stats = VBM_SOURCE_STATS_INIT;
    vbm_source_get_stats (src, &stats);
    printf ("decompressed %" PRIu64 " blocks, %" PRIu64 " restarts%s\n",
            stats.blocks_decoded, stats.restarts,
            stats.streamed ? ", streamed" : "");
  }
  vbm_source_close (src);
  close (raw_fd);
  return r;
}
