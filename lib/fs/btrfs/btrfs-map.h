/* The btrfs reader: state shared by the files of lib/fs/btrfs.
 *
 * No Debian library reads btrfs offline, so this reads the on-disk
 * format itself.  btrfs keeps everything at *logical* addresses that
 * chunks map to one or more places on one or more devices, so every
 * read and every extent goes through the chunk map (chunks.c).
 *
 * Phases (btrfs.c runs them in this order):
 *   1. the superblock of the newest device of the filesystem (sb.c);
 *      a filesystem over several devices is gathered first (devices.c:
 *      members are remembered by fsid and devid as volumes are seen,
 *      the filesystem mapped once all are there, or at the end with
 *      those present);
 *   2. the system chunk array, then the chunk tree: the chunk map and
 *      the device items (chunks.c, btrfs.c);
 *   3. the root tree, then every tree it names, each walked once
 *      (tree.c): the extent tree gives what is allocated (space.c),
 *      the fs tree of every subvolume its inodes, names and file
 *      extents (items.c), the others only their blocks;
 *   4. emission: superblocks, every tree block as metadata of its
 *      tree at every copy, RAID5/6 parity, then every inode as an
 *      object named by its paths from the top-level subvolume with its
 *      extents (files.c, names.c);
 *   5. accounting, per device: what the extent tree says is allocated,
 *      then the core's sweep maps the rest as free space (space.c).
 *
 * The unit of the accounting core is the sector (sectorsize bytes) of
 * each device: every device has its own struct vbm_fsmap.  Objects are
 * made by the first device's; a file's extents go to the fsmap of the
 * device that holds them.
 *
 * Every on-disk integer is little-endian.
 */
#ifndef VBM_BTRFS_MAP_H
#define VBM_BTRFS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fsmap.h"
#include "le.h"
#include "vector.h"

/* ---- On-disk format (facts from btrfs-progs' btrfs_tree.h). ---- */

#define BT_SUPER_OFFSET    65536
#define BT_SUPER_SIZE      4096
#define BT_MAGIC           "_BHRfS_M"
#define BT_CSUM_SIZE       32
#define BT_FSID_SIZE       16
#define BT_HEADER_SIZE     101
#define BT_KEY_SIZE        17
#define BT_ITEM_SIZE       25   /* key, data offset, data size */
#define BT_PTR_SIZE        33   /* key, block, generation */
#define BT_MAX_LEVEL       8
#define BT_SYS_ARRAY_OFF   811
#define BT_SYS_ARRAY_MAX   2048
#define BT_DEV_ITEM_OFF    201
#define BT_DEV_ITEM_SIZE   98
#define BT_CHUNK_SIZE      48   /* without its stripes */
#define BT_STRIPE_SIZE     32

/* Tree ids. */
#define BT_ROOT_TREE       1
#define BT_EXTENT_TREE     2
#define BT_CHUNK_TREE      3
#define BT_DEV_TREE        4
#define BT_FS_TREE         5
#define BT_CSUM_TREE       7
#define BT_QUOTA_TREE      8
#define BT_UUID_TREE       9
#define BT_FREE_SPACE_TREE 10
#define BT_BLOCK_GROUP_TREE 11
#define BT_RAID_STRIPE_TREE 12
#define BT_TREE_LOG        ((uint64_t) -6)
#define BT_TREE_RELOC      ((uint64_t) -8)
#define BT_DATA_RELOC_TREE ((uint64_t) -9)
#define BT_FIRST_FREE      256
#define BT_LAST_FREE       ((uint64_t) -256)

/* Item types. */
#define BT_INODE_ITEM      1
#define BT_INODE_REF       12
#define BT_INODE_EXTREF    13
#define BT_EXTENT_DATA     108
#define BT_ROOT_ITEM       132
#define BT_ROOT_BACKREF    144
#define BT_FREE_SPACE_INFO 198
#define BT_FREE_SPACE_EXTENT 199
#define BT_FREE_SPACE_BITMAP 200
#define BT_EXTENT_ITEM     168
#define BT_METADATA_ITEM   169
#define BT_DEV_ITEM        216
#define BT_CHUNK_ITEM      228

/* Chunk types and profiles. */
#define BT_BG_DATA         0x001
#define BT_BG_SYSTEM       0x002
#define BT_BG_METADATA     0x004
#define BT_BG_RAID0        0x008
#define BT_BG_RAID1        0x010
#define BT_BG_DUP          0x020
#define BT_BG_RAID10       0x040
#define BT_BG_RAID5        0x080
#define BT_BG_RAID6        0x100
#define BT_BG_RAID1C3      0x200
#define BT_BG_RAID1C4      0x400
#define BT_BG_PROFILES     0x7f8

/* Incompatible features this reader knows (the rest are warned of). */
#define BT_IN_METADATA_UUID (UINT64_C (1) << 10)
#define BT_IN_ZONED        (UINT64_C (1) << 12)
#define BT_IN_EXTENT_TREE_V2 (UINT64_C (1) << 13)
#define BT_IN_RAID_STRIPE_TREE (UINT64_C (1) << 14)
#define BT_IN_KNOWN        ((UINT64_C (1) << 12) - 1)

/* File extent types and compression. */
#define BT_FE_INLINE       0
#define BT_FE_REG          1
#define BT_FE_PREALLOC     2
#define BT_FE_HEADER       21   /* up to the disk_bytenr field */
#define BT_FE_SIZE         53

struct bt_key {
  uint64_t objectid;
  uint8_t type;
  uint64_t offset;
};

static inline void
bt_key_read (const unsigned char *p, struct bt_key *k)
{
  k->objectid = vbm_le64 (p);
  k->type = p[8];
  k->offset = vbm_le64 (p + 9);
}

static inline int
bt_key_cmp (const struct bt_key *a, const struct bt_key *b)
{
  if (a->objectid != b->objectid)
    return a->objectid < b->objectid ? -1 : 1;
  if (a->type != b->type)
    return a->type < b->type ? -1 : 1;
  if (a->offset != b->offset)
    return a->offset < b->offset ? -1 : 1;
  return 0;
}

/* ---- sb.c: the superblock (pure parsing, unit-tested). ---- */

struct bt_sb {
  unsigned char fsid[BT_FSID_SIZE];
  unsigned char meta_fsid[BT_FSID_SIZE]; /* what tree blocks carry */
  uint64_t bytenr, generation;
  uint64_t root, chunk_root, log_root;
  uint64_t total_bytes, num_devices;
  uint32_t sectorsize, nodesize, stripesize, sys_array_size;
  uint64_t compat_ro, incompat;
  uint16_t csum_type;
  uint8_t root_level, chunk_root_level, log_root_level;
  /* This device, from the superblock's device item. */
  uint64_t devid, dev_total_bytes;
  unsigned char dev_uuid[16];
};

/* Does buf (BT_SUPER_SIZE bytes read at 64 KiB) hold a btrfs
 * superblock magic?
 */
extern bool bt_sb_magic (const unsigned char *buf);
/* Parses and checks a superblock.  false, with why saying what is
 * wrong, if it cannot describe a filesystem the reader can walk.
 */
extern bool bt_parse_sb (const unsigned char *buf, struct bt_sb *sb,
                         char *why, size_t whylen);
/* Whether the checksum of a block (a superblock or a tree block, len
 * bytes) is right: 1 yes, 0 no, -1 not verified (a type other than
 * crc32c).
 */
extern int bt_csum_ok (uint16_t csum_type, const unsigned char *buf,
                       size_t len);
extern const char *bt_csum_name (uint16_t csum_type);

/* ---- chunks.c: the chunk map (pure, unit-tested). ---- */

struct bt_stripe {
  uint64_t devid;
  uint64_t offset;              /* physical byte on its device */
  int dev;                      /* index in the device table, -1 missing */
};

struct bt_chunk {
  uint64_t logical, length;
  uint64_t type;
  uint64_t stripe_len;
  uint64_t dev_len;             /* bytes of each stripe on its device */
  uint32_t first_stripe;        /* in the stripe pool */
  uint16_t num_stripes, sub_stripes;
  uint16_t ncopies;             /* copies of each byte of data */
  uint16_t nparity;             /* RAID5: 1, RAID6: 2 */
};
DEFINE_VECTOR_TYPE (bt_chunk_vector, struct bt_chunk);
DEFINE_VECTOR_TYPE (bt_stripe_vector, struct bt_stripe);

struct bt_chunks {
  bt_chunk_vector v;            /* sorted by logical, no overlaps */
  bt_stripe_vector stripes;
};

/* Parses a chunk item (len bytes) at logical into c, its stripes
 * appended to ch->stripes (not added to ch->v).  false, why set, if
 * the item is unusable.
 */
extern bool bt_chunk_parse (struct bt_chunks *ch, uint64_t logical,
                           const unsigned char *p, size_t len,
                           struct bt_chunk *c, const char **why);
/* Adds a parsed chunk, kept sorted; false if it overlaps another
 * (then not added).  -1 out of memory.
 */
extern int bt_chunk_add (struct bt_chunks *ch, const struct bt_chunk *c);
/* The chunk holding logical, or NULL. */
extern const struct bt_chunk *bt_chunk_find (const struct bt_chunks *ch,
                                             uint64_t logical);
/* The first chunk ending after logical (it may start after it), or
 * NULL.
 */
extern const struct bt_chunk *bt_chunk_next (const struct bt_chunks *ch,
                                             uint64_t logical);
extern void bt_chunks_free (struct bt_chunks *ch);

/* A piece of a logical range on a device: [physical, physical+len)
 * of stripe (the chunk's stripe index), copy number copy, holding
 * logical bytes from logical.
 */
struct bt_piece {
  const struct bt_stripe *stripe;
  uint64_t physical, len, logical;
  unsigned copy;
};
typedef int (*bt_piece_fn) (void *opaque, const struct bt_piece *p);

/* Calls fn for the pieces of [logical, logical+len) inside chunk c,
 * every copy of each (or only copy `only` if only >= 0), in logical
 * order.  Returns fn's -1, else 0.
 */
extern int bt_chunk_resolve (const struct bt_chunks *ch,
                             const struct bt_chunk *c, uint64_t logical,
                             uint64_t len, int only, bt_piece_fn fn,
                             void *opaque);
/* The parity pieces of row (full stripe) row of a RAID5/6 chunk: up
 * to 2, returned in p[], their count returned.
 */
extern unsigned bt_chunk_parity (const struct bt_chunks *ch,
                                 const struct bt_chunk *c, uint64_t row,
                                 struct bt_piece p[2]);

/* ---- The mapper. ---- */

/* A device of a filesystem over several, as found (devices.c). */
struct bt_member {
  unsigned char fsid[BT_FSID_SIZE];
  uint64_t devid, generation, num_devices;
  struct vbm_ctx ctx;           /* disk and source of its volume */
  struct vbm_volume vol;        /* its device name is owned if gathered */
  bool mapped;
};
DEFINE_VECTOR_TYPE (bt_member_vector, struct bt_member);

/* A device of the filesystem, present (mem: where it is, with a copy
 * of the mapping context giving its disk and source) or not.
 */
struct bt_dev {
  uint64_t devid;
  uint64_t total_bytes;         /* per its device item */
  struct bt_member *mem;        /* NULL: missing */
  struct vbm_fsmap *fm;
  uint64_t units;               /* sectors of the device */
  bool present;
};
DEFINE_VECTOR_TYPE (bt_dev_vector, struct bt_dev);
DEFINE_VECTOR_TYPE (bt_u64_vector, uint64_t);
DEFINE_VECTOR_TYPE (bt_byte_vector, unsigned char);

/* A tree whose blocks are mapped as metadata: its name and the blocks
 * first seen in it.
 */
struct bt_tree {
  uint64_t id;
  const char *name;             /* a literal, or NULL: "<fs tree ID>" */
  bt_u64_vector blocks;
};
DEFINE_VECTOR_TYPE (bt_tree_vector, struct bt_tree);

/* A tree named by the root tree: a subvolume (or the top-level fs
 * tree), or another tree.
 */
struct bt_subvol {
  uint64_t id;
  uint64_t bytenr;
  uint8_t level;
  uint64_t root_dirid;
  uint32_t refs;
  bool fs;                      /* an fs tree: the top level or a subvolume */
  /* Its place, from ROOT_BACKREF: parent subvolume, directory there,
   * name in the pool (0 length: none).
   */
  uint64_t parent, dirid;
  uint32_t name_off;
  uint16_t name_len;
  bool has_backref;
  char *path;                   /* built by names.c */
  int state;                    /* names.c: 0 not yet, 1 building, 2 done */
};
DEFINE_VECTOR_TYPE (bt_subvol_vector, struct bt_subvol);

struct bt_inode {
  uint32_t sv;                  /* index in subvols */
  uint64_t ino;
  uint64_t size;
  uint32_t mode, nlink;
};
DEFINE_VECTOR_TYPE (bt_inode_vector, struct bt_inode);

struct bt_name {
  uint32_t sv;
  uint64_t ino, parent;
  uint32_t off;                 /* in the pool */
  uint16_t len;
};
DEFINE_VECTOR_TYPE (bt_name_vector, struct bt_name);

/* A file extent item.  Inline ones give where their bytes are: the
 * leaf and the offset of the data in it.
 */
struct bt_extent {
  uint32_t sv;
  uint8_t type, compression;
  uint64_t ino;
  uint64_t file_off;
  uint64_t disk_bytenr;         /* inline: the leaf's logical address */
  uint64_t disk_len;            /* inline: bytes of data in the leaf */
  uint64_t ext_off;             /* inline: offset of the data in the leaf */
  uint64_t num_bytes;
};
DEFINE_VECTOR_TYPE (bt_extent_vector, struct bt_extent);

/* Data extents referenced more than once (files.c): their pieces,
 * segs [first_seg, first_seg + nsegs), each used by one inode or by
 * several (shared).
 */
struct bt_ref {
  uint64_t bytenr;
  size_t first_seg, nsegs;
};
DEFINE_VECTOR_TYPE (bt_ref_vector, struct bt_ref);
struct bt_seg {
  uint64_t start, end;          /* logical */
  bool shared;
};
DEFINE_VECTOR_TYPE (bt_seg_vector, struct bt_seg);

struct bt_range {
  uint64_t start, len;
};
DEFINE_VECTOR_TYPE (bt_range_vector, struct bt_range);

struct bt_cache_slot {
  uint64_t logical;             /* 0: empty */
  unsigned char *buf;
};

#define BT_CACHE_SLOTS 256

struct btrfs_map {
  struct vbm_ctx *ctx;
  struct vbm_fsmap *fm;         /* the first device's: objects, warnings */
  const char *device;           /* the first device's name */
  struct bt_sb sb;
  uint64_t ns;                  /* nodesize */
  uint64_t ss;                  /* sectorsize */

  bt_dev_vector devs;
  struct bt_chunks chunks;

  /* Tree blocks: a small cache of checked blocks, the set of blocks
   * seen (a block shared by snapshots is mapped once), the visits
   * left (a bound on the work a hostile DAG of blocks can cause).
   */
  struct bt_cache_slot cache[BT_CACHE_SLOTS];
  uint64_t *seen;               /* open addressing, 0 empty */
  size_t seen_cap, seen_len;
  uint64_t visits_left;
  unsigned char *level_buf[BT_MAX_LEVEL];

  bt_tree_vector trees;
  bt_subvol_vector subvols;
  bt_inode_vector inodes;
  bt_name_vector names;
  bt_extent_vector extents;
  bt_byte_vector pool;
  bt_ref_vector refs;
  bt_seg_vector segs;
  bt_range_vector allocated;    /* logical ranges per the extent tree */
  bool extent_tree_ok;
  /* The free space tree: its block groups and their free ranges
   * (logical, in order), what free space is if the extent tree is
   * damaged.
   */
  bt_range_vector fst_groups, fst_free;
  bool fst_ok;

  char *path;                   /* the last path built (names.c) */
  size_t path_cap;

  /* Counts for the summary warnings. */
  uint64_t bad_csum, bad_blocks, bad_items, unreadable, missing_reads;
  uint64_t unverified;
  bool budget_warned;
};

#define bt_warn(m, ...) vbm_fsmap_warn ((m)->fm, __VA_ARGS__)

/* io.c: reads. */

/* Reads len bytes at physical offset off of device d: 1 if they lie
 * past its end, -1 if the source failed (fatal), 0 when read.
 */
extern int bt_dev_pread (struct btrfs_map *m, const struct bt_dev *d,
                         void *buf, size_t len, uint64_t off);
/* Reads len bytes at logical (any copy whose device is present).
 * 0 read, 1 not (a hole in the chunk map, a missing device), -1 fatal.
 */
extern int bt_read_logical (struct btrfs_map *m, void *buf, size_t len,
                            uint64_t logical, int copy);
/* A checked tree block at logical, of level level (-1: any): a
 * pointer valid until the next call, NULL (after a warning, counted)
 * if no copy is sound; *fatal -1 on a fatal error.
 */
extern const unsigned char *bt_read_block (struct btrfs_map *m,
                                           uint64_t logical, int level,
                                           int *fatal);
extern void bt_cache_free (struct btrfs_map *m);
/* Calls fn for every copy of the logical range, whatever chunk(s)
 * hold it.  Bytes in no chunk are counted in *unmapped.
 */
extern int bt_resolve (struct btrfs_map *m, uint64_t logical, uint64_t len,
                       bt_piece_fn fn, void *opaque, uint64_t *unmapped);

/* tree.c: walking a tree. */

/* Called per leaf item.  -1 stops the walk (fatal). */
typedef int (*bt_item_fn) (struct btrfs_map *m, void *opaque,
                           const struct bt_key *k, const unsigned char *data,
                           uint32_t size, uint64_t leaf,
                           uint32_t data_off);

/* Walks the tree at root (logical) of level level, handing each item
 * in key order to fn (NULL: blocks only), adding every block not seen
 * before to tree->blocks.  Damaged blocks are warned about and
 * skipped; items out of key order are skipped.  -1 only on fatal
 * errors.
 */
extern int bt_walk_tree (struct btrfs_map *m, struct bt_tree *tree,
                         uint64_t root, unsigned level, bt_item_fn fn,
                         void *opaque);
/* The tree of id (created with name on first use).  NULL if out of
 * memory (ctx->err set).
 */
extern struct bt_tree *bt_tree_get (struct btrfs_map *m, uint64_t id,
                                    const char *name);
extern void bt_seen_free (struct btrfs_map *m);

/* items.c: what the trees hold. */
extern int bt_chunk_item (struct btrfs_map *m, void *opaque,
                          const struct bt_key *k, const unsigned char *d,
                          uint32_t size, uint64_t leaf, uint32_t off);
extern int bt_root_item (struct btrfs_map *m, void *opaque,
                         const struct bt_key *k, const unsigned char *d,
                         uint32_t size, uint64_t leaf, uint32_t off);
extern int bt_extent_item (struct btrfs_map *m, void *opaque,
                           const struct bt_key *k, const unsigned char *d,
                           uint32_t size, uint64_t leaf, uint32_t off);
extern int bt_fst_item (struct btrfs_map *m, void *opaque,
                        const struct bt_key *k, const unsigned char *d,
                        uint32_t size, uint64_t leaf, uint32_t off);
/* opaque: a uint32_t *, the subvolume index. */
extern int bt_fs_item (struct btrfs_map *m, void *opaque,
                       const struct bt_key *k, const unsigned char *d,
                       uint32_t size, uint64_t leaf, uint32_t off);

/* names.c */
/* The path of name i (m->path, reused by the next call), NULL if it
 * leads nowhere; *fatal -1 if out of memory.
 */
extern const char *bt_name_path (struct btrfs_map *m, size_t i, int *fatal);
/* The path of subvolume sv's top directory ("" for the top level),
 * NULL if it is not reachable.
 */
extern const char *bt_subvol_path (struct btrfs_map *m, uint32_t sv,
                                   int *fatal);
/* The names of (sv, ino): [*first, *first + count) in m->names. */
extern size_t bt_names_of (const struct btrfs_map *m, uint32_t sv,
                           uint64_t ino, size_t *first);

/* files.c */
extern int bt_map_files (struct btrfs_map *m);

/* space.c */
extern int bt_map_supers (struct btrfs_map *m);
extern int bt_map_tree_blocks (struct btrfs_map *m);
extern int bt_map_parity (struct btrfs_map *m);
extern int bt_map_unclaimed (struct btrfs_map *m);

/* Out of memory: sets ctx->err, returns -1. */
extern int bt_nomem (struct btrfs_map *m);

/* devices.c: the members of filesystems over several devices. */
struct vbm_btrfs_state {
  bt_member_vector members;
};

/* btrfs.c: maps the filesystem over members[0..n) (its devices that
 * are present).
 */
extern int bt_map_members (struct vbm_ctx *ctx, struct bt_member **members,
                           size_t n);
/* devices.c: the reader's map: a filesystem on one device is mapped at
 * once, a member of one over several is gathered first.
 */
extern int bt_map_volume (struct vbm_ctx *ctx, const struct vbm_volume *vol);

#endif /* VBM_BTRFS_MAP_H */
