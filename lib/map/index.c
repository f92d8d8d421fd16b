/* The in-memory index: the map flattened into sorted, non-overlapping
 * segments, each naming the most specific object covering it (and the
 * deleted object whose data was there, if any), found through a table
 * of buckets by offset.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "sized.h"
#include "vector.h"

#define NO_OBJECT UINT32_MAX

struct idx_object {
  int64_t id;
  uint64_t inode;
  uint64_t size;
  uint32_t device;              /* offsets into the string pool */
  uint32_t path;                /* UINT32_MAX if none */
  uint32_t flags;
  uint32_t priority;            /* higher wins where objects overlap */
  char kind;
};

struct idx_segment {
  uint64_t start;
  int64_t offset;               /* inside the object at start, or -1 */
  uint32_t object;              /* index into objects, or NO_OBJECT */
  uint32_t flags;               /* extent flags */
  uint32_t former;              /* a deleted object formerly here, or
                                 * NO_OBJECT */
};

DEFINE_VECTOR_TYPE (segment_vector, struct idx_segment);

/* What a lookup reads: a segment with its object's fields copied in,
 * in one cache line.  A random lookup in a big map costs its cache
 * misses, not its instructions: the bucket's line and this one.
 */
struct idx_entry {
  uint64_t start;
  int64_t offset;               /* inside the object at start, or -1 */
  uint64_t inode;
  uint64_t object_size;
  int64_t object_id;
  uint32_t device;              /* offsets into the string pool */
  uint32_t path;                /* UINT32_MAX if none */
  uint32_t flags;               /* extent flags */
  uint32_t object_flags;
  char kind;                    /* '\0': no object here */
  uint32_t former;              /* path of a deleted object formerly
                                 * here, UINT32_MAX if none */
} __attribute__ ((aligned (64)));
_Static_assert (sizeof (struct idx_entry) == 64, "an entry is one cache line");
DEFINE_VECTOR_TYPE (char_vector, char);

/* A lookup first goes to the bucket of its offset: the disk from the
 * first segment's start is cut into buckets of 2^shift bytes, about
 * one per segment, and bucket[b] is the last segment starting at or
 * before bucket b's start.  The answer lies between bucket[b] and
 * bucket[b + 1]: usually the same segment or the next, so a random
 * lookup touches two or three cache lines instead of one per level of
 * a binary search over a million segments.
 */
struct idx_disk {
  segment_vector segs;          /* while building */
  struct idx_entry *entries;
  size_t nentries;
  uint32_t *bucket;             /* nbuckets + 1 entries */
  size_t nbuckets;
  unsigned shift;
  uint64_t base;                /* the first segment's start */
  uint64_t end;                 /* first byte after the last extent */
};

struct vbm_index {
  struct idx_object *objects;   /* while building */
  size_t nobjects;
  char_vector pool;
  struct idx_disk *disks;
  unsigned ndisks;
};

/* An extent while building. */
struct bext {
  uint64_t start, end;
  int64_t offset;
  uint32_t object;
  uint32_t flags;
  unsigned disk;
};
DEFINE_VECTOR_TYPE (bext_vector, struct bext);

/* Gives back a finished pool's spare room. */
static void
shrink (char_vector *v)
{
  char *p = v->len ? realloc (v->ptr, v->len) : NULL;

  if (p) {
    v->ptr = p;
    v->cap = v->len;
  }
}

static int
pool_add (struct vbm_index *idx, const char *s, uint32_t *r)
{
  size_t len = strlen (s) + 1;

  if (idx->pool.len + len > UINT32_MAX - 1) {
    errno = E2BIG;
    return -1;
  }
  if (char_vector_reserve (&idx->pool, len) == -1)
    return -1;
  *r = idx->pool.len;
  memcpy (idx->pool.ptr + idx->pool.len, s, len);
  idx->pool.len += len;
  return 0;
}

/* Files beat directories beat metadata beat free space; deeper objects
 * (a file in a logical partition) beat shallower ones.  Inline data lies
 * inside the inode table at the same depth: the kind decides.
 */
static uint32_t
kind_rank (char kind)
{
  switch (kind) {
  case VBM_KIND_FILE: return 4;
  case VBM_KIND_DIRECTORY: return 3;
  case VBM_KIND_METADATA: return 2;
  case VBM_KIND_FREE: return 1;
  default: return 0;
  }
}

static int
load_objects (struct vbm_index *idx, sqlite3 *db, int64_t **id_to_index,
              int64_t *max_id, struct vbm_error *err)
{
  sqlite3_stmt *s = NULL;
  int64_t count = 0, *map = NULL;
  uint32_t *depth = NULL;
  uint32_t last_device = UINT32_MAX;
  size_t i = 0;
  int r;

  if (sqlite3_prepare_v2 (db, "SELECT count(*), coalesce(max(id), 0) FROM objects",
                          -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step (s) != SQLITE_ROW)
    goto db_fail;
  count = sqlite3_column_int64 (s, 0);
  *max_id = sqlite3_column_int64 (s, 1);
  sqlite3_finalize (s);
  s = NULL;
  /* Ids are dense in maps we write; refuse anything that would make
   * the id table unbounded.
   */
  if (count < 0 || *max_id < 0 || *max_id > 2 * count + 1024 ||
      count > UINT32_MAX - 1) {
    vbm_set_error (err, EINVAL, "map: object ids are not dense: not a map "
                   "written by virt-bmap");
    return -1;
  }
  idx->objects = calloc (count ? count : 1, sizeof *idx->objects);
  map = malloc ((*max_id + 1) * sizeof *map);
  depth = calloc (count ? count : 1, sizeof *depth);
  if (idx->objects == NULL || map == NULL || depth == NULL) {
    vbm_set_error (err, errno, "index: %s", strerror (errno));
    goto fail;
  }
  for (int64_t j = 0; j <= *max_id; ++j)
    map[j] = -1;

  if (sqlite3_prepare_v2 (db,
                          "SELECT id, parent, kind, device, path, inode, size,"
                          " flags FROM objects ORDER BY id",
                          -1, &s, NULL) != SQLITE_OK)
    goto db_fail;
  while ((r = sqlite3_step (s)) == SQLITE_ROW && i < (size_t) count) {
    struct idx_object *o = &idx->objects[i];
    int64_t id = sqlite3_column_int64 (s, 0);
    int64_t parent = sqlite3_column_int64 (s, 1);
    const char *kind = (const char *) sqlite3_column_text (s, 2);
    const char *device = (const char *) sqlite3_column_text (s, 3);
    const char *path = (const char *) sqlite3_column_text (s, 4);

    if (id < 0 || id > *max_id) {
      vbm_set_error (err, EINVAL, "map: bad object id %" PRIi64, id);
      goto fail;
    }
    map[id] = i;
    o->id = id;
    o->kind = vbm_kind_of (kind);
    o->inode = sqlite3_column_int64 (s, 5);
    o->size = sqlite3_column_int64 (s, 6);
    o->flags = sqlite3_column_int64 (s, 7);
    /* Parents precede children, so the parent's depth is known. */
    if (parent > 0 && parent < id && map[parent] >= 0)
      depth[i] = depth[map[parent]] + 1;
    o->priority = depth[i] * 8 + kind_rank (o->kind);
    /* Consecutive objects mostly share a device: store it once. */
    if (last_device != UINT32_MAX &&
        strcmp (idx->pool.ptr + last_device, device ? device : "") == 0)
      o->device = last_device;
    else if (pool_add (idx, device ? device : "", &o->device) == -1)
      goto errno_fail;
    last_device = o->device;
    o->path = UINT32_MAX;
    if (path && pool_add (idx, path, &o->path) == -1)
      goto errno_fail;
    i++;
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    goto db_fail;
  sqlite3_finalize (s);
  idx->nobjects = i;
  free (depth);
  *id_to_index = map;
  return 0;

 db_fail:
  vbm_set_error (err, EIO, "index: %s", sqlite3_errmsg (db));
  goto fail;
 errno_fail:
  vbm_set_error (err, errno, "index: %s", strerror (errno));
 fail:
  sqlite3_finalize (s);
  free (map);
  free (depth);
  return -1;
}

/* A binary max-heap of extent indices, ordered by object priority,
 * then by object (later objects are nested in earlier ones).
 */
DEFINE_VECTOR_TYPE (heap_vector, uint32_t);

struct heap {
  heap_vector v;
  const struct bext *ext;
  const struct idx_object *objects;
};

static int
heap_less (const struct heap *h, uint32_t a, uint32_t b)
{
  const struct idx_object *oa = &h->objects[h->ext[a].object];
  const struct idx_object *ob = &h->objects[h->ext[b].object];

  if (oa->priority != ob->priority)
    return oa->priority < ob->priority;
  return oa->id < ob->id;
}

static int
heap_push (struct heap *h, uint32_t e)
{
  size_t i;

  if (heap_vector_append (&h->v, e) == -1)
    return -1;
  for (i = h->v.len - 1; i > 0; ) {
    size_t p = (i - 1) / 2;
    if (!heap_less (h, h->v.ptr[p], h->v.ptr[i]))
      break;
    uint32_t t = h->v.ptr[p]; h->v.ptr[p] = h->v.ptr[i]; h->v.ptr[i] = t;
    i = p;
  }
  return 0;
}

static void
heap_pop (struct heap *h)
{
  size_t i = 0;

  h->v.ptr[0] = h->v.ptr[--h->v.len];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->v.len && heap_less (h, h->v.ptr[m], h->v.ptr[l])) m = l;
    if (r < h->v.len && heap_less (h, h->v.ptr[m], h->v.ptr[r])) m = r;
    if (m == i)
      break;
    uint32_t t = h->v.ptr[m]; h->v.ptr[m] = h->v.ptr[i]; h->v.ptr[i] = t;
    i = m;
  }
}

static int
add_segment (struct idx_disk *d, uint64_t start, const struct bext *e,
             const struct bext *former)
{
  struct idx_segment seg = {
    .start = start,
    .object = e ? e->object : NO_OBJECT,
    .offset = e && e->offset >= 0 ? e->offset + (int64_t) (start - e->start) : -1,
    .flags = e ? e->flags : 0,
    .former = former ? former->object : NO_OBJECT,
  };

  /* Merge with the previous segment when it continues it exactly. */
  if (d->segs.len > 0) {
    struct idx_segment *p = &d->segs.ptr[d->segs.len - 1];
    if (p->object == seg.object && p->flags == seg.flags &&
        p->former == seg.former &&
        (p->offset == -1
         ? seg.offset == -1
         : seg.offset == p->offset + (int64_t) (start - p->start)))
      return 0;
    if (p->start == start) {
      *p = seg;
      return 0;
    }
  }
  return segment_vector_append (&d->segs, seg);
}

/* Sweeps the extents of one disk (sorted by start): the answer changes
 * only where an extent starts or where a winning extent ends.  Former
 * extents of deleted objects (VBM_EXTENT_FORMER) compete in their own
 * heap: they never hide the current owner, and are the answer only
 * where nothing else is mapped.
 */
static int
sweep_disk (struct vbm_index *idx, struct idx_disk *d,
            const struct bext *ext, size_t n)
{
  struct heap h = { .v = empty_vector, .ext = ext, .objects = idx->objects };
  struct heap f = h;
  size_t i = 0;
  uint64_t pos;

  if (n == 0)
    return 0;
  pos = ext[0].start;
  while (i < n || h.v.len > 0 || f.v.len > 0) {
    while (i < n && ext[i].start <= pos) {
      if (heap_push (ext[i].flags & VBM_EXTENT_FORMER ? &f : &h, i) == -1)
        goto fail;
      i++;
    }
    while (h.v.len > 0 && ext[h.v.ptr[0]].end <= pos)
      heap_pop (&h);
    while (f.v.len > 0 && ext[f.v.ptr[0]].end <= pos)
      heap_pop (&f);
    if (h.v.len == 0 && f.v.len == 0) {
      if (i >= n)
        break;
      /* A hole in the map: no object until the next extent. */
      if (add_segment (d, pos, NULL, NULL) == -1)
        goto fail;
      pos = ext[i].start;
      continue;
    }
    const struct bext *top = h.v.len ? &ext[h.v.ptr[0]] : NULL;
    const struct bext *former = f.v.len ? &ext[f.v.ptr[0]] : NULL;
    uint64_t next = UINT64_MAX;
    if (top && top->end < next)
      next = top->end;
    if (former && former->end < next)
      next = former->end;
    if (i < n && ext[i].start < next)
      next = ext[i].start;
    if (add_segment (d, pos, top ? top : former, top ? former : NULL) == -1)
      goto fail;
    if (d->end < next)
      d->end = next;
    pos = next;
  }
  heap_vector_reset (&h.v);
  heap_vector_reset (&f.v);
  return 0;

 fail:
  heap_vector_reset (&h.v);
  heap_vector_reset (&f.v);
  return -1;
}

/* Turns a disk's segments into entries and builds its buckets. */
static int
make_entries (struct vbm_index *idx, struct idx_disk *d)
{
  const size_t n = d->segs.len;
  uint64_t span;
  size_t b, i;

  if (n == 0)
    return 0;
  /* Entry numbers are stored in 32 bits. */
  if (n > UINT32_MAX) {
    errno = E2BIG;
    return -1;
  }
  d->entries = aligned_alloc (sizeof *d->entries, n * sizeof *d->entries);
  if (d->entries == NULL)
    return -1;
  d->nentries = n;
  for (i = 0; i < n; ++i) {
    const struct idx_segment *seg = &d->segs.ptr[i];
    struct idx_entry *e = &d->entries[i];

    memset (e, 0, sizeof *e);
    e->start = seg->start;
    e->offset = seg->offset;
    e->flags = seg->flags;
    e->former = seg->former != NO_OBJECT
      ? idx->objects[seg->former].path : UINT32_MAX;
    if (seg->object != NO_OBJECT) {
      const struct idx_object *o = &idx->objects[seg->object];
      e->kind = o->kind ? o->kind : '?';
      e->inode = o->inode;
      e->object_size = o->size;
      e->object_id = o->id;
      e->device = o->device;
      e->path = o->path;
      e->object_flags = o->flags;
    }
  }
  segment_vector_reset (&d->segs);

  d->base = d->entries[0].start;
  span = d->end - d->base;      /* > 0: the last segment is not empty */
  d->shift = 0;
  while ((span - 1) >> d->shift >= n)
    d->shift++;
  d->nbuckets = ((span - 1) >> d->shift) + 1;
  d->bucket = malloc ((d->nbuckets + 1) * sizeof *d->bucket);
  if (d->bucket == NULL)
    return -1;
  for (b = 0, i = 0; b < d->nbuckets; ++b) {
    const uint64_t at = d->base + ((uint64_t) b << d->shift);
    while (i + 1 < n && d->entries[i + 1].start <= at)
      i++;
    d->bucket[b] = i;
  }
  /* The last bucket's search ends at the last segment. */
  d->bucket[d->nbuckets] = n - 1;
  return 0;
}

static int
compare_bext (const struct bext *a, const struct bext *b)
{
  if (a->disk != b->disk)
    return a->disk < b->disk ? -1 : 1;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  return 0;
}

struct vbm_index *
vbm_index_load (struct vbm_map *map, struct vbm_error *err)
{
  sqlite3 *db = vbm_map_db (map);
  struct vbm_index *idx;
  bext_vector ext = empty_vector;
  sqlite3_stmt *s = NULL;
  int64_t *id_to_index = NULL, max_id = 0, count;
  size_t i, j;
  int r;

  idx = calloc (1, sizeof *idx);
  if (idx == NULL) {
    vbm_set_error (err, errno, "index: %s", strerror (errno));
    return NULL;
  }
  if (load_objects (idx, db, &id_to_index, &max_id, err) == -1)
    goto fail;

  /* Room for all the extents at once, not twice as much by doubling. */
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM extents", -1, &s,
                          NULL) != SQLITE_OK ||
      sqlite3_step (s) != SQLITE_ROW)
    goto db_fail;
  count = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  s = NULL;
  if (count > 0 && bext_vector_reserve (&ext, count) == -1) {
    vbm_set_error (err, errno, "index: %s", strerror (errno));
    goto fail;
  }

  if (sqlite3_prepare_v2 (db, "SELECT disk, start, end, offset, flags, object"
                          " FROM extents", -1, &s, NULL) != SQLITE_OK)
    goto db_fail;
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    int64_t disk = sqlite3_column_int64 (s, 0);
    int64_t start = sqlite3_column_int64 (s, 1);
    int64_t end = sqlite3_column_int64 (s, 2);
    int64_t obj = sqlite3_column_int64 (s, 5);
    struct bext e;

    /* A map is a file like any other: check before trusting it. */
    if (disk < 0 || disk >= VBM_MAX_DISKS || start < 0 || end <= start ||
        obj < 0 || obj > max_id || id_to_index[obj] < 0) {
      vbm_set_error (err, EINVAL, "map: corrupt extent (disk %" PRIi64
                     ", %" PRIi64 "-%" PRIi64 ", object %" PRIi64 ")",
                     disk, start, end, obj);
      goto fail;
    }
    e = (struct bext) {
      .disk = disk, .start = start, .end = end,
      .offset = sqlite3_column_type (s, 3) == SQLITE_NULL
                ? -1 : sqlite3_column_int64 (s, 3),
      .flags = sqlite3_column_int64 (s, 4),
      .object = id_to_index[obj],
    };
    if (bext_vector_append (&ext, e) == -1) {
      vbm_set_error (err, errno, "index: %s", strerror (errno));
      goto fail;
    }
    if (e.disk + 1 > idx->ndisks)
      idx->ndisks = e.disk + 1;
  }
  if (r != SQLITE_DONE)
    goto db_fail;
  sqlite3_finalize (s);
  s = NULL;

  bext_vector_sort (&ext, compare_bext);
  idx->disks = calloc (idx->ndisks ? idx->ndisks : 1, sizeof *idx->disks);
  if (idx->disks == NULL) {
    vbm_set_error (err, errno, "index: %s", strerror (errno));
    goto fail;
  }
  for (i = 0; i < ext.len; i = j) {
    for (j = i; j < ext.len && ext.ptr[j].disk == ext.ptr[i].disk; ++j)
      ;
    if (sweep_disk (idx, &idx->disks[ext.ptr[i].disk], &ext.ptr[i],
                    j - i) == -1) {
      vbm_set_error (err, errno, "index: %s", strerror (errno));
      goto fail;
    }
  }
  /* Each step frees what the next does not need: the peak of memory
   * while loading stays near the index's own size.
   */
  bext_vector_reset (&ext);
  free (id_to_index);
  id_to_index = NULL;
  shrink (&idx->pool);
  for (i = 0; i < idx->ndisks; ++i)
    if (make_entries (idx, &idx->disks[i]) == -1) {
      vbm_set_error (err, errno, "index: %s", strerror (errno));
      goto fail;
    }
  /* The entries hold what lookups need of the objects. */
  free (idx->objects);
  idx->objects = NULL;
  idx->nobjects = 0;
  return idx;

 db_fail:
  vbm_set_error (err, EIO, "index: %s", sqlite3_errmsg (db));
 fail:
  sqlite3_finalize (s);
  bext_vector_reset (&ext);
  free (id_to_index);
  vbm_index_free (idx);
  return NULL;
}

void
vbm_index_free (struct vbm_index *idx)
{
  unsigned d;

  if (idx == NULL)
    return;
  if (idx->disks)
    for (d = 0; d < idx->ndisks; ++d) {
      segment_vector_reset (&idx->disks[d].segs);
      free (idx->disks[d].entries);
      free (idx->disks[d].bucket);
    }
  free (idx->disks);
  free (idx->objects);
  char_vector_reset (&idx->pool);
  free (idx);
}

static inline void
fill_hit (struct vbm_hit *hit, const struct vbm_index *idx,
          const struct idx_disk *d, const struct idx_entry *e, unsigned disk)
{
  *hit = (struct vbm_hit) {
    .struct_size = sizeof *hit,
    .disk = disk,
    .kind = e->kind,
    .device = idx->pool.ptr + e->device,
    .path = e->path == UINT32_MAX ? NULL : idx->pool.ptr + e->path,
    .inode = e->inode,
    .object_size = e->object_size,
    .object_flags = e->object_flags,
    .start = e->start,
    .end = e + 1 < d->entries + d->nentries ? e[1].start : d->end,
    .object_offset = e->offset,
    .extent_flags = e->flags,
    .object_id = e->object_id,
    .former = e->former == UINT32_MAX ? NULL : idx->pool.ptr + e->former,
  };
}

/* struct vbm_hit of the first version ends with object_id. */
#define HIT_MIN_SIZE (offsetof (struct vbm_hit, object_id) + sizeof (int64_t))

int
vbm_index_lookup (const struct vbm_index *idx, unsigned disk, uint64_t offset,
                  struct vbm_hit *hit)
{
  struct vbm_hit full;
  const struct idx_disk *d;
  const struct idx_entry *e;
  size_t b, n;

  if (disk >= idx->ndisks)
    return -1;
  d = &idx->disks[disk];
  if (d->nentries == 0 || offset < d->base || offset >= d->end)
    return -1;
  b = (offset - d->base) >> d->shift;
  e = &d->entries[d->bucket[b]];
  n = d->bucket[b + 1] - d->bucket[b] + 1;
  /* The last entry starting at or before offset among those n: a
   * branchless binary search (the compiler emits a conditional move),
   * for the rare crowded bucket.
   */
  while (n > 1) {
    size_t half = n / 2;
    e = e[half].start <= offset ? e + half : e;
    n -= half;
  }
  if (e->kind == '\0')
    return -1;
  /* The caller will most likely read the path: start fetching it. */
  if (e->path != UINT32_MAX)
    __builtin_prefetch (idx->pool.ptr + e->path);
  /* One lookup per request: a caller of this version's size (the
   * usual case) gets the answer written in place.
   */
  if (vbm_sized_size (hit) == sizeof *hit) {
    fill_hit (hit, idx, d, e, disk);
    return 0;
  }
  if (vbm_sized_size (hit) < HIT_MIN_SIZE)
    return -1;
  fill_hit (&full, idx, d, e, disk);
  vbm_copy_sized (hit, &full, sizeof full);
  return 0;
}

size_t
vbm_index_memory (const struct vbm_index *idx)
{
  size_t bytes = sizeof *idx + idx->pool.cap +
    idx->ndisks * sizeof *idx->disks;
  unsigned d;

  for (d = 0; d < idx->ndisks; ++d)
    bytes += idx->disks[d].nentries * sizeof (struct idx_entry) +
      (idx->disks[d].nbuckets + 1) * sizeof (uint32_t);
  return bytes;
}
