/* Building a map: the top of the data flow.  Each disk becomes a
 * device object whose volumes and filesystems are mapped into a new
 * map file, written under a temporary name and renamed on success.
 * The stages below write through the mapping context (ctx.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cleanup.h"
#include "ctx.h"
#include "fs.h"
#include "hash.h"
#include "internal.h"
#include "sized.h"
#include "volumes.h"

const char *
vbm_version (void)
{
  return PACKAGE_VERSION;
}

/* /dev/sda ... /dev/sdz, /dev/sdaa ..., as Linux and libguestfs name them. */
static void
device_name (unsigned i, char *buf, size_t len)
{
  char letters[8];
  size_t n = 0, j;

  i++;
  while (i > 0 && n < sizeof letters) {
    letters[n++] = 'a' + (i - 1) % 26;
    i = (i - 1) / 26;
  }
  snprintf (buf, len, "/dev/sd");
  for (j = 0; j < n && 7 + j + 1 < len; ++j)
    buf[7 + j] = letters[n - 1 - j];
  buf[7 + j] = '\0';
}

/* The disk's identity, for bmaplog to check that a disk it serves is
 * this one (meta key "identity.N").  A disk that cannot be read there
 * gets a warning and no identity: the map is still useful.
 */
static int
store_identity (struct vbm_ctx *ctx, struct vbm_source *src, unsigned disk)
{
  char key[32], id[VBM_IDENTITY_LEN];
  struct vbm_error err;

  if (vbm_source_identity (src, id, &err) == -1) {
    vbm_warn (ctx, "%s: no identity stored: %s", vbm_source_path (src),
              err.msg);
    return 0;
  }
  snprintf (key, sizeof key, "identity.%u", disk);
  return vbm_store_set_meta (ctx->store, key, id, ctx->err);
}

static int
map_disk (struct vbm_ctx *ctx, struct vbm_source *src, unsigned disk)
{
  char device[16];
  struct vbm_object obj = { .kind = VBM_KIND_DEVICE };
  struct vbm_volume vol;
  int64_t id;

  device_name (disk, device, sizeof device);
  ctx->disk = disk;
  ctx->src = src;
  if (vbm_store_add_disk (ctx->store, disk, src, device, ctx->err) == -1)
    return -1;
  if (store_identity (ctx, src, disk) == -1)
    return -1;
  obj.disk = disk;
  obj.device = device;
  obj.size = vbm_source_size (src);
  id = vbm_add_object (ctx, &obj);
  if (id == -1)
    return -1;
  ctx->stats->disks++;
  if (obj.size == 0) {
    vbm_warn (ctx, "%s: %s is empty", device, vbm_source_path (src));
    return 0;
  }
  if (vbm_add_extent (ctx, id, 0, obj.size, 0, 0) == -1)
    return -1;
  vol = (struct vbm_volume) {
    .object = id, .device = device, .offset = 0, .length = obj.size,
  };
  return vbm_map_volumes (ctx, &vol);
}

static int
write_provenance (struct vbm_store *st, struct vbm_error *err)
{
  char created[64], version[16];
  time_t now = time (NULL);
  struct tm tm;

  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ",
            gmtime_r (&now, &tm));
  snprintf (version, sizeof version, "%d", VBM_SCHEMA_VERSION);
  if (vbm_store_set_meta (st, "schema_version", version, err) == -1 ||
      vbm_store_set_meta (st, "tool", "libvirtbmap", err) == -1 ||
      vbm_store_set_meta (st, "tool_version", PACKAGE_VERSION, err) == -1 ||
      vbm_store_set_meta (st, "created", created, err) == -1)
    return -1;
  return 0;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The handle of virtbmap.h: the options for now, room for more. */
struct vbm_build {
  struct vbm_build_options opts;
};

struct vbm_build *
vbm_build_new (struct vbm_error *err)
{
  struct vbm_build *b = calloc (1, sizeof *b);

  if (b == NULL)
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
  return b;
}

void
vbm_build_free (struct vbm_build *b)
{
  free (b);
}

void
vbm_build_set_warning_callback (struct vbm_build *b,
                                void (*fn) (void *opaque, const char *msg),
                                void *opaque)
{
  b->opts.warning = fn;
  b->opts.warning_opaque = opaque;
}

void
vbm_build_set_progress_callback (struct vbm_build *b,
                                 void (*fn) (void *opaque, uint64_t done,
                                             uint64_t total),
                                 void *opaque)
{
  b->opts.progress = fn;
  b->opts.progress_opaque = opaque;
}

void
vbm_build_set_debug_callback (struct vbm_build *b,
                              void (*fn) (void *opaque, const char *msg),
                              void *opaque)
{
  b->opts.debug = fn;
  b->opts.debug_opaque = opaque;
}

void
vbm_build_set_verbose (struct vbm_build *b, int verbose)
{
  b->opts.verbose = verbose != 0;
}

int
vbm_build_set_sector_size (struct vbm_build *b, unsigned size,
                           struct vbm_error *err)
{
  if (size != 0 && size != 512 && size != 4096) {
    vbm_set_error (err, EINVAL, "sector size %u: must be 512 or 4096", size);
    return -1;
  }
  b->opts.sector_size = size;
  return 0;
}

int
vbm_build_set_hashes (struct vbm_build *b, unsigned algorithms,
                      struct vbm_error *err)
{
  if (algorithms & ~VBM_HASH_ALL) {
    vbm_set_error (err, EINVAL, "hashes: unknown algorithm bits 0x%x",
                   algorithms & ~VBM_HASH_ALL);
    return -1;
  }
  b->opts.hashes = algorithms;
  return 0;
}

/* The struct vbm_stats of the first version ends with warnings: a
 * caller's size below that is a size never set.
 */
#define STATS_MIN_SIZE \
  (offsetof (struct vbm_stats, warnings) + sizeof (unsigned))

int
vbm_build_map (struct vbm_build *b, const char *output,
               struct vbm_source **disks, size_t ndisks,
               struct vbm_stats *stats, struct vbm_error *err)
{
  struct atomic_file out;
  struct vbm_stats all = { .struct_size = sizeof all };
  struct vbm_ctx ctx;
  char count[32];
  size_t i;
  double t0 = now (), t1;

  if (stats && vbm_sized_size (stats) < STATS_MIN_SIZE) {
    vbm_set_error (err, EINVAL, "struct vbm_stats: size %zu is too small "
                   "(set it to sizeof (struct vbm_stats))",
                   vbm_sized_size (stats));
    return -1;
  }
  if (ndisks > VBM_MAX_DISKS) {
    vbm_set_error (err, E2BIG, "too many disks: %zu (a map holds at most %d)",
                   ndisks, VBM_MAX_DISKS);
    return -1;
  }
  /* Named: SQLite opens the file by path (and resolves the links an
   * unnamed O_TMPFILE would be reached by).
   */
  if (atomic_file_open (&out, output, ATOMIC_FILE_NAMED) == -1) {
    if (errno == ENOTSUP)
      vbm_set_error (err, errno, "%s: a map is written to a regular file, "
                     "not a device", output);
    else
      vbm_set_error (err, errno, "%s: %s", output, strerror (errno));
    return -1;
  }
  ctx = (struct vbm_ctx) { .opts = &b->opts, .stats = &all, .err = err };
  ctx.store = vbm_store_create (out.tmp, err);
  if (ctx.store == NULL)
    goto fail;
  if (write_provenance (ctx.store, err) == -1)
    goto fail;
  for (i = 0; i < ndisks; ++i) {
    if (map_disk (&ctx, disks[i], i) == -1)
      goto fail;
  }
  /* A VG may span disks: its LVs are mapped once all have been seen. */
  if (vbm_map_lvm (&ctx) == -1)
    goto fail;
  vbm_lvm_state_free (ctx.lvm);
  ctx.lvm = NULL;
  /* Likewise a btrfs filesystem; its devices may be in LVs. */
  if (vbm_map_btrfs_pending (&ctx) == -1)
    goto fail;
  vbm_btrfs_state_free (ctx.btrfs);
  ctx.btrfs = NULL;
  snprintf (count, sizeof count, "%u", all.warnings);
  if (vbm_store_set_meta (ctx.store, "warnings", count, err) == -1)
    goto fail;
  t1 = now ();
  if (vbm_store_finish (ctx.store, err) == -1) {
    ctx.store = NULL;
    goto fail;
  }
  vbm_debug (&ctx, "mapped in %.3f s, indexed and committed in %.3f s",
             t1 - t0, now () - t1);
  /* From the finished map's extents, before it is in place. */
  if (b->opts.hashes &&
      vbm_hash_map (out.tmp, disks, ndisks, b->opts.hashes, &b->opts,
                    &all, err) == -1) {
    atomic_file_abort (&out);
    return -1;
  }
  /* The store wrote with synchronous=OFF: commit syncs it. */
  if (atomic_file_commit (&out) == -1) {
    vbm_set_error (err, errno, "%s: %s", output, strerror (errno));
    return -1;
  }
  if (stats)
    vbm_copy_sized (stats, &all, sizeof all);
  return 0;

 fail:
  vbm_lvm_state_free (ctx.lvm);
  vbm_btrfs_state_free (ctx.btrfs);
  vbm_store_abort (ctx.store);
  atomic_file_abort (&out);
  return -1;
}
