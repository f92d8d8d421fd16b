/* One walker for the short-form btrees of an AG (free space by block
 * and by size, inodes, free inodes, reference counts, reverse map):
 * each block is mapped as the tree's metadata and its leaves' records
 * handed to the tree's callback.
 *
 * Hostile trees: a block's level must be one less than its parent's
 * (so no path loops and the depth is bounded by the root's level,
 * itself capped), a block already seen is not walked twice (a DAG
 * costs no more than its blocks), counts are bounded by what fits in a
 * block, pointers by the AG.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

/* XFS allows 9 levels; anything deeper is corrupt. */
#define MAX_LEVELS 12

struct walk {
  struct xfs_map *m;
  uint32_t agno;
  const struct xfs_btree *bt;
  size_t hdr;
  unsigned char *buf[MAX_LEVELS];
  uint64_t bad;                 /* blocks skipped */
};

/* Appends a block, extending the last range when contiguous. */
static int
add_block (xfs_range_vector *v, uint64_t unit)
{
  struct xfs_range r = { unit, 1 };

  if (v->len && v->ptr[v->len - 1].start + v->ptr[v->len - 1].len == unit) {
    v->ptr[v->len - 1].len++;
    return 0;
  }
  return xfs_range_vector_append (v, r);
}

static int
walk_block (struct walk *w, uint32_t agbno, uint32_t level)
{
  struct xfs_map *m = w->m;
  const uint64_t bs = m->bs;
  unsigned char *b = w->buf[level];
  uint64_t unit;
  unsigned nrecs, maxrecs, i;
  int r;

  if (agbno >= xfs_ag_blocks (m, w->agno)) {
    w->bad++;
    return 0;
  }
  unit = xfs_agb_unit (m, w->agno, agbno);
  /* Seen already (in this tree: a loop or a shared subtree; or in
   * another): not walked again.
   */
  if (lazy_bitmap_get (&m->tree_seen, unit)) {
    w->bad++;
    return 0;
  }
  if (lazy_bitmap_set_range (&m->tree_seen, unit, 1) == -1 ||
      add_block (w->bt->blocks, unit) == -1) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  r = xfs_read_units (m, b, unit, 1);
  if (r == -1)
    return -1;
  if (r == 1) {
    w->bad++;
    return 0;
  }
  if (xfs_be32 (b) != w->bt->magic || xfs_be16 (b + 4) != level) {
    w->bad++;
    return 0;
  }
  xfs_check_crc (m, b, bs, 52, w->bt->name, unit);
  nrecs = xfs_be16 (b + 6);
  if (level == 0) {
    maxrecs = (bs - w->hdr) / w->bt->rec_size;
    if (nrecs > maxrecs) {
      w->bad++;
      nrecs = maxrecs;
    }
    return w->bt->leaf ? w->bt->leaf (m, w->agno, b + w->hdr, nrecs,
                                      w->bt->opaque) : 0;
  }
  maxrecs = (bs - w->hdr) / (w->bt->key_size + 4);
  if (nrecs > maxrecs) {
    w->bad++;
    nrecs = maxrecs;
  }
  for (i = 0; i < nrecs; i++) {
    /* The pointers follow the room for maxrecs keys. */
    const unsigned char *p = w->buf[level] + w->hdr +
      (size_t) maxrecs * w->bt->key_size + (size_t) i * 4;

    if (walk_block (w, xfs_be32 (p), level - 1) == -1)
      return -1;
  }
  return 0;
}

int
xfs_walk_btree (struct xfs_map *m, uint32_t agno, uint32_t root,
                uint32_t levels, const struct xfs_btree *bt)
{
  struct walk w = { .m = m, .agno = agno, .bt = bt };
  uint32_t i;
  int r = -1;

  if (root == 0 && levels == 0)
    return 0;
  if (levels == 0 || levels > MAX_LEVELS) {
    xfs_warn (m, "XFS AG %" PRIu32 ": %s has %" PRIu32 " levels: "
              "not read", agno, bt->name, levels);
    return 1;
  }
  w.hdr = m->sb.crc ? 56 : 16;
  for (i = 0; i < levels; i++) {
    w.buf[i] = malloc (m->bs);
    if (w.buf[i] == NULL) {
      vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                     strerror (errno));
      goto out;
    }
  }
  r = walk_block (&w, root, levels - 1);
  if (r == 0)
    r = w.bad > INT_MAX ? INT_MAX : (int) w.bad;
  if (w.bad)
    xfs_warn (m, "XFS AG %" PRIu32 ": %s: %" PRIu64 " block(s) corrupt "
              "(bad magic, level, count or pointer): skipped", agno,
              bt->name, w.bad);
 out:
  for (i = 0; i < levels; i++)
    free (w.buf[i]);
  return r;
}
