/* A bitmap of up to 2^64 bits whose memory grows only where bits are
 * set: chunks of LAZY_BITMAP_CHUNK bits are allocated on first use
 * under a radix tree of pages, and a chunk whose bits are all set is
 * freed and remembered as full.  So a filesystem's claimed blocks cost
 * little when they are contiguous, and a corrupt block count (2^50
 * blocks on a small image) costs nothing until blocks are set.
 *
 * Searches skip whole empty or full subtrees.
 */
#ifndef VBM_LAZY_BITMAP_H
#define VBM_LAZY_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define LAZY_BITMAP_CHUNK_SHIFT 15      /* 4 KiB of bits */
#define LAZY_BITMAP_FANOUT_SHIFT 9      /* 4 KiB pages of pointers */

struct lazy_bitmap {
  uint64_t nbits;
  unsigned levels;              /* of pages above the chunks */
  void *root;                   /* NULL: all clear */
  uint64_t bytes;               /* allocated */
};

/* An empty bitmap of nbits bits; allocates nothing. */
extern void lazy_bitmap_init (struct lazy_bitmap *bm, uint64_t nbits);
extern void lazy_bitmap_free (struct lazy_bitmap *bm);

extern bool lazy_bitmap_get (const struct lazy_bitmap *bm, uint64_t bit);
/* Sets bits [bit, bit+n), clipped to nbits.  -1 (errno ENOMEM) if out
 * of memory: then some of the bits may be set.
 */
extern int lazy_bitmap_set_range (struct lazy_bitmap *bm, uint64_t bit,
                                  uint64_t n);
/* The first bit in [from, end) whose value is value, or end. */
extern uint64_t lazy_bitmap_find (const struct lazy_bitmap *bm, uint64_t from,
                                  uint64_t end, bool value);

#endif /* VBM_LAZY_BITMAP_H */
