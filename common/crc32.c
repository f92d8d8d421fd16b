/* CRC-32 as zlib and GPT compute it: reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "crc32.h"
#include "crc-table.h"

static const uint32_t crc_table[256] = { CRC_TABLE (0xEDB88320) };

uint32_t
vbm_crc32 (uint32_t crc, const void *buf, size_t len)
{
  return crc_table_update (crc_table, crc ^ UINT32_C (0xFFFFFFFF), buf, len)
    ^ UINT32_C (0xFFFFFFFF);
}
