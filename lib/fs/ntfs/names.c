/* NTFS names: a breadth-first walk of the directories from the root
 * with ntfs_readdir, iterative, each directory listed once (so loops
 * and hard-linked directories end), the number of names bounded.
 * DOS (8.3) names are aliases of Win32 names and are skipped.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ntfs-map.h"

#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>

#define NAME_BUF 1024
#define NAME_BLOCK (64 * 1024)
#define NAME_RESERVE (1024 * 1024)  /* names reserved at first */

struct walk {
  struct ntfs_map *m;
  const char *dirpath;
  size_t dirlen;                /* 0 for the root: its children are "/x" */
  uint64_t max_names;
  uint64_t bad_names;
  bool full;                    /* max_names reached */
  bool fatal;
};

/* len bytes for a path, from the current block or a new one. */
static char *
alloc_path (struct ntfs_map *m, size_t len)
{
  char *block;
  size_t size;

  if (len > m->name_left) {
    size = len > NAME_BLOCK ? len : NAME_BLOCK;
    block = malloc (size);
    if (block == NULL)
      return NULL;
    if (ntfs_block_vector_append (&m->name_blocks, block) == -1) {
      free (block);
      return NULL;
    }
    m->name_free = block;
    m->name_left = size;
  }
  block = m->name_free;
  m->name_free += len;
  m->name_left -= len;
  return block;
}

static int
filldir (void *opaque, const ntfschar *uname, const int uname_len,
         const int name_type, const s64 pos, const MFT_REF mref,
         const unsigned dt_type)
{
  struct walk *w = opaque;
  struct ntfs_map *m = w->m;
  /* A name is at most 255 UTF-16 units: 3 bytes of UTF-8 each. */
  char buf[NAME_BUF], *name = buf, *path;
  struct ntfs_name n;
  size_t len;

  (void) pos;
  if (name_type == FILE_NAME_DOS)
    return 0;
  /* Into buf: no allocation per name. */
  if (ntfs_ucstombs (uname, uname_len, &name, sizeof buf) < 0) {
    w->bad_names++;
    return 0;
  }
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 ||
      strchr (name, '/') != NULL || name[0] == '\0') {
    if (name[0] != '.')
      w->bad_names++;
    return 0;
  }
  if (m->names.len >= w->max_names) {
    w->full = true;
    return -1;                  /* stops ntfs_readdir */
  }
  len = strlen (name);
  path = alloc_path (m, w->dirlen + 1 + len + 1);
  if (path == NULL) {
    w->fatal = true;
    return -1;
  }
  memcpy (path, w->dirpath, w->dirlen);
  path[w->dirlen] = '/';
  memcpy (path + w->dirlen + 1, name, len + 1);
  n.mref = mref;
  n.path = path;
  n.dir = dt_type == NTFS_DT_DIR;
  if (ntfs_name_vector_append (&m->names, n) == -1) {
    w->fatal = true;
    return -1;
  }
  return 0;
}

/* Orders name indexes by record, then index (discovery order). */
static int
compare_indexes (const void *pa, const void *pb, void *names)
{
  const struct ntfs_name *v = names;
  uint32_t a = *(const uint32_t *) pa, b = *(const uint32_t *) pb;
  uint64_t x = MREF (v[a].mref), y = MREF (v[b].mref);

  if (x != y)
    return x < y ? -1 : 1;
  return a < b ? -1 : a > b;
}

/* Fills m->order: the indexes of the names by record, then discovery
 * order.  A counting sort, the records being bounded by nrecords;
 * names of records past it (corrupt entries, few) are sorted apart.
 * When the records far outnumber the names (a huge, mostly empty
 * MFT), a comparison sort, so that memory stays bounded by the names.
 * Indexes, not names, are moved: a few bytes each.
 */
static int
sort_names (struct ntfs_map *m, uint64_t nrecords)
{
  const size_t len = m->names.len;
  CLEANUP_FREE uint32_t *start = NULL;
  uint32_t *order;
  size_t i, from;
  uint32_t sum;

  if (ntfs_index_vector_reserve (&m->order, len) == -1)
    return -1;
  order = m->order.ptr;
  m->order.len = len;
  if (nrecords > 4 * (uint64_t) len + 1024) {
    for (i = 0; i < len; i++)
      order[i] = i;
    from = 0;
  }
  else {
    start = calloc (nrecords + 2, sizeof *start);
    if (start == NULL)
      return -1;
    /* start[b + 1] counts bucket b; bucket nrecords is "past". */
    for (i = 0; i < len; i++) {
      uint64_t no = MREF (m->names.ptr[i].mref);

      start[(no < nrecords ? no : nrecords) + 1]++;
    }
    for (sum = 0, i = 0; i <= nrecords + 1; i++) {
      sum += start[i];
      start[i] = sum;
    }
    for (i = 0; i < len; i++) {
      uint64_t no = MREF (m->names.ptr[i].mref);

      order[start[no < nrecords ? no : nrecords]++] = i;
    }
    /* start[nrecords - 1] is now where bucket nrecords begins. */
    from = nrecords ? start[nrecords - 1] : 0;
  }
  qsort_r (&order[from], len - from, sizeof *order, compare_indexes,
           m->names.ptr);
  return 0;
}

int
ntfs_collect_names (struct ntfs_map *m)
{
  ntfs_volume *nv = m->nv;
  uint64_t nrecords = nv->mft_na->initialized_size >> nv->mft_record_size_bits;
  uint64_t max_records = m->tracked * m->cs / nv->mft_record_size + 1;
  struct walk w = { .m = m };
  uint8_t *listed;
  struct ntfs_name root;
  size_t i;

  /* Records past the volume cannot be read: bound the bitmap by it. */
  if (nrecords > max_records)
    nrecords = max_records;
  listed = calloc (nrecords / 8 + 1, 1);
  /* A record holds a few names; hard links are bounded by 1024.
   * Indexes of names are 32 bits.
   */
  w.max_names = 8 * nrecords + 1024;
  if (w.max_names > UINT32_MAX)
    w.max_names = UINT32_MAX;
  /* No copying as the vector grows, for most volumes: pages reserved
   * but not used cost nothing.
   */
  if (ntfs_name_vector_reserve (&m->names, MIN (nrecords + 1024,
                                                 NAME_RESERVE)) == -1) {
    free (listed);
    vbm_set_error (m->ctx->err, ENOMEM, "%s: collecting names",
                   m->vol->device);
    return -1;
  }
  root.mref = FILE_root;
  root.path = alloc_path (m, 2);
  if (root.path)
    strcpy (root.path, "/");
  root.dir = true;
  if (listed == NULL || root.path == NULL ||
      ntfs_name_vector_append (&m->names, root) == -1) {
    free (listed);
    vbm_set_error (m->ctx->err, ENOMEM, "%s: collecting names",
                   m->vol->device);
    return -1;
  }

  /* The vector is the queue: entries after i are still to visit. */
  for (i = 0; i < m->names.len && !w.full; i++) {
    const uint64_t no = MREF (m->names.ptr[i].mref);
    ntfs_inode *ni;
    s64 pos = 0;

    /* The index entry says whether it is a directory: only those are
     * opened here (the record itself is checked too).
     */
    if (!m->names.ptr[i].dir || no >= nrecords ||
        (listed[no / 8] & (1u << (no % 8))))
      continue;
    ni = ntfs_inode_open (nv, m->names.ptr[i].mref);
    if (ni == NULL)
      continue;                 /* reported when mapping the files */
    if (!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
      ntfs_inode_close (ni);
      continue;
    }
    listed[no / 8] |= 1u << (no % 8);
    w.dirpath = m->names.ptr[i].path;
    w.dirlen = strcmp (w.dirpath, "/") == 0 ? 0 : strlen (w.dirpath);
    if (ntfs_readdir (ni, &pos, &w, filldir) == -1 && !w.full && !w.fatal)
      ntfs_warn (m, "%s: cannot read the directory: %s", w.dirpath,
                 strerror (errno));
    ntfs_inode_close (ni);
    if (w.fatal) {
      free (listed);
      vbm_set_error (m->ctx->err, ENOMEM, "%s: collecting names",
                     m->vol->device);
      return -1;
    }
  }
  free (listed);
  if (w.full)
    ntfs_warn (m, "more than %" PRIu64 " names: directory walk stopped",
               w.max_names);
  if (w.bad_names)
    ntfs_warn (m, "%" PRIu64 " unusable names skipped", w.bad_names);
  if (sort_names (m, nrecords) == -1) {
    vbm_set_error (m->ctx->err, ENOMEM, "%s: sorting names", m->vol->device);
    return -1;
  }
  return 0;
}

void
ntfs_free_names (struct ntfs_map *m)
{
  size_t i;

  for (i = 0; i < m->name_blocks.len; i++)
    free (m->name_blocks.ptr[i]);
  ntfs_block_vector_reset (&m->name_blocks);
  ntfs_index_vector_reset (&m->order);
  m->name_free = NULL;
  m->name_left = 0;
  ntfs_name_vector_reset (&m->names);
}
