/* The byte-at-a-time table of a reflected CRC-32 and the loop over it,
 * shared by CRC-32 (crc32.c) and CRC-32C (crc32c.c), which differ only
 * in their polynomial.
 *
 *   static const uint32_t table[256] = { CRC_TABLE (0xEDB88320) };
 *
 * The table is built by the preprocessor, so it is const data with no
 * initialisation at run time.  One bit step uses c twice, not thrice,
 * to keep the expansion of eight nested steps small.
 */
#ifndef VBM_CRC_TABLE_H
#define VBM_CRC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define CRC_STEP_(p, c) (((c) >> 1) ^ (UINT32_C (p) & -((c) & 1)))
#define CRC_BYTE_(p, c)                                                 \
  CRC_STEP_ (p, CRC_STEP_ (p, CRC_STEP_ (p, CRC_STEP_ (p,               \
  CRC_STEP_ (p, CRC_STEP_ (p, CRC_STEP_ (p, CRC_STEP_ (p, c))))))))
#define CRC_T1_(p, n) CRC_BYTE_ (p, (uint32_t) (n))
#define CRC_T4_(p, n) \
  CRC_T1_ (p, n), CRC_T1_ (p, (n) + 1), CRC_T1_ (p, (n) + 2), \
  CRC_T1_ (p, (n) + 3)
#define CRC_T16_(p, n) \
  CRC_T4_ (p, n), CRC_T4_ (p, (n) + 4), CRC_T4_ (p, (n) + 8), \
  CRC_T4_ (p, (n) + 12)
#define CRC_T64_(p, n) \
  CRC_T16_ (p, n), CRC_T16_ (p, (n) + 16), CRC_T16_ (p, (n) + 32), \
  CRC_T16_ (p, (n) + 48)

/* The 256 entries for the reflected polynomial poly (a constant). */
#define CRC_TABLE(poly) \
  CRC_T64_ (poly, 0), CRC_T64_ (poly, 64), CRC_T64_ (poly, 128), \
  CRC_T64_ (poly, 192)

/* Continues the register c (not inverted here) over len bytes of p. */
static inline uint32_t
crc_table_update (const uint32_t table[256], uint32_t c,
                  const unsigned char *p, size_t len)
{
  while (len-- > 0)
    c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c;
}

#endif /* VBM_CRC_TABLE_H */
