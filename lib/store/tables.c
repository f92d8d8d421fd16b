/* The map's big b-trees, written straight into the file (see
 * store-tables.h and dbwrite.h).
 *
 * Rows are packed into the tables' leaf pages as they come; the index
 * entries and R*Tree cells are kept and written at the end, the
 * objects_path index in a second thread while this one writes the
 * extents_object index and the R*Tree.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dbwrite.h"
#include "internal.h"
#include "rtree-write.h"
#include "store-keys.h"
#include "store-tables.h"

struct map_tables {
  struct map_roots roots;
  struct db_file *f;
  struct db_table *objects, *extents;
  struct path_index paths;
  struct extent_index extent_keys;
  rtree_cells rtree;
};

static void
free_tables (struct map_tables *t)
{
  db_table_free (t->objects);
  db_table_free (t->extents);
  path_index_free (&t->paths);
  free (t->extent_keys.keys.ptr);
  free (t->rtree.ptr);
  free (t);
}

void
map_tables_abort (struct map_tables *t)
{
  if (t) {
    if (t->f)
      db_file_close (t->f, 1, NULL);
    free_tables (t);
  }
}

struct map_tables *
map_tables_open (const char *path, const struct map_roots *roots,
                 struct vbm_error *err)
{
  struct map_tables *t = calloc (1, sizeof *t);

  if (t == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return NULL;
  }
  t->roots = *roots;
  t->f = db_file_open (path, err);
  if (t->f == NULL ||
      (t->objects = db_table_new (t->f, roots->objects, err)) == NULL ||
      (t->extents = db_table_new (t->f, roots->extents, err)) == NULL) {
    map_tables_abort (t);
    return NULL;
  }
  return t;
}

static struct db_value
text_or_null (const char *s)
{
  return s ? DB_TEXTV (s, strlen (s)) : DB_NULLV;
}

static int
nomem (struct vbm_error *err)
{
  vbm_set_error (err, errno, "map store: %s", strerror (errno));
  return -1;
}

int
map_tables_add_object (struct map_tables *t, int64_t id,
                       const struct vbm_object *obj, struct vbm_error *err)
{
  char kind[1] = { obj->kind };
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

  return db_table_append (t->objects, id, vals, sizeof vals / sizeof vals[0],
                          err);
}

int
map_tables_add_extent (struct map_tables *t, int64_t id, int64_t object,
                       unsigned disk, uint64_t start, uint64_t end,
                       int64_t object_offset, unsigned flags,
                       struct vbm_error *err)
{
  const struct db_value vals[] = {
    DB_NULLV,                   /* id: the rowid */
    DB_INTV (object),
    DB_INTV (disk),
    DB_INTV ((int64_t) start),
    DB_INTV ((int64_t) end),
    object_offset >= 0 ? DB_INTV (object_offset) : DB_NULLV,
    DB_INTV (flags),
  };

  if (db_table_append (t->extents, id, vals, sizeof vals / sizeof vals[0],
                       err) == -1)
    return -1;
  if (rtree_cells_add (&t->rtree, id, disk, start, end) == -1)
    return nomem (err);
  return 0;
}

int
map_tables_index_object (struct map_tables *t, int64_t id,
                         const char *device, const char *path,
                         struct vbm_error *err)
{
  if (path_index_add (&t->paths, device, path, id) == -1)
    return nomem (err);
  return 0;
}

int
map_tables_index_extent (struct map_tables *t, int64_t id, int64_t object,
                         int64_t object_offset, struct vbm_error *err)
{
  if (extent_index_add (&t->extent_keys, object, object_offset, id) == -1)
    return nomem (err);
  return 0;
}

/* Room for 2M more is only address space until used.  A quarter more
 * for metadata objects and fragmented files: running out means copying
 * an array.
 */
static uint64_t
expected (uint64_t n)
{
  if (n > 2 << 20)
    n = 2 << 20;
  return n + n / 4 + 4096;
}

/* Failing to reserve is harmless: the arrays grow as they go. */
void
map_tables_expect_rows (struct map_tables *t, uint64_t n)
{
  rtree_cells_reserve (&t->rtree, expected (n));
}

void
map_tables_expect_keys (struct map_tables *t, uint64_t n)
{
  n = expected (n);
  path_keys_reserve (&t->paths.keys, n);
  bytes_reserve (&t->paths.pool, n * 24);
  extent_keys_reserve (&t->extent_keys.keys, n);
}

/* ---- The end. ---- */

struct path_job {
  struct map_tables *t;
  struct vbm_error err;
  int r;
};

static void *
write_path_index (void *jv)
{
  struct path_job *job = jv;
  struct map_tables *t = job->t;

  if (path_index_sort (&t->paths) == -1)
    job->r = nomem (&job->err);
  else
    job->r = db_index_write (t->f, t->roots.objects_path, t->paths.keys.len,
                             path_index_entry, &t->paths, &job->err);
  return NULL;
}

static int
write_extent_indexes (struct map_tables *t, struct vbm_error *err)
{
  extent_index_sort (&t->extent_keys);
  if (db_index_write (t->f, t->roots.extents_object,
                      t->extent_keys.keys.len, extent_index_entry,
                      &t->extent_keys, err) == -1)
    return -1;
  /* The keys' memory is better given back before the R*Tree sorts. */
  free (t->extent_keys.keys.ptr);
  t->extent_keys.keys = (extent_keys) empty_vector;
  return rtree_write (t->f, &t->roots.rtree, t->roots.rtree_node_size,
                      &t->rtree, err);
}

int
map_tables_finish (struct map_tables *t, struct vbm_error *err)
{
  struct db_table *objects = t->objects, *extents = t->extents;
  struct path_job job = { .t = t };
  pthread_t thread;
  int r, e;

  t->objects = t->extents = NULL;
  r = db_table_finish (objects, err);
  if (db_table_finish (extents, err) == -1)
    r = -1;
  if (r == 0) {
    /* The two halves take about as long as each other. */
    e = pthread_create (&thread, NULL, write_path_index, &job);
    if (e != 0)
      write_path_index (&job);
    r = write_extent_indexes (t, err);
    if (e == 0)
      pthread_join (thread, NULL);
    if (r == 0 && job.r == -1) {
      *err = job.err;
      r = -1;
    }
  }
  if (r == 0) {
    r = db_file_close (t->f, 0, err);
    t->f = NULL;
  }
  map_tables_abort (t);
  return r;
}
