/* libFuzzer harness of the FAT/exFAT boot sector parser (layout.c),
 * the one part of the FAT reader that is ours rather than libtsk's:
 * every layout it accepts must be one the reader can map without
 * overflow, so the invariants the reader relies on are checked here.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/fs/fat/fuzz-fat -jobs=2 CORPUS tests/fat-fuzz-seeds
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fat-map.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fat_layout l;
  const char *why = NULL;

  if (!fat_parse_boot (data, size, &l, &why)) {
    /* A refusal always says why. */
    if (why == NULL || *why == '\0')
      abort ();
    return 0;
  }
  /* What meta.c and files.c take for granted of an accepted layout. */
  if (l.bps < 512 || l.bps > 4096 || (l.bps & (l.bps - 1)) != 0 ||
      l.spc == 0 || (l.spc & (l.spc - 1)) != 0 ||
      l.nfats == 0 || l.fat_sectors == 0 || l.nclusters == 0 ||
      l.heap_start > l.total_sectors ||
      l.nclusters > (l.total_sectors - l.heap_start) / l.spc ||
      fat_heap_end (&l) > l.total_sectors ||
      l.reserved + (uint64_t) l.nfats * l.fat_sectors > l.heap_start)
    abort ();
  if (l.type != EXFAT && l.type != FAT32 &&
      (l.root_sectors == 0 || l.root_start + l.root_sectors > l.heap_start))
    abort ();
  return 0;
}
