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

#endif /* VBM_VOLUMES_H */
