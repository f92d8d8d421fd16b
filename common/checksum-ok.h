/* Whether a checksum read from a disk matches the one computed. */
#ifndef VBM_CHECKSUM_OK_H
#define VBM_CHECKSUM_OK_H

#include <stdbool.h>
#include <stdint.h>

/* In the libFuzzer harnesses (their compile lines alone define
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) every checksum matches: a
 * fuzzer cannot forge a CRC, so it would otherwise never get past one
 * to the structure the CRC guards (XFS v5 blocks, GPT, LVM labels).
 * The library itself always compares.
 */
static inline bool
vbm_checksum_ok (uint32_t computed, uint32_t stored)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void) computed, (void) stored;
  return true;
#else
  return computed == stored;
#endif
}

#endif /* VBM_CHECKSUM_OK_H */
