/* The map store: writes the map into a new SQLite file, which the
 * caller renames into place.
 *
 * SQLite creates the file and its schema.  The big tables (objects,
 * extents), their indexes and the R*Tree are then written straight
 * into the file as b-trees (dbwrite.h), in a fraction of the time
 * inserting them would take.  The few other rows (disks, meta, hard
 * links, warnings, a partition's filesystem type) are kept and inserted
 * through SQLite at the end.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cleanup.h"
#include "dbwrite.h"
#include "internal.h"
#include "rtree-write.h"
#include "schema.h"
#include "store-keys.h"
#include "vector.h"

/* The rows inserted through SQLite at the end. */
enum { ST_NAME, ST_DISK, ST_META, ST_FSTYPE, ST_WARNING, NR_STMTS };

static const char *const stmt_sql[NR_STMTS] = {
  [ST_NAME] = "INSERT INTO names (object, path) VALUES (?,?)",
  [ST_DISK] = "INSERT INTO disks (disk, device, path, format, size, mtime)"
              " VALUES (?,?,?,?,?,?)",
  [ST_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)",
  [ST_FSTYPE] = "UPDATE objects SET fstype = ? WHERE id = ?",
  [ST_WARNING] = "INSERT INTO warnings (disk, message) VALUES (?,?)",
};

struct vbm_store {
  char *path;
  sqlite3 *db;                  /* only while SQLite has the file */
  sqlite3_stmt *stmt[NR_STMTS];
  struct db_file *f;
  struct db_table *objects, *extents;
  uint32_t objects_path_root, extents_object_root;
  struct rtree_roots rtree_roots;
  size_t rtree_node_size;
  int64_t last_object, last_extent;
  struct path_index paths;
  struct extent_index extent_keys;
  rtree_cells rtree;            /* the extents, for the R*Tree at the end */
  bytes late;                   /* rows for SQLite, encoded as below */
};

static void
db_error (struct vbm_store *st, struct vbm_error *err, const char *what)
{
  vbm_set_error (err, EIO, "map store: %s: %s", what, sqlite3_errmsg (st->db));
}

static int
exec (struct vbm_store *st, const char *sql, struct vbm_error *err)
{
  char *msg = NULL;

  if (sqlite3_exec (st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    vbm_set_error (err, EIO, "map store: %s", msg ? msg : "unknown error");
    sqlite3_free (msg);
    return -1;
  }
  return 0;
}

/* ---- Rows: a statement number, then tagged values to bind. ---- */

enum { VAL_NULL = 'n', VAL_INT = 'i', VAL_TEXT = 't' };

static size_t
text_size (const char *s)
{
  return s ? 1 + 4 + strlen (s) : 1;
}

#define INT_SIZE (1 + 8)

static char *
put_int (char *p, int64_t v)
{
  *p++ = VAL_INT;
  memcpy (p, &v, 8);
  return p + 8;
}

static char *
put_text (char *p, const char *s)
{
  uint32_t len;

  if (s == NULL) {
    *p++ = VAL_NULL;
    return p;
  }
  len = strlen (s);
  *p++ = VAL_TEXT;
  memcpy (p, &len, 4);
  memcpy (p + 4, s, len);
  return p + 4 + len;
}

static char *
put_null (char *p)
{
  *p++ = VAL_NULL;
  return p;
}

/* Room for a row of SIZE bytes after its 2-byte header. */
static char *
row_begin (struct vbm_store *st, int which, unsigned nvals, size_t size,
           struct vbm_error *err)
{
  char *p;

  if (bytes_reserve (&st->late, 2 + size) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return NULL;
  }
  p = st->late.ptr + st->late.len;
  p[0] = which;
  p[1] = nvals;
  return p + 2;
}

static void
row_end (struct vbm_store *st, const char *start, const char *end)
{
  st->late.len += end - start + 2;
}

/* Binds and inserts each row. */
static int
write_rows (struct vbm_store *st, struct vbm_error *err)
{
  const char *p = st->late.ptr, *end = p + st->late.len;

  while (p < end) {
    sqlite3_stmt *s = st->stmt[(unsigned char) p[0]];
    unsigned i, n = (unsigned char) p[1];
    int64_t v;
    uint32_t l;
    int r;

    p += 2;
    for (i = 1; i <= n; ++i) {
      switch (*p++) {
      case VAL_INT:
        memcpy (&v, p, 8);
        sqlite3_bind_int64 (s, i, v);
        p += 8;
        break;
      case VAL_TEXT:
        memcpy (&l, p, 4);
        sqlite3_bind_text (s, i, p + 4, l, SQLITE_STATIC);
        p += 4 + l;
        break;
      default:
        sqlite3_bind_null (s, i);
      }
    }
    /* Every row binds all of its statement's parameters. */
    r = sqlite3_step (s);
    sqlite3_reset (s);
    if (r != SQLITE_DONE) {
      db_error (st, err, "insert");
      return -1;
    }
  }
  return 0;
}

/* ---- Creating and finishing the file. ---- */

static void
close_db (struct vbm_store *st)
{
  size_t i;

  for (i = 0; i < NR_STMTS; ++i) {
    sqlite3_finalize (st->stmt[i]);
    st->stmt[i] = NULL;
  }
  sqlite3_close (st->db);
  st->db = NULL;
}

static int
open_db (struct vbm_store *st, struct vbm_error *err)
{
  if (sqlite3_open_v2 (st->path, &st->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       /* one thread at a time: no locking per call */
                       SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK) {
    db_error (st, err, st->path);
    return -1;
  }
  /* The file is private until renamed into place, so durability of
   * intermediate states does not matter: no journal, no syncs.
   */
  return exec (st, "PRAGMA journal_mode = OFF;"
                   "PRAGMA synchronous = OFF;"
                   "PRAGMA locking_mode = EXCLUSIVE;", err);
}

static void
store_close (struct vbm_store *st)
{
  close_db (st);
  db_table_free (st->objects);
  db_table_free (st->extents);
  if (st->f)
    db_file_close (st->f, 1, NULL);
  path_index_free (&st->paths);
  free (st->extent_keys.keys.ptr);
  free (st->rtree.ptr);
  free (st->late.ptr);
  free (st->path);
  free (st);
}

/* The root pages SQLite gave the b-trees we write. */
static int
find_roots (struct vbm_store *st, struct vbm_error *err)
{
  static const char *const names[] = {
    "objects", "extents", "objects_path", "extents_object",
    VBM_RTREE "_node", VBM_RTREE "_parent", VBM_RTREE "_rowid",
  };
  uint32_t table_roots[2] = { 0, 0 };
  uint32_t *const roots[] = {
    &table_roots[0], &table_roots[1],
    &st->objects_path_root, &st->extents_object_root,
    &st->rtree_roots.node, &st->rtree_roots.parent, &st->rtree_roots.rowid,
  };
  sqlite3_stmt *s = NULL;
  size_t i;
  int r = 0;
  if (sqlite3_prepare_v2 (st->db, "SELECT rootpage FROM sqlite_schema"
                          " WHERE name = ?", -1, &s, NULL) != SQLITE_OK)
    return db_error (st, err, "schema"), -1;
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
    sqlite3_bind_text (s, 1, names[i], -1, SQLITE_STATIC);
    if (sqlite3_step (s) != SQLITE_ROW ||
        (*roots[i] = sqlite3_column_int64 (s, 0)) <= 1) {
      vbm_set_error (err, EIO, "map store: no b-tree for %s", names[i]);
      r = -1;
      break;
    }
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  if (r == 0 &&
      sqlite3_prepare_v2 (st->db, "SELECT length(data) FROM " VBM_RTREE
                          "_node WHERE nodeno = 1", -1, &s, NULL) == SQLITE_OK) {
    if (sqlite3_step (s) == SQLITE_ROW)
      st->rtree_node_size = sqlite3_column_int (s, 0);
    sqlite3_finalize (s);
  }
  if (r == 0 && st->rtree_node_size == 0) {
    db_error (st, err, "R*Tree root node");
    r = -1;
  }
  if (r == 0) {
    /* After closing: we write the file behind SQLite's back. */
    close_db (st);
    st->f = db_file_open (st->path, err);
    if (st->f == NULL ||
        (st->objects = db_table_new (st->f, table_roots[0], err)) == NULL ||
        (st->extents = db_table_new (st->f, table_roots[1], err)) == NULL)
      r = -1;
  }
  return r;
}

struct vbm_store *
vbm_store_create (const char *tmppath, struct vbm_error *err)
{
  struct vbm_store *st;

  st = calloc (1, sizeof *st);
  if (st == NULL || (st->path = strdup (tmppath)) == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    free (st);
    return NULL;
  }
  if (open_db (st, err) == -1 ||
      exec (st, "BEGIN;", err) == -1 ||
      exec (st, VBM_SCHEMA_TABLES, err) == -1 ||
      exec (st, VBM_SCHEMA_INDEXES, err) == -1 ||
      exec (st, VBM_RTREE_CREATE, err) == -1 ||
      exec (st, "COMMIT;", err) == -1 ||
      find_roots (st, err) == -1) {
    store_close (st);
    return NULL;
  }
  return st;
}

static int
write_indexes (struct vbm_store *st, struct vbm_error *err)
{
  if (path_index_sort (&st->paths) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return -1;
  }
  extent_index_sort (&st->extent_keys);
  return db_index_write (st->f, st->objects_path_root, st->paths.keys.len,
                         path_index_entry, &st->paths, err) == -1 ||
    db_index_write (st->f, st->extents_object_root, st->extent_keys.keys.len,
                    extent_index_entry, &st->extent_keys, err) == -1 ? -1 : 0;
}

/* The rows kept for SQLite. */
static int
insert_late_rows (struct vbm_store *st, struct vbm_error *err)
{
  size_t i;

  if (open_db (st, err) == -1 || exec (st, "BEGIN;", err) == -1)
    return -1;
  for (i = 0; i < NR_STMTS; ++i) {
    if (sqlite3_prepare_v2 (st->db, stmt_sql[i], -1, &st->stmt[i], NULL)
        != SQLITE_OK) {
      db_error (st, err, "prepare");
      return -1;
    }
  }
  return write_rows (st, err) == -1 || exec (st, "COMMIT;", err) == -1 ? -1 : 0;
}

int
vbm_store_finish (struct vbm_store *st, struct vbm_error *err)
{
  struct db_table *objects = st->objects, *extents = st->extents;
  int r;

  st->objects = st->extents = NULL;
  r = db_table_finish (objects, err);
  if (db_table_finish (extents, err) == -1)
    r = -1;
  if (r == 0 &&
      (write_indexes (st, err) == -1 ||
       rtree_write (st->f, &st->rtree_roots, st->rtree_node_size, &st->rtree,
                    err) == -1))
    r = -1;
  if (r == 0) {
    r = db_file_close (st->f, 0, err);
    st->f = NULL;
  }
  if (r == 0)
    r = insert_late_rows (st, err);
  store_close (st);
  return r;
}

void
vbm_store_abort (struct vbm_store *st)
{
  if (st)
    store_close (st);
}

/* ---- What the mappers add. ---- */

int
vbm_store_add_disk (struct vbm_store *st, unsigned disk,
                    const struct vbm_source *src, const char *device,
                    struct vbm_error *err)
{
  char *p, *q;

  p = q = row_begin (st, ST_DISK, 6, 3 * INT_SIZE + text_size (device) +
                     text_size (src->path) + text_size (src->format), err);
  if (p == NULL)
    return -1;
  q = put_int (q, disk);
  q = put_text (q, device);
  q = put_text (q, src->path);
  q = put_text (q, src->format);
  q = put_int (q, (int64_t) src->size);
  q = src->mtime >= 0 ? put_int (q, src->mtime) : put_null (q);
  row_end (st, p, q);
  return 0;
}

static struct db_value
text_or_null (const char *s)
{
  return s ? DB_TEXTV (s, strlen (s)) : DB_NULLV;
}

int64_t
vbm_store_add_object (struct vbm_store *st, const struct vbm_object *obj,
                      struct vbm_error *err)
{
  char kind[1] = { obj->kind };
  int64_t id = st->last_object + 1;
  const struct db_value vals[] = {
    DB_NULLV,                   /* id: the rowid */
    obj->parent > 0 ? DB_INTV (obj->parent) : DB_NULLV,
    DB_INTV (obj->disk),
    DB_TEXTV (kind, 1),
    text_or_null (obj->device),
    text_or_null (obj->path),
    DB_INTV ((int64_t) obj->inode),
    DB_INTV ((int64_t) obj->size),
    DB_INTV (obj->flags),
    text_or_null (obj->fstype),
  };

  if (obj->device == NULL) {
    vbm_set_error (err, EINVAL, "map store: object without a device");
    return -1;
  }
  if (db_table_append (st->objects, id, vals, sizeof vals / sizeof vals[0],
                       err) == -1 ||
      path_index_add (&st->paths, obj->device, obj->path, id) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return -1;
  }
  return st->last_object = id;
}

int
vbm_store_add_name (struct vbm_store *st, int64_t object, const char *path,
                    struct vbm_error *err)
{
  char *p, *q;

  p = q = row_begin (st, ST_NAME, 2, INT_SIZE + text_size (path), err);
  if (p == NULL)
    return -1;
  q = put_int (q, object);
  q = put_text (q, path);
  row_end (st, p, q);
  return 0;
}

int
vbm_store_add_extent (struct vbm_store *st, int64_t object, unsigned disk,
                      uint64_t start, uint64_t len, int64_t object_offset,
                      unsigned flags, struct vbm_error *err)
{
  int64_t id = st->last_extent + 1;
  struct db_value vals[] = {
    DB_NULLV,                   /* id: the rowid */
    DB_INTV (object),
    DB_INTV (disk),
    DB_INTV ((int64_t) start),
    DB_INTV ((int64_t) (start + len)),
    object_offset >= 0 ? DB_INTV (object_offset) : DB_NULLV,
    DB_INTV (flags),
  };

  /* SQLite integers are signed 64 bit; disks are far smaller. */
  if (len == 0 || start > INT64_MAX || len > INT64_MAX - start) {
    vbm_set_error (err, ERANGE, "map store: extent out of range");
    return -1;
  }
  if (db_table_append (st->extents, id, vals, sizeof vals / sizeof vals[0],
                       err) == -1)
    return -1;
  if (rtree_cells_add (&st->rtree, id, disk, start, start + len) == -1 ||
      extent_index_add (&st->extent_keys, object, object_offset, id) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return -1;
  }
  st->last_extent = id;
  return 0;
}

void
vbm_store_expect (struct vbm_store *st, uint64_t n)
{
  /* Room for 2M more is only address space until used. */
  if (n > 2 << 20)
    n = 2 << 20;
  /* Failing is harmless: the arrays grow as they go. */
  path_keys_reserve (&st->paths.keys, n);
  bytes_reserve (&st->paths.pool, n * 24);
  extent_keys_reserve (&st->extent_keys.keys, n);
  rtree_cells_reserve (&st->rtree, n);
}

int
vbm_store_set_fstype (struct vbm_store *st, int64_t object,
                      const char *fstype, struct vbm_error *err)
{
  char *p, *q;

  p = q = row_begin (st, ST_FSTYPE, 2, text_size (fstype) + INT_SIZE, err);
  if (p == NULL)
    return -1;
  q = put_text (q, fstype);
  q = put_int (q, object);
  row_end (st, p, q);
  return 0;
}

int
vbm_store_add_warning (struct vbm_store *st, unsigned disk, const char *msg,
                       struct vbm_error *err)
{
  char *p, *q;

  p = q = row_begin (st, ST_WARNING, 2, INT_SIZE + text_size (msg), err);
  if (p == NULL)
    return -1;
  q = put_int (q, disk);
  q = put_text (q, msg);
  row_end (st, p, q);
  return 0;
}

int
vbm_store_set_meta (struct vbm_store *st, const char *key, const char *value,
                    struct vbm_error *err)
{
  char *p, *q;

  p = q = row_begin (st, ST_META, 2, text_size (key) + text_size (value), err);
  if (p == NULL)
    return -1;
  q = put_text (q, key);
  q = put_text (q, value);
  row_end (st, p, q);
  return 0;
}
