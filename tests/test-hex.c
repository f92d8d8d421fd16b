/* Unit test of common/hex.h: every byte value against printf's %02x,
 * the empty input, and that nothing is written past the NUL.
 */
#include <config.h>

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"

int
main (void)
{
  unsigned char bin[256];
  char out[2 * sizeof bin + 2], want[2 * sizeof bin + 1];
  size_t i;

  for (i = 0; i < sizeof bin; ++i) {
    bin[i] = i;
    snprintf (want + 2 * i, 3, "%02x", (unsigned) i);
  }
  memset (out, 'X', sizeof out);
  vbm_hex (bin, sizeof bin, out);
  assert (strcmp (out, want) == 0);
  assert (out[sizeof out - 1] == 'X');

  memset (out, 'X', sizeof out);
  vbm_hex (bin, 0, out);
  assert (out[0] == '\0' && out[1] == 'X');

  printf ("ok\n");
  return 0;
}
