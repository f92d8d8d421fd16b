/* Files: every inode of every fs tree becomes an object named by its
 * paths from the top-level subvolume, with its file extents mapped at
 * every copy on the devices:
 *   - regular extents with their offset in the file, preallocated
 *     ones flagged unwritten, past the end of the file past_eof;
 *   - inline extents as bytes of the leaf that holds them;
 *   - compressed extents whole as stored, from the file offset of the
 *     range they give, flagged compressed;
 *   - holes (no disk extent) not mapped;
 *   - a disk extent that several file extent items use (snapshots,
 *     reflinks, a file using parts of one extent) is claimed here
 *     once and mapped as bytes to each user; its bytes that several
 *     inodes use are flagged shared (a compressed extent is used
 *     whole).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "btrfs-map.h"
#include "lower-bound.h"

/* ---- Which disk extents are used more than once. ---- */

struct use {
  uint64_t bytenr, len;
  uint64_t start, end;          /* the logical bytes it uses */
  uint32_t sv;
  uint64_t ino;
};
DEFINE_VECTOR_TYPE (use_vector, struct use);

static int
compare_use (const struct use *a, const struct use *b)
{
  if (a->bytenr != b->bytenr)
    return a->bytenr < b->bytenr ? -1 : 1;
  if (a->sv != b->sv)
    return a->sv < b->sv ? -1 : 1;
  return a->ino < b->ino ? -1 : a->ino > b->ino;
}

static bool
on_disk (const struct bt_extent *e)
{
  return e->type != BT_FE_INLINE && e->disk_bytenr != 0;
}

static const struct bt_ref *
find_ref (const struct btrfs_map *m, uint64_t bytenr)
{
  size_t lo = LOWER_BOUND (i, m->refs.len, m->refs.ptr[i].bytenr < bytenr);

  return lo < m->refs.len && m->refs.ptr[lo].bytenr == bytenr
    ? &m->refs.ptr[lo] : NULL;
}

/* Sectors claimed one by one are bounded by the devices' size: shared
 * extents that overlap each other (damage) are not claimed over and
 * over.
 */
struct claim {
  struct btrfs_map *m;
  uint64_t budget;
};

static int
claim_piece (void *opaque, const struct bt_piece *p)
{
  struct claim *cl = opaque;
  struct btrfs_map *m = cl->m;
  uint64_t u;

  if (p->stripe->dev < 0)
    return 0;
  for (u = p->physical / m->ss;
       u * m->ss < p->physical + p->len && cl->budget > 0; u++, cl->budget--)
    vbm_fsmap_claim (m->devs.ptr[p->stripe->dev].fm, u);
  return 0;
}

/* A group of more users than this is taken as shared whole: the
 * pieces cost groups times users.
 */
#define MAX_GROUP 4096

static int
compare_u64 (const uint64_t *a, const uint64_t *b)
{
  return *a < *b ? -1 : *a > *b;
}
DEFINE_VECTOR_TYPE (u64_vector, uint64_t);

/* The pieces of one disk extent, uses [i, j) (sorted by inode), each
 * shared if two inodes use it.
 */
static int
add_segments (struct btrfs_map *m, const struct use *u, size_t n,
              struct bt_ref *ref, u64_vector *pts)
{
  size_t k, p;

  ref->first_seg = m->segs.len;
  pts->len = 0;
  for (k = 0; k < n && n <= MAX_GROUP; k++)
    if (u64_vector_append (pts, u[k].start) == -1 ||
        u64_vector_append (pts, u[k].end) == -1)
      return bt_nomem (m);
  if (n > MAX_GROUP) {
    struct bt_seg s = { .start = u[0].bytenr, .end = u[0].bytenr + u[0].len,
                        .shared = true };

    for (k = 0; k < n; k++)
      if (u[k].bytenr + u[k].len > s.end)
        s.end = u[k].bytenr + u[k].len;
    if (bt_seg_vector_append (&m->segs, s) == -1)
      return bt_nomem (m);
    ref->nsegs = 1;
    return 0;
  }
  u64_vector_sort (pts, compare_u64);
  for (p = 0; p + 1 < pts->len; p++) {
    struct bt_seg s = { .start = pts->ptr[p], .end = pts->ptr[p + 1] };
    unsigned owners = 0;
    size_t last = n;

    if (s.start == s.end)
      continue;
    for (k = 0; k < n && owners < 2; k++)
      if (u[k].start <= s.start && s.end <= u[k].end &&
          (last == n || u[k].sv != u[last].sv || u[k].ino != u[last].ino)) {
        owners++;
        last = k;
      }
    if (owners == 0)
      continue;
    s.shared = owners > 1;
    if (m->segs.len > ref->first_seg &&
        m->segs.ptr[m->segs.len - 1].end == s.start &&
        m->segs.ptr[m->segs.len - 1].shared == s.shared)
      m->segs.ptr[m->segs.len - 1].end = s.end;
    else if (bt_seg_vector_append (&m->segs, s) == -1)
      return bt_nomem (m);
  }
  ref->nsegs = m->segs.len - ref->first_seg;
  return 0;
}

/* Counts the users of each disk extent; claims those used twice. */
static int
count_refs (struct btrfs_map *m)
{
  use_vector uses = empty_vector;
  u64_vector pts = empty_vector;
  struct claim cl = { .m = m };
  uint64_t unmapped = 0;
  size_t i, j;
  int r = -1;

  for (i = 0; i < m->devs.len; i++)
    if (m->devs.ptr[i].present)
      cl.budget += 2 * (m->devs.ptr[i].mem->vol.length / m->ss);
  for (i = 0; i < m->extents.len; i++) {
    const struct bt_extent *e = &m->extents.ptr[i];
    struct use u = { .bytenr = e->disk_bytenr, .len = e->disk_len,
                     .start = e->disk_bytenr, .end = e->disk_bytenr +
                     e->disk_len, .sv = e->sv, .ino = e->ino };

    if (!e->compression) {
      u.start += e->ext_off;
      u.end = u.start + e->num_bytes;
    }
    if (on_disk (e) && use_vector_append (&uses, u) == -1)
      goto nomem;
  }
  use_vector_sort (&uses, compare_use);
  for (i = 0; i < uses.len; i = j) {
    struct bt_ref ref = { .bytenr = uses.ptr[i].bytenr };
    uint64_t len = 0;

    for (j = i; j < uses.len && uses.ptr[j].bytenr == ref.bytenr; j++)
      if (uses.ptr[j].len > len)
        len = uses.ptr[j].len;
    if (j - i < 2)
      continue;
    if (add_segments (m, &uses.ptr[i], j - i, &ref, &pts) == -1)
      goto out;
    if (bt_ref_vector_append (&m->refs, ref) == -1)
      goto nomem;
    if (bt_resolve (m, ref.bytenr, len, claim_piece, &cl, &unmapped) == -1)
      goto out;
  }
  for (i = 0; i < m->devs.len; i++)
    if (m->devs.ptr[i].present)
      vbm_fsmap_end_object (m->devs.ptr[i].fm, "<shared extents>");
  r = 0;
  goto out;
 nomem:
  r = bt_nomem (m);
 out:
  use_vector_reset (&uses);
  u64_vector_reset (&pts);
  return r;
}

/* ---- Extents of one file. ---- */

struct emit {
  struct btrfs_map *m;
  int64_t obj;
  uint64_t start;               /* logical address at offset base */
  int64_t base;                 /* file offset, -1 none */
  unsigned flags;
  bool bytes;                   /* map as bytes, claim nothing */
  uint64_t missing;             /* bytes on missing devices */
};

static int
emit_piece (void *opaque, const struct bt_piece *p)
{
  struct emit *x = opaque;
  struct btrfs_map *m = x->m;
  struct vbm_fsmap *fm;
  int64_t off = x->base < 0 ? -1 : x->base + (int64_t) (p->logical - x->start);

  if (p->stripe->dev < 0) {
    x->missing += p->len;
    return 0;
  }
  fm = m->devs.ptr[p->stripe->dev].fm;
  if (x->bytes || p->physical % m->ss || p->len % m->ss)
    return vbm_fsmap_bytes (fm, x->obj, p->physical, p->len, off, x->flags);
  return vbm_fsmap_units (fm, x->obj, p->physical / m->ss, p->len / m->ss,
                          off, x->flags) == -1 ? -1 : 0;
}

static int
map_extent (struct btrfs_map *m, struct emit *x, const struct bt_extent *e,
            uint64_t *unmapped)
{
  uint64_t start, len;

  x->flags = 0;
  x->bytes = false;
  x->base = e->file_off > INT64_MAX ? -1 : (int64_t) e->file_off;
  if (e->compression)
    x->flags |= VBM_EXTENT_COMPRESSED;
  if (e->type == BT_FE_INLINE) {
    /* The data lies inside its leaf, which the tree owns. */
    x->flags |= VBM_EXTENT_INLINE;
    x->bytes = true;
    start = e->disk_bytenr + e->ext_off;
    len = e->disk_len;
  }
  else {
    const struct bt_ref *ref;

    if (e->disk_bytenr == 0)
      return 0;                 /* a hole */
    if (e->type == BT_FE_PREALLOC)
      x->flags |= VBM_EXTENT_UNWRITTEN;
    if (e->compression) {
      start = e->disk_bytenr;
      len = e->disk_len;
    }
    else {
      start = e->disk_bytenr + e->ext_off;
      len = e->num_bytes;
    }
    ref = find_ref (m, e->disk_bytenr);
    if (ref) {
      /* Piece by piece: shared where another inode uses it too. */
      const unsigned flags = x->flags;
      size_t k;

      x->bytes = true;
      x->start = start;
      for (k = ref->first_seg; k < ref->first_seg + ref->nsegs; k++) {
        const struct bt_seg *s = &m->segs.ptr[k];
        uint64_t a = s->start > start ? s->start : start;
        uint64_t b = s->end < start + len ? s->end : start + len;

        if (a >= b)
          continue;
        x->flags = flags | (s->shared ? VBM_EXTENT_SHARED : 0);
        if (bt_resolve (m, a, b - a, emit_piece, x, unmapped) == -1)
          return -1;
      }
      return 0;
    }
  }
  x->start = start;
  return bt_resolve (m, start, len, emit_piece, x, unmapped);
}

/* ---- Objects. ---- */

static void
for_devs (struct btrfs_map *m, uint64_t end)
{
  size_t i;

  for (i = 0; i < m->devs.len; i++)
    if (m->devs.ptr[i].present) {
      if (end == UINT64_MAX)
        vbm_fsmap_end_stream (m->devs.ptr[i].fm);
      else
        vbm_fsmap_stream (m->devs.ptr[i].fm, end, end);
    }
}

static int
end_object (struct btrfs_map *m, const char *what)
{
  size_t i;

  for (i = 0; i < m->devs.len; i++)
    if (m->devs.ptr[i].present) {
      if (vbm_fsmap_flush (m->devs.ptr[i].fm) == -1)
        return -1;
      vbm_fsmap_end_object (m->devs.ptr[i].fm, what);
    }
  return 0;
}

static int
map_inode (struct btrfs_map *m, const struct bt_inode *in, size_t *ext)
{
  const struct bt_subvol *s = &m->subvols.ptr[in->sv];
  const char *path = NULL;
  char buf[96], *saved = NULL;
  struct emit x = { .m = m };
  size_t first = 0, nnames, k, primary = 0;
  uint64_t unmapped = 0;
  unsigned flags = 0;
  char kind;
  int fatal = 0, r = -1;

  kind = S_ISDIR (in->mode) ? VBM_KIND_DIRECTORY : VBM_KIND_FILE;
  if (S_ISLNK (in->mode))
    flags |= VBM_OBJECT_SYMLINK;
  else if (S_ISCHR (in->mode) || S_ISBLK (in->mode) || S_ISFIFO (in->mode) ||
           S_ISSOCK (in->mode))
    flags |= VBM_OBJECT_SPECIAL;

  nnames = bt_names_of (m, in->sv, in->ino, &first);
  if (in->ino == s->root_dirid) {
    path = bt_subvol_path (m, in->sv, &fatal);
    if (path && path[0] == '\0')
      path = "/";
    nnames = 0;
  }
  else
    for (k = 0; k < nnames && path == NULL && !fatal; k++) {
      path = bt_name_path (m, first + k, &fatal);
      primary = k;
    }
  if (fatal)
    return -1;
  if (path == NULL) {
    flags |= VBM_OBJECT_UNREACHABLE;
    snprintf (buf, sizeof buf, "<unreachable inode %" PRIu64
              " of fs tree %" PRIu64 ">", in->ino, s->id);
    path = buf;
    nnames = 0;
  }
  x.obj = vbm_fsmap_object (m->fm, kind, path, in->ino, in->size, flags);
  if (x.obj == -1)
    return -1;
  /* Other names and the warnings reuse m->path. */
  saved = strdup (path);
  if (saved == NULL)
    return bt_nomem (m);
  for (k = primary + 1; k < nnames; k++) {
    const char *other = bt_name_path (m, first + k, &fatal);

    if (fatal || (other && vbm_fsmap_name (m->fm, x.obj, other) == -1))
      goto out;
  }

  /* The blocks past the end of the file, rounded to a sector. */
  for_devs (m, in->size > UINT64_MAX - m->ss ? UINT64_MAX - m->ss
            : (in->size + m->ss - 1) / m->ss * m->ss);
  while (*ext < m->extents.len) {
    const struct bt_extent *e = &m->extents.ptr[*ext];

    if (e->sv != in->sv || e->ino != in->ino)
      break;
    if (map_extent (m, &x, e, &unmapped) == -1)
      goto out;
    ++*ext;
  }
  for_devs (m, UINT64_MAX);
  if (unmapped)
    bt_warn (m, "%s: %" PRIu64 " byte(s) of its extents in no chunk: not "
             "mapped", saved, unmapped);
  m->missing_reads += x.missing;
  if (end_object (m, saved) == -1)
    goto out;
  if (m->ctx->stats) {
    if (kind == VBM_KIND_DIRECTORY)
      m->ctx->stats->directories++;
    else
      m->ctx->stats->files++;
  }
  r = 0;
 out:
  free (saved);
  return r;
}

/* Both vectors are in (fs tree, inode) order: the walk's key order. */
static bool
before (const struct bt_extent *e, const struct bt_inode *in)
{
  return e->sv < in->sv || (e->sv == in->sv && e->ino < in->ino);
}

int
bt_map_files (struct btrfs_map *m)
{
  size_t i, ext = 0;
  uint64_t orphans = 0;

  if (count_refs (m) == -1)
    return -1;
  for (i = 0; i < m->inodes.len; i++) {
    const struct bt_inode *in = &m->inodes.ptr[i];

    /* Extents of inodes without an inode item. */
    while (ext < m->extents.len && before (&m->extents.ptr[ext], in)) {
      ext++;
      orphans++;
    }
    if (map_inode (m, in, &ext) == -1)
      return -1;
    if ((i & 1023) == 0)
      vbm_fsmap_progress (m->fm, i, m->inodes.len);
  }
  orphans += m->extents.len - ext;
  if (orphans)
    bt_warn (m, "%" PRIu64 " btrfs file extent item(s) of no inode: not "
             "mapped", orphans);
  if (m->missing_reads)
    bt_warn (m, "%" PRIu64 " byte(s) of file data on missing devices: not "
             "mapped", m->missing_reads);
  return 0;
}
