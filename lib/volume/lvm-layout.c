/* Where the bytes of an LV lie: through its segments down to the
 * extents of its PVs.  Striped segments and striped RAID chunk the LV
 * in stripe_size units; RAID 4/5/6 place data and parity as the md
 * driver does (raid5_compute_sector in Linux); RAID 10 is md's "near"
 * layout; mirrors and RAID 1 hold a copy on every leg.
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "checked-overflow.h"
#include "internal.h"
#include "lower-bound.h"
#include "lvm.h"

/* ---- The check of the VG's structure. ---- */

enum { UNSEEN, VISITING, DONE };

struct checker {
  struct vbm_lvm_vg *vg;
  vbm_lvm_warn_fn warn;
  void *opaque;
};

#define cwarn(c, ...) vbm_lvm_warnf ((c)->warn, (c)->opaque, __VA_ARGS__)

static unsigned check_lv (struct checker *c, uint32_t i, unsigned depth);

/* Copies of a byte of an area: 1 on a PV, the LV's own on an LV. */
static unsigned
area_copies (struct checker *c, const struct vbm_lvm_seg_area *a,
             unsigned depth)
{
  return a->is_lv ? check_lv (c, a->index, depth + 1) : 1;
}

/* Returns the copies of a byte of LV i, 0 if it is broken. */
static unsigned
check_lv (struct checker *c, uint32_t i, unsigned depth)
{
  struct vbm_lvm_lv *lv = &c->vg->lvs[i];
  uint32_t s, a;
  unsigned max = 1;

  if (lv->state == DONE)
    return lv->broken ? 0 : lv->copies;
  if (lv->state == VISITING || depth > VBM_LVM_MAX_STACK) {
    cwarn (c, "/dev/%s/%s: %s; not mapped", c->vg->name, lv->name,
           lv->state == VISITING ? "its sub-LVs refer back to it"
           : "sub-LVs nested too deep");
    /* The LV at the top of the loop ends up broken: its walk sees a
     * sub-LV returning 0.
     */
    return 0;
  }
  lv->state = VISITING;
  if (MUL_OVERFLOW (lv->extents, c->vg->extent_size, &lv->size) ||
      lv->size > INT64_MAX) {
    cwarn (c, "/dev/%s/%s: size out of range; not mapped",
           c->vg->name, lv->name);
    lv->broken = true;
  }
  for (s = 0; s < lv->n_segs && !lv->broken; ++s) {
    const struct vbm_lvm_segment *seg = &lv->segs[s];
    unsigned n = 0, k;

    for (a = 0; a < seg->n_areas; ++a) {
      k = area_copies (c, &seg->areas[a], depth);
      if (k == 0)
        goto broken;
      /* Legs of a mirror add up; stripes do not. */
      if (seg->type == VBM_LVM_SEG_MIRROR || seg->type == VBM_LVM_SEG_RAID1)
        n += k;
      else if (seg->type == VBM_LVM_SEG_RAID10)
        n = k * seg->data_copies > n ? k * seg->data_copies : n;
      else if (k > n)
        n = k;
      if (n > VBM_LVM_MAX_COPIES) {
        cwarn (c, "/dev/%s/%s: more than %d copies of its data; not "
               "mapped", c->vg->name, lv->name, VBM_LVM_MAX_COPIES);
        lv->broken = true;
        break;
      }
    }
    if (seg->meta)
      for (a = 0; a < seg->n_areas; ++a)
        if (area_copies (c, &seg->meta[a], depth) == 0)
          goto broken;
    if (seg->log_lv >= 0 &&
        check_lv (c, seg->log_lv, depth + 1) == 0)
      goto broken;
    if (seg->type == VBM_LVM_SEG_THIN_POOL) {
      if (check_lv (c, seg->pool_meta_lv, depth + 1) == 0 ||
          (n = check_lv (c, seg->pool_lv, depth + 1)) == 0)
        goto broken;
    }
    if (n > max)
      max = n;
    continue;
  broken:
    lv->broken = true;
  }
  lv->copies = max;
  lv->state = DONE;
  return lv->broken ? 0 : max;
}

void
vbm_lvm_vg_check (struct vbm_lvm_vg *vg, vbm_lvm_warn_fn warn, void *opaque)
{
  struct checker c = { .vg = vg, .warn = warn, .opaque = opaque };
  uint32_t i;

  for (i = 0; i < vg->n_lvs; ++i)
    vg->lvs[i].state = UNSEEN;
  for (i = 0; i < vg->n_lvs; ++i)
    check_lv (&c, i, 0);
}

/* ---- Resolving LV bytes to PV bytes. ---- */

struct resolver {
  const struct vbm_lvm_vg *vg;
  uint64_t budget;              /* chunks left to resolve */
  bool first_copy_only;
  vbm_lvm_piece_fn fn;
  void *opaque;
  uint64_t *unmapped;
};

static int resolve_lv (struct resolver *r, uint32_t lv, uint64_t off,
                       uint64_t len, uint64_t lv_off, unsigned copy,
                       unsigned depth);

/* Bytes [off, off+len) of an area (a PV's extents from area->start,
 * or an LV's from its extent area->start) holding bytes from lv_off
 * of the LV being resolved.
 */
static int
resolve_area (struct resolver *r, const struct vbm_lvm_seg_area *a,
              uint64_t off, uint64_t len, uint64_t lv_off, unsigned copy,
              unsigned depth)
{
  const uint64_t es = r->vg->extent_size;
  uint64_t base, end;

  /* area->start is a count of extents from untrusted text. */
  if (MUL_OVERFLOW (a->start, es, &base) || ADD_OVERFLOW (base, off, &off) ||
      ADD_OVERFLOW (off, len, &end)) {
    *r->unmapped += len;
    return 0;
  }
  if (a->is_lv)
    return resolve_lv (r, a->index, off, len, lv_off, copy, depth + 1);

  {
    const struct vbm_lvm_pv *pv = &r->vg->pvs[a->index];
    uint64_t pv_bytes, keep;
    struct vbm_lvm_piece p;

    if (MUL_OVERFLOW (pv->pe_count, es, &pv_bytes))
      pv_bytes = UINT64_MAX;
    /* Extents past the end of the PV lie nowhere. */
    keep = off >= pv_bytes ? 0 : end > pv_bytes ? pv_bytes - off : len;
    *r->unmapped += len - keep;
    if (keep == 0 || ADD_OVERFLOW (pv->pe_start, off, &p.pv_offset))
      return 0;
    p.pv = a->index;
    p.lv_offset = lv_off;
    p.len = keep;
    p.copy = copy;
    return r->fn (r->opaque, &p);
  }
}

/* Copy number of leg i under copy: 0 only on the path of first legs. */
static unsigned
leg_copy (unsigned copy, unsigned i)
{
  return copy ? copy : i;
}

/* Striped data: chunk c of the segment is chunk c / n of area c % n. */
static int
resolve_striped (struct resolver *r, const struct vbm_lvm_segment *s,
                 const struct vbm_lvm_seg_area *areas, uint32_t n,
                 uint64_t area_base, uint64_t area_len,
                 uint64_t off, uint64_t len, uint64_t lv_off,
                 unsigned copy, unsigned depth)
{
  const uint64_t sz = s->stripe_size;

  if (n == 1)
    return resolve_area (r, &areas[0], area_base + off, len, lv_off, copy,
                         depth);
  while (len > 0) {
    uint64_t c = off / sz, within = off % sz;
    uint64_t n_here = sz - within < len ? sz - within : len;
    uint64_t aoff = (c / n) * sz + within;

    if (r->budget == 0) {
      *r->unmapped += len;
      return 0;
    }
    r->budget--;

    if (aoff >= area_len)
      *r->unmapped += n_here;
    else if (resolve_area (r, &areas[c % n], area_base + aoff, n_here,
                           lv_off, copy, depth) == -1)
      return -1;
    off += n_here;
    lv_off += n_here;
    len -= n_here;
  }
  return 0;
}

/* The image holding data chunk dd of stripe s of RAID 4/5/6 with n
 * images (md's raid5_compute_sector).
 */
static uint32_t
raid_data_image (enum vbm_lvm_raid_layout l, uint64_t s, uint32_t dd,
                 uint32_t n)
{
  uint32_t d5 = n - 1, d6 = n - 2, pd;

  switch (l) {
  case VBM_RAID5_LA:
    pd = d5 - s % n;
    return dd >= pd ? dd + 1 : dd;
  case VBM_RAID5_RA:
    pd = s % n;
    return dd >= pd ? dd + 1 : dd;
  case VBM_RAID5_LS:
    pd = d5 - s % n;
    return (pd + 1 + dd) % n;
  case VBM_RAID5_RS:
    pd = s % n;
    return (pd + 1 + dd) % n;
  case VBM_RAID5_0:
    return dd + 1;
  case VBM_RAID5_N:
  case VBM_RAID6_N:
    return dd;
  case VBM_RAID6_ZR:
  case VBM_RAID6_NR:
    pd = l == VBM_RAID6_ZR ? s % n : n - 1 - (s + 1) % n;
    if (pd == n - 1)
      return dd + 1;            /* Q D D D P */
    return dd >= pd ? dd + 2 : dd;      /* D D P Q D */
  case VBM_RAID6_NC:
    pd = n - 1 - s % n;
    return (pd + 1 + dd) % n;
  case VBM_RAID6_0:
    return dd + 2;
  case VBM_RAID6_LA_6:
    pd = d6 - s % (n - 1);
    return dd >= pd ? dd + 1 : dd;
  case VBM_RAID6_RA_6:
    pd = s % (n - 1);
    return dd >= pd ? dd + 1 : dd;
  case VBM_RAID6_LS_6:
    pd = d6 - s % (n - 1);
    return (pd + 1 + dd) % (n - 1);
  case VBM_RAID6_RS_6:
    pd = s % (n - 1);
    return (pd + 1 + dd) % (n - 1);
  }
  return dd;
}

static int
resolve_raid (struct resolver *r, const struct vbm_lvm_segment *s,
              uint64_t seg_off, uint64_t off, uint64_t len, uint64_t lv_off,
              unsigned copy, unsigned depth)
{
  const uint32_t n = s->n_areas;
  const uint64_t sz = s->stripe_size;
  uint32_t i, k;

  switch (s->type) {
  case VBM_LVM_SEG_RAID1:
    for (i = 0; i < n && !(i > 0 && r->first_copy_only); ++i)
      if (resolve_area (r, &s->areas[i], seg_off + off, len, lv_off,
                        leg_copy (copy, i), depth) == -1)
        return -1;
    return 0;
  case VBM_LVM_SEG_RAID0:
    /* Images start at the first segment: later ones (a raid LV has
     * one) continue where it ends.
     */
    return resolve_striped (r, s, s->areas, n, seg_off / n, UINT64_MAX,
                            off, len, lv_off, copy, depth);
  default:
    break;
  }

  while (len > 0) {
    uint64_t c = off / sz, within = off % sz;
    uint64_t n_here = sz - within < len ? sz - within : len;

    if (r->budget == 0) {
      *r->unmapped += len;
      return 0;
    }
    r->budget--;
    /* Images hold a later segment's data after the earlier ones'. */
    const uint64_t base = seg_off /
      (s->type == VBM_LVM_SEG_RAID10 ? n / s->data_copies : n - s->parity);

    if (s->type == VBM_LVM_SEG_RAID10) {
      const unsigned kk = r->first_copy_only ? 1 : s->data_copies;

      for (k = 0; k < kk; ++k) {
        uint64_t p = c * s->data_copies + k;

        if (resolve_area (r, &s->areas[p % n], base + (p / n) * sz + within,
                          n_here, lv_off, leg_copy (copy, k), depth) == -1)
          return -1;
      }
    }
    else {
      const uint32_t d = n - s->parity;
      uint64_t stripe = c / d;
      uint32_t img = raid_data_image (s->layout, stripe, c % d, n);

      if (img >= n)
        *r->unmapped += n_here;
      else if (resolve_area (r, &s->areas[img], base + stripe * sz + within,
                             n_here, lv_off, copy, depth) == -1)
        return -1;
    }
    off += n_here;
    lv_off += n_here;
    len -= n_here;
  }
  return 0;
}

static int
resolve_segment (struct resolver *r, const struct vbm_lvm_segment *s,
                 uint64_t seg_off, uint64_t off, uint64_t len,
                 uint64_t lv_off, unsigned copy, unsigned depth)
{
  const uint64_t es = r->vg->extent_size;
  uint32_t i;

  switch (s->type) {
  case VBM_LVM_SEG_STRIPED:
    /* extent_count is a multiple of the stripe count (lvm-vg.c). */
    return resolve_striped (r, s, s->areas, s->n_areas, 0,
                            s->extent_count / s->n_areas * es,
                            off, len, lv_off, copy, depth);
  case VBM_LVM_SEG_MIRROR:
    for (i = 0; i < s->n_areas && !(i > 0 && r->first_copy_only); ++i)
      if (resolve_area (r, &s->areas[i], off, len, lv_off,
                        leg_copy (copy, i), depth) == -1)
        return -1;
    return 0;
  case VBM_LVM_SEG_RAID0:
  case VBM_LVM_SEG_RAID1:
  case VBM_LVM_SEG_RAID10:
  case VBM_LVM_SEG_RAID456:
    return resolve_raid (r, s, seg_off, off, len, lv_off, copy, depth);
  case VBM_LVM_SEG_THIN_POOL:
    /* The pool's data are its _tdata sub-LV, at the same offsets. */
    return resolve_lv (r, s->pool_lv, seg_off + off, len, lv_off, copy,
                       depth + 1);
  case VBM_LVM_SEG_THIN:
  case VBM_LVM_SEG_NONE:
  case VBM_LVM_SEG_OTHER:
    break;
  }
  *r->unmapped += len;
  return 0;
}

static int
resolve_lv (struct resolver *r, uint32_t i, uint64_t off, uint64_t len,
            uint64_t lv_off, unsigned copy, unsigned depth)
{
  const struct vbm_lvm_lv *lv = &r->vg->lvs[i];
  const uint64_t es = r->vg->extent_size;
  uint32_t lo;

  /* vbm_lvm_vg_check bounds the depth; this guards a caller that did
   * not run it.
   */
  if (lv->broken || depth > VBM_LVM_MAX_STACK || lv->state != DONE) {
    *r->unmapped += len;
    return 0;
  }
  if (off >= lv->size) {
    *r->unmapped += len;
    return 0;
  }
  if (len > lv->size - off) {
    *r->unmapped += len - (lv->size - off);
    len = lv->size - off;
  }
  /* The first segment ending after off: segments are sorted. */
  lo = LOWER_BOUND (k, lv->n_segs,
                    (lv->segs[k].start_extent + lv->segs[k].extent_count) * es
                    <= off);
  for (; lo < lv->n_segs && len > 0; ++lo) {
    const struct vbm_lvm_segment *s = &lv->segs[lo];
    uint64_t start = s->start_extent * es, end = start + s->extent_count * es;
    uint64_t n_here;

    if (off < start) {
      /* A gap left by a dropped segment. */
      n_here = start - off < len ? start - off : len;
      *r->unmapped += n_here;
      off += n_here;
      lv_off += n_here;
      len -= n_here;
      if (len == 0)
        break;
    }
    n_here = end - off < len ? end - off : len;
    if (resolve_segment (r, s, start, off - start, n_here, lv_off, copy,
                         depth) == -1)
      return -1;
    off += n_here;
    lv_off += n_here;
    len -= n_here;
  }
  *r->unmapped += len;
  return 0;
}

int
vbm_lvm_resolve (const struct vbm_lvm_vg *vg, uint32_t lv, uint64_t offset,
                 uint64_t len, bool first_copy_only, uint64_t max_chunks,
                 vbm_lvm_piece_fn fn, void *opaque, uint64_t *unmapped)
{
  struct resolver r = {
    .vg = vg, .budget = max_chunks, .first_copy_only = first_copy_only,
    .fn = fn, .opaque = opaque, .unmapped = unmapped,
  };

  if (lv >= vg->n_lvs)
    return 0;
  if (resolve_lv (&r, lv, offset, len, offset, 0, 0) == -1)
    return -1;
  return r.budget == 0 ? 1 : 0;
}
