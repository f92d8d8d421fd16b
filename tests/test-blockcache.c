/* Unit test of common/blockcache.c: hits copy the right bytes, the
 * least recently used block goes first but blocks read through go
 * before it, the byte and entry bounds hold, readers of a block being
 * decoded wait for it, and many threads together see only correct data.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockcache.h"

#define BS 4096

/* Block key's bytes: each byte tells its block and offset. */
static uint8_t
pattern (uint64_t key, size_t i)
{
  return (uint8_t) (key * 131 + i * 7 + (i >> 8));
}

/* What a decoder does on a miss. */
static void
decode (struct blockcache *c, uint64_t key, size_t size, size_t count,
        size_t offset)
{
  uint8_t *data = blockcache_reserve (c, size);
  size_t i;

  assert (data != NULL);
  for (i = 0; i < size; ++i)
    data[i] = pattern (key, i);
  blockcache_insert (c, key, data, size, count, offset);
}

static int
cached (struct blockcache *c, uint64_t key, size_t offset, size_t count)
{
  uint8_t buf[BS];
  size_t i;
  int r = blockcache_read (c, key, buf, count, offset, 1);

  if (r == 1)
    for (i = 0; i < count; ++i)
      assert (buf[i] == pattern (key, offset + i));
  if (r == 0)
    blockcache_abandon (c, key, NULL, 0);  /* not decoding it */
  return r;
}

struct waiter {
  struct blockcache *c;
  uint64_t key;
  int r;
};

static void *
wait_for_block (void *vp)
{
  struct waiter *w = vp;
  uint8_t buf[16];

  w->r = blockcache_read (w->c, w->key, buf, sizeof buf, 100, 0);
  if (w->r == 1)
    assert (buf[0] == pattern (w->key, 100));
  return NULL;
}

#define THREADS 4
#define ROUNDS 3000

static void *
stress (void *vp)
{
  struct blockcache *c = vp;
  unsigned seed = (unsigned) (uintptr_t) &seed;
  uint8_t buf[BS];
  int i;

  for (i = 0; i < ROUNDS; ++i) {
    uint64_t key = rand_r (&seed) % 16;
    size_t size = BS / 2 + key * 128;
    size_t offset = rand_r (&seed) % size;
    size_t count = rand_r (&seed) % (size - offset) + 1, j;
    int r = blockcache_read (c, key, buf, count, offset, 0);

    if (r == 0) {
      decode (c, key, size, count, offset);
      continue;
    }
    assert (r == 1);
    for (j = 0; j < count; ++j)
      assert (buf[j] == pattern (key, offset + j));
  }
  return NULL;
}

int
main (void)
{
  struct blockcache c;
  struct waiter w;
  pthread_t t[THREADS];
  uint8_t buf[BS];
  int i;

  assert (blockcache_init (&c, 3 * BS, 8) == 0);

  /* A miss leaves the block to us; then it is a hit. */
  assert (blockcache_read (&c, 1, buf, 10, 0, 0) == 0);
  /* Meanwhile another reader of it is told to wait. */
  assert (blockcache_read (&c, 1, buf, 10, 0, 1) == -1);
  decode (&c, 1, BS, 10, 0);
  /* (Not its last byte: that would make it read through.) */
  assert (cached (&c, 1, 0, BS - 1) == 1);
  assert (cached (&c, 1, 100, 5) == 1);
  assert (c.hits == 2 && c.misses == 1);

  /* Fill the cache: 1, 2, 3 (none read through), then use 1. */
  assert (blockcache_read (&c, 2, buf, 1, 0, 0) == 0);
  decode (&c, 2, BS, 1, 0);
  assert (blockcache_read (&c, 3, buf, 1, 0, 0) == 0);
  decode (&c, 3, BS, 1, 0);
  assert (c.bytes == 3 * BS && c.n == 3);
  assert (cached (&c, 1, 1, 1) == 1);
  /* A fourth block evicts the least recently used: 2. */
  assert (blockcache_read (&c, 4, buf, 1, 0, 0) == 0);
  decode (&c, 4, BS, 1, 0);
  assert (c.bytes <= c.max_bytes && c.n == 3);
  assert (cached (&c, 2, 0, 1) == 0);
  assert (cached (&c, 1, 0, 1) == 1 && cached (&c, 3, 0, 1) == 1 &&
          cached (&c, 4, 0, 1) == 1);

  /* Block 4 read through to its end, every byte: it goes first even
   * though it is the most recently used.
   */
  assert (cached (&c, 4, 0, BS) == 1);
  assert (blockcache_read (&c, 5, buf, 1, 0, 0) == 0);
  decode (&c, 5, BS, 1, 0);
  assert (cached (&c, 4, 0, 1) == 0);
  assert (cached (&c, 1, 0, 1) == 1 && cached (&c, 3, 0, 1) == 1 &&
          cached (&c, 5, 0, 1) == 1);

  /* More than the whole cache: refused, nothing changed. */
  errno = 0;
  assert (blockcache_reserve (&c, 3 * BS + 1) == NULL && errno == EFBIG);
  assert (c.bytes == 3 * BS);

  /* Abandoned: no longer pending, the next reader decodes it. */
  assert (blockcache_read (&c, 6, buf, 1, 0, 0) == 0);
  blockcache_abandon (&c, 6, NULL, 0);
  assert (blockcache_read (&c, 6, buf, 1, 0, 1) == 0);
  blockcache_abandon (&c, 6, NULL, 0);
  assert (c.npending == 0);

  /* Readahead: only for the block after the one last read, once, and
   * if it fits without evicting blocks not read through (5 is).
   */
  assert (cached (&c, 5, 0, BS) == 1);
  assert (blockcache_claim_next (&c, 6, 1, BS) == 0);
  assert (blockcache_claim_next (&c, 6, 5, BS) == 1);
  assert (blockcache_claim_next (&c, 6, 5, BS) == 0);
  /* A reader of block 6 now waits for the claimed decode. */
  w = (struct waiter) { .c = &c, .key = 6, .r = -2 };
  assert (pthread_create (&t[0], NULL, wait_for_block, &w) == 0);
  decode (&c, 6, BS, 0, 0);
  assert (pthread_join (t[0], NULL) == 0);
  assert (w.r == 1);
  blockcache_free (&c);

  /* Many small blocks: the entry bound holds. */
  assert (blockcache_init (&c, 1 << 20, 4) == 0);
  for (i = 0; i < 20; ++i) {
    assert (blockcache_read (&c, i, buf, 1, 0, 0) == 0);
    decode (&c, i, 64, 1, 0);
    assert (c.n <= 4);
  }
  assert (cached (&c, 19, 0, 64) == 1 && cached (&c, 0, 0, 1) == 0);
  blockcache_free (&c);

  /* Threads over blocks bigger in total than the cache. */
  assert (blockcache_init (&c, 4 * BS, 6) == 0);
  for (i = 0; i < THREADS; ++i)
    assert (pthread_create (&t[i], NULL, stress, &c) == 0);
  for (i = 0; i < THREADS; ++i)
    assert (pthread_join (t[i], NULL) == 0);
  assert (c.bytes <= c.max_bytes && c.n <= 6 && c.npending == 0);
  assert (c.hits + c.misses == THREADS * ROUNDS);
  blockcache_free (&c);

  printf ("test-blockcache: ok\n");
  return 0;
}
