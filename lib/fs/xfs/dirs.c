/* A directory's entries read from its inode: the shortform fork, or
 * the data blocks (block, leaf, node and btree formats alike: only the
 * blocks below the leaf offset, 32 GiB into the fork, hold entries).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

#define LEAF_OFFSET (UINT64_C (32) << 30)
#define XD2B 0x58443242
#define XD2D 0x58443244
#define XDB3 0x58444233
#define XDD3 0x58444433
/* Directory blocks read at once, at most. */
#define BATCH_BYTES (1024 * 1024)

DEFINE_VECTOR_TYPE (extent_vector, struct xfs_extent);

struct dir_read {
  extent_vector ext;
  uint64_t leaf_fsb;
};

static int
collect (struct xfs_map *m, const struct xfs_extent *e, bool tree,
         void *opaque)
{
  struct dir_read *d = opaque;

  if (tree) {
    /* Not mapped in this pass: a bound on the reads instead. */
    if (m->bmbt_budget == 0)
      return 1;
    m->bmbt_budget--;
    return 0;
  }
  if (e->startoff >= d->leaf_fsb || e->unwritten)
    return 0;
  if (extent_vector_append (&d->ext, *e) == -1) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  return 0;
}

static int
compare_ext (const struct xfs_extent *a, const struct xfs_extent *b)
{
  return a->startoff < b->startoff ? -1 : a->startoff > b->startoff;
}

/* Reads fork blocks [lb, lb + n) into buf from the extents from index
 * i on: 1 if some are missing or unreadable, -1 fatal.
 */
static int
read_fork (struct xfs_map *m, const struct dir_read *d, size_t i,
           uint64_t lb, uint64_t n, unsigned char *buf)
{
  while (n > 0) {
    const struct xfs_extent *e;
    uint64_t k, unit;
    int r;

    while (i < d->ext.len &&
           d->ext.ptr[i].startoff + d->ext.ptr[i].len <= lb)
      i++;
    if (i == d->ext.len || d->ext.ptr[i].startoff > lb)
      return 1;
    e = &d->ext.ptr[i];
    k = e->startoff + e->len - lb;
    if (k > n)
      k = n;
    if (!xfs_fsb_unit (m, e->fsb + (lb - e->startoff), k, &unit))
      return 1;
    r = xfs_read_units (m, buf, unit, k);
    if (r != 0)
      return r;
    buf += k * m->bs;
    lb += k;
    n -= k;
  }
  return 0;
}

static int
parse_blocks (struct xfs_map *m, uint64_t ino, const unsigned char *buf,
              uint64_t nblocks, xfs_dirent_fn fn, void *opaque)
{
  const size_t dbs = m->sb.dirblksize;
  uint64_t j;

  for (j = 0; j < nblocks; j++) {
    const unsigned char *b = buf + j * dbs;
    const char *why = NULL;
    uint32_t magic = xfs_be32 (b);

    if (magic != (m->sb.crc ? XDB3 : XD2B) &&
        magic != (m->sb.crc ? XDD3 : XD2D)) {
      /* Below the leaf offset there are only data blocks. */
      xfs_warn (m, "XFS directory inode %" PRIu64 ": a data block without "
                "its magic (0x%08" PRIx32 "): its entries are lost", ino,
                magic);
      continue;
    }
    if (m->sb.crc)
      xfs_check_crc (m, b, dbs, 4, "directory block of inode", ino);
    if (xfs_dir_block (b, dbs, m->sb.crc, m->sb.ftype, fn, opaque,
                       &why) == -1)
      return -1;
    if (why)
      xfs_warn (m, "XFS directory inode %" PRIu64 ": %s (the rest of the "
                "block skipped)", ino, why);
  }
  return 0;
}

int
xfs_read_dir (struct xfs_map *m, uint64_t ino, const unsigned char *raw,
              xfs_dirent_fn fn, void *opaque)
{
  const uint64_t dfsbs = UINT64_C (1) << m->sb.dirblklog;
  const size_t dbs = m->sb.dirblksize;
  const uint64_t batch = BATCH_BYTES / dbs ? BATCH_BYTES / dbs : 1;
  struct dir_read d = { .ext = empty_vector,
                        .leaf_fsb = LEAF_OFFSET >> m->sb.blocklog };
  unsigned char *buf = NULL;
  size_t off, size, i;
  unsigned format;
  uint64_t bad = 0;
  int r = -1;

  xfs_fork_area (m, raw, XFS_DATA_FORK, &off, &size, &format);
  if (format == XFS_DINODE_FMT_LOCAL) {
    const char *why = NULL;
    uint64_t len = xfs_di_size (raw);

    if (len > size)
      len = size;
    if (xfs_dir_sf (raw + off, len, m->sb.ftype, fn, opaque, &why) == -1)
      return -1;
    if (why)
      xfs_warn (m, "XFS directory inode %" PRIu64 ": %s", ino, why);
    return 0;
  }
  if (format != XFS_DINODE_FMT_EXTENTS && format != XFS_DINODE_FMT_BTREE) {
    xfs_warn (m, "XFS directory inode %" PRIu64 ": data fork format %u",
              ino, format);
    return 0;
  }
  if (xfs_fork_extents (m, ino, raw, XFS_DATA_FORK, collect, &d) == -1)
    goto out;
  extent_vector_sort (&d.ext, compare_ext);
  buf = malloc (batch * dbs);
  if (buf == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    goto out;
  }
  for (i = 0; i < d.ext.len; i++) {
    const struct xfs_extent *e = &d.ext.ptr[i];
    uint64_t end = e->startoff + e->len;
    uint64_t lb = (e->startoff + dfsbs - 1) / dfsbs * dfsbs;

    if (end > d.leaf_fsb)
      end = d.leaf_fsb;
    while (lb < end) {
      /* Whole directory blocks of this extent at once; one that runs
       * into the next extents alone.
       */
      uint64_t n = (end - lb) / dfsbs;
      int rr;

      if (n > batch)
        n = batch;
      if (n == 0)
        n = 1;
      if (m->dir_budget < n * dfsbs) {
        if (!m->warned_dir_budget)
          xfs_warn (m, "XFS directories hold more blocks than the "
                    "filesystem (cross-linked?): the rest not read");
        m->warned_dir_budget = true;
        break;
      }
      m->dir_budget -= n * dfsbs;
      rr = read_fork (m, &d, i, lb, n * dfsbs, buf);
      if (rr == -1)
        goto out;
      if (rr == 1)
        bad++;
      else if (parse_blocks (m, ino, buf, n, fn, opaque) == -1)
        goto out;
      lb += n * dfsbs;
    }
  }
  if (bad)
    xfs_warn (m, "XFS directory inode %" PRIu64 ": %" PRIu64 " run(s) of "
              "directory blocks missing or outside the filesystem", ino, bad);
  r = 0;
 out:
  free (buf);
  extent_vector_reset (&d.ext);
  return r;
}
