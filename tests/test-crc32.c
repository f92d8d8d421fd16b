/* Unit test of common/crc32.c: published check values, chaining, and
 * a bit-at-a-time reference over random buffers.
 */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"

/* The definition, one bit at a time: no table to share a bug with. */
static uint32_t
reference (const unsigned char *p, size_t len)
{
  uint32_t c = 0xFFFFFFFF;
  int k;

  while (len-- > 0) {
    c ^= *p++;
    for (k = 0; k < 8; ++k)
      c = c & 1 ? (c >> 1) ^ 0xEDB88320 : c >> 1;
  }
  return ~c;
}

int
main (void)
{
  static const char fox[] = "The quick brown fox jumps over the lazy dog";
  unsigned char zeroes[32] = { 0 }, buf[4096];
  size_t i, len, cut;

  /* The CRC-32 check value, and others published with zlib's. */
  assert (vbm_crc32 (0, "123456789", 9) == 0xCBF43926);
  assert (vbm_crc32 (0, "", 0) == 0);
  assert (vbm_crc32 (0, "a", 1) == 0xE8B7BE43);
  assert (vbm_crc32 (0, fox, strlen (fox)) == 0x414FA339);
  assert (vbm_crc32 (0, zeroes, sizeof zeroes) == 0x190A55AD);

  /* Continuing a CRC is the CRC of the concatenation. */
  assert (vbm_crc32 (vbm_crc32 (0, "1234", 4), "56789", 5) == 0xCBF43926);

  srand (1);
  for (i = 0; i < sizeof buf; ++i)
    buf[i] = rand ();
  for (len = 0; len <= sizeof buf; len += 1 + len / 3) {
    uint32_t want = reference (buf, len);

    assert (vbm_crc32 (0, buf, len) == want);
    cut = len / 3;
    assert (vbm_crc32 (vbm_crc32 (0, buf, cut), buf + cut, len - cut) == want);
  }
  printf ("test-crc32: ok\n");
  return 0;
}
