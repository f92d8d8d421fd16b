/* Internal interfaces of libvirtbmap shared by every stage: errors,
 * the map store's interface, the CRC.  The mapping context the stages
 * write through is in ctx.h; each stage's own interface in its folder
 * (volume/volumes.h, fs/fs.h, fs/fsmap.h).
 */
#ifndef VBM_INTERNAL_H
#define VBM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtbmap.h"

#define VBM_SCHEMA_VERSION 1

/* A map's kind column as one of VBM_KIND_*, or '?': a map file is
 * input too, and callers print the kind as is (in JSON, in TSV).
 */
static inline char
vbm_kind_of (const char *kind)
{
  if (kind && kind[0] && kind[1] == '\0' && strchr ("vplmdfu", kind[0]))
    return kind[0];
  return '?';
}

/* ---- Errors (errors.c). ---- */

extern void vbm_set_error (struct vbm_error *err, int errnum,
                           const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Prefixes an existing error message with context. */
extern void vbm_prefix_error (struct vbm_error *err, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

/* ---- The map store (store.c): an SQLite file being written. ---- */

struct vbm_store;

/* An object as the mappers describe it.  Strings are copied. */
struct vbm_object {
  int64_t parent;               /* object id of the container, 0 for none */
  unsigned disk;
  char kind;                    /* VBM_KIND_* */
  const char *device;           /* /dev/sda1 */
  const char *path;             /* file path, or a <description> */
  uint64_t inode;               /* 0 if not applicable */
  uint64_t size;                /* object size in bytes */
  unsigned flags;               /* VBM_OBJECT_* */
  const char *fstype;           /* "ext4", for partitions holding one */
};

extern struct vbm_store *vbm_store_create (const char *tmppath,
                                           struct vbm_error *err);
/* Commits and closes (returns -1 on error), or rolls back and closes. */
extern int vbm_store_finish (struct vbm_store *st, struct vbm_error *err);
extern void vbm_store_abort (struct vbm_store *st);
extern int vbm_store_add_disk (struct vbm_store *st, unsigned disk,
                               const struct vbm_source *src,
                               const char *device, struct vbm_error *err);
extern int64_t vbm_store_add_object (struct vbm_store *st,
                                     const struct vbm_object *obj,
                                     struct vbm_error *err);
/* Another name (hard link) of an object. */
extern int vbm_store_add_name (struct vbm_store *st, int64_t object,
                               const char *path, struct vbm_error *err);
/* A byte range [start, start+len) of the disk; object_offset -1 when
 * the range has no position inside the object (tree blocks).
 */
extern int vbm_store_add_extent (struct vbm_store *st, int64_t object,
                                 unsigned disk, uint64_t start, uint64_t len,
                                 int64_t object_offset, unsigned flags,
                                 struct vbm_error *err);
extern void vbm_store_expect (struct vbm_store *st, uint64_t n);
extern int vbm_store_set_fstype (struct vbm_store *st, int64_t object,
                                 const char *fstype, struct vbm_error *err);
extern int vbm_store_add_warning (struct vbm_store *st, unsigned disk,
                                  const char *msg, struct vbm_error *err);
extern int vbm_store_set_meta (struct vbm_store *st, const char *key,
                               const char *value, struct vbm_error *err);

/* map.c: the SQLite handle of an open map, for index.c. */
struct sqlite3;
extern struct sqlite3 *vbm_map_db (struct vbm_map *map);

/* crc32.c: the CRC-32 of zlib and GPT. */
extern uint32_t vbm_crc32 (uint32_t crc, const void *buf, size_t len);

#endif /* VBM_INTERNAL_H */
