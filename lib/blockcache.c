/* A bounded LRU cache of decoded blocks.  Entries live in a small
 * array scanned linearly: its length is bounded by max_entries, and a
 * decompressor's blocks are large, so there are few of them.
 */
#include <config.h>

#include <errno.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "blockcache.h"

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
    free (c->entries[i].data);
  free (c->entries);
  c->entries = NULL;
  pthread_cond_destroy (&c->done);
  pthread_mutex_destroy (&c->lock);
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

  if (i >= 0) {
    c->pending[i] = c->pending[--c->npending];
    pthread_cond_broadcast (&c->done);
  }
}

int
blockcache_read (struct blockcache *c, uint64_t key,
                 void *buf, size_t count, size_t offset)
{
  struct blockcache_entry *e;
  int r = 0;

  pthread_mutex_lock (&c->lock);
  /* Bounded: each wakeup means a pending decode ended. */
  while ((e = find (c, key)) == NULL && find_pending (c, key) >= 0)
    pthread_cond_wait (&c->done, &c->lock);
  if (e && offset <= e->size && count <= e->size - offset) {
    memcpy (buf, e->data + offset, count);
    e->last_use = ++c->tick;
    c->hits++;
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

void
blockcache_abandon (struct blockcache *c, uint64_t key)
{
  pthread_mutex_lock (&c->lock);
  drop_pending (c, key);
  pthread_mutex_unlock (&c->lock);
}

/* Called with the lock held. */
static void
evict_lru (struct blockcache *c)
{
  size_t i, lru = 0;

  for (i = 1; i < c->n; ++i)
    if (c->entries[i].last_use < c->entries[lru].last_use)
      lru = i;
  c->bytes -= c->entries[lru].size;
  free (c->entries[lru].data);
  c->entries[lru] = c->entries[--c->n];
}

void
blockcache_insert (struct blockcache *c, uint64_t key,
                   uint8_t *data, size_t size)
{
  struct blockcache_entry *e;

  pthread_mutex_lock (&c->lock);
  drop_pending (c, key);
  if (find (c, key) != NULL || size > c->max_bytes) {
    pthread_mutex_unlock (&c->lock);
    free (data);
    return;
  }
  while (c->n > 0 &&
         (c->n == c->max_entries || c->bytes + size > c->max_bytes))
    evict_lru (c);
  e = &c->entries[c->n++];
  e->key = key;
  e->data = data;
  e->size = size;
  e->last_use = ++c->tick;
  c->bytes += size;
  pthread_mutex_unlock (&c->lock);
}
