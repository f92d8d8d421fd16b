/* Unit test of common/le.h: known values at every alignment, against
 * the byte order of the machine's own integers (le*toh).
 */
#include <config.h>

#include <assert.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

int
main (void)
{
  unsigned char buf[24];
  size_t i, off;

  for (i = 0; i < sizeof buf; ++i)
    buf[i] = 0xf1 - 7 * i;      /* high bits set: sign extension shows */
  for (off = 0; off < 8; ++off) {
    uint16_t a;
    uint32_t b;
    uint64_t c;

    memcpy (&a, buf + off, sizeof a);
    memcpy (&b, buf + off, sizeof b);
    memcpy (&c, buf + off, sizeof c);
    assert (vbm_le16 (buf + off) == le16toh (a));
    assert (vbm_le32 (buf + off) == le32toh (b));
    assert (vbm_le64 (buf + off) == le64toh (c));
  }
  buf[0] = 0x34; buf[1] = 0x12; buf[2] = 0xff; buf[3] = 0x80;
  assert (vbm_le16 (buf) == 0x1234);
  assert (vbm_le32 (buf) == 0x80ff1234);
  memset (buf, 0xff, 8);
  assert (vbm_le64 (buf) == UINT64_MAX);
  printf ("test-le: ok\n");
  return EXIT_SUCCESS;
}
