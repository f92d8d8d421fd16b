/* ext2/3/4: the superblock and descriptor values that libext2fs
 * trusts once the filesystem is open, checked first with e2fsck's
 * rules (e2fsck/super.c, check_super_block).  A hostile
 * s_first_data_block, for one, makes ext2fs_rw_bitmaps write past its
 * bitmap.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>

#include "ext2-map.h"

/* One value against [min, max]; false (and why) if outside. */
static bool
in_range (const char *name, uint64_t v, uint64_t min, uint64_t max,
          char *why, size_t len)
{
  if (v >= min && v <= max)
    return true;
  snprintf (why, len, "%s = %" PRIu64 ", outside [%" PRIu64 ", %" PRIu64 "]",
            name, v, min, max);
  return false;
}

bool
ext2_check_super (ext2_filsys fs, char *why, size_t len)
{
  struct ext2_super_block *sb = fs->super;
  const uint64_t bs = EXT2_BLOCK_SIZE (sb);
  const uint64_t ratio = EXT2FS_CLUSTER_RATIO (fs);
  const uint64_t bpg = sb->s_blocks_per_group;
  const uint64_t ipb = bs / EXT2_INODE_SIZE (sb);
  uint64_t ipg_max, cpg_max, bpg_max, blks_max, should_be;

  if (EXT2_INODE_SIZE (sb) < EXT2_GOOD_OLD_INODE_SIZE ||
      EXT2_INODE_SIZE (sb) > bs) {
    snprintf (why, len, "inode_size = %d", EXT2_INODE_SIZE (sb));
    return false;
  }
  ipg_max = bpg > 4 ? ipb * (bpg - 4) : 0;
  if (ipg_max > EXT2_MAX_INODES_PER_GROUP (sb))
    ipg_max = EXT2_MAX_INODES_PER_GROUP (sb);
  cpg_max = 8 * bs;
  if (cpg_max > EXT2_MAX_CLUSTERS_PER_GROUP (sb))
    cpg_max = EXT2_MAX_CLUSTERS_PER_GROUP (sb);
  bpg_max = 8 * bs * ratio;
  if (bpg_max > EXT2_MAX_BLOCKS_PER_GROUP (sb))
    bpg_max = EXT2_MAX_BLOCKS_PER_GROUP (sb);
  blks_max = ext2fs_has_feature_64bit (sb) ? (UINT64_C (1) << 48) - 1
    : UINT32_MAX;

  if (!in_range ("inodes_count", sb->s_inodes_count, 1, UINT32_MAX,
                 why, len) ||
      !in_range ("blocks_count", ext2fs_blocks_count (sb), 1, blks_max,
                 why, len) ||
      !in_range ("log_block_size", sb->s_log_block_size, 0,
                 EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE,
                 why, len) ||
      !in_range ("log_cluster_size", sb->s_log_cluster_size,
                 sb->s_log_block_size,
                 EXT2_MAX_CLUSTER_LOG_SIZE - EXT2_MIN_CLUSTER_LOG_SIZE,
                 why, len) ||
      !in_range ("clusters_per_group", sb->s_clusters_per_group, 8, cpg_max,
                 why, len) ||
      !in_range ("blocks_per_group", bpg, 8, bpg_max, why, len) ||
      !in_range ("inodes_per_group", sb->s_inodes_per_group, ipb, ipg_max,
                 why, len) ||
      !in_range ("reserved_gdt_blocks", sb->s_reserved_gdt_blocks, 0,
                 bs / sizeof (uint32_t), why, len) ||
      !in_range ("desc_size", sb->s_desc_size, 0, EXT2_MAX_DESC_SIZE,
                 why, len))
    return false;
  if ((sb->s_desc_size & (sb->s_desc_size - 1)) != 0) {
    snprintf (why, len, "desc_size = %u, not a power of 2",
              sb->s_desc_size);
    return false;
  }
  if (bpg != sb->s_clusters_per_group * ratio) {
    snprintf (why, len, "blocks_per_group = %" PRIu64 ", should be %"
              PRIu64, bpg, sb->s_clusters_per_group * ratio);
    return false;
  }
  /* Not a range: the only value the layout allows. */
  should_be = sb->s_log_block_size == 0 && ratio == 1 ? 1 : 0;
  if (sb->s_first_data_block != should_be) {
    snprintf (why, len, "first_data_block = %u, should be %" PRIu64,
              sb->s_first_data_block, should_be);
    return false;
  }
  should_be = (uint64_t) sb->s_inodes_per_group * fs->group_desc_count;
  if (sb->s_inodes_count != should_be) {
    snprintf (why, len, "inodes_count = %u, should be %" PRIu64,
              sb->s_inodes_count, should_be);
    return false;
  }
  return true;
}

/* Is [blk, blk + n) inside [first, last]? */
static bool
inside (blk64_t blk, blk64_t n, blk64_t first, blk64_t last)
{
  return blk >= first && blk <= last && n - 1 <= last - blk;
}

unsigned
ext2_check_descriptors (struct ext2_map *m)
{
  ext2_filsys fs = m->fs;
  const bool flex = ext2fs_has_feature_flex_bg (fs->super);
  unsigned bad[3] = { 0, 0, 0 };
  dgrp_t first_bad[3] = { 0, 0, 0 };
  static const char *const what[3] = {
    "block bitmap", "inode bitmap", "inode table"
  };
  dgrp_t g;
  int k;

  for (g = 0; g < fs->group_desc_count; g++) {
    /* With flex_bg a group's tables may be in another group. */
    const blk64_t first = flex ? m->first_block
      : ext2fs_group_first_block2 (fs, g);
    const blk64_t last = flex ? m->nblocks - 1
      : ext2fs_group_last_block2 (fs, g);
    const blk64_t loc[3] = {
      ext2fs_block_bitmap_loc (fs, g),
      ext2fs_inode_bitmap_loc (fs, g),
      ext2fs_inode_table_loc (fs, g),
    };
    const blk64_t len[3] = { 1, 1, fs->inode_blocks_per_group };

    for (k = 0; k < 3; k++) {
      if (loc[k] == 0 || inside (loc[k], len[k], first, last))
        continue;
      if (bad[k]++ == 0)
        first_bad[k] = g;
      /* What e2fsck does: the location is forgotten, and the phases
       * treat the group as they treat one without it.
       */
      switch (k) {
      case 0: ext2fs_block_bitmap_loc_set (fs, g, 0); break;
      case 1: ext2fs_inode_bitmap_loc_set (fs, g, 0); break;
      default: ext2fs_inode_table_loc_set (fs, g, 0); break;
      }
    }
  }

  for (k = 0; k < 3; k++)
    if (bad[k])
      ext2_warn (m, "%u group descriptor(s) (the first: group %u) put the "
                 "%s outside %s: ignored", bad[k], first_bad[k], what[k],
                 flex ? "the filesystem" : "the group");
  return bad[0] + bad[1] + bad[2];
}
