/* ext2/3/4 names: a breadth-first walk of the directory tree from the
 * root, collecting one entry per name (hard links give several).
 *
 * Entries are stored compactly (inode, parent entry, name bytes) and
 * paths are built on demand, so 200,000 names cost a few MiB.  The
 * walk is a queue (the entry vector itself), not recursion; a visited
 * set of directory inodes stops loops.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ext2-map.h"

/* Deeper than any real tree; bounds path lengths. */
#define MAX_DEPTH 4096

struct walk {
  struct ext2_map *m;
  ext2fs_inode_bitmap visited;  /* directories queued for listing */
  uint32_t parent;              /* entry of the directory being listed */
  uint64_t seen, skip;          /* entries seen, entries to skip */
  uint64_t bad_inodes;
  bool fatal;
};

void
ext2_free_names (struct ext2_names *names)
{
  ext2_name_vector_reset (&names->v);
  ext2_byte_vector_reset (&names->pool);
  ext2_key_vector_reset (&names->order);
  free (names->path);
  names->path = NULL;
  names->path_cap = 0;
}

/* The path of entry index, in a buffer reused by the next call. */
const char *
ext2_name_path (struct ext2_map *m, uint32_t index)
{
  struct ext2_names *names = &m->names;
  const struct ext2_name *e;
  size_t len = 0, pos;
  uint32_t i;

  for (i = index; names->v.ptr[i].parent != EXT2_NO_PARENT;
       i = names->v.ptr[i].parent)
    len += 1 + names->v.ptr[i].name_len;
  if (len == 0)
    len = 1;                    /* "/" */
  if (len + 1 > names->path_cap) {
    char *p = realloc (names->path, len + 1);

    if (p == NULL)
      return NULL;
    names->path = p;
    names->path_cap = len + 1;
  }

  names->path[0] = '/';
  names->path[len] = '\0';
  pos = len;
  i = index;
  while (names->v.ptr[i].parent != EXT2_NO_PARENT) {
    e = &names->v.ptr[i];
    pos -= e->name_len;
    memcpy (&names->path[pos], &names->pool.ptr[e->name_off], e->name_len);
    names->path[--pos] = '/';
    i = e->parent;
  }
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
  const struct ext2_name *parent;
  struct ext2_name e;

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
    const char *path = ext2_name_path (m, w->parent);

    ext2_warn (m, "%s: entry for inode %u has an invalid name: skipped",
               path ? path : "?", ino);
    return 0;
  }
  if (names->v.len >= UINT32_MAX - 1) {
    ext2_warn (m, "too many names: the rest are skipped");
    return DIRENT_ABORT;
  }

  parent = &names->v.ptr[w->parent];
  e.ino = ino;
  e.parent = w->parent;
  e.name_off = names->pool.len;
  e.name_len = len;
  e.depth = parent->depth + 1;
  e.list = false;

  if (is_directory (w, dirent)) {
    if (e.depth >= MAX_DEPTH) {
      const char *path = ext2_name_path (m, w->parent);

      ext2_warn (m, "%s: directories nested too deep: not listed",
                 path ? path : "?");
    }
    else if (ext2fs_fast_test_inode_bitmap2 (w->visited, ino)) {
      const char *path = ext2_name_path (m, w->parent);

      ext2_warn (m, "%s/%.*s: directory inode %u reached twice: "
                 "listed once", path && path[1] ? path : "",
                 (int) len, dirent->name, ino);
    }
    else {
      ext2fs_fast_mark_inode_bitmap2 (w->visited, ino);
      e.list = true;
    }
  }

  if (ext2_byte_vector_reserve (&names->pool, len) == -1 ||
      ext2_name_vector_append (&names->v, e) == -1) {
    w->fatal = true;
    return DIRENT_ABORT;
  }
  memcpy (&names->pool.ptr[names->pool.len], dirent->name, len);
  names->pool.len += len;
  return 0;
}

static int
compare_keys (const uint64_t *a, const uint64_t *b)
{
  return *a < *b ? -1 : *a > *b;
}

int
ext2_collect_names (struct ext2_map *m)
{
  struct ext2_names *names = &m->names;
  ext2_filsys fs = m->fs;
  struct walk w = { .m = m };
  const struct ext2_name root = {
    .ino = EXT2_ROOT_INO, .parent = EXT2_NO_PARENT, .list = true,
  };
  CLEANUP_FREE char *buf = NULL;
  errcode_t err;
  size_t i;
  int r = -1;

  buf = malloc (m->bs);
  err = ext2fs_allocate_inode_bitmap (fs, "visited directories", &w.visited);
  if (buf == NULL || err) {
    ext2_fatal (m, err ? err : ENOMEM, "listing directories");
    goto out;
  }
  if (ext2_name_vector_append (&names->v, root) == -1) {
    ext2_fatal (m, ENOMEM, "listing directories");
    goto out;
  }
  ext2fs_fast_mark_inode_bitmap2 (w.visited, EXT2_ROOT_INO);

  /* Breadth first: entries appended while i moves along. */
  for (i = 0; i < names->v.len; i++) {
    if (!names->v.ptr[i].list)
      continue;
    w.parent = i;
    w.seen = w.skip = 0;
    err = ext2fs_dir_iterate2 (fs, names->v.ptr[i].ino, 0, buf,
                               add_entry, &w);
    if (err && ext2_is_csum_error (err) &&
        !(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS) && !w.fatal) {
      /* Read it again without checksums, past the entries we have. */
      w.skip = w.seen;
      w.seen = 0;
      fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
      err = ext2fs_dir_iterate2 (fs, names->v.ptr[i].ino, 0, buf,
                                 add_entry, &w);
      fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
      if (!w.fatal) {
        const char *path = ext2_name_path (m, i);

        ext2_warn (m, "%s: directory checksum errors ignored",
                   path ? path : "?");
      }
    }
    if (w.fatal) {
      ext2_fatal (m, ENOMEM, "listing directories");
      goto out;
    }
    if (err) {
      const char *path = ext2_name_path (m, i);

      ext2_warn (m, "%s: cannot list the directory: %s",
                 path ? path : "?", ext2_strerror (err));
    }
  }
  if (w.bad_inodes)
    ext2_warn (m, "%" PRIu64 " directory entries with bad inode numbers "
               "skipped", w.bad_inodes);

  /* Sorted by inode, then by discovery: the first name of an inode is
   * the shallowest.
   */
  if (ext2_key_vector_reserve (&names->order, names->v.len) == -1) {
    ext2_fatal (m, ENOMEM, "sorting names");
    goto out;
  }
  for (i = 0; i < names->v.len; i++)
    names->order.ptr[i] = (uint64_t) names->v.ptr[i].ino << 32 | i;
  names->order.len = names->v.len;
  ext2_key_vector_sort (&names->order, compare_keys);
  names->cursor = 0;
  vbm_debug (m->ctx, "%s: %zu names", m->vol->device, names->v.len);
  r = 0;

 out:
  if (w.visited)
    ext2fs_free_inode_bitmap (w.visited);
  return r;
}
