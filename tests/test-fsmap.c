/* Unit test of the accounting core, lib/fs/fsmap.c, with the map
 * store replaced by a recorder: every object, extent and warning the
 * core writes is checked against what the calls made must give, worked
 * out by hand in the comments (not by the core's own code).  It covers
 * what ext2 and NTFS do not: unit 0 away from the volume's start, a
 * partial unit at the volume's end, clusters not aligned on unit 0.
 */
#include <config.h>

#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "fsmap.h"

/* ---- The recorder, in place of the store and the source. ---- */

struct rec_object { int64_t id; char kind; char path[64]; uint64_t size; };
struct rec_extent {
  int64_t object; uint64_t start, len; int64_t off; unsigned flags;
};
static struct rec_object objects[64];
static struct rec_extent extents[64];
static char warnings[128][VBM_ERROR_MAX];
static size_t nobjects, nextents, nwarnings;

int64_t
vbm_store_add_object (struct vbm_store *st, const struct vbm_object *obj,
                      struct vbm_error *err)
{
  struct rec_object *o = &objects[nobjects];

  assert (nobjects < 64);
  o->id = ++nobjects;
  o->kind = obj->kind;
  snprintf (o->path, sizeof o->path, "%s", obj->path);
  o->size = obj->size;
  return o->id;
}

int
vbm_store_add_extent (struct vbm_store *st, int64_t object, unsigned disk,
                      uint64_t start, uint64_t len, int64_t object_offset,
                      unsigned flags, struct vbm_error *err)
{
  assert (nextents < 64 && len > 0);
  extents[nextents++] = (struct rec_extent) {
    object, start, len, object_offset, flags
  };
  return 0;
}

int
vbm_store_add_warning (struct vbm_store *st, unsigned disk, const char *msg,
                       struct vbm_error *err)
{
  assert (nwarnings < 128);
  snprintf (warnings[nwarnings++], VBM_ERROR_MAX, "%s", msg);
  return 0;
}

int
vbm_store_add_name (struct vbm_store *st, int64_t object, const char *path,
                    struct vbm_error *err)
{
  return 0;
}

void vbm_store_expect (struct vbm_store *st, uint64_t n) { }

int
vbm_store_set_fstype (struct vbm_store *st, int64_t object,
                      const char *fstype, struct vbm_error *err)
{
  return 0;
}

int
vbm_source_pread (struct vbm_source *src, void *buf, size_t count,
                  uint64_t offset, struct vbm_error *err)
{
  abort ();                     /* the core reads nothing */
}

/* ---- Checks. ---- */

static size_t next_extent, next_warning;

static void
expect_extent (int64_t object, uint64_t start, uint64_t len, int64_t off,
               unsigned flags)
{
  const struct rec_extent *e = &extents[next_extent];

  if (next_extent >= nextents || e->object != object || e->start != start ||
      e->len != len || e->off != off || e->flags != flags) {
    fprintf (stderr, "extent %zu: want %" PRIi64 " %" PRIu64 "+%" PRIu64
             " @%" PRIi64 " %#x\n", next_extent, object, start, len, off,
             flags);
    if (next_extent < nextents)
      fprintf (stderr, "           got  %" PRIi64 " %" PRIu64 "+%" PRIu64
               " @%" PRIi64 " %#x\n", e->object, e->start, e->len, e->off,
               e->flags);
    exit (1);
  }
  next_extent++;
}

static void
expect_warning (const char *msg)
{
  if (next_warning >= nwarnings || strcmp (warnings[next_warning], msg)) {
    fprintf (stderr, "warning %zu: want '%s', got '%s'\n", next_warning,
             msg, next_warning < nwarnings ? warnings[next_warning] : "");
    exit (1);
  }
  next_warning++;
}

static void
expect_object (int64_t id, char kind, const char *path, uint64_t size)
{
  const struct rec_object *o = &objects[id - 1];

  assert (id >= 1 && (size_t) id <= nobjects);
  if (o->kind != kind || strcmp (o->path, path) || o->size != size) {
    fprintf (stderr, "object %" PRIi64 ": want %c %s %" PRIu64 ", got %c %s %"
             PRIu64 "\n", id, kind, path, size, o->kind, o->path, o->size);
    exit (1);
  }
}

#define MIB (UINT64_C (1) << 20)

/* 4 KiB units from byte 1024 of a volume at 1 MiB on the disk; the
 * volume ends 100 bytes into unit 10.
 */
static void
test_units (struct vbm_ctx *ctx)
{
  const struct vbm_volume vol = {
    .object = 1000, .device = "/dev/sdz1", .offset = MIB,
    .length = 1024 + 10 * 4096 + 100,
  };
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "sector", .outside = "the filesystem", .unit_size = 4096,
    .base = 1024, .first_unit = 1, .units = 11,
  };
  const uint64_t u0 = MIB + 1024;    /* disk offset of unit 0 */
  struct vbm_fsmap *fm = vbm_fsmap_new (ctx, &vol);
  struct vbm_fsmap_unclaimed u;
  /* Units 0..3 as the filesystem's bitmap gives them: 1, 2, 3 in use. */
  const unsigned char bits[] = { 0x0e };
  int64_t a, b, c, meta;

  assert (fm);
  vbm_fsmap_set_geometry (fm, &geo);

  /* A: units 2..4, then 5 at the next offset: one extent. */
  a = vbm_fsmap_object (fm, VBM_KIND_FILE, "/a", 1, 4 * 4096, 0);
  assert (vbm_fsmap_units (fm, a, 2, 3, 0, 0) == 3);
  assert (vbm_fsmap_units (fm, a, 5, 1, 3 * 4096, 0) == 1);
  vbm_fsmap_end_object (fm, "/a");

  /* B: 4 and 5 are A's, 6 is new; 0 is before first_unit; 9 is new;
   * 11..14 are past units.
   */
  b = vbm_fsmap_object (fm, VBM_KIND_FILE, "/b", 2, 0, 0);
  assert (vbm_fsmap_units (fm, b, 4, 3, 0, 0) == 1);
  assert (vbm_fsmap_units (fm, b, 0, 1, -1, VBM_EXTENT_TREE) == 0);
  assert (vbm_fsmap_units (fm, b, 9, 1, -1, VBM_EXTENT_TREE) == 1);
  assert (vbm_fsmap_units (fm, b, 11, 4, -1, VBM_EXTENT_TREE) == 0);
  /* Bytes are neither claimed nor coalesced. */
  assert (vbm_fsmap_bytes (fm, b, 10, 5, 0, VBM_EXTENT_INLINE) == 0);
  assert (vbm_fsmap_bytes (fm, b, 15, 5, 5, VBM_EXTENT_INLINE) == 0);
  vbm_fsmap_end_object (fm, "/b");

  /* C: a stream of 6000 bytes, 5000 of them written, in units 7, 8. */
  c = vbm_fsmap_object (fm, VBM_KIND_FILE, "/c", 3, 6000, 0);
  vbm_fsmap_stream (fm, 5000, 6000);
  assert (vbm_fsmap_units (fm, c, 7, 2, 0, 0) == 2);
  vbm_fsmap_end_stream (fm);
  vbm_fsmap_end_object (fm, "/c");

  meta = vbm_fsmap_meta (fm, "<table>", 123);
  assert (vbm_fsmap_meta (fm, "<table>", 456) == meta);

  assert (vbm_fsmap_allocated_bits (fm, 0, bits, 4) == 0);
  assert (vbm_fsmap_sweep (fm, &u) == 0);
  /* Unit 1: in use, nobody's; unit 10: free (its 100 bytes).  Claimed
   * but free in the bitmap: 4..9.
   */
  assert (u.unaccounted == 1 && u.free == 1 && u.slack == 0);
  assert (u.claimed_free == 6);
  assert (vbm_fsmap_finish (fm) == 0);
  vbm_fsmap_free (fm);

  expect_object (a, VBM_KIND_FILE, "/a", 4 * 4096);
  expect_object (meta, VBM_KIND_METADATA, "<table>", 123);
  expect_extent (a, u0 + 2 * 4096, 4 * 4096, 0, 0);
  expect_extent (b, u0 + 6 * 4096, 4096, 2 * 4096, 0);
  expect_extent (b, u0 + 9 * 4096, 4096, -1, VBM_EXTENT_TREE);
  expect_extent (b, MIB + 10, 5, 0, VBM_EXTENT_INLINE);
  expect_extent (b, MIB + 15, 5, 5, VBM_EXTENT_INLINE);
  expect_extent (c, u0 + 7 * 4096, 5000, 0, 0);
  expect_extent (c, u0 + 7 * 4096 + 5000, 1000, 5000, VBM_EXTENT_UNWRITTEN);
  expect_extent (c, u0 + 7 * 4096 + 6000, 2 * 4096 - 6000, 6000,
                 VBM_EXTENT_PAST_EOF);
  /* The sweep's objects come in the order they are first needed. */
  expect_object (meta + 1, VBM_KIND_METADATA, "<unaccounted>", 4096);
  expect_object (meta + 2, VBM_KIND_FREE, "<free space>", 4096);
  expect_extent (meta + 1, u0 + 4096, 4096, -1, 0);
  expect_extent (meta + 2, u0 + 10 * 4096, 100, -1, 0);
  assert (next_extent == nextents);

  expect_warning ("/dev/sdz1: /b: 2 sector(s) already belong to another "
                  "object (mapped once)");
  expect_warning ("/dev/sdz1: /b: 5 sector(s) outside the filesystem "
                  "(not mapped)");
  assert (next_warning == nwarnings);
}

/* 512-byte units in clusters of 4 from unit 2; the filesystem's 20
 * units are followed by 3000 bytes holding a backup at 11000.
 */
static void
test_sweep (struct vbm_ctx *ctx)
{
  const struct vbm_volume vol = {
    .object = 1001, .device = "/dev/sdz2", .offset = 0,
    .length = 20 * 512 + 3000,
  };
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "cluster", .outside = "the filesystem or the volume",
    .unit_size = 512, .units = 20, .cluster_units = 4, .cluster_start = 2,
  };
  struct vbm_fsmap *fm = vbm_fsmap_new (ctx, &vol);
  struct vbm_fsmap_unclaimed u;
  const size_t obj0 = nobjects, ext0 = nextents;
  int64_t f;
  unsigned i;

  assert (fm);
  vbm_fsmap_set_geometry (fm, &geo);
  f = vbm_fsmap_object (fm, VBM_KIND_FILE, "/f", 1, 512, 0);
  assert (vbm_fsmap_claim (fm, 3));
  assert (!vbm_fsmap_claim (fm, 3));
  assert (!vbm_fsmap_claim (fm, 20));
  vbm_fsmap_end_object (fm, "/f");
  assert (vbm_fsmap_allocated (fm, 2, 8) == 0);
  assert (vbm_fsmap_sweep (fm, &u) == 0);
  /* 0, 1 and 10..19 free; 2, 4, 5 slack in the cluster of 3; 6..9 in
   * use, nobody's.
   */
  assert (u.free == 12 && u.slack == 3 && u.unaccounted == 4);
  assert (u.claimed_free == 0);
  assert (vbm_fsmap_beyond (fm, 20 * 512, 11000, 512) == 0);
  for (i = 0; i < 105; i++)
    vbm_fsmap_warn (fm, "w%u", i);
  assert (vbm_fsmap_finish (fm) == 0);
  vbm_fsmap_free (fm);

  expect_object (f, VBM_KIND_FILE, "/f", 512);
  expect_object (obj0 + 2, VBM_KIND_FREE, "<free space>", 12 * 512);
  expect_object (obj0 + 3, VBM_KIND_FREE, "<cluster slack>", 3 * 512);
  expect_object (obj0 + 4, VBM_KIND_METADATA, "<unaccounted>", 4 * 512);
  expect_object (obj0 + 5, VBM_KIND_FREE, "<beyond filesystem>", 2488);
  assert (nobjects == obj0 + 5 && next_extent == ext0);
  expect_extent (obj0 + 2, 0, 1024, -1, 0);
  expect_extent (obj0 + 3, 1024, 512, -1, 0);
  expect_extent (obj0 + 3, 2048, 1024, -1, 0);
  expect_extent (obj0 + 4, 3072, 2048, -1, 0);
  expect_extent (obj0 + 2, 5120, 5120, -1, 0);
  expect_extent (obj0 + 5, 10240, 760, -1, 0);
  expect_extent (obj0 + 5, 11512, 13240 - 11512, -1, 0);
  assert (next_extent == nextents);

  expect_warning ("/dev/sdz2: /f: 1 cluster(s) already belong to another "
                  "object (mapped once)");
  expect_warning ("/dev/sdz2: /f: 1 cluster(s) outside the filesystem or "
                  "the volume (not mapped)");
  /* Capped at 100 per volume, the two above included. */
  for (i = 0; i < 98; i++) {
    char w[16];

    snprintf (w, sizeof w, "/dev/sdz2: w%u", i);
    expect_warning (w);
  }
  expect_warning ("/dev/sdz2: 7 more warnings not shown");
  assert (next_warning == nwarnings);
}

/* A deleted file's former units over a live file and free space: not
 * claimed, no conflict, the sweep's counts and objects as without it.
 * 512-byte units 1..7 of a volume at 0.
 */
static void
test_former (struct vbm_ctx *ctx)
{
  const struct vbm_volume vol = {
    .object = 1002, .device = "/dev/sdz3", .offset = 0, .length = 8 * 512,
  };
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "cluster", .unit_size = 512, .first_unit = 1, .units = 8,
  };
  struct vbm_fsmap *fm = vbm_fsmap_new (ctx, &vol);
  struct vbm_fsmap_unclaimed u;
  const size_t obj0 = nobjects, ext0 = nextents, warn0 = nwarnings;
  int64_t live, d;

  assert (fm);
  vbm_fsmap_set_geometry (fm, &geo);
  live = vbm_fsmap_object (fm, VBM_KIND_FILE, "/live", 1, 1024, 0);
  assert (vbm_fsmap_units (fm, live, 2, 2, 0, 0) == 2);
  vbm_fsmap_end_object (fm, "/live");
  /* 2000 bytes, its last unit ending at 2048; units 0..5 at offset 0:
   * unit 0 is before first_unit, so from 512.
   */
  d = vbm_fsmap_object (fm, VBM_KIND_FILE, "<deleted>/d", 2, 2000,
                        VBM_OBJECT_DELETED);
  vbm_fsmap_stream (fm, 2000, 2048);
  assert (vbm_fsmap_former (fm, d, 0, 6, 0) == 5);
  vbm_fsmap_end_stream (fm);
  vbm_fsmap_end_object (fm, "<deleted>/d");
  /* The live file can still claim a unit the deleted one had. */
  assert (vbm_fsmap_units (fm, live, 4, 1, 1024, 0) == 1);
  assert (vbm_fsmap_allocated (fm, 2, 3) == 0);
  assert (vbm_fsmap_sweep (fm, &u) == 0);
  /* Free: 1, 5, 6, 7. */
  assert (u.free == 4 && u.unaccounted == 0 && u.slack == 0 &&
          u.claimed_free == 0);
  assert (vbm_fsmap_finish (fm) == 0);
  vbm_fsmap_free (fm);

  expect_object (d, VBM_KIND_FILE, "<deleted>/d", 2000);
  expect_object (obj0 + 3, VBM_KIND_FREE, "<free space>", 4 * 512);
  assert (nobjects == obj0 + 3 && next_extent == ext0);
  expect_extent (live, 1024, 1024, 0, 0);
  expect_extent (d, 512, 1488, 512, VBM_EXTENT_FORMER);
  expect_extent (d, 2000, 48, 2000, VBM_EXTENT_FORMER | VBM_EXTENT_UNWRITTEN);
  expect_extent (d, 2048, 1024, 2048, VBM_EXTENT_FORMER | VBM_EXTENT_PAST_EOF);
  expect_extent (live, 2048, 512, 1024, 0);
  expect_extent (obj0 + 3, 512, 512, -1, 0);
  expect_extent (obj0 + 3, 2560, 1536, -1, 0);
  assert (next_extent == nextents);
  /* No conflict, no warning. */
  assert (nwarnings == warn0);
}

int
main (void)
{
  struct vbm_stats stats = { 0 };
  struct vbm_error err = { 0 };
  struct vbm_ctx ctx = { .stats = &stats, .err = &err };

  test_units (&ctx);
  test_sweep (&ctx);
  test_former (&ctx);
  assert (stats.extents == nextents && stats.objects == nobjects);
  printf ("fsmap: ok\n");
  return 0;
}
