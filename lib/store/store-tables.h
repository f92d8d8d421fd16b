/* The map's big b-trees, written straight into the file
 * (store-tables.c): the objects and extents tables, their indexes and
 * the R*Tree.
 */
#ifndef VBM_STORE_TABLES_H
#define VBM_STORE_TABLES_H

#include <stdint.h>

#include "rtree-write.h"

struct vbm_error;
struct vbm_object;
struct map_tables;

/* Where SQLite put the empty b-trees. */
struct map_roots {
  uint32_t objects, extents, objects_path, extents_object;
  struct rtree_roots rtree;
  size_t rtree_node_size;
};

extern struct map_tables *map_tables_open (const char *path,
                                           const struct map_roots *roots,
                                           struct vbm_error *err);
/* Rows of the tables (and the extents' R*Tree cells).  Ids are 1, 2,
 * ... in the order of the calls.
 */
extern int map_tables_add_object (struct map_tables *t, int64_t id,
                                  const struct vbm_object *obj,
                                  struct vbm_error *err);
extern int map_tables_add_extent (struct map_tables *t, int64_t id,
                                  int64_t object, unsigned disk,
                                  uint64_t start, uint64_t end,
                                  int64_t object_offset, unsigned flags,
                                  struct vbm_error *err);

/* Their index entries, kept for the end.  These touch none of what
 * the above do, so the two kinds of calls may be made by two threads at
 * once (the store's mapping thread and its writer thread share the work
 * so).
 */
extern int map_tables_index_object (struct map_tables *t, int64_t id,
                                    const char *device, const char *path,
                                    struct vbm_error *err);
extern int map_tables_index_extent (struct map_tables *t, int64_t id,
                                    int64_t object, int64_t object_offset,
                                    struct vbm_error *err);
/* About N more objects and extents are coming: room for the rows'
 * side (call it as the add_* calls) and the keys' side.
 */
extern void map_tables_expect_rows (struct map_tables *t, uint64_t n);
extern void map_tables_expect_keys (struct map_tables *t, uint64_t n);

/* Writes the rest, closes the file and frees T. */
extern int map_tables_finish (struct map_tables *t, struct vbm_error *err);
extern void map_tables_abort (struct map_tables *t);

#endif /* VBM_STORE_TABLES_H */
