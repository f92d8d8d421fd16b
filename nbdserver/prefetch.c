/* The prefetcher (see prefetch.h): a backend in front of another.
 *
 * The guest's position in the plan is the furthest plan range it has
 * read; one thread reads the ranges after it through the backend
 * below, which fills that backend's own cache (the xz block cache,
 * the page cache of a raw file), in chunks of CHUNK bytes so that a
 * guest request never waits long behind one.  It starts at the first
 * guest request (the server may fork into a daemon before that), stops
 * window bytes ahead of the guest, and waits while any guest request
 * is in flight: guest requests always win.  A plan that does not fit
 * the guest's reads costs the reads only: the data served always
 * comes from the backend.
 *
 * A source with no cache of its own (an NBD URI) gets one here: the
 * last chunks prefetched, at most the window's worth, oldest dropped
 * first; a guest read that lies inside one is copied from it, and
 * guest writes drop the chunks they overlap.  When the remote allows
 * multi-conn, the prefetcher reads on a connection of its own, so a
 * guest request never queues behind a prefetch read and prefetching
 * goes on while the guest's requests are in flight.  Those reads
 * bypass the copy-on-write overlay below us: a chunk overlapping
 * anything the guest ever wrote (in DIRTY_SHIFT granules) is never
 * kept, so the guest always reads its writes.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "internal.h"
#include "lazy-bitmap.h"
#include "lower-bound.h"
#include "prefetch.h"

#define CHUNK (256 * 1024)
#define DIRTY_SHIFT 18          /* granules of 256 KiB */

/* A chunk kept in memory (keep mode). */
struct chunk {
  uint64_t offset;
  uint32_t length;
  char *buf;
};

/* Per plan range. */
#define R_TOUCHED 1             /* the guest read some of it */
#define R_FETCHED 2             /* prefetched before the guest came */

struct prefetch {
  const struct nbds_backend_ops *inner_ops;
  void *inner;
  struct nbds_backend_ops ops;  /* forwarders for what inner has */
  char *name;
  nbds_source_say say;
  void *opaque;

  struct nbds_plan_range *r;    /* plan order */
  size_t n;
  uint64_t *before;             /* plan bytes before range i; [n]: all */
  size_t *by_off;               /* indexes sorted by offset */
  uint8_t *state;
  uint64_t window;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;
  bool started, stop;
  size_t guest;                 /* ranges [0, guest) are behind the guest */
  size_t next;                  /* the range being prefetched */
  uint64_t next_done;           /* bytes of it read */
  unsigned pending;             /* guest requests in flight */
  char *buf;

  /* keep mode: a ring of nslots chunks, the oldest at head. */
  bool keep;
  struct chunk *ring;
  size_t nslots, head, nkept;
  uint64_t writes;              /* guest writes so far: a chunk read
                                 * meanwhile may be stale */
  uint64_t mem_hits, mem_hit_bytes;
  struct nbd_handle *own;       /* the prefetcher's connection, or NULL */
  struct lazy_bitmap dirty;     /* own: granules the guest wrote */

  /* Counters, under lock. */
  uint64_t fetched_bytes, fetched_ranges, used_bytes, used_ranges,
    hit_ranges, skipped_ranges, guest_reads;
  int error;                    /* the first prefetch read error */
};

static void
say (struct prefetch *p, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
say (struct prefetch *p, const char *fs, ...)
{
  char msg[1024];
  int len;
  va_list ap;

  if (p->say == NULL)
    return;
  len = snprintf (msg, sizeof msg, "%s: prefetch: ", p->name);
  if (len < 0 || (size_t) len >= sizeof msg)
    len = 0;
  va_start (ap, fs);
  vsnprintf (msg + len, sizeof msg - len, fs, ap);
  va_end (ap);
  p->say (p->opaque, msg);
}

/* keep mode: a buffer for the next chunk, the oldest chunk's when
 * the ring is full.  Called with the lock held.
 */
static char *
take_slot (struct prefetch *p)
{
  char *buf;

  if (p->nkept < p->nslots)
    return malloc (CHUNK);
  buf = p->ring[p->head].buf;
  p->head = (p->head + 1) % p->nslots;
  p->nkept--;
  return buf;
}

/* keep mode: copies [offset, offset+count) from a kept chunk.  Called
 * with the lock held.
 */
static bool
from_memory (struct prefetch *p, void *buf, uint32_t count, uint64_t offset)
{
  size_t i;

  for (i = 0; i < p->nkept; ++i) {
    const struct chunk *c = &p->ring[(p->head + i) % p->nslots];

    if (offset >= c->offset && offset + count <= c->offset + c->length) {
      memcpy (buf, c->buf + (offset - c->offset), count);
      p->mem_hits++;
      p->mem_hit_bytes += count;
      return true;
    }
  }
  return false;
}

/* keep mode: a guest write makes the chunks it overlaps stale. */
static void
invalidate (struct prefetch *p, uint32_t count, uint64_t offset)
{
  size_t i, n;

  if (!p->keep)
    return;
  pthread_mutex_lock (&p->lock);
  p->writes++;
  if (p->own) {
    uint64_t first = offset >> DIRTY_SHIFT;

    if (lazy_bitmap_set_range (&p->dirty, first,
                               ((offset + count - 1) >> DIRTY_SHIFT)
                               - first + 1) == -1)
      p->error = ENOMEM;        /* no more chunks kept: see keep_chunk */
  }
  /* Compact the ring without the overlapping chunks. */
  n = 0;
  for (i = 0; i < p->nkept; ++i) {
    struct chunk c = p->ring[(p->head + i) % p->nslots];

    if (c.offset < offset + count && offset < c.offset + c.length)
      free (c.buf);
    else
      p->ring[(p->head + n++) % p->nslots] = c;
  }
  p->nkept = n;
  pthread_mutex_unlock (&p->lock);
}

/* own: whether a chunk read on our connection may be kept: it must
 * not overlap what the guest wrote.  Called with the lock held.
 */
static bool
clean (struct prefetch *p, uint64_t off, uint64_t len)
{
  uint64_t first = off >> DIRTY_SHIFT;
  uint64_t end = ((off + len - 1) >> DIRTY_SHIFT) + 1;

  return p->error == 0 &&
    lazy_bitmap_find (&p->dirty, first, end, true) == end;
}

/* A prefetch read: on our own connection if there is one. */
static int
fetch (struct prefetch *p, char *buf, uint32_t len, uint64_t off)
{
  if (p->own == NULL)
    return p->inner_ops->pread (p->inner, buf, len, off);
  if (nbd_pread (p->own, buf, len, off, 0) == -1) {
    int e = nbd_get_errno ();

    return e > 0 ? e : EIO;
  }
  return 0;
}

static void *
prefetch_thread (void *arg)
{
  struct prefetch *p = arg;
  const struct nbds_plan_range *r;
  uint64_t pos, len, off, writes;
  char *buf;
  int e;

  pthread_mutex_lock (&p->lock);
  while (!p->stop) {
    pos = p->next < p->n ? p->before[p->next] + p->next_done : 0;
    /* Sharing the guest's connections, we wait for its requests. */
    if (p->next >= p->n || (p->pending > 0 && p->own == NULL) || p->error ||
        pos >= p->before[p->guest] + p->window) {
      pthread_cond_wait (&p->cond, &p->lock);
      continue;
    }
    r = &p->r[p->next];
    off = r->offset + p->next_done;
    len = r->length - p->next_done;
    if (len > CHUNK)
      len = CHUNK;
    buf = p->buf;
    if (p->keep && (buf = take_slot (p)) == NULL) {
      p->error = ENOMEM;
      break;
    }
    writes = p->writes;
    pthread_mutex_unlock (&p->lock);
    e = fetch (p, buf, len, off);
    pthread_mutex_lock (&p->lock);
    if (e) {
      /* The guest will meet the error itself if it reads there. */
      if (p->keep)
        free (buf);
      p->error = e;
      break;
    }
    if (p->keep) {
      if (writes == p->writes && (p->own == NULL || clean (p, off, len)))
        p->ring[(p->head + p->nkept++) % p->nslots] =
          (struct chunk) { off, len, buf };
      else
        free (buf);
    }
    p->fetched_bytes += len;
    /* The guest may have passed this range meanwhile. */
    if (&p->r[p->next] != r || p->next_done + len > r->length)
      continue;
    p->next_done += len;
    if (p->next_done == r->length) {
      if (!(p->state[p->next] & R_TOUCHED))
        p->state[p->next] |= R_FETCHED;
      p->fetched_ranges++;
      p->next++;
      p->next_done = 0;
    }
  }
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

/* Notes a guest read of [offset, offset+count): the plan ranges it
 * touches, the guest's new position.  Called with the lock held.
 */
static void
guest_read (struct prefetch *p, uint64_t offset, uint32_t count)
{
  uint64_t end = offset + count;
  size_t i, j;

  p->guest_reads++;
  /* The first range ending after offset: ranges are apart, so their
   * ends are sorted too.
   */
  i = LOWER_BOUND (k, p->n, p->r[p->by_off[k]].offset +
                   p->r[p->by_off[k]].length <= offset);
  for (; i < p->n && p->r[p->by_off[i]].offset < end; ++i) {
    j = p->by_off[i];
    if (!(p->state[j] & R_TOUCHED)) {
      p->state[j] |= R_TOUCHED;
      p->used_ranges++;
      p->used_bytes += p->r[j].length;
      if (p->state[j] & R_FETCHED)
        p->hit_ranges++;
    }
    if (j + 1 > p->guest)
      p->guest = j + 1;
  }
  /* Never read what the guest has already passed. */
  if (p->next < p->guest) {
    if (p->next_done)
      p->fetched_ranges++;      /* partly */
    p->skipped_ranges += p->guest - p->next - (p->next_done != 0);
    p->next = p->guest;
    p->next_done = 0;
  }
}

/* The thread starts with the first guest request: the server may
 * have forked into a daemon since the export was made.  Called with
 * the lock held.
 */
static void
start (struct prefetch *p)
{
  int e;

  if (p->started)
    return;
  p->started = true;
  e = pthread_create (&p->thread, NULL, prefetch_thread, p);
  if (e) {
    say (p, "no thread: %s", strerror (e));
    p->stop = true;
  }
}

static int
pf_pread (void *h, void *buf, uint32_t count, uint64_t offset)
{
  struct prefetch *p = h;
  int r;

  pthread_mutex_lock (&p->lock);
  guest_read (p, offset, count);
  start (p);
  if (p->keep && from_memory (p, buf, count, offset)) {
    pthread_cond_broadcast (&p->cond);
    pthread_mutex_unlock (&p->lock);
    return 0;
  }
  p->pending++;
  pthread_mutex_unlock (&p->lock);

  r = p->inner_ops->pread (p->inner, buf, count, offset);

  pthread_mutex_lock (&p->lock);
  if (--p->pending == 0)
    pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  return r;
}

/* sendfile replies are guest reads too. */
static int
pf_read_fd (void *h, uint32_t count, uint64_t offset, int *fd)
{
  struct prefetch *p = h;
  int r;

  r = p->inner_ops->read_fd (p->inner, count, offset, fd);
  if (r == 0) {
    pthread_mutex_lock (&p->lock);
    guest_read (p, offset, count);
    start (p);
    pthread_cond_broadcast (&p->cond);
    pthread_mutex_unlock (&p->lock);
  }
  return r;
}

static int
pf_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset)
{
  struct prefetch *p = h;

  invalidate (p, count, offset);
  return p->inner_ops->pwrite (p->inner, buf, count, offset);
}

static int
pf_flush (void *h)
{
  struct prefetch *p = h;

  return p->inner_ops->flush (p->inner);
}

static int
pf_trim (void *h, uint32_t count, uint64_t offset)
{
  struct prefetch *p = h;

  invalidate (p, count, offset);
  return p->inner_ops->trim (p->inner, count, offset);
}

static int
pf_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  struct prefetch *p = h;

  invalidate (p, count, offset);
  return p->inner_ops->zero (p->inner, count, offset, flags);
}

static int
pf_cache (void *h, uint32_t count, uint64_t offset)
{
  struct prefetch *p = h;

  return p->inner_ops->cache (p->inner, count, offset);
}

static int
pf_extents (void *h, uint32_t count, uint64_t offset, struct nbds_extents *e)
{
  struct prefetch *p = h;

  return p->inner_ops->extents (p->inner, count, offset, e);
}

static void
pf_free (struct prefetch *p)
{
  pthread_mutex_destroy (&p->lock);
  pthread_cond_destroy (&p->cond);
  free (p->name);
  free (p->r);
  free (p->before);
  free (p->by_off);
  free (p->state);
  free (p->buf);
  for (size_t i = 0; i < p->nkept; ++i)
    free (p->ring[(p->head + i) % p->nslots].buf);
  free (p->ring);
  if (p->own) {
    nbd_shutdown (p->own, 0);
    nbd_close (p->own);
  }
  lazy_bitmap_free (&p->dirty);
  free (p);
}

static void
pf_close (void *h)
{
  struct prefetch *p = h;
  bool started;

  pthread_mutex_lock (&p->lock);
  started = p->started && !p->stop;
  p->stop = true;
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  if (started)
    pthread_join (p->thread, NULL);

  say (p, "the guest read %" PRIu64 " of the plan's %zu ranges (%" PRIu64
       " of %" PRIu64 " bytes), %" PRIu64 " of them prefetched before it "
       "asked; prefetched %" PRIu64 " bytes (%" PRIu64 " ranges), skipped %"
       PRIu64 " ranges the guest passed first",
       p->used_ranges, p->n, p->used_bytes, p->before[p->n], p->hit_ranges,
       p->fetched_bytes, p->fetched_ranges, p->skipped_ranges);
  if (p->keep)
    say (p, "%" PRIu64 " guest reads (%" PRIu64 " bytes) served from the "
         "prefetched chunks in memory", p->mem_hits, p->mem_hit_bytes);
  if (p->error)
    say (p, "stopped at a read error: %s", strerror (p->error));
  if (p->inner_ops->close)
    p->inner_ops->close (p->inner);
  pf_free (p);
}

struct off_index {
  uint64_t offset;
  size_t i;
};

static int
cmp_off (const void *a, const void *b)
{
  const struct off_index *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* p->by_off: the ranges' indexes by offset. */
static int
sort_by_offset (struct prefetch *p)
{
  struct off_index *v = malloc ((p->n ? p->n : 1) * sizeof *v);
  size_t i;

  if (v == NULL)
    return -1;
  for (i = 0; i < p->n; ++i)
    v[i] = (struct off_index) { p->r[i].offset, i };
  qsort (v, p->n, sizeof *v, cmp_off);
  for (i = 0; i < p->n; ++i)
    p->by_off[i] = v[i].i;
  free (v);
  return 0;
}

/* The plan must be for this very disk: id is the export's identity. */
static int
check_identity (const struct nbds_export *exp,
                const struct nbds_plan_disk *pd, const char *id,
                const char *name, struct nbds_error *err)
{
  if (pd->size != exp->size) {
    nbds_set_error (err, 0, "%s: the prefetch plan was made for a disk of %"
                    PRIu64 " bytes, this one has %" PRIu64 " bytes",
                    name, pd->size, exp->size);
    err->errnum = EINVAL;
    return -1;
  }
  if (strcmp (id, pd->identity) != 0) {
    nbds_set_error (err, 0, "%s: the prefetch plan was made for another "
                    "disk of the same size (identity %s, this disk is %s)",
                    name, pd->identity, id);
    err->errnum = EINVAL;
    return -1;
  }
  return 0;
}

/* A connection of the prefetcher's own to the remote at uri, if it
 * allows multi-conn (then every connection sees the same data); else
 * NULL, and the prefetcher shares the guest's.
 */
static struct nbd_handle *
own_connection (struct prefetch *p, const char *uri, uint64_t size)
{
  struct nbd_handle *h = nbd_create ();

  if (h == NULL)
    return NULL;
  if (nbd_connect_uri (h, uri) == -1) {
    say (p, "no connection of its own (%s): it shares the guest's",
         nbd_get_error ());
    nbd_close (h);
    return NULL;
  }
  if (nbd_can_multi_conn (h) != 1 || nbd_get_size (h) != (int64_t) size) {
    say (p, "the remote does not allow multi-conn: prefetching shares "
         "the guest's connection, and waits for its requests");
    nbd_shutdown (h, 0);
    nbd_close (h);
    return NULL;
  }
  return h;
}

int
nbds_prefetch_wrap (struct nbds_export *exp, const struct nbds_plan_disk *pd,
                    const char *identity, const char *own_uri,
                    uint64_t window, bool keep, const char *name,
                    nbds_source_say say_fn, void *opaque,
                    struct nbds_error *err)
{
  char id[NBDS_IDENTITY_LEN];
  struct vbm_error verr;
  struct prefetch *p;
  size_t i;

  if (exp->ops->pread == NULL) {
    nbds_set_error (err, 0, "%s: cannot be read: no prefetch", name);
    err->errnum = ENOTSUP;
    return -1;
  }
  if (identity == NULL) {
    if (vbm_disk_identity (exp->ops->pread, exp->handle, exp->size, id,
                           &verr) == -1) {
      nbds_set_error (err, 0, "%s: %s", name, verr.msg);
      err->errnum = verr.errnum;
      return -1;
    }
    identity = id;
  }
  if (check_identity (exp, pd, identity, name, err) == -1)
    return -1;

  p = calloc (1, sizeof *p);
  if (p == NULL)
    goto nomem;
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->cond, NULL);
  p->name = strdup (name);
  p->n = pd->n;
  p->r = malloc ((pd->n ? pd->n : 1) * sizeof *p->r);
  p->before = malloc ((pd->n + 1) * sizeof *p->before);
  p->by_off = malloc ((pd->n ? pd->n : 1) * sizeof *p->by_off);
  p->state = calloc (pd->n ? pd->n : 1, 1);
  p->buf = malloc (CHUNK);
  if (keep) {
    p->keep = true;
    p->nslots = window / CHUNK;
    if (p->nslots < 1)
      p->nslots = 1;
    p->ring = calloc (p->nslots, sizeof *p->ring);
    if (p->ring == NULL) {
      pf_free (p);
      goto nomem;
    }
  }
  if (!p->name || !p->r || !p->before || !p->by_off || !p->state || !p->buf) {
    pf_free (p);
    goto nomem;
  }
  if (pd->n)
    memcpy (p->r, pd->r, pd->n * sizeof *p->r);
  p->before[0] = 0;
  for (i = 0; i < p->n; ++i)
    p->before[i + 1] = p->before[i] + p->r[i].length;
  if (sort_by_offset (p) == -1) {
    pf_free (p);
    goto nomem;
  }
  p->window = window;
  p->say = say_fn;
  p->opaque = opaque;
  lazy_bitmap_init (&p->dirty, (exp->size >> DIRTY_SHIFT) + 1);
  if (keep && own_uri)
    p->own = own_connection (p, own_uri, exp->size);
  p->inner_ops = exp->ops;
  p->inner = exp->handle;

#define FORWARD(op) p->ops.op = exp->ops->op ? pf_##op : NULL
  FORWARD (pread);
  FORWARD (pwrite);
  FORWARD (flush);
  FORWARD (trim);
  FORWARD (zero);
  FORWARD (cache);
  FORWARD (extents);
  FORWARD (read_fd);
#undef FORWARD
  p->ops.close = pf_close;
  exp->ops = &p->ops;
  exp->handle = p;
  return 0;

 nomem:
  nbds_set_error (err, ENOMEM, "%s: prefetch", name);
  return -1;
}

int
nbds_prefetch_setup (const struct nbds_plan *plan, unsigned i,
                     struct nbds_export *exp, struct nbds_disk_info *d,
                     uint64_t window, const char *name,
                     nbds_source_say say_fn, void *opaque,
                     struct nbds_error *err)
{
  const struct nbds_plan_disk *pd = nbds_plan_find (plan, i);
  char msg[1024];
  bool keep;

  if (pd == NULL) {
    snprintf (msg, sizeof msg, "%s: the prefetch plan has no disk %u: "
              "not prefetched", name, i);
    if (say_fn)
      say_fn (opaque, msg);
    return 0;
  }
  if (nbds_disk_identify (exp, d, err) == -1)
    return -1;
  if (d->streamed) {
    /* The identity is still checked: a wrong plan is an error. */
    if (check_identity (exp, pd, d->identity, name, err) == -1)
      return -1;
    /* Reading ahead would restart the decoder from the start at
     * every range behind its window: say how to make it prefetchable.
     */
    snprintf (msg, sizeof msg, "%s: a single-block xz is decoded in "
              "order only: the plan is checked but cannot be prefetched; "
              "recompressed in blocks it can be: xz -dc '%s' | "
              "xz --block-size=16MiB > blocks.xz", name, name);
    if (say_fn)
      say_fn (opaque, msg);
    return 0;
  }
  /* Only a remote disk has no cache of its own below us; name is its
   * URI.
   */
  keep = strcmp (d->format, "nbd") == 0;
  return nbds_prefetch_wrap (exp, pd, d->identity, keep ? name : NULL,
                             window, keep,
                             name, say_fn, opaque, err);
}

int
nbds_parse_size (const char *s, uint64_t *r)
{
  unsigned long long v;
  unsigned shift = 0;
  char *end;

  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno)
    return -1;
  switch (*end) {
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  }
  if (*end && strcmp (end, "iB") != 0)
    return -1;
  if (v > (UINT64_MAX >> shift))
    return -1;
  *r = (uint64_t) v << shift;
  return 0;
}
