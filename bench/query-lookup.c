/* query-lookup MAP DEVICE PATH... -- OFFSET...: times the lookups of
 * `virt-bmap query` on an open map, each path (vbm_map_lookup_path)
 * and each offset of disk 0 (vbm_map_lookup) in turn, ROUNDS times;
 * prints the median ms per lookup of each kind, and how many rows
 * each answered (so that a lookup finding nothing does not pass as
 * fast).  Built and run by bench/query-bench.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtbmap.h"

#define ROUNDS 9

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
count (void *opaque, const struct vbm_hit *h)
{
  (void) h;
  ++*(int64_t *) opaque;
  return 0;
}

static int
by_value (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char *argv[])
{
  struct vbm_error err = { 0 };
  struct vbm_map *map;
  double tp[ROUNDS], to[ROUNDS];
  int64_t rows_p = 0, rows_o = 0;
  int i, r, sep = 0, npaths, noffs;

  for (i = 3; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      sep = i;
  if (argc < 4 || sep == 0) {
    fprintf (stderr, "usage: query-lookup MAP DEVICE PATH... -- OFFSET...\n");
    return 2;
  }
  npaths = sep - 3;
  noffs = argc - sep - 1;
  map = vbm_map_open (argv[1], &err);
  if (map == NULL) {
    fprintf (stderr, "query-lookup: %s: %s\n", argv[1], err.msg);
    return 1;
  }
  for (r = 0; r < ROUNDS; r++) {
    double t = now ();

    rows_p = rows_o = 0;
    for (i = 0; i < npaths; i++)
      if (vbm_map_lookup_path (map, argv[2], argv[3 + i], count, &rows_p,
                               &err) == -1) {
        fprintf (stderr, "query-lookup: %s: %s\n", argv[3 + i], err.msg);
        return 1;
      }
    tp[r] = (now () - t) * 1000 / (npaths ? npaths : 1);
    t = now ();
    for (i = 0; i < noffs; i++)
      if (vbm_map_lookup (map, 0, strtoull (argv[sep + 1 + i], NULL, 0),
                          count, &rows_o, &err) == -1) {
        fprintf (stderr, "query-lookup: %s: %s\n", argv[sep + 1 + i], err.msg);
        return 1;
      }
    to[r] = (now () - t) * 1000 / (noffs ? noffs : 1);
  }
  qsort (tp, ROUNDS, sizeof *tp, by_value);
  qsort (to, ROUNDS, sizeof *to, by_value);
  printf ("query --path: %.3f ms per path (median of %d rounds of %d "
          "paths, %" PRId64 " rows each round)\n",
          tp[ROUNDS / 2], ROUNDS, npaths, rows_p);
  printf ("query OFFSET: %.3f ms per offset (median of %d rounds of %d "
          "offsets, %" PRId64 " rows each round)\n",
          to[ROUNDS / 2], ROUNDS, noffs, rows_o);
  vbm_map_close (map);
  return 0;
}
