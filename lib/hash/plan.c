/* The hash stage's plan: the files of a finished map and their data
 * extents ("pieces"), clipped to each file's size, in disk order.
 *
 * What is hashed is what the file reads as: data extents at their
 * offset, holes and UNWRITTEN extents as zeroes, nothing past the
 * file's size (PAST_EOF extents, the tail of a last block).  A file
 * with a COMPRESSED or ENCRYPTED extent is not hashed: its raw bytes
 * are not its content.  NTFS resident data is read from its extents
 * like any other: the mapper places the bytes an MFT record's update
 * sequence covers on disk in the record's update sequence array.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hash.h"

/* Holes are hashed as zeroes up to this many bytes in all (files in
 * map order), the rest of the files with holes are "too sparse":
 * hashing zeroes costs about a second per GiB, and corrupt sizes could
 * claim 2^63 bytes each.
 */
#define MAX_ZERO_BYTES (64ULL << 30)

#define DATA_SKIPPED (VBM_EXTENT_TREE | VBM_EXTENT_XATTR | VBM_EXTENT_PAST_EOF)

const char *
hash_skip_name (enum hash_skip why)
{
  switch (why) {
  case HASH_OK: return NULL;
  case HASH_COMPRESSED: return "compressed";
  case HASH_ENCRYPTED: return "encrypted";
  case HASH_OVERLAP: return "overlapping extents";
  case HASH_READ_ERROR: return "read error";
  case HASH_TOO_SPARSE: return "too sparse";
  }
  return "unknown";
}

static void
db_error (sqlite3 *db, struct vbm_error *err, const char *what)
{
  vbm_set_error (err, EIO, "hashes: %s: %s", what, sqlite3_errmsg (db));
}

static void
nomem (struct vbm_error *err)
{
  vbm_set_error (err, errno ? errno : ENOMEM, "hashes: %s",
                 strerror (errno ? errno : ENOMEM));
}

/* Regular files (kind f: not symlinks, device nodes, deleted). */
static int
load_files (sqlite3 *db, struct hash_plan *p, int32_t **index,
            size_t *nindex, struct vbm_error *err)
{
  sqlite3_stmt *s = NULL;
  int64_t max_id = 0;
  int r = -1, step;

  if (sqlite3_prepare_v2 (db, "SELECT max(id) FROM objects", -1, &s, NULL)
      != SQLITE_OK || sqlite3_step (s) != SQLITE_ROW) {
    db_error (db, err, "objects");
    goto out;
  }
  max_id = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  s = NULL;
  if (max_id < 0 || max_id >= INT32_MAX) {
    vbm_set_error (err, ERANGE, "hashes: too many objects");
    goto out;
  }
  *nindex = max_id + 1;
  *index = malloc (*nindex * sizeof **index);
  if (*index == NULL) {
    nomem (err);
    goto out;
  }
  memset (*index, 0xff, *nindex * sizeof **index); /* all -1 */
  if (sqlite3_prepare_v2 (db, "SELECT id, size FROM objects"
                          " WHERE kind = 'f' AND (flags & ?) = 0",
                          -1, &s, NULL) != SQLITE_OK) {
    db_error (db, err, "objects");
    goto out;
  }
  sqlite3_bind_int (s, 1, VBM_OBJECT_SYMLINK | VBM_OBJECT_SPECIAL |
                    VBM_OBJECT_DELETED);
  while ((step = sqlite3_step (s)) == SQLITE_ROW) {
    struct hfile f = {
      .id = sqlite3_column_int64 (s, 0),
      .size = sqlite3_column_int64 (s, 1),
      .slot = -1,
    };

    if (f.id <= 0 || f.id > max_id || sqlite3_column_int64 (s, 1) < 0)
      continue;                 /* not written by us: ignore */
    (*index)[f.id] = p->files.len;
    if (hfile_vector_append (&p->files, f) == -1) {
      nomem (err);
      goto out;
    }
  }
  if (step != SQLITE_DONE) {
    db_error (db, err, "objects");
    goto out;
  }
  r = 0;
 out:
  sqlite3_finalize (s);
  return r;
}

static int
load_extents (sqlite3 *db, struct hash_plan *p, const int32_t *index,
              size_t nindex, struct vbm_error *err)
{
  sqlite3_stmt *s;
  int step, r = 0;

  if (sqlite3_prepare_v2 (db, "SELECT object, disk, start, end, offset, flags"
                          " FROM extents", -1, &s, NULL) != SQLITE_OK)
    return db_error (db, err, "extents"), -1;
  while ((step = sqlite3_step (s)) == SQLITE_ROW) {
    int64_t obj = sqlite3_column_int64 (s, 0);
    int64_t start = sqlite3_column_int64 (s, 2);
    int64_t end = sqlite3_column_int64 (s, 3);
    bool no_offset = sqlite3_column_type (s, 4) == SQLITE_NULL;
    int64_t off = sqlite3_column_int64 (s, 4);
    unsigned flags = sqlite3_column_int64 (s, 5);
    struct hfile *f;
    struct piece pc;

    if (obj <= 0 || (uint64_t) obj >= nindex || index[obj] < 0 ||
        start < 0 || end <= start)
      continue;
    f = &p->files.ptr[index[obj]];
    pc = (struct piece) {
      .file = index[obj], .disk = sqlite3_column_int64 (s, 1),
      .start = start, .end = end, .offset = off, .flags = flags,
    };
    if (no_offset || off < 0)
      continue;
    if (flags & DATA_SKIPPED)
      continue;
    if (flags & VBM_EXTENT_COMPRESSED)
      f->skip = HASH_COMPRESSED;
    if (flags & VBM_EXTENT_ENCRYPTED)
      f->skip = HASH_ENCRYPTED;
    if ((uint64_t) off >= f->size)
      continue;
    if (f->size - off < pc.end - pc.start)
      pc.end = pc.start + (f->size - off);
    if (piece_vector_append (&p->pieces, pc) == -1)
      goto nomem;
  }
  if (step != SQLITE_DONE) {
    db_error (db, err, "extents");
    r = -1;
  }
  sqlite3_finalize (s);
  return r;

 nomem:
  nomem (err);
  sqlite3_finalize (s);
  return -1;
}

static int
by_disk_start (const struct piece *a, const struct piece *b)
{
  if (a->disk != b->disk)
    return a->disk < b->disk ? -1 : 1;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  return 0;
}

/* Ties (copies of a range) in disk order: the choice is repeatable. */
int
hash_piece_by_file_offset (const struct piece *a, const struct piece *b)
{
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->offset != b->offset)
    return a->offset < b->offset ? -1 : 1;
  return by_disk_start (a, b);
}

/* Whether the holes of f (size minus data bytes) fit what is left of
 * the budget of zeroes.
 */
static bool
zeroes_fit (const struct hfile *f, uint64_t data, uint64_t *budget)
{
  uint64_t holes = f->size > data ? f->size - data : 0;

  if (holes > *budget)
    return false;
  *budget -= holes;
  return true;
}

/* A piece dropped from the plan. */
#define PIECE_DROPPED 0x80000000U

/* Per file, in file order: copies, overlaps, the pieces to wait for,
 * holes.  A range given twice with the same offset and length is a
 * copy (the other leg of a mirrored or RAID1 LV): the first on the
 * disks is read.  Any other overlap is corrupt metadata: the file is
 * not hashed.  Pieces of files that will not be hashed are dropped.
 */
static void
check_files (struct hash_plan *p)
{
  uint64_t budget = MAX_ZERO_BYTES, data = 0;
  size_t i, n = 0;

  piece_vector_sort (&p->pieces, hash_piece_by_file_offset);
  for (i = 0; i < p->pieces.len; ++i) {
    struct piece *pc = &p->pieces.ptr[i];
    struct hfile *f = &p->files.ptr[pc->file];
    const struct piece *prev = i > 0 ? &p->pieces.ptr[i - 1] : NULL;

    if (prev == NULL || pc->file != prev->file) {
      f->next = 0;
      data = 0;
      prev = NULL;
    }
    /* Copies follow the piece kept, each of them dropped. */
    if (prev && pc->offset < f->next && prev->offset == pc->offset &&
        prev->end - prev->start == pc->end - pc->start)
      pc->flags |= PIECE_DROPPED;
    else {
      if (pc->offset < f->next && f->skip == HASH_OK)
        f->skip = HASH_OVERLAP;
      f->next = pc->offset + (pc->end - pc->start);
      f->pieces_left++;
      data += pc->end - pc->start;
    }
    if ((i + 1 == p->pieces.len || p->pieces.ptr[i + 1].file != pc->file) &&
        f->skip == HASH_OK && !zeroes_fit (f, data, &budget))
      f->skip = HASH_TOO_SPARSE;
  }
  for (i = 0; i < p->files.len; ++i) {
    struct hfile *f = &p->files.ptr[i];

    f->next = 0;
    if (f->pieces_left == 0 && f->skip == HASH_OK &&
        !zeroes_fit (f, 0, &budget))
      f->skip = HASH_TOO_SPARSE;
  }
  for (i = 0; i < p->pieces.len; ++i)
    if (p->files.ptr[p->pieces.ptr[i].file].skip == HASH_OK &&
        !(p->pieces.ptr[i].flags & PIECE_DROPPED))
      p->pieces.ptr[n++] = p->pieces.ptr[i];
  p->pieces.len = n;
}

/* In disk order, a file whose offsets go back is read again in file
 * order by the second pass.
 */
static void
check_order (struct hash_plan *p)
{
  size_t i;

  piece_vector_sort (&p->pieces, by_disk_start);
  p->read_bytes = 0;
  for (i = 0; i < p->pieces.len; ++i) {
    struct piece *pc = &p->pieces.ptr[i];
    struct hfile *f = &p->files.ptr[pc->file];

    if (pc->offset < f->next)
      f->second_pass = true;
    f->next = pc->offset + (pc->end - pc->start);
    if (!(pc->flags & VBM_EXTENT_UNWRITTEN))
      p->read_bytes += pc->end - pc->start;
  }
  for (i = 0; i < p->files.len; ++i)
    p->files.ptr[i].next = 0;
}

int
hash_plan_load (struct hash_plan *p, const char *map_path,
                struct vbm_error *err)
{
  sqlite3 *db = NULL;
  int32_t *index = NULL;
  size_t nindex = 0;
  int r = -1;

  *p = (struct hash_plan) { .files = empty_vector };
  if (sqlite3_open_v2 (map_path, &db, SQLITE_OPEN_READONLY, NULL)
      != SQLITE_OK) {
    db_error (db, err, map_path);
    goto out;
  }
  errno = 0;
  if (load_files (db, p, &index, &nindex, err) == -1 ||
      load_extents (db, p, index, nindex, err) == -1)
    goto out;
  check_files (p);
  check_order (p);
  r = 0;
 out:
  free (index);
  sqlite3_close (db);
  if (r == -1)
    hash_plan_free (p);
  return r;
}

void
hash_plan_free (struct hash_plan *p)
{
  free (p->files.ptr);
  free (p->pieces.ptr);
  *p = (struct hash_plan) { .files = empty_vector };
}
