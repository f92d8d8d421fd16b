/* The forks of an inode: where they lie in the inode, and the extents
 * of those in extents or btree format (the long-form bmap btree, whose
 * root is in the inode).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "xfs-map.h"

#define BMAP 0x424d4150
#define BMA3 0x424d4133
#define MAX_LEVELS 12

void
xfs_fork_area (const struct xfs_map *m, const unsigned char *raw,
               int whichfork, size_t *off, size_t *size, unsigned *format)
{
  const size_t core = raw[4] >= 3 ? 176 : 100;
  const size_t lit = m->sb.inodesize - core;
  const size_t forkoff = (size_t) raw[82] * 8;

  *off = core;
  *size = 0;
  *format = whichfork == XFS_DATA_FORK ? raw[5] : raw[83];
  if (forkoff >= lit)           /* corrupt: no room for the data fork */
    return;
  if (whichfork == XFS_DATA_FORK)
    *size = forkoff ? forkoff : lit;
  else if (forkoff) {
    *off = core + forkoff;
    *size = lit - forkoff;
  }
}

static uint64_t
nextents (const unsigned char *raw, int whichfork)
{
  bool big = xfs_di_flags2 (raw) & XFS_DIFLAG2_NREXT64;

  if (whichfork == XFS_DATA_FORK)
    return big ? xfs_be64 (raw + 24) : xfs_be32 (raw + 76);
  return big ? xfs_be32 (raw + 76) : xfs_be16 (raw + 80);
}

struct fork_walk {
  struct xfs_map *m;
  uint64_t ino;
  xfs_extent_fn fn;
  void *opaque;
  uint64_t bad_recs, bad_blocks;
  unsigned char *buf[MAX_LEVELS];
};

/* Extent records (bmbt leaves, or the fork itself). */
static int
records (struct fork_walk *w, const unsigned char *p, uint64_t n)
{
  uint64_t i;

  for (i = 0; i < n; i++, p += 16) {
    struct xfs_extent e;

    xfs_extent_unpack (p, &e);
    if (e.len == 0) {
      w->bad_recs++;
      continue;
    }
    if (w->fn (w->m, &e, false, w->opaque) == -1)
      return -1;
  }
  return 0;
}

static int
bmbt_block (struct fork_walk *w, uint64_t fsb, unsigned level)
{
  struct xfs_map *m = w->m;
  const size_t hdr = m->sb.crc ? 72 : 24;
  unsigned char *b = w->buf[level];
  struct xfs_extent e = { .fsb = fsb, .len = 1 };
  unsigned nrecs, maxrecs = (m->bs - hdr) / 16, i;
  uint64_t unit;
  int r;

  if (!xfs_fsb_unit (m, fsb, 1, &unit)) {
    w->bad_blocks++;
    return 0;
  }
  /* The caller maps it, or says it was seen already (1: not walked). */
  r = w->fn (m, &e, true, w->opaque);
  if (r != 0)
    return r == -1 ? -1 : 0;
  r = xfs_read_units (m, b, unit, 1);
  if (r == -1)
    return -1;
  if (r == 1 || xfs_be32 (b) != (m->sb.crc ? BMA3 : BMAP) ||
      xfs_be16 (b + 4) != level ||
      (m->sb.crc && xfs_be64 (b + 56) != w->ino)) {
    w->bad_blocks++;
    return 0;
  }
  xfs_check_crc (m, b, m->bs, 64, "bmap btree block", unit);
  nrecs = xfs_be16 (b + 6);
  if (nrecs > maxrecs) {
    w->bad_blocks++;
    nrecs = maxrecs;
  }
  if (level == 0)
    return records (w, b + hdr, nrecs);
  for (i = 0; i < nrecs; i++)
    if (bmbt_block (w, xfs_be64 (b + hdr + (size_t) maxrecs * 8 + i * 8),
                    level - 1) == -1)
      return -1;
  return 0;
}

static int
btree_root (struct fork_walk *w, const unsigned char *p, size_t size)
{
  unsigned level, nrecs, maxrecs, i;
  int r = 0;

  if (size < 4 + 16) {
    w->bad_blocks++;
    return 0;
  }
  level = xfs_be16 (p);
  nrecs = xfs_be16 (p + 2);
  maxrecs = (size - 4) / 16;
  if (level == 0 || level >= MAX_LEVELS || nrecs > maxrecs) {
    w->bad_blocks++;
    return 0;
  }
  for (i = 0; i < level; i++) {
    w->buf[i] = malloc (w->m->bs);
    if (w->buf[i] == NULL) {
      vbm_set_error (w->m->ctx->err, ENOMEM, "%s: out of memory",
                     w->m->vol->device);
      r = -1;
      goto out;
    }
  }
  for (i = 0; i < nrecs && r == 0; i++)
    r = bmbt_block (w, xfs_be64 (p + 4 + (size_t) maxrecs * 8 + i * 8),
                    level - 1);
 out:
  for (i = 0; i < level; i++)
    free (w->buf[i]);
  return r;
}

int
xfs_fork_extents (struct xfs_map *m, uint64_t ino, const unsigned char *raw,
                  int whichfork, xfs_extent_fn fn, void *opaque)
{
  struct fork_walk w = { .m = m, .ino = ino, .fn = fn, .opaque = opaque };
  size_t off, size;
  unsigned format;
  uint64_t n;
  int r = 0;

  xfs_fork_area (m, raw, whichfork, &off, &size, &format);
  if (size == 0)
    return 0;
  if (format == XFS_DINODE_FMT_EXTENTS) {
    n = nextents (raw, whichfork);
    if (n > size / 16) {
      w.bad_recs += n - size / 16;
      n = size / 16;
    }
    r = records (&w, raw + off, n);
  }
  else if (format == XFS_DINODE_FMT_BTREE)
    r = btree_root (&w, raw + off, size);
  if (w.bad_recs || w.bad_blocks)
    xfs_warn (m, "XFS inode %" PRIu64 ": %s fork: %" PRIu64 " bad "
              "extent record(s), %" PRIu64 " bad bmap btree block(s): "
              "skipped", ino, whichfork == XFS_DATA_FORK ? "data" : "attr",
              w.bad_recs, w.bad_blocks);
  return r;
}
