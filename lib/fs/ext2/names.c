/* ext2/3/4 names: a breadth-first walk of the directory tree from the
 * root, collecting one entry per name (hard links give several).
 *
 * A name is an 8-byte key and its bytes in a pool (see ext2-map.h);
 * paths are built on demand from a small table of the directories, so
 * 200,000 names cost ~3 MiB.  The walk is a queue (the directory table
 * itself), not recursion; a visited set of directory inodes stops
 * loops.  The keys are then sorted by inode for the inode scan.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "cleanup.h"
#include "ext2-map.h"
#include "hugebuf.h"
#include "lower-bound.h"

/* Names reserved for at first, at most. */
#define EXPECT_MAX (1 << 20)

/* Deeper than any real tree; bounds path lengths. */
#define MAX_DEPTH 4096

struct walk {
  struct ext2_map *m;
  ext2fs_inode_bitmap visited;  /* directories queued for listing */
  uint32_t dir;                 /* the directory being listed */
  uint64_t seen, skip;          /* entries seen, entries to skip */
  uint64_t bad_inodes;
  bool fatal;
};

void
ext2_free_names (struct ext2_names *names)
{
  vbm_hugebuf_free (names->v.ptr, names->v.bytes);
  names->v = (struct ext2_key_array) { 0 };
  ext2_dir_vector_reset (&names->dirs);
  vbm_hugebuf_free (names->pool.ptr, names->pool.bytes);
  names->pool = (struct ext2_byte_array) { 0 };
  free (names->path);
  names->path = NULL;
  names->path_cap = 0;
}

/* Room for more keys, more pool bytes. */
static int
reserve_names (struct ext2_names *names, size_t keys, size_t bytes)
{
  void *p;
  size_t want;

  if (ADD_OVERFLOW (names->v.len, keys, &want) ||
      MUL_OVERFLOW (want, sizeof *names->v.ptr, &want)) {
    errno = ENOMEM;
    return -1;
  }
  if (want > names->v.bytes) {
    p = names->v.ptr;
    if (vbm_hugebuf_reserve (&p, &names->v.bytes, want) == -1)
      return -1;
    names->v.ptr = p;
  }
  if (ADD_OVERFLOW (names->pool.len, bytes, &want)) {
    errno = ENOMEM;
    return -1;
  }
  if (want > names->pool.bytes) {
    p = names->pool.ptr;
    if (vbm_hugebuf_reserve (&p, &names->pool.bytes, want) == -1)
      return -1;
    names->pool.ptr = p;
  }
  return 0;
}

/* Appends a name of len bytes for ino; returns its pool offset. */
static uint32_t
append_name (struct ext2_names *names, ext2_ino_t ino, const char *name,
             unsigned len)
{
  const uint32_t off = names->pool.len;

  names->v.ptr[names->v.len++] = (uint64_t) ino << 32 | off;
  names->pool.ptr[off] = len;
  memcpy (&names->pool.ptr[off + 1], name, len);
  names->pool.len += 1 + len;
  return off;
}

static int
reserve_path (struct ext2_names *names, size_t len)
{
  char *p;

  if (len <= names->path_cap)
    return 0;
  p = realloc (names->path, len);
  if (p == NULL)
    return -1;
  names->path = p;
  names->path_cap = len;
  return 0;
}

/* Puts the path of dir (nothing for "/") at the start of the path
 * buffer, with room for extra bytes and a NUL after it.  Consecutive
 * inodes are mostly in the same directory: its path is kept.
 */
static int
dir_prefix (struct ext2_names *names, uint32_t dir, size_t extra)
{
  const struct ext2_dir *d;
  size_t len = 0, pos;
  uint32_t i;

  if (names->path != NULL && dir == names->path_dir)
    return reserve_path (names, names->path_len + extra + 1);

  for (i = dir; names->dirs.ptr[i].parent != EXT2_NO_PARENT;
       i = names->dirs.ptr[i].parent)
    len += 1 + names->pool.ptr[names->dirs.ptr[i].name_off];
  if (reserve_path (names, len + extra + 1) == -1)
    return -1;
  pos = len;
  for (i = dir; names->dirs.ptr[i].parent != EXT2_NO_PARENT; i = d->parent) {
    const unsigned char *name;

    d = &names->dirs.ptr[i];
    name = &names->pool.ptr[d->name_off];
    pos -= name[0];
    memcpy (&names->path[pos], name + 1, name[0]);
    names->path[--pos] = '/';
  }
  names->path_dir = dir;
  names->path_len = len;
  return 0;
}

const char *
ext2_dir_path (struct ext2_map *m, uint32_t dir)
{
  struct ext2_names *names = &m->names;

  if (dir_prefix (names, dir, 1) == -1)
    return NULL;
  if (names->path_len == 0)
    names->path[0] = '/';
  names->path[names->path_len ? names->path_len : 1] = '\0';
  return names->path;
}

/* The directory holding the name at pool offset off, or EXT2_NO_PARENT
 * for the root's name.
 */
static uint32_t
name_dir (const struct ext2_names *names, uint32_t off)
{
  const struct ext2_dir *dirs = names->dirs.ptr;
  size_t lo;
  uint32_t d = names->path_dir;

  /* Mostly the directory of the last path. */
  if (names->path != NULL && d != EXT2_NO_PARENT &&
      dirs[d].names_start <= off &&
      (d + 1 == names->dirs.len || off < dirs[d + 1].names_start))
    return d;
  /* The last directory starting at or before off. */
  lo = LOWER_BOUND (i, names->dirs.len, dirs[i].names_start <= off);
  return lo == 0 ? EXT2_NO_PARENT : lo - 1;
}

const char *
ext2_name_path (struct ext2_map *m, uint32_t index)
{
  struct ext2_names *names = &m->names;
  const uint32_t off = EXT2_NAME_OFF (names->v.ptr[index]);
  const unsigned char *name = &names->pool.ptr[off];
  const uint32_t dir = name_dir (names, off);
  size_t pos;

  if (dir == EXT2_NO_PARENT) {
    if (reserve_path (names, 2) == -1)
      return NULL;
    names->path_dir = EXT2_NO_PARENT; /* nothing kept */
    return strcpy (names->path, "/");
  }
  if (dir_prefix (names, dir, 1 + name[0]) == -1)
    return NULL;
  pos = names->path_len;
  names->path[pos++] = '/';
  memcpy (&names->path[pos], name + 1, name[0]);
  names->path[pos + name[0]] = '\0';
  return names->path;
}

static bool
is_directory (struct walk *w, const struct ext2_dir_entry *dirent)
{
  struct ext2_inode inode;

  switch (ext2fs_dirent_file_type (dirent)) {
  case EXT2_FT_DIR:
    return true;
  case EXT2_FT_UNKNOWN:         /* no filetype feature: ask the inode */
    return ext2fs_read_inode (w->m->fs, dirent->inode, &inode) == 0 &&
      LINUX_S_ISDIR (inode.i_mode);
  default:
    return false;
  }
}

static int
add_entry (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
           int offset, int blocksize, char *buf, void *priv)
{
  struct walk *w = priv;
  struct ext2_map *m = w->m;
  struct ext2_names *names = &m->names;
  const unsigned len = ext2fs_dirent_name_len (dirent);
  const ext2_ino_t ino = dirent->inode;
  uint32_t name_off;

  /* Entries already taken before a checksum retry. */
  if (++w->seen <= w->skip)
    return 0;
  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;

  if (ino > m->fs->super->s_inodes_count ||
      (ino < m->first_ino && ino != EXT2_ROOT_INO)) {
    w->bad_inodes++;
    return 0;
  }
  if (len == 0 || memchr (dirent->name, '/', len) ||
      memchr (dirent->name, '\0', len)) {
    const char *path = ext2_dir_path (m, w->dir);

    ext2_warn (m, "%s: entry for inode %u has an invalid name: skipped",
               path ? path : "?", ino);
    return 0;
  }
  /* Pool offsets are 32 bits. */
  if (names->pool.len > UINT32_MAX - 1 - len) {
    ext2_warn (m, "too many names: the rest are skipped");
    return DIRENT_ABORT;
  }

  if (reserve_names (names, 1, 1 + len) == -1) {
    w->fatal = true;
    return DIRENT_ABORT;
  }
  name_off = append_name (names, ino, dirent->name, len);

  if (is_directory (w, dirent)) {
    const struct ext2_dir d = {
      .ino = ino, .parent = w->dir, .name_off = name_off,
      .depth = names->dirs.ptr[w->dir].depth + 1,
    };

    if (d.depth >= MAX_DEPTH) {
      const char *path = ext2_dir_path (m, w->dir);

      ext2_warn (m, "%s: directories nested too deep: not listed",
                 path ? path : "?");
    }
    else if (ext2fs_fast_test_inode_bitmap2 (w->visited, ino)) {
      const char *path = ext2_dir_path (m, w->dir);

      ext2_warn (m, "%s/%.*s: directory inode %u reached twice: "
                 "listed once", path && path[1] ? path : "",
                 (int) len, dirent->name, ino);
    }
    else {
      ext2fs_fast_mark_inode_bitmap2 (w->visited, ino);
      if (ext2_dir_vector_append (&names->dirs, d) == -1) {
        w->fatal = true;
        return DIRENT_ABORT;
      }
    }
  }
  return 0;
}

/* Sorts v[0, n) in place by the key's byte at shift and the bytes
 * below it: a most significant digit first radix sort, which needs no
 * extra memory (fresh memory is dear) and at most 8 levels of
 * recursion.  Keys are distinct: stability does not matter.
 */
static void
sort_keys (uint64_t *v, size_t n, unsigned shift)
{
  uint32_t count[256], next[256], end[256];
  size_t i, b, sum;

  for (;;) {
    if (n < 32) {
      for (i = 1; i < n; i++) {
        const uint64_t k = v[i];
        size_t j = i;

        for (; j > 0 && v[j - 1] > k; j--)
          v[j] = v[j - 1];
        v[j] = k;
      }
      return;
    }
    memset (count, 0, sizeof count);
    for (i = 0; i < n; i++)
      count[(v[i] >> shift) & 0xff]++;
    if (count[(v[0] >> shift) & 0xff] == n) {
      /* One digit: nothing to move at this level. */
      if (shift == 0)
        return;
      shift -= 8;
      continue;
    }
    break;
  }

  for (b = 0, sum = 0; b < 256; b++) {
    next[b] = sum;
    sum += count[b];
    end[b] = sum;
  }
  /* Each swap puts one key into its bucket for good. */
  for (b = 0; b < 256; b++) {
    while (next[b] < end[b]) {
      const uint64_t k = v[next[b]];
      const size_t d = (k >> shift) & 0xff;

      if (d == b)
        next[b]++;
      else {
        v[next[b]] = v[next[d]];
        v[next[d]++] = k;
      }
    }
  }
  if (shift == 0)
    return;
  for (b = 0, sum = 0; b < 256; sum += count[b], b++)
    if (count[b] > 1)
      sort_keys (v + sum, count[b], shift - 8);
}

static void
sort_names (struct ext2_names *names)
{
  size_t i;

  for (i = 1; i < names->v.len; i++)
    if (names->v.ptr[i - 1] > names->v.ptr[i])
      break;
  if (i < names->v.len)
    sort_keys (names->v.ptr, names->v.len, 56);
}

int
ext2_collect_names (struct ext2_map *m)
{
  struct ext2_names *names = &m->names;
  ext2_filsys fs = m->fs;
  struct walk w = { .m = m };
  const struct ext2_dir root_dir = {
    .ino = EXT2_ROOT_INO, .parent = EXT2_NO_PARENT,
  };
  CLEANUP_FREE char *buf = NULL;
  errcode_t err;
  size_t i, expect;
  int r = -1;

  buf = malloc (m->bs);
  err = ext2fs_allocate_inode_bitmap (fs, "visited directories", &w.visited);
  if (buf == NULL || err) {
    ext2_fatal (m, err ? err : ENOMEM, "listing directories");
    goto out;
  }
  /* Room for as many names as inodes in use (what the superblock
   * says, within reason), to grow less often.
   */
  expect = fs->super->s_inodes_count > fs->super->s_free_inodes_count
    ? fs->super->s_inodes_count - fs->super->s_free_inodes_count : 0;
  if (expect > EXPECT_MAX)
    expect = EXPECT_MAX;
  if (reserve_names (names, expect + 1, expect * 16 + 1) == -1 ||
      ext2_dir_vector_append (&names->dirs, root_dir) == -1) {
    ext2_fatal (m, ENOMEM, "listing directories");
    goto out;
  }
  /* The root's name: empty, at offset 0. */
  append_name (names, EXT2_ROOT_INO, "", 0);
  ext2fs_fast_mark_inode_bitmap2 (w.visited, EXT2_ROOT_INO);

  /* Breadth first: directories appended while i moves along. */
  for (i = 0; i < names->dirs.len; i++) {
    const ext2_ino_t ino = names->dirs.ptr[i].ino;

    w.dir = i;
    w.seen = w.skip = 0;
    names->dirs.ptr[i].names_start = names->pool.len;
    err = ext2fs_dir_iterate2 (fs, ino, 0, buf, add_entry, &w);
    if (err && ext2_is_csum_error (err) &&
        !(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS) && !w.fatal) {
      /* Read it again without checksums, past the entries we have. */
      w.skip = w.seen;
      w.seen = 0;
      fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
      err = ext2fs_dir_iterate2 (fs, ino, 0, buf, add_entry, &w);
      fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
      if (!w.fatal) {
        const char *path = ext2_dir_path (m, i);

        ext2_warn (m, "%s: directory checksum errors ignored",
                   path ? path : "?");
      }
    }
    if (w.fatal) {
      ext2_fatal (m, ENOMEM, "listing directories");
      goto out;
    }
    if (err) {
      const char *path = ext2_dir_path (m, i);

      ext2_warn (m, "%s: cannot list the directory: %s",
                 path ? path : "?", ext2_strerror (err));
    }
  }
  if (w.bad_inodes)
    ext2_warn (m, "%" PRIu64 " directory entries with bad inode numbers "
               "skipped", w.bad_inodes);

  sort_names (names);
  names->cursor = 0;
  vbm_debug (m->ctx, "%s: %zu names, %zu directories", m->vol->device,
             names->v.len, names->dirs.len);
  r = 0;

 out:
  if (w.visited)
    ext2fs_free_inode_bitmap (w.visited);
  return r;
}
