/* ext2/3/4 metadata: the allocation bitmaps, the fixed metadata of
 * every group, and at the end the block bitmap handed to the
 * accounting core for its sweep of the blocks that nothing claimed.
 *
 * Object offsets: each metadata kind is one object, the concatenation
 * of its per-group parts, so the offset says which part:
 *   <block bitmap>, <inode bitmap>: group * blocksize;
 *   <inode table>: group * inode_blocks_per_group * blocksize (so with
 *     full tables an offset / inode_size + 1 is the inode number);
 *   <group descriptors>: the offset in the descriptor array, the same
 *     for the primary copy and each backup;
 *   <superblock>, <reserved gdt>: the offset inside each copy.
 * Free space, slack and <unaccounted> have no offsets (-1).
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ext2-map.h"

/* ---- Allocation bitmaps. ---- */

static bool
valid_block (struct ext2_map *m, blk64_t blk)
{
  return blk >= m->first_block && blk < m->nblocks;
}

/* Marks [blk, blk+n) clipped to the filesystem. */
static void
mark_range (struct ext2_map *m, ext2fs_block_bitmap bmap, blk64_t blk,
            blk64_t n)
{
  blk64_t end = blk + n;

  if (end < blk || end > m->nblocks)
    end = m->nblocks;
  if (blk < m->first_block)
    blk = m->first_block;
  if (blk < end)
    ext2fs_mark_block_bitmap_range2 (bmap, blk, end - blk);
}

/* Group descriptor blocks in the old layout (all of them, or those
 * before s_first_meta_bg), and reserved GDT blocks after them.
 */
static void
gdt_layout (struct ext2_map *m, uint64_t *old_blocks, uint64_t *reserved)
{
  ext2_filsys fs = m->fs;
  const bool meta_bg = ext2fs_has_feature_meta_bg (fs->super);

  *old_blocks = fs->desc_blocks;
  if (meta_bg && fs->super->s_first_meta_bg < *old_blocks)
    *old_blocks = fs->super->s_first_meta_bg;
  *reserved = meta_bg ? 0 : fs->super->s_reserved_gdt_blocks;
}

/* What libext2fs does for BLOCK_UNINIT groups: their bitmap on disk
 * is not initialised, their own metadata is in use.
 */
static void
mark_uninit_group (struct ext2_map *m, dgrp_t g, ext2fs_block_bitmap bmap)
{
  ext2_filsys fs = m->fs;
  blk64_t sb, old_desc, new_desc;
  uint64_t old_blocks, reserved;
  blk_t used;

  gdt_layout (m, &old_blocks, &reserved);
  if (ext2fs_super_and_bgd_loc2 (fs, g, &sb, &old_desc, &new_desc,
                                 &used) == 0) {
    if (sb || g == 0)
      mark_range (m, bmap, ext2fs_group_first_block2 (fs, g), 1);
    if (old_desc)
      mark_range (m, bmap, old_desc, old_blocks + reserved);
    if (new_desc)
      mark_range (m, bmap, new_desc, 1);
  }
  if (ext2fs_inode_table_loc (fs, g))
    mark_range (m, bmap, ext2fs_inode_table_loc (fs, g),
                fs->inode_blocks_per_group);
  if (ext2fs_block_bitmap_loc (fs, g))
    mark_range (m, bmap, ext2fs_block_bitmap_loc (fs, g), 1);
  if (ext2fs_inode_bitmap_loc (fs, g))
    mark_range (m, bmap, ext2fs_inode_bitmap_loc (fs, g), 1);
}

/* ext2fs_read_bitmaps gives up on the first unreadable group (a
 * truncated image).  This reads what it can: an unreadable block
 * bitmap makes its group all in use, an unreadable inode bitmap makes
 * its group's inodes judged one by one (inode_map_unknown).
 */
static int
read_bitmaps_by_group (struct ext2_map *m)
{
  ext2_filsys fs = m->fs;
  const bool csum = ext2fs_has_group_desc_csum (fs);
  const uint64_t cpg = EXT2_CLUSTERS_PER_GROUP (fs->super);
  const uint64_t ipg = EXT2_INODES_PER_GROUP (fs->super);
  CLEANUP_FREE unsigned char *buf = NULL;
  unsigned bad_block_maps = 0, bad_inode_maps = 0;
  errcode_t err;
  blk64_t blk;
  dgrp_t g;

  if (fs->block_map)
    ext2fs_free_block_bitmap (fs->block_map);
  if (fs->inode_map)
    ext2fs_free_inode_bitmap (fs->inode_map);
  fs->block_map = NULL;
  fs->inode_map = NULL;
  err = ext2fs_allocate_block_bitmap (fs, "block bitmap", &fs->block_map);
  if (err == 0)
    err = ext2fs_allocate_inode_bitmap (fs, "inode bitmap", &fs->inode_map);
  if (err)
    return ext2_fatal (m, err, "allocating bitmaps");
  buf = malloc (m->bs);
  m->inode_map_unknown = calloc (fs->group_desc_count, sizeof (bool));
  if (buf == NULL || m->inode_map_unknown == NULL)
    return ext2_fatal (m, ENOMEM, "allocating bitmaps");

  for (g = 0; g < fs->group_desc_count; g++) {
    const uint64_t cstart = EXT2FS_B2C (fs, m->first_block) + g * cpg;
    const uint64_t istart = 1 + g * ipg;

    /* Block bitmap. */
    if (csum && ext2fs_bg_flags_test (fs, g, EXT2_BG_BLOCK_UNINIT))
      mark_uninit_group (m, g, fs->block_map);
    else {
      blk = ext2fs_block_bitmap_loc (fs, g);
      if (cpg <= m->bs * 8 && valid_block (m, blk) &&
          io_channel_read_blk64 (fs->io, blk, 1, buf) == 0)
        err = ext2fs_set_block_bitmap_range2 (fs->block_map, cstart, cpg,
                                              buf);
      else {
        bad_block_maps++;
        mark_range (m, fs->block_map, ext2fs_group_first_block2 (fs, g),
                    ext2fs_group_blocks_count (fs, g));
        err = 0;
      }
      if (err)
        return ext2_fatal (m, err, "loading the block bitmap");
    }

    /* Inode bitmap. */
    if (csum && ext2fs_bg_flags_test (fs, g, EXT2_BG_INODE_UNINIT))
      continue;                 /* no inode in use */
    blk = ext2fs_inode_bitmap_loc (fs, g);
    if (ipg <= m->bs * 8 && valid_block (m, blk) &&
        io_channel_read_blk64 (fs->io, blk, 1, buf) == 0) {
      err = ext2fs_set_inode_bitmap_range2 (fs->inode_map, istart, ipg, buf);
      if (err)
        return ext2_fatal (m, err, "loading the inode bitmap");
    }
    else {
      bad_inode_maps++;
      m->inode_map_unknown[g] = true;
    }
  }

  if (bad_block_maps)
    ext2_warn (m, "%u block bitmap(s) unreadable: their groups are "
               "taken as all in use", bad_block_maps);
  if (bad_inode_maps)
    ext2_warn (m, "%u inode bitmap(s) unreadable: in-use inodes guessed "
               "from the inodes", bad_inode_maps);
  return 0;
}

int
ext2_load_bitmaps (struct ext2_map *m, bool bad_descs)
{
  ext2_filsys fs = m->fs;
  errcode_t err;

  /* ext2fs_read_bitmaps takes a group without a bitmap as all free. */
  if (bad_descs)
    return read_bitmaps_by_group (m);
  err = ext2fs_read_bitmaps (fs);
  if (err && ext2_is_csum_error (err) &&
      !(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS)) {
    ext2_warn (m, "%s: checksums of the bitmaps ignored",
               ext2_strerror (err));
    fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
    err = ext2fs_read_bitmaps (fs);
    fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
  }
  if (err == 0 && fs->block_map && fs->inode_map)
    return 0;
  if (err == ENOMEM || err == EXT2_ET_NO_MEMORY)
    return ext2_fatal (m, err, "reading the bitmaps");
  ext2_warn (m, "cannot read the allocation bitmaps (%s): reading them "
             "group by group", ext2_strerror (err));
  return read_bitmaps_by_group (m);
}

/* ---- Fixed metadata. ---- */

/* Block 0 holds the boot area (first 1024 bytes) and, with blocks
 * bigger than 1024 bytes, the superblock.
 */
static int
map_first_blocks (struct ext2_map *m)
{
  int64_t boot, super;

  boot = vbm_fsmap_meta (m->fm, "<boot block>", SUPERBLOCK_OFFSET);
  super = vbm_fsmap_meta (m->fm, "<superblock>", SUPERBLOCK_SIZE);
  if (boot == -1 || super == -1)
    return -1;

  if (m->bs == SUPERBLOCK_OFFSET) {
    /* Block 0 is outside the bitmaps unless first_data_block is 0
     * (bigalloc): then it is not claimed.
     */
    if ((m->first_block == 0
         ? vbm_fsmap_units (m->fm, boot, 0, 1, 0, 0)
         : vbm_fsmap_bytes (m->fm, boot, 0, SUPERBLOCK_OFFSET, 0, 0)) == -1 ||
        vbm_fsmap_units (m->fm, super, 1, 1, 0, 0) == -1)
      return -1;
  }
  else {
    if (!vbm_fsmap_claim (m->fm, 0))
      return 0;
    if (vbm_fsmap_bytes (m->fm, boot, 0, SUPERBLOCK_OFFSET, 0, 0) == -1 ||
        vbm_fsmap_bytes (m->fm, super, SUPERBLOCK_OFFSET,
                         m->bs - SUPERBLOCK_OFFSET, 0, 0) == -1)
      return -1;
  }
  return vbm_fsmap_flush (m->fm);
}

enum group_part { PART_SUPER, PART_GDT, PART_RESERVED_GDT };

/* Superblock copies, descriptor copies or reserved GDT blocks of
 * every group (ext2fs_super_and_bgd_loc2 knows the meta_bg and
 * sparse_super layouts).
 */
static int
map_group_copies (struct ext2_map *m, enum group_part part)
{
  ext2_filsys fs = m->fs;
  const uint64_t desc_per_block = EXT2_DESC_PER_BLOCK (fs->super);
  uint64_t old_blocks, reserved;
  int64_t obj;
  dgrp_t g;

  gdt_layout (m, &old_blocks, &reserved);

  switch (part) {
  case PART_SUPER:
    obj = vbm_fsmap_meta (m->fm, "<superblock>", SUPERBLOCK_SIZE);
    break;
  case PART_GDT:
    obj = vbm_fsmap_meta (m->fm, "<group descriptors>",
                          fs->desc_blocks * m->bs);
    break;
  case PART_RESERVED_GDT:
    if (reserved == 0)
      return 0;
    obj = vbm_fsmap_meta (m->fm, "<reserved gdt>", reserved * m->bs);
    break;
  default:
    abort ();
  }
  if (obj == -1)
    return -1;

  for (g = 0; g < fs->group_desc_count; g++) {
    blk64_t sb, old_desc, new_desc;
    blk_t used;
    int64_t r = 0;

    if (ext2fs_super_and_bgd_loc2 (fs, g, &sb, &old_desc, &new_desc,
                                   &used) != 0)
      continue;
    switch (part) {
    case PART_SUPER:
      /* Group 0's is mapped with block 0. */
      if (g > 0 && sb)
        r = vbm_fsmap_units (m->fm, obj, sb, 1, 0, 0);
      break;
    case PART_GDT:
      if (old_desc)
        r = vbm_fsmap_units (m->fm, obj, old_desc, old_blocks, 0, 0);
      if (r != -1 && new_desc)
        r = vbm_fsmap_units (m->fm, obj, new_desc, 1,
                             (int64_t) ((g / desc_per_block) * m->bs),
                             0);
      break;
    case PART_RESERVED_GDT:
      if (old_desc)
        r = vbm_fsmap_units (m->fm, obj, old_desc + old_blocks, reserved,
                             0, 0);
      break;
    }
    if (r == -1)
      return -1;
  }
  return vbm_fsmap_flush (m->fm);
}

enum group_table { TABLE_BLOCK_BITMAP, TABLE_INODE_BITMAP, TABLE_INODES };

/* One pass per kind, so that flex_bg's packed tables coalesce. */
static int
map_group_tables (struct ext2_map *m, enum group_table table)
{
  ext2_filsys fs = m->fs;
  const uint64_t itb = fs->inode_blocks_per_group;
  const uint64_t groups = fs->group_desc_count;
  unsigned missing = 0;
  int64_t obj;
  dgrp_t g;

  switch (table) {
  case TABLE_BLOCK_BITMAP:
    obj = vbm_fsmap_meta (m->fm, "<block bitmap>", groups * m->bs);
    break;
  case TABLE_INODE_BITMAP:
    obj = vbm_fsmap_meta (m->fm, "<inode bitmap>", groups * m->bs);
    break;
  case TABLE_INODES:
    obj = vbm_fsmap_meta (m->fm, "<inode table>", groups * itb * m->bs);
    break;
  default:
    abort ();
  }
  if (obj == -1)
    return -1;

  for (g = 0; g < groups; g++) {
    blk64_t blk;
    int64_t r;

    switch (table) {
    case TABLE_BLOCK_BITMAP:
      blk = ext2fs_block_bitmap_loc (fs, g);
      r = blk ? vbm_fsmap_units (m->fm, obj, blk, 1, g * m->bs, 0) : 0;
      break;
    case TABLE_INODE_BITMAP:
      blk = ext2fs_inode_bitmap_loc (fs, g);
      r = blk ? vbm_fsmap_units (m->fm, obj, blk, 1, g * m->bs, 0) : 0;
      break;
    case TABLE_INODES:
      blk = ext2fs_inode_table_loc (fs, g);
      r = blk ? vbm_fsmap_units (m->fm, obj, blk, itb, g * itb * m->bs, 0)
        : 0;
      break;
    default:
      abort ();
    }
    if (r == -1)
      return -1;
    if (blk == 0)
      missing++;
  }
  if (missing)
    ext2_warn (m, "%u group(s) without %s", missing,
               table == TABLE_BLOCK_BITMAP ? "a block bitmap" :
               table == TABLE_INODE_BITMAP ? "an inode bitmap"
               : "an inode table");
  return vbm_fsmap_flush (m->fm);
}

int
ext2_map_metadata (struct ext2_map *m)
{
  ext2_filsys fs = m->fs;

  if (map_first_blocks (m) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<superblock>");
  if (map_group_copies (m, PART_SUPER) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<superblock>");
  if (map_group_copies (m, PART_GDT) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<group descriptors>");
  if (map_group_copies (m, PART_RESERVED_GDT) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<reserved gdt>");
  if (map_group_tables (m, TABLE_BLOCK_BITMAP) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<block bitmap>");
  if (map_group_tables (m, TABLE_INODE_BITMAP) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<inode bitmap>");
  if (map_group_tables (m, TABLE_INODES) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<inode table>");

  if (ext2fs_has_feature_mmp (fs->super) && fs->super->s_mmp_block) {
    int64_t obj = vbm_fsmap_meta (m->fm, "<mmp block>", m->bs);

    if (obj == -1 ||
        vbm_fsmap_units (m->fm, obj, fs->super->s_mmp_block, 1, 0, 0) == -1 ||
        vbm_fsmap_flush (m->fm) == -1)
      return -1;
    vbm_fsmap_end_object (m->fm, "<mmp block>");
  }
  return 0;
}

/* ---- What nobody claimed. ---- */

/* The first block >= b where bmap stops having value val, or end. */
static blk64_t
next_change (ext2fs_block_bitmap bmap, bool val, blk64_t b, blk64_t end)
{
  blk64_t out;
  errcode_t err;

  if (val)
    err = ext2fs_find_first_zero_block_bitmap2 (bmap, b, end - 1, &out);
  else
    err = ext2fs_find_first_set_block_bitmap2 (bmap, b, end - 1, &out);
  if (err || out > end)
    return end;
  return out > b ? out : b + 1;
}

int
ext2_map_unclaimed (struct ext2_map *m)
{
  ext2fs_block_bitmap on_disk = m->fs->block_map;
  const blk64_t end = m->nblocks < m->vol_blocks ? m->nblocks : m->vol_blocks;
  struct vbm_fsmap_unclaimed u;
  uint64_t fs_bytes = m->nblocks * m->bs;
  blk64_t b = m->first_block;

  /* The runs of the block bitmap (of clusters, with bigalloc), in
   * blocks.
   */
  while (b < end) {
    bool used = ext2fs_test_block_bitmap2 (on_disk, b);
    blk64_t e = next_change (on_disk, used, b, end);

    if (used && vbm_fsmap_allocated (m->fm, b, e - b) == -1)
      return -1;
    b = e;
  }
  if (vbm_fsmap_sweep (m->fm, &u) == -1)
    return -1;

  if (u.unaccounted)
    ext2_warn (m, "%" PRIu64 " block(s) in use in the block bitmap belong "
               "to no file or metadata: mapped as <unaccounted>",
               u.unaccounted);
  if (u.claimed_free)
    ext2_warn (m, "%" PRIu64 " block(s) of files or metadata are free in "
               "the block bitmap", u.claimed_free);

  if (fs_bytes < m->vol->length) {
    if (vbm_fsmap_beyond (m->fm, fs_bytes, 0, 0) == -1)
      return -1;
  }
  return 0;
}
