/* Folding a trace into per-object totals.  Memory grows with the
 * distinct objects the trace touches (each with at most IVSET_MAX
 * ranges), never with the number of records; writes, which the
 * report lists one by one, are spooled to a temporary file.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower-bound.h"
#include "report.h"

#define MAX_OBJECTS (16u << 20)
#define MAX_DEVICES 4096

const char *const kclass_names[NR_KCLASS] = {
  "file", "directory", "metadata", "free space", "unmapped",
  "partition or disk",
};

enum kclass
kind_class (char kind)
{
  switch (kind) {
  case VBM_KIND_FILE: return KC_FILE;
  case VBM_KIND_DIRECTORY: return KC_DIR;
  case VBM_KIND_METADATA: return KC_META;
  case VBM_KIND_FREE: return KC_FREE;
  case 0: return KC_UNMAPPED;
  default: return KC_VOLUME;
  }
}

/* ---- Byte ranges ---- */

int
ivset_add (struct ivset *s, uint64_t start, uint64_t end)
{
  uint32_t i, j, best;
  uint64_t gap, best_gap;

  if (start >= end)
    return 0;
  /* The first range that ends at or after start (touching merges). */
  i = LOWER_BOUND (k, s->len, s->v[k].end < start);
  if (i < s->len && s->v[i].start <= end) {
    if (start < s->v[i].start)
      s->v[i].start = start;
    if (end > s->v[i].end)
      s->v[i].end = end;
    /* Swallow the ranges the grown one now reaches. */
    for (j = i + 1; j < s->len && s->v[j].start <= s->v[i].end; ++j)
      if (s->v[j].end > s->v[i].end)
        s->v[i].end = s->v[j].end;
    if (j > i + 1) {
      memmove (&s->v[i + 1], &s->v[j], (s->len - j) * sizeof *s->v);
      s->len -= j - i - 1;
    }
    return 0;
  }
  if (s->len == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 2;
    struct interval *v;

    if (cap > IVSET_MAX + 1)
      cap = IVSET_MAX + 1;
    v = realloc (s->v, cap * sizeof *v);
    if (v == NULL)
      return -1;
    s->v = v;
    s->cap = cap;
  }
  memmove (&s->v[i + 1], &s->v[i], (s->len - i) * sizeof *s->v);
  s->v[i].start = start;
  s->v[i].end = end;
  s->len++;
  if (s->len > IVSET_MAX) {
    /* Over the cap: join the two closest ranges. */
    best = 0;
    best_gap = UINT64_MAX;
    for (j = 0; j + 1 < s->len; ++j) {
      gap = s->v[j + 1].start - s->v[j].end;
      if (gap < best_gap) {
        best_gap = gap;
        best = j;
      }
    }
    s->v[best].end = s->v[best + 1].end;
    memmove (&s->v[best + 1], &s->v[best + 2],
             (s->len - best - 2) * sizeof *s->v);
    s->len--;
    s->approx = true;
  }
  return 0;
}

uint64_t
ivset_bytes (const struct ivset *s, uint64_t limit)
{
  uint64_t n = 0;
  uint32_t i;

  for (i = 0; i < s->len && s->v[i].start < limit; ++i)
    n += (s->v[i].end < limit ? s->v[i].end : limit) - s->v[i].start;
  return n;
}

/* ---- Objects ---- */

static uint64_t
hash_key (unsigned disk, char kind, const char *device, const char *path,
          uint64_t inode)
{
  uint64_t h = 0xcbf29ce484222325;
  const unsigned char *p;

#define MIX(b) (h = (h ^ (uint8_t) (b)) * 0x100000001b3)
  MIX (kind);
  MIX (disk);
  MIX (disk >> 8);
  for (p = (const unsigned char *) device; *p; ++p)
    MIX (*p);
  MIX (0);
  if (path)
    for (p = (const unsigned char *) path; *p; ++p)
      MIX (*p);
  MIX (path ? 1 : 2);
  for (int i = 0; i < 8; ++i)
    MIX (inode >> (8 * i));
#undef MIX
  return h;
}

static bool
same (const struct robj *o, unsigned disk, char kind, const char *device,
      const char *path, uint64_t inode)
{
  return o->disk == disk && o->kind == kind && o->inode == inode &&
    strcmp (o->device, device) == 0 &&
    (o->path == NULL ? path == NULL : path && strcmp (o->path, path) == 0);
}

struct robj *
agg_find (struct agg *a, unsigned disk, char kind, const char *device,
          const char *path, uint64_t inode)
{
  size_t mask = a->hash_size - 1, i;

  if (a->hash_size == 0)
    return NULL;
  i = hash_key (disk, kind, device, path, inode) & mask;
  for (; a->hash[i]; i = (i + 1) & mask) {
    struct robj *o = &a->objs[a->hash[i] - 1];
    if (same (o, disk, kind, device, path, inode))
      return o;
  }
  return NULL;
}

static int
rehash (struct agg *a)
{
  size_t size = a->hash_size ? a->hash_size * 2 : 1024, k, i;
  uint32_t *h = calloc (size, sizeof *h);

  if (h == NULL)
    return -1;
  for (k = 0; k < a->nobjs; ++k) {
    const struct robj *o = &a->objs[k];
    i = hash_key (o->disk, o->kind, o->device, o->path, o->inode) & (size - 1);
    while (h[i])
      i = (i + 1) & (size - 1);
    h[i] = k + 1;
  }
  free (a->hash);
  a->hash = h;
  a->hash_size = size;
  return 0;
}

static const char *
intern_device (struct agg *a, const char *device)
{
  char **d;
  size_t i;

  for (i = 0; i < a->ndevices; ++i)
    if (strcmp (a->devices[i], device) == 0)
      return a->devices[i];
  if (a->ndevices == MAX_DEVICES)
    return NULL;
  d = realloc (a->devices, (a->ndevices + 1) * sizeof *d);
  if (d == NULL)
    return NULL;
  a->devices = d;
  d[a->ndevices] = strdup (device);
  if (d[a->ndevices] == NULL)
    return NULL;
  return d[a->ndevices++];
}

static struct robj *
add_object (struct agg *a, const struct trace_record *rec, char *err,
            size_t errlen)
{
  struct robj *o;
  size_t i;

  if (a->nobjs >= MAX_OBJECTS) {
    snprintf (err, errlen, "more than %u distinct objects", MAX_OBJECTS);
    return NULL;
  }
  if ((a->nobjs + 1) * 2 > a->hash_size && rehash (a) == -1)
    goto nomem;
  if (a->nobjs == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 256;
    o = realloc (a->objs, cap * sizeof *o);
    if (o == NULL)
      goto nomem;
    a->objs = o;
    a->cap = cap;
  }
  o = &a->objs[a->nobjs];
  memset (o, 0, sizeof *o);
  o->device = intern_device (a, rec->device);
  if (o->device == NULL) {
    snprintf (err, errlen, "too many distinct devices");
    return NULL;
  }
  if (rec->path && (o->path = strdup (rec->path)) == NULL)
    goto nomem;
  o->disk = rec->disk;
  o->kind = rec->kind;
  o->inode = rec->inode;
  o->first_ns = rec->t_ns;
  o->first_seq = a->seq;
  o->last_req = UINT64_MAX;
  o->cov_disk = rec->kind == VBM_KIND_FREE || rec->kind == 0;
  i = hash_key (o->disk, o->kind, o->device, o->path, o->inode)
    & (a->hash_size - 1);
  while (a->hash[i])
    i = (i + 1) & (a->hash_size - 1);
  a->hash[i] = ++a->nobjs;
  return o;

 nomem:
  snprintf (err, errlen, "%s", strerror (errno));
  return NULL;
}

int
agg_init (struct agg *a, unsigned ndisks, struct grid *grid)
{
  memset (a, 0, sizeof *a);
  a->ndisks = ndisks;
  a->grid = grid;
  a->writes = tmpfile ();
  return a->writes ? 0 : -1;
}

/* Pieces of one request come together, back to back. */
static bool
same_request (const struct trace_record *p, const struct trace_record *r)
{
  return p->t_ns == r->t_ns && p->conn == r->conn && p->op == r->op &&
    p->disk == r->disk && p->offset + p->length == r->offset &&
    p->error == r->error;
}

static int
spool_write (struct agg *a, const struct trace_record *rec,
             const struct robj *o)
{
  struct wrec w = {
    .t_ns = rec->t_ns, .conn = rec->conn, .offset = rec->offset,
    .length = rec->length, .object_offset = rec->object_offset,
    .obj = o - a->objs, .error = rec->error, .op = rec->op,
  };

  if (fwrite (&w, sizeof w, 1, a->writes) != 1)
    return -1;
  a->nwrites++;
  return 0;
}

int
agg_add (struct agg *a, const struct trace_record *rec, char *err,
         size_t errlen)
{
  enum kclass kc = kind_class (rec->kind);
  struct robj *o;
  bool new_req;

  if (a->ndisks && rec->disk >= a->ndisks) {
    snprintf (err, errlen, "disk %u: the map has %u disk(s)",
              rec->disk, a->ndisks);
    return -1;
  }
  a->records++;
  a->seq++;
  new_req = !(a->have_prev && same_request (&a->prev, rec));
  a->prev = *rec;
  a->prev.device = a->prev.path = NULL;  /* they do not outlive rec */
  a->have_prev = true;
  if (new_req) {
    a->req_id++;
    a->requests[rec->op]++;
    if (rec->error)
      a->failed[rec->op]++;
  }
  if (!rec->error)
    a->op_bytes[rec->op] += rec->length;
  if (!a->any_time || rec->t_ns < a->min_ns)
    a->min_ns = rec->t_ns;
  if (!a->any_time || rec->t_ns > a->max_ns)
    a->max_ns = rec->t_ns;
  a->any_time = true;
  if (rec->conn > a->max_conn)
    a->max_conn = rec->conn;
  if (rec->op == TRACE_OP_FLUSH)
    return 0;

  o = agg_find (a, rec->disk, rec->kind, rec->device, rec->path, rec->inode);
  if (o == NULL && (o = add_object (a, rec, err, errlen)) == NULL)
    return -1;
  if (rec->t_ns < o->first_ns) {
    /* Completion order is not always time order. */
    o->first_ns = rec->t_ns;
    o->first_seq = a->seq;
  }
  a->kc_pieces[kc]++;

  switch (rec->op) {
  case TRACE_OP_READ:
    if (rec->error) {
      o->read_errors++;
      break;
    }
    if (o->last_req != a->req_id) {
      o->reads++;
      o->last_req = a->req_id;
    }
    o->bytes_read += rec->length;
    a->kc_bytes_read[kc] += rec->length;
    if (o->cov_disk) {
      if (ivset_add (&o->cov, rec->offset, rec->offset + rec->length) == -1)
        goto nomem;
    }
    else if (rec->object_offset >= 0) {
      uint64_t s = rec->object_offset, e;
      if (__builtin_add_overflow (s, rec->length, &e))
        e = UINT64_MAX;
      if (ivset_add (&o->cov, s, e) == -1)
        goto nomem;
    }
    if (a->grid)
      grid_add (a->grid, rec->t_ns, rec->disk, rec->offset, rec->length, kc);
    break;
  case TRACE_OP_WRITE: case TRACE_OP_TRIM: case TRACE_OP_ZERO:
    if (!rec->error) {
      if (o->last_req != a->req_id) {
        o->writes++;
        o->last_req = a->req_id;
      }
      o->bytes_written += rec->length;
      a->kc_bytes_written[kc] += rec->length;
      if (a->grid)
        grid_add (a->grid, rec->t_ns, rec->disk, rec->offset, rec->length,
                  GRID_WRITE);
    }
    if (spool_write (a, rec, o) == -1) {
      snprintf (err, errlen, "spooling writes: %s", strerror (errno));
      return -1;
    }
    break;
  default:
    break;
  }
  return 0;

 nomem:
  snprintf (err, errlen, "%s", strerror (errno));
  return -1;
}

int
agg_read_trace (struct agg *a, struct trace_reader *r, const char *path)
{
  struct trace_record rec;
  char err[256];
  int n;

  while ((n = trace_next (r, &rec)) == 1)
    if (agg_add (a, &rec, err, sizeof err) == -1) {
      fprintf (stderr, "%s: %s: line %" PRIu64 ": %s\n", RPROG, path,
               r->line, err);
      return -1;
    }
  if (n == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path, r->err);
    return -1;
  }
  return 0;
}

int
agg_foreach_write (struct agg *a, int (*fn) (void *, const struct wrec *),
                   void *opaque)
{
  struct wrec w;
  uint64_t i;

  if (fflush (a->writes) == EOF || fseek (a->writes, 0, SEEK_SET) == -1)
    return -1;
  for (i = 0; i < a->nwrites; ++i) {
    if (fread (&w, sizeof w, 1, a->writes) != 1)
      return -1;
    if (fn (opaque, &w) == -1)
      return -1;
  }
  return 0;
}

double
robj_coverage (const struct robj *o, uint64_t *distinct)
{
  if (o->cov_disk || !o->in_map) {
    /* Disk ranges (free space is as big as its extents), or no size
     * to clip to.
     */
    *distinct = ivset_bytes (&o->cov, UINT64_MAX);
    if (o->in_map && o->size)
      return 100.0 * *distinct / o->size;
    return NAN;
  }
  *distinct = ivset_bytes (&o->cov, o->size);
  return o->size ? 100.0 * *distinct / o->size : NAN;
}

/* ---- Totals ---- */

struct tally_table {
  struct tally *v;
  size_t len, cap;
  uint32_t *hash;
  size_t hash_size;
};

static uint64_t
hash_name (const char *device, const char *name)
{
  return hash_key (0, 0, device, name, 0);
}

static struct tally *
tally_get (struct tally_table *t, const char *device, const char *name,
           size_t namelen)
{
  size_t i, k;
  char *copy;

  copy = strndup (name, namelen);
  if (copy == NULL)
    return NULL;
  if (t->hash_size) {
    i = hash_name (device, copy) & (t->hash_size - 1);
    for (; t->hash[i]; i = (i + 1) & (t->hash_size - 1)) {
      struct tally *y = &t->v[t->hash[i] - 1];
      if (y->device == device && strcmp (y->name, copy) == 0) {
        free (copy);
        return y;
      }
    }
  }
  if ((t->len + 1) * 2 > t->hash_size) {
    size_t size = t->hash_size ? t->hash_size * 2 : 256;
    uint32_t *h = calloc (size, sizeof *h);
    if (h == NULL)
      goto fail;
    for (k = 0; k < t->len; ++k) {
      i = hash_name (t->v[k].device, t->v[k].name) & (size - 1);
      while (h[i])
        i = (i + 1) & (size - 1);
      h[i] = k + 1;
    }
    free (t->hash);
    t->hash = h;
    t->hash_size = size;
  }
  if (t->len == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct tally *v = realloc (t->v, cap * sizeof *v);
    if (v == NULL)
      goto fail;
    t->v = v;
    t->cap = cap;
  }
  memset (&t->v[t->len], 0, sizeof *t->v);
  t->v[t->len].device = device;
  t->v[t->len].name = copy;
  i = hash_name (device, copy) & (t->hash_size - 1);
  while (t->hash[i])
    i = (i + 1) & (t->hash_size - 1);
  t->hash[i] = ++t->len;
  return &t->v[t->len - 1];

 fail:
  free (copy);
  return NULL;
}

static void
tally_add (struct tally *y, const struct robj *o, uint64_t distinct)
{
  y->objects++;
  y->reads += o->reads;
  y->bytes_read += o->bytes_read;
  y->distinct_read += distinct;
  y->bytes_written += o->bytes_written;
}

/* The directory holding path, and its top-level directory. */
static size_t
dir_len (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash && slash > path ? (size_t) (slash - path) : 1;
}

static size_t
top_len (const char *path, bool is_dir)
{
  const char *slash = strchr (path + 1, '/');

  if (slash)
    return slash - path;
  return is_dir && path[1] ? strlen (path) : 1;
}

static int
cmp_first (const void *x, const void *y, void *objs)
{
  const struct robj *a = (struct robj *) objs + *(const size_t *) x;
  const struct robj *b = (struct robj *) objs + *(const size_t *) y;

  if (a->first_ns != b->first_ns)
    return a->first_ns < b->first_ns ? -1 : 1;
  return a->first_seq < b->first_seq ? -1 : a->first_seq > b->first_seq;
}

static int
cmp_bytes (const void *x, const void *y)
{
  const struct tally *a = x, *b = y;
  int r;

  if (a->bytes_read != b->bytes_read)
    return a->bytes_read > b->bytes_read ? -1 : 1;
  r = strcmp (a->device, b->device);
  return r ? r : strcmp (a->name, b->name);
}

static int
cmp_device (const void *x, const void *y)
{
  const struct tally *a = x, *b = y;

  return strverscmp (a->name, b->name);
}

static void
take_table (struct tally_table *t, struct tally **v, size_t *n,
            int (*cmp) (const void *, const void *))
{
  free (t->hash);
  if (t->len > 1)
    qsort (t->v, t->len, sizeof *t->v, cmp);
  *v = t->v;
  *n = t->len;
}

/* After the map was joined: flags, order, totals. */
int
agg_finish (struct agg *a, bool joined)
{
  struct tally_table parts = { 0 }, dirs = { 0 }, tops = { 0 };
  struct tally *y;
  uint64_t distinct;
  size_t k;

  a->order = malloc ((a->nobjs + 1) * sizeof *a->order);
  a->flagged = malloc ((a->nobjs + 1) * sizeof *a->flagged);
  if (a->order == NULL || a->flagged == NULL)
    return -1;
  for (k = 0; k < a->nobjs; ++k)
    a->order[k] = k;
  if (a->nobjs > 1)
    qsort_r (a->order, a->nobjs, sizeof *a->order, cmp_first, a->objs);

  for (k = 0; k < NR_KCLASS; ++k) {
    a->kinds[k].device = "";
    a->kinds[k].name = (char *) kclass_names[k];
  }
  for (k = 0; k < a->nobjs; ++k) {
    struct robj *o = &a->objs[a->order[k]];
    enum kclass kc = kind_class (o->kind);

    switch (kc) {
    case KC_FREE: o->flags |= RFLAG_FREE; break;
    case KC_UNMAPPED: o->flags |= RFLAG_UNMAPPED; break;
    case KC_VOLUME: o->flags |= RFLAG_RAW; break;
    default: break;
    }
    if (o->map_flags & VBM_OBJECT_DELETED)
      o->flags |= RFLAG_DELETED;
    if (o->map_flags & VBM_OBJECT_UNREACHABLE)
      o->flags |= RFLAG_UNREACHABLE;
    if (joined && !o->in_map && kc != KC_UNMAPPED) {
      o->flags |= RFLAG_NOT_IN_MAP;
      a->not_in_map++;
    }
    if (o->flags && (o->reads || o->read_errors))
      a->flagged[a->nflagged++] = a->order[k];

    robj_coverage (o, &distinct);
    tally_add (&a->kinds[kc], o, distinct);
    y = tally_get (&parts, o->device, *o->device ? o->device : "(unmapped)",
                   strlen (*o->device ? o->device : "(unmapped)"));
    if (y == NULL)
      goto nomem;
    tally_add (y, o, distinct);
    if ((kc == KC_FILE || kc == KC_DIR) && o->path && o->path[0] == '/') {
      y = tally_get (&dirs, o->device, o->path, dir_len (o->path));
      if (y == NULL)
        goto nomem;
      tally_add (y, o, distinct);
      y = tally_get (&tops, o->device, o->path,
                     top_len (o->path, kc == KC_DIR));
      if (y == NULL)
        goto nomem;
      tally_add (y, o, distinct);
    }
  }
  take_table (&parts, &a->parts, &a->nparts, cmp_device);
  take_table (&dirs, &a->dirs, &a->ndirs, cmp_bytes);
  take_table (&tops, &a->topdirs, &a->ntopdirs, cmp_bytes);
  return 0;

 nomem:
  free (parts.hash);
  free (dirs.hash);
  free (tops.hash);
  a->parts = parts.v; a->nparts = parts.len;
  a->dirs = dirs.v; a->ndirs = dirs.len;
  a->topdirs = tops.v; a->ntopdirs = tops.len;
  return -1;
}

static void
free_tallies (struct tally *v, size_t n)
{
  size_t i;

  for (i = 0; i < n; ++i)
    free (v[i].name);
  free (v);
}

void
agg_free (struct agg *a)
{
  size_t i;

  for (i = 0; i < a->nobjs; ++i) {
    free (a->objs[i].path);
    free (a->objs[i].hash);
    free (a->objs[i].cov.v);
  }
  free (a->objs);
  free (a->hash);
  for (i = 0; i < a->ndevices; ++i)
    free (a->devices[i]);
  free (a->devices);
  if (a->writes)
    fclose (a->writes);
  free (a->order);
  free (a->flagged);
  free_tallies (a->parts, a->nparts);
  free_tallies (a->dirs, a->ndirs);
  free_tallies (a->topdirs, a->ntopdirs);
  memset (a, 0, sizeof *a);
}
