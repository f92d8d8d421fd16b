/* ext2/3/4 inodes: one sequential scan of the inode tables (as e2fsck
 * pass 1 does), merged with the names sorted by inode.  Each in-use
 * inode becomes an object with its blocks.
 *
 * Extents: data at object offset logical block * blocksize, split at
 * EOF (the part past i_size rounded up to a block is PAST_EOF);
 * extent tree and indirect blocks are TREE, the external xattr block
 * XATTR, both at offset -1.  Inline data and fast symlinks are mapped
 * as INLINE byte ranges inside the inode table.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext2-map.h"

#define PROGRESS_EVERY 4096
#define I_BLOCK_OFFSET 40       /* offsetof (struct ext2_inode, i_block) */
#define I_BLOCK_SIZE 60         /* sizeof i_block */

struct scan {
  struct ext2_map *m;
  dgrp_t group;                 /* group being scanned */
  unsigned char *raw;           /* the inode, inode_size bytes */
  char *blockbuf;               /* for ext2fs_block_iterate3 */
  char *path;                   /* primary path of the inode */
  size_t path_cap;
  int64_t obj;                  /* object being mapped */
  blk64_t eof_blk;              /* first logical block at or past EOF */
  bool former;                  /* a deleted inode: former extents */
  bool fatal;
  uint64_t dangling;            /* names of inodes not in use */
  uint64_t csum_errors;
};

/* ext2fs_block_iterate3 reads the inode again: give it ours. */
static errcode_t
stashed_read_inode (ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode)
{
  struct ext2_map *m = fs->priv_data;

  if (m && m->stashed && ino == m->stashed_ino) {
    memcpy (inode, m->stashed, sizeof *inode);
    return 0;
  }
  return EXT2_ET_CALLBACK_NOTHANDLED;
}

static errcode_t
done_group (ext2_filsys fs, ext2_inode_scan scan, dgrp_t group, void *priv)
{
  struct scan *s = priv;

  s->group = group + 1;
  return 0;
}

/* ---- Blocks. ---- */

/* Data blocks, split at EOF. */
static int
map_data (struct scan *s, blk64_t lblk, blk64_t pblk, blk64_t n,
          unsigned flags)
{
  struct ext2_map *m = s->m;

  /* A deleted file's data, up to its size: nothing is claimed. */
  if (s->former) {
    if (lblk < s->eof_blk &&
        vbm_fsmap_former (m->fm, s->obj, pblk,
                          n < s->eof_blk - lblk ? n : s->eof_blk - lblk,
                          lblk * m->bs) == -1)
      return -1;
    return 0;
  }
  if (lblk < s->eof_blk) {
    blk64_t k = n < s->eof_blk - lblk ? n : s->eof_blk - lblk;

    if (vbm_fsmap_units (m->fm, s->obj, pblk, k, lblk * m->bs, flags) == -1)
      return -1;
    lblk += k;
    pblk += k;
    n -= k;
  }
  if (n > 0 &&
      vbm_fsmap_units (m->fm, s->obj, pblk, n, lblk * m->bs,
                       flags | VBM_EXTENT_PAST_EOF) == -1)
    return -1;
  return 0;
}

/* Most files have their few extents in the inode itself: map those
 * directly, without an extent handle (two allocations per inode).
 * Returns false, with nothing done, for anything else, including a
 * header libext2fs would reject: map_extents handles (and reports) it.
 */
static bool
map_inode_extents (struct scan *s, int *r)
{
  const struct ext2_inode *in = (const struct ext2_inode *) s->raw;
  struct ext3_extent_header eh;
  struct ext3_extent ex;
  const unsigned root_max =
    (I_BLOCK_SIZE - sizeof eh) / sizeof (struct ext3_extent);
  unsigned i, entries, max;

  memcpy (&eh, in->i_block, sizeof eh);
  entries = ext2fs_le16_to_cpu (eh.eh_entries);
  max = ext2fs_le16_to_cpu (eh.eh_max);
  if (ext2fs_le16_to_cpu (eh.eh_magic) != EXT3_EXT_MAGIC ||
      eh.eh_depth != 0 || entries > max || max > root_max ||
      max < root_max - 2)
    return false;

  *r = 0;
  for (i = 0; i < entries; i++) {
    uint64_t pblk, len;
    unsigned flags = 0;

    memcpy (&ex, (const char *) in->i_block + sizeof eh + i * sizeof ex,
            sizeof ex);
    pblk = ext2fs_le32_to_cpu (ex.ee_start) |
      (uint64_t) ext2fs_le16_to_cpu (ex.ee_start_hi) << 32;
    len = ext2fs_le16_to_cpu (ex.ee_len);
    if (len > EXT_INIT_MAX_LEN) {
      len -= EXT_INIT_MAX_LEN;
      flags = VBM_EXTENT_UNWRITTEN;
    }
    if (len > 0 &&
        map_data (s, ext2fs_le32_to_cpu (ex.ee_block), pblk, len,
                  flags) == -1) {
      *r = -1;
      break;
    }
  }
  return true;
}

static int
map_extents (struct scan *s, ext2_ino_t ino, const char *what)
{
  struct ext2_map *m = s->m;
  ext2_extent_handle_t h;
  struct ext2fs_extent e;
  struct ext2_extent_info info;
  const uint64_t max_steps = 2 * (uint64_t) m->nblocks + 64;
  uint64_t steps = 0;
  unsigned errors = 0;
  bool csum_error = false;
  int op = EXT2_EXTENT_ROOT;
  errcode_t err;
  int r = 0;

  if (map_inode_extents (s, &r))
    return r;
  err = ext2fs_extent_open2 (m->fs, ino, (struct ext2_inode *) s->raw, &h);
  if (err) {
    ext2_warn (m, "%s: bad extent tree: %s", what, ext2_strerror (err));
    return 0;
  }

  for (;;) {
    if (++steps > max_steps) {
      ext2_warn (m, "%s: extent tree too big: not all mapped", what);
      break;
    }
    err = ext2fs_extent_get (h, op, &e);
    if (err == EXT2_ET_EXTENT_NO_NEXT)
      break;
    if (err == EXT2_ET_EXTENT_CSUM_INVALID)
      csum_error = true;        /* e is filled in all the same */
    else if (err) {
      /* A node that cannot be read leaves the handle on its parent
       * entry, so NEXT moves on.
       */
      ext2_warn (m, "%s: extent tree: %s", what, ext2_strerror (err));
      if (op == EXT2_EXTENT_ROOT || ++errors > 16)
        break;
      op = EXT2_EXTENT_NEXT;
      continue;
    }
    op = EXT2_EXTENT_NEXT;
    if (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
      continue;

    if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF)) {
      /* An index entry: its child node is a tree block. */
      int64_t n = vbm_fsmap_units (m->fm, s->obj, e.e_pblk, 1, -1,
                                   VBM_EXTENT_TREE);

      if (n == -1) {
        r = -1;
        break;
      }
      if (n == 0) {
        /* Outside the filesystem or already mapped: don't descend. */
        if (ext2fs_extent_get_info (h, &info) != 0)
          break;
        if (info.curr_entry < info.num_entries)
          op = EXT2_EXTENT_NEXT_SIB;
        else if (info.curr_level > 0)
          op = EXT2_EXTENT_UP;
        else
          break;
      }
      continue;
    }
    if (e.e_len > 0 &&
        map_data (s, e.e_lblk, e.e_pblk, e.e_len,
                  e.e_flags & EXT2_EXTENT_FLAGS_UNINIT
                  ? VBM_EXTENT_UNWRITTEN : 0) == -1) {
      r = -1;
      break;
    }
  }
  ext2fs_extent_free (h);
  if (csum_error)
    s->csum_errors++;
  return r;
}

static int
map_blockmap_block (ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
                    blk64_t ref_blk, int ref_offset, void *priv)
{
  struct scan *s = priv;

  /* A deleted file: its data up to its size, its pointers taken as
   * they are (the blocks may have been reused since).
   */
  if (s->former && blockcnt < 0)
    return 0;
  if (s->former && (blk64_t) blockcnt >= s->eof_blk)
    return BLOCK_ABORT;
  if (blockcnt < 0) {
    /* Indirect block. */
    int64_t n = vbm_fsmap_units (s->m->fm, s->obj, *blocknr, 1, -1,
                                 VBM_EXTENT_TREE);

    if (n == -1) {
      s->fatal = true;
      return BLOCK_ABORT;
    }
    /* Bad or already mapped: a zero makes block_iterate skip what it
     * points to (nothing is written: we return no BLOCK_CHANGED).
     */
    if (n == 0)
      *blocknr = 0;
    return 0;
  }
  if (map_data (s, blockcnt, *blocknr, 1, 0) == -1) {
    s->fatal = true;
    return BLOCK_ABORT;
  }
  return 0;
}

static int
map_blockmap (struct scan *s, ext2_ino_t ino, const char *what)
{
  struct ext2_map *m = s->m;
  errcode_t err;

  m->stashed = (struct ext2_inode *) s->raw;
  m->stashed_ino = ino;
  err = ext2fs_block_iterate3 (m->fs, ino, BLOCK_FLAG_READ_ONLY, s->blockbuf,
                               map_blockmap_block, s);
  m->stashed_ino = 0;
  m->stashed = NULL;
  if (s->fatal)
    return -1;
  if (err)
    ext2_warn (m, "%s: %s", what, ext2_strerror (err));
  return 0;
}

/* An inode freed by unlinking a regular file (links 0, deletion time
 * set) whose block pointers were left, as ext2 leaves them (ext3 and
 * ext4 clear them): <deleted>/<inode N> at its former blocks.  The name
 * is not known: directory entries are read from live directories.
 */
static int
map_deleted (struct scan *s, ext2_ino_t ino)
{
  struct ext2_map *m = s->m;
  struct ext2_inode *in = (struct ext2_inode *) s->raw;
  const uint64_t size = EXT2_I_SIZE (in);
  char path[64];
  int r;

  if (!LINUX_S_ISREG (in->i_mode) || in->i_links_count != 0 ||
      in->i_dtime == 0 || size == 0 || in->i_block[0] == 0 ||
      (in->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)))
    return 0;
  snprintf (path, sizeof path, "<deleted>/<inode %u>", ino);
  s->obj = vbm_fsmap_object (m->fm, VBM_KIND_FILE, path, ino, size,
                             VBM_OBJECT_DELETED);
  if (s->obj == -1)
    return -1;
  s->eof_blk = size / m->bs + (size % m->bs != 0);
  s->former = true;
  r = map_blockmap (s, ino, path);
  s->former = false;
  if (r == -1 || vbm_fsmap_flush (m->fm) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, path);
  return 0;
}

/* Byte offset of the inode's record in the volume, or false. */
static bool
inode_record (struct ext2_map *m, ext2_ino_t ino, uint64_t *offset)
{
  const uint64_t ipg = EXT2_INODES_PER_GROUP (m->fs->super);
  const dgrp_t g = (ino - 1) / ipg;
  blk64_t itable = ext2fs_inode_table_loc (m->fs, g);

  if (itable < m->first_block || itable >= m->nblocks ||
      m->nblocks - itable < m->fs->inode_blocks_per_group)
    return false;
  *offset = itable * m->bs + ((ino - 1) % ipg) * m->inode_size;
  return true;
}

/* The in-inode "system.data" xattr value: where inline data goes on
 * after i_block.  Returns its offset in the inode and size, or false.
 */
static bool
find_inline_data_ea (struct scan *s, uint32_t *voff, uint32_t *vsize)
{
  const unsigned char *raw = s->raw;
  const uint64_t isz = s->m->inode_size;
  uint64_t start, pos;
  uint32_t magic;
  uint16_t extra;

  if (isz <= EXT2_GOOD_OLD_INODE_SIZE)
    return false;
  memcpy (&extra, raw + EXT2_GOOD_OLD_INODE_SIZE, 2);
  extra = ext2fs_le16_to_cpu (extra);
  start = EXT2_GOOD_OLD_INODE_SIZE + (uint64_t) extra;
  if (extra % 4 != 0 || start + 4 > isz)
    return false;
  memcpy (&magic, raw + start, 4);
  if (ext2fs_le32_to_cpu (magic) != EXT2_EXT_ATTR_MAGIC)
    return false;

  /* Entries follow the magic; value offsets count from there too. */
  for (pos = start + 4;
       pos + sizeof (struct ext2_ext_attr_entry) <= isz;) {
    struct ext2_ext_attr_entry ent;
    uint64_t value;

    memcpy (&ent, raw + pos, sizeof ent);
    if (EXT2_EXT_IS_LAST_ENTRY (&ent))
      break;
    if (pos + EXT2_EXT_ATTR_LEN (ent.e_name_len) > isz)
      break;
    if (ent.e_name_index == 7 /* system */ && ent.e_name_len == 4 &&
        memcmp (raw + pos + sizeof ent, "data", 4) == 0) {
      value = start + 4 + ext2fs_le16_to_cpu (ent.e_value_offs);
      *vsize = ext2fs_le32_to_cpu (ent.e_value_size);
      if (ent.e_value_inum != 0 || value > isz || *vsize > isz - value)
        return false;
      *voff = value;
      return true;
    }
    pos += EXT2_EXT_ATTR_LEN (ent.e_name_len);
  }
  return false;
}

/* Inline data or a fast symlink: the bytes are in the inode. */
static int
map_inline (struct scan *s, ext2_ino_t ino, uint64_t size, bool inline_data,
            const char *what)
{
  struct ext2_map *m = s->m;
  uint64_t rec, n;
  uint32_t voff, vsize;

  if (size == 0)
    return 0;
  if (!inode_record (m, ino, &rec))
    return 0;
  n = size < I_BLOCK_SIZE ? size : I_BLOCK_SIZE;
  if (vbm_fsmap_bytes (m->fm, s->obj, rec + I_BLOCK_OFFSET, n, 0,
                       VBM_EXTENT_INLINE) == -1)
    return -1;
  if (!inline_data || size <= I_BLOCK_SIZE)
    return 0;
  if (!find_inline_data_ea (s, &voff, &vsize)) {
    ext2_warn (m, "%s: inline data past i_block not found", what);
    return 0;
  }
  n = size - I_BLOCK_SIZE < vsize ? size - I_BLOCK_SIZE : vsize;
  return vbm_fsmap_bytes (m->fm, s->obj, rec + voff, n, I_BLOCK_SIZE,
                          VBM_EXTENT_INLINE);
}

/* An xattr block may be shared: it is mapped with its first user. */
static int
map_xattr_block (struct scan *s)
{
  struct ext2_map *m = s->m;
  blk64_t blk = ext2fs_file_acl_block (m->fs, (struct ext2_inode *) s->raw);

  if (blk == 0)
    return 0;
  /* (One outside the filesystem is counted as such by the core.) */
  if (blk >= m->first_block && blk < m->nblocks) {
    if (ext2fs_test_block_bitmap2 (m->xattr_blocks, blk))
      return 0;
    ext2fs_mark_block_bitmap2 (m->xattr_blocks, blk);
  }
  return vbm_fsmap_units (m->fm, s->obj, blk, 1, -1,
                          VBM_EXTENT_XATTR) == -1 ? -1 : 0;
}

static int
map_inode_blocks (struct scan *s, ext2_ino_t ino, const char *what)
{
  struct ext2_inode *in = (struct ext2_inode *) s->raw;
  const uint16_t mode = in->i_mode;
  const uint64_t size = EXT2_I_SIZE (in);
  int r;

  s->eof_blk = size / s->m->bs + (size % s->m->bs != 0);
  if (in->i_flags & EXT4_INLINE_DATA_FL)
    r = map_inline (s, ino, size, true, what);
  else if (LINUX_S_ISLNK (mode) && ext2fs_is_fast_symlink (in))
    r = map_inline (s, ino, size, false, what);
  else if (LINUX_S_ISCHR (mode) || LINUX_S_ISBLK (mode) ||
           LINUX_S_ISFIFO (mode) || LINUX_S_ISSOCK (mode))
    r = 0;                      /* i_block holds a device number */
  else if (in->i_flags & EXT4_EXTENTS_FL)
    r = map_extents (s, ino, what);
  else
    r = map_blockmap (s, ino, what);
  if (r == -1)
    return -1;
  return map_xattr_block (s);
}

/* ---- Objects. ---- */

/* Reserved inodes and those the superblock points to. */
static const char *
special_name (struct ext2_map *m, ext2_ino_t ino, char *buf, size_t len)
{
  struct ext2_super_block *sb = m->fs->super;

  if (ext2fs_has_feature_journal (sb) && ino == sb->s_journal_inum)
    return "<journal>";
  if (sb->s_usr_quota_inum && ino == sb->s_usr_quota_inum)
    return "<user quota>";
  if (sb->s_grp_quota_inum && ino == sb->s_grp_quota_inum)
    return "<group quota>";
  if (sb->s_prj_quota_inum && ino == sb->s_prj_quota_inum)
    return "<project quota>";
  if (ext2fs_has_feature_orphan_file (sb) && ino == sb->s_orphan_file_inum)
    return "<orphan file>";
  if (ino >= m->first_ino || ino == EXT2_ROOT_INO)
    return NULL;
  switch (ino) {
  case EXT2_BAD_INO: return "<bad blocks>";
  case EXT4_USR_QUOTA_INO: return "<user quota>";
  case EXT4_GRP_QUOTA_INO: return "<group quota>";
  case EXT2_BOOT_LOADER_INO: return "<boot loader>";
  case EXT2_UNDEL_DIR_INO: return "<undelete directory>";
  case EXT2_RESIZE_INO: return "<resize inode>";
  case EXT2_JOURNAL_INO: return "<journal>";
  case EXT2_EXCLUDE_INO: return "<exclude inode>";
  case EXT4_REPLICA_INO: return "<replica inode>";
  default:
    snprintf (buf, len, "<inode %u>", ino);
    return buf;
  }
}

static int
map_special (struct scan *s, ext2_ino_t ino, const char *name)
{
  struct ext2_map *m = s->m;
  struct ext2_inode *in = (struct ext2_inode *) s->raw;
  bool empty = in->i_blocks == 0 &&
    ext2fs_file_acl_block (m->fs, in) == 0;
  unsigned i;

  for (i = 0; i < EXT2_N_BLOCKS; i++)
    empty = empty && in->i_block[i] == 0;
  if (empty)
    return 0;                   /* unused */

  s->obj = vbm_fsmap_object (m->fm, VBM_KIND_METADATA, name, ino,
                             EXT2_I_SIZE (in), 0);
  if (s->obj == -1)
    return -1;
  if (ino == EXT2_RESIZE_INO) {
    /* Its indirect blocks are the reserved GDT blocks, mapped as
     * such; only the double indirect block is its own.
     */
    if (in->i_block[EXT2_DIND_BLOCK] &&
        vbm_fsmap_units (m->fm, s->obj, in->i_block[EXT2_DIND_BLOCK], 1, -1,
                         VBM_EXTENT_TREE) == -1)
      return -1;
  }
  else if (map_inode_blocks (s, ino, name) == -1)
    return -1;
  if (vbm_fsmap_flush (m->fm) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, name);
  return 0;
}

/* The names of ino: returns how many, the first in *first. */
static size_t
take_names (struct scan *s, ext2_ino_t ino, uint32_t *first)
{
  struct ext2_names *names = &s->m->names;
  size_t n = 0;

  while (names->cursor < names->v.len &&
         EXT2_NAME_INO (names->v.ptr[names->cursor]) < ino) {
    s->dangling++;              /* its inode was never scanned */
    names->cursor++;
  }
  while (names->cursor + n < names->v.len &&
         EXT2_NAME_INO (names->v.ptr[names->cursor + n]) == ino)
    n++;
  if (n)
    *first = names->cursor;
  return n;
}

static int
set_path (struct scan *s, const char *path)
{
  size_t len;

  if (path == NULL)
    return -1;
  len = strlen (path) + 1;
  if (len > s->path_cap) {
    char *p = realloc (s->path, len);

    if (p == NULL)
      return -1;
    s->path = p;
    s->path_cap = len;
  }
  memcpy (s->path, path, len);
  return 0;
}

static int
map_inode (struct scan *s, ext2_ino_t ino)
{
  struct ext2_map *m = s->m;
  struct ext2_names *names = &m->names;
  struct ext2_inode *in = (struct ext2_inode *) s->raw;
  const uint16_t mode = in->i_mode;
  const dgrp_t g = (ino - 1) / EXT2_INODES_PER_GROUP (m->fs->super);
  char buf[64];
  const char *special, *path;
  uint32_t first = 0;
  size_t nnames, k;
  unsigned flags = 0;
  char kind;
  bool in_use;

  nnames = take_names (s, ino, &first);
  special = special_name (m, ino, buf, sizeof buf);
  if (special) {
    names->cursor += nnames;
    return map_special (s, ino, special);
  }

  if (m->inode_map_unknown && m->inode_map_unknown[g])
    in_use = in->i_links_count > 0 && in->i_dtime == 0;
  else
    in_use = ext2fs_fast_test_inode_bitmap2 (m->fs->inode_map, ino);
  if (!in_use || mode == 0) {
    s->dangling += nnames;
    names->cursor += nnames;
    return in_use ? 0 : map_deleted (s, ino);
  }

  kind = LINUX_S_ISDIR (mode) ? VBM_KIND_DIRECTORY : VBM_KIND_FILE;
  if (LINUX_S_ISLNK (mode))
    flags |= VBM_OBJECT_SYMLINK;
  else if (LINUX_S_ISCHR (mode) || LINUX_S_ISBLK (mode) ||
           LINUX_S_ISFIFO (mode) || LINUX_S_ISSOCK (mode))
    flags |= VBM_OBJECT_SPECIAL;

  if (nnames) {
    /* The names' path buffer is reused for the other names: keep a
     * copy of the first only if there are others.
     */
    path = ext2_name_path (m, first);
    if (path && nnames > 1)
      path = set_path (s, path) == -1 ? NULL : s->path;
    if (path == NULL)
      return ext2_fatal (m, ENOMEM, "building paths");
  }
  else {
    if (in->i_flags & EXT4_EA_INODE_FL) {
      kind = VBM_KIND_METADATA;
      snprintf (buf, sizeof buf, "<xattr inode %u>", ino);
    }
    else if (in->i_links_count == 0) {
      /* Unlinked but still open: on the orphan list. */
      flags |= VBM_OBJECT_DELETED | VBM_OBJECT_UNREACHABLE;
      snprintf (buf, sizeof buf, "<orphan inode %u>", ino);
    }
    else {
      flags |= VBM_OBJECT_UNREACHABLE;
      snprintf (buf, sizeof buf, "<unreachable inode %u>", ino);
    }
    path = buf;
  }

  s->obj = vbm_fsmap_object (m->fm, kind, path, ino, EXT2_I_SIZE (in), flags);
  if (s->obj == -1)
    return -1;
  for (k = 1; k < nnames; k++) {
    const char *other = ext2_name_path (m, names->cursor + k);

    if (other == NULL)
      return ext2_fatal (m, ENOMEM, "building paths");
    if (vbm_fsmap_name (m->fm, s->obj, other) == -1)
      return -1;
  }
  names->cursor += nnames;
  if (m->ctx->stats) {
    if (kind == VBM_KIND_DIRECTORY)
      m->ctx->stats->directories++;
    else if (kind == VBM_KIND_FILE)
      m->ctx->stats->files++;
  }

  if (map_inode_blocks (s, ino, path) == -1)
    return -1;
  if (vbm_fsmap_flush (m->fm) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, path);
  return 0;
}

/* ---- The scan. ---- */

/* The inode table of s->group cannot be read: go on with the next
 * group that can.  Returns false when there is none.
 */
static bool
skip_group (struct scan *s, ext2_inode_scan scan, errcode_t err)
{
  struct ext2_map *m = s->m;
  dgrp_t g = s->group;

  for (;;) {
    ext2_warn (m, "group %u: cannot read the inode table (%s): its inodes "
               "are not mapped", g, ext2_strerror (err));
    if (g + 1 >= m->fs->group_desc_count)
      return false;
    g++;
    s->group = g;
    err = ext2fs_inode_scan_goto_blockgroup (scan, g);
    if (err == 0)
      return true;
  }
}

int
ext2_map_inodes (struct ext2_map *m)
{
  ext2_filsys fs = m->fs;
  const ext2_ino_t ninodes = fs->super->s_inodes_count;
  struct scan s = { .m = m };
  ext2_inode_scan scan = NULL;
  size_t rawsize;
  ext2_ino_t ino;
  errcode_t err;
  bool own_csum;
  int r = -1;

  rawsize = m->inode_size > sizeof (struct ext2_inode_large)
    ? m->inode_size : sizeof (struct ext2_inode_large);
  s.raw = calloc (1, rawsize);
  s.blockbuf = malloc (3 * m->bs);
  if (s.raw == NULL || s.blockbuf == NULL) {
    ext2_fatal (m, ENOMEM, "scanning inodes");
    goto out;
  }

  /* 128 KiB of inode table per read: bigger buffers cost more in
   * page faults than they save in reads.
   */
  err = ext2fs_open_inode_scan (fs, (128 << 10) / m->bs, &scan);
  if (err) {
    ext2_warn (m, "cannot scan the inodes: %s", ext2_strerror (err));
    r = 0;
    goto out;
  }
  ext2fs_inode_scan_flags (scan, EXT2_SF_SKIP_MISSING_ITABLE, 0);
  ext2fs_set_inode_callback (scan, done_group, &s);
  fs->priv_data = m;
  fs->read_inode = stashed_read_inode;

  /* Inode checksums: ours if faster, with the same verdict. */
  own_csum = !(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS) &&
    ext2_inode_csum_fast (fs);

  for (;;) {
    if (own_csum)
      fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
    err = ext2fs_get_next_inode_full (scan, &ino, (struct ext2_inode *) s.raw,
                                      m->inode_size);
    if (own_csum) {
      fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
      if (err == 0 && ino != 0 && ino <= ninodes &&
          !ext2_inode_csum_ok (fs, ino, s.raw))
        err = EXT2_ET_INODE_CSUM_INVALID;
    }
    if (err == EXT2_ET_NEXT_INODE_READ ||
        err == EXT2_ET_GDESC_BAD_INODE_TABLE ||
        err == EXT2_ET_MISSING_INODE_TABLE) {
      if (!skip_group (&s, scan, err))
        break;
      continue;
    }
    if (err == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
      continue;
    if (err == EXT2_ET_INODE_CSUM_INVALID ||
        err == EXT2_ET_INODE_IS_GARBAGE)
      s.csum_errors++;
    else if (err) {
      ext2_warn (m, "inode scan stopped: %s", ext2_strerror (err));
      break;
    }
    if (ino == 0 || ino > ninodes)
      break;
    if (map_inode (&s, ino) == -1)
      goto out;
    if (ino % PROGRESS_EVERY == 0)
      vbm_fsmap_progress (m->fm, ino, ninodes);
  }
  vbm_fsmap_progress (m->fm, ninodes, ninodes);

  s.dangling += m->names.v.len - m->names.cursor;
  m->names.cursor = m->names.v.len;
  if (s.dangling)
    ext2_warn (m, "%" PRIu64 " directory entries point to unused inodes",
               s.dangling);
  if (s.csum_errors)
    ext2_warn (m, "%" PRIu64 " inode(s) with bad checksums", s.csum_errors);
  r = 0;

 out:
  fs->read_inode = NULL;
  fs->priv_data = NULL;
  if (scan)
    ext2fs_close_inode_scan (scan);
  free (s.raw);
  free (s.blockbuf);
  free (s.path);
  return r;
}
