/* CRC-32 as zlib and GPT compute it: reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "crc32.h"

/* The table is built by the preprocessor, so it is const data with no
 * initialisation at run time.  One bit step uses c twice, not thrice,
 * to keep the expansion of eight nested steps small.
 */
#define STEP(c) (((c) >> 1) ^ (UINT32_C (0xEDB88320) & -((c) & 1)))
#define BYTE(c) STEP (STEP (STEP (STEP (STEP (STEP (STEP (STEP (c))))))))
#define T1(n) BYTE ((uint32_t) (n))
#define T4(n) T1 (n), T1 ((n) + 1), T1 ((n) + 2), T1 ((n) + 3)
#define T16(n) T4 (n), T4 ((n) + 4), T4 ((n) + 8), T4 ((n) + 12)
#define T64(n) T16 (n), T16 ((n) + 16), T16 ((n) + 32), T16 ((n) + 48)

static const uint32_t crc_table[256] = {
  T64 (0), T64 (64), T64 (128), T64 (192)
};

uint32_t
vbm_crc32 (uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  uint32_t c = crc ^ UINT32_C (0xFFFFFFFF);

  while (len-- > 0)
    c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ UINT32_C (0xFFFFFFFF);
}
