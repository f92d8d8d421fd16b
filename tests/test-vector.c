/* Unit test of common/vector.h. */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "vector.h"

DEFINE_VECTOR_TYPE (int_vector, int);

static int
compare_int (const int *a, const int *b)
{
  return (*a > *b) - (*a < *b);
}

int
main (void)
{
  int_vector v = empty_vector;
  int i;

  for (i = 0; i < 10000; ++i)
    assert (int_vector_append (&v, 9999 - i) == 0);
  assert (v.len == 10000 && v.cap >= v.len);
  int_vector_sort (&v, compare_int);
  for (i = 0; i < 10000; ++i)
    assert (v.ptr[i] == i);

  /* A reservation that would overflow size_t fails cleanly. */
  errno = 0;
  assert (int_vector_reserve (&v, SIZE_MAX) == -1);
  assert (errno == ENOMEM);
  assert (v.len == 10000);

  int_vector_reset (&v);
  assert (v.ptr == NULL && v.len == 0 && v.cap == 0);
  printf ("test-vector: ok\n");
  return 0;
}
