/* Names: every directory entry found is kept as (inode, parent,
 * name); sorted by inode once all are read, a file's paths are built
 * by following each name's parent up to the root directory.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lower-bound.h"
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

/* The index of ino's first name; false if it has none. */
static bool
first_name (const struct xfs_map *m, uint64_t ino, size_t *first)
{
  size_t lo = LOWER_BOUND (i, m->names.len, m->names.ptr[i].ino < ino);

  *first = lo;
  return lo < m->names.len && m->names.ptr[lo].ino == ino;
}

size_t
xfs_names_of (const struct xfs_map *m, uint64_t ino, size_t *first)
{
  size_t end;

  if (!first_name (m, ino, first))
    return 0;
  for (end = *first; end < m->names.len && m->names.ptr[end].ino == ino;
       end++)
    ;
  return end - *first;
}

/* Whether the directories above name i lead to the root.  Each
 * directory's verdict is kept (in the state of its first name), so
 * that a loop or an orphaned subtree costs its length once, not once
 * per file below it.
 */
enum { UNKNOWN, ON_CHAIN, REACHABLE, DEAD };

static int
reachable (struct xfs_map *m, size_t i)
{
  size_t chain[64], *stack = chain, cap = 64, depth = 0, k, p;
  unsigned char verdict = DEAD;
  int r = -1;

  if (m->name_state == NULL) {
    m->name_state = calloc (m->names.len ? m->names.len : 1, 1);
    if (m->name_state == NULL)
      return -1;
  }
  for (;;) {
    const struct xfs_name *n = &m->names.ptr[i];

    if (n->parent == m->sb.rootino) {
      verdict = REACHABLE;
      break;
    }
    if (!first_name (m, n->parent, &p))
      break;                    /* its directory has no name */
    if (m->name_state[p] == REACHABLE || m->name_state[p] == DEAD) {
      verdict = m->name_state[p];
      break;
    }
    if (m->name_state[p] == ON_CHAIN)
      break;                    /* a loop */
    if (depth == cap) {
      size_t *s;

      if (cap >= MAX_DEPTH)
        break;                  /* absurdly deep: taken for a loop */
      s = malloc (2 * cap * sizeof *s);
      if (s == NULL)
        goto out;
      memcpy (s, stack, depth * sizeof *s);
      if (stack != chain)
        free (stack);
      stack = s;
      cap *= 2;
    }
    m->name_state[p] = ON_CHAIN;
    stack[depth++] = p;
    i = p;
  }
  for (k = 0; k < depth; k++)
    m->name_state[stack[k]] = verdict;
  r = verdict == REACHABLE;
 out:
  if (stack != chain)
    free (stack);
  return r;
}

const char *
xfs_name_path (struct xfs_map *m, size_t i, int *fatal)
{
  size_t chain[64], *stack = chain, cap = 64, depth = 0, len = 0, k, pos;
  const char *r = NULL;

  *fatal = 0;
  switch (reachable (m, i)) {
  case -1: goto oom;
  case 0: return NULL;
  }
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
    if (!first_name (m, n->parent, &first))
      goto out;                 /* cannot be: reachable () said so */
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
  free (m->name_state);
  m->name_state = NULL;
  free (m->path);
  m->path = NULL;
  m->path_cap = 0;
}
