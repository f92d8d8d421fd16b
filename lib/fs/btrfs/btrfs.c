/* btrfs: the superblock of the newest device, the chunk map, every
 * tree, then the phases of btrfs-map.h.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"
#include "fs.h"

/* The superblock is past the probe's first 4 KiB: magic never sees
 * it, probe reads it.
 */
static bool
btrfs_magic (const unsigned char *buf, size_t len)
{
  (void) buf;
  (void) len;
  return false;
}

static bool
btrfs_probe (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char buf[BT_SUPER_SIZE];

  return vol->length >= BT_SUPER_OFFSET + BT_SUPER_SIZE &&
    vbm_volume_pread (ctx, vol, buf, sizeof buf, BT_SUPER_OFFSET) == 0 &&
    bt_sb_magic (buf);
}

/* ---- The system chunk array and the chunk tree. ---- */

static int
sys_array (struct btrfs_map *m, const unsigned char *sb)
{
  const unsigned char *p = sb + BT_SYS_ARRAY_OFF;
  uint32_t off = 0, size = m->sb.sys_array_size;

  while (size - off >= BT_KEY_SIZE + BT_CHUNK_SIZE + BT_STRIPE_SIZE) {
    struct bt_key k;
    struct bt_chunk c;
    const char *why;
    int r;

    bt_key_read (p + off, &k);
    off += BT_KEY_SIZE;
    if (k.type != BT_CHUNK_ITEM) {
      bt_warn (m, "btrfs system chunk array: item of type %u: the rest is "
               "ignored", k.type);
      return 0;
    }
    if (!bt_chunk_parse (&m->chunks, k.offset, p + off, size - off, &c,
                         &why)) {
      if (why == NULL)
        return bt_nomem (m);
      bt_warn (m, "btrfs system chunk %" PRIu64 ": %s: the rest of the "
               "array is ignored", k.offset, why);
      return 0;
    }
    off += BT_CHUNK_SIZE + c.num_stripes * BT_STRIPE_SIZE;
    r = bt_chunk_add (&m->chunks, &c);
    if (r == -1)
      return bt_nomem (m);
    if (r == 0)
      bt_warn (m, "btrfs system chunk %" PRIu64 " overlaps another: "
               "ignored", k.offset);
  }
  return 0;
}

/* Each stripe's device in the table, or -1. */
static void
assign_stripes (struct btrfs_map *m)
{
  size_t i, d;

  for (i = 0; i < m->chunks.stripes.len; i++) {
    struct bt_stripe *s = &m->chunks.stripes.ptr[i];

    s->dev = -1;
    for (d = 0; d < m->devs.len; d++)
      if (m->devs.ptr[d].present && m->devs.ptr[d].devid == s->devid)
        s->dev = d;
  }
}

/* The geometry of each device present, the devices missing, the
 * stripes past their device.
 */
static void
check_devices (struct btrfs_map *m)
{
  uint64_t past = 0, missing = 0;
  size_t i, d;

  for (d = 0; d < m->devs.len; d++) {
    struct bt_dev *dev = &m->devs.ptr[d];
    struct vbm_fsmap_geometry geo = {
      .unit_name = "sector", .outside = "the device", .unit_size = m->ss,
    };

    if (!dev->present) {
      missing++;
      bt_warn (m, "btrfs device %" PRIu64 " (%" PRIu64 " bytes) is missing: "
               "what it holds is not mapped", dev->devid, dev->total_bytes);
      continue;
    }
    if (dev->total_bytes == 0)
      dev->total_bytes = dev->mem->vol.length;
    if (dev->total_bytes > dev->mem->vol.length)
      vbm_fsmap_warn (dev->fm, "btrfs device of %" PRIu64 " bytes but the "
                      "volume only %" PRIu64 " (truncated image?): mapping "
                      "what is inside", dev->total_bytes,
                      dev->mem->vol.length);
    dev->units = dev->total_bytes / m->ss;
    geo.units = dev->units;
    vbm_fsmap_set_geometry (dev->fm, &geo);
  }
  if (m->devs.len - missing < m->sb.num_devices && missing == 0)
    bt_warn (m, "btrfs filesystem of %" PRIu64 " devices: %zu found",
             m->sb.num_devices, m->devs.len);
  for (i = 0; i < m->chunks.v.len; i++) {
    const struct bt_chunk *c = &m->chunks.v.ptr[i];
    unsigned k;

    for (k = 0; k < c->num_stripes; k++) {
      const struct bt_stripe *s = &m->chunks.stripes.ptr[c->first_stripe + k];

      if (s->dev >= 0 &&
          s->offset + c->dev_len > m->devs.ptr[s->dev].units * m->ss &&
          past++ < 10)
        bt_warn (m, "btrfs chunk %" PRIu64 ": stripe %u runs past the end "
                 "of device %" PRIu64 " (mapped up to it)", c->logical, k,
                 s->devid);
    }
  }
}

/* Visits allowed: every metadata block of the chunks 64 times over
 * (snapshots share blocks: each is visited once per tree using it).
 */
static void
set_budget (struct btrfs_map *m)
{
  uint64_t blocks = 0;
  size_t i;

  for (i = 0; i < m->chunks.v.len; i++)
    if (m->chunks.v.ptr[i].type & (BT_BG_METADATA | BT_BG_SYSTEM))
      blocks += m->chunks.v.ptr[i].length / m->ns;
  m->visits_left += blocks > (UINT64_C (1) << 32) ? UINT64_C (1) << 38
    : blocks * 64;
}

/* ---- The trees. ---- */

struct log_root {
  uint64_t bytenr;
  uint8_t level;
};
DEFINE_VECTOR_TYPE (log_root_vector, struct log_root);

static int
log_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
          const unsigned char *d, uint32_t size, uint64_t leaf, uint32_t off)
{
  log_root_vector *v = opaque;
  struct log_root r;

  (void) leaf;
  (void) off;
  if (k->type != BT_ROOT_ITEM || size < 239)
    return 0;
  r.bytenr = vbm_le64 (d + 176);
  r.level = d[238];
  return log_root_vector_append (v, r) == -1 ? bt_nomem (m) : 0;
}

static int
walk_log (struct btrfs_map *m)
{
  log_root_vector roots = empty_vector;
  struct bt_tree *t = bt_tree_get (m, BT_TREE_LOG, NULL);
  size_t i;
  int r = -1;

  if (t == NULL)
    return -1;
  if (bt_walk_tree (m, t, m->sb.log_root, m->sb.log_root_level, log_item,
                    &roots) == -1)
    goto out;
  for (i = 0; i < roots.len; i++) {
    /* The vector may have moved: the tree again. */
    t = bt_tree_get (m, BT_TREE_LOG, NULL);
    if (t == NULL || bt_walk_tree (m, t, roots.ptr[i].bytenr,
                                   roots.ptr[i].level, NULL, NULL) == -1)
      goto out;
  }
  r = 0;
 out:
  log_root_vector_reset (&roots);
  return r;
}

static int
walk_trees (struct btrfs_map *m)
{
  struct bt_tree *t;
  size_t i;
  bool fs_seen = false;

  /* The chunk tree's walk, before the chunks give the real bound. */
  m->visits_left = 65536;
  t = bt_tree_get (m, BT_CHUNK_TREE, NULL);
  if (t == NULL || bt_walk_tree (m, t, m->sb.chunk_root,
                                 m->sb.chunk_root_level, bt_chunk_item,
                                 NULL) == -1)
    return -1;
  assign_stripes (m);
  check_devices (m);
  set_budget (m);

  t = bt_tree_get (m, BT_ROOT_TREE, NULL);
  if (t == NULL || bt_walk_tree (m, t, m->sb.root, m->sb.root_level,
                                 bt_root_item, NULL) == -1)
    return -1;
  for (i = 0; i < m->subvols.len; i++) {
    const struct bt_subvol *s = &m->subvols.ptr[i];
    uint32_t sv = i;
    uint64_t before = m->bad_blocks;
    bool budget = m->budget_warned;
    int r;

    t = bt_tree_get (m, s->id, NULL);
    if (t == NULL)
      return -1;
    if (s->id == BT_EXTENT_TREE) {
      r = bt_walk_tree (m, t, s->bytenr, s->level, bt_extent_item, NULL);
      m->extent_tree_ok = m->bad_blocks == before &&
        m->budget_warned == budget;
    }
    else if (s->id == BT_FREE_SPACE_TREE) {
      r = bt_walk_tree (m, t, s->bytenr, s->level, bt_fst_item, NULL);
      m->fst_ok = m->bad_blocks == before && m->budget_warned == budget;
    }
    else if (s->fs && (s->refs > 0 || s->id == BT_FS_TREE)) {
      fs_seen |= s->id == BT_FS_TREE;
      r = bt_walk_tree (m, t, s->bytenr, s->level, bt_fs_item, &sv);
    }
    else if (s->fs) {
      /* A deleted subvolume being cleaned up: the blocks it has freed
       * already may hold anything now.  What is left of it stays
       * <unaccounted>.
       */
      vbm_debug (m->ctx, "%s: btrfs subvolume %" PRIu64 " deleted: "
                 "not walked", m->device, s->id);
      r = 0;
    }
    else
      r = bt_walk_tree (m, t, s->bytenr, s->level, NULL, NULL);
    if (r == -1)
      return -1;
    if (s->id % 1024 == 0)
      vbm_fsmap_progress (m->fm, i, m->subvols.len);
  }
  if (!fs_seen)
    bt_warn (m, "btrfs root tree: no top-level fs tree: no files mapped");
  if (m->sb.log_root && walk_log (m) == -1)
    return -1;
  return 0;
}

/* ---- The filesystem. ---- */

static int
open_devices (struct btrfs_map *m, struct bt_member **mem, size_t n,
              size_t primary)
{
  size_t i, k;

  if (bt_dev_vector_reserve (&m->devs, n) == -1)
    return bt_nomem (m);
  for (k = 0; k < n; k++) {
    /* The newest device first: its fsmap makes the objects. */
    struct bt_member *b = mem[k == 0 ? primary : k <= primary ? k - 1 : k];
    struct bt_dev d = { .devid = b->devid, .mem = b, .present = true };

    for (i = 0; i < m->devs.len; i++)
      if (m->devs.ptr[i].devid == d.devid)
        break;
    if (i < m->devs.len) {
      vbm_warn (m->ctx, "%s: btrfs device %" PRIu64 " is also %s: ignored",
                b->vol.device, d.devid, m->devs.ptr[i].mem->vol.device);
      continue;
    }
    d.fm = vbm_fsmap_new (&b->ctx, &b->vol);
    if (d.fm == NULL)
      return -1;
    m->devs.ptr[m->devs.len++] = d;
    if (vbm_set_fstype (&b->ctx, b->vol.object, "btrfs") == -1)
      return -1;
  }
  return 0;
}

/* The superblock of a member, parsed: 1, or 0 if it is unusable (why
 * says why), -1 if it cannot be read (fatal).
 */
static int
member_sb (struct bt_member *b, unsigned char *buf, struct bt_sb *sb,
           char *why, size_t whylen)
{
  if (vbm_volume_pread (&b->ctx, &b->vol, buf, BT_SUPER_SIZE,
                        BT_SUPER_OFFSET) == -1)
    return -1;
  if (!bt_parse_sb (buf, sb, why, whylen))
    return 0;
  b->devid = sb->devid;
  b->generation = sb->generation;
  return 1;
}

static int
map_sb_only (struct vbm_ctx *ctx, struct bt_member *b, const char *why)
{
  struct vbm_fsmap *fm = vbm_fsmap_new (&b->ctx, &b->vol);
  int64_t obj;
  int r = -1;

  if (fm == NULL)
    return -1;
  vbm_fsmap_warn (fm, "btrfs superblock unusable (%s): only the superblock "
                  "is mapped", why);
  obj = vbm_fsmap_meta (fm, "<superblock>", BT_SUPER_SIZE);
  if (obj != -1 &&
      vbm_fsmap_bytes (fm, obj, BT_SUPER_OFFSET, BT_SUPER_SIZE, 0, 0) == 0)
    r = vbm_fsmap_finish (fm);
  vbm_fsmap_free (fm);
  (void) ctx;
  return r;
}

static void
free_map (struct btrfs_map *m)
{
  size_t i;

  for (i = 0; i < m->devs.len; i++)
    vbm_fsmap_free (m->devs.ptr[i].fm);
  bt_dev_vector_reset (&m->devs);
  bt_chunks_free (&m->chunks);
  for (i = 0; i < m->trees.len; i++)
    bt_u64_vector_reset (&m->trees.ptr[i].blocks);
  bt_tree_vector_reset (&m->trees);
  for (i = 0; i < m->subvols.len; i++)
    free (m->subvols.ptr[i].path);
  bt_subvol_vector_reset (&m->subvols);
  bt_inode_vector_reset (&m->inodes);
  bt_name_vector_reset (&m->names);
  bt_extent_vector_reset (&m->extents);
  bt_byte_vector_reset (&m->pool);
  bt_ref_vector_reset (&m->refs);
  bt_seg_vector_reset (&m->segs);
  bt_range_vector_reset (&m->allocated);
  bt_range_vector_reset (&m->fst_groups);
  bt_range_vector_reset (&m->fst_free);
  for (i = 0; i < BT_MAX_LEVEL; i++)
    free (m->level_buf[i]);
  bt_cache_free (m);
  bt_seen_free (m);
  free (m->path);
}

int
bt_map_members (struct vbm_ctx *ctx, struct bt_member **mem, size_t n)
{
  struct btrfs_map m = { .ctx = ctx };
  unsigned char buf[BT_SUPER_SIZE];
  struct bt_sb sb;
  char why[160];
  size_t i, primary = n;
  int r = -1, ok;

  /* The newest superblock describes the filesystem. */
  for (i = 0; i < n; i++) {
    ok = member_sb (mem[i], buf, &sb, why, sizeof why);
    if (ok == -1)
      return -1;
    if (ok && (primary == n || sb.generation > mem[primary]->generation))
      primary = i;
  }
  if (primary == n)
    return map_sb_only (ctx, mem[0], why);
  ok = member_sb (mem[primary], buf, &m.sb, why, sizeof why);
  if (ok <= 0)
    return ok == -1 ? -1 : map_sb_only (ctx, mem[primary], why);
  m.ns = m.sb.nodesize;
  m.ss = m.sb.sectorsize;
  m.device = mem[primary]->vol.device;
  if (open_devices (&m, mem, n, primary) == -1)
    goto out;
  m.fm = m.devs.ptr[0].fm;
  if (ctx->stats)
    ctx->stats->filesystems++;

  ok = bt_csum_ok (m.sb.csum_type, buf, BT_SUPER_SIZE);
  if (ok == 0)
    bt_warn (&m, "btrfs superblock: bad checksum (used as it is)");
  else if (ok < 0)
    bt_warn (&m, "btrfs checksums of type %s (%u): not verified",
             bt_csum_name (m.sb.csum_type), m.sb.csum_type);
  if (m.sb.incompat & ~BT_IN_KNOWN)
    bt_warn (&m, "btrfs features unknown to this reader (incompat 0x%"
             PRIx64 "): the map may be partial",
             m.sb.incompat & ~BT_IN_KNOWN);
  vbm_debug (ctx, "%s: btrfs, %" PRIu64 " device(s), %" PRIu64 " found, "
             "nodes of %" PRIu64 " bytes, sectors of %" PRIu64, m.device,
             m.sb.num_devices, (uint64_t) m.devs.len, m.ns, m.ss);

  if (sys_array (&m, buf) == -1)
    goto out;
  assign_stripes (&m);
  if (walk_trees (&m) == -1)
    goto out;
  vbm_expect (ctx, m.inodes.len);
  if (bt_map_supers (&m) == -1 ||
      bt_map_tree_blocks (&m) == -1 ||
      bt_map_parity (&m) == -1 ||
      bt_map_files (&m) == -1 ||
      bt_map_unclaimed (&m) == -1)
    goto out;
  if (m.bad_csum > 0)
    bt_warn (&m, "%" PRIu64 " btrfs tree block copies with a bad checksum "
             "in all", m.bad_csum);
  if (m.bad_blocks > 20)
    bt_warn (&m, "%" PRIu64 " btrfs tree blocks unusable in all",
             m.bad_blocks);
  if (m.bad_items > 10)
    bt_warn (&m, "%" PRIu64 " btrfs items skipped in all", m.bad_items);
  r = 0;
  for (i = 0; i < m.devs.len; i++)
    if (m.devs.ptr[i].present && vbm_fsmap_finish (m.devs.ptr[i].fm) == -1)
      r = -1;
 out:
  free_map (&m);
  return r;
}

const struct vbm_fs_reader vbm_btrfs_reader = {
  .name = "btrfs",
  .magic = btrfs_magic,
  .probe = btrfs_probe,
  .map = bt_map_volume,
  .mbr_room = true,
};
