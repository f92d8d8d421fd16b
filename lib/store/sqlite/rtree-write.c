/* Writing an SQLite R*Tree bottom-up.
 *
 * Inserting rows into an R*Tree one by one costs 6-8 us each (every
 * insert descends the tree, and splits re-sort nodes), which was most
 * of the time spent building a map.  A map is written once and then
 * only read, so we pack the tree bottom-up instead (sorted by disk and
 * start, every node full), writing the R*Tree's three shadow tables
 * as b-trees (dbwrite.h).  Their layout is part of SQLite's stable file
 * format (ext/rtree/rtree.c):
 *
 *   %_node(nodeno INTEGER PRIMARY KEY, data BLOB)   node 1 is the root
 *   %_rowid(rowid INTEGER PRIMARY KEY, nodeno)      entry -> its leaf
 *   %_parent(nodeno INTEGER PRIMARY KEY, parentnode) non-root nodes
 *
 * A node blob is exactly as long as the empty root node that CREATE
 * VIRTUAL TABLE writes: a 2-byte depth of the tree (root only; leaves
 * are depth 0), a 2-byte cell count, then cells of an 8-byte rowid (a
 * child node number in inner nodes) and 2 x dimensions 4-byte floats,
 * all big-endian.  SQLite's rtreecheck() verifies the result (tests).
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "dbwrite.h"
#include "hugepages.h"
#include "rtree-write.h"

#define CELL_SIZE (8 + 4 * 4)
#define MAX_DEPTH 40            /* SQLite's RTREE_MAX_DEPTH */

/* Rounding outwards keeps every range inside its 32-bit float box. */
static float
round_down (uint64_t x)
{
  float f = (float) x;

  if (f >= 0x1p64f || (uint64_t) f > x)
    f = nextafterf (f, 0);
  return f;
}

static float
round_up (uint64_t x)
{
  float f = (float) x;

  if (f < 0x1p64f && (uint64_t) f < x)
    f = nextafterf (f, INFINITY);
  return f;
}

int
rtree_cells_add (rtree_cells *cells, int64_t id, unsigned disk,
                 uint64_t start, uint64_t end)
{
  struct rtree_cell c = {
    .id = id,
    .c = { round_down (disk), round_up (disk), round_down (start),
           round_up (end) },
  };

  return rtree_cells_append (cells, c);
}

/* The sort key: disk, then start.  Coordinates are never negative,
 * and the bits of non-negative floats order as the floats do.
 */
static uint64_t
cell_key (const struct rtree_cell *c)
{
  uint32_t disk, start;

  memcpy (&disk, &c->c[0], 4);
  memcpy (&start, &c->c[2], 4);
  return (uint64_t) disk << 32 | start;
}

/* Sorts by disk and start, stably (ties stay in id order, so the tree
 * is the same from run to run): a radix sort, byte by byte from the
 * least significant, skipping bytes all keys share.  It needs a second
 * array, but no comparisons and no allocator's scratch space.
 */
static int
sort_cells (rtree_cells *cells)
{
  size_t count[8][256] = { { 0 } }, n = cells->len, i, pos;
  struct rtree_cell *a = cells->ptr, *b, *t;
  unsigned byte, v;
  uint64_t k;

  b = malloc (n * sizeof *b);
  if (b == NULL)
    return -1;
  vbm_advise_huge (b, n * sizeof *b);
  for (i = 0; i < n; ++i)
    for (k = cell_key (&a[i]), byte = 0; byte < 8; ++byte, k >>= 8)
      ++count[byte][k & 0xff];
  for (byte = 0; byte < 8; ++byte) {
    if (count[byte][(cell_key (&a[0]) >> (8 * byte)) & 0xff] == n)
      continue;
    for (v = 0, pos = 0; v < 256; ++v) {
      size_t c = count[byte][v];

      count[byte][v] = pos;
      pos += c;
    }
    for (i = 0; i < n; ++i)
      b[count[byte][(cell_key (&a[i]) >> (8 * byte)) & 0xff]++] = a[i];
    t = a, a = b, b = t;
  }
  if (a != cells->ptr) {
    memcpy (cells->ptr, a, n * sizeof *a);
    b = a;
  }
  free (b);
  return 0;
}

/* Nodes are numbered from the root (1) down, level by level, so that
 * every shadow table is written in rowid order.
 */
struct level {
  size_t nodes;                 /* nodes on this level */
  int64_t first;                /* number of its first node */
  rtree_cells items;            /* the cells its nodes hold */
};

/* Node K of a level of N nodes holds items [lo, hi): spread evenly
 * rather than leave one node nearly empty.
 */
static void
node_range (const struct level *l, size_t k, size_t *lo, size_t *hi)
{
  *lo = l->items.len * k / l->nodes;
  *hi = l->items.len * (k + 1) / l->nodes;
}

/* The box around cells[0..n). */
static struct rtree_cell
bounds (int64_t nodeno, const struct rtree_cell *cells, size_t n)
{
  struct rtree_cell b = cells[0];
  size_t i;

  b.id = nodeno;
  for (i = 1; i < n; ++i) {
    b.c[0] = fminf (b.c[0], cells[i].c[0]);
    b.c[1] = fmaxf (b.c[1], cells[i].c[1]);
    b.c[2] = fminf (b.c[2], cells[i].c[2]);
    b.c[3] = fmaxf (b.c[3], cells[i].c[3]);
  }
  return b;
}

static void
encode_node (unsigned char *p, size_t node_size, unsigned depth,
             const struct rtree_cell *cells, size_t n)
{
  size_t i;
  int j;

  memset (p, 0, node_size);
  db_put_be (p, depth, 2);
  db_put_be (p + 2, n, 2);
  for (i = 0, p += 4; i < n; ++i, p += CELL_SIZE) {
    db_put_be (p, (uint64_t) cells[i].id, 8);
    for (j = 0; j < 4; ++j) {
      uint32_t bits;

      memcpy (&bits, &cells[i].c[j], 4);
      db_put_be (p + 8 + 4 * j, bits, 4);
    }
  }
}

static int
add_pair (struct db_table *t, int64_t rowid, int64_t v, struct vbm_error *err)
{
  struct db_value vals[2] = { DB_NULLV, DB_INTV (v) };

  return db_table_append (t, rowid, vals, 2, err);
}

static int
write_tables (struct db_file *f, const struct rtree_roots *roots,
              size_t node_size, struct level *lv, unsigned depth,
              size_t nentries, struct vbm_error *err)
{
  struct db_table *node, *parent = NULL, *rowid = NULL;
  unsigned char *blob = NULL;
  uint32_t *leaf_of = NULL;     /* entry id -> its leaf's number */
  size_t k, i, lo, hi;
  unsigned l;
  int r = -1;

  node = db_table_new (f, roots->node, err);
  if (node == NULL ||
      (parent = db_table_new (f, roots->parent, err)) == NULL ||
      (rowid = db_table_new (f, roots->rowid, err)) == NULL)
    goto out;
  blob = malloc (node_size);
  leaf_of = calloc (nentries + 1, sizeof *leaf_of);
  if (blob == NULL || leaf_of == NULL) {
    vbm_set_error (err, errno, "R*Tree: %s", strerror (errno));
    goto out;
  }
  for (l = depth + 1; l-- > 0; ) {
    for (k = 0; k < lv[l].nodes; ++k) {
      struct db_value vals[2] = { DB_NULLV, DB_BLOBV (blob, node_size) };

      node_range (&lv[l], k, &lo, &hi);
      encode_node (blob, node_size, l == depth ? depth : 0,
                   &lv[l].items.ptr[lo], hi - lo);
      if (db_table_append (node, lv[l].first + k, vals, 2, err) == -1)
        goto out;
      for (i = lo; i < hi; ++i) {
        if (l > 0) {
          if (add_pair (parent, lv[l].items.ptr[i].id, lv[l].first + k,
                        err) == -1)
            goto out;
        }
        else {
          int64_t id = lv[0].items.ptr[i].id;

          /* The store numbers extents 1, 2, ... */
          if (id < 1 || (uint64_t) id > nentries || leaf_of[id]) {
            vbm_set_error (err, EINVAL, "R*Tree: bad entry id");
            goto out;
          }
          leaf_of[id] = lv[0].first + k;
        }
      }
    }
  }
  for (i = 1; i <= nentries; ++i)
    if (add_pair (rowid, i, leaf_of[i], err) == -1)
      goto out;
  r = 0;
 out:
  if (r == 0) {
    r = db_table_finish (node, err);
    if (db_table_finish (parent, err) == -1 ||
        db_table_finish (rowid, err) == -1)
      r = -1;
  }
  else {
    db_table_free (node);
    db_table_free (parent);
    db_table_free (rowid);
  }
  free (blob);
  free (leaf_of);
  return r;
}

int
rtree_write (struct db_file *f, const struct rtree_roots *roots,
             size_t node_size, rtree_cells *cells, struct vbm_error *err)
{
  struct level lv[MAX_DEPTH + 1] = { 0 };
  size_t max_cells, k, lo, hi;
  unsigned depth, l;
  int r = -1;

  if (cells->len == 0)
    return 0;                   /* the empty tree SQLite made */
  if (node_size < 4 + 4 * CELL_SIZE || node_size > 65536) {
    vbm_set_error (err, EINVAL, "R*Tree: unexpected node size %zu", node_size);
    return -1;
  }
  max_cells = (node_size - 4) / CELL_SIZE;
  if (sort_cells (cells) == -1) {
    vbm_set_error (err, errno, "R*Tree: %s", strerror (errno));
    return -1;
  }

  /* How many nodes on each level, from the leaves up. */
  lv[0].items = *cells;
  lv[0].nodes = (cells->len + max_cells - 1) / max_cells;
  for (depth = 0; lv[depth].nodes > 1; ++depth) {
    if (depth == MAX_DEPTH) {
      vbm_set_error (err, EINVAL, "R*Tree: tree too deep");
      return -1;
    }
    lv[depth + 1].nodes = (lv[depth].nodes + max_cells - 1) / max_cells;
  }
  lv[depth].first = 1;
  for (l = depth; l-- > 0; )
    lv[l].first = lv[l + 1].first + lv[l + 1].nodes;

  /* Each level's items are the boxes of the nodes below. */
  for (l = 1; l <= depth; ++l) {
    for (k = 0; k < lv[l - 1].nodes; ++k) {
      node_range (&lv[l - 1], k, &lo, &hi);
      if (rtree_cells_append (&lv[l].items,
                              bounds (lv[l - 1].first + k,
                                      &lv[l - 1].items.ptr[lo], hi - lo))
          == -1) {
        vbm_set_error (err, errno, "R*Tree: %s", strerror (errno));
        goto out;
      }
    }
  }
  r = write_tables (f, roots, node_size, lv, depth, cells->len, err);
 out:
  for (l = 1; l <= depth; ++l)
    free (lv[l].items.ptr);
  return r;
}
