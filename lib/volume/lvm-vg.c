/* The metadata tree as a volume group: PVs, LVs and their segments.
 * Every count, size and name reference is checked here, so that the
 * layout code can trust the model: a segment that does not add up is
 * dropped with a warning, the rest of its LV and VG is kept.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "internal.h"
#include "lvm.h"

/* Real VGs have a few stripes or images per segment (dm-raid allows
 * 253); more is hostile.
 */
#define MAX_SEG_AREAS 256
#define MAX_SEGS_PER_LV 65536
/* LVM's smallest stripe is a page. */
#define MIN_STRIPE 4096

struct builder {
  const struct vbm_lvm_node *vgsec;
  struct vbm_lvm_vg *vg;
  vbm_lvm_warn_fn warn;
  void *opaque;
  struct vbm_error *err;
};

void
vbm_lvm_warnf (vbm_lvm_warn_fn fn, void *opaque, const char *fs, ...)
{
  char msg[VBM_ERROR_MAX];
  va_list args;

  if (fn == NULL)
    return;
  va_start (args, fs);
  vsnprintf (msg, sizeof msg, fs, args);
  va_end (args);
  fn (opaque, msg);
}

#define warn(b, ...) vbm_lvm_warnf ((b)->warn, (b)->opaque, __VA_ARGS__)

bool
vbm_lvm_uuid (const char *in, char out[VBM_LVM_ID_LEN + 1])
{
  size_t n = 0;

  for (; *in; ++in) {
    if (*in == '-')
      continue;
    if (n == VBM_LVM_ID_LEN)
      return false;
    out[n++] = *in;
  }
  out[n] = '\0';
  return n == VBM_LVM_ID_LEN;
}

static int
nomem (struct builder *b)
{
  vbm_set_error (b->err, ENOMEM, "LVM metadata: out of memory");
  return -1;
}

static unsigned
count_children (const struct vbm_lvm_node *n)
{
  unsigned c = 0;

  for (n = n ? n->child : NULL; n; n = n->next)
    c++;
  return c;
}

/* A positive integer that fits in 63 bits. */
static bool
get_u64 (const struct vbm_lvm_node *sec, const char *key, uint64_t *v)
{
  int64_t i;

  if (!vbm_lvm_get_int (sec, key, &i) || i < 0)
    return false;
  *v = i;
  return true;
}

static int
parse_pvs (struct builder *b)
{
  const struct vbm_lvm_node *pvs = vbm_lvm_find (b->vgsec, "physical_volumes");
  const struct vbm_lvm_node *n;
  struct vbm_lvm_vg *vg = b->vg;

  if (pvs == NULL || pvs->type != VBM_LVM_SECTION) {
    vbm_set_error (b->err, EINVAL, "VG %s: no physical_volumes section",
                   vg->name);
    return -1;
  }
  vg->pvs = calloc (count_children (pvs) + 1, sizeof *vg->pvs);
  if (vg->pvs == NULL)
    return nomem (b);
  for (n = pvs->child; n; n = n->next) {
    struct vbm_lvm_pv *pv = &vg->pvs[vg->n_pvs];
    const char *id, *dev = NULL;
    uint64_t pe_start;

    if (n->type != VBM_LVM_SECTION)
      continue;
    if (!vbm_lvm_get_str (n, "id", &id) || !vbm_lvm_uuid (id, pv->uuid) ||
        !get_u64 (n, "pe_start", &pe_start) ||
        !get_u64 (n, "pe_count", &pv->pe_count) ||
        pe_start > UINT64_MAX / VBM_LVM_SECTOR) {
      warn (b, "VG %s: PV %s: id, pe_start or pe_count missing or invalid; "
            "its extents are not mapped", vg->name, n->key);
      pv->pe_count = 0;
      pv->uuid[0] = '\0';
      pe_start = 0;
    }
    pv->pe_start = pe_start * VBM_LVM_SECTOR;
    vbm_lvm_get_str (n, "device", &dev);
    pv->name = strdup (n->key);
    pv->device_hint = strdup (dev ? dev : "");
    if (pv->name == NULL || pv->device_hint == NULL)
      return nomem (b);
    vg->n_pvs++;
  }
  return 0;
}

static int64_t
find_lv (const struct vbm_lvm_vg *vg, const char *name)
{
  uint32_t i;

  for (i = 0; i < vg->n_lvs; ++i)
    if (strcmp (vg->lvs[i].name, name) == 0)
      return i;
  return -1;
}

static int64_t
find_pv (const struct vbm_lvm_vg *vg, const char *name)
{
  uint32_t i;

  for (i = 0; i < vg->n_pvs; ++i)
    if (strcmp (vg->pvs[i].name, name) == 0)
      return i;
  return -1;
}

/* An array of (name, extent) pairs: striped stripes, mirror legs. */
static const char *
parse_pairs (struct builder *b, const struct vbm_lvm_node *arr,
             struct vbm_lvm_segment *s, uint32_t want)
{
  const struct vbm_lvm_node *e;
  uint32_t i = 0;

  if (arr == NULL || arr->type != VBM_LVM_ARRAY)
    return "no list of areas";
  if (count_children (arr) != 2 * want)
    return "the number of areas does not match the count";
  for (e = arr->child; e; e = e->next->next, ++i) {
    const struct vbm_lvm_node *x = e->next;
    int64_t idx;

    if (e->type != VBM_LVM_STRING || x->type != VBM_LVM_INT || x->num < 0)
      return "an area is not a name and an extent";
    s->areas[i].start = x->num;
    if ((idx = find_pv (b->vg, e->str)) >= 0)
      s->areas[i].is_lv = false;
    else if ((idx = find_lv (b->vg, e->str)) >= 0)
      s->areas[i].is_lv = true;
    else
      return "an area names no PV or LV of the VG";
    s->areas[i].index = idx;
  }
  return NULL;
}

/* raids = [meta0, image0, meta1, image1, ...] or, for raid0 without
 * metadata, raid0_lvs = [image0, image1, ...].
 */
static const char *
parse_raids (struct builder *b, const struct vbm_lvm_node *arr,
             struct vbm_lvm_segment *s, uint32_t want, bool with_meta)
{
  const struct vbm_lvm_node *e;
  uint32_t i = 0, per = with_meta ? 2 : 1;

  if (arr == NULL || arr->type != VBM_LVM_ARRAY)
    return "no list of images";
  if (count_children (arr) != per * want)
    return "the number of images does not match the device count";
  for (e = arr->child; e; ++i) {
    int64_t meta = -1, image;

    if (with_meta) {
      if (e->type != VBM_LVM_STRING)
        return "an image is not a name";
      meta = find_lv (b->vg, e->str);
      e = e->next;
    }
    if (e->type != VBM_LVM_STRING)
      return "an image is not a name";
    image = find_lv (b->vg, e->str);
    e = e->next;
    if (image < 0 || (with_meta && meta < 0))
      return "an image names no LV of the VG";
    s->areas[i] = (struct vbm_lvm_seg_area) { .is_lv = true, .index = image };
    if (with_meta)
      s->meta[i] = (struct vbm_lvm_seg_area) { .is_lv = true, .index = meta };
  }
  return NULL;
}

static const struct {
  const char *name;
  enum vbm_lvm_raid_layout layout;
  unsigned parity;
} raid_types[] = {
  { "raid4", VBM_RAID5_0, 1 },  /* dm-raid: parity on the first image */
  { "raid5", VBM_RAID5_LS, 1 },
  { "raid5_la", VBM_RAID5_LA, 1 }, { "raid5_ra", VBM_RAID5_RA, 1 },
  { "raid5_ls", VBM_RAID5_LS, 1 }, { "raid5_rs", VBM_RAID5_RS, 1 },
  { "raid5_n", VBM_RAID5_N, 1 },
  { "raid6", VBM_RAID6_ZR, 2 },
  { "raid6_zr", VBM_RAID6_ZR, 2 }, { "raid6_nr", VBM_RAID6_NR, 2 },
  { "raid6_nc", VBM_RAID6_NC, 2 }, { "raid6_n_6", VBM_RAID6_N, 2 },
  { "raid6_la_6", VBM_RAID6_LA_6, 2 }, { "raid6_ra_6", VBM_RAID6_RA_6, 2 },
  { "raid6_ls_6", VBM_RAID6_LS_6, 2 }, { "raid6_rs_6", VBM_RAID6_RS_6, 2 },
};

/* Reads an optional LV reference; "" if the key is absent. */
static const char *
lv_ref (struct builder *b, const struct vbm_lvm_node *sec, const char *key,
        bool required, int64_t *lv)
{
  const char *name;

  *lv = -1;
  if (!vbm_lvm_get_str (sec, key, &name))
    return required ? "a sub-LV reference is missing" : NULL;
  *lv = find_lv (b->vg, name);
  return *lv < 0 ? "a sub-LV reference names no LV of the VG" : NULL;
}

static const char *
alloc_areas (struct vbm_lvm_segment *s, uint64_t n, bool meta)
{
  if (n == 0 || n > MAX_SEG_AREAS)
    return "invalid stripe, image or leg count";
  s->n_areas = n;
  s->areas = calloc (n, sizeof *s->areas);
  if (meta)
    s->meta = calloc (n, sizeof *s->meta);
  if (s->areas == NULL || (meta && s->meta == NULL))
    return "out of memory";
  return NULL;
}

/* Fills s from its section; returns why it cannot be used, or NULL. */
static const char *
parse_segment (struct builder *b, const struct vbm_lvm_node *sec,
               struct vbm_lvm_segment *s)
{
  const char *type, *why;
  uint64_t count = 0, stripe = 0;
  size_t i;

  s->log_lv = s->pool_lv = s->pool_meta_lv = s->thin_pool = -1;
  if (!vbm_lvm_get_str (sec, "type", &type))
    return "no type";
  snprintf (s->type_name, sizeof s->type_name, "%s", type);
  if (!get_u64 (sec, "start_extent", &s->start_extent) ||
      !get_u64 (sec, "extent_count", &s->extent_count) ||
      s->extent_count == 0)
    return "no valid start_extent or extent_count";
  if (vbm_lvm_find (sec, "stripe_size") &&
      (!get_u64 (sec, "stripe_size", &stripe) || stripe == 0 ||
       stripe > UINT32_MAX))
    return "invalid stripe_size";
  s->stripe_size = stripe * VBM_LVM_SECTOR;

  if (strcmp (type, "striped") == 0) {
    s->type = VBM_LVM_SEG_STRIPED;
    if (!get_u64 (sec, "stripe_count", &count))
      return "no stripe_count";
    if ((why = alloc_areas (s, count, false)) != NULL)
      return why;
    if (count > 1 && s->stripe_size < MIN_STRIPE)
      return "striped without a valid stripe_size";
    if (s->extent_count % count != 0)
      return "extent_count is not a multiple of stripe_count";
    return parse_pairs (b, vbm_lvm_find (sec, "stripes"), s, count);
  }
  if (strcmp (type, "mirror") == 0) {
    s->type = VBM_LVM_SEG_MIRROR;
    if (!get_u64 (sec, "mirror_count", &count))
      return "no mirror_count";
    if ((why = alloc_areas (s, count, false)) != NULL ||
        (why = lv_ref (b, sec, "mirror_log", false, &s->log_lv)) != NULL)
      return why;
    return parse_pairs (b, vbm_lvm_find (sec, "mirrors"), s, count);
  }
  if (strncmp (type, "raid", 4) == 0) {
    bool meta = strcmp (type, "raid0") != 0;
    bool dev = vbm_lvm_find (sec, "device_count") != NULL;

    /* lvm writes raid0 and raid0_meta with a stripe_count, the other
     * RAID types with a device_count; it reads either, not both.
     */
    if (dev == (vbm_lvm_find (sec, "stripe_count") != NULL))
      return "not exactly one of device_count and stripe_count";
    if (!get_u64 (sec, dev ? "device_count" : "stripe_count", &count))
      return "invalid device_count or stripe_count";
    if ((why = alloc_areas (s, count, meta)) != NULL)
      return why;
    if (strcmp (type, "raid0") == 0 || strcmp (type, "raid0_meta") == 0)
      s->type = VBM_LVM_SEG_RAID0;
    else if (strcmp (type, "raid1") == 0)
      s->type = VBM_LVM_SEG_RAID1;
    else if (strcmp (type, "raid10") == 0 ||
             strcmp (type, "raid10_near") == 0) {
      uint64_t copies = 2;

      s->type = VBM_LVM_SEG_RAID10;
      if (vbm_lvm_find (sec, "data_copies") &&
          !get_u64 (sec, "data_copies", &copies))
        return "invalid data_copies";
      if (copies < 2 || copies > count)
        return "data_copies out of range";
      s->data_copies = copies;
    }
    else {
      for (i = 0; i < sizeof raid_types / sizeof raid_types[0]; ++i)
        if (strcmp (type, raid_types[i].name) == 0)
          break;
      if (i == sizeof raid_types / sizeof raid_types[0]) {
        s->type = VBM_LVM_SEG_OTHER;
        return NULL;
      }
      s->type = VBM_LVM_SEG_RAID456;
      s->layout = raid_types[i].layout;
      s->parity = raid_types[i].parity;
      if (count < s->parity + 1)
        return "too few images for the parity";
    }
    if (s->type != VBM_LVM_SEG_RAID1 && s->stripe_size < MIN_STRIPE)
      return "striped RAID without a valid stripe_size";
    if (vbm_lvm_find (sec, "data_offset") ||
        vbm_lvm_find (sec, "reshape_count"))
      return "reshaping RAID (data_offset) is not supported";
    return parse_raids (b, vbm_lvm_find (sec, meta ? "raids" : "raid0_lvs"),
                        s, count, meta);
  }
  if (strcmp (type, "thin-pool") == 0) {
    s->type = VBM_LVM_SEG_THIN_POOL;
    if ((why = lv_ref (b, sec, "pool", true, &s->pool_lv)) != NULL ||
        (why = lv_ref (b, sec, "metadata", true, &s->pool_meta_lv)) != NULL)
      return why;
    return NULL;
  }
  if (strcmp (type, "thin") == 0) {
    s->type = VBM_LVM_SEG_THIN;
    if (!get_u64 (sec, "device_id", &s->device_id))
      return "no device_id";
    return lv_ref (b, sec, "thin_pool", true, &s->thin_pool);
  }
  if (strcmp (type, "zero") == 0 || strcmp (type, "error") == 0) {
    s->type = VBM_LVM_SEG_NONE;
    return NULL;
  }
  s->type = VBM_LVM_SEG_OTHER;
  return NULL;
}

static void
free_segment (struct vbm_lvm_segment *s)
{
  free (s->areas);
  free (s->meta);
  s->areas = s->meta = NULL;
}

static int
parse_lv_segments (struct builder *b, const struct vbm_lvm_node *sec,
                   struct vbm_lvm_lv *lv)
{
  const struct vbm_lvm_node *n;
  unsigned max = count_children (sec);
  uint64_t next = 0;

  if (max > MAX_SEGS_PER_LV)
    max = MAX_SEGS_PER_LV;
  lv->segs = calloc (max + 1, sizeof *lv->segs);
  if (lv->segs == NULL)
    return nomem (b);
  for (n = sec->child; n && lv->n_segs < max; n = n->next) {
    struct vbm_lvm_segment *s = &lv->segs[lv->n_segs];
    const char *why;
    uint64_t end;

    if (n->type != VBM_LVM_SECTION || strncmp (n->key, "segment", 7) != 0)
      continue;
    why = parse_segment (b, n, s);
    if (why == NULL && ADD_OVERFLOW (s->start_extent, s->extent_count, &end))
      why = "extent count out of range";
    if (why == NULL && s->start_extent < next)
      why = "it overlaps the previous segment";
    if (why) {
      warn (b, "/dev/%s/%s: %s: %s; dropped", b->vg->name, lv->name,
            n->key, why);
      free_segment (s);
      memset (s, 0, sizeof *s);
      continue;
    }
    /* A gap (a dropped segment) is left unmapped. */
    next = end;
    lv->n_segs++;
  }
  lv->extents = next;
  return 0;
}

static int
parse_lvs (struct builder *b)
{
  const struct vbm_lvm_node *lvs = vbm_lvm_find (b->vgsec, "logical_volumes");
  const struct vbm_lvm_node *n;
  struct vbm_lvm_vg *vg = b->vg;
  uint32_t i;

  if (lvs == NULL)
    return 0;                   /* a VG with no LVs */
  vg->lvs = calloc (count_children (lvs) + 1, sizeof *vg->lvs);
  if (vg->lvs == NULL)
    return nomem (b);
  /* Names first: segments refer to LVs defined after them. */
  for (n = lvs->child; n; n = n->next) {
    if (n->type != VBM_LVM_SECTION)
      continue;
    if (find_lv (vg, n->key) >= 0) {
      warn (b, "VG %s: LV %s is defined twice; the second is ignored",
            vg->name, n->key);
      continue;
    }
    vg->lvs[vg->n_lvs].name = strdup (n->key);
    if (vg->lvs[vg->n_lvs].name == NULL)
      return nomem (b);
    vg->lvs[vg->n_lvs].visible = vbm_lvm_has_flag (n, "status", "VISIBLE");
    vg->n_lvs++;
  }
  for (i = 0, n = lvs->child; n; n = n->next) {
    if (n->type != VBM_LVM_SECTION || i >= vg->n_lvs ||
        strcmp (n->key, vg->lvs[i].name) != 0)
      continue;
    if (parse_lv_segments (b, n, &vg->lvs[i]) == -1)
      return -1;
    i++;
  }
  return 0;
}

struct vbm_lvm_vg *
vbm_lvm_vg_parse (const struct vbm_lvm_tree *t, vbm_lvm_warn_fn warnfn,
                  void *opaque, struct vbm_error *err)
{
  const struct vbm_lvm_node *root = vbm_lvm_tree_root (t), *n;
  struct builder b = { .warn = warnfn, .opaque = opaque, .err = err };
  const char *id;
  uint64_t es;

  for (n = root->child; n; n = n->next)
    if (n->type == VBM_LVM_SECTION)
      break;
  if (n == NULL) {
    vbm_set_error (err, EINVAL, "the metadata text holds no VG");
    return NULL;
  }
  b.vgsec = n;
  b.vg = calloc (1, sizeof *b.vg);
  if (b.vg == NULL || (b.vg->name = strdup (n->key)) == NULL) {
    nomem (&b);
    goto fail;
  }
  if (!vbm_lvm_get_str (n, "id", &id) || !vbm_lvm_uuid (id, b.vg->uuid) ||
      !get_u64 (n, "seqno", &b.vg->seqno) ||
      !get_u64 (n, "extent_size", &es) || es == 0 ||
      es > (UINT64_C (1) << 40)) {
    vbm_set_error (err, EINVAL, "VG %s: id, seqno or extent_size missing "
                   "or invalid", b.vg->name);
    goto fail;
  }
  b.vg->extent_size = es * VBM_LVM_SECTOR;
  if (parse_pvs (&b) == -1 || parse_lvs (&b) == -1)
    goto fail;
  return b.vg;
 fail:
  vbm_lvm_vg_free (b.vg);
  return NULL;
}

void
vbm_lvm_vg_free (struct vbm_lvm_vg *vg)
{
  uint32_t i, j;

  if (vg == NULL)
    return;
  for (i = 0; i < vg->n_pvs; ++i) {
    free (vg->pvs[i].name);
    free (vg->pvs[i].device_hint);
  }
  for (i = 0; i < vg->n_lvs; ++i) {
    for (j = 0; j < vg->lvs[i].n_segs; ++j)
      free_segment (&vg->lvs[i].segs[j]);
    free (vg->lvs[i].segs);
    free (vg->lvs[i].name);
  }
  free (vg->pvs);
  free (vg->lvs);
  free (vg->name);
  free (vg);
}
