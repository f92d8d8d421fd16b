/* dm-thin pool metadata (the _tmeta sub-LV of a thin pool): which
 * data blocks of the pool hold the blocks of a thin volume.  4 KiB
 * metadata blocks; the superblock (block 0) roots a two-level btree:
 * thin device id -> root of that device's btree, virtual block ->
 * (data block << 24 | time).  Node: a 32-byte header (flags: 1
 * internal, 2 leaf; its own block number; entry counts; value size),
 * then max_entries keys, then max_entries values.  Reads go through
 * a callback, so that the tests and the fuzzer can feed any bytes;
 * every node is checked (its block number, counts that fit the
 * block), the walk is bounded by the metadata's size and depth.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "parttable.h"
#include "lvm.h"

#define BLOCK 4096
#define THIN_MAGIC 27022010
#define NODE_HEADER 32
#define INTERNAL_NODE 1
#define LEAF_NODE 2
#define MAX_DEPTH 16

struct walker {
  vbm_lvm_read_fn read;
  void *opaque;
  uint64_t nr_blocks;
  uint64_t visits;              /* nodes read, at most nr_blocks */
  unsigned char buf[MAX_DEPTH + 1][BLOCK];
  struct vbm_lvm_thin_map *map;
  struct vbm_error *why;
};

static int
bad (struct walker *w, const char *what, uint64_t block)
{
  vbm_set_error (w->why, EINVAL, "thin pool metadata block %" PRIu64
                 ": %s", block, what);
  return -1;
}

/* Reads and checks node block into w->buf[depth]. */
static int
read_node (struct walker *w, uint64_t block, unsigned depth,
           uint32_t *flags, uint32_t *nr, uint32_t *max)
{
  unsigned char *b = w->buf[depth];
  uint32_t value_size;

  if (depth > MAX_DEPTH)
    return bad (w, "btree too deep", block);
  if (block == 0 || block >= w->nr_blocks)
    return bad (w, "points outside the metadata", block);
  if (++w->visits > w->nr_blocks)
    return bad (w, "more nodes visited than there are blocks (a loop?)",
                block);
  if (w->read (w->opaque, block * BLOCK, b, BLOCK) == -1)
    return -1;
  *flags = vbm_le32 (b + 4);
  *nr = vbm_le32 (b + 16);
  *max = vbm_le32 (b + 20);
  value_size = vbm_le32 (b + 24);
  if (vbm_le64 (b + 8) != block)
    return bad (w, "is not the btree node it should be", block);
  if ((*flags != INTERNAL_NODE && *flags != LEAF_NODE) || value_size != 8 ||
      *max > (BLOCK - NODE_HEADER) / 16 || *nr > *max)
    return bad (w, "invalid btree node header", block);
  return 0;
}

static uint64_t
key (struct walker *w, unsigned depth, uint32_t i)
{
  return vbm_le64 (w->buf[depth] + NODE_HEADER + 8 * i);
}

static uint64_t
value (struct walker *w, unsigned depth, uint32_t max, uint32_t i)
{
  return vbm_le64 (w->buf[depth] + NODE_HEADER + 8 * max + 8 * i);
}

/* The value of key k in the btree at root, or 1 if it is absent. */
static int
lookup (struct walker *w, uint64_t root, uint64_t k, uint64_t *v)
{
  unsigned depth = 0;
  uint64_t block = root;

  for (;;) {
    uint32_t flags, nr, max, i;

    if (read_node (w, block, depth, &flags, &nr, &max) == -1)
      return -1;
    if (flags == LEAF_NODE) {
      for (i = 0; i < nr; ++i)
        if (key (w, depth, i) == k) {
          *v = value (w, depth, max, i);
          return 0;
        }
      return 1;
    }
    /* The last child whose first key is not above k. */
    for (i = 0; i + 1 < nr && key (w, depth, i + 1) <= k; ++i)
      ;
    if (nr == 0)
      return 1;
    block = value (w, depth, max, i);
    depth++;
  }
}

static int
add_mapping (struct walker *w, uint64_t vblock, uint64_t dblock)
{
  struct vbm_lvm_thin_map *m = w->map;
  struct vbm_lvm_thin_run *r;

  if (m->n > 0) {
    r = &m->runs[m->n - 1];
    if (r->vblock + r->count == vblock && r->dblock + r->count == dblock) {
      r->count++;
      return 0;
    }
    if (vblock < r->vblock + r->count)
      return bad (w, "thin device blocks out of order", 0);
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 64;

    r = realloc (m->runs, cap * sizeof *r);
    if (r == NULL) {
      vbm_set_error (w->why, ENOMEM, "thin pool metadata: out of memory");
      return -1;
    }
    m->runs = r;
    m->cap = cap;
  }
  m->runs[m->n++] = (struct vbm_lvm_thin_run) { vblock, dblock, 1 };
  return 0;
}

/* Every mapping of the device btree at block, in key order. */
static int
walk (struct walker *w, uint64_t block, unsigned depth)
{
  uint32_t flags, nr, max, i;

  if (read_node (w, block, depth, &flags, &nr, &max) == -1)
    return -1;
  for (i = 0; i < nr; ++i) {
    uint64_t v = value (w, depth, max, i);

    if (flags == LEAF_NODE) {
      if (add_mapping (w, key (w, depth, i), v >> 24) == -1)
        return -1;
    }
    else if (walk (w, v, depth + 1) == -1)
      return -1;
    /* buf[depth] is this node's own, untouched by the children. */
  }
  return 0;
}

int
vbm_lvm_thin_read (vbm_lvm_read_fn read, void *opaque, uint64_t meta_size,
                   uint64_t dev_id, struct vbm_lvm_thin_map *map,
                   struct vbm_error *why)
{
  struct walker *w;
  unsigned char *sb;
  uint64_t root, dev_root;
  int r = -1;

  memset (map, 0, sizeof *map);
  w = calloc (1, sizeof *w);
  if (w == NULL) {
    vbm_set_error (why, ENOMEM, "thin pool metadata: out of memory");
    return -1;
  }
  *w = (struct walker) { .read = read, .opaque = opaque, .map = map,
                         .why = why };
  sb = w->buf[0];
  if (meta_size < BLOCK || read (opaque, 0, sb, BLOCK) == -1) {
    if (meta_size < BLOCK)
      vbm_set_error (why, EINVAL, "thin pool metadata too small");
    goto out;
  }
  if (vbm_le64 (sb + 32) != THIN_MAGIC) {
    vbm_set_error (why, EINVAL, "no thin pool superblock");
    goto out;
  }
  w->nr_blocks = vbm_le64 (sb + 344);
  if (w->nr_blocks > meta_size / BLOCK)
    w->nr_blocks = meta_size / BLOCK;
  root = vbm_le64 (sb + 320);
  map->block_size = (uint64_t) vbm_le32 (sb + 336) * VBM_LVM_SECTOR;
  if (map->block_size == 0 || map->block_size > (UINT64_C (1) << 30)) {
    vbm_set_error (why, EINVAL, "invalid thin pool data block size");
    goto out;
  }
  r = lookup (w, root, dev_id, &dev_root);
  if (r == 1)
    vbm_set_error (why, ENOENT, "thin device %" PRIu64 " is not in the "
                   "pool's metadata", dev_id);
  if (r != 0)
    goto out;
  r = walk (w, dev_root, 0);
 out:
  free (w);
  if (r != 0) {
    vbm_lvm_thin_map_free (map);
    return -1;
  }
  return 0;
}

void
vbm_lvm_thin_map_free (struct vbm_lvm_thin_map *map)
{
  free (map->runs);
  memset (map, 0, sizeof *map);
}
