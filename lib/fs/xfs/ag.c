/* The allocation groups: their headers, free list and btrees as
 * metadata, the btrees' records handed to records.c.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

#define XFS_AGF_MAGIC  0x58414746 /* "XAGF" */
#define XFS_AGI_MAGIC  0x58414749 /* "XAGI" */
#define XFS_AGFL_MAGIC 0x5841464c /* "XAFL" */

#define ABTB 0x41425442
#define AB3B 0x41423342
#define ABTC 0x41425443
#define AB3C 0x41423343
#define IABT 0x49414254
#define IAB3 0x49414233
#define FIBT 0x46494254
#define FIB3 0x46494233
#define R3FC 0x52334643
#define RMB3 0x524d4233


/* ---- One AG. ---- */

/* The four header sectors (superblock copy, AGF, AGI, AGFL) are in
 * the AG's first block(s): the blocks are claimed, the sectors mapped
 * as bytes to their objects.  The rest of a block they share (a 4 KiB
 * block, 512-byte sectors) is unused: it goes with the superblock.
 */
static int
map_headers (struct xfs_map *m, uint32_t agno)
{
  static const char *const names[4] = {
    "<superblock>", "<AG free space header>", "<AG inode header>",
    "<AG free list>",
  };
  const uint64_t ss = m->sb.sectsize;
  const uint64_t base = xfs_agb_unit (m, agno, 0) * m->bs;
  const uint64_t hblocks = (4 * ss + m->bs - 1) / m->bs;
  uint64_t b, s;

  for (b = 0; b < hblocks; b++) {
    if (!vbm_fsmap_claim (m->fm, xfs_agb_unit (m, agno, b)))
      continue;
    for (s = b * m->bs; s < (b + 1) * m->bs; s += ss) {
      unsigned k = s / ss < 4 ? s / ss : 0;
      int64_t obj = vbm_fsmap_meta (m->fm, names[k],
                                    (uint64_t) m->sb.agcount * ss);

      if (obj == -1 ||
          vbm_fsmap_bytes (m->fm, obj, base + s, ss,
                           k == 0 ? (int64_t) s : 0, 0) == -1)
        return -1;
    }
  }
  vbm_fsmap_end_object (m->fm, "<AG headers>");
  return 0;
}

static int
map_free_list (struct xfs_map *m, uint32_t agno, const unsigned char *agf,
               const unsigned char *agfl)
{
  const size_t hdr = m->sb.crc ? 36 : 0;
  const uint32_t size = (m->sb.sectsize - hdr) / 4;
  const uint64_t aglen = xfs_ag_blocks (m, agno);
  uint32_t first = xfs_be32 (agf + 40), count = xfs_be32 (agf + 48);
  uint32_t i, bad = 0;
  int64_t obj;

  if (count == 0)
    return 0;
  if (first >= size || count > size) {
    xfs_warn (m, "XFS AG %" PRIu32 ": free list of %" PRIu32 " entries "
              "from %" PRIu32 " does not fit: not read", agno, count, first);
    return 0;
  }
  if (m->sb.crc && xfs_be32 (agfl) != XFS_AGFL_MAGIC)
    xfs_warn (m, "XFS AG %" PRIu32 ": bad AGFL magic", agno);
  obj = vbm_fsmap_meta (m->fm, "<AG free list>",
                        (uint64_t) m->sb.agcount * m->sb.sectsize);
  if (obj == -1)
    return -1;
  for (i = 0; i < count; i++) {
    uint32_t bno = xfs_be32 (agfl + hdr + 4 * ((first + i) % size));

    if (bno >= aglen)
      bad++;
    else if (vbm_fsmap_units (m->fm, obj, xfs_agb_unit (m, agno, bno), 1,
                              -1, 0) == -1)
      return -1;
  }
  if (bad)
    xfs_warn (m, "XFS AG %" PRIu32 ": %" PRIu32 " free list block(s) "
              "outside the AG", agno, bad);
  vbm_fsmap_end_object (m->fm, "<AG free list>");
  return 0;
}

/* The AG btrees, as their metadata objects are named. */
enum { BT_BNO, BT_CNT, BT_RMAP, BT_REFC, BT_INO, BT_FINO, NR_BT };
static const char *const tree_names[NR_BT] = {
  "<free space btree>", "<free space btree (by size)>",
  "<reverse map btree>", "<refcount btree>", "<inode btree>",
  "<free inode btree>",
};

static int
walk (struct xfs_map *m, uint32_t agno, uint32_t root, uint32_t levels,
      unsigned tree, uint32_t magic, uint32_t rec, uint32_t key,
      int (*leaf) (struct xfs_map *, uint32_t, const unsigned char *,
                   unsigned, void *))
{
  const char *name = tree_names[tree];
  uint64_t bad = 0;
  struct xfs_btree bt = {
    .name = name, .blocks = &m->tree_blocks[tree], .magic = magic,
    .rec_size = rec, .key_size = key, .leaf = leaf, .opaque = &bad,
  };

  int r = xfs_walk_btree (m, agno, root, levels, &bt);

  if (r == -1)
    return -1;
  if (bad)
    xfs_warn (m, "XFS AG %" PRIu32 ": %s: %" PRIu64 " record(s) outside "
              "the AG or malformed: ignored", agno, name, bad);
  return r > 0 || bad > 0;
}

static int
map_ag (struct xfs_map *m, uint32_t agno)
{
  const uint64_t ss = m->sb.sectsize;
  const bool v5 = m->sb.crc;
  const uint64_t aglen = xfs_ag_blocks (m, agno);
  unsigned char *h, *agf, *agi, *agfl;
  bool agf_ok, agi_ok;
  int r;

  h = malloc (4 * ss);
  if (h == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  agf = h + ss;
  agi = h + 2 * ss;
  agfl = h + 3 * ss;
  r = xfs_pread (m, h, 4 * ss, xfs_agb_unit (m, agno, 0) * m->bs);
  if (r != 0) {
    free (h);
    if (r == 1)
      xfs_warn (m, "XFS AG %" PRIu32 " is past the end of the volume "
                "(truncated image?): not read", agno);
    return r == 1 ? 0 : -1;
  }
  if (map_headers (m, agno) == -1)
    goto fatal;

  if (agno > 0 && v5)
    xfs_check_crc (m, h, ss, 224, "superblock copy in AG", agno);
  agf_ok = xfs_be32 (agf) == XFS_AGF_MAGIC && xfs_be32 (agf + 8) == agno;
  agi_ok = xfs_be32 (agi) == XFS_AGI_MAGIC && xfs_be32 (agi + 8) == agno;
  if (!agf_ok)
    xfs_warn (m, "XFS AG %" PRIu32 ": bad AGF (magic or number): its free "
              "space and btrees are not read", agno);
  else {
    xfs_check_crc (m, agf, ss, 216, "AGF of AG", agno);
    if (xfs_be32 (agf + 12) != aglen)
      xfs_warn (m, "XFS AG %" PRIu32 ": AGF says %" PRIu32 " blocks, the "
                "superblock %" PRIu64, agno, xfs_be32 (agf + 12), aglen);
    if (v5)
      xfs_check_crc (m, agfl, ss, 32, "AGFL of AG", agno);
    size_t nfree = m->free.len;
    int bno, cnt;

    if (map_free_list (m, agno, agf, agfl) == -1)
      goto fatal;
    bno = walk (m, agno, xfs_be32 (agf + 16), xfs_be32 (agf + 28),
                BT_BNO, v5 ? AB3B : ABTB, 8, 8, xfs_free_leaf);
    if (bno == -1)
      goto fatal;
    /* The same free extents are in the tree by size: its records
     * stand in for a damaged tree by block.
     */
    if (bno == 1)
      m->free.len = nfree;
    cnt = walk (m, agno, xfs_be32 (agf + 20), xfs_be32 (agf + 32),
                BT_CNT, v5 ? AB3C : ABTC, 8, 8,
                bno == 1 ? xfs_free_leaf : NULL);
    if (cnt == -1)
      goto fatal;
    if (bno == 1)
      xfs_warn (m, "XFS AG %" PRIu32 ": free space taken from the free "
                "space btree by size%s", agno,
                cnt ? ", itself damaged: some may show as <unaccounted>"
                : "");
    if (m->sb.rmapbt &&
        walk (m, agno, xfs_be32 (agf + 24), xfs_be32 (agf + 36),
              BT_RMAP, RMB3, 24, 40, NULL) == -1)
      goto fatal;
    if (m->sb.reflink &&
        walk (m, agno, xfs_be32 (agf + 88), xfs_be32 (agf + 92),
              BT_REFC, R3FC, 12, 4, xfs_refcount_leaf) == -1)
      goto fatal;
  }
  if (!agi_ok)
    xfs_warn (m, "XFS AG %" PRIu32 ": bad AGI (magic or number): its "
              "inodes are not read", agno);
  else {
    xfs_check_crc (m, agi, ss, 312, "AGI of AG", agno);
    if (walk (m, agno, xfs_be32 (agi + 20), xfs_be32 (agi + 24),
              BT_INO, v5 ? IAB3 : IABT, 16, 4, xfs_inode_leaf) == -1 ||
        vbm_fsmap_flush (m->fm) == -1)
      goto fatal;
    vbm_fsmap_end_object (m->fm, "<inodes>");
    if (m->sb.finobt &&
        walk (m, agno, xfs_be32 (agi + 328), xfs_be32 (agi + 332),
              BT_FINO, v5 ? FIB3 : FIBT, 16, 4, NULL) == -1)
      goto fatal;
  }
  free (h);
  return vbm_fsmap_flush (m->fm);

 fatal:
  free (h);
  return -1;
}

/* The btrees' blocks, each tree an object of its total size. */
static int
map_trees (struct xfs_map *m)
{
  unsigned t;
  size_t i;

  for (t = 0; t < NR_BT; t++) {
    const xfs_range_vector *v = &m->tree_blocks[t];
    uint64_t total = 0;
    int64_t obj;

    if (v->len == 0)
      continue;
    for (i = 0; i < v->len; i++)
      total += v->ptr[i].len;
    obj = vbm_fsmap_meta (m->fm, tree_names[t], total * m->bs);
    if (obj == -1)
      return -1;
    for (i = 0; i < v->len; i++)
      if (vbm_fsmap_units (m->fm, obj, v->ptr[i].start, v->ptr[i].len, -1,
                           0) == -1)
        return -1;
    if (vbm_fsmap_flush (m->fm) == -1)
      return -1;
    vbm_fsmap_end_object (m->fm, tree_names[t]);
  }
  return 0;
}

int
xfs_map_ags (struct xfs_map *m)
{
  uint32_t agno;

  lazy_bitmap_init (&m->tree_seen, m->sb.dblocks);
  m->last_inode_unit = UINT64_MAX;
  for (agno = 0; agno < m->sb.agcount; agno++)
    if (map_ag (m, agno) == -1)
      return -1;
  if (map_trees (m) == -1)
    return -1;
  return xfs_map_space (m);
}
