/* The map store: writes objects and extents into a new SQLite file in
 * one transaction.  The caller renames the file into place.
 *
 * The mappers' rows are encoded into a pipe (pipe.c) and inserted by a
 * second thread, so reading the filesystem and writing SQLite overlap.
 * Object and extent ids are therefore assigned here, not by SQLite.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "pipe.h"
#include "rtree-load.h"
#include "schema.h"

enum { ST_OBJECT, ST_NAME, ST_EXTENT, ST_DISK, ST_META, ST_FSTYPE,
       ST_WARNING, NR_STMTS };

static const char *const stmt_sql[NR_STMTS] = {
  [ST_OBJECT] = "INSERT INTO objects (id, parent, disk, kind, device, path,"
                " inode, size, flags, fstype) VALUES (?,?,?,?,?,?,?,?,?,?)",
  [ST_NAME] = "INSERT INTO names (object, path) VALUES (?,?)",
  [ST_EXTENT] = "INSERT INTO extents (id, object, disk, start, end, offset,"
                " flags) VALUES (?,?,?,?,?,?,?)",
  [ST_DISK] = "INSERT INTO disks (disk, device, path, format, size, mtime)"
              " VALUES (?,?,?,?,?,?)",
  [ST_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)",
  [ST_FSTYPE] = "UPDATE objects SET fstype = ? WHERE id = ?",
  [ST_WARNING] = "INSERT INTO warnings (disk, message) VALUES (?,?)",
};

struct vbm_store {
  sqlite3 *db;
  sqlite3_stmt *stmt[NR_STMTS];
  struct vbm_pipe *pipe;
  struct vbm_error werr;        /* the writer thread's error */
  int64_t last_object, last_extent;
  rtree_cells rtree;            /* the extents, for the R*Tree at the end */
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
  char *p = vbm_pipe_reserve (st->pipe, 2 + size, err);

  if (p == NULL) {
    /* The writer stopped: its error is the one worth reporting. */
    if (st->werr.msg[0])
      *err = st->werr;
    return NULL;
  }
  p[0] = which;
  p[1] = nvals;
  return p + 2;
}

static void
row_end (struct vbm_store *st, const char *start, const char *end)
{
  vbm_pipe_commit (st->pipe, end - start + 2);
}

/* The writer thread: binds and inserts each row. */
static int
write_rows (void *opaque, const char *p, size_t len)
{
  struct vbm_store *st = opaque;
  const char *end = p + len;

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
      db_error (st, &st->werr, "insert");
      return -1;
    }
  }
  return 0;
}

/* ---- Creating and finishing the file. ---- */

static void
store_close (struct vbm_store *st)
{
  size_t i;

  if (st->pipe)
    vbm_pipe_finish (st->pipe, 1);
  for (i = 0; i < NR_STMTS; ++i)
    sqlite3_finalize (st->stmt[i]);
  sqlite3_close (st->db);
  free (st->rtree.ptr);
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
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       /* one thread at a time: no locking per call */
                       SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK) {
    db_error (st, err, tmppath);
    store_close (st);
    return NULL;
  }
  /* The file is private until renamed into place, so durability of
   * intermediate states does not matter: no journal, no syncs.  The
   * index sorts may use helper threads.
   */
  if (exec (st, "PRAGMA journal_mode = OFF;"
                "PRAGMA synchronous = OFF;"
                "PRAGMA locking_mode = EXCLUSIVE;"
                "PRAGMA cache_size = -16384;"
                "PRAGMA threads = 2;"
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
  st->pipe = vbm_pipe_start (write_rows, st, err);
  if (st->pipe == NULL) {
    store_close (st);
    return NULL;
  }
  return st;
}

int
vbm_store_finish (struct vbm_store *st, struct vbm_error *err)
{
  struct vbm_error ignored = { 0 };
  int r = 0;

  /* From here on this thread owns the database again. */
  r = vbm_pipe_finish (st->pipe, 0);
  st->pipe = NULL;
  if (r == -1)
    *err = st->werr;
  else if (exec (st, VBM_SCHEMA_INDEXES, err) == -1 ||
           exec (st, VBM_RTREE_CREATE, err) == -1)
    r = -1;
  /* SQLite in defensive mode forbids writing the shadow tables. */
  else if (rtree_bulk_load (st->db, VBM_RTREE, &st->rtree, &ignored) == -1 &&
           exec (st, VBM_RTREE_FILL, err) == -1)
    r = -1;
  else if (exec (st, "COMMIT;", err) == -1)
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

int64_t
vbm_store_add_object (struct vbm_store *st, const struct vbm_object *obj,
                      struct vbm_error *err)
{
  char kind[2] = { obj->kind, 0 };
  char *p, *q;

  p = q = row_begin (st, ST_OBJECT, 10, 6 * INT_SIZE + text_size (kind) +
                     text_size (obj->device) + text_size (obj->path) +
                     text_size (obj->fstype), err);
  if (p == NULL)
    return -1;
  q = put_int (q, ++st->last_object);
  q = obj->parent > 0 ? put_int (q, obj->parent) : put_null (q);
  q = put_int (q, obj->disk);
  q = put_text (q, kind);
  q = put_text (q, obj->device);
  q = put_text (q, obj->path);
  q = put_int (q, (int64_t) obj->inode);
  q = put_int (q, (int64_t) obj->size);
  q = put_int (q, obj->flags);
  q = put_text (q, obj->fstype);
  row_end (st, p, q);
  return st->last_object;
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
  char *p, *q;

  /* SQLite integers are signed 64 bit; disks are far smaller. */
  if (len == 0 || start > INT64_MAX || len > INT64_MAX - start) {
    vbm_set_error (err, ERANGE, "map store: extent out of range");
    return -1;
  }
  if (rtree_cells_add (&st->rtree, st->last_extent + 1, disk,
                       start, start + len) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return -1;
  }
  p = q = row_begin (st, ST_EXTENT, 7, 7 * INT_SIZE, err);
  if (p == NULL)
    return -1;
  q = put_int (q, ++st->last_extent);
  q = put_int (q, object);
  q = put_int (q, disk);
  q = put_int (q, (int64_t) start);
  q = put_int (q, (int64_t) (start + len));
  q = object_offset >= 0 ? put_int (q, object_offset) : put_null (q);
  q = put_int (q, flags);
  row_end (st, p, q);
  return 0;
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
