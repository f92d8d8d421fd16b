/* The entries of the map's two big indexes, sorted in SQLite's order
 * (see store-keys.h).
 *
 * Sorting 200,000 paths by comparison took longer than writing all
 * the tables: paths share long prefixes, so every comparison walks
 * them.  A radix sort (most significant byte first, stable, so equal
 * keys stay in id order) looks at each byte about once.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hugepages.h"
#include "store-keys.h"

/* ---- objects_path. ---- */

/* The index of DEVICE in pi->devices (few: one per volume). */
static int
intern_device (struct path_index *pi, const char *device, uint32_t *idx)
{
  size_t i = pi->devices.len;
  char *copy;

  if (i > 0 && strcmp (pi->devices.ptr[i - 1], device) == 0) {
    *idx = i - 1;
    return 0;
  }
  for (i = 0; i < pi->devices.len; ++i)
    if (strcmp (pi->devices.ptr[i], device) == 0) {
      *idx = i;
      return 0;
    }
  copy = strdup (device);
  if (copy == NULL || string_vector_append (&pi->devices, copy) == -1) {
    free (copy);
    return -1;
  }
  *idx = pi->devices.len - 1;
  return 0;
}

int
path_index_add (struct path_index *pi, const char *device, const char *path,
                int64_t id)
{
  struct path_key k = { .len = NO_PATH, .id = id };
  size_t len = path ? strlen (path) : 0;

  if (intern_device (pi, device, &k.device) == -1)
    return -1;
  if (path) {
    if (len >= NO_PATH) {
      errno = ERANGE;
      return -1;
    }
    k.len = len;
    k.off = pi->pool.len;
    if (bytes_reserve (&pi->pool, len) == -1)
      return -1;
    memcpy (pi->pool.ptr + pi->pool.len, path, len);
    pi->pool.len += len;
  }
  return path_keys_append (&pi->keys, k);
}

void
path_index_free (struct path_index *pi)
{
  size_t i;

  for (i = 0; i < pi->devices.len; ++i)
    free (pi->devices.ptr[i]);
  free (pi->devices.ptr);
  free (pi->keys.ptr);
  free (pi->pool.ptr);
}

struct path_sort {
  const char *pool;
  size_t depth;                 /* bytes known equal */
};

/* Two paths equal in their first ps->depth bytes. */
static int
compare_paths (const void *av, const void *bv, void *psv)
{
  const struct path_key *a = av, *b = bv;
  const struct path_sort *ps = psv;
  size_t la = a->len - ps->depth, lb = b->len - ps->depth;
  int c = memcmp (ps->pool + a->off + ps->depth, ps->pool + b->off + ps->depth,
                  la < lb ? la : lb);

  if (c)
    return c;
  if (la != lb)
    return la < lb ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* 0 where the path ends, else 1 + its byte. */
static unsigned
bucket (const char *pool, const struct path_key *k, size_t depth)
{
  return depth < k->len ? 1 + (unsigned char) pool[k->off + depth] : 0;
}

/* Paths deeper than this many distinct levels (hostile, surely) are
 * sorted by comparison: it bounds the stack.
 */
#define MAX_RADIX_LEVELS 64

static void
radix_sort (const char *pool, struct path_key *k, struct path_key *tmp,
            size_t n, size_t depth, unsigned level)
{
  size_t count[257], start[257], i, b, s;
  struct path_sort ps = { .pool = pool };

  while (n >= 32 && level < MAX_RADIX_LEVELS) {
    memset (count, 0, sizeof count);
    for (i = 0; i < n; ++i)
      ++count[bucket (pool, &k[i], depth)];
    b = bucket (pool, &k[0], depth);
    if (count[b] == n) {
      if (b == 0)
        return;                 /* all equal: already in id order */
      ++depth;                  /* a byte they share */
      continue;
    }
    for (b = 0, s = 0; b < 257; ++b) {
      start[b] = s;
      s += count[b];
    }
    for (i = 0; i < n; ++i)
      tmp[start[bucket (pool, &k[i], depth)]++] = k[i];
    memcpy (k, tmp, n * sizeof *k);
    /* Bucket 0 holds equal paths; recurse into the others. */
    for (b = 1, s = count[0]; b < 257; s += count[b++])
      if (count[b] > 1)
        radix_sort (pool, k + s, tmp, count[b], depth + 1, level + 1);
    return;
  }
  ps.depth = depth;
  qsort_r (k, n, sizeof *k, compare_paths, &ps);
}

static int
compare_devices (const void *av, const void *bv, void *piv)
{
  const struct path_index *pi = piv;
  unsigned a = *(const unsigned *) av, b = *(const unsigned *) bv;

  return strcmp (pi->devices.ptr[a], pi->devices.ptr[b]);
}

int
path_index_sort (struct path_index *pi)
{
  size_t ndev = pi->devices.len, n = pi->keys.len, i, b, s;
  CLEANUP_FREE unsigned *order = NULL, *rank = NULL;
  CLEANUP_FREE size_t *end = NULL, *count = NULL;
  CLEANUP_FREE struct path_key *tmp = NULL;
  struct path_key *k = pi->keys.ptr;

  if (n < 2)
    return 0;                   /* so there is a device */
  order = malloc (ndev * sizeof *order);
  rank = malloc (ndev * sizeof *rank);
  end = malloc (2 * ndev * sizeof *end);
  count = calloc (2 * ndev, sizeof *count);
  tmp = malloc (n * sizeof *tmp);
  if (order == NULL || rank == NULL || end == NULL || count == NULL ||
      tmp == NULL)
    return -1;
  vbm_advise_huge (tmp, n * sizeof *tmp);

  /* Group by device (in the order of their names), NULL paths first:
   * group 2 * rank + (path != NULL).
   */
  for (i = 0; i < ndev; ++i)
    order[i] = i;
  qsort_r (order, ndev, sizeof *order, compare_devices, pi);
  for (i = 0; i < ndev; ++i)
    rank[order[i]] = i;
#define GROUP(key) (2 * rank[(key)->device] + ((key)->len != NO_PATH))
  for (i = 0; i < n; ++i)
    ++count[GROUP (&k[i])];
  for (b = 0, s = 0; b < 2 * ndev; ++b)
    end[b] = s += count[b];
  for (i = n; i-- > 0; )
    tmp[--end[GROUP (&k[i])]] = k[i];
#undef GROUP
  memcpy (k, tmp, n * sizeof *k);
  /* end[] now holds where each group starts. */
  for (b = 1; b < 2 * ndev; b += 2)
    if (count[b] > 1)
      radix_sort (pi->pool.ptr, k + end[b], tmp, count[b], 0, 0);
  return 0;
}

unsigned
path_index_entry (void *piv, size_t i, struct db_value *vals)
{
  const struct path_index *pi = piv;
  const struct path_key *k = &pi->keys.ptr[i];
  const char *dev = pi->devices.ptr[k->device];

  vals[0] = DB_TEXTV (dev, strlen (dev));
  vals[1] = k->len == NO_PATH ? DB_NULLV
    : DB_TEXTV (pi->pool.ptr + k->off, k->len);
  vals[2] = DB_INTV (k->id);
  return 3;
}

/* ---- extents_object. ---- */

static int
compare_extent_keys (const struct extent_key *a, const struct extent_key *b)
{
  if (a->object != b->object)
    return a->object < b->object ? -1 : 1;
  if (a->offset != b->offset)
    return a->offset < b->offset ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

int
extent_index_add (struct extent_index *ei, int64_t object, int64_t offset,
                  int64_t id)
{
  struct extent_key k = { .object = object, .offset = offset < 0 ? -1 : offset,
                          .id = id };

  /* Mappers mostly add a file's extents in order: then no sort. */
  if (ei->keys.len > 0 &&
      compare_extent_keys (&ei->keys.ptr[ei->keys.len - 1], &k) > 0)
    ei->unsorted = true;
  return extent_keys_append (&ei->keys, k);
}

void
extent_index_sort (struct extent_index *ei)
{
  if (ei->unsorted)
    extent_keys_sort (&ei->keys, compare_extent_keys);
  ei->unsorted = false;
}

unsigned
extent_index_entry (void *eiv, size_t i, struct db_value *vals)
{
  const struct extent_index *ei = eiv;
  const struct extent_key *k = &ei->keys.ptr[i];

  vals[0] = DB_INTV (k->object);
  vals[1] = k->offset < 0 ? DB_NULLV : DB_INTV (k->offset);
  vals[2] = DB_INTV (k->id);
  return 3;
}
