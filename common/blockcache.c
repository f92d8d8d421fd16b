/* A bounded LRU cache of decoded blocks.  Entries live in a small
 * array scanned linearly: its length is bounded by max_entries, and a
 * decompressor's blocks are large, so there are few of them.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "blockcache.h"

static uint8_t *
buffer_new (size_t size)
{
  void *p = mmap (NULL, size ? size : 1, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? NULL : p;
}

static void
buffer_free (uint8_t *p, size_t size)
{
  if (p)
    munmap (p, size ? size : 1);
}

int
blockcache_init (struct blockcache *c, size_t max_bytes, size_t max_entries)
{
  memset (c, 0, sizeof *c);
  if (max_entries == 0)
    max_entries = 1;
  c->entries = calloc (max_entries, sizeof *c->entries);
  if (c->entries == NULL)
    return -1;
  c->max_entries = max_entries;
  c->max_bytes = max_bytes;
  errno = pthread_mutex_init (&c->lock, NULL);
  if (errno != 0) {
    free (c->entries);
    c->entries = NULL;
    return -1;
  }
  errno = pthread_cond_init (&c->done, NULL);
  if (errno != 0) {
    pthread_mutex_destroy (&c->lock);
    free (c->entries);
    c->entries = NULL;
    return -1;
  }
  return 0;
}

void
blockcache_free (struct blockcache *c)
{
  size_t i;

  if (c->entries == NULL)
    return;
  for (i = 0; i < c->n; ++i)
    buffer_free (c->entries[i].data, c->entries[i].size);
  free (c->entries);
  c->entries = NULL;
  pthread_cond_destroy (&c->done);
  pthread_mutex_destroy (&c->lock);
}

/* Called with the lock held. */
static void
note_read (struct blockcache_entry *e, size_t count, size_t offset)
{
  e->served = count > SIZE_MAX - e->served ? SIZE_MAX : e->served + count;
  if (count > 0 && offset + count == e->size)
    e->tail_read = 1;
}

static int
read_through (const struct blockcache_entry *e)
{
  return e->tail_read && e->served >= e->size;
}

/* Called with the lock held. */
static struct blockcache_entry *
find (struct blockcache *c, uint64_t key)
{
  size_t i;

  for (i = 0; i < c->n; ++i)
    if (c->entries[i].key == key)
      return &c->entries[i];
  return NULL;
}

/* Called with the lock held. */
static ssize_t
find_pending (struct blockcache *c, uint64_t key)
{
  size_t i;

  for (i = 0; i < c->npending; ++i)
    if (c->pending[i] == key)
      return i;
  return -1;
}

/* Called with the lock held. */
static void
drop_pending (struct blockcache *c, uint64_t key)
{
  ssize_t i = find_pending (c, key);

  if (i >= 0)
    c->pending[i] = c->pending[--c->npending];
}

int
blockcache_read (struct blockcache *c, uint64_t key,
                 void *buf, size_t count, size_t offset, int nowait)
{
  struct blockcache_entry *e;
  int r = 0;

  pthread_mutex_lock (&c->lock);
  /* Bounded: each wakeup means a pending decode ended. */
  while ((e = find (c, key)) == NULL && find_pending (c, key) >= 0) {
    if (nowait) {
      pthread_mutex_unlock (&c->lock);
      return -1;
    }
    pthread_cond_wait (&c->done, &c->lock);
  }
  if (e && offset <= e->size && count <= e->size - offset) {
    memcpy (buf, e->data + offset, count);
    note_read (e, count, offset);
    e->last_use = ++c->tick;
    c->hits++;
    c->last_hit = key;
    r = 1;
  }
  else {
    c->misses++;
    /* When too many decodes run at once, decode without waiters. */
    if (c->npending < BLOCKCACHE_MAX_PENDING)
      c->pending[c->npending++] = key;
  }
  pthread_mutex_unlock (&c->lock);
  return r;
}

int
blockcache_claim_next (struct blockcache *c, uint64_t key, uint64_t prev,
                       size_t size)
{
  size_t room, i;
  int r = 0;

  pthread_mutex_lock (&c->lock);
  if (c->last_hit != prev || find (c, key) != NULL ||
      find_pending (c, key) >= 0 || c->npending == BLOCKCACHE_MAX_PENDING)
    goto out;
  room = c->max_bytes - c->bytes;
  for (i = 0; i < c->n; ++i)
    if (read_through (&c->entries[i]))
      room += c->entries[i].size;
  if (room >= size) {
    c->pending[c->npending++] = key;
    r = 1;
  }
 out:
  pthread_mutex_unlock (&c->lock);
  return r;
}

/* Called with the lock held: removes the least recently used entry,
 * among those read through if any, and returns its buffer if it has
 * the size wanted, else frees it.
 */
static uint8_t *
evict_lru (struct blockcache *c, size_t want)
{
  size_t i, lru = 0;
  struct blockcache_entry e;

  for (i = 1; i < c->n; ++i) {
    const int a = read_through (&c->entries[i]);
    const int b = read_through (&c->entries[lru]);
    if (a > b || (a == b && c->entries[i].last_use < c->entries[lru].last_use))
      lru = i;
  }
  e = c->entries[lru];
  c->entries[lru] = c->entries[--c->n];
  c->bytes -= e.size;
  if (e.size == want)
    return e.data;
  buffer_free (e.data, e.size);
  return NULL;
}

uint8_t *
blockcache_reserve (struct blockcache *c, size_t size)
{
  uint8_t *data = NULL;

  /* Callers check that their blocks fit. */
  if (size > c->max_bytes) {
    errno = EFBIG;
    return NULL;
  }
  pthread_mutex_lock (&c->lock);
  /* Waits only while other decodes hold the room: each ends with an
   * insert or an abandon, which wakes us.
   */
  while (c->bytes + size > c->max_bytes) {
    if (c->n > 0) {
      uint8_t *d = evict_lru (c, size);
      if (d && data == NULL)
        data = d;
      else if (d)
        buffer_free (d, size);
    }
    else
      pthread_cond_wait (&c->done, &c->lock);
  }
  c->bytes += size;
  pthread_mutex_unlock (&c->lock);

  if (data == NULL && (data = buffer_new (size)) == NULL) {
    int e = errno;
    pthread_mutex_lock (&c->lock);
    c->bytes -= size;
    pthread_cond_broadcast (&c->done);
    pthread_mutex_unlock (&c->lock);
    errno = e;
  }
  return data;
}

void
blockcache_insert (struct blockcache *c, uint64_t key,
                   uint8_t *data, size_t size, size_t count, size_t offset)
{
  struct blockcache_entry *e;

  pthread_mutex_lock (&c->lock);
  drop_pending (c, key);
  if (find (c, key) != NULL) {
    /* Decoded twice (too many pending): keep the first. */
    c->bytes -= size;
    buffer_free (data, size);
  }
  else {
    if (c->n == c->max_entries)
      evict_lru (c, (size_t) -1);
    e = &c->entries[c->n++];
    e->key = key;
    e->data = data;
    e->size = size;
    e->served = 0;
    e->tail_read = 0;
    note_read (e, count, offset);
    e->last_use = ++c->tick;
  }
  pthread_cond_broadcast (&c->done);
  pthread_mutex_unlock (&c->lock);
}

void
blockcache_abandon (struct blockcache *c, uint64_t key,
                    uint8_t *data, size_t size)
{
  pthread_mutex_lock (&c->lock);
  drop_pending (c, key);
  c->bytes -= size;
  pthread_cond_broadcast (&c->done);
  pthread_mutex_unlock (&c->lock);
  buffer_free (data, size);
}
