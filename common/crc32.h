/* CRC-32 as zlib and GPT compute it (crc32.c). */
#ifndef VBM_CRC32_H
#define VBM_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over len bytes of buf. */
extern uint32_t vbm_crc32 (uint32_t crc, const void *buf, size_t len);

#endif /* VBM_CRC32_H */
