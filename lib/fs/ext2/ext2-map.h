/* The ext2/3/4 mapper: state shared by ext2*.c.
 *
 * Phases (ext2.c runs them in this order):
 *   1. open the filesystem through our io_manager (ext2-io.c);
 *   2. metadata: superblocks, descriptors, bitmaps, inode tables
 *      (ext2-meta.c);
 *   3. names: walk the directory tree from the root (ext2-names.c);
 *   4. inodes: one sequential inode scan, each in-use inode becomes an
 *      object with its blocks (ext2-inodes.c);
 *   5. accounting: blocks nobody claimed become free space, slack or
 *      <unaccounted> (ext2-meta.c).
 *
 * Every block handed to the map is first "claimed" in a block bitmap,
 * so that a block is mapped at most once even on a corrupt filesystem
 * (two owners: the first one wins and a warning is given).
 */
#ifndef VBM_EXT2_MAP_H
#define VBM_EXT2_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "internal.h"
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
   * this is fatal for the whole build, reported by vbm_map_ext2.
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

/* Metadata objects, one per kind per filesystem, created on first use. */
enum ext2_meta {
  META_BOOT, META_SUPER, META_GDT, META_RESERVED_GDT, META_BLOCK_BITMAP,
  META_INODE_BITMAP, META_INODE_TABLE, META_MMP, META_UNACCOUNTED,
  META_FREE, META_SLACK, META_BEYOND,
  META_NR
};

struct ext2_map {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  ext2_filsys fs;
  uint64_t bs;                  /* block size */
  blk64_t first_block;          /* s_first_data_block */
  blk64_t nblocks;              /* ext2fs_blocks_count */
  blk64_t vol_blocks;           /* blocks starting inside the volume */
  uint64_t inode_size;
  ext2_ino_t first_ino;         /* first non-reserved inode */

  ext2fs_block_bitmap claimed;  /* blocks already mapped */
  ext2fs_block_bitmap xattr_blocks; /* shared xattr blocks seen */
  /* Groups whose inode bitmap could not be read: their in-use inodes
   * are guessed from the inodes themselves.  NULL if none.
   */
  bool *inode_map_unknown;

  int64_t meta[META_NR];        /* object ids, 0 until created */

  /* One pending run of blocks, coalesced until something else comes. */
  struct {
    bool valid;
    int64_t object;
    blk64_t blk, len;
    int64_t off;                /* object offset of blk, or -1 */
    unsigned flags;
  } run;

  /* Per-object conflict accounting, reported by ext2_end_object. */
  uint64_t obj_conflicts;       /* blocks already claimed */
  uint64_t obj_outside;         /* blocks outside the filesystem */

  struct vbm_warn_limit warn_limit;

  struct ext2_names names;

  /* The inode being mapped, for fs->read_inode (ext2-inodes.c). */
  ext2_ino_t stashed_ino;
  struct ext2_inode *stashed;
};

/* ext2.c: warnings (prefixed with the device, limited in number). */
extern void ext2_warn (struct ext2_map *m, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern const char *ext2_strerror (errcode_t err);
extern bool ext2_is_csum_error (errcode_t err);

/* ext2.c: objects and extents. */
extern int64_t ext2_add_object (struct ext2_map *m, char kind,
                                const char *path, uint64_t inode,
                                uint64_t size, unsigned flags);
/* The metadata object of that kind, created (with size) on first use. */
extern int64_t ext2_meta_object (struct ext2_map *m, enum ext2_meta which,
                                 uint64_t size);

/* Maps blocks [blk, blk+n) to object at object offset off (-1 for
 * none).  If claim, blocks outside the filesystem or already mapped
 * are skipped (and counted in obj_outside / obj_conflicts), the rest
 * claimed.  Returns the number of blocks mapped, -1 on fatal error.
 */
extern int64_t ext2_map_blocks (struct ext2_map *m, int64_t object,
                                blk64_t blk, blk64_t n, int64_t off,
                                unsigned flags, bool claim);
/* Maps a byte range inside block blk (not claimed, not coalesced). */
extern int ext2_map_bytes (struct ext2_map *m, int64_t object,
                           uint64_t disk_start, uint64_t len,
                           int64_t off, unsigned flags);
extern int ext2_flush (struct ext2_map *m);
/* Claims one block; false if outside the filesystem or already claimed. */
extern bool ext2_claim_block (struct ext2_map *m, blk64_t blk);
/* Reports the conflicts counted since the last call, for what. */
extern void ext2_end_object (struct ext2_map *m, const char *what);
/* Sets ctx->err for a fatal libext2fs error; returns -1. */
extern int ext2_fatal (struct ext2_map *m, errcode_t err, const char *what);

/* ext2-meta.c */
extern int ext2_map_metadata (struct ext2_map *m);
extern int ext2_load_bitmaps (struct ext2_map *m);
extern int ext2_map_unclaimed (struct ext2_map *m);
/* The volume's bytes past the filesystem's end, fs_bytes < length. */
extern int ext2_map_beyond (struct ext2_map *m, uint64_t fs_bytes);

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
