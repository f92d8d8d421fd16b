/* The map store: writes objects and extents into a new SQLite file in
 * one transaction.  The caller renames the file into place.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "schema.h"

enum { ST_OBJECT, ST_NAME, ST_EXTENT, ST_DISK, ST_META, ST_FSTYPE,
       ST_WARNING, NR_STMTS };

static const char *const stmt_sql[NR_STMTS] = {
  [ST_OBJECT] = "INSERT INTO objects (parent, disk, kind, device, path, inode,"
                " size, flags, fstype) VALUES (?,?,?,?,?,?,?,?,?)",
  [ST_NAME] = "INSERT INTO names (object, path) VALUES (?,?)",
  [ST_EXTENT] = "INSERT INTO extents (object, disk, start, end, offset, flags)"
                " VALUES (?,?,?,?,?,?)",
  [ST_DISK] = "INSERT INTO disks (disk, device, path, format, size, mtime)"
              " VALUES (?,?,?,?,?,?)",
  [ST_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)",
  [ST_FSTYPE] = "UPDATE objects SET fstype = ? WHERE id = ?",
  [ST_WARNING] = "INSERT INTO warnings (disk, message) VALUES (?,?)",
};

struct vbm_store {
  sqlite3 *db;
  sqlite3_stmt *stmt[NR_STMTS];
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

static void
store_close (struct vbm_store *st)
{
  size_t i;

  for (i = 0; i < NR_STMTS; ++i)
    sqlite3_finalize (st->stmt[i]);
  sqlite3_close (st->db);
  free (st);
}

struct vbm_store *
vbm_store_create (const char *tmppath, struct vbm_error *err)
{
  struct vbm_store *st;
  size_t i;

  st = calloc (1, sizeof *st);
  if (st == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return NULL;
  }
  if (sqlite3_open_v2 (tmppath, &st->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
      != SQLITE_OK) {
    db_error (st, err, tmppath);
    store_close (st);
    return NULL;
  }
  /* The file is private until renamed into place, so durability of
   * intermediate states does not matter: no journal, no syncs.
   */
  if (exec (st, "PRAGMA journal_mode = OFF;"
                "PRAGMA synchronous = OFF;"
                "PRAGMA locking_mode = EXCLUSIVE;"
                "PRAGMA cache_size = -16384;"
                "BEGIN;", err) == -1 ||
      exec (st, VBM_SCHEMA_TABLES, err) == -1) {
    store_close (st);
    return NULL;
  }
  for (i = 0; i < NR_STMTS; ++i) {
    if (sqlite3_prepare_v2 (st->db, stmt_sql[i], -1, &st->stmt[i], NULL)
        != SQLITE_OK) {
      db_error (st, err, "prepare");
      store_close (st);
      return NULL;
    }
  }
  return st;
}

/* Runs a prepared statement that was bound by the caller. */
static int
step (struct vbm_store *st, int which, struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[which];
  int r = sqlite3_step (s);

  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  if (r != SQLITE_DONE) {
    db_error (st, err, "insert");
    return -1;
  }
  return 0;
}

static void
bind_text_or_null (sqlite3_stmt *s, int i, const char *str)
{
  if (str)
    sqlite3_bind_text (s, i, str, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (s, i);
}

int
vbm_store_add_disk (struct vbm_store *st, unsigned disk,
                    const struct vbm_source *src, const char *device,
                    struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_DISK];

  sqlite3_bind_int64 (s, 1, disk);
  sqlite3_bind_text (s, 2, device, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, src->path, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 4, src->format, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 5, (sqlite3_int64) src->size);
  if (src->mtime >= 0)
    sqlite3_bind_int64 (s, 6, src->mtime);
  return step (st, ST_DISK, err);
}

int64_t
vbm_store_add_object (struct vbm_store *st, const struct vbm_object *obj,
                      struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_OBJECT];
  char kind[2] = { obj->kind, 0 };

  if (obj->parent > 0)
    sqlite3_bind_int64 (s, 1, obj->parent);
  sqlite3_bind_int64 (s, 2, obj->disk);
  sqlite3_bind_text (s, 3, kind, 1, SQLITE_STATIC);
  sqlite3_bind_text (s, 4, obj->device, -1, SQLITE_STATIC);
  bind_text_or_null (s, 5, obj->path);
  sqlite3_bind_int64 (s, 6, (sqlite3_int64) obj->inode);
  sqlite3_bind_int64 (s, 7, (sqlite3_int64) obj->size);
  sqlite3_bind_int64 (s, 8, obj->flags);
  bind_text_or_null (s, 9, obj->fstype);
  if (step (st, ST_OBJECT, err) == -1)
    return -1;
  return sqlite3_last_insert_rowid (st->db);
}

int
vbm_store_add_name (struct vbm_store *st, int64_t object, const char *path,
                    struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_NAME];

  sqlite3_bind_int64 (s, 1, object);
  sqlite3_bind_text (s, 2, path, -1, SQLITE_STATIC);
  return step (st, ST_NAME, err);
}

int
vbm_store_add_extent (struct vbm_store *st, int64_t object, unsigned disk,
                      uint64_t start, uint64_t len, int64_t object_offset,
                      unsigned flags, struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_EXTENT];

  /* SQLite integers are signed 64 bit; disks are far smaller. */
  if (len == 0 || start > INT64_MAX || len > INT64_MAX - start) {
    vbm_set_error (err, ERANGE, "map store: extent out of range");
    return -1;
  }
  sqlite3_bind_int64 (s, 1, object);
  sqlite3_bind_int64 (s, 2, disk);
  sqlite3_bind_int64 (s, 3, (sqlite3_int64) start);
  sqlite3_bind_int64 (s, 4, (sqlite3_int64) (start + len));
  if (object_offset >= 0)
    sqlite3_bind_int64 (s, 5, object_offset);
  sqlite3_bind_int64 (s, 6, flags);
  return step (st, ST_EXTENT, err);
}

int
vbm_store_set_fstype (struct vbm_store *st, int64_t object,
                      const char *fstype, struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_FSTYPE];

  sqlite3_bind_text (s, 1, fstype, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, object);
  return step (st, ST_FSTYPE, err);
}

int
vbm_store_add_warning (struct vbm_store *st, unsigned disk, const char *msg,
                       struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_WARNING];

  sqlite3_bind_int64 (s, 1, disk);
  sqlite3_bind_text (s, 2, msg, -1, SQLITE_STATIC);
  return step (st, ST_WARNING, err);
}

int
vbm_store_set_meta (struct vbm_store *st, const char *key, const char *value,
                    struct vbm_error *err)
{
  sqlite3_stmt *s = st->stmt[ST_META];

  sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, value, -1, SQLITE_STATIC);
  return step (st, ST_META, err);
}

int
vbm_store_finish (struct vbm_store *st, struct vbm_error *err)
{
  int r = 0;

  if (exec (st, VBM_SCHEMA_INDEXES, err) == -1 ||
      exec (st, "COMMIT;", err) == -1)
    r = -1;
  store_close (st);
  return r;
}

void
vbm_store_abort (struct vbm_store *st)
{
  if (st)
    store_close (st);
}
