/* Free and shared space: the free extents and shared extents kept
 * from the btrees sorted and merged, the shared blocks claimed once,
 * and the final accounting (everything outside the free extents is
 * allocated) with the core's sweep.
 */
#include <config.h>

#include <inttypes.h>

#include "xfs-map.h"

static int
compare_range (const struct xfs_range *a, const struct xfs_range *b)
{
  return a->start < b->start ? -1 : a->start > b->start;
}

/* Sorted, overlaps merged: the lookups and the sweep rely on it. */
static void
normalise (xfs_range_vector *v)
{
  size_t i, out = 0;

  xfs_range_vector_sort (v, compare_range);
  for (i = 0; i < v->len; i++) {
    struct xfs_range *last = out ? &v->ptr[out - 1] : NULL;

    if (last && v->ptr[i].start <= last->start + last->len) {
      uint64_t end = v->ptr[i].start + v->ptr[i].len;

      if (end > last->start + last->len)
        last->len = end - last->start;
    }
    else
      v->ptr[out++] = v->ptr[i];
  }
  v->len = out;
}

int
xfs_map_space (struct xfs_map *m)
{
  size_t i;

  normalise (&m->free);
  normalise (&m->shared);
  /* Shared blocks are mapped to every file that has them, as bytes:
   * claimed here once, so that the first file does not take them and
   * the others do not count conflicts.
   */
  for (i = 0; i < m->shared.len; i++) {
    uint64_t u;

    for (u = 0; u < m->shared.ptr[i].len; u++)
      vbm_fsmap_claim (m->fm, m->shared.ptr[i].start + u);
  }
  vbm_fsmap_end_object (m->fm, "<refcount btree>");
  return 0;
}

int
xfs_map_unclaimed (struct xfs_map *m)
{
  struct vbm_fsmap_unclaimed u;
  uint64_t cursor = 0, fs_bytes = m->sb.dblocks * m->bs;
  size_t i;

  for (i = 0; i < m->free.len; i++) {
    const struct xfs_range *f = &m->free.ptr[i];

    if (f->start > cursor &&
        vbm_fsmap_allocated (m->fm, cursor, f->start - cursor) == -1)
      return -1;
    cursor = f->start + f->len;
  }
  if (cursor < m->sb.dblocks &&
      vbm_fsmap_allocated (m->fm, cursor, m->sb.dblocks - cursor) == -1)
    return -1;
  if (vbm_fsmap_sweep (m->fm, &u) == -1)
    return -1;
  if (u.unaccounted)
    xfs_warn (m, "%" PRIu64 " block(s) in use per the free space btrees "
              "belong to no file or metadata: mapped as <unaccounted>",
              u.unaccounted);
  if (u.claimed_free)
    xfs_warn (m, "%" PRIu64 " block(s) of files or metadata are free in "
              "the free space btrees", u.claimed_free);
  if (fs_bytes < m->vol->length &&
      vbm_fsmap_beyond (m->fm, fs_bytes, 0, 0) == -1)
    return -1;
  return 0;
}
