/* The map store: writes the map into a new SQLite file, which the
 * caller renames into place.
 *
 * SQLite creates the file and its schema.  The big tables (objects,
 * extents), their indexes and the R*Tree are then written straight
 * into the file as b-trees (store-tables.c), in a fraction of the time
 * inserting them would take, by a second thread: the mappers' objects
 * and extents go to it through a pipe (pipe.c), so reading the
 * filesystem and writing the map overlap.  Ids are therefore assigned
 * here.  The few other rows (disks, meta, hard links, warnings, a
 * partition's filesystem type) are kept and inserted through SQLite at
 * the end.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "pipe.h"
#include "schema.h"
#include "store-tables.h"
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

DEFINE_VECTOR_TYPE (bytes, char);

struct vbm_store {
  char *path;
  sqlite3 *db;                  /* only while SQLite has the file */
  sqlite3_stmt *stmt[NR_STMTS];
  struct map_tables *tables;    /* rows: the writer thread's while piping */
  struct vbm_pipe *pipe;
  struct vbm_error werr;        /* the writer thread's error */
  int64_t last_object, last_extent;
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

/* ---- Objects and extents: messages to the writer thread. ---- */

enum { MSG_OBJECT, MSG_EXTENT, MSG_EXPECT };

/* Followed by the device, path and fstype strings with their NULs. */
struct object_msg {
  int64_t id, parent;
  uint64_t inode, size;
  uint32_t disk, flags;
  uint32_t len[3];              /* NO_STRING for NULL */
  char kind;
};
#define NO_STRING UINT32_MAX

struct extent_msg {
  int64_t id, object, offset;
  uint64_t start, end;
  uint32_t disk, flags;
};

/* Room for a message of SIZE bytes after its type byte. */
static char *
msg_begin (struct vbm_store *st, int type, size_t size,
           struct vbm_error *err)
{
  char *p = vbm_pipe_reserve (st->pipe, 1 + size);

  if (p == NULL) {
    /* The writer stopped: its error is the one worth reporting. */
    if (st->werr.msg[0])
      *err = st->werr;
    else if (errno == EPIPE)
      vbm_set_error (err, EIO, "map store: the writer failed");
    else
      vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return NULL;
  }
  *p = type;
  return p + 1;
}

static const char *
msg_string (const char **p, uint32_t len)
{
  const char *s = *p;

  if (len == NO_STRING)
    return NULL;
  *p += len + 1;
  return s;
}

/* The writer thread: hands each message to the tables. */
static int
write_tables (void *opaque, const char *p, size_t len)
{
  struct vbm_store *st = opaque;
  const char *end = p + len;
  struct object_msg om;
  struct extent_msg em;
  struct vbm_object obj;
  uint64_t n;

  while (p < end) {
    switch (*p++) {
    case MSG_OBJECT:
      memcpy (&om, p, sizeof om);
      p += sizeof om;
      obj = (struct vbm_object) {
        .parent = om.parent, .disk = om.disk, .kind = om.kind,
        .inode = om.inode, .size = om.size, .flags = om.flags,
      };
      obj.device = msg_string (&p, om.len[0]);
      obj.path = msg_string (&p, om.len[1]);
      obj.fstype = msg_string (&p, om.len[2]);
      if (map_tables_add_object (st->tables, om.id, &obj, &st->werr) == -1)
        return -1;
      break;
    case MSG_EXTENT:
      memcpy (&em, p, sizeof em);
      p += sizeof em;
      if (map_tables_add_extent (st->tables, em.id, em.object, em.disk,
                                 em.start, em.end, em.offset, em.flags,
                                 &st->werr) == -1)
        return -1;
      break;
    default:
      memcpy (&n, p, sizeof n);
      p += sizeof n;
      map_tables_expect_rows (st->tables, n);
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
                   "PRAGMA locking_mode = EXCLUSIVE;"
                   /* whatever libsqlite3's default: dbwrite.h */
                   "PRAGMA auto_vacuum = NONE;", err);
}

static void
store_close (struct vbm_store *st)
{
  if (st->pipe)
    vbm_pipe_finish (st->pipe, 1);
  close_db (st);
  map_tables_abort (st->tables);
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
  struct map_roots mr = { 0 };
  uint32_t *const roots[] = {
    &mr.objects, &mr.extents, &mr.objects_path, &mr.extents_object,
    &mr.rtree.node, &mr.rtree.parent, &mr.rtree.rowid,
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
      mr.rtree_node_size = sqlite3_column_int (s, 0);
    sqlite3_finalize (s);
  }
  if (r == 0 && mr.rtree_node_size == 0) {
    db_error (st, err, "R*Tree root node");
    r = -1;
  }
  if (r == 0) {
    /* After closing: we write the file behind SQLite's back. */
    close_db (st);
    st->tables = map_tables_open (st->path, &mr, err);
    if (st->tables == NULL)
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
  st->pipe = vbm_pipe_start (write_tables, st);
  if (st->pipe == NULL) {
    vbm_set_error (err, errno, "map store: cannot start the writer: %s",
                   strerror (errno));
    store_close (st);
    return NULL;
  }
  return st;
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
  struct map_tables *tables = st->tables;
  int r;

  /* From here on this thread owns the tables again. */
  r = vbm_pipe_finish (st->pipe, 0);
  st->pipe = NULL;
  st->tables = NULL;
  if (r == -1) {
    *err = st->werr;
    map_tables_abort (tables);
  }
  else
    r = map_tables_finish (tables, err);
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
  const char *path = vbm_source_path (src);
  const char *format = vbm_source_format (src);
  const int64_t mtime = vbm_source_mtime (src);
  char *p, *q;

  p = q = row_begin (st, ST_DISK, 6, 3 * INT_SIZE + text_size (device) +
                     text_size (path) + text_size (format), err);
  if (p == NULL)
    return -1;
  q = put_int (q, disk);
  q = put_text (q, device);
  q = put_text (q, path);
  q = put_text (q, format);
  q = put_int (q, (int64_t) vbm_source_size (src));
  q = mtime >= 0 ? put_int (q, mtime) : put_null (q);
  row_end (st, p, q);
  return 0;
}

int64_t
vbm_store_add_object (struct vbm_store *st, const struct vbm_object *obj,
                      struct vbm_error *err)
{
  const char *strings[3] = { obj->device, obj->path, obj->fstype };
  struct object_msg m = {
    .id = st->last_object + 1, .parent = obj->parent,
    .inode = obj->inode, .size = obj->size,
    .disk = obj->disk, .flags = obj->flags, .kind = obj->kind,
  };
  size_t size = sizeof m, i, len;
  char *p;

  if (obj->device == NULL) {
    vbm_set_error (err, EINVAL, "map store: object without a device");
    return -1;
  }
  /* The index entries are this thread's share of the work. */
  if (map_tables_index_object (st->tables, m.id, obj->device, obj->path,
                               err) == -1)
    return -1;
  for (i = 0; i < 3; ++i) {
    m.len[i] = NO_STRING;
    if (strings[i]) {
      len = strlen (strings[i]);
      if (len >= NO_STRING) {
        vbm_set_error (err, ERANGE, "map store: string too long");
        return -1;
      }
      m.len[i] = len;
      size += len + 1;
    }
  }
  p = msg_begin (st, MSG_OBJECT, size, err);
  if (p == NULL)
    return -1;
  memcpy (p, &m, sizeof m);
  p += sizeof m;
  for (i = 0; i < 3; ++i) {
    if (strings[i]) {
      memcpy (p, strings[i], m.len[i] + 1);
      p += m.len[i] + 1;
    }
  }
  vbm_pipe_commit (st->pipe, 1 + size);
  return ++st->last_object;
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
  struct extent_msg m = {
    .id = st->last_extent + 1, .object = object, .offset = object_offset,
    .start = start, .end = start + len, .disk = disk, .flags = flags,
  };
  char *p;

  /* SQLite integers are signed 64 bit; disks are far smaller. */
  if (len == 0 || start > INT64_MAX || len > INT64_MAX - start) {
    vbm_set_error (err, ERANGE, "map store: extent out of range");
    return -1;
  }
  if (map_tables_index_extent (st->tables, m.id, object, object_offset,
                               err) == -1)
    return -1;
  p = msg_begin (st, MSG_EXTENT, sizeof m, err);
  if (p == NULL)
    return -1;
  memcpy (p, &m, sizeof m);
  vbm_pipe_commit (st->pipe, 1 + sizeof m);
  st->last_extent++;
  return 0;
}

void
vbm_store_expect (struct vbm_store *st, uint64_t n)
{
  struct vbm_error ignored;
  char *p = msg_begin (st, MSG_EXPECT, sizeof n, &ignored);

  map_tables_expect_keys (st->tables, n);
  if (p) {
    memcpy (p, &n, sizeof n);
    vbm_pipe_commit (st->pipe, 1 + sizeof n);
  }
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
