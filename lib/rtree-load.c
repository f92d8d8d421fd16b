/* Bulk loading of an SQLite R*Tree.
 *
 * Inserting rows into an R*Tree one by one costs 6-8 us each (every
 * insert descends the tree, and splits re-sort nodes), which was most
 * of the time spent building a map.  A map is written once and then
 * only read, so we pack the tree bottom-up instead (sorted by disk and
 * start, every node full), writing the R*Tree's three shadow tables
 * directly.  Their layout is part of SQLite's stable file format
 * (ext/rtree/rtree.c):
 *
 *   %_node(nodeno INTEGER PRIMARY KEY, data BLOB)   node 1 is the root
 *   %_rowid(rowid INTEGER PRIMARY KEY, nodeno)      entry -> its leaf
 *   %_parent(nodeno INTEGER PRIMARY KEY, parentnode) non-root nodes
 *
 * A node blob is exactly as long as the empty root node that CREATE
 * VIRTUAL TABLE writes: a 2-byte depth of the tree (root only; leaves
 * are depth 0), a 2-byte cell count, then cells of an 8-byte rowid (a
 * child node number in inner nodes) and 2 x dimensions 4-byte floats,
 * all big-endian.  SQLite's rtreecheck() verifies the result (tests).
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rtree-load.h"

#define CELL_SIZE (8 + 4 * 4)
#define MAX_DEPTH 40            /* SQLite's RTREE_MAX_DEPTH */

/* Rounding outwards keeps every range inside its 32-bit float box. */
static float
round_down (uint64_t x)
{
  float f = (float) x;

  if (f >= 0x1p64f || (uint64_t) f > x)
    f = nextafterf (f, 0);
  return f;
}

static float
round_up (uint64_t x)
{
  float f = (float) x;

  if (f < 0x1p64f && (uint64_t) f < x)
    f = nextafterf (f, INFINITY);
  return f;
}

int
rtree_cells_add (rtree_cells *cells, int64_t id, unsigned disk,
                 uint64_t start, uint64_t end)
{
  struct rtree_cell c = {
    .id = id,
    .c = { round_down (disk), round_up (disk), round_down (start),
           round_up (end) },
  };

  return rtree_cells_append (cells, c);
}

static int
compare_cells (const struct rtree_cell *a, const struct rtree_cell *b)
{
  int i;

  for (i = 0; i < 4; ++i)
    if (a->c[i] != b->c[i])
      return a->c[i] < b->c[i] ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

struct link {
  int64_t from, to;
};
DEFINE_VECTOR_TYPE (links, struct link);

static int
compare_links (const struct link *a, const struct link *b)
{
  return a->from < b->from ? -1 : a->from > b->from;
}

struct loader {
  sqlite3 *db;
  struct vbm_error *err;
  sqlite3_stmt *node, *rowid, *parent;
  unsigned char *buf;
  size_t node_size, max_cells;
  int64_t next_nodeno;
};

static void
put_be (unsigned char *p, uint64_t v, int bytes)
{
  while (bytes-- > 0) {
    p[bytes] = v & 0xff;
    v >>= 8;
  }
}

static int
db_fail (struct loader *ld, const char *what)
{
  vbm_set_error (ld->err, EIO, "R*Tree bulk load: %s: %s", what,
                 sqlite3_errmsg (ld->db));
  return -1;
}

static int
run (struct loader *ld, sqlite3_stmt *s, const char *what)
{
  int r = sqlite3_step (s);

  sqlite3_reset (s);
  return r == SQLITE_DONE ? 0 : db_fail (ld, what);
}

static int
insert_pair (struct loader *ld, sqlite3_stmt *s, int64_t a, int64_t b)
{
  sqlite3_bind_int64 (s, 1, a);
  sqlite3_bind_int64 (s, 2, b);
  return run (ld, s, "link");
}

static int
write_node (struct loader *ld, int64_t nodeno, unsigned depth,
            const struct rtree_cell *cells, size_t n)
{
  unsigned char *p = ld->buf;
  size_t i;
  int j;

  memset (p, 0, ld->node_size);
  put_be (p, depth, 2);
  put_be (p + 2, n, 2);
  for (i = 0, p += 4; i < n; ++i, p += CELL_SIZE) {
    put_be (p, (uint64_t) cells[i].id, 8);
    for (j = 0; j < 4; ++j) {
      uint32_t bits;

      memcpy (&bits, &cells[i].c[j], 4);
      put_be (p + 8 + 4 * j, bits, 4);
    }
  }
  sqlite3_bind_int64 (ld->node, 1, nodeno);
  sqlite3_bind_blob (ld->node, 2, ld->buf, ld->node_size, SQLITE_STATIC);
  return run (ld, ld->node, "node");
}

/* The box around cells[0..n). */
static struct rtree_cell
bounds (int64_t nodeno, const struct rtree_cell *cells, size_t n)
{
  struct rtree_cell b = cells[0];
  size_t i;

  b.id = nodeno;
  for (i = 1; i < n; ++i) {
    b.c[0] = fminf (b.c[0], cells[i].c[0]);
    b.c[1] = fmaxf (b.c[1], cells[i].c[1]);
    b.c[2] = fminf (b.c[2], cells[i].c[2]);
    b.c[3] = fmaxf (b.c[3], cells[i].c[3]);
  }
  return b;
}

/* Packs LEVEL (cells of the given depth's children) into nodes, and
 * their boxes into UP, or into the root if they fit.
 */
static int
pack_level (struct loader *ld, const rtree_cells *level, unsigned depth,
            rtree_cells *up, links *leaf_links)
{
  size_t nnodes = (level->len + ld->max_cells - 1) / ld->max_cells;
  size_t k, i;

  if (nnodes <= 1)
    nnodes = 1;
  for (k = 0; k < nnodes; ++k) {
    /* Spread the cells evenly rather than leave one node nearly empty. */
    size_t lo = level->len * k / nnodes, hi = level->len * (k + 1) / nnodes;
    int64_t nodeno = nnodes == 1 ? 1 : ld->next_nodeno++;

    if (write_node (ld, nodeno, nnodes == 1 ? depth : 0,
                    &level->ptr[lo], hi - lo) == -1)
      return -1;
    for (i = lo; i < hi; ++i) {
      if (depth == 0) {
        struct link l = { level->ptr[i].id, nodeno };

        if (links_append (leaf_links, l) == -1) {
          vbm_set_error (ld->err, errno, "R*Tree bulk load: %s", strerror (errno));
          return -1;
        }
      }
      else if (insert_pair (ld, ld->parent, level->ptr[i].id, nodeno) == -1)
        return -1;
    }
    if (nnodes > 1 && rtree_cells_append (up, bounds (nodeno, &level->ptr[lo],
                                                      hi - lo)) == -1) {
      vbm_set_error (ld->err, errno, "R*Tree bulk load: %s", strerror (errno));
      return -1;
    }
  }
  return nnodes == 1 ? 1 : 0;
}

static int
load (struct loader *ld, const char *table, rtree_cells *cells)
{
  char *sql;
  sqlite3_stmt *s = NULL;
  rtree_cells level = empty_vector, up = empty_vector;
  links leaf_links = empty_vector;
  unsigned depth;
  size_t i;
  int r = -1, done;

  sql = sqlite3_mprintf ("SELECT length(data) FROM \"%w_node\""
                         " WHERE nodeno = 1", table);
  if (sql == NULL || sqlite3_prepare_v2 (ld->db, sql, -1, &s, NULL)) {
    sqlite3_free (sql);
    return db_fail (ld, "node size");
  }
  sqlite3_free (sql);
  if (sqlite3_step (s) == SQLITE_ROW)
    ld->node_size = sqlite3_column_int (s, 0);
  sqlite3_finalize (s);
  if (ld->node_size < 4 + 4 * CELL_SIZE || ld->node_size > 65536) {
    vbm_set_error (ld->err, EINVAL, "R*Tree bulk load: unexpected root node");
    return -1;
  }
  ld->max_cells = (ld->node_size - 4) / CELL_SIZE;
  ld->next_nodeno = 2;
  ld->buf = malloc (ld->node_size);
  if (ld->buf == NULL) {
    vbm_set_error (ld->err, errno, "R*Tree bulk load: %s", strerror (errno));
    return -1;
  }

  rtree_cells_sort (cells, compare_cells);
  level = *cells;
  for (depth = 0; depth <= MAX_DEPTH; ++depth) {
    up.len = 0;
    done = pack_level (ld, &level, depth, &up, &leaf_links);
    if (done == -1)
      goto out;
    if (done)
      break;
    /* The level just packed is no longer needed, except the caller's. */
    if (level.ptr != cells->ptr)
      free (level.ptr);
    level = up;
    up = (rtree_cells) empty_vector;
  }
  if (depth > MAX_DEPTH) {
    vbm_set_error (ld->err, EINVAL, "R*Tree bulk load: tree too deep");
    goto out;
  }

  /* Entries in rowid order make the B-tree inserts appends. */
  links_sort (&leaf_links, compare_links);
  for (i = 0; i < leaf_links.len; ++i)
    if (insert_pair (ld, ld->rowid, leaf_links.ptr[i].from,
                     leaf_links.ptr[i].to) == -1)
      goto out;
  r = 0;
 out:
  if (level.ptr != cells->ptr)
    free (level.ptr);
  free (up.ptr);
  free (leaf_links.ptr);
  free (ld->buf);
  return r;
}

static sqlite3_stmt *
prepare_insert (struct loader *ld, const char *fmt, const char *table)
{
  char *sql = sqlite3_mprintf (fmt, table);
  sqlite3_stmt *s = NULL;

  if (sql == NULL || sqlite3_prepare_v2 (ld->db, sql, -1, &s, NULL)) {
    sqlite3_free (sql);
    db_fail (ld, "prepare");
    return NULL;
  }
  sqlite3_free (sql);
  return s;
}

int
rtree_bulk_load (sqlite3 *db, const char *table, rtree_cells *cells,
                 struct vbm_error *err)
{
  struct loader ld = { .db = db, .err = err };
  int r = -1;

  if (sqlite3_exec (db, "SAVEPOINT rtree_load", NULL, NULL, NULL))
    return db_fail (&ld, "savepoint");
  ld.node = prepare_insert (&ld, "INSERT OR REPLACE INTO \"%w_node\""
                            " (nodeno, data) VALUES (?, ?)", table);
  ld.rowid = prepare_insert (&ld, "INSERT INTO \"%w_rowid\""
                             " (rowid, nodeno) VALUES (?, ?)", table);
  ld.parent = prepare_insert (&ld, "INSERT INTO \"%w_parent\""
                              " (nodeno, parentnode) VALUES (?, ?)", table);
  if (ld.node && ld.rowid && ld.parent)
    r = load (&ld, table, cells);
  sqlite3_finalize (ld.node);
  sqlite3_finalize (ld.rowid);
  sqlite3_finalize (ld.parent);
  if (r == -1)
    sqlite3_exec (db, "ROLLBACK TO rtree_load", NULL, NULL, NULL);
  sqlite3_exec (db, "RELEASE rtree_load", NULL, NULL, NULL);
  return r;
}
