/* An index b-tree written bottom-up from its sorted entries (see
 * dbwrite.h).  Unlike a table's, an index's inner pages hold entries
 * of their own: between two neighbouring pages of a level one entry
 * goes up a level as the divider.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dbwrite.h"
#include "internal.h"
#include "vector.h"

DEFINE_VECTOR_TYPE (pgnos, uint32_t);
DEFINE_VECTOR_TYPE (entries, size_t);

struct ix {
  struct db_file *f;
  uint32_t root;
  db_index_entry_fn entry;
  void *opaque;
  struct vbm_error *err;
  /* The records of the page being filled, one after another: each is
   * encoded once, to measure it and then to add it.
   */
  unsigned char *rec;
  size_t rec_len, rec_cap;
  size_t *offs;                 /* where each one starts and ends */
  size_t offs_cap;
};

/* Appends entry I's record, the page's Nth, to ix->rec: it spans
 * offs[NTH] to offs[NTH + 1].  Returns its length (0 on error).
 */
static size_t
encode (struct ix *ix, size_t i, size_t nth)
{
  struct db_value vals[DB_MAX_COLUMNS];
  unsigned n = ix->entry (ix->opaque, i, vals);
  size_t len = db_record_bound (vals, n);

  if (nth + 2 > ix->offs_cap) {
    size_t cap = ix->offs_cap ? 2 * ix->offs_cap : 256;
    size_t *o = realloc (ix->offs, cap * sizeof *o);

    if (o == NULL)
      goto nomem;
    ix->offs = o;
    ix->offs_cap = cap;
  }
  if (len > ix->rec_cap - ix->rec_len) {
    size_t cap = 2 * ix->rec_cap > ix->rec_len + len ?
      2 * ix->rec_cap : ix->rec_len + len;
    unsigned char *p = realloc (ix->rec, cap);

    if (p == NULL)
      goto nomem;
    ix->rec = p;
    ix->rec_cap = cap;
  }
  ix->offs[nth] = ix->rec_len;
  len = db_record_encode (vals, n, ix->rec + ix->rec_len);
  ix->rec_len += len;
  ix->offs[nth + 1] = ix->rec_len;
  return len;
 nomem:
  vbm_set_error (ix->err, errno, "realloc: %s", strerror (errno));
  return 0;
}

/* Packs one level: COUNT items, item i being entry KEYS[i] (entry i
 * itself if KEYS is NULL, on the leaf level) with child page
 * CHILDREN[i] on inner levels, whose right-most child is
 * CHILDREN[COUNT].  Each page but the last passes the next item up
 * (into UP_CHILDREN, UP_KEYS); a level of one page is the root.
 */
static int
pack_level (struct ix *ix, struct db_page *pg, size_t count,
            const size_t *keys, const uint32_t *children,
            pgnos *up_children, entries *up_keys)
{
  unsigned room = db_file_usable (ix->f) - pg->hdr;
  size_t a = 0, b, i, used, len;
  uint32_t pgno, right;

  for (;;) {
    ix->rec_len = 0;
    for (b = a, used = 0; b < count; ++b) {
      size_t s = encode (ix, keys ? keys[b] : b, b - a);

      if (s == 0)
        return -1;
      s = db_cell_size (ix->f, pg->type, 0, s);
      if (used + s > room)
        break;
      used += s;
    }
    /* Never leave the last page empty: pass up one item earlier.  A
     * page holds at least four cells, so this one keeps some.
     */
    if (b + 1 == count)
      --b;
    db_page_reset (ix->f, pg);
    for (i = a; i < b; ++i) {
      len = ix->offs[i + 1 - a] - ix->offs[i - a];
      if (db_page_add (ix->f, pg, children ? children[i] : 0, 0,
                       ix->rec + ix->offs[i - a], len, ix->err) == -1)
        return -1;
    }
    right = children ? children[b] : 0;
    pgno = db_page_write (ix->f, pg, right, a == 0 && b == count ? ix->root : 0,
                          ix->err);
    if (pgno == 0)
      return -1;
    if (a == 0 && b == count)
      return 1;                 /* the root */
    if (pgnos_append (up_children, pgno) == -1)
      goto nomem;
    if (b == count)
      return 0;
    if (entries_append (up_keys, keys ? keys[b] : b) == -1)
      goto nomem;
    a = b + 1;
  }
 nomem:
  vbm_set_error (ix->err, errno, "map store: %s", strerror (errno));
  return -1;
}

int
db_index_write (struct db_file *f, uint32_t root, size_t n,
                db_index_entry_fn entry, void *opaque, struct vbm_error *err)
{
  struct ix ix = { .f = f, .root = root, .entry = entry, .opaque = opaque,
                   .err = err };
  struct db_page leaf = { 0 }, inner = { 0 };
  pgnos children = empty_vector, up_children = empty_vector;
  entries keys = empty_vector, up_keys = empty_vector;
  int r = -1, done;

  if (n == 0)
    return 0;
  if (db_page_init (f, &leaf, DB_INDEX_LEAF, err) == -1 ||
      db_page_init (f, &inner, DB_INDEX_INTERIOR, err) == -1)
    goto out;
  done = pack_level (&ix, &leaf, n, NULL, NULL, &children, &keys);
  while (done == 0) {
    up_children.len = up_keys.len = 0;
    done = pack_level (&ix, &inner, keys.len, keys.ptr, children.ptr,
                       &up_children, &up_keys);
    free (children.ptr);
    free (keys.ptr);
    children = up_children;
    keys = up_keys;
    up_children = (pgnos) empty_vector;
    up_keys = (entries) empty_vector;
  }
  r = done == 1 ? 0 : -1;
 out:
  free (children.ptr);
  free (keys.ptr);
  free (ix.rec);
  free (ix.offs);
  db_page_free (&leaf);
  db_page_free (&inner);
  return r;
}
