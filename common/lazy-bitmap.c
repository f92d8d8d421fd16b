/* See lazy-bitmap.h.  A node at level 0 is a chunk of bits; above it,
 * a page of pointers to the nodes one level down.  A pointer is NULL
 * for a subtree with no bit set, FULL for a chunk with all set.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-bitmap.h"

#define CHUNK_BITS (UINT64_C (1) << LAZY_BITMAP_CHUNK_SHIFT)
#define CHUNK_WORDS (CHUNK_BITS / 64)
#define FANOUT (UINT64_C (1) << LAZY_BITMAP_FANOUT_SHIFT)

struct chunk {
  uint64_t count;               /* bits set */
  uint64_t w[CHUNK_WORDS];
};

/* A chunk with all its bits set: no memory. */
static char full_marker;
#define FULL ((void *) &full_marker)

/* Bits covered by one node at level. */
static unsigned
span_shift (unsigned level)
{
  return LAZY_BITMAP_CHUNK_SHIFT + level * LAZY_BITMAP_FANOUT_SHIFT;
}

void
lazy_bitmap_init (struct lazy_bitmap *bm, uint64_t nbits)
{
  memset (bm, 0, sizeof *bm);
  bm->nbits = nbits;
  /* Enough levels of pages that the root spans nbits. */
  while (span_shift (bm->levels) < 64 &&
         (nbits - (nbits > 0)) >> span_shift (bm->levels) > 0)
    bm->levels++;
}

static void
free_node (void *node, unsigned level)
{
  size_t i;

  if (node == NULL || node == FULL)
    return;
  if (level > 0)
    for (i = 0; i < FANOUT; ++i)
      free_node (((void **) node)[i], level - 1);
  free (node);
}

void
lazy_bitmap_free (struct lazy_bitmap *bm)
{
  free_node (bm->root, bm->levels);
  bm->root = NULL;
  bm->bytes = 0;
}

static size_t
slot (uint64_t bit, unsigned level)
{
  return (bit >> span_shift (level - 1)) & (FANOUT - 1);
}

bool
lazy_bitmap_get (const struct lazy_bitmap *bm, uint64_t bit)
{
  const void *node = bm->root;
  unsigned level;
  uint64_t i;

  if (bit >= bm->nbits)
    return false;
  for (level = bm->levels; level > 0; level--) {
    if (node == NULL || node == FULL)
      break;
    node = ((void *const *) node)[slot (bit, level)];
  }
  if (node == NULL || node == FULL)
    return node == FULL;
  i = bit & (CHUNK_BITS - 1);
  return (((const struct chunk *) node)->w[i / 64] >> (i % 64)) & 1;
}

/* The children of a node spanning from base that [lo, hi) touches are
 * first..last; child i spans from *cbase, and [*clo, *chi) is the part
 * of [lo, hi) in it.
 */
static void
children (unsigned shift, uint64_t base, uint64_t lo, uint64_t hi,
          size_t *first, size_t *last)
{
  *first = (lo - base) >> shift;
  *last = (hi - 1 - base) >> shift;
}

static void
child (unsigned shift, uint64_t base, size_t i, uint64_t lo, uint64_t hi,
       uint64_t *cbase, uint64_t *clo, uint64_t *chi)
{
  *cbase = base + ((uint64_t) i << shift);
  *clo = lo > *cbase ? lo : *cbase;
  *chi = hi - *cbase > (UINT64_C (1) << shift)
    ? *cbase + (UINT64_C (1) << shift) : hi;
}

/* Sets [lo, hi) inside one chunk, lo < hi. */
static int
set_in_chunk (struct lazy_bitmap *bm, void **p, uint64_t lo, uint64_t hi)
{
  struct chunk *c = *p;

  if (c == FULL)
    return 0;
  if (lo == 0 && hi == CHUNK_BITS) {
    if (c) {
      free (c);
      bm->bytes -= sizeof *c;
    }
    *p = FULL;
    return 0;
  }
  if (c == NULL) {
    c = calloc (1, sizeof *c);
    if (c == NULL)
      return -1;
    bm->bytes += sizeof *c;
    *p = c;
  }
  while (lo < hi) {
    unsigned b = lo % 64;
    uint64_t n = hi - lo < 64 - b ? hi - lo : 64 - b;
    uint64_t mask = (n == 64 ? ~UINT64_C (0) : ((UINT64_C (1) << n) - 1)) << b;

    c->count += __builtin_popcountll (mask & ~c->w[lo / 64]);
    c->w[lo / 64] |= mask;
    lo += n;
  }
  if (c->count == CHUNK_BITS) {
    free (c);
    bm->bytes -= sizeof *c;
    *p = FULL;
  }
  return 0;
}

/* Sets [lo, hi) of the node *p at level spanning from base. */
static int
set_in_node (struct lazy_bitmap *bm, void **p, unsigned level,
             uint64_t base, uint64_t lo, uint64_t hi)
{
  const unsigned child_shift = level > 0 ? span_shift (level - 1) : 0;
  void **page;
  size_t i, last;

  if (level == 0)
    return set_in_chunk (bm, p, lo - base, hi - base);
  if (*p == NULL) {
    *p = calloc (FANOUT, sizeof (void *));
    if (*p == NULL)
      return -1;
    bm->bytes += FANOUT * sizeof (void *);
  }
  page = *p;
  children (child_shift, base, lo, hi, &i, &last);
  for (; i <= last; ++i) {
    uint64_t cbase, clo, chi;

    if (page[i] == FULL)
      continue;
    child (child_shift, base, i, lo, hi, &cbase, &clo, &chi);
    if (set_in_node (bm, &page[i], level - 1, cbase, clo, chi) == -1)
      return -1;
  }
  return 0;
}

int
lazy_bitmap_set_range (struct lazy_bitmap *bm, uint64_t bit, uint64_t n)
{
  uint64_t end = bit + n;

  if (end < bit || end > bm->nbits)
    end = bm->nbits;
  if (bit >= end)
    return 0;
  if (set_in_node (bm, &bm->root, bm->levels, 0, bit, end) == -1) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

/* The first bit in [lo, hi) of a chunk with value, or hi. */
static uint64_t
find_in_chunk (const struct chunk *c, uint64_t lo, uint64_t hi, bool value)
{
  while (lo < hi) {
    uint64_t w = c->w[lo / 64];

    if (!value)
      w = ~w;
    w &= ~UINT64_C (0) << (lo % 64);
    if (w) {
      uint64_t r = (lo & ~UINT64_C (63)) + __builtin_ctzll (w);

      return r < hi ? r : hi;
    }
    lo = (lo & ~UINT64_C (63)) + 64;
  }
  return hi;
}

/* The first bit in [lo, hi) of the node at level spanning from base
 * with value, or hi.
 */
static uint64_t
find_in_node (const void *node, unsigned level, uint64_t base,
              uint64_t lo, uint64_t hi, bool value)
{
  const unsigned child_shift = level > 0 ? span_shift (level - 1) : 0;
  size_t i, last;

  if (node == NULL)
    return value ? hi : lo;
  if (node == FULL)
    return value ? lo : hi;
  if (level == 0)
    return base + find_in_chunk (node, lo - base, hi - base, value);
  children (child_shift, base, lo, hi, &i, &last);
  for (; i <= last; ++i) {
    uint64_t cbase, clo, chi, r;

    child (child_shift, base, i, lo, hi, &cbase, &clo, &chi);
    r = find_in_node (((void *const *) node)[i], level - 1, cbase, clo, chi,
                      value);
    if (r < chi)
      return r;
  }
  return hi;
}

uint64_t
lazy_bitmap_find (const struct lazy_bitmap *bm, uint64_t from, uint64_t end,
                  bool value)
{
  uint64_t hi = end < bm->nbits ? end : bm->nbits;
  uint64_t r;

  if (from >= end)
    return end;
  if (from >= hi)
    /* Past nbits every bit is clear. */
    return value ? end : from;
  r = find_in_node (bm->root, bm->levels, 0, from, hi, value);
  if (r < hi)
    return r;
  return value ? end : hi;
}
