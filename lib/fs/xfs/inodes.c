/* The inode chunks, read whole (one read per chunk), twice: first for
 * the directories' entries, then to map every in-use inode with its
 * paths, forks and inline data.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lower-bound.h"
#include "xfs-map.h"

#define CHUNK_INODES 64

/* ---- Reading a chunk. ---- */

/* Volume byte offset of inode i of the chunk. */
static uint64_t
inode_offset (const struct xfs_map *m, const struct xfs_chunk *c, unsigned i)
{
  uint64_t agino = c->startino + i;

  return xfs_agb_unit (m, c->agno, agino >> m->sb.inopblog) * m->bs +
    (agino & (m->sb.inopblock - 1)) * m->sb.inodesize;
}

/* Reads the chunk's allocated inodes into buf (64 inodes); in *ok the
 * inodes read.  -1 fatal.
 */
static int
read_chunk (struct xfs_map *m, const struct xfs_chunk *c,
            unsigned char *buf, uint64_t *ok)
{
  const unsigned isz = m->sb.inodesize;
  unsigned i = 0, j;

  *ok = 0;
  while (i < CHUNK_INODES) {
    int r;

    if (c->holemask & (1u << (i / 4))) {
      i += 4;
      continue;
    }
    for (j = i; j < CHUNK_INODES && !(c->holemask & (1u << (j / 4))); j += 4)
      ;
    /* The chunk's blocks are consecutive (checked by the inode btree
     * walk): one read per run of allocated inodes.
     */
    r = xfs_pread (m, buf + (size_t) i * isz, (size_t) (j - i) * isz,
                   inode_offset (m, c, i));
    if (r == -1)
      return -1;
    if (r == 0)
      *ok |= (j - i == 64 ? ~UINT64_C (0)
              : ((UINT64_C (1) << (j - i)) - 1) << i);
    i = j;
  }
  return 0;
}

static uint64_t
chunk_ino (const struct xfs_map *m, const struct xfs_chunk *c, unsigned i)
{
  return (uint64_t) c->agno << (m->sb.agblklog + m->sb.inopblog) |
    (c->startino + i);
}

/* Is raw a sound in-use inode ino?  A bad CRC is warned about, the
 * inode still used.
 */
static bool
inode_ok (struct xfs_map *m, uint64_t ino, const unsigned char *raw)
{
  if (xfs_be16 (raw) != XFS_DINODE_MAGIC || raw[4] < 1 || raw[4] > 3 ||
      (m->sb.crc && (raw[4] != 3 || xfs_be64 (raw + 152) != ino))) {
    if (m->bad_inodes++ < 10)
      xfs_warn (m, "XFS inode %" PRIu64 " in use but not an inode (bad "
                "magic, version or number): not mapped", ino);
    return false;
  }
  if (raw[4] == 3)
    xfs_check_crc (m, raw, m->sb.inodesize, 100, "inode", ino);
  return xfs_di_mode (raw) != 0;
}

typedef int (*inode_fn) (struct xfs_map *m, const struct xfs_chunk *c,
                         unsigned i, const unsigned char *raw);

static int
each_inode (struct xfs_map *m, inode_fn fn, bool progress)
{
  const size_t isz = m->sb.inodesize;
  unsigned char *buf = malloc (CHUNK_INODES * isz);
  uint64_t bad_reads = 0;
  size_t k;
  int r = -1;

  if (buf == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  for (k = 0; k < m->chunks.len; k++) {
    const struct xfs_chunk *c = &m->chunks.ptr[k];
    uint64_t ok;
    unsigned i;

    if (read_chunk (m, c, buf, &ok) == -1)
      goto out;
    for (i = 0; i < CHUNK_INODES; i++) {
      const unsigned char *raw = buf + i * isz;

      if (c->free & (UINT64_C (1) << i))
        continue;
      if (!(ok & (UINT64_C (1) << i))) {
        bad_reads++;
        continue;
      }
      if (inode_ok (m, chunk_ino (m, c, i), raw) && fn (m, c, i, raw) == -1)
        goto out;
    }
    if (progress && k % 64 == 0)
      vbm_fsmap_progress (m->fm, k, m->chunks.len);
  }
  if (progress) {
    vbm_fsmap_progress (m->fm, m->chunks.len, m->chunks.len);
    if (bad_reads)
      xfs_warn (m, "%" PRIu64 " XFS inode(s) in use lie past the end of "
                "the volume (truncated image?): not mapped", bad_reads);
  }
  r = 0;
 out:
  free (buf);
  return r;
}

/* ---- Pass 1: names. ---- */

struct dir_ctx {
  struct xfs_map *m;
  uint64_t ino;
};

static int
add_entry (void *opaque, uint64_t ino, const unsigned char *name,
           unsigned namelen)
{
  struct dir_ctx *d = opaque;

  return xfs_add_name (d->m, d->ino, ino, name, namelen);
}

static int
collect_dir (struct xfs_map *m, const struct xfs_chunk *c, unsigned i,
             const unsigned char *raw)
{
  struct dir_ctx d = { .m = m, .ino = chunk_ino (m, c, i) };

  if (!S_ISDIR (xfs_di_mode (raw)))
    return 0;
  if (d.ino == m->sb.rootino)
    m->root_seen = true;
  if (m->first_dir == 0)
    m->first_dir = d.ino;
  return xfs_read_dir (m, d.ino, raw, add_entry, &d);
}

int
xfs_collect_names (struct xfs_map *m)
{
  /* Each block of the filesystem read once or twice per directory at
   * most, however the bmap btrees are made.
   */
  m->bmbt_budget = 2 * m->sb.dblocks + 1024;
  m->dir_budget = m->sb.dblocks + 1024;
  if (each_inode (m, collect_dir, false) == -1)
    return -1;
  /* As xfs_repair: a root that is no directory in use is taken to be
   * the first directory, where mkfs.xfs puts it.
   */
  if (!m->root_seen && m->first_dir) {
    xfs_warn (m, "XFS root inode %" PRIu64 " is not a directory in use: "
              "inode %" PRIu64 ", the first directory, taken for the root",
              m->sb.rootino, m->first_dir);
    m->sb.rootino = m->first_dir;
  }
  else if (!m->root_seen)
    xfs_warn (m, "XFS root inode %" PRIu64 " is not a directory in use, "
              "and there is none: every file is unreachable",
              m->sb.rootino);
  xfs_sort_names (m);
  return 0;
}

/* ---- Pass 2: objects. ---- */

struct obj_ctx {
  struct xfs_map *m;
  int64_t obj;
  uint64_t eof_blk;             /* data blocks from here are past EOF */
  int whichfork;
  bool realtime;
  uint64_t symlink_size;        /* a v5 remote symlink's target length */
  uint64_t bad;                 /* extents outside the filesystem */
};

/* A v5 remote symlink's blocks start with a header (56 bytes): the
 * target's bytes follow it, so each block is mapped as bytes: the
 * header at no offset, the target at its offset, the rest past EOF.
 */
#define SYMLINK_HDR 56

static int
map_symlink_blocks (struct obj_ctx *s, uint64_t u, uint64_t n,
                    uint64_t lblk)
{
  struct xfs_map *m = s->m;
  const uint64_t space = m->bs - SYMLINK_HDR;
  uint64_t k;

  for (k = 0; k < n; k++, u++, lblk++) {
    uint64_t start = u * m->bs, off = lblk * space, len = 0;

    if (!vbm_fsmap_claim (m->fm, u))
      continue;
    if (off < s->symlink_size)
      len = s->symlink_size - off < space ? s->symlink_size - off : space;
    if (vbm_fsmap_bytes (m->fm, s->obj, start, SYMLINK_HDR, -1, 0) == -1 ||
        (len && vbm_fsmap_bytes (m->fm, s->obj, start + SYMLINK_HDR, len,
                                 off, 0) == -1) ||
        (len < space &&
         vbm_fsmap_bytes (m->fm, s->obj, start + SYMLINK_HDR + len,
                          space - len, off + len,
                          VBM_EXTENT_PAST_EOF) == -1))
      return -1;
  }
  return 0;
}

/* Units [u, u+n) at fork block lblk: split at EOF; shared ones as
 * bytes (their units were claimed by xfs_map_ags).
 */
static int
emit (struct obj_ctx *s, uint64_t u, uint64_t n, uint64_t lblk,
      unsigned flags, bool shared)
{
  struct xfs_map *m = s->m;

  while (n > 0) {
    uint64_t k = n;
    unsigned fl = flags;
    int64_t off = -1;

    if (s->whichfork == XFS_DATA_FORK) {
      off = lblk * m->bs;
      if (lblk < s->eof_blk) {
        if (s->eof_blk - lblk < k)
          k = s->eof_blk - lblk;
      }
      else
        fl |= VBM_EXTENT_PAST_EOF;
    }
    if (shared) {
      if (vbm_fsmap_bytes (m->fm, s->obj, u * m->bs, k * m->bs, off,
                           fl | VBM_EXTENT_SHARED) == -1)
        return -1;
    }
    else if (vbm_fsmap_units (m->fm, s->obj, u, k, off, fl) == -1)
      return -1;
    u += k;
    lblk += k;
    n -= k;
  }
  return 0;
}

static int
map_extent (struct xfs_map *m, const struct xfs_extent *e, bool tree,
            void *opaque)
{
  struct obj_ctx *s = opaque;
  const xfs_range_vector *sh = &m->shared;
  uint64_t u, n, lblk;
  unsigned flags;
  size_t lo;

  if (tree) {
    int64_t r;

    if (!xfs_fsb_unit (m, e->fsb, 1, &u))
      return 1;
    r = vbm_fsmap_units (m->fm, s->obj, u, 1, -1, VBM_EXTENT_TREE);
    return r == -1 ? -1 : r == 0;
  }
  if (s->realtime && s->whichfork == XFS_DATA_FORK)
    return 0;                   /* on the realtime device */
  /* In the filesystem, and at an offset an int64_t holds. */
  if (!xfs_fsb_unit (m, e->fsb, e->len, &u) ||
      e->startoff > (uint64_t) INT64_MAX / m->bs - e->len) {
    s->bad++;
    return 0;
  }
  if (s->symlink_size && s->whichfork == XFS_DATA_FORK)
    return map_symlink_blocks (s, u, e->len, e->startoff);
  flags = (e->unwritten ? VBM_EXTENT_UNWRITTEN : 0) |
    (s->whichfork == XFS_ATTR_FORK ? VBM_EXTENT_XATTR : 0);
  n = e->len;
  lblk = e->startoff;
  /* The first shared range ending after u. */
  lo = LOWER_BOUND (i, sh->len, sh->ptr[i].start + sh->ptr[i].len <= u);
  while (n > 0) {
    uint64_t k = n;
    bool shared = false;

    if (lo < sh->len && sh->ptr[lo].start <= u) {
      shared = true;
      if (sh->ptr[lo].start + sh->ptr[lo].len - u < k)
        k = sh->ptr[lo].start + sh->ptr[lo].len - u;
      lo++;
    }
    else if (lo < sh->len && sh->ptr[lo].start - u < k)
      k = sh->ptr[lo].start - u;
    if (emit (s, u, k, lblk, flags, shared) == -1)
      return -1;
    u += k;
    lblk += k;
    n -= k;
  }
  return 0;
}

/* The local (inline) forks, as bytes of the inode. */
static int
map_local (struct xfs_map *m, struct obj_ctx *s, const unsigned char *raw,
           uint64_t where, int whichfork)
{
  size_t off, size;
  unsigned format;
  uint64_t len;

  xfs_fork_area (m, raw, whichfork, &off, &size, &format);
  if (size == 0 || format != XFS_DINODE_FMT_LOCAL)
    return 0;
  if (whichfork == XFS_DATA_FORK)
    len = xfs_di_size (raw);
  else
    len = xfs_be16 (raw + off);  /* the shortform attributes' totsize */
  if (len > size)
    len = size;
  return vbm_fsmap_bytes (m->fm, s->obj, where + off, len,
                          whichfork == XFS_DATA_FORK ? 0 : -1,
                          VBM_EXTENT_INLINE |
                          (whichfork == XFS_ATTR_FORK ? VBM_EXTENT_XATTR : 0));
}

static const char *
special_name (const struct xfs_map *m, uint64_t ino)
{
  if (ino == m->sb.rbmino)
    return "<realtime bitmap>";
  if (ino == m->sb.rsumino)
    return "<realtime summary>";
  if (ino == m->sb.uquotino)
    return "<user quota>";
  if (ino == m->sb.gquotino)
    return "<group quota>";
  if (ino == m->sb.pquotino)
    return "<project quota>";
  return NULL;
}

static int
map_inode (struct xfs_map *m, const struct xfs_chunk *c, unsigned i,
           const unsigned char *raw)
{
  const uint64_t ino = chunk_ino (m, c, i);
  const uint16_t mode = xfs_di_mode (raw);
  const uint64_t size = xfs_di_size (raw);
  struct obj_ctx s = { .m = m };
  const char *path = NULL, *special;
  char *saved = NULL;
  char buf[64];
  size_t first = 0, nnames = 0, k, primary = 0;
  unsigned flags = 0;
  char kind;
  int fatal;

  kind = S_ISDIR (mode) ? VBM_KIND_DIRECTORY : VBM_KIND_FILE;
  if (S_ISLNK (mode))
    flags |= VBM_OBJECT_SYMLINK;
  else if (S_ISCHR (mode) || S_ISBLK (mode) || S_ISFIFO (mode) ||
           S_ISSOCK (mode))
    flags |= VBM_OBJECT_SPECIAL;

  special = ino != 0 ? special_name (m, ino) : NULL;
  if (special) {
    kind = VBM_KIND_METADATA;
    path = special;
  }
  else if (ino == m->sb.rootino) {
    path = "/";
    /* An entry naming the root: a loop in the tree. */
    if (xfs_names_of (m, ino, &first) > 0) {
      const char *loop = xfs_name_path (m, first, &fatal);

      if (fatal)
        return -1;
      xfs_warn (m, "XFS directory entry %s names the root directory "
                "(a loop): ignored", loop ? loop : "(unreachable)");
    }
  }
  else {
    nnames = xfs_names_of (m, ino, &first);
    /* The first name that leads to the root is the path. */
    for (k = 0; k < nnames && path == NULL; k++) {
      path = xfs_name_path (m, first + k, &fatal);
      if (fatal)
        return -1;
      primary = k;
    }
    if (path == NULL) {
      flags |= VBM_OBJECT_UNREACHABLE;
      if (xfs_di_nlink (raw) == 0) {
        flags |= VBM_OBJECT_DELETED;
        snprintf (buf, sizeof buf, "<orphan inode %" PRIu64 ">", ino);
      }
      else
        snprintf (buf, sizeof buf, "<unreachable inode %" PRIu64 ">", ino);
      path = buf;
      nnames = 0;
    }
  }
  s.obj = vbm_fsmap_object (m->fm, kind, path, ino, size, flags);
  if (s.obj == -1)
    return -1;
  /* Other names reuse the path buffer: the first is kept for the
   * warnings about the object.
   */
  if (primary + 1 < nnames) {
    saved = strdup (path);
    if (saved == NULL) {
      vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                     strerror (errno));
      return -1;
    }
    path = saved;
  }
  for (k = primary + 1; k < nnames; k++) {
    const char *other = xfs_name_path (m, first + k, &fatal);

    if (fatal || (other && vbm_fsmap_name (m->fm, s.obj, other) == -1))
      goto fail;
    if (other && kind == VBM_KIND_DIRECTORY)
      xfs_warn (m, "XFS directory %s (inode %" PRIu64 ") is also named %s "
                "(directories have one name): a loop or a cross-link",
                path, ino, other);
  }
  if (flags & VBM_OBJECT_UNREACHABLE)
    m->unreachable++;
  if (m->ctx->stats) {
    if (kind == VBM_KIND_DIRECTORY)
      m->ctx->stats->directories++;
    else if (kind == VBM_KIND_FILE)
      m->ctx->stats->files++;
  }

  /* Past EOF only means something for regular files. */
  s.eof_blk = S_ISREG (mode) ? (size + m->bs - 1) / m->bs : UINT64_MAX;
  if (S_ISLNK (mode) && m->sb.crc && size > 0)
    s.symlink_size = size;
  s.realtime = xfs_di_flags (raw) & XFS_DIFLAG_REALTIME;
  if (s.realtime)
    m->realtime_files++;
  for (s.whichfork = XFS_DATA_FORK; s.whichfork <= XFS_ATTR_FORK;
       s.whichfork++) {
    if (map_local (m, &s, raw, inode_offset (m, c, i), s.whichfork) == -1 ||
        xfs_fork_extents (m, ino, raw, s.whichfork, map_extent, &s) == -1)
      goto fail;
  }
  if (s.bad)
    xfs_warn (m, "%s (inode %" PRIu64 "): %" PRIu64 " extent(s) outside "
              "the filesystem: not mapped", path, ino, s.bad);
  if (vbm_fsmap_flush (m->fm) == -1)
    goto fail;
  vbm_fsmap_end_object (m->fm, path);
  free (saved);
  return 0;

 fail:
  free (saved);
  return -1;
}

int
xfs_map_inodes (struct xfs_map *m)
{
  if (each_inode (m, map_inode, true) == -1)
    return -1;
  if (m->unreachable)
    xfs_warn (m, "%" PRIu64 " XFS inode(s) in use are in no directory that "
              "leads to the root: mapped as <unreachable inode N> or "
              "<orphan inode N>", m->unreachable);
  if (m->realtime_files)
    xfs_warn (m, "%" PRIu64 " XFS file(s) on the realtime device: their "
              "data is not mapped", m->realtime_files);
  if (m->bad_inodes > 10)
    xfs_warn (m, "%" PRIu64 " XFS inodes in use were not inodes in all",
              m->bad_inodes);
  return 0;
}
