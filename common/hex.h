/* Bytes as lowercase hex, the way digests are written and compared
 * (sha256sum, ewfinfo, DFXML's hashdigest).
 */
#ifndef VBM_HEX_H
#define VBM_HEX_H

#include <stddef.h>

/* out must hold 2 * len + 1 chars; it ends with a NUL. */
static inline void
vbm_hex (const unsigned char *bin, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < len; ++i) {
    out[2 * i] = digits[bin[i] >> 4];
    out[2 * i + 1] = digits[bin[i] & 15];
  }
  out[2 * len] = '\0';
}

#endif /* VBM_HEX_H */
