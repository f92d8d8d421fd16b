/* LVM2 physical volumes, volume groups and logical volumes.
 *
 * The reader is split by concern, each part pure where it can be so
 * that tests and the fuzzer can feed it hand-made input:
 *  - lvm-label.c: the on-disk headers of a PV (label, pv_header,
 *    mda_header and its raw_locn slots), checked, and where the text
 *    metadata lies in the circular buffer of a metadata area;
 *  - lvm-text.c: the metadata text (LVM's config format) as a tree;
 *  - lvm-vg.c: the tree as a volume group (PVs, LVs, segments), with
 *    every count and reference checked;
 *  - lvm-layout.c: where a byte of an LV lies on its PVs (linear,
 *    striped, mirror, raid0/1/10/4/5/6, thin pool);
 *  - lvm-thin.c: the thin pool's metadata btrees, for thin LVs;
 * and the mapper (lvm-map.h): lvm-pv.c finds PVs while partitions are
 * mapped; lvm-lv.c lays LVs out as volumes (disk ranges); lvm-map.c,
 * once every disk has been seen, maps the VGs (objects, extents, free
 * extents) and hands each LV to the filesystem layer.
 */
#ifndef VBM_LVM_H
#define VBM_LVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtbmap.h"

#define VBM_LVM_SECTOR 512
#define VBM_LVM_LABEL_SCAN_SECTORS 4      /* the label is in one of these */
#define VBM_LVM_ID_LEN 32
#define VBM_LVM_MDA_HEADER_SIZE 512
#define VBM_LVM_MAX_AREAS 8               /* data/metadata areas per PV */
#define VBM_LVM_MAX_RLOCNS 8              /* raw_locn slots read */
/* Metadata texts are tens of KiB; LVM itself refuses more than a few
 * MiB.  A bigger one is refused: it is read into memory.
 */
#define VBM_LVM_MAX_TEXT (16 * 1024 * 1024)

/* ---- lvm-label.c ---- */

/* LVM's CRC: the CRC-32 polynomial, no final inversion, this seed. */
#define VBM_LVM_INITIAL_CRC 0xf597a6cfU
extern uint32_t vbm_lvm_crc (uint32_t seed, const void *buf, size_t len);

struct vbm_lvm_area {
  uint64_t offset;              /* bytes from the start of the PV */
  uint64_t size;                /* bytes; 0 for "to the end" (data) */
};

struct vbm_lvm_label {
  uint64_t sector;              /* where the label is (0..3) */
  char pv_uuid[VBM_LVM_ID_LEN + 1];
  uint64_t device_size;         /* bytes, as the PV header says */
  unsigned n_data, n_meta;
  struct vbm_lvm_area data[VBM_LVM_MAX_AREAS];
  struct vbm_lvm_area meta[VBM_LVM_MAX_AREAS];
};

/* Decodes the label in a 512-byte sector read at sector number
 * sector: "LABELONE", the sector number, the CRC, type "LVM2 001",
 * the pv_header and its area lists.  Returns 1 if there is no label,
 * 0 if there is one, -1 (err says why) if it is there but damaged.
 */
extern int vbm_lvm_parse_label (const unsigned char *buf, uint64_t sector,
                                 struct vbm_lvm_label *label,
                                 struct vbm_error *err);

struct vbm_lvm_rlocn {
  uint64_t offset;              /* from the start of the metadata area */
  uint64_t size;
  uint32_t checksum;
  uint32_t flags;               /* 1: ignored */
};

struct vbm_lvm_mda_header {
  uint64_t start;               /* bytes from the start of the PV */
  uint64_t size;
  unsigned n_rlocns;
  struct vbm_lvm_rlocn rlocn[VBM_LVM_MAX_RLOCNS];
};

/* Decodes the 512-byte header of the metadata area that starts at
 * byte area_offset of the PV: checksum, magic, version, start.
 */
extern int vbm_lvm_parse_mda_header (const unsigned char *buf,
                                     uint64_t area_offset,
                                     struct vbm_lvm_mda_header *h,
                                     struct vbm_error *err);

/* Where the text of rlocn lies in its metadata area: one or two
 * pieces (PV offsets), the second when the text wraps around the end
 * of the circular buffer to just after the header.  Returns -1 (err
 * says why) if the slot does not fit the area.
 */
struct vbm_lvm_text_pieces {
  unsigned n;
  uint64_t offset[2], len[2];
};
extern int vbm_lvm_text_pieces (const struct vbm_lvm_mda_header *h,
                                const struct vbm_lvm_rlocn *r,
                                struct vbm_lvm_text_pieces *p,
                                struct vbm_error *err);

/* ---- lvm-text.c ---- */

enum vbm_lvm_type { VBM_LVM_INT, VBM_LVM_STRING, VBM_LVM_ARRAY,
                    VBM_LVM_SECTION };

struct vbm_lvm_node {
  enum vbm_lvm_type type;
  const char *key;              /* NULL for array elements */
  int64_t num;                  /* VBM_LVM_INT */
  const char *str;              /* VBM_LVM_STRING, unescaped */
  struct vbm_lvm_node *child;   /* first child / element */
  struct vbm_lvm_node *next;    /* next sibling */
};

/* Bounds against hostile text. */
#define VBM_LVM_MAX_DEPTH 16
#define VBM_LVM_MAX_NODES (1024 * 1024)

struct vbm_lvm_tree;

/* Parses len bytes of text (it ends earlier at a NUL).  Returns NULL
 * with err saying where and why if the text is not well formed.
 */
extern struct vbm_lvm_tree *vbm_lvm_text_parse (const char *text, size_t len,
                                                struct vbm_error *err);
extern void vbm_lvm_tree_free (struct vbm_lvm_tree *t);
/* The top-level section (holds the VG section and the comments). */
extern const struct vbm_lvm_node *
vbm_lvm_tree_root (const struct vbm_lvm_tree *t);

/* Children of a section by key; NULL if absent. */
extern const struct vbm_lvm_node *vbm_lvm_find (const struct vbm_lvm_node *sec,
                                                const char *key);
/* Typed lookups: false if absent or of another type. */
extern bool vbm_lvm_get_int (const struct vbm_lvm_node *sec, const char *key,
                             int64_t *v);
extern bool vbm_lvm_get_str (const struct vbm_lvm_node *sec, const char *key,
                             const char **v);
/* Whether an array of strings (status = [...]) holds s. */
extern bool vbm_lvm_has_flag (const struct vbm_lvm_node *sec,
                              const char *key, const char *s);

/* ---- lvm-vg.c ---- */

enum vbm_lvm_segtype {
  VBM_LVM_SEG_STRIPED,          /* linear is striped with 1 stripe */
  VBM_LVM_SEG_MIRROR,
  VBM_LVM_SEG_RAID0,
  VBM_LVM_SEG_RAID1,
  VBM_LVM_SEG_RAID10,
  VBM_LVM_SEG_RAID456,          /* layout in raid_layout */
  VBM_LVM_SEG_THIN_POOL,
  VBM_LVM_SEG_THIN,
  VBM_LVM_SEG_NONE,             /* zero, error: no data on disk */
  VBM_LVM_SEG_OTHER,            /* cache, vdo, snapshot...: not mapped */
};

/* md's parity layouts (the names of dm-raid). */
enum vbm_lvm_raid_layout {
  VBM_RAID5_LA, VBM_RAID5_RA, VBM_RAID5_LS, VBM_RAID5_RS,
  VBM_RAID5_0, VBM_RAID5_N,     /* dedicated first / last parity */
  VBM_RAID6_ZR, VBM_RAID6_NR, VBM_RAID6_NC,
  VBM_RAID6_0, VBM_RAID6_N,     /* P, Q first / last */
  VBM_RAID6_LA_6, VBM_RAID6_RA_6, VBM_RAID6_LS_6, VBM_RAID6_RS_6,
};

/* An area of a segment: extents of a PV, or of another LV. */
struct vbm_lvm_seg_area {
  bool is_lv;
  uint32_t index;               /* into vg->pvs or vg->lvs */
  uint64_t start;               /* first PE or LE */
};

struct vbm_lvm_segment {
  enum vbm_lvm_segtype type;
  char type_name[24];
  uint64_t start_extent, extent_count;
  uint64_t stripe_size;         /* bytes; 0 when not striped */
  enum vbm_lvm_raid_layout layout;
  unsigned parity;              /* raid4/5: 1, raid6: 2 */
  unsigned data_copies;         /* raid10 */
  uint32_t n_areas;
  struct vbm_lvm_seg_area *areas;       /* data: stripes, images, legs */
  struct vbm_lvm_seg_area *meta;        /* raid _rmeta_N, or NULL */
  int64_t log_lv;               /* mirror log LV, or -1 */
  int64_t pool_lv, pool_meta_lv;        /* thin pool: _tdata, _tmeta */
  int64_t thin_pool;            /* thin: its pool */
  uint64_t device_id;           /* thin: its id in the pool */
};

struct vbm_lvm_lv {
  char *name;
  bool visible;
  uint64_t extents;             /* end of the last segment */
  uint64_t size;                /* bytes */
  uint32_t n_segs;
  struct vbm_lvm_segment *segs;
  /* Set by vbm_lvm_vg_check: an LV in a reference loop, nested too
   * deep or with too many copies; it resolves to nothing.
   */
  bool broken;
  unsigned copies;              /* copies of each byte (mirrors) */
  unsigned char state;          /* for the check's walk */
};

struct vbm_lvm_pv {
  char *name;                   /* pv0 */
  char uuid[VBM_LVM_ID_LEN + 1];        /* without the dashes */
  char *device_hint;
  uint64_t pe_start;            /* bytes */
  uint64_t pe_count;
};

struct vbm_lvm_vg {
  char *name;
  char uuid[VBM_LVM_ID_LEN + 1];
  uint64_t seqno;
  uint64_t extent_size;         /* bytes */
  uint32_t n_pvs, n_lvs;
  struct vbm_lvm_pv *pvs;
  struct vbm_lvm_lv *lvs;
};

/* Builds the VG of a metadata tree.  Returns NULL (err says why) if
 * the VG as a whole cannot be used; problems limited to one LV or
 * segment drop that LV or segment and are reported through warn.
 */
typedef void (*vbm_lvm_warn_fn) (void *opaque, const char *msg);
/* Formats a warning for fn (nothing if fn is NULL). */
extern void vbm_lvm_warnf (vbm_lvm_warn_fn fn, void *opaque,
                           const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));
extern struct vbm_lvm_vg *vbm_lvm_vg_parse (const struct vbm_lvm_tree *t,
                                            vbm_lvm_warn_fn warn, void *opaque,
                                            struct vbm_error *err);
extern void vbm_lvm_vg_free (struct vbm_lvm_vg *vg);
/* Strips the dashes of an LVM UUID; false if it is not 32 chars. */
extern bool vbm_lvm_uuid (const char *in, char out[VBM_LVM_ID_LEN + 1]);

/* ---- lvm-layout.c ---- */

/* Bounds: LVs stacked deeper than this, or holding more copies of a
 * byte (mirrors of mirrors), are hostile.
 */
#define VBM_LVM_MAX_STACK 8
#define VBM_LVM_MAX_COPIES 64

/* Checks how the LVs of a VG refer to each other (loops, depth,
 * copies) and that sizes do not overflow; marks the bad ones broken,
 * with a warning each.
 */
extern void vbm_lvm_vg_check (struct vbm_lvm_vg *vg, vbm_lvm_warn_fn warn,
                              void *opaque);

/* A piece of an LV on a PV: bytes [lv_offset, lv_offset+len) of the
 * LV are at byte pv_offset of PV pv (an index into vg->pvs).  copy
 * numbers the copies of mirrored data, 0 being the one to read.
 */
struct vbm_lvm_piece {
  uint32_t pv;
  uint64_t pv_offset;
  uint64_t lv_offset;
  uint64_t len;
  unsigned copy;
};

typedef int (*vbm_lvm_piece_fn) (void *opaque,
                                 const struct vbm_lvm_piece *piece);

/* Calls fn with the pieces holding bytes [offset, offset+len) of LV
 * lv (of a VG that went through vbm_lvm_vg_check), in LV order, every
 * copy of each (copy 0 first); with first_copy_only, only the copy to
 * read.  Bytes that lie nowhere (a thin LV, a missing stripe, a
 * reference loop) are skipped and counted in *unmapped.  At most
 * max_chunks stripe chunks are resolved: hostile metadata can
 * describe an LV far bigger than its PVs.  Returns fn's -1 if it
 * failed, 1 if max_chunks ran out (the rest is counted unmapped),
 * else 0.
 */
extern int vbm_lvm_resolve (const struct vbm_lvm_vg *vg, uint32_t lv,
                            uint64_t offset, uint64_t len,
                            bool first_copy_only, uint64_t max_chunks,
                            vbm_lvm_piece_fn fn, void *opaque,
                            uint64_t *unmapped);


/* ---- lvm-thin.c ---- */

/* Reads len bytes at offset of the thin pool's metadata (_tmeta). */
typedef int (*vbm_lvm_read_fn) (void *opaque, uint64_t offset, void *buf,
                                size_t len);

/* count blocks of a thin device from vblock on are the pool's data
 * blocks from dblock on.
 */
struct vbm_lvm_thin_run {
  uint64_t vblock, dblock, count;
};

struct vbm_lvm_thin_map {
  uint64_t block_size;          /* bytes */
  size_t n, cap;
  struct vbm_lvm_thin_run *runs;        /* sorted by vblock */
};

/* The mappings of thin device dev_id from the pool metadata of
 * meta_size bytes.  Returns -1 with why set if the metadata cannot be
 * used (or read's -1).
 */
extern int vbm_lvm_thin_read (vbm_lvm_read_fn read, void *opaque,
                              uint64_t meta_size, uint64_t dev_id,
                              struct vbm_lvm_thin_map *map,
                              struct vbm_error *why);
extern void vbm_lvm_thin_map_free (struct vbm_lvm_thin_map *map);

#endif /* VBM_LVM_H */
