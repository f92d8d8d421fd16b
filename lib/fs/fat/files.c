/* Files and directories: libtsk's recursive directory walk, each live
 * name with the cluster runs of its chain and their offsets in the
 * file.  Deleted regular files are mapped as deleted objects at their
 * former clusters: from the first cluster of their entry, contiguous
 * for their size, as libtsk assumes (their chain is gone).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fat-map.h"

struct walk {
  struct fat_map *m;
  char *path;                   /* "/dir/file", grown as needed */
  size_t cap;
  bool failed;                  /* fatal: ctx->err set */
};

static bool
ends_with (const char *s, const char *tail)
{
  size_t n = strlen (s), k = strlen (tail);

  return n >= k && strcmp (s + n - k, tail) == 0;
}

static bool
no_times (const TSK_FS_META *meta)
{
  return meta->mtime == 0 && meta->atime == 0 && meta->crtime == 0;
}

/* First sector of the file's first run, or 0. */
static uint64_t
first_sector (const TSK_FS_ATTR *a)
{
  return a && (a->flags & TSK_FS_ATTR_NONRES) && a->nrd.run
    ? a->nrd.run->addr : 0;
}

/* Entries of the root directory that libtsk shows as files but are
 * not: FAT's volume label; exFAT's label, GUID, bitmap, up-case table
 * and TexFAT/ACT entries (libtsk names them "$ALLOC_BITMAP"...: a real
 * file could be called so, but would have times, and its own
 * clusters).
 */
static bool
special_entry (struct fat_map *m, TSK_FS_FILE *f)
{
  const char *name = f->name->name;

  if (ends_with (name, " (Volume Label Entry)") &&
      (f->name->shrt_name == NULL || f->name->shrt_name[0] == '\0') &&
      f->meta->size == 0)
    return true;
  if (m->l.type != EXFAT || name[0] != '$' || !no_times (f->meta))
    return false;
  if (strcmp (name, "$ALLOC_BITMAP") == 0 ||
      strcmp (name, "$UPCASE_TABLE") == 0) {
    const TSK_FS_ATTR *a = tsk_fs_file_attr_get (f);
    bool bitmap = name[1] == 'A';
    uint32_t c = bitmap ? m->bitmap_cluster : m->upcase_cluster;

    tsk_error_reset ();
    if (c >= 2 && first_sector (a) == fat_cluster_sector (m, c))
      return true;
    vbm_fsmap_warn (m->fm, "libtsk's %s is not where the root directory "
                    "entry says (sector %" PRIu64 ")", name,
                    c >= 2 ? fat_cluster_sector (m, c) : 0);
    return true;
  }
  return strcmp (name, "$VOLUME_GUID") == 0 ||
    strcmp (name, "$TEX_FAT") == 0 ||
    strcmp (name, "$ACCESS_CONTROL_TABLE") == 0 ||
    strcmp (name, "$EMPTY_VOLUME_LABEL") == 0 ||
    ends_with (name, " (Volume Label Entry)");
}

/* Maps the runs of f's data to object obj.  Runs must start on a
 * cluster of the heap; libtsk gives them in sectors.
 */
static int
map_runs (struct fat_map *m, TSK_FS_FILE *f, int64_t obj, const char *path,
          bool is_dir, bool deleted)
{
  const uint64_t spc = m->l.spc, bps = m->l.bps;
  const uint64_t cs = spc * bps;
  const TSK_FS_ATTR *a;
  const TSK_FS_ATTR_RUN *r;
  uint64_t size = f->meta->size, mapped = 0, want, bad = 0;

  tsk_error_reset ();
  a = tsk_fs_file_attr_get (f);
  if (a == NULL) {
    if (size > 0 && !deleted)
      vbm_fsmap_warn (m->fm, "%s: no cluster chain: %s", path,
                      tsk_error_get () ? tsk_error_get () : "libtsk error");
    tsk_error_reset ();
    return 0;
  }
  if (!(a->flags & TSK_FS_ATTR_NONRES))
    return 0;
  if (!is_dir)
    vbm_fsmap_stream (m->fm, size, size);
  for (r = a->nrd.run; r; r = r->next) {
    uint64_t c, n;
    int64_t got;

    if (r->flags & (TSK_FS_ATTR_RUN_FLAG_FILLER | TSK_FS_ATTR_RUN_FLAG_SPARSE)
        || r->len == 0)
      continue;
    if (r->addr < m->l.heap_start ||
        (r->addr - m->l.heap_start) % spc != 0 || r->len % spc != 0) {
      bad += r->len / spc + (r->len % spc != 0);
      continue;
    }
    c = (r->addr - m->l.heap_start) / spc;
    n = r->len / spc;
    got = deleted
      ? vbm_fsmap_former (m->fm, obj, c, n, (int64_t) (r->offset * bps))
      : vbm_fsmap_units (m->fm, obj, c, n, (int64_t) (r->offset * bps), 0);
    if (got == -1)
      return -1;
    mapped += n;
  }
  vbm_fsmap_end_stream (m->fm);
  if (bad && !deleted)
    vbm_fsmap_warn (m->fm, "%s: %" PRIu64 " cluster(s) outside the cluster "
                    "heap (not mapped)", path, bad);
  want = size / cs + (size % cs != 0);
  /* A deleted file's clusters stop where libtsk found them reused. */
  if (!is_dir && !deleted && mapped < want)
    vbm_fsmap_warn (m->fm, "%s: its cluster chain covers %" PRIu64 " of its %"
                    PRIu64 " cluster(s) (broken or looping chain)", path,
                    mapped, want);
  vbm_fsmap_end_object (m->fm, path);
  return 0;
}

static int
map_file (struct fat_map *m, TSK_FS_FILE *f, const char *path)
{
  bool is_dir = f->meta->type == TSK_FS_META_TYPE_DIR;
  int64_t obj;

  obj = vbm_fsmap_object (m->fm, is_dir ? VBM_KIND_DIRECTORY : VBM_KIND_FILE,
                          path, f->name ? f->name->meta_addr : f->meta->addr,
                          f->meta->size, 0);
  if (obj == -1)
    return -1;
  if (m->ctx->stats) {
    if (is_dir)
      m->ctx->stats->directories++;
    else
      m->ctx->stats->files++;
  }
  return map_runs (m, f, obj, path, is_dir, false);
}

/* A deleted regular file: "<deleted>/dir/name" at its former clusters,
 * counted nowhere.
 */
static int
map_deleted (struct fat_map *m, TSK_FS_FILE *f, const char *path)
{
  int64_t obj;

  obj = vbm_fsmap_object (m->fm, VBM_KIND_FILE, path, f->name->meta_addr,
                          f->meta->size, VBM_OBJECT_DELETED);
  if (obj == -1)
    return -1;
  return map_runs (m, f, obj, path, false, true);
}

static TSK_WALK_RET_ENUM
visit (TSK_FS_FILE *f, const char *parent, void *opaque)
{
  struct walk *w = opaque;
  struct fat_map *m = w->m;
  const char *name;
  size_t need;

  bool deleted;

  if (f->name == NULL)
    return TSK_WALK_CONT;
  /* Of the deleted names, regular files with data only. */
  deleted = !(f->name->flags & TSK_FS_NAME_FLAG_ALLOC);
  if (deleted &&
      (f->name->type != TSK_FS_NAME_TYPE_REG || f->meta == NULL ||
       f->meta->type != TSK_FS_META_TYPE_REG || f->meta->size == 0))
    return TSK_WALK_CONT;
  name = f->name->name;
  if (parent[0] == '\0' && f->name->type == TSK_FS_NAME_TYPE_VIRT &&
      strncmp (name, "$FAT", 4) == 0 && (name[4] == '1' || name[4] == '2') &&
      name[5] == '\0')
    m->fat_inum[name[4] - '1'] = f->name->meta_addr;
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 ||
      f->name->type == TSK_FS_NAME_TYPE_VIRT ||
      f->name->type == TSK_FS_NAME_TYPE_VIRT_DIR)
    return TSK_WALK_CONT;
  if (f->meta == NULL) {
    vbm_fsmap_warn (m->fm, "/%s%s: no directory entry data (not mapped)",
                    parent, name);
    return TSK_WALK_CONT;
  }
  if (!deleted && parent[0] == '\0' && special_entry (m, f))
    return TSK_WALK_CONT;

  need = strlen (parent) + strlen (name) + sizeof "<deleted>/";
  if (need > w->cap) {
    char *p = realloc (w->path, need * 2);

    if (p == NULL) {
      vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                     strerror (errno));
      w->failed = true;
      return TSK_WALK_ERROR;
    }
    w->path = p;
    w->cap = need * 2;
  }
  /* libtsk's parent path is relative with a trailing slash. */
  strcpy (w->path, deleted ? "<deleted>/" : "/");
  strcat (w->path, parent);
  strcat (w->path, name);
  if ((deleted ? map_deleted (m, f, w->path)
       : map_file (m, f, w->path)) == -1) {
    w->failed = true;
    return TSK_WALK_ERROR;
  }
  return TSK_WALK_CONT;
}

/* The root directory: a cluster chain on FAT32 and exFAT (FAT12/16's
 * fixed region is metadata, see meta.c).
 */
static int
map_root (struct fat_map *m)
{
  TSK_FS_FILE *f;
  int r;

  if (m->l.type != FAT32 && m->l.type != EXFAT)
    return 0;
  tsk_error_reset ();
  f = tsk_fs_file_open_meta (m->fs, NULL, m->fs->root_inum);
  if (f == NULL || f->meta == NULL) {
    vbm_fsmap_warn (m->fm, "cannot read the root directory: %s",
                    tsk_error_get () ? tsk_error_get () : "libtsk error");
    tsk_error_reset ();
    tsk_fs_file_close (f);
    return 0;
  }
  r = map_file (m, f, "/");
  tsk_fs_file_close (f);
  return r;
}

int
fat_map_files (struct fat_map *m)
{
  struct walk w = { .m = m };
  uint8_t r;

  if (map_root (m) == -1)
    return -1;
  tsk_error_reset ();
  r = tsk_fs_dir_walk (m->fs, m->fs->root_inum,
                       TSK_FS_DIR_WALK_FLAG_ALLOC |
                       TSK_FS_DIR_WALK_FLAG_UNALLOC |
                       TSK_FS_DIR_WALK_FLAG_RECURSE |
                       TSK_FS_DIR_WALK_FLAG_NOORPHAN, visit, &w);
  free (w.path);
  if (w.failed)
    return -1;
  if (r)
    vbm_fsmap_warn (m->fm, "directory walk stopped: %s (partial map)",
                    tsk_error_get () ? tsk_error_get () : "libtsk error");
  tsk_error_reset ();
  return 0;
}
