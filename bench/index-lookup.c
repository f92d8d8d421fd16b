/* index-lookup MAP [N]: load MAP into the in-memory index and time N
 * random lookups (default 10,000,000); print ns per lookup and the
 * index's memory.  Built and run by bench/bmaplog-bench.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "virtbmap.h"

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char *argv[])
{
  struct vbm_error err;
  struct vbm_map *map;
  struct vbm_index *idx;
  struct vbm_disk_info info;
  struct vbm_hit hit;
  uint64_t n = argc > 2 ? strtoull (argv[2], NULL, 10) : 10000000, i, found = 0;
  uint64_t x = 88172645463325252ULL;
  double t0, t1, t2;

  if (argc < 2) {
    fprintf (stderr, "usage: index-lookup MAP [N]\n");
    return 2;
  }
  t0 = now ();
  map = vbm_map_open (argv[1], &err);
  if (map == NULL || (idx = vbm_index_load (map, &err)) == NULL ||
      vbm_map_get_disk (map, 0, &info, &err) == -1) {
    fprintf (stderr, "index-lookup: %s\n", err.msg);
    return 1;
  }
  t1 = now ();
  for (i = 0; i < n; ++i) {
    /* xorshift: cheap, so the loop measures the lookup. */
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    found += vbm_index_lookup (idx, 0, x % info.size, &hit) == 0;
  }
  t2 = now ();
  printf ("index: load %.2f s, %.1f MiB, lookup %.0f ns (%" PRIu64 " of %"
          PRIu64 " found)\n", t1 - t0, vbm_index_memory (idx) / 1048576.0,
          (t2 - t1) * 1e9 / n, found, n);
  vbm_index_free (idx);
  vbm_map_close (map);
  return 0;
}
