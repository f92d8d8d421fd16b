/* A bounded LRU cache of decoded blocks, keyed by block number, safe
 * to use from many threads.  Used by sources that decompress (xz).
 */
#ifndef VBM_BLOCKCACHE_H
#define VBM_BLOCKCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct blockcache_entry {
  uint64_t key;
  uint8_t *data;
  size_t size;
  uint64_t last_use;            /* tick of the last hit */
};

/* Blocks being decoded right now: other readers of the same block wait
 * for it rather than decode it again.
 */
#define BLOCKCACHE_MAX_PENDING 64

struct blockcache {
  pthread_mutex_t lock;
  pthread_cond_t done;          /* a pending block was inserted or dropped */
  uint64_t pending[BLOCKCACHE_MAX_PENDING];
  size_t npending;
  struct blockcache_entry *entries;
  size_t n, max_entries;
  size_t bytes, max_bytes;
  uint64_t tick;
  uint64_t hits, misses;
};

/* max_bytes bounds the decoded data held; max_entries the number of
 * blocks (so lookups stay cheap with tiny blocks).  Returns -1 with
 * errno set.
 */
extern int blockcache_init (struct blockcache *c, size_t max_bytes,
                            size_t max_entries);
extern void blockcache_free (struct blockcache *c);

/* Copies count bytes at offset inside block key to buf and returns 1
 * if the block is cached.  If another thread is decoding it, waits for
 * that first.  Otherwise returns 0: the caller must decode the block
 * and then call blockcache_insert, or blockcache_abandon on failure.
 */
extern int blockcache_read (struct blockcache *c, uint64_t key,
                            void *buf, size_t count, size_t offset);

/* Takes ownership of data (malloc'd, size bytes), evicting least
 * recently used blocks to make room (data is freed if it is bigger
 * than the cache), and wakes the threads waiting for it.
 */
extern void blockcache_insert (struct blockcache *c, uint64_t key,
                               uint8_t *data, size_t size);
extern void blockcache_abandon (struct blockcache *c, uint64_t key);

#endif /* VBM_BLOCKCACHE_H */
