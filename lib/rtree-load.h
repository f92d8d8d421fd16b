/* Bulk loading of an SQLite R*Tree (rtree-load.c). */
#ifndef VBM_RTREE_LOAD_H
#define VBM_RTREE_LOAD_H

#include <stdint.h>

#include <sqlite3.h>

#include "vector.h"

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

/* Fills the empty R*Tree TABLE (created with 5 columns) with CELLS,
 * which it sorts.  Returns -1 and leaves TABLE untouched (the caller
 * then inserts row by row) if the shadow tables cannot be written.
 */
extern int rtree_bulk_load (sqlite3 *db, const char *table,
                            rtree_cells *cells, struct vbm_error *err);

#endif /* VBM_RTREE_LOAD_H */
