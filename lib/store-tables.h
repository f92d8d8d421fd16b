/* The map's big b-trees, written straight into the file
 * (store-tables.c): the objects and extents tables, their indexes and
 * the R*Tree.  Used by one thread at a time.
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
/* Ids are 1, 2, ... in the order of the calls. */
extern int map_tables_add_object (struct map_tables *t, int64_t id,
                                  const struct vbm_object *obj,
                                  struct vbm_error *err);
extern int map_tables_add_extent (struct map_tables *t, int64_t id,
                                  int64_t object, unsigned disk,
                                  uint64_t start, uint64_t end,
                                  int64_t object_offset, unsigned flags,
                                  struct vbm_error *err);
extern void map_tables_expect (struct map_tables *t, uint64_t n);
/* Writes the rest, closes the file and frees T. */
extern int map_tables_finish (struct map_tables *t, struct vbm_error *err);
extern void map_tables_abort (struct map_tables *t);

#endif /* VBM_STORE_TABLES_H */
