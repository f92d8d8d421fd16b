/* Paths: a file's names come from its INODE_REF and INODE_EXTREF
 * items (parent directory, name), kept in walk order, which is (fs
 * tree, inode) order.  A path follows each name's parent up to its
 * subvolume's top directory, then the subvolume's own place (its
 * ROOT_BACKREF: parent subvolume, directory there, name) up to the
 * top-level subvolume: /@home/user/x.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"
#include "lower-bound.h"

/* Deeper than this is taken for a loop of directories. */
#define MAX_DEPTH 4096

size_t
bt_names_of (const struct btrfs_map *m, uint32_t sv, uint64_t ino,
             size_t *first)
{
  const struct bt_name *n = m->names.ptr;
  size_t lo, end;

  lo = LOWER_BOUND (i, m->names.len,
                    n[i].sv < sv || (n[i].sv == sv && n[i].ino < ino));
  *first = lo;
  for (end = lo; end < m->names.len && m->names.ptr[end].sv == sv &&
         m->names.ptr[end].ino == ino; end++)
    ;
  return end - lo;
}

static int
grow (struct btrfs_map *m, size_t need)
{
  char *p;

  if (need <= m->path_cap)
    return 0;
  p = realloc (m->path, need);
  if (p == NULL)
    return bt_nomem (m);
  m->path = p;
  m->path_cap = need;
  return 0;
}

/* Writes prefix, then the names from name i up to the top directory
 * of i's subvolume, into m->path.  1 if it leads nowhere.
 */
static int
build (struct btrfs_map *m, const char *prefix, size_t i)
{
  const struct bt_subvol *s = &m->subvols.ptr[m->names.ptr[i].sv];
  size_t chain[64], *big = NULL, *v = chain, n = 0, cap = 64, len, k;
  size_t plen = strlen (prefix);
  int r = 1;

  /* The chain of names, file first. */
  for (;;) {
    const struct bt_name *nm = &m->names.ptr[i];
    size_t first;

    if (n == cap) {
      size_t *nv;

      if (cap >= MAX_DEPTH)
        goto out;
      cap *= 2;
      nv = realloc (big, cap * sizeof *nv);
      if (nv == NULL) {
        r = bt_nomem (m);
        goto out;
      }
      if (big == NULL)
        memcpy (nv, chain, sizeof chain);
      v = big = nv;
    }
    v[n++] = i;
    if (nm->parent == s->root_dirid)
      break;
    if (bt_names_of (m, nm->sv, nm->parent, &first) == 0)
      goto out;
    i = first;
  }
  len = plen + 1;
  for (k = 0; k < n; k++)
    len += 1 + m->names.ptr[v[k]].len;
  if (grow (m, len) == -1) {
    r = -1;
    goto out;
  }
  memcpy (m->path, prefix, plen);
  len = plen;
  for (k = n; k-- > 0;) {
    const struct bt_name *nm = &m->names.ptr[v[k]];

    m->path[len++] = '/';
    memcpy (m->path + len, m->pool.ptr + nm->off, nm->len);
    len += nm->len;
  }
  m->path[len] = '\0';
  r = 0;
 out:
  free (big);
  return r;
}

static int
find_subvol (const struct btrfs_map *m, uint64_t id, uint32_t *sv)
{
  size_t lo = LOWER_BOUND (i, m->subvols.len, m->subvols.ptr[i].id < id);

  if (lo < m->subvols.len && m->subvols.ptr[lo].id == id &&
      m->subvols.ptr[lo].fs) {
    *sv = lo;
    return 0;
  }
  return 1;
}

const char *
bt_subvol_path (struct btrfs_map *m, uint32_t sv, int *fatal)
{
  struct bt_subvol *s = &m->subvols.ptr[sv];
  const struct bt_subvol *ps;
  const char *pp;
  uint32_t p;
  size_t first, len;
  char *out;

  *fatal = 0;
  if (s->state == 2)
    return s->path;
  if (s->id == BT_FS_TREE) {
    s->path = strdup ("");
    if (s->path == NULL)
      *fatal = bt_nomem (m);
    s->state = 2;
    return s->path;
  }
  /* Building it already: a loop of subvolumes. */
  if (s->state == 1 || !s->has_backref || find_subvol (m, s->parent, &p)) {
    s->state = 2;
    return NULL;
  }
  s->state = 1;
  pp = bt_subvol_path (m, p, fatal);
  s->state = 2;
  if (pp == NULL)
    return NULL;
  ps = &m->subvols.ptr[p];
  if (s->dirid == ps->root_dirid) {
    if (grow (m, strlen (pp) + 1) == -1) {
      *fatal = -1;
      return NULL;
    }
    strcpy (m->path, pp);
  }
  else {
    int r;

    if (bt_names_of (m, p, s->dirid, &first) == 0)
      return NULL;
    r = build (m, pp, first);
    if (r) {
      *fatal = r == -1 ? -1 : 0;
      return NULL;
    }
  }
  len = strlen (m->path);
  out = malloc (len + 1 + s->name_len + 1);
  if (out == NULL) {
    *fatal = bt_nomem (m);
    return NULL;
  }
  memcpy (out, m->path, len);
  out[len] = '/';
  memcpy (out + len + 1, m->pool.ptr + s->name_off, s->name_len);
  out[len + 1 + s->name_len] = '\0';
  s->path = out;
  return out;
}

const char *
bt_name_path (struct btrfs_map *m, size_t i, int *fatal)
{
  /* The subvolume's path is its own string, not m->path. */
  const char *prefix = bt_subvol_path (m, m->names.ptr[i].sv, fatal);
  int r;

  if (prefix == NULL)
    return NULL;
  r = build (m, prefix, i);
  if (r) {
    *fatal = r == -1 ? -1 : 0;
    return NULL;
  }
  return m->path;
}
