/* One walker for the short-form btrees of an AG (free space by block
 * and by size, inodes, free inodes, reference counts, reverse map):
 * each block is mapped as the tree's metadata and its leaves' records
 * handed to the tree's callback.
 *
 * Hostile trees: a block's level must be one less than its parent's
 * (so no path loops and the depth is bounded by the root's level,
 * itself capped), a block already mapped is not walked twice (a DAG
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
  int64_t obj;
  size_t hdr;
  unsigned char *buf[MAX_LEVELS];
  uint64_t bad;                 /* blocks skipped */
};

static int
walk_block (struct walk *w, uint32_t agbno, uint32_t level)
{
  struct xfs_map *m = w->m;
  const uint64_t bs = m->bs;
  unsigned char *b = w->buf[level];
  uint64_t unit;
  unsigned nrecs, maxrecs, i;
  int64_t n;
  int r;

  if (agbno >= xfs_ag_blocks (m, w->agno)) {
    w->bad++;
    return 0;
  }
  unit = xfs_agb_unit (m, w->agno, agbno);
  /* Already mapped (by this tree: a loop or a shared subtree; or by
   * another owner): not walked again.
   */
  n = vbm_fsmap_units (m->fm, w->obj, unit, 1, -1, 0);
  if (n == -1)
    return -1;
  if (n == 0)
    return 0;
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
  w.obj = vbm_fsmap_meta (m->fm, bt->name, 0);
  if (w.obj == -1)
    return -1;
  for (i = 0; i < levels; i++) {
    w.buf[i] = malloc (m->bs);
    if (w.buf[i] == NULL) {
      vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                     strerror (errno));
      goto out;
    }
  }
  r = walk_block (&w, root, levels - 1);
  if (r == 0 && vbm_fsmap_flush (m->fm) == -1)
    r = -1;
  if (r == 0)
    r = w.bad > INT_MAX ? INT_MAX : (int) w.bad;
  vbm_fsmap_end_object (m->fm, bt->name);
  if (w.bad)
    xfs_warn (m, "XFS AG %" PRIu32 ": %s: %" PRIu64 " block(s) corrupt "
              "(bad magic, level, count or pointer): skipped", agno,
              bt->name, w.bad);
 out:
  for (i = 0; i < levels; i++)
    free (w.buf[i]);
  return r;
}
