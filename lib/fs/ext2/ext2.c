/* ext2/3/4 filesystems, with libext2fs: detection, opening, and the
 * extent writer shared by the phases (see ext2-map.h).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <et/com_err.h>

#include "checked-overflow.h"
#include "ext2-map.h"

/* A badly corrupt filesystem could give a warning per inode. */

bool
vbm_ext2_probe (const unsigned char *buf, size_t len)
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
bool
vbm_ext2_probe_backup (struct vbm_ctx *ctx, const struct vbm_volume *vol)
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

/* error_message() needs the ext2 table registered in com_err's global
 * list; look the table up directly instead.
 */
const char *
ext2_strerror (errcode_t err)
{
  const struct error_table *et = &et_ext2_error_table;

  if (err >= et->base && err < et->base + et->n_msgs)
    return et->msgs[err - et->base];
  if (err > 0 && err < 4096)
    return strerror ((int) err);
  return "unknown libext2fs error";
}

void
ext2_warn (struct ext2_map *m, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vbm_vwarn_limited (m->ctx, &m->warn_limit, m->vol->device, fs, args);
  va_end (args);
}

int
ext2_fatal (struct ext2_map *m, errcode_t err, const char *what)
{
  vbm_set_error (m->ctx->err, err > 0 && err < 4096 ? (int) err : EIO,
                 "%s: %s: %s", m->vol->device, what, ext2_strerror (err));
  return -1;
}

/* ---- Objects and extents. ---- */

int64_t
ext2_add_object (struct ext2_map *m, char kind, const char *path,
                 uint64_t inode, uint64_t size, unsigned flags)
{
  /* Keep each object's extents together in the store. */
  if (ext2_flush (m) == -1)
    return -1;
  return vbm_add_volume_object (m->ctx, m->vol, kind, path, inode, size,
                                flags);
}

static const struct {
  char kind;
  const char *path;
} meta_objects[META_NR] = {
  [META_BOOT] =          { VBM_KIND_METADATA, "<boot block>" },
  [META_SUPER] =         { VBM_KIND_METADATA, "<superblock>" },
  [META_GDT] =           { VBM_KIND_METADATA, "<group descriptors>" },
  [META_RESERVED_GDT] =  { VBM_KIND_METADATA, "<reserved gdt>" },
  [META_BLOCK_BITMAP] =  { VBM_KIND_METADATA, "<block bitmap>" },
  [META_INODE_BITMAP] =  { VBM_KIND_METADATA, "<inode bitmap>" },
  [META_INODE_TABLE] =   { VBM_KIND_METADATA, "<inode table>" },
  [META_MMP] =           { VBM_KIND_METADATA, "<mmp block>" },
  [META_UNACCOUNTED] =   { VBM_KIND_METADATA, "<unaccounted>" },
  [META_FREE] =          { VBM_KIND_FREE, "<free space>" },
  [META_SLACK] =         { VBM_KIND_FREE, "<cluster slack>" },
  [META_BEYOND] =        { VBM_KIND_FREE, "<beyond filesystem>" },
};

int64_t
ext2_meta_object (struct ext2_map *m, enum ext2_meta which, uint64_t size)
{
  if (m->meta[which] == 0)
    m->meta[which] = ext2_add_object (m, meta_objects[which].kind,
                                      meta_objects[which].path, 0, size, 0);
  return m->meta[which];
}

int
ext2_flush (struct ext2_map *m)
{
  uint64_t start, len;

  if (!m->run.valid)
    return 0;
  m->run.valid = false;

  /* Blocks are inside the filesystem (validated against overflow at
   * open), but a truncated image may end before them.
   */
  start = m->run.blk * m->bs;
  len = m->run.len * m->bs;
  if (start >= m->vol->length)
    return 0;
  if (len > m->vol->length - start)
    len = m->vol->length - start;
  return vbm_volume_add_extent (m->ctx, m->vol, m->run.object, start, len,
                                m->run.off, m->run.flags);
}

/* Appends to the pending run, or flushes it and starts a new one. */
static int
push_run (struct ext2_map *m, int64_t object, blk64_t blk, blk64_t n,
          int64_t off, unsigned flags)
{
  if (m->run.valid && m->run.object == object && m->run.flags == flags &&
      m->run.blk + m->run.len == blk &&
      (off == -1 ? m->run.off == -1 :
       m->run.off != -1 &&
       (uint64_t) m->run.off + m->run.len * m->bs == (uint64_t) off)) {
    m->run.len += n;
    return 0;
  }
  if (ext2_flush (m) == -1)
    return -1;
  m->run.valid = true;
  m->run.object = object;
  m->run.blk = blk;
  m->run.len = n;
  m->run.off = off;
  m->run.flags = flags;
  return 0;
}

bool
ext2_claim_block (struct ext2_map *m, blk64_t blk)
{
  if (blk < m->first_block || blk >= m->nblocks) {
    m->obj_outside++;
    return false;
  }
  if (ext2fs_test_block_bitmap2 (m->claimed, blk)) {
    m->obj_conflicts++;
    return false;
  }
  ext2fs_mark_block_bitmap2 (m->claimed, blk);
  return true;
}

int64_t
ext2_map_blocks (struct ext2_map *m, int64_t object, blk64_t blk, blk64_t n,
                 int64_t off, unsigned flags, bool claim)
{
  blk64_t end, b, next;
  int64_t mapped = 0;

  if (n == 0)
    return 0;
  if (!claim) {
    if (push_run (m, object, blk, n, off, flags) == -1)
      return -1;
    return n;
  }

  /* Clip to the filesystem. */
  if (ADD_OVERFLOW (blk, n, &end) || end > m->nblocks)
    end = m->nblocks;
  if (blk >= end) {
    m->obj_outside += n;
    return 0;
  }
  m->obj_outside += n - (end - blk);
  b = blk;
  if (b < m->first_block) {
    m->obj_outside += m->first_block - b;
    b = m->first_block;
  }

  /* Map the unclaimed parts, count the claimed ones. */
  while (b < end) {
    if (ext2fs_test_block_bitmap2 (m->claimed, b)) {
      if (ext2fs_find_first_zero_block_bitmap2 (m->claimed, b, end - 1,
                                                &next) != 0)
        next = end;
      m->obj_conflicts += next - b;
      b = next;
      continue;
    }
    if (ext2fs_find_first_set_block_bitmap2 (m->claimed, b, end - 1,
                                             &next) != 0)
      next = end;
    ext2fs_mark_block_bitmap_range2 (m->claimed, b, next - b);
    if (push_run (m, object, b, next - b,
                  off == -1 ? -1 : off + (int64_t) ((b - blk) * m->bs),
                  flags) == -1)
      return -1;
    mapped += next - b;
    b = next;
  }
  return mapped;
}

int
ext2_map_bytes (struct ext2_map *m, int64_t object, uint64_t start,
                uint64_t len, int64_t off, unsigned flags)
{
  if (ext2_flush (m) == -1)
    return -1;
  if (start >= m->vol->length || len == 0)
    return 0;
  if (len > m->vol->length - start)
    len = m->vol->length - start;
  return vbm_volume_add_extent (m->ctx, m->vol, object, start, len,
                                off, flags);
}

void
ext2_end_object (struct ext2_map *m, const char *what)
{
  if (m->obj_conflicts)
    ext2_warn (m, "%s: %" PRIu64 " block(s) already belong to another "
               "object (mapped once)", what, m->obj_conflicts);
  if (m->obj_outside)
    ext2_warn (m, "%s: %" PRIu64 " block(s) outside the filesystem "
               "(not mapped)", what, m->obj_outside);
  m->obj_conflicts = m->obj_outside = 0;
}

/* ---- Opening. ---- */

bool
ext2_is_csum_error (errcode_t err)
{
  switch (err) {
  case EXT2_ET_SB_CSUM_INVALID:
  case EXT2_ET_UNKNOWN_CSUM:
  case EXT2_ET_BLOCK_BITMAP_CSUM_INVALID:
  case EXT2_ET_INODE_BITMAP_CSUM_INVALID:
  case EXT2_ET_INODE_CSUM_INVALID:
  case EXT2_ET_EXTENT_CSUM_INVALID:
  case EXT2_ET_DIR_CSUM_INVALID:
  case EXT2_ET_EXT_ATTR_CSUM_INVALID:
  case EXT2_ET_MMP_CSUM_INVALID:
    return true;
  default:
    return false;
  }
}

/* Opens the filesystem; *fsp is NULL (and a warning given) if it is
 * not one we can read.  -1 only on fatal errors.
 */
static int
open_fs (struct ext2_map *m, const char *name,
         const struct vbm_ext2_io_target *target, ext2_filsys *fsp)
{
  const int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
  errcode_t err, err2;
  unsigned bs;

  *fsp = NULL;
  err = ext2fs_open2 (name, NULL, flags, 0, 0, &vbm_ext2_io_manager, fsp);
  if (err == 0)
    return 0;
  if (target->io_failed)
    return 0;                   /* reported by the caller */
  if (ext2_is_csum_error (err)) {
    err2 = ext2fs_open2 (name, NULL, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS,
                         0, 0, &vbm_ext2_io_manager, fsp);
    if (err2 == 0) {
      ext2_warn (m, "%s: checksums ignored", ext2_strerror (err));
      return 0;
    }
  }
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
    err2 = ext2fs_open2 (name, NULL, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS,
                         sb, bs, &vbm_ext2_io_manager, fsp);
    if (target->io_failed)
      return 0;
    if (err2 == 0) {
      ext2_warn (m, "primary superblock unusable (%s): using the backup "
                 "superblock at block %d", ext2_strerror (err), sb);
      return 0;
    }
  }
  *fsp = NULL;
  ext2_warn (m, "not a valid ext2/3/4 filesystem: %s", ext2_strerror (err));
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
  boot = ext2_meta_object (m, META_BOOT, SUPERBLOCK_OFFSET);
  super = ext2_meta_object (m, META_SUPER, SUPERBLOCK_SIZE);
  journal = ext2_add_object (m, VBM_KIND_METADATA, "<journal>", 0,
                             (m->nblocks - start) * m->bs, 0);
  if (boot == -1 || super == -1 || journal == -1 ||
      ext2_map_bytes (m, boot, 0, SUPERBLOCK_OFFSET, 0, 0) == -1 ||
      ext2_map_bytes (m, super, SUPERBLOCK_OFFSET,
                      start * m->bs - SUPERBLOCK_OFFSET, 0, 0) == -1 ||
      ext2_map_blocks (m, journal, start, m->nblocks - start, 0, 0,
                       false) == -1 ||
      ext2_flush (m) == -1)
    return -1;
  if (fs_bytes > m->vol->length)
    ext2_warn (m, "journal device is %" PRIu64 " bytes but the volume only %"
               PRIu64 " (truncated image?)", fs_bytes, m->vol->length);
  else if (fs_bytes < m->vol->length) {
    if (ext2_map_beyond (m, fs_bytes) == -1)
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

int
vbm_map_ext2 (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct vbm_ext2_io_target target = {
    .magic = VBM_EXT2_IO_MAGIC, .ctx = ctx, .vol = vol,
  };
  struct ext2_map m = { .ctx = ctx, .vol = vol };
  char name[64];
  errcode_t err;
  int r = -1;

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
  if (ext2_load_bitmaps (&m) == -1)
    goto out;
  err = ext2fs_allocate_subcluster_bitmap (m.fs, "claimed blocks",
                                           &m.claimed);
  if (err) {
    ext2_fatal (&m, err, "allocating a bitmap");
    goto out;
  }
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
      ext2_flush (&m) == -1)
    goto out;
  vbm_warn_limit_end (ctx, &m.warn_limit, vol->device);
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
  if (m.claimed)
    ext2fs_free_block_bitmap (m.claimed);
  if (m.xattr_blocks)
    ext2fs_free_block_bitmap (m.xattr_blocks);
  if (m.fs)
    ext2fs_free (m.fs);         /* not ext2fs_close: it would write */
  return r;
}
