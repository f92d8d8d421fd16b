/* test-index MAP: the in-memory index must give, at every offset
 * tried, the same answer as a brute-force scan of all the map's
 * extents (the covering extent of the latest object: children are
 * numbered after their parents), and the latest deleted object whose
 * former extent (VBM_EXTENT_FORMER) covers it, which is the answer
 * itself only where nothing else is.  Offsets tried: every extent's
 * first and last byte, and random ones.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtbmap.h"
#include "vector.h"

struct ext {
  unsigned disk;
  uint64_t start, end;
  int64_t offset, object;
  bool former;
  char *path;
};
DEFINE_VECTOR_TYPE (ext_vector, struct ext);

static int
collect (void *opaque, const struct vbm_hit *h)
{
  ext_vector *v = opaque;
  struct ext e = { h->disk, h->start, h->end, h->object_offset, h->object_id,
                   h->extent_flags & VBM_EXTENT_FORMER,
                   h->path ? strdup (h->path) : NULL };
  return ext_vector_append (v, e);
}

static unsigned failures;

static void
check (struct vbm_index *idx, const ext_vector *v, unsigned disk,
       uint64_t off)
{
  const struct ext *best = NULL, *former = NULL;
  struct vbm_hit hit = VBM_HIT_INIT;
  int64_t want_offset;
  size_t i;
  int r;

  for (i = 0; i < v->len; ++i) {
    const struct ext *e = &v->ptr[i];
    if (e->disk != disk || off < e->start || off >= e->end)
      continue;
    if (e->former) {
      if (former == NULL || e->object > former->object)
        former = e;
    }
    else if (best == NULL || e->object > best->object)
      best = e;
  }
  if (best == NULL) {
    best = former;
    former = NULL;
  }
  r = vbm_index_lookup (idx, disk, off, &hit);
  if (best == NULL) {
    if (r != -1) {
      fprintf (stderr, "disk %u offset %" PRIu64 ": index found object %"
               PRIi64 ", scan found none\n", disk, off, hit.object_id);
      failures++;
    }
    return;
  }
  if (r == 0 && (former == NULL ? hit.former != NULL
                 : hit.former == NULL || former->path == NULL ||
                   strcmp (hit.former, former->path) != 0)) {
    fprintf (stderr, "disk %u offset %" PRIu64 ": index says formerly %s, "
             "scan says %s\n", disk, off, hit.former ? hit.former : "none",
             former ? former->path : "none");
    failures++;
  }
  want_offset = best->offset >= 0 ? best->offset + (int64_t) (off - best->start) : -1;
  if (r == -1 || hit.object_id != best->object || off < hit.start ||
      off >= hit.end ||
      (hit.object_offset >= 0 ? hit.object_offset + (int64_t) (off - hit.start) : -1)
      != want_offset) {
    fprintf (stderr, "disk %u offset %" PRIu64 ": index says object %"
             PRIi64 " [%" PRIu64 ",%" PRIu64 ") offset %" PRIi64
             ", scan says object %" PRIi64 " offset %" PRIi64 "\n",
             disk, off, r == -1 ? -1 : hit.object_id, hit.start, hit.end,
             hit.object_offset, best->object, want_offset);
    failures++;
  }
}

int
main (int argc, char *argv[])
{
  struct vbm_error err;
  struct vbm_map *map;
  struct vbm_index *idx;
  ext_vector v = empty_vector;
  uint64_t max_end = 0, tried = 0;
  size_t i;
  unsigned n;

  if (argc != 2) {
    fprintf (stderr, "usage: test-index MAP\n");
    exit (2);
  }
  map = vbm_map_open (argv[1], &err);
  if (map == NULL || (idx = vbm_index_load (map, &err)) == NULL) {
    fprintf (stderr, "test-index: %s\n", err.msg);
    exit (1);
  }
  if (vbm_map_foreach (map, collect, &v, &err) == -1) {
    fprintf (stderr, "test-index: %s\n", err.msg);
    exit (1);
  }
  for (i = 0; i < v.len; ++i) {
    const struct ext *e = &v.ptr[i];
    check (idx, &v, e->disk, e->start);
    check (idx, &v, e->disk, e->end - 1);
    check (idx, &v, e->disk, e->end);
    tried += 3;
    if (e->end > max_end)
      max_end = e->end;
  }
  srandom (1);
  for (n = 0; n < 2000; ++n) {
    uint64_t off = (((uint64_t) random () << 31) ^ random ()) % (max_end + 4096);
    check (idx, &v, v.ptr[random () % v.len].disk, off);
    tried++;
  }
  printf ("test-index: %zu extents, %" PRIu64 " offsets, index %zu bytes, "
          "%u failures\n", v.len, tried, vbm_index_memory (idx), failures);
  vbm_index_free (idx);
  vbm_map_close (map);
  for (i = 0; i < v.len; ++i)
    free (v.ptr[i].path);
  free (v.ptr);
  return failures ? 1 : 0;
}
