/* A rowid table b-tree written bottom-up (see dbwrite.h): rows arrive
 * in rowid order and fill leaf pages, written out as they fill; the
 * inner pages are built from the list of leaves at the end.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dbwrite.h"
#include "internal.h"
#include "vector.h"

/* A written page and the largest rowid below it. */
struct child {
  uint32_t pgno;
  int64_t key;
};
DEFINE_VECTOR_TYPE (children, struct child);

struct db_table {
  struct db_file *f;
  uint32_t root;
  struct db_page leaf;
  children leaves;
  int64_t last_rowid;
  bool any;
  unsigned char *rec;           /* the record being added */
  size_t rec_cap;
};

struct db_table *
db_table_new (struct db_file *f, uint32_t root, struct vbm_error *err)
{
  struct db_table *t = calloc (1, sizeof *t);

  if (t == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return NULL;
  }
  t->f = f;
  t->root = root;
  if (db_page_init (f, &t->leaf, DB_TABLE_LEAF, err) == -1) {
    free (t);
    return NULL;
  }
  return t;
}

void
db_table_free (struct db_table *t)
{
  if (t) {
    db_page_free (&t->leaf);
    free (t->leaves.ptr);
    free (t->rec);
    free (t);
  }
}

static int
flush_leaf (struct db_table *t, struct vbm_error *err)
{
  struct child c = { .key = t->last_rowid };

  c.pgno = db_page_write (t->f, &t->leaf, 0, 0, err);
  if (c.pgno == 0)
    return -1;
  if (children_append (&t->leaves, c) == -1) {
    vbm_set_error (err, errno, "map store: %s", strerror (errno));
    return -1;
  }
  db_page_reset (t->f, &t->leaf);
  return 0;
}

int
db_table_append (struct db_table *t, int64_t rowid,
                 const struct db_value *vals, unsigned n,
                 struct vbm_error *err)
{
  struct db_record r;
  size_t len;
  int added;

  if (t->any && rowid <= t->last_rowid) {
    vbm_set_error (err, EINVAL, "map store: rows out of order");
    return -1;
  }
  /* Most records fit in the page: written straight into it. */
  db_record_prepare (vals, n, &r);
  added = db_page_add_row (t->f, &t->leaf, rowid, &r, vals, n);
  if (added == 1) {
    if (flush_leaf (t, err) == -1)
      return -1;
    /* An empty leaf has room for any record kept in a page. */
    added = db_page_add_row (t->f, &t->leaf, rowid, &r, vals, n);
    assert (added != 1);
  }
  if (added == -1) {
    /* Overflow pages: through a buffer. */
    len = r.len;
    if (len > t->rec_cap) {
      unsigned char *p = realloc (t->rec, len);

      if (p == NULL) {
        vbm_set_error (err, errno, "realloc: %s", strerror (errno));
        return -1;
      }
      t->rec = p;
      t->rec_cap = len;
    }
    db_record_write (&r, vals, n, t->rec);
    if (db_cell_size (t->f, DB_TABLE_LEAF, rowid, len) >
        db_page_room (&t->leaf) && flush_leaf (t, err) == -1)
      return -1;
    if (db_page_add (t->f, &t->leaf, 0, rowid, t->rec, len, err) == -1)
      return -1;
  }
  t->last_rowid = rowid;
  t->any = true;
  return 0;
}

/* Packs a level of pages into inner pages, spread evenly; the last
 * level is a single page, the root.
 */
static int
build_inner (struct db_table *t, children *level, struct vbm_error *err)
{
  struct db_file *f = t->f;
  struct db_page pg;
  /* A cell is at most 4 + 9 bytes and a 2-byte pointer; the right-most
   * child needs no cell.
   */
  size_t per = (db_file_usable (f) - 12) / 15 + 1;
  size_t npages, k, i, lo, hi;
  children up = empty_vector;
  int r = -1;

  if (db_page_init (f, &pg, DB_TABLE_INTERIOR, err) == -1)
    return -1;
  while (level->len > 1) {
    npages = (level->len + per - 1) / per;
    up.len = 0;
    for (k = 0; k < npages; ++k) {
      struct child c;

      lo = level->len * k / npages;
      hi = level->len * (k + 1) / npages;
      db_page_reset (f, &pg);
      for (i = lo; i < hi - 1; ++i)
        db_page_add (f, &pg, level->ptr[i].pgno, level->ptr[i].key,
                     NULL, 0, err);
      c.key = level->ptr[hi - 1].key;
      c.pgno = db_page_write (f, &pg, level->ptr[hi - 1].pgno,
                              npages == 1 ? t->root : 0, err);
      if (c.pgno == 0)
        goto out;
      if (children_append (&up, c) == -1) {
        vbm_set_error (err, errno, "map store: %s", strerror (errno));
        goto out;
      }
    }
    free (level->ptr);
    *level = up;
    up = (children) empty_vector;
  }
  r = 0;
 out:
  free (up.ptr);
  db_page_free (&pg);
  return r;
}

int
db_table_finish (struct db_table *t, struct vbm_error *err)
{
  int r = 0;

  if (t->leaves.len == 0) {
    /* One page: it is the root. */
    if (t->any && db_page_write (t->f, &t->leaf, 0, t->root, err) == 0)
      r = -1;
  }
  else if (flush_leaf (t, err) == -1 ||
           build_inner (t, &t->leaves, err) == -1)
    r = -1;
  db_table_free (t);
  return r;
}
