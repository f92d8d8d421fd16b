/* Unit test of common/crc32c.c: published check values, chaining, and
 * a bit-at-a-time reference over random buffers, for both the CPU's
 * instruction (where there is one) and the table.
 */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

/* The definition, one bit at a time: no table to share a bug with. */
static uint32_t
reference (const unsigned char *p, size_t len)
{
  uint32_t c = 0xFFFFFFFF;
  int k;

  while (len-- > 0) {
    c ^= *p++;
    for (k = 0; k < 8; ++k)
      c = c & 1 ? (c >> 1) ^ 0x82F63B78 : c >> 1;
  }
  return ~c;
}

typedef uint32_t (*crc_fn) (uint32_t, const void *, size_t);

static void
check (crc_fn f)
{
  unsigned char zeroes[32] = { 0 }, ones[32], buf[4096];
  size_t i, len, cut;

  /* The CRC-32C check value and RFC 3720's (iSCSI) test vectors. */
  memset (ones, 0xff, sizeof ones);
  assert (f (0, "123456789", 9) == 0xE3069283);
  assert (f (0, "", 0) == 0);
  assert (f (0, zeroes, sizeof zeroes) == 0x8A9136AA);
  assert (f (0, ones, sizeof ones) == 0x62A8AB43);

  /* Continuing a CRC is the CRC of the concatenation. */
  assert (f (f (0, "1234", 4), "56789", 5) == 0xE3069283);

  srand (1);
  for (i = 0; i < sizeof buf; ++i)
    buf[i] = rand ();
  for (len = 0; len <= sizeof buf; len += 1 + len / 3) {
    uint32_t want = reference (buf, len);

    assert (f (0, buf, len) == want);
    /* Unaligned starts and odd cuts, for the 8-byte steps. */
    cut = len / 3;
    assert (f (f (0, buf, cut), buf + cut, len - cut) == want);
    if (len > 1)
      assert (f (0, buf + 1, len - 1) == reference (buf + 1, len - 1));
  }
}

int
main (void)
{
  check (vbm_crc32c);
  check (vbm_crc32c_portable);
  printf ("test-crc32c: ok\n");
  return 0;
}
