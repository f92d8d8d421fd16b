/* CRC-32C (Castagnoli), as XFS, ext4 and iSCSI compute it (crc32c.c). */
#ifndef VBM_CRC32C_H
#define VBM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over len bytes of buf: the standard
 * CRC-32C, initial value and final xor 0xFFFFFFFF.
 */
extern uint32_t vbm_crc32c (uint32_t crc, const void *buf, size_t len);

/* The same without the CPU's instruction (what vbm_crc32c falls back
 * to), for the unit test to check both.
 */
extern uint32_t vbm_crc32c_portable (uint32_t crc, const void *buf,
                                     size_t len);

#endif /* VBM_CRC32C_H */
