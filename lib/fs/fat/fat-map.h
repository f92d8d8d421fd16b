/* The FAT12/16/32 and exFAT reader: state shared by the files of lib/fs/fat.
 *
 * The Sleuth Kit (libtsk) reads the directories and the cluster
 * chains; the layout of the volume (reserved sectors, FATs, the fixed
 * root directory of FAT12/16, exFAT's boot regions, bitmap and up-case
 * table) is computed here from the boot sector and checked against
 * what libtsk found, since libtsk shows only part of it.
 *
 * Phases (fat.c runs them in this order):
 *   1. layout: the boot sector (or its backup) parsed (layout.c);
 *   2. open: libtsk over our reads of the volume (img.c);
 *   3. metadata: every region outside the cluster heap, and exFAT's
 *      bitmap and up-case table (meta.c);
 *   4. files: libtsk's directory walk, each live file and directory
 *      with its cluster runs (files.c);
 *   5. accounting: the FAT (or exFAT's bitmap) says which clusters are
 *      in use; the core's sweep maps the rest as free space (meta.c).
 *
 * The unit of the accounting core is the sector, as in libtsk's runs.
 */
#ifndef VBM_FAT_MAP_H
#define VBM_FAT_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <tsk/libtsk.h>

#include "fsmap.h"

enum fat_type { FAT12, FAT16, FAT32, EXFAT };

/* The volume as its boot sector describes it, in sectors. */
struct fat_layout {
  enum fat_type type;
  uint32_t bps;                 /* bytes per sector */
  uint32_t spc;                 /* sectors per cluster */
  uint64_t total_sectors;       /* of the filesystem */
  uint64_t reserved;            /* sectors before the first FAT */
  uint32_t nfats;
  uint64_t fat_sectors;         /* of each FAT */
  uint64_t root_start;          /* FAT12/16: the fixed root directory */
  uint64_t root_sectors;
  uint64_t heap_start;          /* the sector of cluster 2 */
  uint64_t nclusters;
  uint32_t root_cluster;        /* FAT32, exFAT */
  uint32_t fsinfo;              /* FAT32: sector numbers, 0 for none */
  uint32_t backup_boot;
};

/* layout.c */

/* Parses a boot sector (at least 512 bytes).  false, with why set to a
 * short reason, if it does not describe a usable FAT or exFAT volume.
 */
extern bool fat_parse_boot (const unsigned char *sec, size_t len,
                            struct fat_layout *l, const char **why);
/* Does it look like a FAT or exFAT boot sector at all, valid or not? */
extern bool fat_boot_signature (const unsigned char *sec, size_t len);
extern const char *fat_type_name (enum fat_type t);
/* The sector after the last cluster. */
static inline uint64_t
fat_heap_end (const struct fat_layout *l)
{
  return l->heap_start + l->nclusters * l->spc;
}

/* img.c: libtsk's view of the volume, read through vbm_volume_pread. */

struct fat_img {
  TSK_IMG_INFO img;             /* first: libtsk casts to it */
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  /* If set, read in place of the volume's first sector (the backup
   * boot sector, when the primary is unusable).
   */
  const unsigned char *boot;
  size_t boot_len;
  bool io_failed;
  struct vbm_error io_error;
};

/* NULL if libtsk refuses (tsk_error_get () says why). */
extern TSK_IMG_INFO *fat_img_open (struct fat_img *fi);

/* The reader's state. */
struct fat_map {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  struct vbm_fsmap *fm;
  struct fat_layout l;
  TSK_FS_INFO *fs;
  /* exFAT: the allocation bitmap and up-case table, found in the root
   * directory (first cluster, length in bytes; 0 if absent).
   */
  uint32_t bitmap_cluster, upcase_cluster;
  uint64_t bitmap_len, upcase_len;
  /* libtsk's virtual files $FAT1 and $FAT2, seen in the walk (0: not
   * seen), for the check of the layout.
   */
  TSK_INUM_T fat_inum[2];
};

static inline uint64_t
fat_cluster_sector (const struct fat_map *m, uint64_t c)
{
  return m->l.heap_start + (c - 2) * m->l.spc;
}

/* meta.c */
extern int fat_map_metadata (struct fat_map *m);
/* Check our layout against libtsk's, with warnings: the type and
 * root directory before the walk, the FATs after it.
 */
extern void fat_check_tsk_layout (struct fat_map *m);
extern void fat_check_tsk_fats (struct fat_map *m);
/* Tells the core which clusters are in use, then sweeps. */
extern int fat_map_unclaimed (struct fat_map *m);

/* files.c */
extern int fat_map_files (struct fat_map *m);

#endif /* VBM_FAT_MAP_H */
