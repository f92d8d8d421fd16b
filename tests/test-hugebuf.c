/* Unit test of common/hugebuf.c: growing keeps the contents, the buffer
 * is usable to its end, overflowing sizes fail cleanly.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hugebuf.h"

int
main (void)
{
  void *p = NULL;
  size_t cap = 0, i;
  unsigned char *b;

  assert (vbm_hugebuf_reserve (&p, &cap, 100) == 0);
  assert (p != NULL && cap >= 100);
  assert ((uintptr_t) p % (2 << 20) == 0);
  b = p;
  for (i = 0; i < cap; i++)
    b[i] = i % 251;

  /* Grow past the first mapping, twice: the old bytes move along. */
  assert (vbm_hugebuf_reserve (&p, &cap, (5 << 20) + 1) == 0);
  assert (cap >= (5 << 20) + 1);
  b = p;
  for (i = 0; i < (2 << 20); i++)
    assert (b[i] == i % 251);
  memset (b + (2 << 20), 0x5a, cap - (2 << 20));
  assert (vbm_hugebuf_reserve (&p, &cap, 20 << 20) == 0);
  b = p;
  for (i = 0; i < (2 << 20); i++)
    assert (b[i] == i % 251);
  for (; i < (5 << 20); i++)
    assert (b[i] == 0x5a);
  b[cap - 1] = 1;

  /* Enough room already: nothing changes. */
  {
    void *q = p;
    size_t c = cap;

    assert (vbm_hugebuf_reserve (&p, &cap, 10) == 0);
    assert (p == q && cap == c);
  }

  /* A size that cannot be rounded up fails, the buffer intact. */
  errno = 0;
  assert (vbm_hugebuf_reserve (&p, &cap, SIZE_MAX) == -1);
  assert (errno == ENOMEM);
  assert (((unsigned char *) p)[0] == 0);

  vbm_hugebuf_free (p, cap);
  vbm_hugebuf_free (NULL, 0);
  printf ("test-hugebuf: ok\n");
  return 0;
}
