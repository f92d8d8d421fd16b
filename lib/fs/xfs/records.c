/* The records the later phases need from the AG btrees' leaves: free
 * extents (bno, or cnt for a damaged bno), inode chunks (whose blocks
 * are mapped as <inodes> here), shared extents and copy-on-write
 * staging extents (refcount).  Each record is checked against its AG.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

#define CHUNK_INODES 64
#define REFCOUNT_COW (UINT32_C (1) << 31)

static int
oom (struct xfs_map *m)
{
  vbm_set_error (m->ctx->err, errno ? errno : ENOMEM, "%s: %s",
                 m->vol->device, strerror (errno ? errno : ENOMEM));
  return -1;
}

/* Free space and refcount records have one shape: a (start, length)
 * extent of the AG, then, for refcount, a count, and a start whose top
 * bit marks copy-on-write staging.
 */
static int
extent_leaf (struct xfs_map *m, uint32_t agno, const unsigned char *r,
             unsigned n, uint64_t *bad, bool refcount)
{
  const uint64_t aglen = xfs_ag_blocks (m, agno);
  const unsigned size = refcount ? 12 : 8;
  unsigned i;

  for (i = 0; i < n; i++, r += size) {
    uint32_t start = xfs_be32 (r), len = xfs_be32 (r + 4);
    uint32_t refs = refcount ? xfs_be32 (r + 8) : 1;
    bool cow = refcount && (start & REFCOUNT_COW);
    struct xfs_range x;

    if (refcount)
      start &= ~REFCOUNT_COW;
    if (len == 0 || start >= aglen || len > aglen - start || refs == 0) {
      (*bad)++;
      continue;
    }
    x.start = xfs_agb_unit (m, agno, start);
    x.len = len;
    if (!refcount) {
      if (xfs_range_vector_append (&m->free, x) == -1)
        return oom (m);
    }
    else if (cow) {
      /* Blocks staged for a copy on write not yet done (a crash):
       * allocated, owned by no file.
       */
      int64_t obj = vbm_fsmap_meta (m->fm, "<copy-on-write staging>", 0);

      if (obj == -1 ||
          vbm_fsmap_units (m->fm, obj, x.start, x.len, -1, 0) == -1)
        return -1;
    }
    else if (refs > 1 && xfs_range_vector_append (&m->shared, x) == -1)
      return oom (m);
  }
  return 0;
}

int
xfs_free_leaf (struct xfs_map *m, uint32_t agno, const unsigned char *r,
               unsigned n, void *opaque)
{
  return extent_leaf (m, agno, r, n, opaque, false);
}

int
xfs_refcount_leaf (struct xfs_map *m, uint32_t agno, const unsigned char *r,
                   unsigned n, void *opaque)
{
  return extent_leaf (m, agno, r, n, opaque, true);
}

/* The blocks of an inode chunk's allocated inodes as <inodes>. */
static int
map_chunk (struct xfs_map *m, const struct xfs_chunk *c)
{
  const unsigned lg = m->sb.inopblog;
  int64_t obj = vbm_fsmap_meta (m->fm, "<inodes>",
                                m->sb.icount * m->sb.inodesize);
  unsigned i = 0, j;

  if (obj == -1)
    return -1;
  while (i < CHUNK_INODES) {
    uint64_t first, last;

    if (c->holemask & (1u << (i / 4))) {
      i += 4;
      continue;
    }
    for (j = i; j < CHUNK_INODES && !(c->holemask & (1u << (j / 4))); j += 4)
      ;
    first = xfs_agb_unit (m, c->agno, (c->startino + i) >> lg);
    last = xfs_agb_unit (m, c->agno, (c->startino + j - 1) >> lg);
    if (first == m->last_inode_unit)
      first++;
    if (first <= last &&
        vbm_fsmap_units (m->fm, obj, first, last - first + 1, -1, 0) == -1)
      return -1;
    m->last_inode_unit = last;
    i = j;
  }
  return 0;
}

int
xfs_inode_leaf (struct xfs_map *m, uint32_t agno, const unsigned char *r,
            unsigned n, void *opaque)
{
  const uint64_t aglen = xfs_ag_blocks (m, agno);
  const unsigned align = m->sb.inopblock < CHUNK_INODES
    ? m->sb.inopblock : CHUNK_INODES;
  uint64_t *bad = opaque;
  unsigned i, k;

  for (i = 0; i < n; i++, r += 16) {
    struct xfs_chunk c = {
      .agno = agno,
      .startino = xfs_be32 (r),
      .holemask = m->sb.sparse ? xfs_be16 (r + 4) : 0,
      .free = xfs_be64 (r + 8),
    };
    uint64_t last = ((uint64_t) c.startino + CHUNK_INODES - 1) >>
      m->sb.inopblog;

    /* A chunk starts on a block (on 64 inodes if a block has more). */
    if (c.startino % align || last >= aglen ||
        c.holemask == 0xffff) {
      (*bad)++;
      continue;
    }
    /* The holes' inodes are not there: never read them. */
    for (k = 0; k < 16; k++)
      if (c.holemask & (1u << k))
        c.free |= UINT64_C (0xf) << (4 * k);
    if (map_chunk (m, &c) == -1)
      return -1;
    if (xfs_chunk_vector_append (&m->chunks, c) == -1)
      return oom (m);
  }
  return 0;
}
