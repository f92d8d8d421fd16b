/* Filesystems over several devices: each member found (a volume with
 * a btrfs superblock whose filesystem has more than one device) is
 * remembered by fsid and devid in ctx->btrfs; the filesystem is mapped
 * as soon as all its devices have been seen, or once every disk has
 * been mapped (vbm_map_btrfs_pending) with the devices present.  As
 * LVM gathers its PVs.
 *
 * A member inside a volume that is not one range of a disk (a striped
 * or mirrored LV) cannot be kept for later: its layout lives only
 * while the volume is mapped.  It is mapped alone, with a warning.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"
#include "fs.h"

static int
nomem (struct vbm_ctx *ctx)
{
  vbm_set_error (ctx->err, ENOMEM, "btrfs: out of memory");
  return -1;
}

/* Maps the unmapped members with the fsid of member i. */
static int
map_group (struct vbm_ctx *ctx, struct vbm_btrfs_state *st, size_t i)
{
  struct bt_member **group;
  size_t j, n = 0;
  int r;

  group = malloc (st->members.len * sizeof *group);
  if (group == NULL)
    return nomem (ctx);
  for (j = 0; j < st->members.len; j++) {
    struct bt_member *b = &st->members.ptr[j];

    if (!b->mapped &&
        memcmp (b->fsid, st->members.ptr[i].fsid, BT_FSID_SIZE) == 0) {
      b->mapped = true;
      group[n++] = b;
    }
  }
  r = bt_map_members (ctx, group, n);
  free (group);
  return r;
}

/* The number of distinct devids among the unmapped members with the
 * fsid of member i.
 */
static uint64_t
devices_seen (const struct vbm_btrfs_state *st, size_t i)
{
  uint64_t n = 0;
  size_t j, k;

  for (j = 0; j < st->members.len; j++) {
    const struct bt_member *a = &st->members.ptr[j];
    bool dup = false;

    if (a->mapped || memcmp (a->fsid, st->members.ptr[i].fsid,
                             BT_FSID_SIZE) != 0)
      continue;
    for (k = 0; k < j && !dup; k++)
      dup = !st->members.ptr[k].mapped &&
        memcmp (st->members.ptr[k].fsid, a->fsid, BT_FSID_SIZE) == 0 &&
        st->members.ptr[k].devid == a->devid;
    n += !dup;
  }
  return n;
}

int
bt_map_volume (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char buf[BT_SUPER_SIZE];
  struct bt_member one = { .ctx = *ctx, .vol = *vol }, *p = &one, b;
  struct vbm_btrfs_state *st;
  struct bt_sb sb;
  char why[128];

  if (vol->length < BT_SUPER_OFFSET + BT_SUPER_SIZE)
    return 0;
  if (vbm_volume_pread (ctx, vol, buf, sizeof buf, BT_SUPER_OFFSET) == -1)
    return -1;
  if (!bt_parse_sb (buf, &sb, why, sizeof why) || sb.num_devices == 1)
    return bt_map_members (ctx, &p, 1);
  if (vol->layout) {
    vbm_warn (ctx, "%s: btrfs device %" PRIu64 " of %" PRIu64 " in a laid "
              "out volume: mapped alone", vol->device, sb.devid,
              sb.num_devices);
    return bt_map_members (ctx, &p, 1);
  }

  if (ctx->btrfs == NULL && (ctx->btrfs = calloc (1, sizeof *ctx->btrfs)) ==
      NULL)
    return nomem (ctx);
  st = ctx->btrfs;
  b = (struct bt_member) { .devid = sb.devid, .generation = sb.generation,
                           .num_devices = sb.num_devices, .ctx = *ctx,
                           .vol = *vol };
  memcpy (b.fsid, sb.fsid, BT_FSID_SIZE);
  b.vol.device = strdup (vol->device);
  if (b.vol.device == NULL || bt_member_vector_append (&st->members, b) == -1)
    return nomem (ctx);
  vbm_debug (ctx, "%s: btrfs device %" PRIu64 " of %" PRIu64, vol->device,
             sb.devid, sb.num_devices);
  if (devices_seen (st, st->members.len - 1) >= sb.num_devices)
    return map_group (ctx, st, st->members.len - 1);
  return 0;
}

int
vbm_map_btrfs_pending (struct vbm_ctx *ctx)
{
  struct vbm_btrfs_state *st = ctx->btrfs;
  size_t i;

  if (st == NULL)
    return 0;
  for (i = 0; i < st->members.len; i++)
    if (!st->members.ptr[i].mapped && map_group (ctx, st, i) == -1)
      return -1;
  return 0;
}

void
vbm_btrfs_state_free (struct vbm_btrfs_state *st)
{
  size_t i;

  if (st == NULL)
    return;
  for (i = 0; i < st->members.len; i++)
    free ((char *) st->members.ptr[i].vol.device);
  bt_member_vector_reset (&st->members);
  free (st);
}
