/* Unit test of the FAT and exFAT boot sector parser (lib/fs/fat/
 * layout.c) on hand-made boot sectors: the layout of FAT12, FAT16,
 * FAT32 and exFAT as their specifications compute it, and the
 * rejection of zero and inconsistent sizes.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fat-map.h"

static unsigned failures;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: check failed: %s\n",                     \
               __FILE__, __LINE__, #cond);                              \
      failures++;                                                       \
    }                                                                   \
  } while (0)

static void
put16 (unsigned char *p, unsigned v)
{
  p[0] = v;
  p[1] = v >> 8;
}

static void
put32 (unsigned char *p, uint32_t v)
{
  put16 (p, v);
  put16 (p + 2, v >> 16);
}

/* A FAT boot sector as mkfs.fat writes one. */
static void
fat_sector (unsigned char *s, unsigned spc, unsigned reserved,
            unsigned root_entries, uint32_t total, uint32_t fat_size,
            bool fat32)
{
  memset (s, 0, 512);
  s[0] = 0xEB; s[1] = 0x3C; s[2] = 0x90;
  memcpy (s + 3, "mkfs.fat", 8);
  put16 (s + 11, 512);
  s[13] = spc;
  put16 (s + 14, reserved);
  s[16] = 2;
  put16 (s + 17, root_entries);
  s[21] = 0xF8;
  if (fat32) {
    put32 (s + 32, total);
    put32 (s + 36, fat_size);
    put32 (s + 44, 2);          /* root cluster */
    put16 (s + 48, 1);          /* FSInfo */
    put16 (s + 50, 6);          /* backup boot sector */
    memcpy (s + 82, "FAT32   ", 8);
  }
  else {
    if (total < 65536)
      put16 (s + 19, total);
    else
      put32 (s + 32, total);
    put16 (s + 22, fat_size);
    memcpy (s + 54, "FAT16   ", 8);
  }
  s[510] = 0x55; s[511] = 0xAA;
}

int
main (void)
{
  unsigned char s[512];
  struct fat_layout l;
  const char *why;

  /* FAT12: 8 MiB, 4 sectors per cluster, 512 root entries. */
  fat_sector (s, 4, 1, 512, 16384, 12, false);
  CHECK (fat_boot_signature (s, 512));
  CHECK (fat_parse_boot (s, 512, &l, &why));
  CHECK (l.type == FAT12);
  CHECK (l.root_start == 1 + 2 * 12 && l.root_sectors == 32);
  CHECK (l.heap_start == 57);
  CHECK (l.nclusters == (16384 - 57) / 4);
  CHECK (fat_heap_end (&l) <= 16384);

  /* FAT16: 32 MiB, 4 sectors per cluster. */
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  CHECK (fat_parse_boot (s, 512, &l, &why));
  CHECK (l.type == FAT16 && l.nclusters == (65535 - 4 - 128 - 32) / 4);

  /* FAT32: 64 MiB of 512-byte clusters, FSInfo and backup. */
  fat_sector (s, 1, 32, 0, 131072, 1009, true);
  CHECK (fat_parse_boot (s, 512, &l, &why));
  CHECK (l.type == FAT32);
  CHECK (l.heap_start == 32 + 2 * 1009 && l.root_sectors == 0);
  CHECK (l.fsinfo == 1 && l.backup_boot == 6 && l.root_cluster == 2);
  /* A backup boot sector outside the reserved sectors means nothing. */
  put16 (s + 50, 40);
  CHECK (fat_parse_boot (s, 512, &l, &why) && l.backup_boot == 0);
  /* A root cluster past the last. */
  put32 (s + 44, 200000);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  /* A FAT too small for the clusters. */
  fat_sector (s, 1, 32, 0, 131072, 100, true);
  CHECK (!fat_parse_boot (s, 512, &l, &why));

  /* Zero sizes, each alone: a warning's reason, no layout. */
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  put16 (s + 11, 0);
  CHECK (!fat_parse_boot (s, 512, &l, &why) && why != NULL);
  CHECK (fat_boot_signature (s, 512));   /* still FAT's to report */
  fat_sector (s, 0, 4, 512, 65535, 64, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  fat_sector (s, 4, 0, 512, 65535, 64, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  fat_sector (s, 4, 4, 512, 0, 64, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  fat_sector (s, 4, 4, 512, 65535, 0, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  fat_sector (s, 4, 4, 0, 65535, 64, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  s[16] = 0;
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  /* FATs filling the volume. */
  fat_sector (s, 4, 4, 512, 100, 64, false);
  CHECK (!fat_parse_boot (s, 512, &l, &why));

  /* Not FAT: NTFS, no signature, no jump. */
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  memcpy (s + 3, "NTFS    ", 8);
  CHECK (!fat_boot_signature (s, 512));
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  s[511] = 0;
  CHECK (!fat_boot_signature (s, 512));
  fat_sector (s, 4, 4, 512, 65535, 64, false);
  s[0] = 0x33;
  CHECK (!fat_boot_signature (s, 512));

  /* exFAT: 16 MiB as mkfs.exfat -c 4096 lays it out. */
  memset (s, 0, sizeof s);
  s[0] = 0xEB; s[1] = 0x76; s[2] = 0x90;
  memcpy (s + 3, "EXFAT   ", 8);
  put32 (s + 72, 32768);        /* volume length */
  put32 (s + 80, 2048);         /* FAT offset */
  put32 (s + 84, 64);           /* FAT length */
  put32 (s + 88, 4096);         /* cluster heap offset */
  put32 (s + 92, 3584);         /* cluster count */
  put32 (s + 96, 5);            /* root cluster */
  s[108] = 9; s[109] = 3; s[110] = 1;
  s[510] = 0x55; s[511] = 0xAA;
  CHECK (fat_boot_signature (s, 512));
  CHECK (fat_parse_boot (s, 512, &l, &why));
  CHECK (l.type == EXFAT && l.bps == 512 && l.spc == 8);
  CHECK (l.reserved == 2048 && l.fat_sectors == 64 && l.nfats == 1);
  CHECK (l.heap_start == 4096 && l.nclusters == 3584);
  CHECK (l.backup_boot == 12 && l.root_cluster == 5);
  CHECK (fat_heap_end (&l) == 4096 + 3584 * 8);
  /* Its must-be-zero bytes, a heap past the volume, zero sizes. */
  s[20] = 1;
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  s[20] = 0;
  put32 (s + 92, 4000);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  put32 (s + 92, 3584);
  s[108] = 0;
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  s[108] = 9;
  put32 (s + 84, 0);
  CHECK (!fat_parse_boot (s, 512, &l, &why));
  put32 (s + 84, 64);
  s[110] = 0;
  CHECK (!fat_parse_boot (s, 512, &l, &why));

  if (failures) {
    fprintf (stderr, "%u checks failed\n", failures);
    exit (EXIT_FAILURE);
  }
  return 0;
}
