/* The LVM mapper's own interfaces (lvm-pv.c finds PVs, lvm-lv.c
 * lays LVs out as volumes, lvm-map.c maps the VGs): the PVs found, the
 * VG being mapped, an LV as a volume layout.
 */
#ifndef VBM_LVM_MAP_H
#define VBM_LVM_MAP_H

#include "ctx.h"
#include "lvm.h"
#include "vector.h"

/* Stripe chunks resolved per walk of a whole LV: 2^26 chunks of 4 KiB
 * or more are 256 GiB of striped data; beyond, metadata describing an
 * LV far bigger than its PVs would keep us busy for nothing.
 */
#define VBM_LVM_MAX_CHUNKS (UINT64_C (1) << 26)

/* A PV found on a disk. */
struct found_pv {
  unsigned disk;
  struct vbm_source *src;
  int64_t object;               /* the partition or disk holding it */
  char *device;
  uint64_t offset, length;      /* on its disk */
  struct vbm_lvm_label label;
  char *text;                   /* newest valid metadata, or NULL */
  size_t text_len;
  uint64_t seqno;
  char vg_uuid[VBM_LVM_ID_LEN + 1];
  bool mapped;                  /* its VG has been mapped */
  bool orphan;                  /* valid metadata areas, all empty */
};
DEFINE_VECTOR_TYPE (found_pv_vector, struct found_pv);

struct vbm_lvm_state {
  found_pv_vector pvs;
};

/* A VG being mapped: its model and, for each of its PVs, where it is. */
struct vg_map {
  struct vbm_ctx *ctx;
  struct vbm_lvm_vg *vg;
  struct found_pv **where;      /* per vg->pvs[i]; NULL if missing */
  int64_t *lv_object;           /* per LV, 0 until mapped */
  unsigned char *lv_done;
};

/* The layout of an LV as a volume. */
struct lv_layout {
  struct vbm_volume_layout l;
  struct vg_map *m;
  uint32_t lv;
  /* Pieces past the end of their PV are clipped; warned once. */
  bool *past_end_warned;
};

/* lvm-pv.c: a child object of a PV (label, metadata area, free
 * extents).
 */
extern int64_t vbm_lvm_pv_child (struct vbm_ctx *ctx,
                                 const struct vbm_volume *vol, char kind,
                                 const char *path, uint64_t size);

/* lvm-lv.c: resolve of an lv_layout; VBM_LVM_MAX_CHUNKS chunks at most
 * unless first_copy_only (reads, bounded by their length).
 */
extern int vbm_lvm_lv_resolve (const struct vbm_volume_layout *l,
                               uint64_t off, uint64_t len,
                               bool first_copy_only, vbm_volume_piece_fn fn,
                               void *opaque, uint64_t *unmapped);

/* A thin LV as a volume: its blocks through the pool's metadata. */
struct thin_layout {
  struct vbm_volume_layout l;
  struct lv_layout data;        /* the pool's _tdata */
  struct vbm_lvm_thin_map map;
};

/* Reads the mappings of thin LV i into tl.  False (after a warning)
 * if they cannot be had: its blocks then stay with the pool.
 */
extern bool vbm_lvm_thin_setup (struct vg_map *m, uint32_t i,
                                const char *device, struct thin_layout *tl,
                                bool *warned);

#endif /* VBM_LVM_MAP_H */
