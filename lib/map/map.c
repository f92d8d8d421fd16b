/* Reading a map file: lookups by disk offset and by path. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "sized.h"

struct vbm_map {
  sqlite3 *db;
  sqlite3_stmt *hashes;         /* vbm_map_get_hashes's, once prepared */
};

/* Columns every hit query selects, in the order fill_hit reads them.
 * Objects are numbered parents first, so ordering by object id puts
 * outer objects first.  A hit is on its extent's disk: an LV may span
 * disks, its object is on the first.
 */
/* A flag's value in SQL text. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_ (x)

#define HIT_SELECT \
  "SELECT coalesce(e.disk, o.disk), o.kind, o.device, o.path, o.inode, o.size, o.flags," \
  " e.start, e.end, e.offset, e.flags, o.id, o.fstype"
#define HIT_COLUMNS HIT_SELECT \
  " FROM extents e JOIN objects o ON o.id = e.object"

static void
fill_hit (sqlite3_stmt *s, struct vbm_hit *hit)
{
  const char *kind = (const char *) sqlite3_column_text (s, 1);

  hit->struct_size = sizeof *hit;
  hit->disk = sqlite3_column_int64 (s, 0);
  hit->kind = vbm_kind_of (kind);
  hit->device = (const char *) sqlite3_column_text (s, 2);
  hit->path = (const char *) sqlite3_column_text (s, 3);
  hit->inode = sqlite3_column_int64 (s, 4);
  hit->object_size = sqlite3_column_int64 (s, 5);
  hit->object_flags = sqlite3_column_int64 (s, 6);
  /* NULL for an object without extents: start == end == 0. */
  hit->start = sqlite3_column_int64 (s, 7);
  hit->end = sqlite3_column_int64 (s, 8);
  hit->object_offset = sqlite3_column_type (s, 9) == SQLITE_NULL
    ? -1 : sqlite3_column_int64 (s, 9);
  hit->extent_flags = sqlite3_column_int64 (s, 10);
  hit->object_id = sqlite3_column_int64 (s, 11);
  hit->fstype = (const char *) sqlite3_column_text (s, 12);
  hit->former = NULL;
}

static void
db_error (struct vbm_map *map, struct vbm_error *err, const char *what)
{
  vbm_set_error (err, EIO, "%s: %s", what, sqlite3_errmsg (map->db));
}

struct vbm_map *
vbm_map_open (const char *path, struct vbm_error *err)
{
  struct vbm_map *map;
  sqlite3_stmt *s = NULL;
  int version = -1;

  map = calloc (1, sizeof *map);
  if (map == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return NULL;
  }
  if (sqlite3_open_v2 (path, &map->db, SQLITE_OPEN_READONLY, NULL)
      != SQLITE_OK) {
    db_error (map, err, path);
    goto fail;
  }
  if (sqlite3_prepare_v2 (map->db,
                          "SELECT value FROM meta WHERE key = 'schema_version'",
                          -1, &s, NULL) != SQLITE_OK) {
    vbm_set_error (err, EINVAL, "%s: not a virt-bmap map file (%s)",
                   path, sqlite3_errmsg (map->db));
    goto fail;
  }
  if (sqlite3_step (s) == SQLITE_ROW)
    version = sqlite3_column_int (s, 0);
  sqlite3_finalize (s);
  if (version != VBM_SCHEMA_VERSION) {
    vbm_set_error (err, EINVAL,
                   "%s: map schema version %d, this tool reads version %d",
                   path, version, VBM_SCHEMA_VERSION);
    goto fail;
  }
  return map;

 fail:
  sqlite3_close (map->db);
  free (map);
  return NULL;
}

struct sqlite3 *
vbm_map_db (struct vbm_map *map)
{
  return map->db;
}

void
vbm_map_close (struct vbm_map *map)
{
  if (map) {
    sqlite3_finalize (map->hashes);
    sqlite3_close (map->db);
    free (map);
  }
}

/* Steps a bound statement, calling fn for each row. */
static int64_t
run_hits (struct vbm_map *map, sqlite3_stmt *s,
          int (*fn) (void *, const struct vbm_hit *), void *opaque,
          struct vbm_error *err)
{
  struct vbm_hit hit;
  int64_t n = 0;
  int r;

  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    fill_hit (s, &hit);
    n++;
    if (fn && fn (opaque, &hit) == -1) {
      vbm_set_error (err, ECANCELED, "lookup stopped by the caller");
      n = -1;
      break;
    }
  }
  if (n >= 0 && r != SQLITE_DONE) {
    db_error (map, err, "lookup");
    n = -1;
  }
  sqlite3_finalize (s);
  return n;
}

static sqlite3_stmt *
prepare (struct vbm_map *map, const char *sql, struct vbm_error *err)
{
  sqlite3_stmt *s;

  if (sqlite3_prepare_v2 (map->db, sql, -1, &s, NULL) != SQLITE_OK) {
    db_error (map, err, "map query");
    return NULL;
  }
  return s;
}

int64_t
vbm_map_lookup (struct vbm_map *map, unsigned disk, uint64_t offset,
                int (*fn) (void *, const struct vbm_hit *), void *opaque,
                struct vbm_error *err)
{
  sqlite3_stmt *s;

  if (offset > INT64_MAX) {
    vbm_set_error (err, ERANGE, "offset out of range");
    return -1;
  }
  /* The R*Tree narrows the search; the exact columns decide. */
  s = prepare (map,
               HIT_COLUMNS
               " JOIN extents_rtree r ON r.id = e.id"
               " WHERE r.disk_lo <= ?1 AND r.disk_hi >= ?1"
               " AND r.start <= ?2 AND r.end >= ?2"
               " AND e.disk = ?1 AND e.start <= ?2 AND e.end > ?2"
               " ORDER BY (e.flags & " STRINGIFY (VBM_EXTENT_FORMER) ") != 0,"
               " o.id, e.start", err);
  if (s == NULL)
    return -1;
  sqlite3_bind_int64 (s, 1, disk);
  sqlite3_bind_int64 (s, 2, (sqlite3_int64) offset);
  return run_hits (map, s, fn, opaque, err);
}

int64_t
vbm_map_lookup_path (struct vbm_map *map, const char *device,
                     const char *path,
                     int (*fn) (void *, const struct vbm_hit *), void *opaque,
                     struct vbm_error *err)
{
  sqlite3_stmt *s;

  /* The primary path and the further names as two lookups, each on
   * its own index (objects_path, names_path): an OR of the two keeps
   * SQLite from using either and scans every object.
   */
  s = prepare (map,
               HIT_SELECT
               " FROM objects o LEFT JOIN extents e ON e.object = o.id"
               " WHERE o.id IN"
               " (SELECT id FROM objects WHERE device = ?1 AND path = ?2"
               " UNION SELECT n.object FROM names n"
               " JOIN objects p ON p.id = n.object"
               " WHERE n.path = ?2 AND p.device = ?1)"
               " ORDER BY o.id, e.offset IS NULL, e.offset, e.start", err);
  if (s == NULL)
    return -1;
  sqlite3_bind_text (s, 1, device, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, path, -1, SQLITE_STATIC);
  return run_hits (map, s, fn, opaque, err);
}

int64_t
vbm_map_foreach (struct vbm_map *map,
                 int (*fn) (void *, const struct vbm_hit *), void *opaque,
                 struct vbm_error *err)
{
  sqlite3_stmt *s;

  s = prepare (map,
               HIT_COLUMNS " ORDER BY e.disk, e.start, o.id", err);
  if (s == NULL)
    return -1;
  return run_hits (map, s, fn, opaque, err);
}

int64_t
vbm_map_foreach_object (struct vbm_map *map,
                        int (*fn) (void *, const struct vbm_hit *),
                        void *opaque, struct vbm_error *err)
{
  sqlite3_stmt *s;

  /* Walks objects by id and each one's extents through extents_object
   * (object, offset): no sort of the whole map.
   */
  s = prepare (map,
               HIT_SELECT
               " FROM objects o LEFT JOIN extents e ON e.object = o.id"
               " ORDER BY o.id, e.offset", err);
  if (s == NULL)
    return -1;
  return run_hits (map, s, fn, opaque, err);
}

int64_t
vbm_map_foreach_name (struct vbm_map *map,
                      int (*fn) (void *, int64_t, const char *),
                      void *opaque, struct vbm_error *err)
{
  sqlite3_stmt *s;
  int64_t n = 0;
  int r;

  s = prepare (map, "SELECT object, path FROM names ORDER BY object, rowid",
               err);
  if (s == NULL)
    return -1;
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    n++;
    if (fn (opaque, sqlite3_column_int64 (s, 0),
            (const char *) sqlite3_column_text (s, 1)) == -1) {
      vbm_set_error (err, ECANCELED, "lookup stopped by the caller");
      n = -1;
      break;
    }
  }
  if (n >= 0 && r != SQLITE_DONE) {
    db_error (map, err, "names");
    n = -1;
  }
  sqlite3_finalize (s);
  return n;
}

int
vbm_map_ndisks (struct vbm_map *map, struct vbm_error *err)
{
  sqlite3_stmt *s = prepare (map, "SELECT count(*) FROM disks", err);
  int n = -1;

  if (s == NULL)
    return -1;
  if (sqlite3_step (s) == SQLITE_ROW)
    n = sqlite3_column_int (s, 0);
  else
    db_error (map, err, "disks");
  sqlite3_finalize (s);
  return n;
}

/* Copies a text column, truncating to the buffer. */
static void
copy_column (sqlite3_stmt *s, int col, char *buf, size_t len)
{
  const char *t = (const char *) sqlite3_column_text (s, col);

  snprintf (buf, len, "%s", t ? t : "");
}

/* struct vbm_disk_info of the first version ends with mtime. */
#define DISK_INFO_MIN_SIZE \
  (offsetof (struct vbm_disk_info, mtime) + sizeof (int64_t))

int
vbm_map_get_disk (struct vbm_map *map, unsigned disk,
                  struct vbm_disk_info *info, struct vbm_error *err)
{
  struct vbm_disk_info all = { .struct_size = sizeof all };
  sqlite3_stmt *s;
  int r = -1;

  if (vbm_sized_size (info) < DISK_INFO_MIN_SIZE) {
    vbm_set_error (err, EINVAL, "struct vbm_disk_info: size %zu is too "
                   "small (set it to sizeof (struct vbm_disk_info))",
                   vbm_sized_size (info));
    return -1;
  }
  s = prepare (map, "SELECT device, path, format, size, mtime FROM disks"
               " WHERE disk = ?", err);
  if (s == NULL)
    return -1;
  sqlite3_bind_int64 (s, 1, disk);
  if (sqlite3_step (s) == SQLITE_ROW) {
    all.disk = disk;
    copy_column (s, 0, all.device, sizeof all.device);
    copy_column (s, 1, all.path, sizeof all.path);
    copy_column (s, 2, all.format, sizeof all.format);
    all.size = sqlite3_column_int64 (s, 3);
    all.mtime = sqlite3_column_type (s, 4) == SQLITE_NULL
      ? -1 : sqlite3_column_int64 (s, 4);
    r = 0;
  }
  else
    vbm_set_error (err, ENOENT, "the map has no disk %u", disk);
  sqlite3_finalize (s);
  if (r == 0) {
    char key[32];
    struct vbm_error ignored;

    /* Maps made before 1.2 have none: "" then. */
    snprintf (key, sizeof key, "identity.%u", disk);
    if (vbm_map_get_meta (map, key, all.identity, sizeof all.identity,
                          &ignored) == -1)
      all.identity[0] = '\0';
    vbm_copy_sized (info, &all, sizeof all);
  }
  return r;
}

/* struct vbm_hashes of the first version (1.1) ends with not_hashed. */
#define HASHES_MIN_SIZE \
  (offsetof (struct vbm_hashes, not_hashed) + \
   sizeof ((struct vbm_hashes *) 0)->not_hashed)

int
vbm_map_get_hashes (struct vbm_map *map, int64_t object_id,
                    struct vbm_hashes *hashes, struct vbm_error *err)
{
  struct vbm_hashes all = { .struct_size = sizeof all };
  sqlite3_stmt *s;
  int r;

  if (vbm_sized_size (hashes) < HASHES_MIN_SIZE) {
    vbm_set_error (err, EINVAL, "struct vbm_hashes: size %zu is too "
                   "small (set it to sizeof (struct vbm_hashes))",
                   vbm_sized_size (hashes));
    return -1;
  }
  /* Maps built without hashes have no such table.  Prepared once: an
   * export asks for every file.
   */
  if (map->hashes == NULL &&
      sqlite3_prepare_v2 (map->db, "SELECT md5, sha1, sha256, not_hashed"
                          " FROM hashes WHERE object = ?", -1, &map->hashes,
                          NULL) != SQLITE_OK) {
    if (sqlite3_table_column_metadata (map->db, NULL, "hashes", NULL,
                                       NULL, NULL, NULL, NULL, NULL)
        != SQLITE_OK) {
      vbm_copy_sized (hashes, &all, sizeof all);
      return 0;
    }
    db_error (map, err, "hashes");
    return -1;
  }
  s = map->hashes;
  sqlite3_bind_int64 (s, 1, object_id);
  r = sqlite3_step (s);
  if (r == SQLITE_ROW) {
    copy_column (s, 0, all.md5, sizeof all.md5);
    copy_column (s, 1, all.sha1, sizeof all.sha1);
    copy_column (s, 2, all.sha256, sizeof all.sha256);
    copy_column (s, 3, all.not_hashed, sizeof all.not_hashed);
    r = 1;
  }
  else if (r == SQLITE_DONE)
    r = 0;
  else {
    db_error (map, err, "hashes");
    r = -1;
  }
  sqlite3_reset (s);
  if (r >= 0)
    vbm_copy_sized (hashes, &all, sizeof all);
  return r;
}

int
vbm_map_get_meta (struct vbm_map *map, const char *key, char *buf,
                  size_t len, struct vbm_error *err)
{
  sqlite3_stmt *s;
  int r = -1;

  s = prepare (map, "SELECT value FROM meta WHERE key = ?", err);
  if (s == NULL)
    return -1;
  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (s) == SQLITE_ROW) {
    copy_column (s, 0, buf, len);
    r = 0;
  }
  else
    vbm_set_error (err, ENOENT, "the map has no %s", key);
  sqlite3_finalize (s);
  return r;
}
