/* Writing an SQLite R*Tree's shadow tables bottom-up (rtree-write.c). */
#ifndef VBM_RTREE_WRITE_H
#define VBM_RTREE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "vector.h"

struct db_file;
struct vbm_error;

/* One cell of a 2-dimensional R*Tree: the rowid (or child node number)
 * and (lo0, hi0, lo1, hi1) as the 32-bit floats SQLite stores.
 */
struct rtree_cell {
  int64_t id;
  float c[4];
};
DEFINE_VECTOR_TYPE (rtree_cells, struct rtree_cell);

/* Appends the entry (id, disk, [start, end)) rounded outwards. */
extern int rtree_cells_add (rtree_cells *cells, int64_t id, unsigned disk,
                            uint64_t start, uint64_t end);

/* The root pages of the R*Tree's shadow tables %_node, %_parent and
 * %_rowid, as CREATE VIRTUAL TABLE made them.
 */
struct rtree_roots {
  uint32_t node, parent, rowid;
};

/* Fills the empty R*Tree with CELLS (which it sorts), whose ids are 1,
 * 2, ... CELLS->len.  NODE_SIZE is the length of the root node's blob
 * SQLite wrote.
 */
extern int rtree_write (struct db_file *f, const struct rtree_roots *roots,
                        size_t node_size, rtree_cells *cells,
                        struct vbm_error *err);

#endif /* VBM_RTREE_WRITE_H */
