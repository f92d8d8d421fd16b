/* The hash stage: every file of a finished map hashed from the map's
 * own extents, the disks read once in disk order.
 *
 * The plan's pieces (plan.c) are walked sorted by disk offset, read in
 * chunks of up to CHUNK bytes (through gaps smaller than GAP: a seek
 * costs more than reading them), and each piece is fed to its file's
 * digests.  A digest is sequential in file order, so a file is hashed
 * in this pass only if its pieces come in file order on the disk (the
 * holes between them are fed as zeroes); a file whose pieces go back
 * (fragmented out of order), or one found while MAX_OPEN files are
 * half-hashed, is left to a second pass that reads it alone, in file
 * order.  Memory stays bounded (MAX_OPEN sets of digest states, one
 * chunk) whatever the layout; the second pass's share is in -v's
 * summary.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "hash.h"

#define CHUNK (4U << 20)
#define GAP (256U << 10)
#ifndef MAX_OPEN                /* the unit test makes it small */
#define MAX_OPEN 16384
#endif
/* Read errors reported one by one; then a count. */
#define MAX_READ_WARNINGS 10

const struct hash_algo hash_algos[VBM_NR_HASHES] = {
  { VBM_HASH_MD5, GNUTLS_DIG_MD5, 16, 0, "md5" },
  { VBM_HASH_SHA1, GNUTLS_DIG_SHA1, 20, 16, "sha1" },
  { VBM_HASH_SHA256, GNUTLS_DIG_SHA256, 32, 36, "sha256" },
};

static const unsigned char zeroes[64 << 10];

void
hash_warn (struct hash_ctx *hc, const char *fs, ...)
{
  char *msg;
  va_list args;
  int r;

  va_start (args, fs);
  r = vasprintf (&msg, fs, args);
  va_end (args);
  if (r == -1)
    return;
  if (hc->opts && hc->opts->warning)
    hc->opts->warning (hc->opts->warning_opaque, msg);
  if (warning_vector_append (&hc->warnings, msg) == -1)
    free (msg);
}

struct run {
  struct hash_plan *p;
  struct hash_ctx *hc;
  struct hash_report *rep;
  gnutls_hash_hd_t (*slots)[VBM_NR_HASHES];
  int32_t *free_slots;
  size_t nfree;
  unsigned char *buf;           /* CHUNK bytes */
  uint32_t buf_disk;
  uint64_t buf_start, buf_end;  /* what buf holds; empty if equal */
  uint64_t done;                /* for progress */
  unsigned read_errors;
};

static void
progress (struct run *r)
{
  const struct vbm_build_options *o = r->hc->opts;

  /* Gaps read through count too: done may pass the total. */
  if (o && o->progress)
    o->progress (o->progress_opaque,
                 r->done < r->p->read_bytes ? r->done : r->p->read_bytes,
                 r->p->read_bytes);
}

/* Gives f a slot of digests; -1 if none is free or gnutls fails. */
static int
open_file (struct run *r, struct hfile *f, struct vbm_error *err)
{
  gnutls_hash_hd_t *h;
  int32_t slot;
  size_t i;

  if (r->nfree == 0)
    return -1;
  slot = r->free_slots[--r->nfree];
  h = r->slots[slot];
  for (i = 0; i < VBM_NR_HASHES; ++i) {
    h[i] = NULL;
    if ((r->hc->algorithms & hash_algos[i].bit) &&
        gnutls_hash_init (&h[i], hash_algos[i].gnutls) < 0) {
      vbm_set_error (err, ENOMEM, "hashes: cannot start %s",
                     hash_algos[i].name);
      while (i-- > 0)
        if (h[i])
          gnutls_hash_deinit (h[i], NULL);
      r->free_slots[r->nfree++] = slot;
      return -2;
    }
  }
  f->slot = slot;
  return 0;
}

/* Ends f's digests, keeping them if out is not NULL. */
static void
close_file (struct run *r, struct hfile *f, unsigned char *out)
{
  gnutls_hash_hd_t *h = r->slots[f->slot];
  size_t i;

  for (i = 0; i < VBM_NR_HASHES; ++i)
    if (h[i])
      gnutls_hash_deinit (h[i], out ? out + hash_algos[i].at : NULL);
  r->free_slots[r->nfree++] = f->slot;
  f->slot = -1;
  f->done = true;
}

static void
feed (struct run *r, struct hfile *f, const void *data, size_t len)
{
  gnutls_hash_hd_t *h = r->slots[f->slot];
  size_t i;

  for (i = 0; i < VBM_NR_HASHES; ++i)
    if (h[i])
      gnutls_hash (h[i], data, len);
}

static void
feed_zeroes (struct run *r, struct hfile *f, uint64_t n)
{
  while (n > 0) {
    size_t k = n < sizeof zeroes ? n : sizeof zeroes;

    feed (r, f, zeroes, k);
    n -= k;
  }
}

static void
fail_file (struct run *r, struct hfile *f, enum hash_skip why)
{
  if (f->slot >= 0)
    close_file (r, f, NULL);
  f->skip = why;
  f->done = true;
}

static void
finish_file (struct run *r, struct hfile *f)
{
  if (f->next < f->size)
    feed_zeroes (r, f, f->size - f->next);
  close_file (r, f, f->digest);
  r->rep->hashed_files++;
}

static int
read_disk (struct run *r, uint32_t disk, void *buf, size_t len,
           uint64_t offset)
{
  struct vbm_error err;

  if (disk >= r->hc->ndisks) {
    vbm_set_error (&err, EINVAL, "no disk %" PRIu32, disk);
    goto fail;
  }
  if (vbm_source_pread (r->hc->disks[disk], buf, len, offset, &err) == 0) {
    r->rep->bytes_read += len;
    return 0;
  }
 fail:
  if (r->read_errors++ < MAX_READ_WARNINGS)
    hash_warn (r->hc, "hashes: disk %" PRIu32 ": reading %zu bytes at %"
               PRIu64 ": %s: the files there are not hashed",
               disk, len, offset, err.msg);
  return -1;
}

/* Fills the buffer from pos, for piece i and those close after it. */
static int
refill (struct run *r, size_t i, uint64_t pos)
{
  const struct piece *pcs = r->p->pieces.ptr;
  const size_t n = r->p->pieces.len;
  const uint32_t disk = pcs[i].disk;
  uint64_t end = pcs[i].end;
  size_t j;

  for (j = i + 1; j < n && end - pos < CHUNK; ++j) {
    if (pcs[j].disk != disk || pcs[j].start > end + GAP)
      break;
    if (!(pcs[j].flags & VBM_EXTENT_UNWRITTEN) && pcs[j].end > end)
      end = pcs[j].end;
  }
  if (end - pos > CHUNK)
    end = pos + CHUNK;
  r->buf_start = r->buf_end = 0;
  if (read_disk (r, disk, r->buf, end - pos, pos) == -1)
    return -1;
  r->buf_disk = disk;
  r->buf_start = pos;
  r->buf_end = end;
  return 0;
}

/* NTFS resident data: read alone (a few hundred bytes inside its MFT
 * record), with the record's update sequence undone.
 */
static int
feed_resident (struct run *r, struct hfile *f, const struct piece *pc)
{
  unsigned char buf[4096];
  const size_t len = pc->end - pc->start;

  if (len > sizeof buf) {
    fail_file (r, f, HASH_FIXUP);
    return -1;
  }
  if (hash_ntfs_fixup (r->p, r->hc, pc, buf) == -1) {
    fail_file (r, f, HASH_FIXUP);
    return -1;
  }
  feed (r, f, buf, len);
  return 0;
}

/* Feeds piece i to its file (open) through the buffer, or read
 * directly in CHUNK pieces if direct.
 */
static int
feed_piece (struct run *r, size_t i, bool direct)
{
  const struct piece *pc = &r->p->pieces.ptr[i];
  struct hfile *f = &r->p->files.ptr[pc->file];
  uint64_t pos;

  if (pc->offset > f->next)
    feed_zeroes (r, f, pc->offset - f->next);
  f->next = pc->offset + (pc->end - pc->start);
  if (pc->flags & VBM_EXTENT_UNWRITTEN) {
    feed_zeroes (r, f, pc->end - pc->start);
    return 0;
  }
  if (f->ntfs && (pc->flags & VBM_EXTENT_INLINE))
    return feed_resident (r, f, pc);
  for (pos = pc->start; pos < pc->end;) {
    uint64_t n;

    if (direct) {
      n = pc->end - pos < CHUNK ? pc->end - pos : CHUNK;
      if (read_disk (r, pc->disk, r->buf, n, pos) == -1)
        goto fail;
      feed (r, f, r->buf, n);
    }
    else {
      if (r->buf_disk != pc->disk || pos < r->buf_start ||
          pos >= r->buf_end) {
        if (refill (r, i, pos) == -1)
          goto fail;
        r->done += r->buf_end - r->buf_start;
        progress (r);
      }
      n = (pc->end < r->buf_end ? pc->end : r->buf_end) - pos;
      feed (r, f, r->buf + (pos - r->buf_start), n);
    }
    pos += n;
  }
  return 0;

 fail:
  fail_file (r, f, HASH_READ_ERROR);
  return -1;
}

/* Pass one: every piece in disk order. */
static int
disk_order_pass (struct run *r, struct vbm_error *err)
{
  struct hash_plan *p = r->p;
  size_t i;
  int o;

  for (i = 0; i < p->pieces.len; ++i) {
    struct hfile *f = &p->files.ptr[p->pieces.ptr[i].file];

    if (f->done || f->second_pass)
      continue;
    if (f->slot < 0) {
      o = open_file (r, f, err);
      if (o == -2)
        return -1;
      if (o == -1) {          /* too many half-hashed files */
        f->second_pass = true;
        continue;
      }
    }
    if (feed_piece (r, i, false) == -1)
      continue;
    if (--f->pieces_left == 0)
      finish_file (r, f);
  }
  return 0;
}

static int
by_file_offset (const struct piece *a, const struct piece *b)
{
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->offset != b->offset)
    return a->offset < b->offset ? -1 : 1;
  return 0;
}

/* Pass two: the files left, each alone in file order. */
static int
file_order_pass (struct run *r, struct vbm_error *err)
{
  struct hash_plan *p = r->p;
  size_t i;

  piece_vector_sort (&p->pieces, by_file_offset);
  for (i = 0; i < p->pieces.len; ++i) {
    struct hfile *f = &p->files.ptr[p->pieces.ptr[i].file];

    if (f->done || !f->second_pass)
      continue;
    if (f->slot < 0) {
      if (open_file (r, f, err) != 0)
        return -1;
      r->rep->second_pass_files++;
    }
    if (feed_piece (r, i, true) == -1)
      continue;
    r->done += p->pieces.ptr[i].end - p->pieces.ptr[i].start;
    if (i + 1 == p->pieces.len || p->pieces.ptr[i + 1].file !=
        p->pieces.ptr[i].file) {
      finish_file (r, f);
      progress (r);
    }
  }
  return 0;
}

/* Files without data extents: empty, or all holes. */
static int
no_data_files (struct run *r, struct vbm_error *err)
{
  size_t i;

  for (i = 0; i < r->p->files.len; ++i) {
    struct hfile *f = &r->p->files.ptr[i];

    if (f->skip == HASH_OK && f->pieces_left == 0) {
      if (open_file (r, f, err) != 0)
        return -1;
      finish_file (r, f);
    }
  }
  return 0;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
hash_plan_run (struct hash_plan *p, struct hash_ctx *hc,
               struct hash_report *rep, struct vbm_error *err)
{
  struct run r = { .p = p, .hc = hc, .rep = rep, .buf_disk = UINT32_MAX };
  double t0 = now ();
  size_t i;
  int ret = -1;

  r.slots = calloc (MAX_OPEN, sizeof *r.slots);
  r.free_slots = malloc (MAX_OPEN * sizeof *r.free_slots);
  r.buf = malloc (CHUNK);
  if (r.slots == NULL || r.free_slots == NULL || r.buf == NULL) {
    vbm_set_error (err, ENOMEM, "hashes: %s", strerror (ENOMEM));
    goto out;
  }
  for (i = 0; i < MAX_OPEN; ++i)
    r.free_slots[i] = MAX_OPEN - 1 - i;
  r.nfree = MAX_OPEN;
  if (no_data_files (&r, err) == -1 ||
      disk_order_pass (&r, err) == -1 ||
      file_order_pass (&r, err) == -1)
    goto out;
  if (r.read_errors > MAX_READ_WARNINGS)
    hash_warn (hc, "hashes: %u more read errors not shown",
               r.read_errors - MAX_READ_WARNINGS);
  for (i = 0; i < p->files.len; ++i)
    if (p->files.ptr[i].skip != HASH_OK)
      rep->not_hashed++;
  ret = 0;
 out:
  /* Only after a failure of the stage are digests still open. */
  for (i = 0; i < p->files.len; ++i)
    if (p->files.ptr[i].slot >= 0)
      close_file (&r, &p->files.ptr[i], NULL);
  free (r.slots);
  free (r.free_slots);
  free (r.buf);
  rep->seconds = now () - t0;
  return ret;
}

int
vbm_hash_map (const char *map_path, struct vbm_source **disks, size_t ndisks,
              unsigned algorithms, const struct vbm_build_options *opts,
              struct vbm_stats *stats, struct vbm_error *err)
{
  struct hash_plan p;
  struct hash_ctx hc = {
    .disks = disks, .ndisks = ndisks, .algorithms = algorithms,
    .opts = opts, .warnings = empty_vector,
  };
  struct hash_report rep = { 0 };
  size_t i;
  int r;

  if (hash_plan_load (&p, map_path, err) == -1)
    return -1;
  r = hash_plan_run (&p, &hc, &rep, err);
  stats->warnings += hc.warnings.len;
  if (r == 0)
    r = vbm_store_write_hashes (map_path, &p, algorithms, &hc,
                                stats->warnings, err);
  if (r == 0) {
    stats->hashed_files = rep.hashed_files;
    stats->not_hashed = rep.not_hashed;
    stats->hashed_bytes = rep.bytes_read;
    if (opts && opts->verbose && opts->debug) {
      CLEANUP_FREE char *msg = NULL;

      if (asprintf (&msg, "hashed %" PRIu64 " files (%" PRIu64 " not hashed)"
                    " in %.3f s: read %" PRIu64 " bytes of %zu pieces,"
                    " %" PRIu64 " files in file order afterwards",
                    rep.hashed_files, rep.not_hashed, rep.seconds,
                    rep.bytes_read, p.pieces.len, rep.second_pass_files) > 0)
        opts->debug (opts->debug_opaque, msg);
    }
  }
  for (i = 0; i < hc.warnings.len; ++i)
    free (hc.warnings.ptr[i]);
  free (hc.warnings.ptr);
  hash_plan_free (&p);
  return r;
}
