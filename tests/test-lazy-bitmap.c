/* Unit test of common/lazy-bitmap.c against a plain byte per bit:
 * random ranges set, every bit read back, every search checked; then
 * a bitmap of 2^64-1 bits set far apart stays small, and searches
 * across its empty spans are immediate.
 */
#include <config.h>

#undef NDEBUG
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy-bitmap.h"

static uint64_t seed = 0x9e3779b97f4a7c15;

static uint64_t
rnd (uint64_t n)
{
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return n ? seed % n : 0;
}

/* The naive search the bitmap must agree with. */
static uint64_t
naive_find (const unsigned char *ref, uint64_t nbits, uint64_t from,
            uint64_t end, bool value)
{
  uint64_t b;

  for (b = from; b < end; b++)
    if ((b < nbits && ref[b]) == value)
      return b;
  return end;
}

static void
check_against_reference (uint64_t nbits, unsigned rounds, uint64_t maxlen)
{
  struct lazy_bitmap bm;
  unsigned char *ref = calloc (nbits + 1, 1);
  unsigned r, k;
  uint64_t b;

  assert (ref);
  lazy_bitmap_init (&bm, nbits);
  for (r = 0; r < rounds; r++) {
    uint64_t at = rnd (nbits + 10), n = rnd (maxlen) + 1;

    assert (lazy_bitmap_set_range (&bm, at, n) == 0);
    for (b = at; b < at + n && b < nbits; b++)
      ref[b] = 1;
    for (k = 0; k < 50; k++) {
      uint64_t from = rnd (nbits + 100), end = from + rnd (nbits / 2 + 100);
      bool v = rnd (2);

      assert (lazy_bitmap_find (&bm, from, end, v) ==
              naive_find (ref, nbits, from, end, v));
    }
  }
  for (b = 0; b < nbits; b++)
    assert (lazy_bitmap_get (&bm, b) == ref[b]);
  assert (!lazy_bitmap_get (&bm, nbits));
  /* Everything set: no chunk left in memory, only pages. */
  assert (lazy_bitmap_set_range (&bm, 0, nbits) == 0);
  assert (lazy_bitmap_find (&bm, 0, nbits, false) == nbits);
  assert (lazy_bitmap_find (&bm, 0, nbits + 5, false) == nbits);
  assert (bm.bytes < 8 * 4096);
  lazy_bitmap_free (&bm);
  free (ref);
}

static void
check_huge (void)
{
  const uint64_t nbits = UINT64_MAX;
  struct lazy_bitmap bm;
  uint64_t at[8];
  unsigned i;

  lazy_bitmap_init (&bm, nbits);
  for (i = 0; i < 8; i++) {
    at[i] = (UINT64_C (1) << 61) * i + (UINT64_C (1) << 40) + i * 12345;
    assert (lazy_bitmap_set_range (&bm, at[i], 3) == 0);
  }
  /* Seven pages per path and a chunk, for each of 8 bits. */
  assert (bm.bytes < 8 * 8 * 4096 + 8 * 4200);
  assert (lazy_bitmap_find (&bm, 0, nbits, true) == at[0]);
  for (i = 0; i < 7; i++) {
    assert (lazy_bitmap_find (&bm, at[i] + 1, nbits, true) == at[i] + 1);
    assert (lazy_bitmap_find (&bm, at[i], nbits, false) == at[i] + 3);
    assert (lazy_bitmap_find (&bm, at[i] + 3, nbits, true) == at[i + 1]);
  }
  assert (lazy_bitmap_find (&bm, at[7] + 3, nbits, true) == nbits);
  assert (lazy_bitmap_get (&bm, at[5] + 2));
  assert (!lazy_bitmap_get (&bm, at[5] + 3));
  /* Ranges past the end are clipped. */
  assert (lazy_bitmap_set_range (&bm, nbits - 2, 100) == 0);
  assert (lazy_bitmap_get (&bm, nbits - 1));
  lazy_bitmap_free (&bm);
}

int
main (void)
{
  struct lazy_bitmap bm;

  /* Sizes around the chunk and page boundaries. */
  check_against_reference (1, 10, 3);
  check_against_reference (63, 50, 10);
  check_against_reference (64, 50, 10);
  check_against_reference (65, 50, 10);
  check_against_reference (32768, 200, 5000);
  check_against_reference (32769, 200, 40000);
  check_against_reference (300000, 300, 70000);
  check_against_reference (300000, 2000, 100);
  check_huge ();

  lazy_bitmap_init (&bm, 0);
  assert (lazy_bitmap_set_range (&bm, 0, 10) == 0);
  assert (!lazy_bitmap_get (&bm, 0));
  assert (lazy_bitmap_find (&bm, 0, 10, true) == 10);
  assert (lazy_bitmap_find (&bm, 0, 10, false) == 0);
  lazy_bitmap_free (&bm);
  printf ("lazy bitmap: ok\n");
  return 0;
}
