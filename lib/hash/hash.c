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
 * order.  Memory stays bounded (MAX_OPEN sets of digest states, the
 * workers' few chunks) whatever the layout; the second pass's share is
 * in -v's summary.  The digests are computed by workers.c, one thread
 * per algorithm, while this thread reads.
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
  struct hash_workers *w;       /* the digests (workers.c) */
  int32_t *free_slots;
  size_t nfree;
  unsigned char *buf;           /* the workers' buffer being filled */
  uint32_t buf_disk;
  uint64_t buf_start, buf_end;  /* what buf holds; empty if equal */
  size_t buf_used;              /* the second pass packs its reads */
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

/* Gives f a slot of digests; -1 if none is free. */
static int
open_file (struct run *r, struct hfile *f)
{
  if (r->nfree == 0)
    return -1;
  f->slot = r->free_slots[--r->nfree];
  hash_workers_open (r->w, f->slot);
  return 0;
}

/* Ends f's digests, keeping them if out is not NULL. */
static void
close_file (struct run *r, struct hfile *f, unsigned char *out)
{
  hash_workers_close (r->w, f->slot, out);
  r->free_slots[r->nfree++] = f->slot;
  f->slot = -1;
  f->done = true;
}

/* Bytes of the workers' buffer. */
static void
feed (struct run *r, struct hfile *f, const unsigned char *data, size_t len)
{
  hash_workers_data (r->w, f->slot, data, len);
}

static void
feed_zeroes (struct run *r, struct hfile *f, uint64_t n)
{
  hash_workers_zeroes (r->w, f->slot, n);
}

/* The buffer is about to be read into: the commands on what it holds
 * go to the workers first, and another buffer comes back.
 */
static unsigned char *
next_buffer (struct run *r)
{
  hash_workers_submit (r->w);
  r->buf = hash_workers_buffer (r->w);
  return r->buf;
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
  if (read_disk (r, disk, next_buffer (r), end - pos, pos) == -1)
    return -1;
  r->buf_disk = disk;
  r->buf_start = pos;
  r->buf_end = end;
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
  for (pos = pc->start; pos < pc->end;) {
    uint64_t n;

    if (direct) {
      /* Small pieces share a buffer: one hand-over per CHUNK bytes. */
      n = pc->end - pos < CHUNK ? pc->end - pos : CHUNK;
      if (r->buf_used + n > CHUNK) {
        next_buffer (r);
        r->buf_used = 0;
      }
      if (read_disk (r, pc->disk, r->buf + r->buf_used, n, pos) == -1)
        goto fail;
      feed (r, f, r->buf + r->buf_used, n);
      r->buf_used += n;
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
static void
disk_order_pass (struct run *r)
{
  struct hash_plan *p = r->p;
  size_t i;

  for (i = 0; i < p->pieces.len; ++i) {
    struct hfile *f = &p->files.ptr[p->pieces.ptr[i].file];

    if (f->done || f->second_pass)
      continue;
    if (f->slot < 0 && open_file (r, f) == -1) {
      f->second_pass = true;    /* too many half-hashed files */
      continue;
    }
    if (feed_piece (r, i, false) == -1)
      continue;
    if (--f->pieces_left == 0)
      finish_file (r, f);
  }
}

/* Pass two: the files left, each alone in file order.  Every slot is
 * free by now.
 */
static void
file_order_pass (struct run *r)
{
  struct hash_plan *p = r->p;
  size_t i;

  piece_vector_sort (&p->pieces, hash_piece_by_file_offset);
  r->buf_start = r->buf_end = 0;
  r->buf_used = CHUNK;          /* the first read takes a fresh buffer */
  for (i = 0; i < p->pieces.len; ++i) {
    struct hfile *f = &p->files.ptr[p->pieces.ptr[i].file];

    if (f->done || !f->second_pass)
      continue;
    if (f->slot < 0) {
      open_file (r, f);
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
}

/* Files without data extents: empty, or all holes. */
static void
no_data_files (struct run *r)
{
  size_t i;

  for (i = 0; i < r->p->files.len; ++i) {
    struct hfile *f = &r->p->files.ptr[i];

    if (f->skip == HASH_OK && f->pieces_left == 0) {
      open_file (r, f);
      finish_file (r, f);
    }
  }
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

  r.free_slots = malloc (MAX_OPEN * sizeof *r.free_slots);
  if (r.free_slots == NULL) {
    vbm_set_error (err, ENOMEM, "hashes: %s", strerror (ENOMEM));
    goto out;
  }
  r.w = hash_workers_start (hc->algorithms, MAX_OPEN, CHUNK, err);
  if (r.w == NULL)
    goto out;
  r.buf = hash_workers_buffer (r.w);
  for (i = 0; i < MAX_OPEN; ++i)
    r.free_slots[i] = MAX_OPEN - 1 - i;
  r.nfree = MAX_OPEN;
  no_data_files (&r);
  disk_order_pass (&r);
  file_order_pass (&r);
  /* The digests land in the files once every batch is worked through. */
  ret = hash_workers_finish (r.w, err);
  if (r.read_errors > MAX_READ_WARNINGS)
    hash_warn (hc, "hashes: %u more read errors not shown",
               r.read_errors - MAX_READ_WARNINGS);
  for (i = 0; i < p->files.len; ++i)
    if (p->files.ptr[i].skip != HASH_OK)
      rep->not_hashed++;
 out:
  free (r.free_slots);
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
