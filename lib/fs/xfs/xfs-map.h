/* The XFS reader: state shared by the files of lib/fs/xfs.
 *
 * No Debian library gives the extents of XFS files, so this reads the
 * on-disk format itself (v4 and v5/CRC filesystems).
 *
 * Phases (xfs.c runs them in this order):
 *   1. the superblock of AG 0, checked (sb.c);
 *   2. per AG: the headers (superblock copy, AGF, AGI, AGFL), the
 *      blocks on the free list and the inode chunks as metadata; the
 *      free extents of the bno btree (of the cnt btree if the bno one
 *      is damaged), the inode chunks of the inode btree and the shared
 *      extents of the refcount btree are kept (ag.c, btree.c); then
 *      every btree's blocks (bno, cnt, ino, fino, refcount, rmap) as
 *      metadata; the internal log (xfs.c);
 *   3. names: every directory in the inode chunks is read, its
 *      entries kept as (inode, parent, name) (inodes.c, dirs.c,
 *      dir.c, names.c);
 *   4. inodes: the chunks are read again, each in-use inode becomes an
 *      object named by its paths, with its data and attribute forks
 *      (inodes.c, fork.c): data fork blocks at their offset in the
 *      fork, attribute fork blocks flagged xattr at offset -1, bmap
 *      btree blocks (either fork) flagged tree, local forks as inline
 *      bytes of the inode; reflinked blocks as bytes (not claimed: they
 *      were claimed once in phase 2) flagged shared in every owner;
 *   5. accounting: everything outside the free extents is allocated;
 *      the core's sweep maps the rest as free space.
 *
 * The unit of the accounting core is the filesystem block, numbered
 * linearly: agno * sb_agblocks + agbno (AGs are contiguous, so unit u
 * is at byte u * blocksize).  Fork extents store (agno << agblklog) |
 * agbno: xfs_fsb_unit converts, checking both parts.
 *
 * Every on-disk integer is big-endian except the CRC fields.
 */
#ifndef VBM_XFS_MAP_H
#define VBM_XFS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fsmap.h"
#include "lazy-bitmap.h"
#include "vector.h"

static inline uint16_t
xfs_be16 (const unsigned char *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
xfs_be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
    (uint32_t) p[2] << 8 | p[3];
}

static inline uint64_t
xfs_be64 (const unsigned char *p)
{
  return (uint64_t) xfs_be32 (p) << 32 | xfs_be32 (p + 4);
}

/* ---- sb.c: the superblock. ---- */

#define XFS_SB_MAGIC 0x58465342 /* "XFSB" */

struct xfs_sb {
  unsigned version;             /* 4 or 5 */
  uint32_t blocksize;
  uint64_t dblocks, rblocks;
  uint64_t logstart;            /* fsblock, 0: external log */
  uint32_t logblocks;
  uint64_t rootino, rbmino, rsumino;
  uint64_t uquotino, gquotino, pquotino;
  uint32_t agblocks, agcount;
  uint16_t sectsize, inodesize, inopblock;
  uint8_t blocklog, sectlog, inodelog, inopblog, agblklog, dirblklog;
  uint64_t icount;
  uint32_t features2, ro_compat, incompat, log_incompat;
  uint32_t dirblksize;          /* bytes of a directory block */
  /* Features, from the version bits and feature words. */
  bool crc, ftype, sparse, finobt, reflink, rmapbt, nrext64;
};

/* Feature bits (v5 feature words). */
#define XFS_RO_FINOBT     0x01
#define XFS_RO_RMAPBT     0x02
#define XFS_RO_REFLINK    0x04
#define XFS_RO_INOBTCNT   0x08
#define XFS_RO_KNOWN      0x0f
#define XFS_IN_FTYPE      0x01
#define XFS_IN_SPINODES   0x02
#define XFS_IN_META_UUID  0x04
#define XFS_IN_BIGTIME    0x08
#define XFS_IN_NEEDSREPAIR 0x10
#define XFS_IN_NREXT64    0x20
#define XFS_IN_KNOWN      0x3f

/* Parses and checks a superblock (len >= 512 bytes; its CRC is
 * checked by the caller over the whole sector).  false, with why
 * saying which value is wrong, if it does not describe a filesystem
 * the reader can walk safely.
 */
extern bool xfs_parse_sb (const unsigned char *buf, size_t len,
                          struct xfs_sb *sb, char *why, size_t whylen);
/* Does buf hold an XFS superblock magic and version at all? */
extern bool xfs_sb_magic (const unsigned char *buf, size_t len);
/* Whether the v5 CRC at crc_off of buf (len bytes) is right. */
extern bool xfs_crc_ok (const unsigned char *buf, size_t len, size_t crc_off);

/* ---- dir.c: directory entries (pure parsing, unit-tested). ---- */

/* Called per entry other than "." and "..": -1 stops the parse with a
 * fatal error.
 */
typedef int (*xfs_dirent_fn) (void *opaque, uint64_t ino,
                              const unsigned char *name, unsigned namelen);

/* Entries of a shortform directory (the data fork, len bytes).
 * Returns -1 if fn failed, else 0; *why is set to a reason if the
 * directory is corrupt (the entries before the problem were given).
 */
extern int xfs_dir_sf (const unsigned char *p, size_t len, bool ftype,
                       xfs_dirent_fn fn, void *opaque, const char **why);
/* Entries of a directory data or block-format block (len bytes, a
 * whole directory block).  Same returns.  Not a data block (a leaf,
 * node or free block): 0, nothing given, why left alone; the caller
 * only hands blocks below the leaf offset.
 */
extern int xfs_dir_block (const unsigned char *p, size_t len, bool crc,
                          bool ftype, xfs_dirent_fn fn, void *opaque,
                          const char **why);

/* ---- The mapper. ---- */

/* A free extent, an inode chunk or a shared extent, as kept between
 * the phases.
 */
struct xfs_range {
  uint64_t start;               /* unit */
  uint64_t len;
};
DEFINE_VECTOR_TYPE (xfs_range_vector, struct xfs_range);

struct xfs_chunk {
  uint32_t agno;
  uint32_t startino;            /* agino of inode 0 of the chunk */
  uint16_t holemask;            /* a bit per 4 inodes not allocated */
  uint64_t free;                /* a bit per free inode */
};
DEFINE_VECTOR_TYPE (xfs_chunk_vector, struct xfs_chunk);

/* A name: the inode it names, in directory parent, the name's bytes in
 * the pool at off (a length byte first).  seq keeps discovery order.
 */
struct xfs_name {
  uint64_t ino;
  uint64_t parent;
  uint32_t off;
  uint32_t seq;
};
DEFINE_VECTOR_TYPE (xfs_name_vector, struct xfs_name);
DEFINE_VECTOR_TYPE (xfs_byte_vector, unsigned char);

struct xfs_map {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  struct vbm_fsmap *fm;
  struct xfs_sb sb;
  uint64_t bs;                  /* block size */
  uint64_t vol_blocks;          /* blocks starting inside the volume */

  xfs_range_vector free;        /* free extents, sorted (ag.c) */
  xfs_range_vector shared;      /* refcount > 1, sorted (ag.c) */
  xfs_chunk_vector chunks;      /* in AG, then inode order */
  /* The AG btrees' blocks, per tree (XFS_BT_*), and those seen: a
   * block is walked once.
   */
  xfs_range_vector tree_blocks[6];
  /* The last block mapped as <inodes>: with more than 64 inodes a
   * block, the next chunk may be in it too.
   */
  uint64_t last_inode_unit;
  struct lazy_bitmap tree_seen;

  xfs_name_vector names;        /* sorted by inode once collected */
  xfs_byte_vector pool;
  unsigned char *name_state;    /* per name: leads to the root? */
  char *path;                   /* the last path built (names.c) */
  size_t path_cap;

  /* Reads of btree blocks left for pass 3's bmap btrees: a bound on
   * the work a hostile tree (a DAG of shared blocks) can cause.
   */
  uint64_t bmbt_budget;
  /* Directory blocks left to read: a sound filesystem has at most all
   * its blocks in directories; cross-linked ones could make each
   * directory read all of them.
   */
  uint64_t dir_budget;
  /* Counts for the summary warnings. */
  uint64_t bad_crc, bad_inodes, realtime_files, unreachable;
  uint64_t first_dir;           /* the first directory in use, or 0 */
  bool root_seen;               /* sb.rootino is a directory in use */
  bool warned_dir_budget;
};

#define xfs_warn(m, ...) vbm_fsmap_warn ((m)->fm, __VA_ARGS__)

/* Volume offset and length of an AG's own blocks. */
static inline uint64_t
xfs_ag_blocks (const struct xfs_map *m, uint32_t agno)
{
  uint64_t start = (uint64_t) agno * m->sb.agblocks;

  if (start >= m->sb.dblocks)
    return 0;
  return m->sb.dblocks - start < m->sb.agblocks
    ? m->sb.dblocks - start : m->sb.agblocks;
}

static inline uint64_t
xfs_agb_unit (const struct xfs_map *m, uint32_t agno, uint32_t agbno)
{
  return (uint64_t) agno * m->sb.agblocks + agbno;
}

/* io.c */

/* Reads len bytes at volume offset off.  1 if they lie past the
 * volume's end (a truncated image: the caller warns), -1 if the
 * source failed (fatal, ctx->err set), 0 when read.
 */
extern int xfs_pread (struct xfs_map *m, void *buf, size_t len,
                      uint64_t off);
/* Reads n blocks from unit u. */
extern int xfs_read_units (struct xfs_map *m, void *buf, uint64_t u,
                           uint64_t n);
/* A fork extent's fsblock as a unit: false if its AG or AG block is
 * outside the filesystem, or the n blocks run past the AG's end.
 */
extern bool xfs_fsb_unit (const struct xfs_map *m, uint64_t fsb, uint64_t n,
                          uint64_t *unit);
/* An inode number's place: false if it cannot be an inode. */
extern bool xfs_ino_place (const struct xfs_map *m, uint64_t ino,
                           uint32_t *agno, uint32_t *agino);
/* Checks a v5 CRC, counting bad ones (one warning says what). */
extern bool xfs_check_crc (struct xfs_map *m, const unsigned char *buf,
                           size_t len, size_t crc_off, const char *what,
                           uint64_t where);

/* btree.c: the short-form AG btrees. */

struct xfs_btree {
  const char *name;             /* the metadata object */
  xfs_range_vector *blocks;     /* where its blocks go */
  uint32_t magic;               /* v4 or v5, per the filesystem */
  uint32_t rec_size;            /* leaf record */
  uint32_t key_size;            /* node key (low and high for rmap) */
  /* Leaf records, nrecs of rec_size bytes, or NULL.  -1 is fatal. */
  int (*leaf) (struct xfs_map *m, uint32_t agno, const unsigned char *recs,
               unsigned nrecs, void *opaque);
  void *opaque;
};

/* Adds every block of the tree at root (agbno, levels) of AG agno to
 * bt->blocks (mapped once all AGs are read, so that the metadata
 * object has its size) and hands the leaves' records on.  Corrupt
 * blocks are warned about and skipped: their number is returned (0
 * for a sound tree).  -1 only on fatal errors.
 */
extern int xfs_walk_btree (struct xfs_map *m, uint32_t agno, uint32_t root,
                           uint32_t levels, const struct xfs_btree *bt);

/* ag.c: every AG, then space.c's xfs_map_space. */
extern int xfs_map_ags (struct xfs_map *m);

/* records.c: leaf callbacks of struct xfs_btree (opaque: a uint64_t
 * counting bad records).
 */
extern int xfs_free_leaf (struct xfs_map *m, uint32_t agno,
                          const unsigned char *r, unsigned n, void *opaque);
extern int xfs_refcount_leaf (struct xfs_map *m, uint32_t agno,
                              const unsigned char *r, unsigned n,
                              void *opaque);
extern int xfs_inode_leaf (struct xfs_map *m, uint32_t agno,
                           const unsigned char *r, unsigned n, void *opaque);

/* space.c: the kept free and shared extents sorted and merged, shared
 * blocks claimed.
 */
extern int xfs_map_space (struct xfs_map *m);
/* The free extents to the core (everything else is allocated), then
 * the sweep and its warnings.
 */
extern int xfs_map_unclaimed (struct xfs_map *m);

/* fork.c: the extents of a fork. */

#define XFS_DATA_FORK 0
#define XFS_ATTR_FORK 1

struct xfs_extent {
  uint64_t startoff;            /* fork block */
  uint64_t fsb;
  uint64_t len;
  bool unwritten;
};

/* An extent record: 128 bits, big-endian: the unwritten flag (1 bit),
 * the fork block (54), the filesystem block (52), the length (21).
 */
static inline void
xfs_extent_unpack (const unsigned char *p, struct xfs_extent *e)
{
  uint64_t l0 = xfs_be64 (p), l1 = xfs_be64 (p + 8);

  e->unwritten = l0 >> 63;
  e->startoff = (l0 & ~(UINT64_C (1) << 63)) >> 9;
  e->fsb = (l0 & 0x1ff) << 43 | l1 >> 21;
  e->len = l1 & 0x1fffff;
}

/* Called per extent, in fork order; also, if tree is set, per bmap
 * btree block (startoff 0, len 1).  -1 stops the walk (fatal).
 */
typedef int (*xfs_extent_fn) (struct xfs_map *m, const struct xfs_extent *e,
                              bool tree, void *opaque);

/* The inode's fork (raw inode, sb.inodesize bytes), in extents or btree
 * format: the extents, and the btree's blocks.  Corruption gives a
 * warning about ino.  -1 only if fn failed.
 */
extern int xfs_fork_extents (struct xfs_map *m, uint64_t ino,
                             const unsigned char *raw, int whichfork,
                             xfs_extent_fn fn, void *opaque);
/* Where a fork lies in the raw inode: offset and size in bytes (0 if
 * the inode has no such fork), and its format.
 */
extern void xfs_fork_area (const struct xfs_map *m, const unsigned char *raw,
                           int whichfork, size_t *off, size_t *size,
                           unsigned *format);

#define XFS_DINODE_FMT_DEV     0
#define XFS_DINODE_FMT_LOCAL   1
#define XFS_DINODE_FMT_EXTENTS 2
#define XFS_DINODE_FMT_BTREE   3

/* Inode core fields. */
#define XFS_DINODE_MAGIC 0x494e /* "IN" */
static inline uint16_t xfs_di_mode (const unsigned char *r)
{ return xfs_be16 (r + 2); }
static inline uint64_t xfs_di_size (const unsigned char *r)
{ return xfs_be64 (r + 56); }
static inline uint32_t xfs_di_nlink (const unsigned char *r)
{ return r[4] == 1 ? xfs_be16 (r + 6) : xfs_be32 (r + 16); }
static inline uint16_t xfs_di_flags (const unsigned char *r)
{ return xfs_be16 (r + 90); }
static inline uint64_t xfs_di_flags2 (const unsigned char *r)
{ return r[4] >= 3 ? xfs_be64 (r + 120) : 0; }
#define XFS_DIFLAG_REALTIME 0x0001
#define XFS_DIFLAG2_NREXT64 0x0010

/* dirs.c: reading a directory's entries from its inode. */
extern int xfs_read_dir (struct xfs_map *m, uint64_t ino,
                         const unsigned char *raw, xfs_dirent_fn fn,
                         void *opaque);

/* names.c */
extern int xfs_add_name (struct xfs_map *m, uint64_t parent, uint64_t ino,
                         const unsigned char *name, unsigned namelen);
/* Sorts the names once every directory is read. */
extern void xfs_sort_names (struct xfs_map *m);
/* The names of ino: [*first, *first + count) in m->names. */
extern size_t xfs_names_of (const struct xfs_map *m, uint64_t ino,
                            size_t *first);
/* The path of name i, in m->path (reused by the next call); NULL if
 * it leads nowhere (an unreachable parent, a loop); -1 in *fatal if out
 * of memory.
 */
extern const char *xfs_name_path (struct xfs_map *m, size_t i, int *fatal);
extern void xfs_free_names (struct xfs_map *m);

/* inodes.c */
extern int xfs_collect_names (struct xfs_map *m);
extern int xfs_map_inodes (struct xfs_map *m);

#endif /* VBM_XFS_MAP_H */
