/* Unit test of common/lower-bound.h against a linear scan: every key
 * (present, absent, before the first, after the last) over sorted
 * arrays of every length up to 40 with runs of equal elements, the
 * empty array, and that the key test is only made inside the array.
 */
#include <config.h>

#include <assert.h>
#include <stdio.h>

#include "lower-bound.h"

static size_t n_tests;
static size_t len_tested;

/* a[i] < key, counting the calls and checking the index. */
static int
before (const int *a, size_t i, int key)
{
  assert (i < len_tested);
  n_tests++;
  return a[i] < key;
}

int
main (void)
{
  int a[40];
  size_t len, i, want, got;
  int key;

  for (len = 0; len <= sizeof a / sizeof a[0]; ++len) {
    /* 0 0 0 2 2 2 4 ...: runs of three, gaps between them. */
    for (i = 0; i < len; ++i)
      a[i] = (int) (i / 3) * 2;
    len_tested = len;
    for (key = -1; key <= (int) len + 1; ++key) {
      for (want = 0; want < len && a[want] < key; ++want)
        ;
      n_tests = 0;
      got = LOWER_BOUND (j, len, before (a, j, key));
      assert (got == want);
      /* About log2 (len) + 1 tests, never a scan. */
      assert (n_tests <= 7);
    }
  }

  /* before true everywhere, false everywhere. */
  len_tested = 40;
  for (i = 0; i < 40; ++i)
    a[i] = (int) i;
  assert (LOWER_BOUND (j, 40, before (a, j, 1000)) == 40);
  assert (LOWER_BOUND (j, 40, before (a, j, -1000)) == 0);

  printf ("ok\n");
  return 0;
}
