/* The space of each device: superblocks, tree blocks at every copy,
 * RAID5/6 parity, then the accounting: what the extent tree says is
 * allocated, and the core's sweep for the rest (free space: bytes in
 * no chunk and bytes of chunks no extent uses).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "btrfs-map.h"

#define MIRRORS 3

/* Sectors of a device that lie inside its volume: a device item may
 * claim a device far bigger than the image (a truncated image, or
 * damage), and work over sectors is bounded by what is there.
 */
static uint64_t
dev_limit (const struct btrfs_map *m, const struct bt_dev *d)
{
  uint64_t v = d->mem->vol.length / m->ss;

  return d->units < v ? d->units : v;
}

static uint64_t
super_offset (unsigned i)
{
  /* 64 KiB, 64 MiB, 256 GiB. */
  return i == 0 ? BT_SUPER_OFFSET : UINT64_C (16384) << (12 * i);
}

int
bt_map_supers (struct btrfs_map *m)
{
  size_t d;
  unsigned i, n;

  for (d = 0; d < m->devs.len; d++) {
    struct bt_dev *dev = &m->devs.ptr[d];
    int64_t obj;

    if (!dev->present)
      continue;
    for (n = 0; n < MIRRORS &&
           super_offset (n) + BT_SUPER_SIZE <= dev->units * m->ss; n++)
      ;
    if (n == 0)
      continue;
    obj = vbm_fsmap_meta (dev->fm, "<superblock>",
                          (uint64_t) n * BT_SUPER_SIZE);
    if (obj == -1)
      return -1;
    for (i = 0; i < n; i++) {
      uint64_t u = super_offset (i) / m->ss;
      uint64_t k = (BT_SUPER_SIZE + m->ss - 1) / m->ss;

      if (vbm_fsmap_units (dev->fm, obj, u, k, -1, 0) == -1 ||
          vbm_fsmap_allocated (dev->fm, u, k) == -1)
        return -1;
    }
    if (vbm_fsmap_flush (dev->fm) == -1)
      return -1;
    vbm_fsmap_end_object (dev->fm, "<superblock>");
  }
  return 0;
}

/* ---- Tree blocks. ---- */

static const char *
tree_name (uint64_t id)
{
  switch (id) {
  case BT_ROOT_TREE: return "<root tree>";
  case BT_EXTENT_TREE: return "<extent tree>";
  case BT_CHUNK_TREE: return "<chunk tree>";
  case BT_DEV_TREE: return "<dev tree>";
  case BT_FS_TREE: return "<fs tree>";
  case BT_CSUM_TREE: return "<csum tree>";
  case BT_QUOTA_TREE: return "<quota tree>";
  case BT_UUID_TREE: return "<uuid tree>";
  case BT_FREE_SPACE_TREE: return "<free space tree>";
  case BT_BLOCK_GROUP_TREE: return "<block group tree>";
  case BT_RAID_STRIPE_TREE: return "<raid stripe tree>";
  case BT_TREE_LOG: return "<log tree>";
  case BT_TREE_RELOC: return "<reloc tree>";
  case BT_DATA_RELOC_TREE: return "<data reloc tree>";
  default: return NULL;
  }
}

struct tree_pass {
  struct btrfs_map *m;
  uint64_t *bytes;              /* per device: counting */
  int64_t *obj;                 /* per device: mapping */
};

static int
count_piece (void *opaque, const struct bt_piece *p)
{
  struct tree_pass *t = opaque;

  if (p->stripe->dev >= 0)
    t->bytes[p->stripe->dev] += p->len;
  return 0;
}

static int
map_piece (void *opaque, const struct bt_piece *p)
{
  struct tree_pass *t = opaque;
  struct btrfs_map *m = t->m;
  struct bt_dev *d;

  if (p->stripe->dev < 0)
    return 0;
  d = &m->devs.ptr[p->stripe->dev];
  return vbm_fsmap_units (d->fm, t->obj[p->stripe->dev], p->physical / m->ss,
                          p->len / m->ss, -1, VBM_EXTENT_TREE) == -1 ? -1 : 0;
}

static int
map_tree (struct btrfs_map *m, const struct bt_tree *tree,
          struct tree_pass *t)
{
  const char *name = tree->name ? tree->name : tree_name (tree->id);
  char buf[64];
  uint64_t unmapped = 0;
  size_t i, d;

  if (tree->blocks.len == 0)
    return 0;
  for (d = 0; d < m->devs.len; d++)
    t->bytes[d] = 0;
  for (i = 0; i < tree->blocks.len; i++)
    if (bt_resolve (m, tree->blocks.ptr[i], m->ns, count_piece, t,
                    &unmapped) == -1)
      return -1;
  if (name == NULL) {
    if (tree->id >= BT_FIRST_FREE && tree->id <= BT_LAST_FREE)
      snprintf (buf, sizeof buf, "<fs tree %" PRIu64 ">", tree->id);
    else
      snprintf (buf, sizeof buf, "<tree %" PRId64 ">", (int64_t) tree->id);
  }
  for (d = 0; d < m->devs.len; d++) {
    struct bt_dev *dev = &m->devs.ptr[d];

    t->obj[d] = 0;
    if (!dev->present || t->bytes[d] == 0)
      continue;
    t->obj[d] = name
      ? vbm_fsmap_meta (dev->fm, name, t->bytes[d])
      : vbm_fsmap_object (dev->fm, VBM_KIND_METADATA, buf, 0, t->bytes[d],
                          0);
    if (t->obj[d] == -1)
      return -1;
  }
  for (i = 0; i < tree->blocks.len; i++)
    if (bt_resolve (m, tree->blocks.ptr[i], m->ns, map_piece, t,
                    &unmapped) == -1)
      return -1;
  for (d = 0; d < m->devs.len; d++)
    if (m->devs.ptr[d].present) {
      if (vbm_fsmap_flush (m->devs.ptr[d].fm) == -1)
        return -1;
      vbm_fsmap_end_object (m->devs.ptr[d].fm, name ? name : buf);
    }
  return 0;
}

int
bt_map_tree_blocks (struct btrfs_map *m)
{
  struct tree_pass t = { .m = m };
  size_t i;
  int r = -1;

  t.bytes = calloc (m->devs.len + 1, sizeof *t.bytes);
  t.obj = calloc (m->devs.len + 1, sizeof *t.obj);
  if (t.bytes == NULL || t.obj == NULL) {
    bt_nomem (m);
    goto out;
  }
  for (i = 0; i < m->trees.len; i++)
    if (map_tree (m, &m->trees.ptr[i], &t) == -1)
      goto out;
  r = 0;
 out:
  free (t.bytes);
  free (t.obj);
  return r;
}

/* ---- RAID5/6 parity. ---- */

/* Rows of a chunk inside the device of each of its stripes. */
static uint64_t
rows_inside (const struct btrfs_map *m, const struct bt_chunk *c)
{
  uint64_t rows = c->dev_len / c->stripe_len;
  unsigned i;

  for (i = 0; i < c->num_stripes; i++) {
    const struct bt_stripe *s = &m->chunks.stripes.ptr[c->first_stripe + i];
    uint64_t end, r;

    if (s->dev < 0)
      continue;
    end = dev_limit (m, &m->devs.ptr[s->dev]) * m->ss;
    r = s->offset >= end ? 0 : (end - s->offset) / c->stripe_len;
    if (r < rows)
      rows = r;
  }
  return rows;
}

/* Maps (or counts) parity sectors [u, u+n) of device d, leaving out
 * the superblock copies: a full stripe over one is never used, its
 * parity never written.
 */
static int
parity_units (struct btrfs_map *m, size_t d, uint64_t u, uint64_t n,
              uint64_t *bytes, int64_t *obj)
{
  unsigned i;

  for (i = 0; i < MIRRORS && n > 0; i++) {
    uint64_t su = super_offset (i) / m->ss;
    uint64_t se = (super_offset (i) + BT_SUPER_SIZE + m->ss - 1) / m->ss;

    if (se <= u || su >= u + n)
      continue;
    if (su > u && parity_units (m, d, u, su - u, bytes, obj) == -1)
      return -1;
    n = se >= u + n ? 0 : u + n - se;
    u = se;
  }
  if (n == 0)
    return 0;
  if (obj == NULL) {
    bytes[d] += n * m->ss;
    return 0;
  }
  if (vbm_fsmap_units (m->devs.ptr[d].fm, obj[d], u, n, -1, 0) == -1 ||
      vbm_fsmap_allocated (m->devs.ptr[d].fm, u, n) == -1)
    return -1;
  return 0;
}

static int
parity_pass (struct btrfs_map *m, uint64_t *bytes, int64_t *obj)
{
  size_t i, d;

  for (i = 0; i < m->chunks.v.len; i++) {
    const struct bt_chunk *c = &m->chunks.v.ptr[i];
    uint64_t row, rows;

    if (c->nparity == 0)
      continue;
    rows = rows_inside (m, c);
    for (row = 0; row < rows; row++) {
      struct bt_piece p[2];
      unsigned k, n = bt_chunk_parity (&m->chunks, c, row, p);

      for (k = 0; k < n; k++) {
        if (p[k].stripe->dev < 0)
          continue;
        d = p[k].stripe->dev;
        if (parity_units (m, d, p[k].physical / m->ss, p[k].len / m->ss,
                          bytes, obj) == -1)
          return -1;
      }
    }
  }
  return 0;
}

int
bt_map_parity (struct btrfs_map *m)
{
  uint64_t *bytes = calloc (m->devs.len + 1, sizeof *bytes);
  int64_t *obj = calloc (m->devs.len + 1, sizeof *obj);
  size_t d;
  int r = -1;

  if (bytes == NULL || obj == NULL) {
    bt_nomem (m);
    goto out;
  }
  if (parity_pass (m, bytes, NULL) == -1)
    goto out;
  for (d = 0; d < m->devs.len; d++)
    if (bytes[d] &&
        (obj[d] = vbm_fsmap_meta (m->devs.ptr[d].fm, "<raid parity>",
                                  bytes[d])) == -1)
      goto out;
  if (parity_pass (m, bytes, obj) == -1)
    goto out;
  for (d = 0; d < m->devs.len; d++)
    if (bytes[d]) {
      if (vbm_fsmap_flush (m->devs.ptr[d].fm) == -1)
        goto out;
      vbm_fsmap_end_object (m->devs.ptr[d].fm, "<raid parity>");
    }
  r = 0;
 out:
  free (bytes);
  free (obj);
  return r;
}

/* ---- Accounting. ---- */

static int
alloc_piece (void *opaque, const struct bt_piece *p)
{
  struct btrfs_map *m = opaque;
  const struct bt_dev *d;
  uint64_t u, e, lim;

  if (p->stripe->dev < 0)
    return 0;
  d = &m->devs.ptr[p->stripe->dev];
  lim = dev_limit (m, d);
  u = p->physical / m->ss;
  e = (p->physical + p->len + m->ss - 1) / m->ss;
  if (u >= lim)
    return 0;
  return vbm_fsmap_allocated (d->fm, u, (e < lim ? e : lim) - u);
}

/* Without the extent tree: what the free space tree does not say is
 * free, in the block groups it describes.  false if it does not
 * describe every chunk.
 */
static int
fst_allocated (struct btrfs_map *m, uint64_t *unmapped)
{
  size_t i, g = 0, f = 0;

  for (i = 0; i < m->chunks.v.len; i++) {
    while (g < m->fst_groups.len &&
           m->fst_groups.ptr[g].start < m->chunks.v.ptr[i].logical)
      g++;
    if (g == m->fst_groups.len ||
        m->fst_groups.ptr[g].start != m->chunks.v.ptr[i].logical)
      return 0;
  }
  for (g = 0; g < m->fst_groups.len; g++) {
    uint64_t pos = m->fst_groups.ptr[g].start;
    uint64_t end = pos + m->fst_groups.ptr[g].len;

    for (; f < m->fst_free.len && m->fst_free.ptr[f].start < end; f++) {
      const struct bt_range *r = &m->fst_free.ptr[f];

      if (r->start > pos &&
          bt_resolve (m, pos, r->start - pos, alloc_piece, m,
                      unmapped) == -1)
        return -1;
      if (r->start + r->len > pos)
        pos = r->start + r->len;
      /* Merged free ranges may run into the next group. */
      if (pos >= end)
        break;
    }
    if (pos < end &&
        bt_resolve (m, pos, end - pos, alloc_piece, m, unmapped) == -1)
      return -1;
  }
  return 1;
}

int
bt_map_unclaimed (struct btrfs_map *m)
{
  uint64_t unmapped = 0;
  size_t i, d;
  int r;

  if (m->extent_tree_ok) {
    for (i = 0; i < m->allocated.len; i++)
      if (bt_resolve (m, m->allocated.ptr[i].start, m->allocated.ptr[i].len,
                      alloc_piece, m, &unmapped) == -1)
        return -1;
    if (unmapped)
      bt_warn (m, "btrfs extent tree: %" PRIu64 " byte(s) of extents in no "
               "chunk", unmapped);
  }
  else if (m->fst_ok && (r = fst_allocated (m, &unmapped)) != 0) {
    if (r == -1)
      return -1;
    bt_warn (m, "btrfs extent tree damaged: free space inside chunks from "
             "the free space tree");
  }
  else {
    /* Without the whole extent tree, every chunk is said in use: the
     * safe side.
     */
    bt_warn (m, "btrfs extent tree damaged: chunks are taken as in use "
             "(no free space inside chunks)");
    for (i = 0; i < m->chunks.v.len; i++) {
      const struct bt_chunk *c = &m->chunks.v.ptr[i];
      unsigned k;

      for (k = 0; k < c->num_stripes; k++) {
        const struct bt_stripe *s =
          &m->chunks.stripes.ptr[c->first_stripe + k];
        struct bt_dev *dev;
        uint64_t u, e, lim;

        if (s->dev < 0)
          continue;
        dev = &m->devs.ptr[s->dev];
        lim = dev_limit (m, dev);
        u = s->offset / m->ss;
        e = (s->offset + c->dev_len) / m->ss;
        if (u < lim &&
            vbm_fsmap_allocated (dev->fm, u, (e < lim ? e : lim) - u) == -1)
          return -1;
      }
    }
  }

  for (d = 0; d < m->devs.len; d++) {
    struct bt_dev *dev = &m->devs.ptr[d];
    struct vbm_fsmap_unclaimed u;

    if (!dev->present)
      continue;
    if (vbm_fsmap_sweep (dev->fm, &u) == -1)
      return -1;
    /* Normal in btrfs, no warning: an extent is freed only when no
     * file uses any part of it, so overwritten parts stay allocated.
     */
    if (u.unaccounted)
      vbm_debug (m->ctx, "%s: %" PRIu64 " sector(s) in use per the btrfs "
                 "extent tree belong to no file or tree (parts of extents "
                 "no file uses any more): <unaccounted>",
                 dev->mem->vol.device, u.unaccounted);
    if (u.claimed_free)
      vbm_fsmap_warn (dev->fm, "%" PRIu64 " sector(s) of files or trees are "
                      "free per the btrfs extent tree", u.claimed_free);
    if (dev->units * m->ss < dev->mem->vol.length &&
        vbm_fsmap_beyond (dev->fm, dev->units * m->ss, 0, 0) == -1)
      return -1;
  }
  return 0;
}
