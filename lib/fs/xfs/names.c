/* Names: every directory entry found is kept as (inode, parent,
 * name); sorted by inode once all are read, a file's paths are built
 * by following each name's parent up to the root directory.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

/* Deeper than this is taken for a loop of directories. */
#define MAX_DEPTH 4096

int
xfs_add_name (struct xfs_map *m, uint64_t parent, uint64_t ino,
              const unsigned char *name, unsigned namelen)
{
  struct xfs_name n = { .ino = ino, .parent = parent, .off = m->pool.len,
                        .seq = m->names.len };

  if (namelen > 255)
    namelen = 255;
  /* Offsets and sequence numbers are 32 bits. */
  if (m->pool.len > UINT32_MAX - 256 || m->names.len >= UINT32_MAX) {
    vbm_set_error (m->ctx->err, EFBIG, "%s: too many XFS names",
                   m->vol->device);
    return -1;
  }
  if (xfs_byte_vector_reserve (&m->pool, namelen + 1) == -1 ||
      xfs_name_vector_append (&m->names, n) == -1) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  m->pool.ptr[m->pool.len++] = namelen;
  memcpy (m->pool.ptr + m->pool.len, name, namelen);
  m->pool.len += namelen;
  return 0;
}

static int
compare_name (const struct xfs_name *a, const struct xfs_name *b)
{
  if (a->ino != b->ino)
    return a->ino < b->ino ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void
xfs_sort_names (struct xfs_map *m)
{
  xfs_name_vector_sort (&m->names, compare_name);
}

size_t
xfs_names_of (const struct xfs_map *m, uint64_t ino, size_t *first)
{
  size_t lo = 0, hi = m->names.len, end;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (m->names.ptr[mid].ino < ino)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (end = lo; end < m->names.len && m->names.ptr[end].ino == ino; end++)
    ;
  *first = lo;
  return end - lo;
}

const char *
xfs_name_path (struct xfs_map *m, size_t i, int *fatal)
{
  size_t chain[64], *stack = chain, cap = 64, depth = 0, len = 0, k, pos;
  const char *r = NULL;

  *fatal = 0;
  for (;;) {
    const struct xfs_name *n = &m->names.ptr[i];
    size_t first;

    if (depth == cap) {
      size_t *s;

      if (cap >= MAX_DEPTH)
        goto out;               /* a loop, or absurdly deep */
      s = malloc (2 * cap * sizeof *s);
      if (s == NULL)
        goto oom;
      memcpy (s, stack, depth * sizeof *s);
      if (stack != chain)
        free (stack);
      stack = s;
      cap *= 2;
    }
    stack[depth++] = i;
    len += 1 + m->pool.ptr[n->off];
    if (n->parent == m->sb.rootino)
      break;
    if (xfs_names_of (m, n->parent, &first) == 0)
      goto out;                 /* its directory has no name */
    i = first;
  }
  if (len + 1 > m->path_cap) {
    char *p = realloc (m->path, len + 1);

    if (p == NULL)
      goto oom;
    m->path = p;
    m->path_cap = len + 1;
  }
  for (pos = 0, k = depth; k-- > 0;) {
    const unsigned char *nm = &m->pool.ptr[m->names.ptr[stack[k]].off];

    m->path[pos++] = '/';
    memcpy (m->path + pos, nm + 1, nm[0]);
    pos += nm[0];
  }
  m->path[pos] = '\0';
  r = m->path;
  goto out;

 oom:
  vbm_set_error (m->ctx->err, ENOMEM, "%s: building paths", m->vol->device);
  *fatal = -1;
 out:
  if (stack != chain)
    free (stack);
  return r;
}

void
xfs_free_names (struct xfs_map *m)
{
  xfs_name_vector_reset (&m->names);
  xfs_byte_vector_reset (&m->pool);
  free (m->path);
  m->path = NULL;
  m->path_cap = 0;
}
