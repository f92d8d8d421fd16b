/* ext2/3/4 filesystems, with libext2fs: detection, opening, and the
 * phases run in order (see ext2-map.h).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ext2-map.h"
#include "fs.h"

static bool
ext2_magic (const unsigned char *buf, size_t len)
{
  const size_t magic_off = SUPERBLOCK_OFFSET + 56; /* s_magic */

  if (len < magic_off + 2)
    return false;
  return (buf[magic_off] | buf[magic_off + 1] << 8) == EXT2_SUPER_MAGIC;
}

/* For a volume whose primary superblock is unrecognisable: is there a
 * backup superblock at the start of group 1?  (mke2fs puts 8 *
 * blocksize blocks in a group.)  Reads up to 7 KiB.
 */
static bool
ext2_probe_backup (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char sb[SUPERBLOCK_SIZE];
  unsigned log;

  for (log = 0; log <= EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE;
       log++) {
    const uint64_t bs = EXT2_MIN_BLOCK_SIZE << log;
    const uint64_t offset = (bs == 1024 ? 8193 : 8 * bs) * bs;

    if (offset > vol->length || vol->length - offset < sizeof sb)
      break;
    if (vbm_volume_pread (ctx, vol, sb, sizeof sb, offset) == -1)
      return false;
    if ((sb[56] | sb[57] << 8) == EXT2_SUPER_MAGIC &&
        (sb[24] | sb[25] << 8 | sb[26] << 16 | (unsigned) sb[27] << 24)
        == log &&
        (sb[90] | sb[91] << 8) == 1 /* s_block_group_nr */)
      return true;
  }
  return false;
}

/* ---- Opening. ---- */

/* Why open_checked refused a superblock that ext2fs_open2 took. */
#define VBM_EXT2_BAD_VALUE EXT2_ET_CORRUPT_SUPERBLOCK

/* ext2fs_open2, then the superblock values libext2fs trusts without
 * checking (ext2_check_super): a superblock that fails is freed, and
 * why says which value.
 */
static errcode_t
open_checked (const char *name, int flags, int superblock, unsigned bs,
              ext2_filsys *fsp, char *why, size_t len)
{
  errcode_t err;

  err = ext2fs_open2 (name, NULL, flags, superblock, bs,
                      &vbm_ext2_io_manager, fsp);
  if (err) {
    *fsp = NULL;
    return err;
  }
  if (ext2fs_has_feature_journal_dev ((*fsp)->super) ||
      ext2_check_super (*fsp, why, len))
    return 0;
  ext2fs_free (*fsp);
  *fsp = NULL;
  return VBM_EXT2_BAD_VALUE;
}

/* Opens the filesystem; *fsp is NULL (and a warning given) if it is
 * not one we can read.  -1 only on fatal errors.
 */
static int
open_fs (struct ext2_map *m, const char *name,
         const struct vbm_ext2_io_target *target, ext2_filsys *fsp)
{
  const int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
  char why[128] = "", why2[128];
  const char *reason;
  errcode_t err, err2;
  unsigned bs;

  *fsp = NULL;
  err = open_checked (name, flags, 0, 0, fsp, why, sizeof why);
  if (err == 0)
    return 0;
  if (target->io_failed)
    return 0;                   /* reported by the caller */
  if (ext2_is_csum_error (err)) {
    err2 = open_checked (name, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0,
                         fsp, why, sizeof why);
    if (err2 == 0) {
      ext2_warn (m, "%s: checksums ignored", ext2_strerror (err));
      return 0;
    }
    if (err2 == VBM_EXT2_BAD_VALUE)
      err = err2;
  }
  reason = err == VBM_EXT2_BAD_VALUE && why[0] ? why : ext2_strerror (err);
  if (err == EXT2_ET_UNSUPP_FEATURE) {
    /* An external journal opens only when asked for. */
    err2 = ext2fs_open2 (name, NULL, flags | EXT2_FLAG_JOURNAL_DEV_OK,
                         0, 0, &vbm_ext2_io_manager, fsp);
    if (err2 == 0 && ext2fs_has_feature_journal_dev ((*fsp)->super))
      return 0;
    if (err2 == 0)
      ext2fs_free (*fsp);
    *fsp = NULL;
  }
  if (err == EXT2_ET_UNSUPP_FEATURE || err == EXT2_ET_RO_UNSUPP_FEATURE) {
    ext2_warn (m, "ext2/3/4 filesystem not mapped: %s",
               ext2_strerror (err));
    return 0;
  }

  /* The backup superblock at the start of group 1 (mke2fs puts
   * 8 * blocksize blocks in a group).
   */
  for (bs = EXT2_MIN_BLOCK_SIZE; bs <= EXT2_MAX_BLOCK_SIZE; bs *= 2) {
    int sb = bs == 1024 ? 8193 : 8 * bs;

    if ((uint64_t) (sb + 1) * bs > m->vol->length)
      break;
    err2 = open_checked (name, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS,
                         sb, bs, fsp, why2, sizeof why2);
    if (target->io_failed)
      return 0;
    if (err2 == 0) {
      ext2_warn (m, "primary superblock unusable (%s): using the backup "
                 "superblock at block %d", reason, sb);
      return 0;
    }
  }
  *fsp = NULL;
  ext2_warn (m, "not a valid ext2/3/4 filesystem: %s", reason);
  return 0;
}

/* What blkid would call it. */
static const char *
fs_type (ext2_filsys fs)
{
  struct ext2_super_block *sb = fs->super;
  const uint32_t btree_dir = 0x0004; /* never implemented, ext2-era */

  if ((sb->s_feature_incompat & ~(EXT2_FEATURE_INCOMPAT_FILETYPE |
                                  EXT3_FEATURE_INCOMPAT_RECOVER |
                                  EXT2_FEATURE_INCOMPAT_META_BG)) ||
      (sb->s_feature_ro_compat & ~(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
                                   EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
                                   btree_dir)))
    return "ext4";
  if (ext2fs_has_feature_journal (sb))
    return "ext3";
  return "ext2";
}

/* An external journal device: an ext2 superblock, then the journal
 * up to the end (mke2fs -O journal_dev).
 */
static int
map_journal_dev (struct ext2_map *m)
{
  const blk64_t start = m->bs == SUPERBLOCK_OFFSET ? 2 : 1;
  uint64_t fs_bytes;
  int64_t boot, super, journal;

  m->nblocks = ext2fs_blocks_count (m->fs->super);
  if (m->bs < EXT2_MIN_BLOCK_SIZE || m->bs > EXT2_MAX_BLOCK_SIZE ||
      MUL_OVERFLOW (m->nblocks, m->bs, &fs_bytes) || m->nblocks <= start) {
    ext2_warn (m, "not a valid ext3/4 journal device");
    return 0;
  }
  if (vbm_set_fstype (m->ctx, m->vol->object, "jbd") == -1)
    return -1;
  boot = vbm_fsmap_meta (m->fm, "<boot block>", SUPERBLOCK_OFFSET);
  super = vbm_fsmap_meta (m->fm, "<superblock>", SUPERBLOCK_SIZE);
  journal = vbm_fsmap_object (m->fm, VBM_KIND_METADATA, "<journal>", 0,
                              (m->nblocks - start) * m->bs, 0);
  if (boot == -1 || super == -1 || journal == -1 ||
      vbm_fsmap_bytes (m->fm, boot, 0, SUPERBLOCK_OFFSET, 0, 0) == -1 ||
      vbm_fsmap_bytes (m->fm, super, SUPERBLOCK_OFFSET,
                       start * m->bs - SUPERBLOCK_OFFSET, 0, 0) == -1 ||
      vbm_fsmap_bytes (m->fm, journal, start * m->bs,
                       (m->nblocks - start) * m->bs, 0, 0) == -1)
    return -1;
  if (fs_bytes > m->vol->length)
    ext2_warn (m, "journal device is %" PRIu64 " bytes but the volume only %"
               PRIu64 " (truncated image?)", fs_bytes, m->vol->length);
  else if (fs_bytes < m->vol->length) {
    if (vbm_fsmap_beyond (m->fm, fs_bytes, 0, 0) == -1)
      return -1;
  }
  return 0;
}

/* Checks what the phases rely on, beyond ext2fs_open2's checks. */
static bool
check_geometry (struct ext2_map *m)
{
  ext2_filsys fs = m->fs;
  struct ext2_super_block *sb = fs->super;
  uint64_t fs_bytes;

  m->bs = fs->blocksize;
  m->first_block = sb->s_first_data_block;
  m->nblocks = ext2fs_blocks_count (sb);
  m->inode_size = EXT2_INODE_SIZE (sb);

  if (m->bs < EXT2_MIN_BLOCK_SIZE || m->bs > EXT2_MAX_BLOCK_SIZE ||
      (m->bs & (m->bs - 1)) != 0) {
    ext2_warn (m, "not a valid ext2/3/4 filesystem: block size %" PRIu64,
               m->bs);
    return false;
  }
  if (MUL_OVERFLOW (m->nblocks, m->bs, &fs_bytes) ||
      m->first_block >= m->nblocks || fs->group_desc_count == 0) {
    ext2_warn (m, "not a valid ext2/3/4 filesystem: %" PRIu64 " blocks",
               (uint64_t) m->nblocks);
    return false;
  }
  if (m->inode_size < EXT2_GOOD_OLD_INODE_SIZE || m->inode_size > m->bs ||
      (m->inode_size & (m->inode_size - 1)) != 0) {
    ext2_warn (m, "not a valid ext2/3/4 filesystem: inode size %" PRIu64,
               m->inode_size);
    return false;
  }
  m->first_ino = EXT2_FIRST_INO (sb);
  if (m->first_ino < EXT2_GOOD_OLD_FIRST_INO ||
      m->first_ino > sb->s_inodes_count) {
    ext2_warn (m, "bad first inode number %u: using %u",
               m->first_ino, EXT2_GOOD_OLD_FIRST_INO);
    m->first_ino = EXT2_GOOD_OLD_FIRST_INO;
  }

  m->vol_blocks = m->vol->length / m->bs + (m->vol->length % m->bs != 0);
  if (fs_bytes > m->vol->length)
    ext2_warn (m, "filesystem is %" PRIu64 " bytes but the volume only %"
               PRIu64 " (truncated image?): mapping what is inside",
               fs_bytes, m->vol->length);
  if (ext2fs_has_feature_journal_needs_recovery (sb))
    ext2_warn (m, "the journal needs recovery: mapping the on-disk state");
  return true;
}

/* The filesystem in blocks, for the accounting core. */
static void
set_geometry (struct ext2_map *m)
{
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "block",
    .outside = "the filesystem",
    .unit_size = m->bs,
    .first_unit = m->first_block,
    .units = m->nblocks,
    .cluster_units = EXT2FS_CLUSTER_RATIO (m->fs),
  };

  vbm_fsmap_set_geometry (m->fm, &geo);
}

static int
ext2_map_volume (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct vbm_ext2_io_target target = {
    .magic = VBM_EXT2_IO_MAGIC, .ctx = ctx, .vol = vol,
  };
  struct ext2_map m = { .ctx = ctx, .vol = vol };
  char name[64];
  errcode_t err;
  int r = -1;

  m.fm = vbm_fsmap_new (ctx, vol);
  if (m.fm == NULL)
    return -1;
  vbm_ext2_io_name (name, sizeof name, &target);
  if (open_fs (&m, name, &target, &m.fs) == -1)
    goto out;
  if (m.fs && ext2fs_has_feature_journal_dev (m.fs->super)) {
    m.bs = m.fs->blocksize;
    r = map_journal_dev (&m);
    goto out;
  }
  if (m.fs == NULL || !check_geometry (&m)) {
    r = 0;
    goto out;
  }
  if (ctx->stats)
    ctx->stats->filesystems++;
  if (vbm_set_fstype (ctx, vol->object, fs_type (m.fs)) == -1)
    goto out;
  if (m.fs->super->s_free_inodes_count < m.fs->super->s_inodes_count)
    vbm_expect (ctx, m.fs->super->s_inodes_count -
                m.fs->super->s_free_inodes_count);
  vbm_debug (ctx, "%s: %s, %" PRIu64 " blocks of %" PRIu64 " bytes, "
             "%u groups, %u inodes", vol->device, fs_type (m.fs),
             (uint64_t) m.nblocks, m.bs, m.fs->group_desc_count,
             m.fs->super->s_inodes_count);

  /* Bitarrays are fastest; trees keep huge filesystems in bounds. */
  m.fs->default_bitmap_type =
    m.nblocks <= (UINT64_C (64) << 20) ? EXT2FS_BMAP64_BITARRAY
                                        : EXT2FS_BMAP64_RBTREE;
  if (ext2_load_bitmaps (&m, ext2_check_descriptors (&m) > 0) == -1)
    goto out;
  set_geometry (&m);
  m.fs->default_bitmap_type = EXT2FS_BMAP64_RBTREE;
  err = ext2fs_allocate_subcluster_bitmap (m.fs, "xattr blocks",
                                           &m.xattr_blocks);
  if (err) {
    ext2_fatal (&m, err, "allocating a bitmap");
    goto out;
  }

  if (ext2_map_metadata (&m) == -1 ||
      ext2_collect_names (&m) == -1 ||
      ext2_map_inodes (&m) == -1 ||
      ext2_map_unclaimed (&m) == -1 ||
      vbm_fsmap_finish (m.fm) == -1)
    goto out;
  r = 0;

 out:
  if (target.io_failed) {
    /* The source failed: that is fatal, whatever the mapper did. */
    if (ctx->err)
      *ctx->err = target.io_error;
    r = -1;
  }
  ext2_free_names (&m.names);
  free (m.inode_map_unknown);
  if (m.xattr_blocks)
    ext2fs_free_block_bitmap (m.xattr_blocks);
  if (m.fs)
    ext2fs_free (m.fs);         /* not ext2fs_close: it would write */
  vbm_fsmap_free (m.fm);
  return r;
}

const struct vbm_fs_reader vbm_ext2_reader = {
  .name = "ext2",
  .magic = ext2_magic,
  .backup = ext2_probe_backup,
  .map = ext2_map_volume,
  .mbr_room = true,
};
