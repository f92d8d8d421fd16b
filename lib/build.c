/* Building a map: the top of the data flow.  Each disk becomes a
 * device object whose volumes and filesystems are mapped into a new
 * map file, written under a temporary name and renamed on success.
 * The stages below write through the mapping context (ctx.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctx.h"
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
  obj.disk = disk;
  obj.device = device;
  obj.size = src->size;
  id = vbm_add_object (ctx, &obj);
  if (id == -1)
    return -1;
  ctx->stats->disks++;
  if (src->size == 0) {
    vbm_warn (ctx, "%s: %s is empty", device, src->path);
    return 0;
  }
  if (vbm_add_extent (ctx, id, 0, src->size, 0, 0) == -1)
    return -1;
  vol = (struct vbm_volume) {
    .object = id, .device = device, .offset = 0, .length = src->size,
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

/* A temporary file beside output, so the final rename is atomic. */
static char *
make_temp (const char *output, struct vbm_error *err)
{
  char *tmp;
  int fd;

  if (asprintf (&tmp, "%s.tmpXXXXXX", output) == -1) {
    vbm_set_error (err, errno, "asprintf: %s", strerror (errno));
    return NULL;
  }
  fd = mkstemp (tmp);
  if (fd == -1) {
    vbm_set_error (err, errno, "%s: %s", output, strerror (errno));
    free (tmp);
    return NULL;
  }
  /* mkstemp makes it 0600; a map is no more secret than the image. */
  fchmod (fd, 0644);
  close (fd);
  return tmp;
}

int
vbm_build_map (const char *output, struct vbm_source **disks, size_t ndisks,
               const struct vbm_build_options *opts, struct vbm_stats *stats,
               struct vbm_error *err)
{
  CLEANUP_FREE char *tmp = NULL;
  struct vbm_stats local_stats;
  struct vbm_ctx ctx;
  char count[32];
  size_t i;
  double t0 = now (), t1;

  if (opts && opts->sector_size != 0 && opts->sector_size != 512 &&
      opts->sector_size != 4096) {
    vbm_set_error (err, EINVAL, "sector size %u: must be 512 or 4096",
                   opts->sector_size);
    return -1;
  }
  if (stats == NULL)
    stats = &local_stats;
  memset (stats, 0, sizeof *stats);
  tmp = make_temp (output, err);
  if (tmp == NULL)
    return -1;
  ctx = (struct vbm_ctx) { .opts = opts, .stats = stats, .err = err };
  ctx.store = vbm_store_create (tmp, err);
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
  snprintf (count, sizeof count, "%u", stats->warnings);
  if (vbm_store_set_meta (ctx.store, "warnings", count, err) == -1)
    goto fail;
  t1 = now ();
  if (vbm_store_finish (ctx.store, err) == -1) {
    ctx.store = NULL;
    goto fail;
  }
  vbm_debug (&ctx, "mapped in %.3f s, indexed and committed in %.3f s",
             t1 - t0, now () - t1);
  if (rename (tmp, output) == -1) {
    vbm_set_error (err, errno, "rename %s: %s", output, strerror (errno));
    unlink (tmp);
    return -1;
  }
  return 0;

 fail:
  vbm_lvm_state_free (ctx.lvm);
  vbm_store_abort (ctx.store);
  unlink (tmp);
  return -1;
}
