/* The volume stage: partition tables, then a filesystem in each. */
#ifndef VBM_VOLUMES_H
#define VBM_VOLUMES_H

#include "ctx.h"

/* Maps the partition table(s) of the whole disk volume and calls
 * vbm_map_filesystem on each partition (or on the whole disk if there
 * is no partition table).  Returns -1 only on fatal errors.
 */
extern int vbm_map_volumes (struct vbm_ctx *ctx,
                            const struct vbm_volume *disk);

/* LVM2 (lvm-pv.c, lvm-map.c).  vbm_lvm_probe: whether the volume is a PV (a label
 * in one of its first four sectors).  vbm_map_lvm_pv maps the PV's
 * headers and remembers it in ctx->lvm; vbm_map_lvm maps the VGs of
 * all the PVs remembered once every disk has been seen, LVs and their
 * filesystems included.  Both return -1 only on fatal errors.
 */
struct vbm_lvm_state;
extern int vbm_lvm_probe (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                          bool *found);
extern int vbm_map_lvm_pv (struct vbm_ctx *ctx, const struct vbm_volume *vol);
extern int vbm_map_lvm (struct vbm_ctx *ctx);
extern void vbm_lvm_state_free (struct vbm_lvm_state *st);

#endif /* VBM_VOLUMES_H */
