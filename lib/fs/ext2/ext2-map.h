/* The ext2/3/4 mapper: state shared by ext2*.c.
 *
 * Phases (ext2.c runs them in this order):
 *   1. open the filesystem through our io_manager (ext2-io.c);
 *   2. metadata: superblocks, descriptors, bitmaps, inode tables
 *      (ext2-meta.c);
 *   3. names: walk the directory tree from the root (ext2-names.c);
 *   4. inodes: one sequential inode scan, each in-use inode becomes an
 *      object with its blocks, each unlinked one with block pointers
 *      left a deleted object at its former blocks (ext2-inodes.c);
 *   5. accounting: the block bitmap goes to the accounting core, whose
 *      sweep makes blocks nobody claimed free space, slack or
 *      <unaccounted> (ext2-meta.c).
 *
 * Everything goes to the map through the accounting core (fsmap.h), in
 * blocks: it maps a block at most once even on a corrupt filesystem
 * (two owners: the first one wins and a warning is given).
 */
#ifndef VBM_EXT2_MAP_H
#define VBM_EXT2_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "fsmap.h"
#include "vector.h"

/* ---- ext2-io.c: an io_manager reading through vbm_volume_pread. ---- */

#define VBM_EXT2_IO_MAGIC 0x76626d69 /* "vbmi" */

/* What the io_manager reads from.  It lives on the mapper's stack;
 * the device name given to ext2fs_open2 carries its address.
 */
struct vbm_ext2_io_target {
  uint32_t magic;
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  uint64_t bytes_read;
  /* A read of the source failed (not a read past the volume end):
   * this is fatal for the whole build, reported by ext2_map_volume.
   */
  bool io_failed;
  struct vbm_error io_error;
};

extern struct struct_io_manager vbm_ext2_io_manager;

/* Writes the device name for target into buf. */
extern void vbm_ext2_io_name (char *buf, size_t len,
                              struct vbm_ext2_io_target *target);

/* ---- Names (ext2-names.c). ---- */

/* A name is a key, (inode << 32 | pool offset): 8 bytes, for a big
 * filesystem has millions.  In the pool, a length byte and the name's
 * bytes; the names of a directory are together in the pool, after
 * those of the directories listed before it, so its directory is
 * found from the offset.  The root's name is at offset 0, before all
 * directories.
 */
#define EXT2_NAME_INO(key) ((uint32_t) ((key) >> 32))
#define EXT2_NAME_OFF(key) ((uint32_t) (key))

/* A directory listed, with what its path needs. */
struct ext2_dir {
  uint32_t ino;
  uint32_t parent;              /* into names.dirs, EXT2_NO_PARENT for "/" */
  uint32_t name_off;            /* its name in the pool, unused for "/" */
  uint32_t names_start;         /* pool offset of the names it holds */
  uint16_t depth;               /* "/" is 0 */
};
#define EXT2_NO_PARENT UINT32_MAX

DEFINE_VECTOR_TYPE (ext2_dir_vector, struct ext2_dir);

/* The two big arrays, in huge-page buffers (hugebuf.h); bytes is the
 * buffer's size.
 */
struct ext2_key_array {
  uint64_t *ptr;
  size_t len, bytes;
};
struct ext2_byte_array {
  unsigned char *ptr;
  size_t len, bytes;
};

struct ext2_names {
  /* Sorted once collected: by inode, then in discovery (breadth
   * first) order, so an inode's first name is its shallowest.
   */
  struct ext2_key_array v;
  ext2_dir_vector dirs;         /* in discovery order */
  struct ext2_byte_array pool;
  size_t cursor;                /* into v, for the inode scan merge */
  /* The last path built: the path of directory path_dir (path_len
   * bytes, 0 for "/") and maybe a name after it.
   */
  char *path;
  size_t path_cap;
  uint32_t path_dir;
  size_t path_len;
};

/* ---- The mapper. ---- */

struct ext2_map {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  struct vbm_fsmap *fm;         /* the accounting core */
  ext2_filsys fs;
  uint64_t bs;                  /* block size */
  blk64_t first_block;          /* s_first_data_block */
  blk64_t nblocks;              /* ext2fs_blocks_count */
  blk64_t vol_blocks;           /* blocks starting inside the volume */
  uint64_t inode_size;
  ext2_ino_t first_ino;         /* first non-reserved inode */

  ext2fs_block_bitmap xattr_blocks; /* shared xattr blocks seen */
  /* Groups whose inode bitmap could not be read: their in-use inodes
   * are guessed from the inodes themselves.  NULL if none.
   */
  bool *inode_map_unknown;

  struct ext2_names names;

  /* The inode being mapped, for fs->read_inode (ext2-inodes.c). */
  ext2_ino_t stashed_ino;
  struct ext2_inode *stashed;
};

/* Warnings go through the core: prefixed with the device, capped. */
#define ext2_warn(m, ...) vbm_fsmap_warn ((m)->fm, __VA_ARGS__)

/* errcode.c */
extern const char *ext2_strerror (errcode_t err);
extern bool ext2_is_csum_error (errcode_t err);
/* Sets ctx->err for a fatal libext2fs error; returns -1. */
extern int ext2_fatal (struct ext2_map *m, errcode_t err, const char *what);

/* check.c: e2fsck's checks of the values libext2fs trusts.  The
 * superblock: false, and why says which value, if one is bad.  The
 * descriptors: locations outside their group are set to 0 (as if
 * missing), with a warning; returns how many.
 */
extern bool ext2_check_super (ext2_filsys fs, char *why, size_t len);
extern unsigned ext2_check_descriptors (struct ext2_map *m);

/* ext2-meta.c */
extern int ext2_map_metadata (struct ext2_map *m);
/* bad_descs: ext2_check_descriptors found some (then the bitmaps are
 * read group by group).
 */
extern int ext2_load_bitmaps (struct ext2_map *m, bool bad_descs);
/* Hands the block bitmap to the core and runs its sweep. */
extern int ext2_map_unclaimed (struct ext2_map *m);

/* ext2-names.c */
extern int ext2_collect_names (struct ext2_map *m);
/* Paths of a name (index into names.v) or a directory (into
 * names.dirs), in a buffer reused by the next call; NULL if out of
 * memory.
 */
extern const char *ext2_name_path (struct ext2_map *m, uint32_t index);
extern const char *ext2_dir_path (struct ext2_map *m, uint32_t dir);
extern void ext2_free_names (struct ext2_names *names);

/* ext2-csum.c: whether ext2_inode_csum_ok can check fs's inode
 * checksums (faster than libext2fs), and the check of the raw inode
 * ino (inode size bytes; modified, then restored).
 */
extern bool ext2_inode_csum_fast (ext2_filsys fs);
extern bool ext2_inode_csum_ok (ext2_filsys fs, ext2_ino_t ino, void *raw);

/* ext2-inodes.c */
extern int ext2_map_inodes (struct ext2_map *m);

#endif /* VBM_EXT2_MAP_H */
