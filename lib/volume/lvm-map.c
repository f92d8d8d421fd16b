/* Mapping the VGs of the PVs found (lvm-pv.c), once every disk has
 * been seen: each LV becomes an object (kind 'l', /dev/VG/LV, sub-LVs
 * first) with the offset inside the LV for every disk range, the PVs'
 * unallocated extents free space, and the filesystem of each visible
 * LV is mapped through a volume with the LV's layout (lvm-lv.c).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ctx.h"
#include "fs.h"
#include "lvm-map.h"
#include "volumes.h"

static int
nomem (struct vbm_ctx *ctx)
{
  vbm_set_error (ctx->err, ENOMEM, "LVM: out of memory");
  return -1;
}

static void
vg_warn (void *opaque, const char *msg)
{
  vbm_warn (opaque, "%s", msg);
}

/* Extents of an LV object: consecutive pieces merge into one. */
struct lv_extents {
  struct vbm_ctx *ctx;
  int64_t object;
  bool have;
  struct vbm_volume_piece run;
  unsigned first_disk;
  bool any;
};

static int
flush_run (struct lv_extents *e)
{
  struct vbm_ctx *ctx = e->ctx;
  unsigned saved = ctx->disk;
  int r;

  if (!e->have)
    return 0;
  e->have = false;
  ctx->disk = e->run.disk;
  r = vbm_add_extent (ctx, e->object, e->run.disk_offset, e->run.len,
                      e->run.vol_offset, 0);
  ctx->disk = saved;
  return r;
}

static int
lv_extent_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct lv_extents *e = opaque;

  if (e->have && e->run.disk == p->disk && e->run.copy == p->copy &&
      e->run.disk_offset + e->run.len == p->disk_offset &&
      e->run.vol_offset + e->run.len == p->vol_offset) {
    e->run.len += p->len;
    return 0;
  }
  if (flush_run (e) == -1)
    return -1;
  e->run = *p;
  e->have = true;
  return 0;
}

/* The disk and object an LV hangs from: those of the first PV or
 * sub-LV its first segment uses.
 */
static void
lv_parent (const struct vg_map *m, uint32_t i, int64_t *parent,
           unsigned *disk)
{
  const struct vbm_lvm_lv *lv = &m->vg->lvs[i];
  uint32_t p;

  *parent = 0;
  *disk = m->ctx->disk;
  for (p = 0; p < m->vg->n_pvs; ++p)
    if (m->where[p]) {
      *disk = m->where[p]->disk;
      *parent = m->where[p]->object;
      break;
    }
  if (lv->n_segs == 0)
    return;
  {
    const struct vbm_lvm_segment *s = &lv->segs[0];
    int64_t sub = s->type == VBM_LVM_SEG_THIN_POOL ? s->pool_lv
      : s->type == VBM_LVM_SEG_THIN ? s->thin_pool : -1;

    if (sub < 0 && s->n_areas > 0) {
      if (s->areas[0].is_lv)
        sub = s->areas[0].index;
      else if (m->where[s->areas[0].index]) {
        *disk = m->where[s->areas[0].index]->disk;
        *parent = m->where[s->areas[0].index]->object;
      }
    }
    if (sub >= 0 && m->lv_object[sub] > 0)
      *parent = m->lv_object[sub];
  }
}

/* Whether an LV's filesystem can be read: not thin, not a pool. */
static bool
lv_has_data (const struct vbm_lvm_lv *lv)
{
  uint32_t s;

  if (lv->broken || lv->n_segs == 0)
    return false;
  for (s = 0; s < lv->n_segs; ++s)
    if (lv->segs[s].type == VBM_LVM_SEG_THIN ||
        lv->segs[s].type == VBM_LVM_SEG_THIN_POOL ||
        lv->segs[s].type == VBM_LVM_SEG_OTHER)
      return false;
  return true;
}

/* Whether a contiguous volume does: one piece, one copy.  Sets *first. */
struct single_state {
  unsigned n;
  struct vbm_volume_piece first;
};

static int
count_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct single_state *s = opaque;

  if (s->n == 0)
    s->first = *p;
  else if (s->first.disk == p->disk && s->first.copy == p->copy &&
           s->first.disk_offset + s->first.len == p->disk_offset &&
           s->first.vol_offset + s->first.len == p->vol_offset) {
    s->first.len += p->len;
    return 0;
  }
  s->n++;
  return 0;
}


static int map_lv (struct vg_map *m, uint32_t i);

/* Maps the sub-LVs an LV refers to, so that they come first. */
static int
map_sub_lvs (struct vg_map *m, const struct vbm_lvm_lv *lv)
{
  uint32_t s, a;

  for (s = 0; s < lv->n_segs; ++s) {
    const struct vbm_lvm_segment *seg = &lv->segs[s];

    for (a = 0; a < seg->n_areas; ++a) {
      if (seg->meta && map_lv (m, seg->meta[a].index) == -1)
        return -1;
      if (seg->areas[a].is_lv && map_lv (m, seg->areas[a].index) == -1)
        return -1;
    }
    if ((seg->log_lv >= 0 && map_lv (m, seg->log_lv) == -1) ||
        (seg->pool_meta_lv >= 0 && map_lv (m, seg->pool_meta_lv) == -1) ||
        (seg->pool_lv >= 0 && map_lv (m, seg->pool_lv) == -1) ||
        (seg->thin_pool >= 0 && map_lv (m, seg->thin_pool) == -1))
      return -1;
  }
  return 0;
}

static int
map_lv (struct vg_map *m, uint32_t i)
{
  struct vbm_ctx *ctx = m->ctx;
  const struct vbm_lvm_lv *lv = &m->vg->lvs[i];
  bool past_end_warned = false;
  struct lv_layout ll = {
    .l.resolve = vbm_lvm_lv_resolve, .m = m, .lv = i,
    .past_end_warned = &past_end_warned,
  };
  struct lv_extents e = { .ctx = ctx };
  struct vbm_object obj = { .kind = VBM_KIND_LV, .size = lv->size };
  uint64_t unmapped = 0;
  char *device;
  unsigned saved_disk = ctx->disk;
  struct vbm_source *saved_src = ctx->src;
  struct thin_layout tl = { .map.n = 0 };
  const struct vbm_volume_layout *lay = &ll.l;
  bool thin = false;
  uint32_t s;
  int r = -1, rr;

  if (m->lv_done[i])
    return 0;
  m->lv_done[i] = 1;
  /* Broken LVs (loops) are not followed: they resolve to nothing. */
  if (!lv->broken && map_sub_lvs (m, lv) == -1)
    return -1;

  if (asprintf (&device, "/dev/%s/%s", m->vg->name, lv->name) == -1)
    return nomem (ctx);
  lv_parent (m, i, &obj.parent, &obj.disk);
  obj.device = device;
  e.object = vbm_add_object (ctx, &obj);
  if (e.object == -1)
    goto out;
  m->lv_object[i] = e.object;
  vbm_debug (ctx, "%s: %u segments, %" PRIu64 " bytes%s", device,
             lv->n_segs, lv->size, lv->visible ? "" : " (hidden)");

  for (s = 0; s < lv->n_segs; ++s)
    if (lv->segs[s].type == VBM_LVM_SEG_OTHER)
      vbm_warn (ctx, "%s: segment type %s is not supported; not mapped",
                device, lv->segs[s].type_name);
  if (lv->broken || lv->size == 0) {
    r = 0;
    goto out;
  }
  if (lv->n_segs > 0 && lv->segs[0].type == VBM_LVM_SEG_THIN) {
    if (!vbm_lvm_thin_setup (m, i, device, &tl, &past_end_warned)) {
      r = 0;
      goto out;
    }
    lay = &tl.l;
    thin = true;
  }
  rr = lay->resolve (lay, 0, lv->size, false, lv_extent_piece, &e,
                     &unmapped);
  if (rr == -1 || flush_run (&e) == -1)
    goto out;
  if (rr == 1)
    vbm_warn (ctx, "%s: more than %" PRIu64 " stripe chunks; the rest of "
              "the LV is not mapped", device, VBM_LVM_MAX_CHUNKS);
  else if (unmapped > 0 && !thin && lv_has_data (lv))
    vbm_warn (ctx, "%s: %" PRIu64 " bytes of the LV lie on no PV present "
              "(missing PV, extents past the end of a PV or of a sub-LV); "
              "not mapped, and read as zeroes", device, unmapped);

  if (lv->visible && (thin || lv_has_data (lv))) {
    struct single_state one = { 0 };
    uint64_t lost = 0;          /* warned above */
    struct vbm_volume vol = {
      .object = e.object, .device = device, .length = lv->size,
    };

    if (lay->resolve (lay, 0, lv->size, false, count_piece, &one,
                      &lost) == -1)
      goto out;
    if (one.n == 1 && one.first.len == lv->size && lost == 0) {
      /* The common case: a linear LV, one range of one disk. */
      vol.offset = one.first.disk_offset;
      ctx->disk = one.first.disk;
      ctx->src = one.first.src;
    }
    else {
      vol.layout = lay;
      ctx->disk = obj.disk;
    }
    r = vbm_map_filesystem (ctx, &vol);
    ctx->disk = saved_disk;
    ctx->src = saved_src;
    if (r == -1)
      goto out;
  }
  r = 0;
 out:
  vbm_lvm_thin_map_free (&tl.map);
  free (device);
  return r;
}

/* Allocated ranges of a PV, to find its free extents. */
struct range {
  uint64_t start, end;
};
DEFINE_VECTOR_TYPE (range_vector, struct range);

static int
compare_ranges (const struct range *a, const struct range *b)
{
  return a->start < b->start ? -1 : a->start > b->start ? 1 : 0;
}

/* Maps the bytes of PV p that no label, metadata area or allocated
 * extent covers: free extents inside the data area, unused bytes
 * elsewhere.
 */
static int
map_pv_gaps (struct vg_map *m, uint32_t p)
{
  struct vbm_ctx *ctx = m->ctx;
  const struct vbm_lvm_pv *pv = &m->vg->pvs[p];
  const struct found_pv *f = m->where[p];
  const uint64_t es = m->vg->extent_size;
  range_vector used = empty_vector;
  range_vector gaps[2] = { empty_vector, empty_vector };
  struct vbm_volume vol = {
    .object = f->object, .device = f->device, .offset = f->offset,
    .length = f->length,
  };
  uint64_t data_end, pos = 0;
  uint32_t l, s, a;
  size_t i, k;
  int r = -1;

  if (MUL_OVERFLOW (pv->pe_count, es, &data_end) ||
      ADD_OVERFLOW (data_end, pv->pe_start, &data_end) ||
      data_end > f->length)
    data_end = f->length;
  if (range_vector_append (&used, (struct range) {
        f->label.sector * VBM_LVM_SECTOR,
        (f->label.sector + 1) * VBM_LVM_SECTOR }) == -1)
    goto nomem;
  for (i = 0; i < f->label.n_meta; ++i) {
    const struct vbm_lvm_area *ma = &f->label.meta[i];

    if (ma->offset < f->length && ma->size >= VBM_LVM_MDA_HEADER_SIZE &&
        range_vector_append (&used, (struct range) {
            ma->offset, ma->offset + (ma->size < f->length - ma->offset
                                      ? ma->size : f->length - ma->offset)
          }) == -1)
      goto nomem;
  }
  for (l = 0; l < m->vg->n_lvs; ++l) {
    const struct vbm_lvm_lv *lv = &m->vg->lvs[l];

    for (s = 0; s < lv->n_segs; ++s) {
      const struct vbm_lvm_segment *seg = &lv->segs[s];
      uint64_t n = seg->type == VBM_LVM_SEG_STRIPED
        ? seg->extent_count / seg->n_areas : seg->extent_count;

      if (seg->type != VBM_LVM_SEG_STRIPED && seg->type != VBM_LVM_SEG_MIRROR)
        continue;
      for (a = 0; a < seg->n_areas; ++a) {
        const struct vbm_lvm_seg_area *ar = &seg->areas[a];
        struct range rg;

        if (ar->is_lv || ar->index != p)
          continue;
        if (MUL_OVERFLOW (ar->start, es, &rg.start) ||
            ADD_OVERFLOW (rg.start, pv->pe_start, &rg.start) ||
            MUL_OVERFLOW (n, es, &rg.end) ||
            ADD_OVERFLOW (rg.end, rg.start, &rg.end))
          continue;
        if (range_vector_append (&used, rg) == -1)
          goto nomem;
      }
    }
  }
  range_vector_sort (&used, compare_ranges);
  /* The gaps, split at the edges of the data area, into gaps (free
   * extents inside it, unused bytes outside), then one object each.
   */
  for (i = 0; i <= used.len; ++i) {
    uint64_t next = i < used.len ? used.ptr[i].start : f->length;

    if (next > f->length)
      next = f->length;
    while (pos < next) {
      bool in_data = pos >= pv->pe_start && pos < data_end;
      uint64_t stop = in_data ? data_end
        : pos < pv->pe_start ? pv->pe_start : f->length;

      if (stop > next)
        stop = next;
      if (range_vector_append (&gaps[in_data],
                               (struct range) { pos, stop }) == -1)
        goto nomem;
      pos = stop;
    }
    if (i < used.len && used.ptr[i].end > pos)
      pos = used.ptr[i].end;
  }
  for (k = 0; k < 2; ++k) {
    uint64_t total = 0;
    int64_t id;

    if (gaps[k].len == 0)
      continue;
    for (i = 0; i < gaps[k].len; ++i)
      total += gaps[k].ptr[i].end - gaps[k].ptr[i].start;
    id = vbm_lvm_pv_child (ctx, &vol, VBM_KIND_FREE,
                   k ? "<lvm free extents>" : "<lvm unused>", total);
    if (id == -1)
      goto out;
    for (i = 0; i < gaps[k].len; ++i)
      if (vbm_add_extent (ctx, id, f->offset + gaps[k].ptr[i].start,
                          gaps[k].ptr[i].end - gaps[k].ptr[i].start,
                          -1, 0) == -1)
        goto out;
  }
  r = 0;
  goto out;
 nomem:
  nomem (ctx);
 out:
  range_vector_reset (&used);
  range_vector_reset (&gaps[0]);
  range_vector_reset (&gaps[1]);
  return r;
}

/* Extents past the end of the device of a PV are not there. */
static void
clip_pv (struct vbm_ctx *ctx, struct vg_map *m, uint32_t p)
{
  struct vbm_lvm_pv *pv = &m->vg->pvs[p];
  const struct found_pv *f = m->where[p];
  uint64_t avail = f->length > pv->pe_start
    ? (f->length - pv->pe_start) / m->vg->extent_size : 0;

  if (pv->pe_count > avail) {
    vbm_warn (ctx, "%s: PV %s of VG %s has %" PRIu64 " extents from byte %"
              PRIu64 ", but room for %" PRIu64 "; those past the end are "
              "not mapped", f->device, pv->name, m->vg->name, pv->pe_count,
              pv->pe_start, avail);
    pv->pe_count = avail;
  }
}

/* A PV in no VG: its data area is free, the rest unused.  A VG of
 * one PV with no LVs and the data area as its only extent, so that
 * map_pv_gaps does the work.
 */
static int
map_orphan (struct vbm_ctx *ctx, struct found_pv *f)
{
  struct vbm_lvm_pv pv = { .pe_count = 0 };
  struct vbm_lvm_vg vg = { .n_pvs = 1, .pvs = &pv, .extent_size = 1 };
  struct found_pv *where = f;
  struct vg_map m = { .ctx = ctx, .vg = &vg, .where = &where };
  unsigned saved_disk = ctx->disk;
  struct vbm_source *saved_src = ctx->src;
  int r;

  vbm_debug (ctx, "%s: LVM PV %s in no VG", f->device, f->label.pv_uuid);
  if (f->label.n_data > 0 && f->label.data[0].offset < f->length) {
    pv.pe_start = f->label.data[0].offset;
    pv.pe_count = f->length - pv.pe_start;
  }
  ctx->disk = f->disk;
  ctx->src = f->src;
  r = map_pv_gaps (&m, 0);
  ctx->disk = saved_disk;
  ctx->src = saved_src;
  f->mapped = true;
  return r;
}

/* Maps the VG whose newest metadata is in found PV best. */
static int
map_vg (struct vbm_ctx *ctx, struct found_pv *best)
{
  struct vbm_lvm_state *st = ctx->lvm;
  struct vg_map m = { .ctx = ctx };
  struct vbm_lvm_tree *t;
  struct vbm_error why;
  unsigned saved_disk = ctx->disk;
  struct vbm_source *saved_src = ctx->src;
  size_t i;
  uint32_t p, l;
  int r = -1;

  t = vbm_lvm_text_parse (best->text, best->text_len, &why);
  if (t == NULL) {
    vbm_warn (ctx, "%s: %s", best->device, why.msg);
    return 0;
  }
  m.vg = vbm_lvm_vg_parse (t, vg_warn, ctx, &why);
  vbm_lvm_tree_free (t);
  if (m.vg == NULL) {
    vbm_warn (ctx, "%s: %s", best->device, why.msg);
    return 0;
  }
  vbm_debug (ctx, "VG %s: seqno %" PRIu64 ", %" PRIu32 " PVs, %" PRIu32
             " LVs", m.vg->name, m.vg->seqno, m.vg->n_pvs, m.vg->n_lvs);
  m.where = calloc (m.vg->n_pvs + 1, sizeof *m.where);
  m.lv_object = calloc (m.vg->n_lvs + 1, sizeof *m.lv_object);
  m.lv_done = calloc (m.vg->n_lvs + 1, 1);
  if (m.where == NULL || m.lv_object == NULL || m.lv_done == NULL) {
    nomem (ctx);
    goto out;
  }
  for (p = 0; p < m.vg->n_pvs; ++p) {
    for (i = 0; i < st->pvs.len; ++i) {
      struct found_pv *f = &st->pvs.ptr[i];

      if (!f->mapped && m.vg->pvs[p].uuid[0] &&
          strcmp (f->label.pv_uuid, m.vg->pvs[p].uuid) == 0) {
        m.where[p] = f;
        f->mapped = true;
        if (f->text && f->seqno < m.vg->seqno)
          vbm_warn (ctx, "%s: older metadata of VG %s (seqno %" PRIu64
                    ", the newest is %" PRIu64 ")", f->device, m.vg->name,
                    f->seqno, m.vg->seqno);
        break;
      }
    }
    if (m.where[p] == NULL)
      vbm_warn (ctx, "VG %s: PV %s (%s) is missing; the extents on it are "
                "not mapped", m.vg->name, m.vg->pvs[p].name,
                m.vg->pvs[p].device_hint);
    else
      clip_pv (ctx, &m, p);
  }
  vbm_lvm_vg_check (m.vg, vg_warn, ctx);
  for (l = 0; l < m.vg->n_lvs; ++l)
    if (map_lv (&m, l) == -1)
      goto out;
  for (p = 0; p < m.vg->n_pvs; ++p)
    if (m.where[p]) {
      ctx->disk = m.where[p]->disk;
      ctx->src = m.where[p]->src;
      if (map_pv_gaps (&m, p) == -1)
        goto out;
    }
  r = 0;
 out:
  ctx->disk = saved_disk;
  ctx->src = saved_src;
  free (m.where);
  free (m.lv_object);
  free (m.lv_done);
  vbm_lvm_vg_free (m.vg);
  return r;
}

int
vbm_map_lvm (struct vbm_ctx *ctx)
{
  struct vbm_lvm_state *st = ctx->lvm;
  size_t i, j;

  if (st == NULL)
    return 0;
  for (;;) {
    struct found_pv *best = NULL;

    /* The newest metadata of a VG not mapped yet. */
    for (i = 0; i < st->pvs.len; ++i) {
      struct found_pv *f = &st->pvs.ptr[i];

      if (f->mapped || f->text == NULL)
        continue;
      if (best == NULL) {
        best = f;
        continue;
      }
      if (strcmp (f->vg_uuid, best->vg_uuid) == 0 && f->seqno > best->seqno)
        best = f;
    }
    if (best == NULL)
      break;
    for (j = 0; j < st->pvs.len; ++j)
      if (strcmp (st->pvs.ptr[j].vg_uuid, best->vg_uuid) == 0 &&
          st->pvs.ptr[j].text && st->pvs.ptr[j].seqno > best->seqno)
        best = &st->pvs.ptr[j];
    if (map_vg (ctx, best) == -1)
      return -1;
    /* Whatever happened, this VG's PVs are done. */
    best->mapped = true;
    for (j = 0; j < st->pvs.len; ++j)
      if (strcmp (st->pvs.ptr[j].vg_uuid, best->vg_uuid) == 0)
        st->pvs.ptr[j].mapped = true;
  }
  for (i = 0; i < st->pvs.len; ++i) {
    struct found_pv *f = &st->pvs.ptr[i];

    if (f->mapped)
      continue;
    if (f->orphan && f->text == NULL) {
      if (map_orphan (ctx, f) == -1)
        return -1;
    }
    else
      vbm_warn (ctx, "%s: LVM PV %s: no valid metadata of its VG was "
                "found; its extents are not mapped", f->device,
                f->label.pv_uuid);
  }
  return 0;
}

