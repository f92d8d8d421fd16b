/* The accounting core (see fsmap.h): claims, runs, named objects and
 * the final sweep, the same for every filesystem reader.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "fsmap.h"
#include "lazy-bitmap.h"

/* Named objects of one filesystem: a reader has a dozen kinds. */
#define MAX_NAMED 32

struct vbm_fsmap {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  struct vbm_fsmap_geometry geo;
  uint64_t vol_units;           /* units starting inside the volume */

  struct lazy_bitmap claimed;   /* units mapped */
  struct lazy_bitmap allocated; /* units in use per the fs's bitmap */

  /* One pending run of bytes, coalesced until something else comes. */
  struct {
    bool valid;
    int64_t object;
    uint64_t start, len;        /* volume bytes */
    int64_t off;                /* object offset of start, or -1 */
    unsigned flags;
  } run;

  uint64_t valid_end, alloc_end; /* the stream being mapped */

  /* Per-object conflict accounting, reported by end_object. */
  uint64_t obj_conflicts;       /* units already claimed */
  uint64_t obj_outside;         /* units outside the filesystem */

  struct vbm_warn_limit warn_limit;

  struct {
    const char *name;
    int64_t id;
  } named[MAX_NAMED];
  size_t nnamed;
};

struct vbm_fsmap *
vbm_fsmap_new (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct vbm_fsmap *fm = calloc (1, sizeof *fm);

  if (fm == NULL) {
    vbm_set_error (ctx->err, errno, "%s: %s", vol->device, strerror (errno));
    return NULL;
  }
  fm->ctx = ctx;
  fm->vol = vol;
  fm->valid_end = fm->alloc_end = UINT64_MAX;
  lazy_bitmap_init (&fm->claimed, 0);
  lazy_bitmap_init (&fm->allocated, 0);
  return fm;
}

void
vbm_fsmap_set_geometry (struct vbm_fsmap *fm,
                        const struct vbm_fsmap_geometry *geo)
{
  const uint64_t length = fm->vol->length;
  uint64_t us;

  fm->geo = *geo;
  if (fm->geo.unit_size == 0)
    fm->geo.unit_size = 1;
  us = fm->geo.unit_size;
  /* Keep every unit's byte offset representable. */
  if (fm->geo.base > UINT64_MAX - us)
    fm->geo.units = 0;
  else if (fm->geo.units > (UINT64_MAX - fm->geo.base) / us)
    fm->geo.units = (UINT64_MAX - fm->geo.base) / us;
  fm->vol_units = length > fm->geo.base
    ? (length - fm->geo.base) / us + ((length - fm->geo.base) % us != 0) : 0;
  lazy_bitmap_free (&fm->claimed);
  lazy_bitmap_free (&fm->allocated);
  lazy_bitmap_init (&fm->claimed, fm->geo.units);
  lazy_bitmap_init (&fm->allocated, fm->geo.units);
}

int
vbm_fsmap_finish (struct vbm_fsmap *fm)
{
  if (vbm_fsmap_flush (fm) == -1)
    return -1;
  vbm_warn_limit_end (fm->ctx, &fm->warn_limit, fm->vol->device);
  return 0;
}

void
vbm_fsmap_free (struct vbm_fsmap *fm)
{
  if (fm == NULL)
    return;
  lazy_bitmap_free (&fm->claimed);
  lazy_bitmap_free (&fm->allocated);
  free (fm);
}

/* ---- Messages. ---- */

void
vbm_fsmap_warn (struct vbm_fsmap *fm, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vbm_vwarn_limited (fm->ctx, &fm->warn_limit, fm->vol->device, fs, args);
  va_end (args);
}

void
vbm_fsmap_progress (struct vbm_fsmap *fm, uint64_t done, uint64_t total)
{
  vbm_progress (fm->ctx, done, total);
}

/* ---- Objects. ---- */

int64_t
vbm_fsmap_object (struct vbm_fsmap *fm, char kind, const char *path,
                  uint64_t inode, uint64_t size, unsigned flags)
{
  struct vbm_object obj = {
    .parent = fm->vol->object,
    .disk = fm->ctx->disk,
    .kind = kind,
    .device = fm->vol->device,
    .path = path,
    .inode = inode,
    .size = size,
    .flags = flags,
  };

  /* Keep each object's extents together in the store. */
  if (vbm_fsmap_flush (fm) == -1)
    return -1;
  return vbm_add_object (fm->ctx, &obj);
}

int
vbm_fsmap_name (struct vbm_fsmap *fm, int64_t object, const char *path)
{
  return vbm_add_name (fm->ctx, object, path);
}

static int64_t
named_object (struct vbm_fsmap *fm, char kind, const char *name,
              uint64_t size)
{
  size_t i;
  int64_t id;

  for (i = 0; i < fm->nnamed; ++i)
    if (strcmp (fm->named[i].name, name) == 0)
      return fm->named[i].id;
  if (fm->nnamed == MAX_NAMED) {
    vbm_set_error (fm->ctx->err, ENOMEM, "%s: more than %d metadata kinds",
                   fm->vol->device, MAX_NAMED);
    return -1;
  }
  id = vbm_fsmap_object (fm, kind, name, 0, size, 0);
  if (id == -1)
    return -1;
  fm->named[fm->nnamed].name = name;
  fm->named[fm->nnamed].id = id;
  fm->nnamed++;
  return id;
}

int64_t
vbm_fsmap_meta (struct vbm_fsmap *fm, const char *name, uint64_t size)
{
  return named_object (fm, VBM_KIND_METADATA, name, size);
}

void
vbm_fsmap_end_object (struct vbm_fsmap *fm, const char *what)
{
  const char *unit = fm->geo.unit_name ? fm->geo.unit_name : "unit";

  if (fm->obj_conflicts)
    vbm_fsmap_warn (fm, "%s: %" PRIu64 " %s(s) already belong to another "
                    "object (mapped once)", what, fm->obj_conflicts, unit);
  if (fm->obj_outside)
    vbm_fsmap_warn (fm, "%s: %" PRIu64 " %s(s) outside %s (not mapped)",
                    what, fm->obj_outside, unit,
                    fm->geo.outside ? fm->geo.outside : "the filesystem");
  fm->obj_conflicts = fm->obj_outside = 0;
}

/* ---- Extents. ---- */

int
vbm_fsmap_flush (struct vbm_fsmap *fm)
{
  const uint64_t length = fm->vol->length;
  uint64_t start, len;

  if (!fm->run.valid)
    return 0;
  fm->run.valid = false;

  /* Units may lie past the end of a truncated image. */
  start = fm->run.start;
  len = fm->run.len;
  if (start >= length)
    return 0;
  if (len > length - start)
    len = length - start;
  return vbm_volume_add_extent (fm->ctx, fm->vol, fm->run.object, start,
                                len, fm->run.off, fm->run.flags);
}

/* Appends to the pending run, or writes it and starts a new one. */
static int
push_run (struct vbm_fsmap *fm, int64_t object, uint64_t start,
          uint64_t len, int64_t off, unsigned flags)
{
  if (fm->run.valid && fm->run.object == object &&
      fm->run.flags == flags && fm->run.start + fm->run.len == start &&
      (off == -1 ? fm->run.off == -1 :
       fm->run.off != -1 &&
       (uint64_t) fm->run.off + fm->run.len == (uint64_t) off)) {
    fm->run.len += len;
    return 0;
  }
  if (vbm_fsmap_flush (fm) == -1)
    return -1;
  fm->run.valid = true;
  fm->run.object = object;
  fm->run.start = start;
  fm->run.len = len;
  fm->run.off = off;
  fm->run.flags = flags;
  return 0;
}

void
vbm_fsmap_stream (struct vbm_fsmap *fm, uint64_t valid_end,
                  uint64_t alloc_end)
{
  fm->valid_end = valid_end;
  fm->alloc_end = alloc_end;
}

void
vbm_fsmap_end_stream (struct vbm_fsmap *fm)
{
  fm->valid_end = fm->alloc_end = UINT64_MAX;
}

/* Bytes of the stream, split where its valid data and its allocation
 * end.
 */
static int
push_stream (struct vbm_fsmap *fm, int64_t object, uint64_t start,
             uint64_t len, int64_t off, unsigned flags)
{
  uint64_t o;

  if (off < 0)
    return push_run (fm, object, start, len, off, flags);
  for (o = off; len > 0;) {
    uint64_t k = len;
    unsigned fl = flags;

    if (o < fm->valid_end) {
      if (fm->valid_end - o < k)
        k = fm->valid_end - o;
    }
    else if (o < fm->alloc_end) {
      fl |= VBM_EXTENT_UNWRITTEN;
      if (fm->alloc_end - o < k)
        k = fm->alloc_end - o;
    }
    else
      fl |= VBM_EXTENT_PAST_EOF;
    if (push_run (fm, object, start, k, o, fl) == -1)
      return -1;
    start += k;
    o += k;
    len -= k;
  }
  return 0;
}

static uint64_t
unit_bytes (const struct vbm_fsmap *fm, uint64_t unit)
{
  return fm->geo.base + unit * fm->geo.unit_size;
}

int64_t
vbm_fsmap_units (struct vbm_fsmap *fm, int64_t object, uint64_t unit,
                 uint64_t n, int64_t off, unsigned flags)
{
  const uint64_t us = fm->geo.unit_size;
  uint64_t end, b, next;
  int64_t mapped = 0;

  if (n == 0)
    return 0;

  /* Clip to the filesystem. */
  if (ADD_OVERFLOW (unit, n, &end) || end > fm->geo.units)
    end = fm->geo.units;
  if (unit >= end) {
    fm->obj_outside += n;
    return 0;
  }
  fm->obj_outside += n - (end - unit);
  b = unit;
  if (b < fm->geo.first_unit) {
    next = fm->geo.first_unit < end ? fm->geo.first_unit : end;
    fm->obj_outside += next - b;
    b = next;
  }

  /* Map the unclaimed parts, count the claimed ones. */
  while (b < end) {
    if (lazy_bitmap_get (&fm->claimed, b)) {
      next = lazy_bitmap_find (&fm->claimed, b, end, false);
      fm->obj_conflicts += next - b;
      b = next;
      continue;
    }
    next = lazy_bitmap_find (&fm->claimed, b, end, true);
    if (lazy_bitmap_set_range (&fm->claimed, b, next - b) == -1) {
      vbm_set_error (fm->ctx->err, errno, "%s: claiming %s(s): %s",
                     fm->vol->device, fm->geo.unit_name, strerror (errno));
      return -1;
    }
    if (push_stream (fm, object, unit_bytes (fm, b), (next - b) * us,
                     off == -1 ? -1 : off + (int64_t) ((b - unit) * us),
                     flags) == -1)
      return -1;
    mapped += next - b;
    b = next;
  }
  return mapped;
}

int64_t
vbm_fsmap_former (struct vbm_fsmap *fm, int64_t object, uint64_t unit,
                  uint64_t n, int64_t off)
{
  uint64_t end, b;

  if (ADD_OVERFLOW (unit, n, &end) || end > fm->geo.units)
    end = fm->geo.units;
  b = unit < fm->geo.first_unit ? fm->geo.first_unit : unit;
  if (b >= end)
    return 0;
  if (push_stream (fm, object, unit_bytes (fm, b),
                   (end - b) * fm->geo.unit_size,
                   off + (int64_t) ((b - unit) * fm->geo.unit_size),
                   VBM_EXTENT_FORMER) == -1)
    return -1;
  return end - b;
}

bool
vbm_fsmap_claim (struct vbm_fsmap *fm, uint64_t unit)
{
  if (unit < fm->geo.first_unit || unit >= fm->geo.units) {
    fm->obj_outside++;
    return false;
  }
  if (lazy_bitmap_get (&fm->claimed, unit)) {
    fm->obj_conflicts++;
    return false;
  }
  /* One unit: at worst a chunk is allocated.  Out of memory, it stays
   * unclaimed: the sweep maps it as well, which is the lesser harm.
   */
  lazy_bitmap_set_range (&fm->claimed, unit, 1);
  return true;
}

int
vbm_fsmap_bytes (struct vbm_fsmap *fm, int64_t object, uint64_t start,
                 uint64_t len, int64_t off, unsigned flags)
{
  const uint64_t length = fm->vol->length;

  if (vbm_fsmap_flush (fm) == -1)
    return -1;
  if (start >= length || len == 0)
    return 0;
  if (len > length - start)
    len = length - start;
  return vbm_volume_add_extent (fm->ctx, fm->vol, object, start, len,
                                off, flags);
}

/* ---- The final sweep. ---- */

static int
allocated (struct vbm_fsmap *fm, uint64_t unit, uint64_t n)
{
  if (lazy_bitmap_set_range (&fm->allocated, unit, n) == -1) {
    vbm_set_error (fm->ctx->err, errno, "%s: allocation bitmap: %s",
                   fm->vol->device, strerror (errno));
    return -1;
  }
  return 0;
}

int
vbm_fsmap_allocated (struct vbm_fsmap *fm, uint64_t unit, uint64_t n)
{
  return allocated (fm, unit, n);
}

int
vbm_fsmap_allocated_bits (struct vbm_fsmap *fm, uint64_t unit,
                          const unsigned char *bits, uint64_t nbits)
{
  uint64_t i = 0, start;

  while (i < nbits) {
    /* Whole bytes of zeros are common: skip them at once. */
    if (i % 8 == 0 && nbits - i >= 8 && bits[i / 8] == 0) {
      i += 8;
      continue;
    }
    if (!(bits[i / 8] & (1u << (i % 8)))) {
      i++;
      continue;
    }
    start = i;
    while (i < nbits) {
      if (i % 8 == 0 && nbits - i >= 8 && bits[i / 8] == 0xff)
        i += 8;
      else if (bits[i / 8] & (1u << (i % 8)))
        i++;
      else
        break;
    }
    if (unit + start < unit)
      break;
    if (allocated (fm, unit + start, i - start) == -1)
      return -1;
  }
  return 0;
}

enum sweep_kind { SWEEP_FREE, SWEEP_UNACCOUNTED, SWEEP_SLACK };

static const struct {
  char kind;
  const char *name;
} sweep_objects[] = {
  [SWEEP_FREE] =        { VBM_KIND_FREE, "<free space>" },
  [SWEEP_UNACCOUNTED] = { VBM_KIND_METADATA, "<unaccounted>" },
  [SWEEP_SLACK] =       { VBM_KIND_FREE, "<cluster slack>" },
};

struct sweep {
  bool emit;                    /* false: count only */
  struct vbm_fsmap_unclaimed u;
};

static int
put (struct vbm_fsmap *fm, struct sweep *s, enum sweep_kind which,
     uint64_t b, uint64_t n)
{
  uint64_t *count = which == SWEEP_FREE ? &s->u.free :
    which == SWEEP_SLACK ? &s->u.slack : &s->u.unaccounted;
  int64_t obj;

  if (!s->emit) {
    *count += n;
    return 0;
  }
  /* Created on the way out, with the size the count found. */
  obj = named_object (fm, sweep_objects[which].kind,
                      sweep_objects[which].name,
                      *count * fm->geo.unit_size);
  if (obj == -1 ||
      push_run (fm, obj, unit_bytes (fm, b), n * fm->geo.unit_size,
                -1, 0) == -1)
    return -1;
  return 0;
}

/* Allocated but unclaimed units: in a cluster that holds claimed units
 * they are the normal slack of its allocation, otherwise nobody's.
 */
static int
put_allocated (struct vbm_fsmap *fm, struct sweep *s, uint64_t b,
               uint64_t e)
{
  const uint64_t cu = fm->geo.cluster_units;

  const uint64_t c0 = fm->geo.cluster_start;

  if (cu <= 1 || e <= c0)
    return put (fm, s, SWEEP_UNACCOUNTED, b, e - b);
  if (b < c0) {
    if (put (fm, s, SWEEP_UNACCOUNTED, b, c0 - b) == -1)
      return -1;
    b = c0;
  }

  while (b < e) {
    uint64_t cstart = b - (b - c0) % cu, cend, next;
    bool slack;

    cend = cstart + cu < cstart ? UINT64_MAX : cstart + cu;
    next = cend < e ? cend : e;
    if (cstart < fm->geo.first_unit)
      cstart = fm->geo.first_unit;
    if (cend > fm->geo.units)
      cend = fm->geo.units;
    slack = lazy_bitmap_find (&fm->claimed, cstart, cend, true) < cend;
    if (put (fm, s, slack ? SWEEP_SLACK : SWEEP_UNACCOUNTED, b,
             next - b) == -1)
      return -1;
    b = next;
  }
  return 0;
}

static int
walk_unclaimed (struct vbm_fsmap *fm, struct sweep *s)
{
  const uint64_t end = fm->geo.units < fm->vol_units
    ? fm->geo.units : fm->vol_units;
  uint64_t b = fm->geo.first_unit;

  while (b < end) {
    bool used = lazy_bitmap_get (&fm->allocated, b);
    bool claimed = lazy_bitmap_get (&fm->claimed, b);
    uint64_t e1 = lazy_bitmap_find (&fm->allocated, b, end, !used);
    uint64_t e2 = lazy_bitmap_find (&fm->claimed, b, end, !claimed);
    uint64_t e = e1 < e2 ? e1 : e2;
    int r = 0;

    if (!used && !claimed)
      r = put (fm, s, SWEEP_FREE, b, e - b);
    else if (used && !claimed)
      r = put_allocated (fm, s, b, e);
    else if (!used && claimed && !s->emit)
      s->u.claimed_free += e - b;
    if (r == -1)
      return -1;
    b = e;
  }
  return vbm_fsmap_flush (fm);
}

int
vbm_fsmap_sweep (struct vbm_fsmap *fm, struct vbm_fsmap_unclaimed *out)
{
  struct sweep s = { .emit = false };

  /* Count first: objects are created with their sizes. */
  if (walk_unclaimed (fm, &s) == -1)
    return -1;
  s.emit = true;
  if (walk_unclaimed (fm, &s) == -1)
    return -1;
  if (out)
    *out = s.u;
  return 0;
}

int
vbm_fsmap_beyond (struct vbm_fsmap *fm, uint64_t start, uint64_t hole,
                  uint64_t hole_len)
{
  const uint64_t length = fm->vol->length;
  uint64_t size;
  int64_t obj;

  if (start >= length)
    return 0;
  if (hole_len == 0 || hole < start || hole > length ||
      hole_len > length - hole)
    hole = start, hole_len = 0;
  size = length - start - hole_len;
  if (size == 0)
    return 0;
  obj = named_object (fm, VBM_KIND_FREE, "<beyond filesystem>", size);
  if (obj == -1 ||
      vbm_fsmap_bytes (fm, obj, start, hole - start, -1, 0) == -1 ||
      vbm_fsmap_bytes (fm, obj, hole + hole_len, length - hole - hole_len,
                       -1, 0) == -1)
    return -1;
  return 0;
}
