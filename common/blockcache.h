/* A bounded LRU cache of decoded blocks, keyed by block number, safe
 * to use from many threads.  Used by sources that decompress (xz).
 *
 * Blocks read through to their end, every byte once (what readers
 * going forward do), are evicted first: each reader then keeps only
 * the block it is in, and clients like nbdcopy reading several regions
 * at once do not evict each other's blocks.
 *
 * The bound covers the blocks being decoded too: a decoder first
 * reserves room for its block (blockcache_reserve), so cached and
 * in-flight data together never exceed max_bytes.  Block buffers are
 * mapped pages, returned to the system when dropped (a malloc arena
 * per thread would keep them), and an evicted block's buffer is handed
 * to the next block of the same size.
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
  size_t served;                /* bytes read from it (saturating) */
  int tail_read;                /* its last byte was read */
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
  size_t bytes, max_bytes;      /* bytes: cached plus reserved */
  uint64_t tick;
  uint64_t hits, misses;
  uint64_t last_hit;            /* key of the block last read from */
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
 * that first, or returns -1 at once if nowait.  Otherwise returns 0:
 * the caller must decode the block (blockcache_reserve) and then call
 * blockcache_insert, or blockcache_abandon on failure.
 */
extern int blockcache_read (struct blockcache *c, uint64_t key,
                            void *buf, size_t count, size_t offset,
                            int nowait);

/* Readahead: returns 1, with key marked as being decoded by the
 * caller, if key (size bytes) is neither cached nor being decoded,
 * the block last read from was prev (a reader going forward), and
 * there is room for it without evicting blocks not read through;
 * else 0.
 */
extern int blockcache_claim_next (struct blockcache *c, uint64_t key,
                                  uint64_t prev, size_t size);

/* Waits until size bytes (at most max_bytes) fit beside the cached
 * blocks and the other reservations, evicting least recently used
 * blocks, and returns a buffer of size bytes for the block, or NULL
 * (errno set, nothing reserved).
 */
extern uint8_t *blockcache_reserve (struct blockcache *c, size_t size);

/* Takes ownership of data (from blockcache_reserve, size bytes) in
 * place of its reservation, and wakes the threads waiting for it.
 * The caller has read count bytes at offset from it.
 */
extern void blockcache_insert (struct blockcache *c, uint64_t key,
                               uint8_t *data, size_t size,
                               size_t count, size_t offset);
/* Gives up on block key: frees data (may be NULL) and its reservation
 * of size bytes (0 if none was made).
 */
extern void blockcache_abandon (struct blockcache *c, uint64_t key,
                                uint8_t *data, size_t size);

#endif /* VBM_BLOCKCACHE_H */
