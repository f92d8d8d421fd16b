/* Little-endian integers read from a byte buffer at any alignment, as
 * on-disk formats store them (FAT, exFAT...).
 */
#ifndef VBM_LE_H
#define VBM_LE_H

#include <stdint.h>

static inline uint16_t
vbm_le16 (const unsigned char *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
vbm_le32 (const unsigned char *p)
{
  return p[0] | (p[1] << 8) | ((uint32_t) p[2] << 16) |
    ((uint32_t) p[3] << 24);
}

static inline uint64_t
vbm_le64 (const unsigned char *p)
{
  return vbm_le32 (p) | ((uint64_t) vbm_le32 (p + 4) << 32);
}

#endif /* VBM_LE_H */
