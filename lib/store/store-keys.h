/* The entries of the map's two big indexes, collected while the
 * tables are written and sorted at the end in SQLite's order
 * (store-keys.c).
 */
#ifndef VBM_STORE_KEYS_H
#define VBM_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbwrite.h"
#include "vector.h"

/* objects_path: (device, path, id), the strings in a pool. */
struct path_key {
  uint32_t device;              /* index in devices */
  uint32_t len;                 /* of the path, NO_PATH if NULL */
  size_t off;                   /* of the path in the pool */
  int64_t id;
};
#define NO_PATH UINT32_MAX
DEFINE_VECTOR_TYPE (path_keys, struct path_key);
DEFINE_VECTOR_TYPE (string_vector, char *);
DEFINE_VECTOR_TYPE (bytes, char);

struct path_index {
  path_keys keys;
  bytes pool;
  string_vector devices;
};

/* Keys must be added in id order. */
extern int path_index_add (struct path_index *pi, const char *device,
                           const char *path, int64_t id);
/* Sorts by device, path (NULL first, then bytes, shorter first), id. */
extern int path_index_sort (struct path_index *pi);
/* A db_index_entry_fn over a struct path_index. */
extern unsigned path_index_entry (void *pi, size_t i, struct db_value *vals);
extern void path_index_free (struct path_index *pi);

/* extents_object: (object, offset, id). */
struct extent_key {
  int64_t object, offset;       /* offset -1 for NULL */
  int64_t id;
};
DEFINE_VECTOR_TYPE (extent_keys, struct extent_key);

struct extent_index {
  extent_keys keys;
  bool unsorted;                /* not added in order */
};

extern int extent_index_add (struct extent_index *ei, int64_t object,
                             int64_t offset, int64_t id);
extern void extent_index_sort (struct extent_index *ei);
extern unsigned extent_index_entry (void *ei, size_t i, struct db_value *vals);

#endif /* VBM_STORE_KEYS_H */
