/* index-lookup MAP [N]: load MAP into the in-memory index and time N
 * random lookups (default 10,000,000) and as many in a walk over the
 * disk, one piece after the other (what a sequential read costs), in
 * 5 rounds; print the best round's ns per lookup (thread CPU time:
 * other processes only slow us) and the index's memory.  For scale,
 * also the machine's latency of one random memory load in a buffer
 * as big as the index: a random lookup cannot beat that by much.
 * Built and run by bench/bmaplog-bench.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "virtbmap.h"

static double
seconds (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
xorshift (uint64_t *x)
{
  *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
  return *x;
}

/* ns per dependent load, chasing a random cycle through bytes of
 * memory (one load per 64-byte line).
 */
static double
memory_latency (size_t bytes)
{
  const size_t n = bytes / 64 > 1 ? bytes / 64 : 2;
  uint64_t *a = malloc (n * 64), x = 1, p = 0;
  size_t *perm = malloc (n * sizeof *perm), i;
  double best = 0;
  int r;

  if (a == NULL || perm == NULL) {
    perror ("malloc");
    exit (1);
  }
  for (i = 0; i < n; ++i)
    perm[i] = i;
  for (i = n - 1; i > 0; --i) {
    size_t j = xorshift (&x) % (i + 1), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (i = 0; i < n; ++i)
    a[perm[i] * 8] = perm[(i + 1) % n] * 8;
  free (perm);
  for (r = 0; r < 5; ++r) {
    double t = seconds (CLOCK_THREAD_CPUTIME_ID);
    for (i = 0; i < 1000000; ++i)
      p = a[p];
    t = seconds (CLOCK_THREAD_CPUTIME_ID) - t;
    if (r == 0 || t < best)
      best = t;
  }
  free (a);
  return p == UINT64_MAX ? 0 : best * 1e9 / 1000000;
}

int
main (int argc, char *argv[])
{
  struct vbm_error err;
  struct vbm_map *map;
  struct vbm_index *idx;
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_hit hit = VBM_HIT_INIT;
  uint64_t n = argc > 2 ? strtoull (argv[2], NULL, 10) : 10000000;
  uint64_t x = 88172645463325252ULL, off, walked = 0, found = 0, i;
  double t0, t1, t, best_random = 0, best_walk = 0;
  int r;

  if (argc < 2 || n < 5) {
    fprintf (stderr, "usage: index-lookup MAP [N]\n");
    return 2;
  }
  t0 = seconds (CLOCK_MONOTONIC);
  map = vbm_map_open (argv[1], &err);
  if (map == NULL || (idx = vbm_index_load (map, &err)) == NULL ||
      vbm_map_get_disk (map, 0, &info, &err) == -1) {
    fprintf (stderr, "index-lookup: %s\n", err.msg);
    return 1;
  }
  t1 = seconds (CLOCK_MONOTONIC);
  for (r = 0; r < 5; ++r) {
    t = seconds (CLOCK_THREAD_CPUTIME_ID);
    for (i = 0; i < n / 5; ++i)
      found += vbm_index_lookup (idx, 0, xorshift (&x) % info.size, &hit) == 0;
    t = seconds (CLOCK_THREAD_CPUTIME_ID) - t;
    if (r == 0 || t < best_random)
      best_random = t;
    t = seconds (CLOCK_THREAD_CPUTIME_ID);
    for (off = 0, walked = 0; off < info.size && walked < n / 5; walked++)
      off = vbm_index_lookup (idx, 0, off, &hit) == 0 ? hit.end : off + 4096;
    t = seconds (CLOCK_THREAD_CPUTIME_ID) - t;
    if (r == 0 || t < best_walk)
      best_walk = t;
  }
  printf ("index: load %.2f s, %.1f MiB, lookup %.0f ns random (%" PRIu64
          " of %" PRIu64 " found), %.0f ns walking (%" PRIu64 " pieces)\n",
          t1 - t0, vbm_index_memory (idx) / 1048576.0,
          best_random * 1e9 / (n / 5), found, n / 5 * 5,
          best_walk * 1e9 / walked, walked);
  printf ("memory: %.0f ns per random load in %.0f MiB, %.0f ns in 1 MiB\n",
          memory_latency (vbm_index_memory (idx)),
          vbm_index_memory (idx) / 1048576.0, memory_latency (1 << 20));
  vbm_index_free (idx);
  vbm_map_close (map);
  return 0;
}
