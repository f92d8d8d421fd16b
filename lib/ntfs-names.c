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

#include "ntfs-map.h"

#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>

#define NAME_BUF 1024

struct walk {
  struct ntfs_map *m;
  const char *dirpath;
  size_t dirlen;                /* 0 for the root: its children are "/x" */
  uint64_t max_names;
  uint64_t bad_names;
  bool full;                    /* max_names reached */
  bool fatal;
};

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
  path = malloc (w->dirlen + 1 + len + 1);
  if (path == NULL) {
    w->fatal = true;
    return -1;
  }
  memcpy (path, w->dirpath, w->dirlen);
  path[w->dirlen] = '/';
  memcpy (path + w->dirlen + 1, name, len + 1);
  n.mref = mref;
  n.path = path;
  n.order = m->names.len;
  n.dir = dt_type == NTFS_DT_DIR;
  if (ntfs_name_vector_append (&m->names, n) == -1) {
    free (path);
    w->fatal = true;
    return -1;
  }
  return 0;
}

static int
compare_names (const struct ntfs_name *a, const struct ntfs_name *b)
{
  uint64_t x = MREF (a->mref), y = MREF (b->mref);

  if (x != y)
    return x < y ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
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
  /* A record holds a few names; hard links are bounded by 1024. */
  w.max_names = 8 * nrecords + 1024;
  root.mref = FILE_root;
  root.path = strdup ("/");
  root.order = 0;
  root.dir = true;
  if (listed == NULL || root.path == NULL ||
      ntfs_name_vector_append (&m->names, root) == -1) {
    free (root.path);
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
  ntfs_name_vector_sort (&m->names, compare_names);
  return 0;
}

void
ntfs_free_names (struct ntfs_map *m)
{
  size_t i;

  for (i = 0; i < m->names.len; i++)
    free (m->names.ptr[i].path);
  ntfs_name_vector_reset (&m->names);
}
