/* XFS, v4 and v5: the superblock of AG 0, then the phases of
 * xfs-map.h.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "xfs-map.h"

/* The biggest sector size XFS allows: the superblock is read whole. */
#define NULLFSINO UINT64_MAX
#define SB_READ 32768

static bool
xfs_magic (const unsigned char *buf, size_t len)
{
  return xfs_sb_magic (buf, len);
}

static void
set_geometry (struct xfs_map *m)
{
  const struct vbm_fsmap_geometry geo = {
    .unit_name = "block",
    .outside = "the filesystem",
    .unit_size = m->bs,
    .units = m->sb.dblocks,
  };

  vbm_fsmap_set_geometry (m->fm, &geo);
}

/* The internal log. */
static int
map_log (struct xfs_map *m)
{
  uint64_t u;
  int64_t obj;

  if (m->sb.logstart == 0) {
    xfs_warn (m, "XFS log on an external device: not mapped");
    return 0;
  }
  if (!xfs_fsb_unit (m, m->sb.logstart, m->sb.logblocks, &u)) {
    xfs_warn (m, "XFS log outside the filesystem: not mapped");
    return 0;
  }
  obj = vbm_fsmap_meta (m->fm, "<journal>", m->sb.logblocks * m->bs);
  if (obj == -1 ||
      vbm_fsmap_units (m->fm, obj, u, m->sb.logblocks, 0, 0) == -1 ||
      vbm_fsmap_flush (m->fm) == -1)
    return -1;
  vbm_fsmap_end_object (m->fm, "<journal>");
  return 0;
}

/* A damaged primary superblock (its magic still there, so this was
 * XFS): its copy in AG 1, where mkfs.xfs puts it for a filesystem
 * filling the volume, AGs of the volume's blocks divided by their
 * count (rounded up, or down).  A volume without the magic is not
 * probed: a stale copy would make a reformatted volume look like XFS.
 * Returns the copy's offset, or 0 if none is found.
 */
static uint64_t
find_backup (struct vbm_ctx *ctx, const struct vbm_volume *vol,
             unsigned char *sec, struct xfs_sb *sb)
{
  static const uint32_t sizes[] = { 4096, 1024, 2048, 512, 8192, 16384,
                                    32768, 65536 };
  char why[128];
  size_t i;
  uint64_t agcount, k;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    const uint64_t blocks = vol->length / sizes[i];

    for (agcount = 2; agcount <= 64; agcount++) {
      for (k = 0; k < 2; k++) {
        uint64_t agblocks = blocks / agcount + (k && blocks % agcount);
        uint64_t off = agblocks * sizes[i];

        if (agblocks < 16 || off + 512 > vol->length)
          continue;
        if (vbm_volume_pread (ctx, vol, sec, 512, off) == -1)
          return 0;
        if (xfs_parse_sb (sec, 512, sb, why, sizeof why) &&
            sb->blocksize == sizes[i] && sb->agblocks == agblocks &&
            sb->sectsize == 512)
          return off;
      }
    }
  }
  return 0;
}

static int
read_sb (struct xfs_map *m, unsigned char *buf, size_t len)
{
  char why[128];

  if (vbm_volume_pread (m->ctx, m->vol, buf, len, 0) == -1)
    return -1;
  if (!xfs_parse_sb (buf, len, &m->sb, why, sizeof why)) {
    uint64_t off = find_backup (m->ctx, m->vol, buf, &m->sb);

    if (off == 0) {
      xfs_warn (m, "XFS superblock unusable (%s): only the superblock is "
                "mapped", why);
      return 0;
    }
    xfs_warn (m, "XFS superblock unusable (%s): using its copy in AG 1 "
              "(offset %" PRIu64 ")", why, off);
    /* The copies leave the realtime inodes out: mkfs.xfs makes them
     * right after the root directory, where xfs_repair expects them.
     */
    if (m->sb.rbmino == NULLFSINO || m->sb.rbmino == 0) {
      m->sb.rbmino = m->sb.rootino + 1;
      m->sb.rsumino = m->sb.rootino + 2;
    }
    return 1;
  }
  if (m->sb.crc && !xfs_crc_ok (buf, m->sb.sectsize, 224))
    xfs_warn (m, "XFS superblock: bad CRC (used as it is)");
  if (m->sb.version == 5 &&
      ((m->sb.ro_compat & ~XFS_RO_KNOWN) ||
       (m->sb.incompat & ~XFS_IN_KNOWN)))
    xfs_warn (m, "XFS features unknown to this reader (ro_compat 0x%"
              PRIx32 ", incompat 0x%" PRIx32 "): the map may be partial",
              m->sb.ro_compat & ~XFS_RO_KNOWN,
              m->sb.incompat & ~XFS_IN_KNOWN);
  if (m->sb.incompat & XFS_IN_NEEDSREPAIR)
    xfs_warn (m, "XFS filesystem marked as needing repair");
  if (m->sb.rblocks)
    xfs_warn (m, "XFS realtime device of %" PRIu64 " blocks: not mapped "
              "(files on it have no extents in the map)", m->sb.rblocks);
  return 1;
}

static int
map_sb_only (struct xfs_map *m, size_t len)
{
  int64_t obj = vbm_fsmap_meta (m->fm, "<superblock>", 512);

  if (obj == -1 || vbm_fsmap_bytes (m->fm, obj, 0, 512, 0, 0) == -1)
    return -1;
  (void) len;
  return vbm_fsmap_finish (m->fm);
}

static int
xfs_map (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  struct xfs_map m = { .ctx = ctx, .vol = vol };
  size_t len = vol->length < SB_READ ? vol->length : SB_READ;
  unsigned char *sb = NULL;
  size_t i;
  int r = -1, ok;

  if (vol->length < 512)
    return 0;
  m.fm = vbm_fsmap_new (ctx, vol);
  if (m.fm == NULL)
    return -1;
  sb = malloc (len);
  if (sb == NULL) {
    vbm_set_error (ctx->err, ENOMEM, "%s: out of memory", vol->device);
    goto out;
  }
  ok = read_sb (&m, sb, len);
  if (ok <= 0) {
    r = ok == 0 ? map_sb_only (&m, len) : -1;
    goto out;
  }
  m.bs = m.sb.blocksize;
  if (m.sb.dblocks > vol->length / m.bs)
    xfs_warn (&m, "filesystem is %" PRIu64 " bytes but the volume only %"
              PRIu64 " (truncated image?): mapping what is inside",
              m.sb.dblocks * m.bs, vol->length);
  if (ctx->stats)
    ctx->stats->filesystems++;
  if (vbm_set_fstype (ctx, vol->object, "xfs") == -1)
    goto out;
  vbm_debug (ctx, "%s: XFS v%u, %" PRIu32 " AGs of %" PRIu32 " blocks of %"
             PRIu64 " bytes", vol->device, m.sb.version, m.sb.agcount,
             m.sb.agblocks, m.bs);
  vbm_expect (ctx, m.sb.icount);
  set_geometry (&m);
  if (xfs_map_ags (&m) == -1 ||
      map_log (&m) == -1 ||
      xfs_collect_names (&m) == -1 ||
      xfs_map_inodes (&m) == -1 ||
      xfs_map_unclaimed (&m) == -1)
    goto out;
  if (m.bad_crc > 10)
    xfs_warn (&m, "%" PRIu64 " XFS blocks or inodes with a bad CRC in all",
              m.bad_crc);
  r = vbm_fsmap_finish (m.fm);

 out:
  free (sb);
  xfs_free_names (&m);
  xfs_range_vector_reset (&m.free);
  xfs_range_vector_reset (&m.shared);
  xfs_chunk_vector_reset (&m.chunks);
  for (i = 0; i < sizeof m.tree_blocks / sizeof m.tree_blocks[0]; i++)
    xfs_range_vector_reset (&m.tree_blocks[i]);
  lazy_bitmap_free (&m.tree_seen);
  vbm_fsmap_free (m.fm);
  return r;
}

const struct vbm_fs_reader vbm_xfs_reader = {
  .name = "xfs",
  .magic = xfs_magic,
  .map = xfs_map,
};
